"""The values the store speaks in, shared with every layer above it (like RDF terms):
who observed what (:class:`Observation`), what a write did (:class:`WriteResult`), an
entity's bookkeeping (:class:`EntityState`), one entry of its history
(:class:`SnapshotInfo`), and the change feed's :class:`Delta`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pyoxigraph import NamedNode, Triple

from lifecyclegraph.core.errors import InvalidFactsError
from lifecyclegraph.core.vocab import LG

__all__ = [
    "Delta",
    "EntityState",
    "HydrationState",
    "Observation",
    "Outcome",
    "SnapshotInfo",
    "WriteResult",
]


class HydrationState(StrEnum):
    """Where an entity is in its life, as the store knows it."""

    HYDRATED = "hydrated"  #: its facts were read from its source
    REFERENCED = "referenced"  #: only known from another entity's foreign key (a stub)
    DELETED = "deleted"  #: its source said it is gone; its history stays

    @property
    def term(self) -> NamedNode:
        return LG[self.value.capitalize()]

    @classmethod
    def from_term(cls, term: NamedNode) -> HydrationState:
        return cls(term.value.rsplit("#", 1)[1].lower())


class Outcome(StrEnum):
    """What a write did."""

    CREATED = "created"  #: the first hydrated snapshot (also after a stub or a deletion)
    UPDATED = "updated"  #: a new snapshot replaced a hydrated one
    UNCHANGED = "unchanged"  #: same facts: no snapshot, only "seen again"
    DELETED = "deleted"  #: a tombstone was written
    REFERENCED = "referenced"  #: a stub was written for an entity not seen before
    STALE = "stale"  #: older than the current snapshot: ignored
    IGNORED = "ignored"  #: nothing to do (deleting an unknown entity, re-referencing)


@dataclass(frozen=True, slots=True)
class Observation:
    """Who said something about an entity, when lifecyclegraph saw it, and why.

    Args:
        source: the provider or platform id that supplied the facts.
        observed_at: when the facts were read from the source (time zone aware).
        event_id: the event that caused the read, if any.
    """

    source: str
    observed_at: datetime
    event_id: str | None = None

    def __post_init__(self) -> None:
        if self.observed_at.tzinfo is None:
            raise InvalidFactsError(
                f"observed_at {self.observed_at.isoformat()} has no time zone; use UTC"
            )

    @classmethod
    def now(cls, source: str, event_id: str | None = None) -> Observation:
        """An observation made now."""
        return cls(source, datetime.now(UTC), event_id)


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The outcome of writing (or deleting, or referencing) one entity."""

    uri: str
    outcome: Outcome
    snapshot: str | None = None
    #: what a checked write's validation warned about (``ValidationResult``s; see
    #: ``Graph.write(validate=True)``); empty otherwise
    warnings: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """One entry of an entity's history."""

    iri: str
    entity: str
    observed_at: datetime
    source: str
    event_id: str | None
    kind: HydrationState
    supersedes: str | None


@dataclass(frozen=True, slots=True)
class Delta:
    """The net change of asserted facts made by one committed write.

    ``entities`` holds, for each entity the write gave a new snapshot, all its asserted
    facts now as ``(predicate, object)`` pairs, or ``None`` for one it deleted: what a
    listener would otherwise read back from the store (the search indexer builds
    documents from it). It is empty for a delta read from a shared change feed, where a
    listener reads the store instead.
    """

    added: frozenset[Triple]
    removed: frozenset[Triple]
    entities: Mapping[str, frozenset[tuple[NamedNode, Any]] | None] = field(
        default_factory=dict, compare=False
    )

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


@dataclass(frozen=True, slots=True)
class EntityState:
    """The store's bookkeeping for one entity."""

    uri: str
    state: HydrationState
    current_snapshot: str
    last_seen_at: datetime
    last_hydrated_at: datetime | None
    part_of: str | None
    last_enriched_at: datetime | None = None
