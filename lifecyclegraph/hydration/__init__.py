"""Hydration: reading the current state of objects from the source systems over HTTP.

:class:`SourceClient` is the one way a provider talks to a source system; see
``docs/hydration.md`` for how it behaves and its settings.
"""

from lifecyclegraph.hydration.breaker import BreakerState
from lifecyclegraph.hydration.client import ClientStats, Fetched, SourceClient
from lifecyclegraph.hydration.clock import Clock, SystemClock
from lifecyclegraph.hydration.settings import SourceSettings

__all__ = [
    "BreakerState",
    "ClientStats",
    "Clock",
    "Fetched",
    "SourceClient",
    "SourceSettings",
    "SystemClock",
]
