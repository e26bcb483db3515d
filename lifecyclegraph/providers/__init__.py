"""Providers: one plugin per source system, found through the
``lifecyclegraph.providers`` entry-point group (the six reference ones included)."""

from lifecyclegraph.providers.base import (
    Hydrated,
    HydrationContext,
    Problem,
    Provider,
    SourceReport,
)
from lifecyclegraph.providers.loader import ENTRY_POINT_GROUP, available_providers

__all__ = [
    "ENTRY_POINT_GROUP",
    "Hydrated",
    "HydrationContext",
    "Problem",
    "Provider",
    "SourceReport",
    "available_providers",
]
