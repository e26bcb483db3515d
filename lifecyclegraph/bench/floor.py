"""The store's floor for a backfill: Oxigraph alone, writing the quads a backfill writes.

Issue 17 asks for a million entities backfilled in 20 minutes on two cores. This
benchmark answers how much of that time the store alone needs: no HTTP, no Python
logic beyond making the quads, just pyoxigraph writing the same mix of quads an
entity that ``lifecyclegraph serve`` writes in a backfill, the way it writes them:

* ``ASSERTED`` quads in the entity's own snapshot graph (a named graph: six index
  entries each) and ``BOOKKEEPING`` quads in the default graph (catalogue and state:
  three index entries each), one ``Store.load`` transaction a batch, as
  :meth:`lifecyclegraph.store.batch.Batch.write` does;
* ``derived`` quads in the inferred graph, one ``Store.extend`` a batch, as the rule
  engine's :meth:`~lifecyclegraph.store.SnapshotStore.apply_inferred` does (15.8 an
  entity written in a 20k backfill, counted by predicate: ``--derived 16``; 4.3 of
  them are the rules' own conclusions, the rest the ontology's super-classes,
  super-properties and inverses);
* the write buffers flushed every :data:`~lifecyclegraph.store.snapshots.FLUSH_EVERY`
  quads, as the store does.

The CPU seconds are the whole process's (every thread: RocksDB's compaction and
flushes included), read with ``getrusage``; each run is a child process on a fresh
on-disk store. Run it with ``lifecyclegraph bench floor``.
"""

from __future__ import annotations

import multiprocessing
import random
import resource
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Store

from lifecyclegraph.core.vocab import INFERRED_GRAPH, PREFIXES, SNAPSHOT_PREFIX
from lifecyclegraph.store.snapshots import FLUSH_EVERY

__all__ = ["ASSERTED", "BOOKKEEPING", "FloorResult", "run_floor", "run_floor_bench"]

#: Asserted quads an entity, in its snapshot graph (10 in the 1M backfill).
ASSERTED = 10
#: Bookkeeping quads an entity, in the default graph: five of the snapshot's catalogue
#: entry, seven of the entity's state (12 in the 1M backfill).
BOOKKEEPING = 12

_LG = PREFIXES["lg"]
_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"
_KINDS = ("model", "model-instance", "pipeline-run", "dataset", "feature", "pipeline")
_ASSERTED_PROPERTIES = tuple(
    _LG + p
    for p in (
        *("name", "platform", "sourceId", "createdAt", "status"),
        *("owner", "description", "version", "dependsOn"),
    )
)
_LINKS = (_LG + "owner", _LG + "dependsOn")
_DERIVED_CLASSES = (_LG + "Asset", PREFIXES["prov"] + "Entity", PREFIXES["dcat"] + "Dataset")
_DERIVED_PROPERTIES = (
    PREFIXES["prov"] + "wasInfluencedBy",
    _LG + "upstream",
    _LG + "downstream",
    PREFIXES["rdfs"] + "label",
    _LG + "owningTeam",
    PREFIXES["dcterms"] + "created",
    PREFIXES["prov"] + "wasAttributedTo",
    PREFIXES["dcterms"] + "isPartOf",
    PREFIXES["prov"] + "startedAtTime",
    PREFIXES["dcat"] + "version",
    _LG + "dependsOn",
    PREFIXES["prov"] + "wasDerivedFrom",
    PREFIXES["prov"] + "used",
    PREFIXES["prov"] + "wasGeneratedBy",
    PREFIXES["dcterms"] + "description",
    PREFIXES["prov"] + "endedAtTime",
)


@dataclass
class FloorResult:
    """One run: what was written, in how long, for how much CPU."""

    entities: int
    derived: int
    quads: int
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float

    @property
    def entities_per_second(self) -> float:
        return self.entities / self.seconds

    @property
    def cpu_ms_per_entity(self) -> float:
        return 1000 * self.cpu_seconds / self.entities

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "quads_per_entity": round(self.quads / self.entities, 1),
            "entities_per_second": round(self.entities_per_second),
            "cpu_ms_per_entity": round(self.cpu_ms_per_entity, 3),
        }


def _uri(i: int) -> str:
    return f"aip://{_KINDS[i % len(_KINDS)]}/bench/e{i:08d}"


