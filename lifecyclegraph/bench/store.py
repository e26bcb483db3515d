"""Store write benchmark: the public write path against a plain pyoxigraph bulk load.

Both runs write the same synthetic entities (about 15 triples each) into a fresh
on-disk store, each in its own child process so that peak memory is per run. The
public write path runs twice: with the checks' opt-out (``validate=False``, the bulk
load's and the ingestion worker's), and checked as ``write_many`` is by default, which
measures what the check costs a write. The checked run first records (untimed) the
stubs the entities link to (users, upstream datasets, versions), so that they pass.

Run it with ``lifecyclegraph bench store``; results are printed as a table and,
with ``--json``, as JSON. ``--store-url`` instead compares the embedded store with a
remote SPARQL 1.1 store (writes, entity reads, one query) in the same run, and with the
remote store as one writer of several (a change record in each write request,
``lifecyclegraph.store.changes``).
"""

from __future__ import annotations

import multiprocessing
import resource
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pyoxigraph import RdfFormat, Store

from lifecyclegraph.core.facts import Facts, Ref
from lifecyclegraph.store import Observation

__all__ = [
    "RemoteBenchResult",
    "StoreBenchResult",
    "run_remote_bench",
    "run_store_bench",
    "synthetic_entity",
]

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def synthetic_entity(i: int) -> Facts:
    """A dataset-like entity with 15 triples: type, names, owners, tags, links, times."""
    uri = f"aip://dataset/datasets/ds-{i:07d}"
    return Facts.of(
        uri,
        {
            "rdf:type": Ref("lg:Dataset"),
            "lg:name": f"dataset_{i}",
            "lg:description": f"Synthetic dataset number {i} for the store benchmark.",
            "lg:sourceId": f"ds-{i:07d}",
            "lg:platform": "datasets",
            "lg:owner": [
                Ref(f"aip://user/identity/user-{i % 97}"),
                Ref(f"aip://user/identity/user-{(i * 7) % 97}-b"),
            ],
            "lg:tag": [f"tier::{i % 3}", f"domain::d{i % 11}", f"pii::{i % 2 == 0}"],
            "lg:upstreamDataset": [
                Ref(f"aip://dataset/datasets/ds-{max(i - 1, 0):07d}"),
                Ref(f"aip://dataset/datasets/ds-{i // 2:07d}-x"),
            ],
            "lg:latestVersion": Ref(f"aip://dataset-version/datasets/ds-{i:07d}:v1"),
            "lg:createdAt": T0 + timedelta(seconds=i),
            "lg:updatedAt": T0 + timedelta(seconds=i, hours=1),
        },
    )


@dataclass
class StoreBenchResult:
    """One run's figures."""

    name: str
    entities: int
    triples: int
    seconds: float
    peak_rss_mb: float

    @property
    def entities_per_second(self) -> float:
        return self.entities / self.seconds

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "entities_per_second": round(self.entities_per_second)}


#: The class of a stub the synthetic entities link to, by the IRI's kind.
_STUB_CLASSES = {"user": "User", "dataset": "Dataset", "dataset-version": "DatasetVersion"}


def _stubs(items: list[tuple[Facts, Observation]]) -> list[tuple[str, str, Observation]]:
    """Stubs for what a batch links to outside itself, each with its class."""
    from lifecyclegraph.core.vocab import LG

    inside = {facts.uri for facts, _ in items}
    seen = Observation("bench", T0)
    targets = {
        obj.value
        for facts, _ in items
        for predicate, obj in facts.pairs
        if obj.value.startswith("aip://") and obj.value not in inside
    }
    return [
        (uri, LG[_STUB_CLASSES[uri.split("/")[2]]].value, seen)
        for uri in sorted(targets)
        if uri.split("/")[2] in _STUB_CLASSES
    ]


def _public_write(path: str, entities: int, batch: int, queue: Any, checked: bool = False) -> None:
    from lifecyclegraph.graph import LifecycleGraph

    graph = LifecycleGraph.open(path)
    triples = 0
    elapsed = 0.0
    for start in range(0, entities, batch):
        items = []
        for i in range(start, min(start + batch, entities)):
            facts = synthetic_entity(i)
            triples += len(facts.pairs)
            items.append((facts, Observation("datasets", T0, f"bench-{i}")))
        if checked:
            graph.reference_many(_stubs(items))
        began = time.perf_counter()
        graph.write_many(items, validate=checked)
        elapsed += time.perf_counter() - began
    began = time.perf_counter()
    graph.close()
    elapsed += time.perf_counter() - began
    name = "public write path, checked" if checked else "public write path (write_many)"
    queue.put((name, entities, triples, elapsed, _peak_rss_mb()))


def _checked_write(path: str, entities: int, batch: int, queue: Any) -> None:
    _public_write(path, entities, batch, queue, checked=True)


