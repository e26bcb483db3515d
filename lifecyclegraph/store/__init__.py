"""The store layer: immutable, timestamped snapshots in Oxigraph, and the current state.

:class:`SnapshotStore` (``snapshots.py``) is the store, writing through a
:class:`~lifecyclegraph.store.batch.Batch` in the layout of ``layout.py``; the value
types it speaks in (``values.py``) are shared with every layer above it. The layers
above hold it as a :class:`StorePort` (``port.py``), and see a past time through a
:class:`PastView` (``past.py``). See ``docs/dataset-layout.md`` for the layout, a
public interface.
"""

from lifecyclegraph.store.past import PastView
from lifecyclegraph.store.port import StorePort
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
    "PastView",
    "SnapshotInfo",
    "SnapshotStore",
    "StorePort",
    "WriteResult",
]
