"""Hydration: reading the current state of objects from the source systems over HTTP.

:class:`SourceClient` is the one way a provider talks to a source system; see
``docs/hydration.md`` for how it behaves and its settings.
"""

from lifecyclegraph.providers.http.breaker import BreakerState
from lifecyclegraph.providers.http.client import ClientStats, Fetched, SourceClient
from lifecyclegraph.providers.http.clock import Clock, SystemClock
from lifecyclegraph.providers.http.settings import SourceSettings

__all__ = [
    "BreakerState",
    "ClientStats",
    "Clock",
    "Fetched",
    "SourceClient",
    "SourceSettings",
    "SystemClock",
]
