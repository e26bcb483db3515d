"""The response cache: the last good answer for each path, reused for a while, then revalidated.

An entry younger than ``ttl`` seconds answers without a request. An older one is
kept for its ``ETag``: the client asks again with ``If-None-Match`` and a ``304``
confirms the entry (and makes it young again). The cache holds at most
``max_entries`` paths and forgets the least recently used first.

Each entry knows when the request that last confirmed it was *sent*
(``requested_at``): a hydration started by an event accepted at ``T`` takes an entry
only if it was asked at or after ``T`` (:mod:`lifecyclegraph.providers.freshness`).
An answer to an older request never replaces (nor evicts) an entry confirmed by a
newer one, so concurrent requests that finish out of order leave the newest state.

>>> from datetime import UTC, datetime
>>> from lifecyclegraph.providers.http.clock import SystemClock
>>> cache = ResponseCache(ttl=60.0, clock=SystemClock())
>>> key = cache_key("/api/v1/users", {"email": "alice@example.com"})
>>> key
('/api/v1/users', (('email', 'alice@example.com'),))
>>> sent = datetime(2026, 1, 1, tzinfo=UTC)
>>> entry = cache.put(key, {"users": []}, '"v1"', sent, requested_at=sent)
>>> cache.get(key) is entry, cache.is_fresh(entry), cache.is_fresh(entry, not_before=sent)
(True, True, True)
>>> cache.is_fresh(entry, not_before=datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC))
False
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from lifecyclegraph.providers.http.clock import Clock

__all__ = ["CacheKey", "CachedResponse", "ResponseCache", "cache_key"]

CacheKey = tuple[str, tuple[tuple[str, str], ...]]


def cache_key(path: str, params: Mapping[str, str] | None) -> CacheKey:
    """The key of a request: its path and its parameters in a fixed order."""
    return path, tuple(sorted((params or {}).items()))


@dataclass(frozen=True)
class CachedResponse:
    """The last good answer for one path.

    ``fetched_at`` is when the source last confirmed it (UTC); ``confirmed`` is the
    same moment on the monotonic clock; ``requested_at`` is when the request that
    confirmed it was sent (UTC): the source read its state at or after that moment.
    """

    body: dict[str, Any]
    etag: str | None
    fetched_at: datetime
    confirmed: float
    requested_at: datetime


class ResponseCache:
    """Good answers by :func:`cache_key`: young for ``ttl`` seconds, ``max_entries`` at most."""

    def __init__(self, ttl: float, clock: Clock, *, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[CacheKey, CachedResponse] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> CachedResponse | None:
        """The entry for ``key``, young or old; ``None`` if there is none."""
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def is_fresh(self, entry: CachedResponse, not_before: datetime | None = None) -> bool:
        """Whether ``entry`` may answer without asking the source: it is younger than
        ``ttl`` and, with ``not_before``, was asked for at or after that time."""
        if not_before is not None and entry.requested_at < not_before:
            return False
        return self._clock.monotonic() - entry.confirmed < self.ttl

    def put(
        self,
        key: CacheKey,
        body: dict[str, Any],
        etag: str | None,
        fetched_at: datetime,
        *,
        requested_at: datetime,
    ) -> CachedResponse:
        """Keep a new answer the source just gave to a request sent at ``requested_at``;
        the entry already kept stays if a newer request confirmed it."""
        entry = CachedResponse(body, etag, fetched_at, self._clock.monotonic(), requested_at)
        return self._store(key, entry)

    def confirm(
        self,
        key: CacheKey,
        entry: CachedResponse,
        etag: str | None,
        fetched_at: datetime,
        *,
        requested_at: datetime,
    ) -> CachedResponse:
        """The source answered ``304`` to a request sent at ``requested_at``: ``entry``
        holds and is young again."""
        entry = replace(
            entry,
            etag=etag or entry.etag,
            fetched_at=fetched_at,
            confirmed=self._clock.monotonic(),
            requested_at=requested_at,
        )
        return self._store(key, entry)

    def evict(self, key: CacheKey, *, requested_at: datetime | None = None) -> None:
        """Forget ``key`` (the object is gone), unless a request sent after
        ``requested_at`` confirmed it since."""
        kept = self._entries.get(key)
        if kept is not None and (requested_at is None or kept.requested_at <= requested_at):
            del self._entries[key]

    def _store(self, key: CacheKey, entry: CachedResponse) -> CachedResponse:
        """Keep ``entry`` unless the kept one was asked for later; return the kept one."""
        kept = self._entries.get(key)
        if kept is not None and kept.requested_at > entry.requested_at:
            self._entries.move_to_end(key)
            return kept
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return entry
