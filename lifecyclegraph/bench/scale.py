"""Scale benchmark: issue 17's whole table at one size, on the default configuration.

``lifecyclegraph serve`` runs in its own process on an on-disk store with the default
configuration (rules on, search index on, default backend); the sandbox serves a
synthetic world of the requested size from another process. Everything the benchmark
does goes over real HTTP, as a client of the service would:

* **backfill**: every object's created event is posted to ``/api/v1/events`` (arrays
  of 1,000); the clock stops when the queue is empty and the search index holds every
  entity (``/api/v1/status``, ``/api/v1/admin/search/check``): stored, derived (the
  rules run on the write path) and indexed;
* **peak RSS** of ``serve`` (with its child processes) during the backfill (until its
  clock stops) and after it (the full index check, then the rest of the run), sampled
  every 0.1 s;
* **event to inferred edge**: a new model instance produced by a run that ran for an
  A/B test cell is created at its source and its event posted, while a background
  of other events (50/s) keeps the worker busy; the time until the entity's JSON
  holds ``lg:associatedAbTest``;
* **reads** over HTTP, once the queue is empty again, p50 and p95: entity JSON, the
  design's GraphQL query, lineage to depth 10, search plain (two words), fuzzy (a
  misspelt word) and filtered (one word, a type filter);
* **SPARQL point lookup** through ``GET /sparql`` against ``oxigraph serve`` (the
  ``oxigraph`` package, ``lifecyclegraph[bench]``) on a dump of the same store, both
  running at once, requests interleaved, same query.

Run it with ``lifecyclegraph bench scale --entities N``.
"""

from __future__ import annotations

import contextlib
import gc
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from lifecyclegraph.bench.api import DESIGN_QUERY
from lifecyclegraph.bench.ingest import new_instance
from lifecyclegraph.core.config import Config
from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.sandbox.server import SandboxProcess
from lifecyclegraph.sandbox.synthetic import synthetic_world
from lifecyclegraph.sandbox.world import SYSTEMS

__all__ = [
    "Row",
    "ScaleBenchResult",
    "beside_oxigraph",
    "free_port",
    "interleaved",
    "oxigraph_binary",
    "percentiles",
    "run_scale_bench",
]

TOKEN = "bench-write-token"
LG = "https://w3id.org/lifecyclegraph/ontology#"


@dataclass
class Row:
    """One line of the table: a figure, its target and what it is compared with."""

    what: str
    figure: str
    target: str
    comparison: str = ""
    met: bool | None = None


