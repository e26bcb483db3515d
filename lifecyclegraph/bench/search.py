"""Search benchmark: build rate, change-to-visible latency, query latency, peak memory.

Each (backend, size) run happens in its own child process on a fresh on-disk index,
so that peak memory is per run. Documents are synthetic but shaped like the graph's:
fifteen entity types over six domains, names of two or three words from a Zipf-like
vocabulary, a one-sentence description, one or two owners out of 2,000 users, two
tags out of 200, and the names of two related entities.

Run it with ``lifecyclegraph bench search``; see ``docs/benchmarks.md``.
"""

from __future__ import annotations

import multiprocessing
import random
import resource
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lifecyclegraph.search.backend import SearchQuery
from lifecyclegraph.search.documents import Document

__all__ = ["SearchBenchResult", "run_search_bench", "synthetic_document"]

_TYPES = [
    ("lg:Model", "model", "models"),
    ("lg:ModelInstance", "model instance", "models"),
    ("lg:Deployment", "deployment", "models"),
    ("lg:Pipeline", "pipeline", "pipelines"),
    ("lg:Schedule", "schedule", "pipelines"),
    ("lg:PipelineRun", "pipeline run", "pipelines"),
    ("lg:RunAttempt", "run attempt", "pipelines"),
    ("lg:Feature", "feature", "features"),
    ("lg:ABTest", "a/b test", "experiments"),
    ("lg:ABTestCell", "a/b test cell", "experiments"),
    ("lg:Dataset", "dataset", "datasets"),
    ("lg:DatasetVersion", "dataset version", "datasets"),
    ("lg:User", "user", "identity"),
    ("lg:Team", "team", "identity"),
    ("lg:Notebook", "notebook", "models"),
]
_STEMS = [
    "rank",
    "recommend",
    "search",
    "click",
    "watch",
    "view",
    "play",
    "home",
    "row",
    "title",
    "artist",
    "genre",
    "user",
    "session",
    "device",
    "country",
    "region",
    "price",
    "churn",
    "fraud",
    "spam",
    "embed",
    "vector",
    "score",
    "label",
    "train",
    "eval",
    "serve",
    "batch",
    "stream",
    "daily",
    "weekly",
    "hourly",
    "feature",
    "model",
    "pipeline",
    "dataset",
    "cohort",
    "holdout",
    "treatment",
    "control",
    "signal",
    "impression",
    "conversion",
    "revenue",
    "retention",
    "latency",
    "quality",
    "ads",
    "billing",
    "catalog",
    "inventory",
    "image",
    "audio",
    "video",
    "text",
    "language",
    "translate",
    "summary",
    "forecast",
    "anomaly",
]
_WORDS = [s + suffix for s in _STEMS for suffix in ("", "ing", "er", "s", "ed", "ion", "ly")]


def _word(rng: random.Random) -> str:
    # Skewed: a few words are common (the most common is in ~5% of the words drawn),
    # most are rare.
    return _WORDS[int(len(_WORDS) * rng.random() ** 2) * 7 % len(_WORDS)]


def synthetic_document(i: int) -> Document:
    """A realistic document for entity number ``i`` (deterministic)."""
    rng = random.Random(i)
    type_name, label, domain = _TYPES[i % len(_TYPES)]
    words = [_word(rng) for _ in range(rng.randint(2, 3))]
    name = "_".join(words) + f"_{i}"
    owners = sorted({f"aip://user/identity/user-{rng.randrange(2000)}" for _ in range(2)})
    return Document(
        uri=f"aip://{label.replace(' ', '-').replace('/', '')}/bench/e-{i}",
        name=name,
        type=type_name,
        type_label=label,
        domain=domain,
        description=" ".join(_word(rng) for _ in range(12)).capitalize() + ".",
        owners=tuple(owners),
        owner_names=tuple(f"User {o.rsplit('-', 1)[1]}" for o in owners),
        owner_keys=tuple(sorted({o.lower() for o in owners})),
        tags=tuple(sorted({f"team::t{rng.randrange(100)}", f"tier::{rng.randrange(100)}"})),
        related=tuple(f"{_word(rng)}_{_word(rng)}_{rng.randrange(i + 1)}" for _ in range(2)),
        keywords=(f"e-{i}", "ACTIVE" if i % 3 else "ARCHIVED"),
        is_owner=type_name in ("lg:User", "lg:Team"),
    )


@dataclass
class SearchBenchResult:
    """One run's figures (milliseconds unless said otherwise)."""

    backend: str
    entities: int
    build_seconds: float
    index_mb: float
    peak_rss_mb: float
    visible_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    query_ms: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def docs_per_second(self) -> float:
        return self.entities / self.build_seconds

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "docs_per_second": round(self.docs_per_second)}


