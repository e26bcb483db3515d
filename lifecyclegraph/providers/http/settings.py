"""The settings of one source system: one ``[sources.<platform-id>]`` table of the configuration.

>>> SourceSettings("registry", "http://127.0.0.1:8900/registry", auth_header="Bearer s3cret")
SourceSettings(platform_id='registry', url='http://127.0.0.1:8900/registry', rate_limit=20.0, \
timeout=5.0, concurrency=4, auth_header=<redacted>, max_retries=5, backoff_base=0.1, \
backoff_max=10.0, breaker_threshold=5, breaker_cooldown=5.0, cache_ttl=1.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from urllib.parse import urlsplit, urlunsplit

from lifecyclegraph.errors import ConfigError

__all__ = ["SourceSettings", "redact_url"]


@dataclass(frozen=True, repr=False)
class SourceSettings:
    """How the hydration client talks to one source system.

    Args:
        platform_id: the source's platform id (``registry``).
        url: the base URL; request paths such as ``/api/v1/models/x`` are appended.
        rate_limit: the most requests per second, never exceeded (retries count).
        timeout: seconds one attempt may take, from sending to the last byte.
        concurrency: the most requests in flight at once.
        auth_header: the value of the ``Authorization`` header; never shown.
        max_retries: retries after the first attempt (``5`` means six attempts).
        backoff_base: seconds; the first retry waits up to this long.
        backoff_max: seconds; no wait between attempts is longer. A source asking
            (``Retry-After``) for a longer pause is handed back to the caller.
        breaker_threshold: consecutive failed requests that open the circuit.
        breaker_cooldown: seconds the circuit stays open before one trial request.
        cache_ttl: seconds a successful answer is reused without asking again.

    Raises:
        ConfigError: if a value is out of range; the message names the key.

    >>> SourceSettings("registry", "http://127.0.0.1:8900", rate_limit=0)
    Traceback (most recent call last):
    ...
    lifecyclegraph.errors.ConfigError: sources.registry.rate_limit must be > 0, not 0
    """

    platform_id: str
    url: str
    rate_limit: float = 20.0
    timeout: float = 5.0
    concurrency: int = 4
    auth_header: str | None = None
    max_retries: int = 5
    backoff_base: float = 0.1
    backoff_max: float = 10.0
    breaker_threshold: int = 5
    breaker_cooldown: float = 5.0
    cache_ttl: float = 1.0

    def __post_init__(self) -> None:
        positive = ("rate_limit", "timeout", "concurrency", "breaker_threshold")
        not_negative = (
            "max_retries",
            "backoff_base",
            "backoff_max",
            "breaker_cooldown",
            "cache_ttl",
        )
        for name in positive + not_negative:
            value = getattr(self, name)
            low_ok = value > 0 if name in positive else value >= 0
            if not (isinstance(value, int | float) and math.isfinite(value) and low_ok):
                bound = "> 0" if name in positive else ">= 0"
                self._fail(name, f"must be {bound}, not {value!r}")
        for name in ("concurrency", "max_retries", "breaker_threshold"):
            if not isinstance(getattr(self, name), int):
                self._fail(name, f"must be a whole number, not {getattr(self, name)!r}")
        if not self.url.startswith(("http://", "https://")):
            self._fail("url", f"must be an http:// or https:// URL, not {redact_url(self.url)!r}")

    def _fail(self, key: str, message: str) -> None:
        raise ConfigError(f"sources.{self.platform_id}.{key} {message}")

    def __repr__(self) -> str:
        parts = []
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "auth_header" and value is not None:
                parts.append("auth_header=<redacted>")
            elif field.name == "url":
                parts.append(f"url={redact_url(value)!r}")
            else:
                parts.append(f"{field.name}={value!r}")
        return f"SourceSettings({', '.join(parts)})"


def redact_url(url: str) -> str:
    """The URL without the credentials it may hold (``user:password@``), for messages and logs.

    >>> redact_url("https://bot:s3cret@registry.example.com/api")
    'https://[secure]@registry.example.com/api'
    >>> redact_url("http://127.0.0.1:8900/registry")
    'http://127.0.0.1:8900/registry'
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"[secure]@{host}"))
