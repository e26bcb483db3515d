"""Bearer tokens: every write needs a write token; reads may need a read token.

A refusal follows RFC 6750: ``401`` with a ``WWW-Authenticate: Bearer`` challenge
(``error="invalid_token"`` when a token was sent but is not allowed), or ``403``
whose problem says ``"error": "insufficient_scope"`` when a read token is sent to
write.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from fastapi import Request
from starlette.exceptions import HTTPException

from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.server.problems import Problem

__all__ = ["REALM", "TokenGuard", "challenge", "peer_guard", "read_guard", "write_guard"]

#: The protection space named in every challenge.
REALM = "lifecyclegraph"


def challenge(error: str | None = None, description: str | None = None) -> str:
    """A ``WWW-Authenticate`` value for the Bearer scheme (RFC 6750, section 3).

    >>> challenge()
    'Bearer realm="lifecyclegraph"'
    >>> challenge("invalid_token", "unknown")
    'Bearer realm="lifecyclegraph", error="invalid_token", error_description="unknown"'
    """
    value = f'Bearer realm="{REALM}"'
    if error:
        value += f', error="{error}"'
    if description:
        value += f', error_description="{description}"'
    return value


def _unauthorized(detail: str, token_sent: bool) -> HTTPException:
    """A ``401`` with its challenge (the problem handler keeps the header)."""
    # Without credentials, no error code (RFC 6750, 3.1).
    header = challenge("invalid_token", detail) if token_sent else challenge()
    return HTTPException(401, detail, headers={"WWW-Authenticate": header})


def _tokens(tokens: Iterable[str], which: str) -> list[bytes]:
    values = list(tokens)
    for n, token in enumerate(values, 1):
        if not token.strip():
            raise ConfigError(f"{which} token {n} of {len(values)} is empty or blank")
    return [t.encode() for t in values]


class TokenGuard:
    """Checks ``Authorization: Bearer <token>`` in constant time.

    Args:
        write: tokens allowed to write (and read).
        read: tokens allowed to read; when empty, reads need no token.
        peer: the ``[cluster] token``, the only one the workers' own route takes
            (none: no token opens it).

    Raises:
        ConfigError: a token is empty or blank (it would let anyone through, or no one).
    """

    def __init__(
        self, write: Iterable[str], read: Iterable[str] = (), peer: str | None = None
    ) -> None:
        self.write = _tokens(write, "write")
        self.read = _tokens(read, "read")
        self.peer = _tokens([peer] if peer is not None else [], "cluster")

    @staticmethod
    def _presented(request: Request) -> bytes | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        return token.strip().encode() if scheme.lower() == "bearer" and token else None

    @staticmethod
    def _matches(token: bytes | None, allowed: list[bytes]) -> bool:
        return token is not None and any(hmac.compare_digest(token, t) for t in allowed)

    def require_write(self, request: Request) -> None:
        """Let a request with a write token through; refuse any other (401 or 403)."""
        token = self._presented(request)
        if self._matches(token, self.write):
            return
        if token is None:
            raise _unauthorized(
                "this request writes; send a write token as 'Authorization: Bearer ...'", False
            )
        if self._matches(token, self.read):
            raise Problem(
                403,
                "Forbidden",
                "the token may read but not write; send a write token",
                error="insufficient_scope",
            )
        raise _unauthorized("the token is not allowed to write", True)

    def require_peer(self, request: Request) -> None:
        """Let a request with the cluster's token through; refuse any other with 401
        (a write or read token too: only the workers call this route)."""
        token = self._presented(request)
        if self._matches(token, self.peer):
            return
        if token is None:
            raise _unauthorized(
                "only the workers of the cluster may send work; send the [cluster] token", False
            )
        raise _unauthorized("the token is not the cluster's", True)

    def require_read(self, request: Request) -> None:
        """Let a read through if no read token is configured, or it brings one (or a
        write token); refuse any other with 401."""
        if not self.read:
            return
        token = self._presented(request)
        if self._matches(token, self.read + self.write):
            return
        if token is None:
            raise _unauthorized(
                "reads need a token on this server; send it as 'Authorization: Bearer ...'",
                False,
            )
        raise _unauthorized("the token is not allowed to read", True)


async def read_guard(request: Request) -> None:
    """The dependency of every read route: the app's :class:`TokenGuard` lets the
    request read, or answers 401 (``Depends(read_guard)``).

    A coroutine, though it never waits: FastAPI runs a plain function dependency in a
    thread, and that hop cost a point lookup through ``/sparql`` more than the check
    (``docs/benchmarks.md``); the check is a few constant-time comparisons."""
    request.app.state.guard.require_read(request)


async def write_guard(request: Request) -> None:
    """The dependency of every write route: the request holds a write token, or is
    answered 401 (none) or 403 (a read token). A coroutine, as :func:`read_guard`."""
    request.app.state.guard.require_write(request)


async def peer_guard(request: Request) -> None:
    """The dependency of the workers' own route (``POST /api/v1/cluster/work``): the
    request holds the ``[cluster] token``, or is answered 401. A coroutine, as
    :func:`read_guard`."""
    request.app.state.guard.require_peer(request)
