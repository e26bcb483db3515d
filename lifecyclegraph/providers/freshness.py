"""Freshness: a hydration that an event started reads nothing its source said before the event.

An event announces a change that has already happened at its source. If the
hydration it starts were answered from a cached answer, or by a request in flight,
that the source gave before the event arrived, the change would be missed until the
next event or reconcile. So the ingestion worker hydrates each URI an event
queued *not before* the moment the event was accepted: the HTTP client then uses a
cached answer or joins a request in flight only if that request was sent at or after
that moment; otherwise it revalidates (``If-None-Match``) or asks again.
Reconciliation and enrichment set no bound and may use the cache as usual.

The bound is carried in a context variable, so that it reaches every request of
the hydration (a provider may read several objects for one URI) without each
provider passing it along; :meth:`lifecyclegraph.providers.sources.Sources.hydrate`
sets it, and the HTTP client reads it.

>>> from datetime import UTC, datetime
>>> required() is None
True
>>> with reading_after(datetime(2026, 1, 1, tzinfo=UTC)):
...     required().isoformat()
'2026-01-01T00:00:00+00:00'
>>> required() is None
True
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

__all__ = ["reading_after", "required"]

_NOT_BEFORE: ContextVar[datetime | None] = ContextVar("lifecyclegraph_not_before", default=None)


def required() -> datetime | None:
    """The time (UTC) the answers of the current hydration must have been asked at or
    after, or ``None`` when any cached answer will do."""
    return _NOT_BEFORE.get()


@contextmanager
def reading_after(when: datetime | None) -> Iterator[None]:
    """Within the block (and the tasks it starts), every request reads the source as
    it is at ``when`` or later; ``None`` lifts the bound (an owner lookup, say).

    Raises:
        ValueError: ``when`` has no time zone (it is compared with UTC times).
    """
    if when is not None and when.utcoffset() is None:
        raise ValueError(f"a freshness bound needs a time zone, not {when.isoformat()!r}")
    token = _NOT_BEFORE.set(when)
    try:
        yield
    finally:
        _NOT_BEFORE.reset(token)
