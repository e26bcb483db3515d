"""lifecyclegraph: the Model Lifecycle Graph.

Every ML asset from every source system, under one global name, as immutable
timestamped snapshots in Oxigraph, queryable with plain SPARQL.
"""

from lifecyclegraph.entity import Entity, Relationship
from lifecyclegraph.errors import (
    ConfigError,
    InvalidFactsError,
    InvalidUriError,
    LifecycleGraphError,
    RuleAnalysisError,
    RuleLimitError,
    RuleSyntaxError,
    StoreError,
)
from lifecyclegraph.facts import Facts, Ref
from lifecyclegraph.graph import Graph, GraphAsOf, LifecycleGraph, RemoteGraph, connect
from lifecyclegraph.store import HydrationState, Observation, Outcome, SnapshotInfo, WriteResult
from lifecyclegraph.uris import AipUri

__version__ = "0.1.0"

__all__ = [
    "AipUri",
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