def _percentiles(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return {"p50": round(statistics.median(samples), 2), "p95": round(cuts[18], 2)}


def _queries(entities: int, rng: random.Random, count: int) -> dict[str, list[SearchQuery]]:
    plain, bare, fuzzy, filtered, name = [], [], [], [], []
    for _ in range(count):
        doc = synthetic_document(rng.randrange(entities))
        word = doc.name.split("_")[0]
        plain.append(SearchQuery(f"{word} {doc.name.split('_')[1]}"))
        bare.append(SearchQuery(f"{word} {doc.name.split('_')[1]}", facets=False))
        typo = word[:2] + word[3:] if len(word) > 4 else word + "x"
        fuzzy.append(SearchQuery(typo + "q"))  # no exact hit: the fuzzy pass runs
        filtered.append(
            SearchQuery(word, {"type": (doc.type,), "tag": (doc.tags[0],)}, fuzzy_below=0)
        )
        name.append(SearchQuery(doc.name))
    return {
        "plain": plain,
        "plain, no facets": bare,
        "exact name": name,
        "fuzzy": fuzzy,
        "filtered": filtered,
    }


def _run(backend_name: str, entities: int, path: str, batch: int, queries: int, queue: Any) -> None:
    from lifecyclegraph.search.index import open_backend

    open_backend(backend_name, Path(path) / "owners").close()
    backend = open_backend(backend_name, Path(path) / "entities")
    build = 0.0  # only the backend's time: making the documents is not counted
    for start in range(0, entities, batch):
        chunk = [synthetic_document(i) for i in range(start, min(start + batch, entities))]
        began = time.perf_counter()
        backend.index(chunk)
        build += time.perf_counter() - began
    assert backend.count() == entities, (backend.count(), entities)

    rng = random.Random(7)
    results: dict[str, dict[str, float]] = {}
    for kind, timed in _queries(entities, rng, queries).items():
        backend.search(timed[0])  # warm caches
        samples = []
        for q in timed:
            t = time.perf_counter()
            backend.search(q)
            samples.append((time.perf_counter() - t) * 1000)
        results[kind] = _percentiles(samples)

    # A write and its commit: rename one entity as the indexer does after its batch
    # wait, then poll the search until the new name is found.
    commits = []
    for n in range(max(queries // 2, 5)):
        i = rng.randrange(entities)
        old = synthetic_document(i)
        new_name = f"renamed{n}zz{i}"
        doc = Document(**{**asdict(old), "name": new_name})
        t = time.perf_counter()
        backend.index([doc])
        while backend.search(SearchQuery(new_name, fuzzy_below=0)).total < 1:
            time.sleep(0.001)
        commits.append((time.perf_counter() - t) * 1000)
    backend.close()
    size = sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 2**20
    visible = _change_to_visible(backend_name, Path(path), max(queries // 2, 5))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {"end to end": visible, "write+commit": _percentiles(commits)}
    queue.put((backend_name, entities, build, size, rss, figures, results))


def _change_to_visible(backend_name: str, path: Path, count: int) -> dict[str, float]:
    """Write entities through the graph and time until search finds each one.

    The whole path: store commit, change feed, the indexer's batch wait (the
    default ``batch_ms``), documents read from the store, index commit, new searcher.
    The store is small; the index holds the benchmark's documents.
    """
    from lifecyclegraph.core.config import SearchConfig
    from lifecyclegraph.core.facts import Facts, Ref
    from lifecyclegraph.graph import LifecycleGraph

    config = SearchConfig.model_validate({"backend": backend_name, "path": path})
    graph = LifecycleGraph.in_memory(search=config)
    index = graph.open_search(update=False)  # keep what is there
    samples = []
    for n in range(count):
        uri, name = f"aip://model/bench/fresh-{n}", f"fresh {n} model"
        facts = Facts.of(uri, {"rdf:type": Ref("lg:Model"), "lg:name": name})
        t = time.perf_counter()
        graph.write(facts, source="bench", validate=False)  # partial: the index's lag only
        while uri not in index.search(name, facets=False).uris:
            time.sleep(0.002)
        samples.append((time.perf_counter() - t) * 1000)
    graph.close()
    return _percentiles(samples)


def run_search_bench(
    backend: str = "whoosh", entities: int = 100_000, batch: int = 20_000, queries: int = 40
) -> SearchBenchResult:
    """Run one backend at one size in a child process; return its figures."""
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="lg-search-bench-") as tmp:
        queue = context.Queue()
        proc = context.Process(
            target=_run, args=(backend, entities, str(Path(tmp) / "index"), batch, queries, queue)
        )
        proc.start()
        figures = queue.get()
        proc.join()
    name, count, build, size, rss, visible, timings = figures
    return SearchBenchResult(name, count, build, size, rss, visible, timings)
