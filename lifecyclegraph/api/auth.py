"""Bearer tokens: every write needs a write token; reads may need a read token."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from fastapi import Request

from lifecyclegraph.api.problems import Problem

__all__ = ["TokenGuard"]


class TokenGuard:
    """Checks ``Authorization: Bearer <token>`` in constant time.

    Args:
        write: tokens allowed to write (and read).
        read: tokens allowed to read; when empty, reads need no token.
    """

    def __init__(self, write: Iterable[str], read: Iterable[str] = ()) -> None:
        self.write = [t.encode() for t in write]
        self.read = [t.encode() for t in read]

    @staticmethod
    def _presented(request: Request) -> bytes | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        return token.strip().encode() if scheme.lower() == "bearer" and token else None

    @staticmethod
    def _matches(token: bytes | None, allowed: list[bytes]) -> bool:
        return token is not None and any(hmac.compare_digest(token, t) for t in allowed)

    def require_write(self, request: Request) -> None:
        token = self._presented(request)
        if not self._matches(token, self.write):
            raise Problem(
                401,
                "Unauthorized",
                "this request writes; send a write token as 'Authorization: Bearer …'"
                if token is None
                else "the token is not allowed to write",
                www_authenticate="Bearer",
            )

    def require_read(self, request: Request) -> None:
        if not self.read:
            return
        token = self._presented(request)
        if not self._matches(token, self.read + self.write):
            raise Problem(401, "Unauthorized", "reads need a token on this server")
