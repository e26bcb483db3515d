"""Fault injection, a server-side rate limit, and request counting for the sandbox.

A :class:`FaultRule` picks requests (by system, path pattern, the ids in the path,
and then the next N or a fraction of them) and does something to them: adds latency
and/or answers a status (``429`` with ``Retry-After``, a ``5xx``, or ``404``).
:class:`Faults` holds the rules, a per-system rate limit and a seeded random, and
decides what happens to each request. :class:`RequestLog` counts every request
with its time, so a test can check the rate a client kept.

>>> faults = Faults(seed=1)
>>> faults.add(FaultRule(system="registry", status=503, count=1))
>>> faults.decide("registry", "/api/v1/models/ranking-model").status
503
>>> faults.decide("registry", "/api/v1/models/ranking-model").status is None
True
"""

from __future__ import annotations

import difflib
import fnmatch
import math
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from lifecyclegraph.core.errors import LifecycleGraphError

__all__ = [
    "Decision",
    "FaultError",
    "FaultRule",
    "Faults",
    "RateLimiter",
    "RequestLog",
    "RequestRecord",
    "max_in_window",
]


class FaultError(LifecycleGraphError, ValueError):
    """A fault rule or rate limit is invalid; the message names the field."""


@dataclass(slots=True)
class FaultRule:
    """Which requests to disturb, and how.

    Matching: ``system`` (None: every system), ``path`` (an ``fnmatch`` pattern on the
    path under the system's base URL, e.g. ``/api/v1/models/*``; None: every path) and
    ``not_found_ids`` (when given, only paths with one of these ids as a segment).
    Selection among matching requests: the next ``count`` ones, or each with
    probability ``fraction`` (seeded), or all when neither is given.
    Effect on a selected request: ``latency_ms`` added, then ``status`` answered
    (``404`` by default when ``not_found_ids`` is given), with ``Retry-After:
    retry_after`` on a ``429``.
    """

    system: str | None = None
    path: str | None = None
    latency_ms: float = 0.0
    status: int | None = None
    retry_after: int = 1
    count: int | None = None
    fraction: float | None = None
    not_found_ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.not_found_ids and self.status is None:
            self.status = 404
        problems = []
        if self.status is not None and not (self.status in (404, 429) or 500 <= self.status <= 599):
            problems.append(f"status must be 404, 429 or 5xx, not {self.status!r}")
        if self.latency_ms < 0:
            problems.append(f"latency_ms must be >= 0, not {self.latency_ms!r}")
        if self.retry_after < 0:
            problems.append(f"retry_after must be >= 0 seconds, not {self.retry_after!r}")
        if self.count is not None and self.count < 0:
            problems.append(f"count must be >= 0, not {self.count!r}")
        if self.fraction is not None and not 0.0 <= self.fraction <= 1.0:
            problems.append(f"fraction must be between 0 and 1, not {self.fraction!r}")
        if self.count is not None and self.fraction is not None:
            problems.append("give count or fraction, not both")
        if problems:
            raise FaultError("invalid fault rule: " + "; ".join(problems))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultRule:
        """A rule from its JSON form; an unknown key is an error that names it.

        >>> FaultRule.from_dict({"system": "registry", "latency": 50})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        lifecyclegraph.sandbox.faults.FaultError: unknown fault rule key 'latency'; did you ...
        """
        known = [f.name for f in fields(cls)]
        for key in data:
            if key not in known:
                near = difflib.get_close_matches(key, known, n=1)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                raise FaultError(f"unknown fault rule key {key!r}{hint}")
        try:
            return cls(**{**data, "not_found_ids": list(data.get("not_found_ids") or [])})
        except TypeError as error:
            raise FaultError(f"invalid fault rule: {error}") from error

    def as_dict(self) -> dict[str, Any]:
        """The rule's JSON form."""
        return asdict(self)

    def matches(self, system: str, path: str) -> bool:
        """Whether a request to ``path`` of ``system`` is one this rule is about."""
        if self.system is not None and self.system != system:
            return False
        if self.path is not None and not fnmatch.fnmatchcase(path, self.path):
            return False
        return not self.not_found_ids or any(
            segment in self.not_found_ids for segment in path.split("/")
        )


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one request: wait ``latency`` seconds, then answer ``status``
    (None: serve it normally), with ``retry_after`` seconds on a ``429``."""

    latency: float = 0.0
    status: int | None = None
    retry_after: int | None = None
    reason: str = ""


class RateLimiter:
    """At most ``rate`` requests a second, over a sliding window.

    The window holds ``max(1, floor(rate))`` admitted requests and lasts that many
    divided by ``rate`` seconds (1 second for a whole rate). A refused request is not
    counted; the answer is the seconds to wait, rounded up (at least 1).

    >>> limiter = RateLimiter(2)
    >>> [limiter.admit(now=t) for t in (0.0, 0.1, 0.2, 1.05)]
    [None, None, 1, None]
    """

    def __init__(self, rate: float) -> None:
        if not rate > 0:
            raise FaultError(f"a rate limit must be > 0 requests a second, not {rate!r}")
        self.rate = rate
        self.capacity = max(1, math.floor(rate))
        self.window = self.capacity / rate
        self._admitted: deque[float] = deque()

    def admit(self, now: float | None = None) -> int | None:
        """None if a request arriving ``now`` (monotonic seconds) is admitted, else the
        ``Retry-After`` seconds."""
        now = time.monotonic() if now is None else now
        while self._admitted and now - self._admitted[0] >= self.window:
            self._admitted.popleft()
        if len(self._admitted) >= self.capacity:
            return max(1, math.ceil(self._admitted[0] + self.window - now))
        self._admitted.append(now)
        return None


class Faults:
    """The fault rules and rate limits in force, with a seeded random; thread-safe.

    Args:
        seed: seed of the random used by ``fraction`` rules.
    """

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self.seed = seed
        self._random = random.Random(seed)
        self._rules: list[FaultRule] = []
        self._limiters: dict[str, RateLimiter] = {}

    def add(self, rule: FaultRule) -> None:
        """Add a rule; rules apply in the order they were added."""
        with self._lock:
            self._rules.append(rule)

    def set_rate_limit(self, system: str, rate: float | None) -> None:
        """Limit ``system`` to ``rate`` requests a second (None: no limit)."""
        with self._lock:
            if rate is None:
                self._limiters.pop(system, None)
            else:
                self._limiters[system] = RateLimiter(rate)

    def reseed(self, seed: int) -> None:
        """Restart the random of ``fraction`` rules from ``seed``."""
        with self._lock:
            self.seed = seed
            self._random = random.Random(seed)

    def clear(self) -> None:
        """Remove every rule and rate limit, and restart the random from the seed."""
        with self._lock:
            self._rules.clear()
            self._limiters.clear()
            self._random = random.Random(self.seed)

    def configure(self, data: Mapping[str, Any]) -> None:
        """Apply a JSON configuration: ``{"seed": 7, "rules": [...], "rate_limits":
        {"registry": 5}}`` (every key optional; rules are added, and a rate limit of
        null removes that system's limit).

        Raises:
            FaultError: an unknown key or an invalid rule or rate; nothing is applied.
        """
        unknown = set(data) - {"seed", "rules", "rate_limits"}
        if unknown:
            raise FaultError(
                f"unknown faults key {sorted(unknown)[0]!r} (expected seed, rules, rate_limits)"
            )
        rules = [FaultRule.from_dict(rule) for rule in data.get("rules") or []]
        limits = dict(data.get("rate_limits") or {})
        for rate in limits.values():
            if rate is not None:
                RateLimiter(rate)
        if "seed" in data:
            self.reseed(int(data["seed"]))
        for rule in rules:
            self.add(rule)
        for system, rate in limits.items():
            self.set_rate_limit(system, rate)

    def as_dict(self) -> dict[str, Any]:
        """The rules (with what is left of their counts) and rate limits, as JSON."""
        with self._lock:
            return {
                "seed": self.seed,
                "rules": [rule.as_dict() for rule in self._rules],
                "rate_limits": {s: limiter.rate for s, limiter in self._limiters.items()},
            }

    def decide(self, system: str, path: str, now: float | None = None) -> Decision:
        """What happens to a request to ``path`` (under the base URL) of ``system``.

        The rate limit is checked first (a refused request is answered at once); then
        every matching, selected rule adds its latency, and the first with a status
        gives the answer.
        """
        with self._lock:
            limiter = self._limiters.get(system)
            if limiter is not None:
                wait = limiter.admit(now)
                if wait is not None:
                    return Decision(
                        status=429,
                        retry_after=wait,
                        reason=f"over the rate limit of {limiter.rate:g} requests/s",
                    )
            latency = 0.0
            for rule in self._rules:
                if not rule.matches(system, path) or not self._selected(rule):
                    continue
                latency += rule.latency_ms / 1000
                if rule.status is not None:
                    retry = rule.retry_after if rule.status == 429 else None
                    return Decision(latency, rule.status, retry, "injected fault")
            return Decision(latency)

    def _selected(self, rule: FaultRule) -> bool:
        if rule.count is not None:
            if rule.count == 0:
                return False
            rule.count -= 1
            return True
        if rule.fraction is not None:
            return self._random.random() < rule.fraction
        return True


def max_in_window(times: Iterable[float], window: float = 1.0) -> int:
    """The most of ``times`` (seconds) that fall in any interval ``[t, t + window)``.

    >>> max_in_window([0.0, 0.5, 0.99, 1.0, 1.5])
    3
    >>> max_in_window([0.0, 0.2, 0.4, 0.6], window=0.5)
    3
    >>> max_in_window([])
    0
    """
    ordered = sorted(times)
    best = start = 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request a source system received: when (``at``, seconds since the epoch),
    what, and the status it was answered with."""

    system: str
    method: str
    path: str
    status: int
    at: float


class RequestLog:
    """Every request to the six systems, in arrival order; thread-safe.

    >>> log = RequestLog()
    >>> for t in (0.0, 0.3, 0.6, 1.7):
    ...     log.record("registry", "GET", "/api/v1/models/m", 200, at=t)
    >>> log.count("registry"), log.max_per_second("registry")
    (4, 3)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []

    def record(
        self, system: str, method: str, path: str, status: int, at: float | None = None
    ) -> None:
        """Add one request (``at`` defaults to now)."""
        entry = RequestRecord(system, method, path, status, time.time() if at is None else at)
        with self._lock:
            self._records.append(entry)

    def records(self, system: str | None = None) -> list[RequestRecord]:
        """The requests received (by one system, or all), in arrival order."""
        with self._lock:
            return [r for r in self._records if system is None or r.system == system]

    def count(self, system: str | None = None, path: str | None = None) -> int:
        """How many requests a system (or all) received, optionally on one path."""
        return sum(1 for r in self.records(system) if path is None or r.path == path)

    def max_per_second(self, system: str | None = None, window: float = 1.0) -> int:
        """The most requests a system (or all) received in any ``window`` seconds."""
        return max_in_window((r.at for r in self.records(system)), window)

    def clear(self) -> None:
        """Forget every request."""
        with self._lock:
            self._records.clear()

    def as_dict(self, *, requests: bool = False) -> dict[str, Any]:
        """Counts as JSON: total, and per system its total, statuses, paths and the most
        requests in any second; with ``requests``, every request too."""
        records = self.records()
        systems: dict[str, Any] = {}
        for system in dict.fromkeys(r.system for r in records):
            mine = [r for r in records if r.system == system]
            systems[system] = {
                "total": len(mine),
                "statuses": dict(Counter(str(r.status) for r in mine)),
                "paths": dict(Counter(r.path for r in mine)),
                "max_per_second": max_in_window(r.at for r in mine),
            }
        result: dict[str, Any] = {"total": len(records), "systems": systems}
        if requests:
            result["requests"] = [asdict(r) for r in records]
        return result
