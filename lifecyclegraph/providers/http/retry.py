"""When to try again: exponential back-off with full jitter, and the source's ``Retry-After``.

>>> import random
>>> rng = random.Random(7)
>>> waits = [backoff_delay(3, base=0.1, cap=10.0, rng=rng) for _ in range(1000)]
>>> 0.0 <= min(waits) < 0.01, 0.39 < max(waits) <= 0.4  # uniform over [0, 0.1 * 2**2]
(True, True)
>>> backoff_ceiling(8, base=0.1, cap=10.0)
10.0
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

__all__ = ["backoff_ceiling", "backoff_delay", "is_retryable_status", "parse_retry_after"]


def backoff_ceiling(retry: int, *, base: float, cap: float) -> float:
    """The longest wait before retry ``retry`` (1 is the first): ``base * 2**(retry-1)``, capped.

    >>> [backoff_ceiling(n, base=0.1, cap=1.0) for n in (1, 2, 3, 4, 5)]
    [0.1, 0.2, 0.4, 0.8, 1.0]
    """
    if retry < 1:
        raise ValueError(f"retries are counted from 1, not {retry}")
    # 2**exponent overflows a float near 1024; by then the cap has long been reached.
    return min(cap, base * 2.0 ** min(retry - 1, 1000))


def backoff_delay(retry: int, *, base: float, cap: float, rng: random.Random) -> float:
    """The wait before retry ``retry``: uniform in [0, :func:`backoff_ceiling`] ("full jitter").

    Full jitter spreads the retries of many callers that failed together, so they do
    not come back together.
    """
    return rng.uniform(0.0, backoff_ceiling(retry, base=base, cap=cap))


def is_retryable_status(status: int) -> bool:
    """Whether an answer with this status is a passing fault worth retrying: ``429`` or ``5xx``.

    >>> [is_retryable_status(s) for s in (200, 404, 429, 500, 503)]
    [False, False, True, True, True]
    """
    return status == httpx.codes.TOO_MANY_REQUESTS or 500 <= status <= 599


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from ``now`` as a ``Retry-After`` header asks; ``None`` if unreadable.

    The header holds either a number of seconds or an HTTP-date; a date in the past
    means no wait.

    >>> now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    >>> parse_retry_after("2", now)
    2.0
    >>> parse_retry_after("Thu, 01 Jan 2026 12:00:03 GMT", now)
    3.0
    >>> parse_retry_after("soon", now) is None
    True
    """
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 and seconds != float("inf") else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, as RFC 9110 requires of HTTP-dates
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
