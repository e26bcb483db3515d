"""The settings of one source system's client: its platform id and the client settings.

The settings themselves (bounds, defaults, meaning) are declared once, by
:class:`~lifecyclegraph.core.config.ClientSettings`; a ``[sources.<platform-id>]`` table
(:class:`~lifecyclegraph.core.config.SourceConfig`) holds the same ones.

>>> SourceSettings("registry", "http://127.0.0.1:8900/registry", auth_header="Bearer s3cret")
SourceSettings(platform_id='registry', url='http://127.0.0.1:8900/registry', rate_limit=20.0, \
timeout=5.0, concurrency=4, auth_header=<redacted>, max_retries=5, backoff_base=0.1, \
backoff_max=10.0, breaker_threshold=5, breaker_cooldown=5.0, cache_ttl=1.0)
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from lifecyclegraph.core.config import ClientSettings, describe, redact_url
from lifecyclegraph.core.errors import ConfigError

__all__ = ["SourceSettings", "redact_url"]


class SourceSettings(ClientSettings):
    """How the hydration client talks to one source system.

    Args:
        platform_id: the source's platform id (``registry``).
        url: the base URL; request paths such as ``/api/v1/models/x`` are appended.
        options: any other :class:`~lifecyclegraph.core.config.ClientSettings` by name
            (``rate_limit``, ``timeout``, ``auth_header``, ...).

    Raises:
        ConfigError: if a value is out of range or unknown; the message names the key.

    >>> SourceSettings("registry", "http://127.0.0.1:8900", rate_limit=0)
    Traceback (most recent call last):
    ...
    lifecyclegraph.core.errors.ConfigError: sources.registry.rate_limit must be > 0, not 0
    """

    platform_id: str

    def __init__(self, platform_id: str, url: str, **options: Any) -> None:
        try:
            super().__init__(platform_id=platform_id, url=url, **options)  # type: ignore[call-arg]
        except ValidationError as error:
            raise ConfigError(describe(error, f"sources.{platform_id}")) from None

    def __repr__(self) -> str:
        parts = [f"platform_id={self.platform_id!r}", f"url={redact_url(self.url)!r}"]
        for name in ClientSettings.model_fields:
            value = getattr(self, name)
            if name == "auth_header" and value is not None:
                parts.append("auth_header=<redacted>")
            elif name != "url":
                parts.append(f"{name}={value!r}")
        return f"SourceSettings({', '.join(parts)})"

    __str__ = __repr__
