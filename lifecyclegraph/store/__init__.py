"""The store layer: immutable, timestamped snapshots in Oxigraph, and the current state.

:class:`SnapshotStore` (``snapshots.py``) is the store; the value types it speaks in
are shared with every layer above it. See ``docs/dataset-layout.md`` for the layout,
a public interface.
"""

from lifecyclegraph.store.snapshots import (
    Delta,
    EntityState,
    HydrationState,
    Observation,
    Outcome,
    SnapshotInfo,
    SnapshotStore,
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
