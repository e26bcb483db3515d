"""The exception tree: every error lifecyclegraph raises derives from :class:`LifecycleGraphError`.

Each class is also a subclass of the matching built-in exception, so callers can
catch either (``except ValueError`` still works for a malformed URI).
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "InvalidFactsError",
    "InvalidUriError",
    "LifecycleGraphError",
    "StoreError",
]


class LifecycleGraphError(Exception):
    """Base class of every error raised by lifecyclegraph."""


class InvalidUriError(LifecycleGraphError, ValueError):
    """An AIP URI is malformed.

    The message says what is wrong and quotes the offending URI; ``uri`` holds it.
    """

    def __init__(self, message: str, uri: str) -> None:
        super().__init__(f"{message}: {uri!r}")
        self.uri = uri


class InvalidFactsError(LifecycleGraphError, ValueError):
    """A set of facts handed to the store cannot be written as it is.

    For example a blank node (entity facts must be named so that snapshots can be
    compared) or a triple whose subject is neither the entity nor one of its parts.
    """


class StoreError(LifecycleGraphError, OSError):
    """The store could not be opened, read or written."""


class ConfigError(LifecycleGraphError, ValueError):
    """The configuration is invalid; the message names the key and the file."""


# --- Source systems (the hydration client, lifecyclegraph.hydration) ---------------

__all__ += ["SourceError", "SourceProtocolError", "SourceUnavailable"]


class SourceError(LifecycleGraphError, OSError):
    """A source system did not give what was asked of it.

    ``source`` is the source's platform id (``registry``) and ``url`` the URL asked
    for, without credentials. The message never holds a secret.
    """

    def __init__(self, message: str, *, source: str, url: str) -> None:
        super().__init__(message)
        self.source = source
        self.url = url


class SourceUnavailable(SourceError):
    """The source cannot answer now: retries are exhausted or its circuit is open.

    The work is not lost: the caller keeps it and tries again after ``retry_after``
    seconds (a hint, never negative).
    """

    def __init__(self, message: str, *, source: str, url: str, retry_after: float) -> None:
        super().__init__(message, source=source, url=url)
        self.retry_after = retry_after


class SourceProtocolError(SourceError):
    """The source answered something its contract does not allow; retrying will not help.

    For example a ``401`` or ``400``, a body that is not JSON, or JSON that is not an
    object. ``status`` is the HTTP status of that answer.
    """

    def __init__(self, message: str, *, source: str, url: str, status: int) -> None:
        super().__init__(message, source=source, url=url)
        self.status = status
