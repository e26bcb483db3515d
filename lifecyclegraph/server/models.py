"""The JSON shapes the read API answers with (for the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "EntityModel",
    "ExplanationModel",
    "HistoryModel",
    "ImpactModel",
    "LineageModel",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SnapshotModel(_Model):
    snapshot: str
    observedAt: str | None = None
    source: str | None = None
    event: str | None = None
    kind: str | None = None
    supersedes: str | None = None


class RelationshipModel(_Model):
    predicate: str = Field(description="the property, as prefix:local")
    direction: str = Field(description="'out' (the entity is the subject) or 'in'")
    subject: str
    object: str
    inferred: bool = Field(description="derived by the rules, not asserted by a source")
    explanation: str | None = Field(None, description="link to why an inferred edge holds")
    assertedBy: SnapshotModel | None = Field(None, description="the snapshot asserting it")


class FreshnessModel(_Model):
    state: str | None
    lastHydratedAt: str | None
    lastEnrichedAt: str | None
    lastSeenAt: str | None
    snapshot: SnapshotModel | None


class CountsModel(_Model):
    outgoing: int
    incoming: int


class EntityModel(_Model):
    uri: str
    types: list[str]
    inferredTypes: list[str]
    name: Any = None
    properties: dict[str, list[Any]]
    relationships: list[RelationshipModel]
    counts: CountsModel
    truncated: bool
    freshness: FreshnessModel
    asOf: str | None = None


class HistorySnapshotModel(SnapshotModel):
    facts: dict[str, list[Any]]


class HistoryModel(_Model):
    uri: str
    snapshots: list[HistorySnapshotModel]


class RuleModel(_Model):
    location: str
    comment: str
    origin: str
    text: str


class ExplanationModel(_Model):
    statement: str
    predicate: str
    terms: list[Any]
    asserted: bool
    rule: RuleModel | None = None
    premises: list[ExplanationModel] | None = None
    absent: list[str] | None = None
    sources: list[SnapshotModel] | None = None


class NodeModel(_Model):
    uri: str
    types: list[str]
    name: Any = None


class LineageNodeModel(NodeModel):
    depth: int


class EdgeModel(_Model):
    from_: str = Field(alias="from")
    to: str
    depth: int


class LineageModel(_Model):
    root: NodeModel
    direction: str
    depth: int
    nodes: list[LineageNodeModel]
    edges: list[EdgeModel]
    reach: int | None
    truncated: bool


class AffectedModel(NodeModel):
    owners: list[str]
    teams: list[str]
    abTests: list[str]


class ImpactModel(_Model):
    root: NodeModel
    entities: list[AffectedModel]
    owners: list[NodeModel]
    teams: list[NodeModel]
    abTests: list[NodeModel]
    truncated: bool


class ProblemModel(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
