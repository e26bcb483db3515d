"""Thin events, as the contract's event table defines them, and the sinks that receive them.

An event is one JSON object: ``event_id`` (a UUID), ``event_type``, ``source`` (the
platform id), the id field(s) of its type and ``emitted_at`` (RFC 3339, UTC).

>>> event = make_event("dataset_version_created",
...                    {"dataset_id": "viewing-history", "version": "2026-01-01"},
...                    emitted_at="2026-01-01T00:00:00Z", event_id="0b7f")
>>> event["source"], event["dataset_id"], event["version"]
('datasets', 'viewing-history', '2026-01-01')
>>> make_event("model_renamed", {"model_id": "m"})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
lifecyclegraph.sandbox.events.EventError: unknown event type 'model_renamed'; did you mean ...

Sinks: :class:`MemorySink` (a list, for tests), :class:`JsonLinesSink` (a file, one
event a line) and :class:`HttpSink` (POSTs each event to a URL, in order, from a
background thread, with retries). :func:`open_sink` picks one from a target string.
"""

from __future__ import annotations

import difflib
import json
import logging
import queue
import random
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

import httpx

from lifecyclegraph.core.errors import LifecycleGraphError

__all__ = [
    "EVENT_TYPES",  # noqa: F822 (made from the installed systems on access: __getattr__)
    "Event",
    "EventError",
    "EventTypes",
    "HttpSink",
    "JsonLinesSink",
    "MemorySink",
    "Sink",
    "format_time",
    "make_event",
    "open_sink",
    "perturb",
    "write_json_lines",
]

log = logging.getLogger("lifecyclegraph.sandbox")

Event = dict[str, Any]

EventTypes = Mapping[str, tuple[str, tuple[str, ...]]]


def __getattr__(name: str) -> Any:
    """``EVENT_TYPES``: the event table of the installed systems (event type ->
    (source platform id, id fields)), from their providers' ``EventKind`` s."""
    if name == "EVENT_TYPES":
        return dict(_installed_types())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _installed_types() -> EventTypes:
    from lifecyclegraph.sandbox.systems import SystemTable  # systems imports this module

    return SystemTable.installed().event_types