@dataclass
class ScaleBenchResult:
    """Every figure of one run (times in seconds or milliseconds, memory in MB)."""

    entities: int
    events: int
    backfill_seconds: float
    peak_rss_backfill_mb: float
    peak_rss_after_mb: float
    inferred_p50_ms: float
    inferred_p95_ms: float
    background_rate: float
    reads_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    sparql_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    samples: int = 0
    check_seconds: float = 0.0  #: the index check after the backfill (not in its time)
    #: ``serve`` restarted on the backfilled store: until it answers (the rules
    #: materialize every derived fact again on opening a store)
    reopen_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def rows(self) -> list[Row]:
        """The table: issue 17's targets (written for 1M entities) beside each figure."""
        rows = [
            Row(
                "backfill: created events to stored, derived, indexed",
                f"{self.backfill_seconds:,.0f} s ({self.entities / self.backfill_seconds:,.0f}"
                " entities/s)",
                "<= 20 min at 1M (833 entities/s)",
                f"{1_000_000 / (self.entities / self.backfill_seconds) / 60:,.0f} min at 1M "
                "at this rate"
                + (
                    f"; then every document checked against the store: {self.check_seconds:,.0f} s"
                    if self.check_seconds
                    else ""
                ),
                self.entities / self.backfill_seconds >= 1_000_000 / 1200,
            ),
            Row(
                "peak RSS of serve, during the backfill",
                f"{self.peak_rss_backfill_mb:,.0f} MB",
                "<= 4 GB at 1M",
                f"{self.peak_rss_backfill_mb / self.entities * 1e3:,.1f} KB an entity",
                self.peak_rss_backfill_mb <= 4096,
            ),
            Row(
                "peak RSS of serve, after the backfill",
                f"{self.peak_rss_after_mb:,.0f} MB",
                "<= 4 GB at 1M",
                "the full index check, the inferred edges, the reads",
                self.peak_rss_after_mb <= 4096,
            ),
            Row(
                f"event to inferred A/B-test edge, {self.background_rate:g} other events/s",
                f"p50 {self.inferred_p50_ms:,.0f} ms, p95 {self.inferred_p95_ms:,.0f} ms",
                "p95 <= 1 s",
                "",
                self.inferred_p95_ms <= 1000,
            ),
        ]
        for name, q in self.reads_ms.items():
            rows.append(
                Row(
                    name,
                    f"p50 {q['p50']:.1f} ms, p95 {q['p95']:.1f} ms",
                    "p50 <= 20 ms, p95 <= 50 ms",
                    "",
                    q["p50"] <= 20 and q["p95"] <= 50,
                )
            )
        if self.reopen_seconds:
            rows.append(
                Row(
                    "serve restarted on the backfilled store, until it answers",
                    f"{self.reopen_seconds:,.0f} s",
                    "(none)",
                    "the rules derive every fact again on opening the store",
                )
            )
        ours, theirs = self.sparql_ms.get("lifecyclegraph"), self.sparql_ms.get("oxigraph")
        if ours and theirs:
            ratio = ours["p50"] / theirs["p50"]
            rows.append(
                Row(
                    "SPARQL point lookup, GET /sparql",
                    f"p50 {ours['p50']:.2f} ms, p95 {ours['p95']:.2f} ms",
                    "p50 <= 1.5x oxigraph serve",
                    f"oxigraph serve p50 {theirs['p50']:.2f} ms, p95 {theirs['p95']:.2f} ms:"
                    f" {ratio:.2f}x",
                    ratio <= 1.5,
                )
            )
        return rows


def table(result: ScaleBenchResult) -> str:
    """The result as a Markdown table (what ``bench scale`` prints and writes)."""
    lines = ["| what | figure | target | comparison | met |", "|---|---|---|---|---|"]
    for r in result.rows():
        met = "" if r.met is None else ("yes" if r.met else "**no**")
        lines.append(f"| {r.what} | {r.figure} | {r.target} | {r.comparison} | {met} |")
    return "\n".join(lines)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentiles(seconds: list[float]) -> dict[str, float]:
    """p50 and p95 of ``seconds``, in milliseconds, and ``n``, the count."""
    ms = sorted(s * 1000 for s in seconds)
    return {
        "p50": round(statistics.median(ms), 3),
        "p95": round(ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))], 3),
        "n": len(ms),
    }


