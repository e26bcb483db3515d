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