class EventError(LifecycleGraphError, ValueError):
    """An event cannot be built: unknown type, or missing or extra id fields."""


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC, to the second, as the contract writes timestamps.

    >>> format_time(datetime(2026, 1, 1, 3, 0, 0, 999, tzinfo=UTC))
    '2026-01-01T03:00:00Z'
    """
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_event(
    event_type: str,
    ids: Mapping[str, str],
    *,
    emitted_at: str | None = None,
    event_id: str | None = None,
    types: EventTypes | None = None,
) -> Event:
    """Build one thin event of the contract's table.

    Args:
        event_type: a type of ``types``.
        ids: exactly the id field(s) of that type, e.g. ``{"model_id": "ranking-model"}``.
        emitted_at: RFC 3339 time; now when omitted.
        event_id: a unique id; a random UUID when omitted.
        types: the event table (default: :data:`EVENT_TYPES`, the installed systems').

    Raises:
        EventError: the type is unknown or the id fields are not exactly the type's.
    """
    table = types if types is not None else _installed_types()
    if event_type not in table:
        near = difflib.get_close_matches(event_type, table, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise EventError(f"unknown event type {event_type!r}{hint}")
    source, fields = table[event_type]
    if set(ids) != set(fields):
        raise EventError(
            f"{event_type} needs the id field(s) {', '.join(fields)}, "
            f"got {', '.join(ids) or 'none'}"
        )
    event: Event = {
        "event_id": event_id or str(uuid.uuid4()),
        "event_type": event_type,
        "source": source,
    }
    event.update((field, ids[field]) for field in fields)
    event["emitted_at"] = emitted_at or format_time(datetime.now(UTC))
    return event


def perturb(
    events: Sequence[Event],
    *,
    seed: int = 0,
    shuffle: bool = False,
    duplicate: float = 0.0,
    drop: float = 0.0,
    delay: float = 0.0,
) -> list[Event]:
    """The same events as an unreliable transport would deliver them, reproducibly.

    Args:
        events: the events in emission order.
        seed: seed of the random choices; the same seed gives the same result.
        shuffle: deliver in a random order.
        duplicate: fraction of the delivered events also delivered a second time (the
            same event, same ``event_id``), somewhere later.
        drop: fraction of the events never delivered.
        delay: fraction of the events delivered late: moved after later events.

    >>> events = [{"event_id": str(n)} for n in range(6)]
    >>> [e["event_id"] for e in perturb(events, seed=1, drop=0.5)]
    ['1', '4']
    >>> perturb(events, seed=7, shuffle=True) == perturb(events, seed=7, shuffle=True)
    True
    """
    for name, fraction in (("duplicate", duplicate), ("drop", drop), ("delay", delay)):
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"{name} must be a fraction between 0 and 1, not {fraction!r}")
    rng = random.Random(seed)
    size = len(events)
    placed: list[tuple[float, int, Event]] = []
    for index, event in enumerate(events):
        if rng.random() < drop:
            continue
        position = rng.uniform(0, size) if shuffle else float(index)
        if rng.random() < delay:
            position = rng.uniform(position + 1, size + 1)
        placed.append((position, len(placed), dict(event)))
        if rng.random() < duplicate:
            placed.append((rng.uniform(position, size + 1), len(placed), dict(event)))
    placed.sort(key=lambda item: (item[0], item[1]))
    return [event for _, _, event in placed]


def write_json_lines(events: Iterable[Event], target: str | Path | IO[str]) -> int:
    """Write events as JSON lines to a path (``-`` is standard output) or an open file.

    Returns:
        The number of events written.
    """
    if isinstance(target, str | Path):
        if str(target) == "-":
            import sys

            return write_json_lines(events, sys.stdout)
        with open(target, "w", encoding="utf-8") as handle:
            return write_json_lines(events, handle)
    count = 0
    for event in events:
        target.write(json.dumps(event, ensure_ascii=False) + "\n")
        count += 1
    target.flush()
    return count


class Sink(Protocol):
    """Where emitted events go: anything with ``send(event)`` and ``close()``."""

    def send(self, event: Event) -> None: ...

    def close(self) -> None: ...


class MemorySink:
    """Keeps every event in :attr:`events`, in order; thread-safe.

    >>> sink = MemorySink()
    >>> sink.send({"event_type": "model_created", "model_id": "m"})
    >>> [e["model_id"] for e in sink.events]
    ['m']
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[Event] = []

    @property
    def events(self) -> list[Event]:
        """A copy of the events received so far."""
        with self._lock:
            return list(self._events)

    def send(self, event: Event) -> None:
        with self._lock:
            self._events.append(event)

    def clear(self) -> None:
        """Forget every event received so far."""
        with self._lock:
            self._events.clear()

    def close(self) -> None:
        pass


class JsonLinesSink:
    """Appends each event as one JSON line to a file (created if missing)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._handle: IO[str] | None = open(self.path, "a", encoding="utf-8")  # noqa: SIM115

    def send(self, event: Event) -> None:
        with self._lock:
            if self._handle is None:
                raise ValueError(f"the event file {self.path} is closed")
            self._handle.write(json.dumps(event, ensure_ascii=False) + "\n")
            self._handle.flush()

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None


class HttpSink:
    """POSTs each event as JSON to ``url``, in order, from a background thread.

    A ``429`` or ``5xx`` answer, or a connection error, is retried with exponential
    back-off (honouring ``Retry-After``) up to ``retries`` times; another ``4xx`` is a
    rejection and is not retried. Events that could not be delivered are counted in
    :attr:`failed` and logged; they never stop the sandbox.

    Args:
        url: where to POST, e.g. ``http://127.0.0.1:8000/api/v1/events``.
        retries: retries after the first attempt.
        backoff: seconds before the first retry; doubled after each.
        timeout: seconds per attempt.
        transport: an ``httpx`` transport (tests use ``httpx.MockTransport``).
        headers: sent with every POST, e.g. ``{"Authorization": "Bearer …"}``.
    """

    def __init__(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        retries: int = 5,
        backoff: float = 0.2,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url
        self.retries = retries
        self.backoff = backoff
        self.delivered = 0
        self.failed = 0
        self._client = httpx.Client(timeout=timeout, transport=transport, headers=headers)
        self._queue: queue.Queue[Event | None] = queue.Queue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="sandbox-http-sink", daemon=True)
        self._thread.start()

    def send(self, event: Event) -> None:
        if self._closed:
            raise ValueError(f"the event sink for {self.url} is closed")
        self._queue.put(event)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every queued event was delivered or given up; True if the queue drained."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._queue.unfinished_tasks

    def close(self, timeout: float = 30.0) -> None:
        """Deliver what is queued (up to ``timeout`` seconds), then stop."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout)
        self._client.close()

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            try:
                if event is None:
                    return
                if self._deliver(event):
                    self.delivered += 1
                else:
                    self.failed += 1
            finally:
                self._queue.task_done()

    def _deliver(self, event: Event) -> bool:
        wait = self.backoff
        for attempt in range(self.retries + 1):
            try:
                response = self._client.post(self.url, json=event)
            except httpx.HTTPError as error:
                reason = f"{type(error).__name__}: {error}"
                retry_after = None
            else:
                if response.is_success:
                    return True
                reason = f"HTTP {response.status_code}"
                if response.status_code != 429 and response.status_code < 500:
                    log.warning(
                        "event %s rejected by %s: %s %s",
                        event.get("event_id"),
                        self.url,
                        reason,
                        response.text[:200],
                    )
                    return False
                retry_after = _seconds(response.headers.get("Retry-After"))
            if attempt == self.retries:
                break
            time.sleep(min(retry_after if retry_after is not None else wait, 30.0))
            wait *= 2
        log.warning(
            "event %s not delivered to %s after %d attempts: %s",
            event.get("event_id"),
            self.url,
            self.retries + 1,
            reason,
        )
        return False


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def open_sink(target: str | Path, *, token: str | None = None) -> Sink:
    """A sink for a target: an ``http(s)://`` URL gives :class:`HttpSink`, anything else
    a :class:`JsonLinesSink` on that path.

    Args:
        target: the URL or the file.
        token: a bearer token sent with every POST (``Authorization: Bearer …``),
            e.g. a write token of lifecyclegraph's ``POST /api/v1/events``.

    Raises:
        ValueError: a token for a file, or an empty or blank token.

    >>> sink = open_sink("http://127.0.0.1:1/api/v1/events", token="s3cr3t")
    >>> type(sink).__name__
    'HttpSink'
    >>> sink.close()
    """
    text = str(target)
    if token is not None and not token.strip():
        raise ValueError("the events token is empty or blank")
    if text.startswith(("http://", "https://")):
        headers = {"Authorization": f"Bearer {token.strip()}"} if token is not None else None
        return HttpSink(text, headers=headers)
    if token is not None:
        raise ValueError(f"a token is only sent to an http(s) URL, and {text!r} is a file")
    return JsonLinesSink(text)