class RssSampler:
    """The peak resident memory of a process and its children, sampled in a thread."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        import psutil

        self._process = psutil.Process(pid)
        self._every = every
        self._stop = threading.Event()
        self.peak = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _rss(self) -> int:
        import psutil

        total = 0
        for p in [self._process, *self._process.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        return total

    def _run(self) -> None:
        import psutil

        while not self._stop.wait(self._every):
            try:
                self.peak = max(self.peak, self._rss())
            except psutil.Error:
                return

    def take(self) -> float:
        """The peak since the last take, in MB; the next one starts from now."""
        peak, self.peak = max(self.peak, self._rss()), 0
        return peak / 2**20

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class _Serve:
    """``lifecyclegraph serve`` in a child process, on a configuration file."""

    def __init__(self, config: Path, port: int, log: Path, wait: float = 600) -> None:
        began = time.monotonic()
        self.url = f"http://127.0.0.1:{port}"
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lifecyclegraph", "--config", str(config), "serve"],
            stdout=self._log,
            stderr=self._log,
        )
        deadline = began + wait
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    #: seconds from the start until it answered
                    self.started_in = time.monotonic() - began
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"lifecyclegraph serve did not start; see {log}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def oxigraph_binary() -> str:
    """The ``oxigraph`` command (the ``oxigraph`` package's server).

    Raises:
        RuntimeError: it is not installed, with the ``pip install`` that brings it.
    """
    found = shutil.which("oxigraph", path=os.path.dirname(sys.executable)) or shutil.which(
        "oxigraph"
    )
    if found is None:
        raise RuntimeError(
            "the oxigraph command is missing: pip install 'lifecyclegraph[bench]' (the "
            "oxigraph package) to compare /sparql with oxigraph serve"
        )
    return found


def run_scale_bench(
    entities: int,
    samples: int = 200,
    rate: float = 50.0,
    seed: int = 0,
    keep: Path | None = None,
    progress: Callable[[str], None] = lambda _: None,
    settings: Mapping[str, str] | None = None,
) -> ScaleBenchResult:
    """Run every phase (see the module docstring) on a world of about ``entities``.

    Args:
        entities: the synthetic world's size (entities, parts included).
        samples: requests (and inferred edges) timed of each kind.
        rate: other events a second during the inferred-edge phase.
        seed: the world's and the picks' random seed.
        keep: a new or empty directory to work in and keep (default: a temporary one,
            removed).
        progress: called with a line at each phase.
        settings: configuration keys ``serve`` runs with beside the default ones
            (``"ingest.hydration_process"`` -> ``"true"``: a TOML value), to compare a
            setting both ways on the same bench.

    Raises:
        ConfigError: ``settings`` make a configuration ``serve`` would refuse.
        FileExistsError: ``keep`` holds files already. A store left by an earlier run
            would be brought up to date, not filled: the events would find every
            entity unchanged, and the backfill would measure a sync (at 100k, 138 s
            where a real backfill took 361).
    """
    if keep is not None and Path(keep).is_dir() and any(Path(keep).iterdir()):
        held = ", ".join(sorted(p.name for p in Path(keep).iterdir())[:5])
        raise FileExistsError(
            f"{keep} is not empty (it holds {held}): a store from an earlier run would be "
            "synced, not backfilled; remove it or name a new directory"
        )
    _check_settings(settings or {})
    oxigraph = oxigraph_binary()
    world = synthetic_world(entities, seed=seed)
    with tempfile.TemporaryDirectory(prefix="lg-bench-scale-") as tmp_name:
        tmp = Path(keep) if keep is not None else Path(tmp_name)
        tmp.mkdir(parents=True, exist_ok=True)
        world.save(tmp / "world")
        gc.freeze()  # the world is held to the end: out of the collector's full walks
        sandbox = SandboxProcess(tmp / "world")
        try:
            return _run(world, sandbox, tmp, oxigraph, samples, rate, seed, progress, settings)
        finally:
            sandbox.stop()


def _check_settings(settings: Mapping[str, str]) -> None:
    """Refuse settings ``serve`` would refuse, before the world is built.

    Raises:
        ConfigError: a value that is not TOML, or a key or value the configuration
            does not take.
    """
    tree: dict[str, Any] = {}
    for section, keys in _by_section(settings).items():
        node = tree
        for name in section.split("."):
            node = node.setdefault(name, {})
        for key, value in keys.items():
            try:
                node[key] = tomllib.loads(f"value = {value}")["value"]
            except tomllib.TOMLDecodeError as error:
                raise ConfigError(
                    f"{section}.{key} = {value}: not a TOML value ({error})"
                ) from None
    Config.from_dict(tree, name="--set")


def _by_section(settings: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """``section.key`` -> value settings grouped by their (possibly dotted) section."""
    grouped: dict[str, dict[str, str]] = {}
    for name, value in settings.items():
        section, _, key = name.rpartition(".")
        grouped.setdefault(section, {})[key] = value
    return grouped


def _config(
    tmp: Path, port: int, sandbox_url: str, settings: Mapping[str, str] | None = None
) -> Path:
    """The configuration ``serve`` runs with: the default one, but for the store's
    place, the port, a write token, the sources (the sandbox) and ``settings``
    (``section.key`` -> a TOML value, as ``--set`` gives them)."""
    extra = {
        section: "".join(f"{key} = {value}\n" for key, value in keys.items())
        for section, keys in _by_section(settings or {}).items()
    }
    server = extra.pop("server", "")
    store = extra.pop("store", "")  # beside the store's place, in its one [store] table
    sources = "".join(
        f'\n[sources.{s}]\nurl = "{sandbox_url}/{s}"\nrate_limit = 100000\nconcurrency = 4\n'
        for s in SYSTEMS
    )
    others = "".join(f"\n[{section}]\n{keys}" for section, keys in extra.items())
    path = tmp / "lifecyclegraph.toml"
    path.write_text(
        f'[store]\npath = "{tmp / "store"}"\n{store}\n'
        f'[server]\nhost = "127.0.0.1"\nport = {port}\nwrite_tokens = ["{TOKEN}"]\n'
        f'log_level = "warning"\n{server}{sources}{others}'
    )
    return path


def _run(
    world: Any,
    sandbox: SandboxProcess,
    tmp: Path,
    oxigraph: str,
    samples: int,
    rate: float,
    seed: int,
    progress: Callable[[str], None],
    settings: Mapping[str, str] | None = None,
) -> ScaleBenchResult:
    port = free_port()
    config = _config(tmp, port, sandbox.url, settings)
    serve = _Serve(config, port, tmp / "serve.log")
    rss = RssSampler(serve.process.pid)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        with httpx.Client(base_url=serve.url, headers=auth, timeout=120) as client:
            progress(f"serve on {serve.url} (pid {serve.process.pid}); backfill")
            events = world.seed_events()
            began = time.perf_counter()
            for start in range(0, len(events), 1000):
                client.post("/api/v1/events", json=events[start : start + 1000]).raise_for_status()
            peaks: list[float] = []
            stored, done, check_seconds = _wait_until_done(
                client, progress, when_done=lambda: peaks.append(rss.take())
            )
            backfill = done - began
            peak_backfill = max(peaks)
            progress(
                f"backfill: {stored:,} entities in {backfill:.0f} s, peak RSS"
                f" {peak_backfill:,.0f} MB, index check {check_seconds:.0f} s; inferred edges"
            )
            inferred = _inferred_phase(client, sandbox.url, world, samples, rate)
            progress(f"inferred edges: {percentiles(inferred)}; reads, once the queue is empty")
            _wait_until_done(client, progress, check=False)
            reads = _reads_phase(client, world, samples, seed)
            peak_after = rss.take()
            progress(f"reads: {reads}; peak RSS after {peak_after:,.0f} MB")
        rss.stop()
        serve.stop()
        progress("SPARQL: dump, oxigraph load, both served")
        sparql, reopen = _sparql_phase(tmp, config, port, oxigraph, samples)
        progress(f"SPARQL: {sparql}; serve answered {reopen:.0f} s after its restart")
        return ScaleBenchResult(
            entities=stored,
            events=len(events),
            backfill_seconds=backfill,
            peak_rss_backfill_mb=peak_backfill,
            peak_rss_after_mb=peak_after,
            inferred_p50_ms=percentiles(inferred)["p50"],
            inferred_p95_ms=percentiles(inferred)["p95"],
            background_rate=rate,
            reads_ms=reads,
            sparql_ms=sparql,
            samples=samples,
            check_seconds=check_seconds,
            reopen_seconds=reopen,
        )
    finally:
        rss.stop()
        serve.stop()


def _wait_until_done(
    client: httpx.Client,
    progress: Callable[[str], None],
    when_done: Callable[[], None] = lambda: None,
    *,
    check: bool = True,
) -> tuple[int, float, float]:
    """Wait until every event is stored, derived and indexed; then check the index.

    Done is when ``/api/v1/status`` says the queue is empty and the search index has
    caught up with the store (``search``: nothing pending, no commit behind); the
    derived facts are written with the facts they come from. The clock stops there.
    Then ``/api/v1/admin/search/check`` builds every entity's document again and
    compares it with the index (minutes at a million entities: a verification, not
    part of the time); if it finds a difference, the wait goes on. ``when_done`` is
    called when the clock stops, before the check (the backfill's peak memory is taken
    there: the check holds every document's version, its memory is not the backfill's).
    Without ``check`` (the wait before the reads: the index was checked after the
    backfill, and the events since are few), done is done.

    Returns:
        The entities checked (0 without ``check``), the ``time.perf_counter()`` when
        done, and the seconds the (last) check took.
    """
    last = 0.0
    while True:
        try:
            status = client.get("/api/v1/status").json()
            rules = status.get("rules") or {}
            if rules.get("error"):
                # the figures would be those of a service not deriving anything
                raise RuntimeError(f"the rule engine stopped: {rules['error']}")
            queued = status.get("queue_depth", 0) + status.get("events_pending", 0)
            search = status.get("search") or {}
            if queued == 0 and not search.get("pending") and not search.get("behind"):
                done = time.perf_counter()
                when_done()
                if not check:
                    return 0, done, 0.0
                report = client.get("/api/v1/admin/search/check", timeout=None).json()
                if report["ok"]:
                    return int(report["checked"]), done, time.perf_counter() - done
                progress(f"  the index check found {len(report['discrepancies']):,} differences")
        except httpx.TimeoutException:
            # Under a heavy backfill on a loaded machine, /api/v1/status has been seen
            # to take over 120 s (a 10k run, load average 15): keep asking.
            progress("  /api/v1/status did not answer within 120 s; asking again")
            continue
        if time.monotonic() - last > 30:
            held = f", rules {rules['facts']:,} facts of {rules['limit']:,}" if rules else ""
            progress(f"  queued {queued:,}, search {search}{held}")
            last = time.monotonic()
        time.sleep(0.5)


def _inferred_phase(
    client: httpx.Client, sandbox_url: str, world: Any, samples: int, rate: float
) -> list[float]:
    models = [m["id"] for m in world.objects("model")]
    runs = [r for r in world.objects("run") if r.get("ab_test_cells")]
    stop = threading.Event()

    def background() -> None:
        i = 0
        with httpx.Client(base_url=str(client.base_url), headers=client.headers) as noise:
            next_at = time.perf_counter()
            while not stop.is_set():
                noise.post(
                    "/api/v1/events",
                    json={"event_type": "model_updated", "model_id": models[i % len(models)]},
                )
                i += 1
                next_at += 1 / rate
                stop.wait(max(0.0, next_at - time.perf_counter()))

    thread = threading.Thread(target=background, daemon=True)
    thread.start()
    latencies: list[float] = []
    try:
        with httpx.Client(base_url=sandbox_url, timeout=30) as control:
            for i in range(samples):
                instance = new_instance(control, i, models, runs)
                uri = f"aip://model/registry/{instance}"
                sent = time.perf_counter()
                client.post(
                    "/api/v1/events",
                    json={"event_type": "model_instance_created", "instance_id": instance},
                ).raise_for_status()
                while True:
                    answer = client.get("/api/v1/entity", params={"uri": uri})
                    if answer.status_code == 200 and "associatedAbTest" in answer.text:
                        break
                    if time.perf_counter() - sent > 60:
                        raise TimeoutError(f"no inferred A/B test for {uri} within 60 s")
                    time.sleep(0.002)
                latencies.append(time.perf_counter() - sent)
                time.sleep(1 / rate)
    finally:
        stop.set()
        thread.join()
    return latencies


def _timed(call: Callable[[Any], httpx.Response], picks: list[Any]) -> dict[str, float]:
    for pick in picks[:10]:
        call(pick).raise_for_status()
    seconds = []
    for pick in picks:
        began = time.perf_counter()
        response = call(pick)
        seconds.append(time.perf_counter() - began)
        response.raise_for_status()
    return percentiles(seconds)


def _reads_phase(
    client: httpx.Client, world: Any, samples: int, seed: int
) -> dict[str, dict[str, float]]:
    rng = random.Random(seed)
    instances = [f"aip://model/registry/{o['id']}" for o in world.objects("instance")]
    models = [m["name"] for m in world.objects("model")]
    picks = [rng.choice(instances) for _ in range(samples)]
    names = [rng.choice(models) for _ in range(samples)]  # "Model 123"

    def graphql(uri: str) -> httpx.Response:
        answer = client.post("/graphql", json={"query": DESIGN_QUERY, "variables": {"id": uri}})
        if "errors" in answer.json():
            raise RuntimeError(answer.text)
        return answer

    def search(**params: Any) -> Callable[[str], httpx.Response]:
        def call(name: str) -> httpx.Response:
            q = params.get("q", name)
            return client.get("/api/v1/search", params={**params, "q": q})

        return call

    return {
        "entity JSON": _timed(lambda u: client.get("/api/v1/entity", params={"uri": u}), picks),
        "design GraphQL query": _timed(graphql, picks),
        "lineage depth 10": _timed(
            lambda u: client.get("/api/v1/lineage", params={"uri": u, "depth": 10}), picks
        ),
        "search plain (two words)": _timed(search(), names),
        "search fuzzy (a misspelt word)": _timed(
            lambda n: client.get("/api/v1/search", params={"q": n.replace("Model", "Modle")}),
            names,
        ),
        "search filtered (a word, a type)": _timed(
            lambda n: client.get("/api/v1/search", params={"q": n.split()[-1], "type": "lg:Model"}),
            names,
        ),
    }


def _sparql_phase(
    tmp: Path, config: Path, serve_port: int, oxigraph: str, samples: int
) -> tuple[dict[str, dict[str, float]], float]:
    """Dump the store, load it into an Oxigraph store, serve both, interleave lookups.

    Returns:
        The percentiles by server, and the seconds ``serve`` took to answer once
        restarted on the store.
    """
    with (
        beside_oxigraph(tmp, config, serve_port, oxigraph) as (urls, query, reopen),
        httpx.Client(timeout=30) as client,
    ):
        times = interleaved(client, urls, query, samples)
    return {name: percentiles(t) for name, t in times.items()}, reopen


@contextlib.contextmanager
def beside_oxigraph(
    tmp: Path, config: Path, serve_port: int, oxigraph: str
) -> Iterator[tuple[dict[str, str], str, float]]:
    """``lifecyclegraph serve`` on the store ``config`` names (``tmp/store``, closed by
    the caller) beside ``oxigraph serve-read-only`` on a dump of its current dataset.

    Yields the two query URLs (``lifecyclegraph``, ``oxigraph``), a point lookup that
    finds a name in both, and the seconds ``serve`` took to answer (it waits up to an
    hour: at a million entities the rules derive tens of millions of facts again);
    stops both servers on the way out.
    """
    from pyoxigraph import RdfFormat, Store

    dump = tmp / "dump.nq"
    store = Store(str(tmp / "store" / "current"))  # what /sparql answers from
    store.dump(str(dump), RdfFormat.N_QUADS)
    del store
    subprocess.run(
        [oxigraph, "load", "--location", str(tmp / "oxigraph"), "--file", str(dump)],
        check=True,
        capture_output=True,
    )
    port = free_port()
    theirs = subprocess.Popen(
        [
            oxigraph,
            "serve-read-only",
            "--location",
            str(tmp / "oxigraph"),
            "--bind",
            f"127.0.0.1:{port}",
            "--union-default-graph",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ours = None
    try:
        ours = _Serve(config, serve_port, tmp / "serve.log", wait=3600)
        subject = _a_subject(ours.url)
        query = f"SELECT ?n WHERE {{ <{subject}> <{LG}name> ?n }}"
        urls = {
            "lifecyclegraph": f"{ours.url}/sparql",
            "oxigraph": f"http://127.0.0.1:{port}/query",
        }
        with httpx.Client(timeout=30) as client:
            _wait_for(client, urls["oxigraph"], query)
        yield urls, query, ours.started_in
    finally:
        if ours is not None:
            ours.stop()
        theirs.terminate()
        theirs.wait(30)


def interleaved(
    client: httpx.Client, urls: dict[str, str], query: str, samples: int, warmup: int = 20
) -> dict[str, list[float]]:
    """Send ``query`` to each URL in turn, ``warmup + samples`` times; the seconds each
    of the last ``samples`` took, by URL name.

    Raises:
        RuntimeError: an answer has no row (the lookup must find something in both).
    """
    times: dict[str, list[float]] = {k: [] for k in urls}
    for i in range(samples + warmup):
        for name, url in urls.items():
            began = time.perf_counter()
            answer = client.get(
                url,
                params={"query": query},
                headers={"Accept": "application/sparql-results+json"},
            )
            spent = time.perf_counter() - began
            answer.raise_for_status()
            if not answer.json()["results"]["bindings"]:
                raise RuntimeError(f"{name} found no row for {query}")
            if i >= warmup:
                times[name].append(spent)
    return times


def _a_subject(url: str) -> str:
    query = f"SELECT ?s WHERE {{ ?s a <{LG}Dataset> ; <{LG}name> ?n }} LIMIT 1"
    answer = httpx.get(f"{url}/sparql", params={"query": query}, timeout=30)
    answer.raise_for_status()
    return str(answer.json()["results"]["bindings"][0]["s"]["value"])


def _wait_for(client: httpx.Client, url: str, query: str) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            if client.get(url, params={"query": query}).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("oxigraph serve did not start")
        time.sleep(0.2)


SECTION = "## Scale: issue 17's table (`lifecyclegraph bench scale`)"

INTRO = """\
What it does (`lifecyclegraph/bench/scale.py`): `lifecyclegraph serve` runs in its own
process on the default configuration (on-disk store, rules on, search index on with
the default backend); the sandbox serves a synthetic world of the given size from
another; every event and every request goes over HTTP. Backfill: every object's
created event posted to `/api/v1/events`, until the queue is empty and the search
index holds every entity (stored, derived, indexed). Peak RSS: `serve` and its child
processes, sampled every 0.1 s, during the backfill and after it. Inferred edge: a new
model instance whose run ran for an A/B test cell, created at its source and its event
posted, under a background of other events; the time until its entity JSON holds
`lg:associatedAbTest`. Reads: once the queue is empty again, 200 of each
(`--samples`), on random model instances and model names. SPARQL: the store's current
dataset dumped, loaded with `oxigraph load` and served by `oxigraph serve-read-only
--union-default-graph` (the `oxigraph` package, `lifecyclegraph[bench]`) beside
`lifecyclegraph serve` restarted on the store, the same point lookup sent to each in
turn; the seconds `serve` took to answer after that restart are a row of their own (no
target: with the rules on, opening a store derives every fact again). The targets are
issue 17's, set for 1M entities.
"""


def write_docs_section(
    result: ScaleBenchResult,
    command: str,
    machine: str,
    load: tuple[float, float, float],
    docs: Path | None = None,
) -> Path:
    """Write the run's table into ``docs/benchmarks.md``: its section, one subsection
    a size (a run of the same size replaces it). Returns the file written."""
    docs = docs or Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"
    text = docs.read_text()
    heading = f"### {result.entities:,} entities"
    body = (
        f"{heading}\n\n```\n{command}\n```\n\n"
        f"Machine: {machine}; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        f"(1 / 5 / 15 min) when it ended; {result.events:,} events.\n\n{table(result)}\n"
    )
    if SECTION not in text:
        marker = "## Issue 12's re-run"
        at = text.index(marker) if marker in text else len(text)
        text = f"{text[:at]}{SECTION}\n\n{INTRO}\n{text[at:]}"
    start = text.index(SECTION) + len(SECTION)
    following = text.find("\n## ", start)
    end = len(text) if following == -1 else following + 1
    section = text[start:end]
    if heading + "\n" in section:
        s = section.index(heading + "\n")
        nxt = section.find("\n### ", s + 1)
        # the last subsection keeps the blank line before the next section
        section = section[:s] + body + ("\n" if nxt == -1 else section[nxt:])
    else:
        section = section.rstrip("\n") + "\n\n" + body + "\n"
    docs.write_text(text[:start] + section + text[end:])
    return docs
