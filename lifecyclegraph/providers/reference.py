"""Shared plumbing of the six reference providers: reading one object by path."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lifecyclegraph.core.events import EventKind
from lifecyclegraph.core.uris import path_segment
from lifecyclegraph.core.vocab import LG
from lifecyclegraph.providers.base import Hydrated, Provider
from lifecyclegraph.providers.normalize import EntityBuilder

__all__ = ["ReferenceProvider", "kinds", "segment"]


def segment(value: str) -> str:
    """A path segment with everything outside RFC 3986's unreserved set escaped, and
    ``.`` and ``..`` too (see :func:`lifecyclegraph.core.uris.path_segment`)."""
    return path_segment(value)


def kinds(
    platform_id: str, component_type: str, cls: str, id_fields: tuple[str, ...], *types: str
) -> tuple[EventKind, ...]:
    """The event kinds for one object type of a source."""
    return tuple(
        EventKind(
            t,
            platform_id,
            component_type,
            id_fields,
            LG[cls].value,
            deletes=t.endswith(("_deleted", "_deactivated")),
        )
        for t in types
    )


class ReferenceProvider(Provider):
    """A provider of one of the six reference source systems of the contract."""

    async def fetch(self, path: str) -> tuple[dict[str, Any] | None, datetime]:
        """GET ``path``: the JSON object, or ``None`` on ``404``; and when it was read."""
        fetched = await self.client.get(path)
        return (fetched.body if fetched.status == 200 else None), fetched.fetched_at

    @staticmethod
    def done(uri: str, builder: EntityBuilder | None, observed_at: datetime) -> Hydrated:
        if builder is None:
            return Hydrated(uri, None, {}, observed_at)
        facts, refs = builder.build()
        return Hydrated(uri, facts, refs, observed_at, tuple(builder.unresolved))

    @staticmethod
    def gone(uri: str, observed_at: datetime) -> Hydrated:
        return Hydrated(uri, None, {}, observed_at)