def _bulk_load(path: str, entities: int, batch: int, queue: Any) -> None:
    lines: list[str] = []
    for i in range(entities):
        facts = synthetic_entity(i)
        lines.extend(f"{facts.node} {p} {o} .\n" for p, o in facts.pairs)
    data = "".join(lines).encode()
    store = Store(path)
    began = time.perf_counter()
    store.bulk_load(data, format=RdfFormat.N_TRIPLES)
    store.flush()
    elapsed = time.perf_counter() - began
    queue.put(("pyoxigraph bulk_load (N-Triples)", entities, len(lines), elapsed, _peak_rss_mb()))


def _transactional_floor(path: str, entities: int, batch: int, queue: Any) -> None:
    """Load the exact quads the public run stored, in transactions of one batch each.

    This is the floor of any transactional writer of this layout: no Python logic,
    just Oxigraph parsing and committing the same quads.
    """
    source = Store.read_only(str(Path(path).parent / "public" / "current"))
    dump = source.dump(format=RdfFormat.N_QUADS)
    assert dump is not None  # given no output, dump returns the bytes
    lines = dump.decode().splitlines(keepends=True)
    per_batch = max(1, len(lines) * batch // entities)
    chunks = ["".join(lines[i : i + per_batch]).encode() for i in range(0, len(lines), per_batch)]
    del source, dump, lines
    store = Store(path)
    began = time.perf_counter()
    for chunk in chunks:
        store.load(chunk, format=RdfFormat.N_QUADS)
    store.flush()
    elapsed = time.perf_counter() - began
    name = "same quads as the layout, load() per batch"
    queue.put((name, entities, -1, elapsed, _peak_rss_mb()))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_store_bench(entities: int = 100_000, batch: int = 1000) -> list[StoreBenchResult]:
    """Run the writers on fresh on-disk stores and return their figures: the public
    write path unchecked, the bulk load, the transactional floor, the public write path
    checked (in that order)."""
    context = multiprocessing.get_context("spawn")
    results = []
    with tempfile.TemporaryDirectory(prefix="lg-bench-") as tmp:
        runs = (
            ("public", _public_write),
            ("bulk", _bulk_load),
            ("floor", _transactional_floor),
            ("checked", _checked_write),
        )
        for name, target in runs:
            queue = context.Queue()
            proc = context.Process(
                target=target, args=(str(Path(tmp) / name), entities, batch, queue)
            )
            proc.start()
            figures = queue.get()
            proc.join()
            results.append(StoreBenchResult(*figures))
    return results


@dataclass
class RemoteBenchResult:
    """Writes and reads of one store, embedded or remote, in the same run."""

    name: str
    entities: int
    write_seconds: float
    reads: int
    read_seconds: float
    query_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "entities_per_second": round(self.entities / self.write_seconds),
            "ms_per_entity_read": round(1000 * self.read_seconds / max(self.reads, 1), 2),
        }


def run_remote_bench(
    url: str, entities: int = 2_000, batch: int = 100, reads: int = 200
) -> list[RemoteBenchResult]:
    """Write ``entities`` synthetic entities through the public write path into a fresh
    on-disk embedded store and into the remote SPARQL 1.1 store at ``url`` (which should
    be empty), then read ``reads`` of them back (``entity()``) and run one SPARQL count
    on each: the cost of the remote store against the embedded one, on one machine.

    A third run, ``feed``, writes as many other entities to the remote store connected
    with a writer name (each write request also carries a change record): the cost of
    the shared change feed (its count query counts both remote runs' entities).
    """
    from lifecyclegraph.graph import LifecycleGraph
    from lifecyclegraph.store.remote import RemoteEndpoint, RemoteStore

    results = []
    with tempfile.TemporaryDirectory(prefix="lg-bench-") as tmp:
        for name in ("embedded", "remote", "feed"):
            first = entities if name == "feed" else 0  # other entities than "remote"'s
            if name == "embedded":
                graph = LifecycleGraph.open(Path(tmp) / "embedded")
            else:
                writer = "bench" if name == "feed" else None
                graph = LifecycleGraph(RemoteStore.connect(RemoteEndpoint(url), writer=writer))
            with graph:
                began = time.perf_counter()
                for start in range(first, first + entities, batch):
                    graph.write_many(
                        (
                            (synthetic_entity(i), Observation("datasets", T0, f"bench-{i}"))
                            for i in range(start, min(start + batch, first + entities))
                        ),
                        validate=False,  # the store's cost, not the checks' (run_store_bench)
                    )
                written = time.perf_counter() - began
                step = max(entities // max(reads, 1), 1)
                every = range(first, first + entities, step)
                uris = [synthetic_entity(i).uri for i in every][:reads]
                began = time.perf_counter()
                for uri in uris:
                    assert graph.entity(uri) is not None
                read = time.perf_counter() - began
                began = time.perf_counter()
                rows = list(graph.sparql("SELECT (COUNT(*) AS ?n) { ?d a lg:Dataset }"))
                queried = time.perf_counter() - began
                assert int(rows[0]["n"].value) == entities * (2 if name == "feed" else 1)
            results.append(RemoteBenchResult(name, entities, written, len(uris), read, queried))
    return results
