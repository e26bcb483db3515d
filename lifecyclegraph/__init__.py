"""lifecyclegraph: the Model Lifecycle Graph.

Every ML asset from every source system, under one global name, as immutable
timestamped snapshots in Oxigraph, queryable with plain SPARQL.
"""

from lifecyclegraph import _compat  # noqa: F401  (old module paths, with a warning)
from lifecyclegraph.builder import Builder
from lifecyclegraph.core.errors import (
    ConfigError,
    InvalidFactsError,
    InvalidUriError,
    LifecycleGraphError,
    RuleAnalysisError,
    RuleLimitError,
    RuleSyntaxError,
    StoreError,
)
from lifecyclegraph.core.facts import Facts, Ref
from lifecyclegraph.core.uris import AipUri
from lifecyclegraph.graph import Graph, GraphAsOf, LifecycleGraph, RemoteGraph, connect
from lifecyclegraph.graph.entity import Entity, Relationship
from lifecyclegraph.store import HydrationState, Observation, Outcome, SnapshotInfo, WriteResult

__version__ = "0.1.0"

__all__ = [
    "AipUri",
    "Builder",
    "ConfigError",
    "Entity",
    "Facts",
    "Graph",
    "GraphAsOf",
    "HydrationState",
    "InvalidFactsError",
    "InvalidUriError",
    "LifecycleGraph",
    "LifecycleGraphError",
    "Observation",
    "Outcome",
    "Ref",
    "Relationship",
    "RemoteGraph",
    "RuleAnalysisError",
    "RuleLimitError",
    "RuleSyntaxError",
    "SnapshotInfo",
    "StoreError",
    "WriteResult",
    "__version__",
    "connect",
]
