"""The store layer: immutable, timestamped snapshots in Oxigraph, and the current state.

:class:`SnapshotStore` (``snapshots.py``) is the store, writing through a
:class:`~lifecyclegraph.store.batch.Batch` in the layout of ``layout.py``; the value
types it speaks in (``values.py``) are shared with every layer above it. See
``docs/dataset-layout.md`` for the layout, a public interface.
"""

from lifecyclegraph.store.snapshots import SnapshotStore
from lifecyclegraph.store.values import (
    Delta,
    EntityState,
    HydrationState,
    Observation,
    Outcome,
    SnapshotInfo,
    WriteResult,
)

__all__ = [
    "Delta",
    "EntityState",
    "HydrationState",
    "Observation",
    "Outcome",
    "SnapshotInfo",
    "SnapshotStore",
    "WriteResult",
]