def _batch(start: int, stop: int, derived: int, rnd: random.Random) -> tuple[bytes, list[Quad]]:
    """The N-Quads text (asserted and bookkeeping) and the derived quads of a batch."""
    lines: list[str] = []
    inferred: list[Quad] = []
    for i in range(start, stop):
        entity = _uri(i)
        other = _uri(rnd.randrange(max(i, 1)))
        graph = f"{SNAPSHOT_PREFIX}{uuid.uuid4()}"
        lines.append(f"<{entity}> <{_TYPE}> <{_LG}Model> <{graph}> .\n")
        for k, predicate in enumerate(_ASSERTED_PROPERTIES[: ASSERTED - 1]):
            value = f"<{other}>" if predicate in _LINKS else f'"value {k} of e{i} {rnd.random()}"'
            lines.append(f"<{entity}> <{predicate}> {value} <{graph}> .\n")
        now = f'"2026-12-05T04:{i % 60:02d}:{i // 60 % 60:02d}.{i % 10**6:06d}Z"^^<{_XSD_DATETIME}>'
        catalogue = (
            (_TYPE, f"<{_LG}Snapshot>"),
            (_LG + "snapshotOf", f"<{entity}>"),
            (_LG + "observedAt", now),
            (_LG + "source", '"bench"'),
            (_LG + "event", f'"event-{i}"'),
        )
        lines.extend(f"<{graph}> <{p}> {o} .\n" for p, o in catalogue)
        state = (
            (_LG + "hydrationState", f"<{_LG}Hydrated>"),
            (_LG + "currentSnapshot", f"<{graph}>"),
            (_LG + "lastHydratedAt", now),
            (_LG + "lastSeenAt", now),
            (_LG + "lastEnrichedAt", now),
            (_LG + "partOf", f"<{other}>"),
            (_LG + "lastChangedAt", now),
        )
        lines.extend(f"<{entity}> <{p}> {o} .\n" for p, o in state[: BOOKKEEPING - 5])
        node, target = NamedNode(entity), NamedNode(other)
        classes = min(len(_DERIVED_CLASSES), derived // 5)
        for k in range(derived):
            if k < classes:
                fact = Quad(node, NamedNode(_TYPE), NamedNode(_DERIVED_CLASSES[k]), INFERRED_GRAPH)
            else:
                # each fact distinct: past the last predicate they repeat with literals
                prop = NamedNode(_DERIVED_PROPERTIES[k % len(_DERIVED_PROPERTIES)])
                linked = k % 2 and k < len(_DERIVED_PROPERTIES)
                obj = target if linked else Literal(f"derived {k} of e{i}")
                fact = Quad(node, prop, obj, INFERRED_GRAPH)
            inferred.append(fact)
    return "".join(lines).encode(), inferred


def run_floor(
    path: str | Path, entities: int, derived: int, batch: int = 200, flush_every: int = FLUSH_EVERY
) -> FloorResult:
    """Write ``entities`` entities' quads into a new on-disk store at ``path``.

    Args:
        path: a directory that does not exist yet.
        entities: how many entities.
        derived: derived quads an entity (the inferred graph).
        batch: entities a transaction.
        flush_every: flush the write buffers after this many quads (0: never).

    Returns:
        The figures; ``quads`` is what the store holds afterwards, counted.
    """
    store = Store(str(path))
    rnd = random.Random(17)
    unflushed = 0
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    for start in range(0, entities, batch):
        text, inferred = _batch(start, min(start + batch, entities), derived, rnd)
        store.load(text, format=RdfFormat.N_QUADS)
        store.extend(inferred)
        unflushed += text.count(b"\n") + len(inferred)
        if flush_every and unflushed >= flush_every:
            store.flush()
            unflushed = 0
    store.flush()
    seconds = time.perf_counter() - began
    end = resource.getrusage(resource.RUSAGE_SELF)
    used = end.ru_utime + end.ru_stime - cpu.ru_utime - cpu.ru_stime
    return FloorResult(entities, derived, len(store), seconds, used, end.ru_maxrss / 1024)


def _child(path: str, entities: int, derived: int, batch: int, queue: Any) -> None:
    queue.put(run_floor(path, entities, derived, batch))


def run_floor_bench(
    entities: int, derived: tuple[int, ...] = (16, 4), batch: int = 200
) -> list[FloorResult]:
    """One :func:`run_floor` a value of ``derived``, each in its own child process on a
    fresh store in a temporary directory, one after the other."""
    context = multiprocessing.get_context("spawn")
    results = []
    with tempfile.TemporaryDirectory(prefix="lg-floor-") as tmp:
        for n in derived:
            queue = context.Queue()
            args = (str(Path(tmp) / f"derived-{n}"), entities, n, batch, queue)
            proc = context.Process(target=_child, args=args)
            proc.start()
            results.append(queue.get())
            proc.join()
    return results
