"""lifecyclegraph.store.sparql as a Python caller uses it: execute(), QueryPool, checkpoints,
point lookups answered in the server process."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import psutil
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyoxigraph import Store

from lifecyclegraph import Facts, LifecycleGraph, Ref
from lifecyclegraph.core.errors import (
    NotAcceptableError,
    QueryRefusedError,
    QueryRequestError,
    QuerySyntaxError,
    QueryTimeoutError,
    QueryTooComplexError,
    ResultLimitError,
)
from lifecyclegraph.core.vocab import LG
from lifecyclegraph.store import Observation
from lifecyclegraph.store.sparql import QueryPool, execute
from lifecyclegraph.store.sparql.checkpoint import Checkpoints
from lifecyclegraph.store.sparql.formats import BOOLEAN, GRAPH, SOLUTIONS, negotiate
from lifecyclegraph.store.sparql.lookup import MAX_LENGTH, is_point_lookup
from lifecyclegraph.store.sparql.pool import LOCAL_ROWS
from lifecyclegraph.store.sparql.safety import MAX_DEPTH, check_query, nesting_depth

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NAMES = "SELECT ?n WHERE { ?m a lg:Model ; lg:name ?n } ORDER BY ?n"


def model(i: int) -> Facts:
    return Facts.of(
        f"aip://model/registry/m{i}",
        {"rdf:type": Ref("lg:Model"), "lg:name": f"M{i}", "lg:sourceId": f"m{i}"},
    )


def names(result) -> list[str]:
    return result.body.decode().splitlines()[1:]


# -- negotiation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "offers", "chosen"),
    [
        (None, SOLUTIONS, "application/sparql-results+json"),
        ("", GRAPH, "text/turtle"),
        ("*/*", BOOLEAN, "application/sparql-results+json"),
        ("text/*", GRAPH, "text/turtle"),
        ("application/sparql-results+xml, */*;q=0.1", SOLUTIONS, "application/sparql-results+xml"),
        ("text/csv;q=0.2, text/tab-separated-values;q=0.9", SOLUTIONS, "text/tab-separated-values"),
        ("*/*;q=0.5, text/csv;q=0", SOLUTIONS, "application/sparql-results+json"),
        ("text/csv;q=0", SOLUTIONS, None),
        ("TEXT/CSV", SOLUTIONS, "text/csv"),
        ("text/csv;q=2", SOLUTIONS, "application/sparql-results+json"),  # invalid: ignored
        ("application/ld+json;profile=x", GRAPH, "application/ld+json"),
        ("garbage", SOLUTIONS, "application/sparql-results+json"),  # no valid range at all
        ("text/turtle", BOOLEAN, None),
    ],
)
def test_negotiation_picks_the_clients_preferred_offer(accept, offers, chosen):
    assert negotiate(accept, offers) == chosen


# -- safety -------------------------------------------------------------------------------

CASES = st.lists(st.booleans(), min_size=7, max_size=7)


def _spell(word: str, upper: list[bool], escape: int | None) -> str:
    letters = [c.upper() if u else c.lower() for c, u in zip(word, upper, strict=True)]
    if escape is not None:
        letters[escape] = f"\\u{ord(letters[escape]):04X}"
    return "".join(letters)


@settings(max_examples=60, deadline=None)
@given(upper=CASES, escape=st.none() | st.integers(0, 6), silent=st.booleans())
def test_service_is_refused_however_it_is_spelled(upper, escape, silent):
    keyword = _spell("service", upper, escape)
    query = f"SELECT * {{ ?x ?y ?z {keyword}{' SILENT' if silent else ''} <http://x/> {{ }} }}"
    with pytest.raises(QueryRefusedError) as refused:
        check_query(query)
    assert refused.value.feature == "SERVICE"


@settings(max_examples=60, deadline=None)
@given(
    parts=st.lists(
        st.sampled_from(
            [
                "{",
                "}",
                "(",
                ")",
                "[",
                "]",
                " ?x ",
                '"{"',
                "'(('",
                "<http://x/(>",
                "# {{{\n",
                '"""a"b{"""',
                " < ",
                "'''[']'''",
            ]
        ),
        max_size=40,
    )
)
def test_nesting_depth_counts_brackets_outside_strings_iris_and_comments(parts):
    depth = deepest = 0
    for part in parts:
        if part in ("{", "(", "["):
            depth += 1
            deepest = max(deepest, depth)
        elif part in ("}", ")", "]"):
            depth = max(depth - 1, 0)
    assert nesting_depth("".join(parts)) == deepest


def test_too_deep_nesting_is_refused_before_oxigraph_sees_it():
    graph = LifecycleGraph.in_memory()
    fine = "ASK " + "{" * MAX_DEPTH + "}" * MAX_DEPTH
    assert execute(graph.store, fine).body == b'{"head":{},"boolean":true}'
    with pytest.raises(QueryTooComplexError, match="1001 levels deep"):
        execute(graph.store, "ASK " + "{" * (MAX_DEPTH + 1) + "}" * (MAX_DEPTH + 1))


# -- execute ------------------------------------------------------------------------------


def test_execute_runs_in_process_on_the_current_state():
    graph = LifecycleGraph.in_memory()
    graph.write(model(1), source="registry", observed_at=T0)
    result = execute(graph.store, NAMES, accept="text/csv")
    assert (result.media_type, result.kind, result.count) == ("text/csv", "solutions", 1)
    assert names(result) == ["M1"]


def test_execute_errors_say_what_is_wrong():
    store = LifecycleGraph.in_memory().store
    with pytest.raises(QuerySyntaxError) as syntax:
        execute(store, "SELECT ?x WHERE { ?x }")
    assert (syntax.value.lineno, syntax.value.offset) == (1, 23)
    assert isinstance(syntax.value, SyntaxError)
    with pytest.raises(NotAcceptableError) as refused:
        execute(store, "ASK {}", accept="text/csv")
    assert "application/sparql-results+xml" in refused.value.offered
    with pytest.raises(ResultLimitError):
        execute(store, "SELECT ?x { VALUES ?x { 1 2 3 } }", max_results=2)
    assert execute(store, "SELECT ?x { VALUES ?x { 1 2 } }", max_results=2).count == 2


def test_execute_with_a_timeout_stops_the_query_in_its_own_process():
    graph = LifecycleGraph.in_memory()
    graph.write_many([(model(i), _seen()) for i in range(300)])
    runaway = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    began = time.monotonic()
    with pytest.raises(QueryTimeoutError) as stopped:
        execute(graph.store, runaway, timeout=0.5)
    assert stopped.value.timeout == 0.5
    assert time.monotonic() - began < 10  # start-up, half a second, and the kill
    assert execute(graph.store, "ASK { ?m a lg:Model }", timeout=5).body.endswith(b"true}")


def test_a_worker_connection_closed_from_two_threads_at_once_is_closed_once():
    # The pool's close() and the start of the worker replacing a timed-out one (which
    # fails because the pool is closing) both close that worker's connection; at once,
    # they closed its descriptor twice (EBADF out of the timeout test, a loaded CI run).
    import socket
    import threading
    from multiprocessing.connection import Connection

    from lifecyclegraph.store.sparql.pool import _Worker

    failures: list[BaseException] = []
    for i in range(200):
        mine, theirs = socket.socketpair()
        theirs.close()
        worker = _Worker(i, None, Connection(mine.detach()))
        start = threading.Barrier(4)

        def hang_up(worker: _Worker = worker, start: threading.Barrier = start) -> None:
            start.wait()
            try:
                worker.hang_up()
            except OSError as error:
                failures.append(error)

        threads = [threading.Thread(target=hang_up) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert worker.conn.closed
    assert failures == []


def _seen():
    from lifecyclegraph.store import Observation

    return Observation("registry", T0)


# -- the dataset: FROM, FROM NAMED and the union ----------------------------------------

SNAPSHOTS = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
TRIPLES = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def _two_models() -> tuple[LifecycleGraph, list[str]]:
    graph = LifecycleGraph.in_memory()
    snapshots = [graph.write(model(i), source="registry", observed_at=T0).snapshot for i in (1, 2)]
    return graph, snapshots


def _with(query: str, clause: str) -> str:
    return query.replace(" WHERE", f" {clause} WHERE", 1)


def _entry_points(graph: LifecycleGraph):
    """Every way a Python caller runs SPARQL, each answering one number."""

    def rows(result) -> int:
        return int(next(iter(result))[0].value)

    def csv(result) -> int:
        return int(result.body.decode().splitlines()[1])

    later = datetime(2100, 1, 1, tzinfo=UTC)
    return {
        "graph.sparql": lambda q: rows(graph.sparql(q)),
        "store.query": lambda q: rows(graph.store.query(q)),
        "as_of().sparql": lambda q: rows(graph.as_of(later).sparql(q)),
        "execute": lambda q: csv(execute(graph.store, q, accept="text/csv")),
    }


@pytest.mark.parametrize("entry", ["graph.sparql", "store.query", "as_of().sparql", "execute"])
def test_from_and_from_named_make_the_dataset_at_every_entry_point(entry):
    graph, (first, second) = _two_models()
    run = _entry_points(graph)[entry]
    everything = run(TRIPLES)
    assert everything > 2 and run(SNAPSHOTS) == 2
    assert run(_with(TRIPLES, "FROM <urn:nonexistent>")) == 0
    assert run(_with(TRIPLES, f"FROM <{first}>")) == 3  # m1's type, name and source id
    assert run(_with(TRIPLES, f"FROM <{first}> FROM <{second}>")) == 6
    # FROM alone: no named graphs; FROM NAMED alone: an empty default graph.
    assert run(_with(SNAPSHOTS, f"FROM <{first}>")) == 0
    assert run(_with(SNAPSHOTS, f"FROM NAMED <{second}>")) == 1
    assert run(_with(TRIPLES, f"FROM NAMED <{second}>")) == 0
    assert run(_with(TRIPLES, "from <urn:nonexistent>")) == 0  # keywords have no case
    # Words that merely hold "from" leave the current state as it is.
    assert run("SELECT (COUNT(*) AS ?from) WHERE { ?s ?p ?o FILTER(?o != 'FROM') }") == everything


def test_protocol_dataset_replaces_the_querys_from_and_from_named():
    graph, (first, second) = _two_models()

    def count(query: str, **dataset: list[str]) -> int:
        body = execute(graph.store, query, accept="text/csv", **dataset).body
        return int(body.decode().splitlines()[1])

    assert count(_with(TRIPLES, "FROM <urn:nonexistent>"), default_graphs=[first]) == 3
    assert count(_with(TRIPLES, f"FROM <{first}>"), named_graphs=[second]) == 0
    assert count(_with(SNAPSHOTS, f"FROM NAMED <{first}>"), named_graphs=[first, second]) == 2
    assert count(_with(SNAPSHOTS, f"FROM NAMED <{first}>"), default_graphs=[second]) == 0


# Pieces of a query that hold "from" without being the keyword, and dataset clauses
# spelled every way the grammar allows (no space before an IRI, after `*` or `)`).
NOT_FROM = [
    "?from",
    "$FROM",
    "prov:wasDerivedFrom",
    "from:from",
    "lg:a-from",
    "lg:a.from",
    "lg:a\\)from",
    "<urn:from>",
    "_:from",
    '"FROM"',
    "'from <urn:x>'",
    '"""\nFROM\n"""',
    '"x"@from',
]
CLAUSES = ["FROM <urn:g>", "FROM NAMED <urn:g>", "from<urn:g>", "FrOm NaMeD from:g"]


@settings(max_examples=150, deadline=None)
@given(
    words=st.lists(st.sampled_from(NOT_FROM), min_size=1, max_size=6),
    clauses=st.lists(st.sampled_from(CLAUSES), max_size=3),
    star=st.booleans(),
    comment=st.booleans(),
)
def test_dataset_clause_is_found_exactly_when_the_query_has_one(words, clauses, star, comment):
    from pyoxigraph import Store

    from lifecyclegraph.store.sparql_dataset import has_dataset_clause

    objects = " ".join(f"?s{i} lg:p {w} ." for i, w in enumerate(words))
    variables = [w for w in words if w[0] in "?$"]
    head = "SELECT*" if star or not variables else f"SELECT (COUNT({variables[0]}) AS ?n)"
    note = "# FROM <urn:g>\n" if comment else ""
    query = f"PREFIX from: <urn:> {head}{note}{' '.join(clauses)} WHERE {{ {objects} }}"
    Store().query(query, prefixes={"lg": "urn:lg:", "prov": "urn:prov:"})  # valid SPARQL
    assert has_dataset_clause(query) == bool(clauses)


# -- pools and checkpoints on disk --------------------------------------------------------


def test_pool_on_disk_sees_writes_and_prunes_checkpoints(tmp_path):
    graph = LifecycleGraph.open(tmp_path / "store")
    graph.write(model(1), source="registry", observed_at=T0)
    with QueryPool(graph.store, workers=2, timeout=5) as pool:
        assert names(pool.execute(NAMES, accept="text/csv")) == ["M1"]
        for i in range(2, 6):
            graph.write(model(i), source="registry", observed_at=T0)
            assert names(pool.execute(NAMES, accept="text/csv"))[-1] == f"M{i}"
        checkpoints = pool.checkpoints
        assert checkpoints is not None and checkpoints.made == 5
        # Only the newest and the ones a worker still holds are kept (two workers).
        kept = checkpoints.paths()
        assert 1 <= len(kept) <= 3
        assert sorted(p.name for p in checkpoints.directory.iterdir()) == (
            sorted(p.name for p in kept)
        )
        pids = pool.pids()
    assert not (tmp_path / "store" / "sparql-checkpoints").exists()
    assert not any(psutil.pid_exists(p) for p in pids)
    graph.close()


def test_with_staleness_queries_never_wait_and_catch_up_in_the_background():
    graph = LifecycleGraph.in_memory()
    graph.write(model(1), source="registry", observed_at=T0)
    with QueryPool(graph.store, workers=1, timeout=5, staleness=0.3) as pool:
        assert names(pool.execute(NAMES, accept="text/csv")) == ["M1"]
        made = pool.checkpoints.made
        graph.write(model(2), source="registry", observed_at=T0)
        assert names(pool.execute(NAMES, accept="text/csv")) == ["M1"], "no wait: the old one"
        deadline = time.monotonic() + 5
        while names(pool.execute(NAMES, accept="text/csv")) == ["M1"]:
            assert time.monotonic() < deadline, "the background thread never caught up"
            time.sleep(0.05)
        assert names(pool.execute(NAMES, accept="text/csv")) == ["M1", "M2"]
        time.sleep(0.7)
        assert pool.checkpoints.made == made + 1, "no change, no new checkpoint"


def test_execute_async_answers_as_execute_and_a_cancelled_query_loses_no_worker():
    graph = LifecycleGraph.in_memory()
    graph.write_many([(model(i), _seen()) for i in range(300)])
    runaway = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    with QueryPool(graph.store, workers=1, timeout=30) as pool:
        expected = pool.execute(NAMES, accept="text/csv")

        async def scenario() -> None:
            for _ in range(3):  # the loop's own path, once a checkpoint is ready
                got = await pool.execute_async(NAMES, accept="text/csv")
                assert (got.body, got.media_type) == (expected.body, expected.media_type)
            with pytest.raises(TimeoutError):  # the client gives up: the task is cancelled
                await asyncio.wait_for(pool.execute_async(runaway), 0.5)
            with pytest.raises(QuerySyntaxError):
                await pool.execute_async("SELECT WHERE")
            got = await pool.execute_async(NAMES, accept="text/csv")
            assert got.body == expected.body, "a cancelled query's answer is never read"

        asyncio.run(scenario())
        assert pool.replaced == 1


def test_checkpoints_are_made_only_when_the_store_changed(tmp_path):
    graph = LifecycleGraph.open(tmp_path / "store")
    checkpoints = Checkpoints(graph.store)
    first = checkpoints.latest()
    assert checkpoints.latest() is first
    graph.write(model(1), source="registry", observed_at=T0)
    second = checkpoints.latest()
    assert second.generation == graph.store.generation and second is not first
    assert not first.path.exists(), "an unheld, superseded checkpoint is deleted"
    checkpoints.hold("worker", second)
    graph.write(model(2), source="registry", observed_at=T0)
    third = checkpoints.latest()
    assert second.path.exists(), "a held checkpoint stays"
    checkpoints.hold("worker", third)
    assert not second.path.exists()
    checkpoints.close()
    assert not checkpoints.directory.exists()
    graph.close()


def test_a_checkpoint_deleted_after_it_was_chosen_cannot_be_held(tmp_path):
    """A query that chose a checkpoint, then waited (for a worker) while a write made
    a newer one and the chosen one was deleted, is told so by ``hold`` and chooses
    again, instead of opening a directory that is gone."""
    graph = LifecycleGraph.open(tmp_path / "store")
    checkpoints = Checkpoints(graph.store)
    chosen = checkpoints.latest()
    graph.write(model(1), source="registry", observed_at=T0)
    newer = checkpoints.latest()  # made by another query: the unheld one is deleted
    assert not chosen.path.exists()
    assert checkpoints.hold("worker", chosen) is False
    assert checkpoints.hold("worker", newer) is True
    graph.write(model(2), source="registry", observed_at=T0)
    checkpoints.latest()
    assert newer.path.exists(), "the held one stays"
    checkpoints.close()
    graph.close()


def test_archive_copy_is_made_once_per_checkpoint_and_deleted_with_it(tmp_path):
    graph = LifecycleGraph.open(tmp_path / "store")
    graph.write(model(1), source="registry", observed_at=T0)
    checkpoints = Checkpoints(graph.store)
    first = checkpoints.latest()
    archive = checkpoints.archive_of(first)
    assert archive.is_dir() and checkpoints.archive_of(first) == archive  # made once
    # a rename moves M1's snapshot to the archive: the next copy holds it
    renamed = Facts.of(
        "aip://model/registry/m1",
        {"rdf:type": Ref("lg:Model"), "lg:name": "N", "lg:sourceId": "m1"},
    )
    graph.write(renamed, source="registry", observed_at=T0)
    second = checkpoints.latest()
    assert not first.path.exists() and not archive.exists(), "pruned together"
    copy = Store.read_only(str(checkpoints.archive_of(second)))
    assert {q.object.value for q in copy.quads_for_pattern(None, LG.name, None)} == {"M1"}
    del copy
    checkpoints.close()
    assert not checkpoints.directory.exists()
    graph.close()


def test_pool_as_of_answers_what_graph_as_of_answers(tmp_path):
    graph = LifecycleGraph.open(tmp_path / "store")
    for i, name in enumerate(["A", "B", "C"]):
        facts = Facts.of(
            "aip://model/registry/m",
            {"rdf:type": Ref("lg:Model"), "lg:name": name, "lg:sourceId": "m"},
        )
        graph.write(facts, source="registry", observed_at=T0 + timedelta(hours=i))
    with QueryPool(graph.store, workers=1, timeout=30) as pool:
        for hours in (-1, 0, 1.5, 2, 9):
            when = T0 + timedelta(hours=hours)
            found = names(pool.execute(NAMES, accept="text/csv", as_of=when))
            assert found == [row["n"].value for row in graph.as_of(when).sparql(NAMES)]
        assert names(pool.execute(NAMES, accept="text/csv", as_of=T0)) == ["A"]
        with pytest.raises(QueryRequestError, match="time zone"):
            pool.execute(NAMES, as_of=datetime(2026, 1, 1))
    assert names(execute(graph.store, NAMES, accept="text/csv", as_of=T0)) == ["A"]
    graph.close()


def test_checkpoints_of_dead_processes_are_cleared_but_nothing_else(tmp_path):
    root = tmp_path / "ck"
    dead = psutil.Popen(["true"])
    dead.wait()
    (root / f"{dead.pid}-left").mkdir(parents=True)
    (root / "notes.txt").write_text("mine")
    store = LifecycleGraph.in_memory().store
    checkpoints = Checkpoints(store, root)
    assert not (root / f"{dead.pid}-left").exists()
    other = Checkpoints(store, root)  # a second pool in this process, side by side
    made, also = checkpoints.latest(), other.latest()
    assert made.path.exists() and also.path.exists() and made.path != also.path
    checkpoints.close()
    assert also.path.exists(), "closing one pool leaves the other's checkpoints alone"
    other.close()
    assert sorted(p.name for p in root.iterdir()) == ["notes.txt"]


def test_two_pools_on_one_store_do_not_disturb_each_other(tmp_path):
    graph = LifecycleGraph.open(tmp_path / "store")
    graph.write(model(1), source="registry", observed_at=T0)
    with QueryPool(graph.store, workers=1, timeout=5) as first:
        assert names(first.execute(NAMES, accept="text/csv")) == ["M1"]
        assert names(execute(graph.store, NAMES, accept="text/csv", timeout=5)) == ["M1"]
        graph.write(model(2), source="registry", observed_at=T0)
        assert names(first.execute(NAMES, accept="text/csv")) == ["M1", "M2"]
    assert not (tmp_path / "store" / "sparql-checkpoints").exists()
    graph.close()


# -- point lookups answered in the server process (store/sparql/lookup.py) ----------------

HUB = "aip://model/registry/hub"


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?n WHERE { <aip://model/registry/m1> lg:name ?n }",
        "select ?p ?o { <urn:s> ?p ?o . }",
        "SELECT * WHERE { lg:x a ?t } LIMIT 5",
        'ASK { <urn:s> lg:name "M1" }',
        'ASK WHERE { <urn:s> lg:name "M1"@en-GB }',
        "PREFIX ex: <urn:ex:>\nSELECT $v WHERE {\n  ex:s ex:p $v\n}",
        'SELECT ?s WHERE { <urn:s> <urn:p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> }',
    ],
)
def test_point_lookup_is_one_pattern_with_a_constant_subject(query):
    assert is_point_lookup(query)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?n WHERE { ?m lg:name ?n }",  # a scan of every name
        "SELECT DISTINCT ?o WHERE { <urn:s> ?p ?o }",  # not streamed
        "SELECT ?o WHERE { <urn:s> ?p ?o } OFFSET 5",  # skipped rows are work
        "SELECT ?o WHERE { <urn:s> ?p ?o } ORDER BY ?o",
        "SELECT ?o WHERE { <urn:s> ?p ?o . <urn:t> ?p ?o }",  # two patterns
        "SELECT ?o WHERE { <urn:s> ?o ?o }",  # a variable twice: a filter over a scan
        "SELECT ?o WHERE { <urn:s> ?p ?o FILTER(?o) }",
        "SELECT ?o WHERE { { <urn:s> ?p ?o } }",  # nesting
        "SELECT ?o WHERE { <urn:s> ?p ?o } # a comment",
        'SELECT ?o WHERE { <urn:s> ?p "\\u0022" }',  # escapes
        "SELECT ?o FROM <urn:g> WHERE { <urn:s> ?p ?o }",
        "BASE <urn:b> SELECT ?o WHERE { <s> ?p ?o }",
        "SELECT (COUNT(*) AS ?n) WHERE { <urn:s> ?p ?o }",
        "CONSTRUCT WHERE { <urn:s> ?p ?o }",
        "SELECT ?o WHERE { SERVICE <urn:x> { <urn:s> ?p ?o } }",
        "SELECT ?o WHERE { <urn:s> ?p ?o }" + " " * MAX_LENGTH,  # too long
    ],
)
def test_anything_else_is_not_a_point_lookup(query):
    assert not is_point_lookup(query)


_TERMS = st.sampled_from(
    ["<urn:s>", "lg:name", "?o", "?p", '"M1"', "a", "{", "}", ".", "(", ")", "#", "*"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TERMS, max_size=8), st.sampled_from(["SELECT ?o WHERE", "ASK", "SELECT *"]))
def test_every_point_lookup_is_valid_flat_sparql(parts, head):
    query = f"{head} {' '.join(parts)}"
    if is_point_lookup(query):
        assert query.count("{") == 1 and "#" not in query
        Store().query(query, prefixes={"lg": "urn:lg:"})  # Oxigraph parses it


def _lookups(pool: QueryPool, queries: list[str], accept: str | None) -> list[bytes]:
    async def run() -> list[bytes]:
        return [(await pool.execute_async(q, accept=accept)).body for q in queries]

    return asyncio.run(run())


def _answered_here(pool: QueryPool, query: str, accept: str | None = None) -> bytes:
    """The query's answer once the pool has its checkpoint open here (a thread opens
    it after the first lookup that finds it missing)."""
    deadline = time.monotonic() + 10
    while True:
        before = pool.local
        (body,) = _lookups(pool, [query], accept)
        if pool.local == before + 1:
            return body
        assert time.monotonic() < deadline, "never answered in this process"
        time.sleep(0.02)


@pytest.mark.parametrize(
    "accept",
    ["application/sparql-results+json", "application/sparql-results+xml", "text/csv", None],
)
def test_point_lookup_is_answered_here_as_a_worker_answers_it(accept):
    graph = LifecycleGraph.in_memory()
    graph.write_many([(model(i), Observation("registry", T0, f"m{i}")) for i in range(5)])
    lookup = "SELECT ?p ?o WHERE { <aip://model/registry/m3> ?p ?o }"
    with QueryPool(graph.store, workers=1, timeout=10) as pool:
        by_worker = pool.execute(lookup, accept=accept)
        here = _answered_here(pool, lookup, accept)
        assert here == by_worker.body and b"M3" in here
        ask = 'ASK { <aip://model/registry/m3> lg:name "M3" }'
        asked = "application/sparql-results+xml" if accept == "text/csv" else accept
        assert _answered_here(pool, ask, asked) == pool.execute(ask, accept=asked).body
        local = pool.local
        scan = "SELECT ?n WHERE { ?m lg:name ?n }"
        assert _lookups(pool, [scan], "text/csv")[0].count(b"\n") == 6
        assert pool.local == local, "not a point lookup: a worker ran it"
        assert pool.stats()["local"] == local


def test_point_lookup_over_the_local_row_cap_is_answered_whole_by_a_worker():
    graph = LifecycleGraph.in_memory()
    links = [Ref(f"aip://model/registry/m{i}") for i in range(LOCAL_ROWS + 5)]
    graph.write(
        Facts.of(HUB, {"rdf:type": Ref("lg:Model"), "lg:name": "hub", "lg:upstream": links}),
        source="registry",
        observed_at=T0,
        validate=False,
    )
    lookup = f"SELECT ?u WHERE {{ <{HUB}> lg:upstream ?u }}"
    with QueryPool(graph.store, workers=1, timeout=10) as pool:
        _answered_here(pool, f"ASK {{ <{HUB}> lg:name ?n }}")  # the checkpoint is open here
        local = pool.local
        (body,) = _lookups(pool, [lookup], "text/csv")
        assert body.count(b"\n") == LOCAL_ROWS + 5 + 1 and pool.local == local
    with QueryPool(graph.store, workers=1, timeout=10, max_results=LOCAL_ROWS + 1) as pool:
        _answered_here(pool, f"ASK {{ <{HUB}> lg:name ?n }}")

        async def limited() -> None:
            with pytest.raises(ResultLimitError) as refused:
                await pool.execute_async(lookup)
            assert refused.value.limit == LOCAL_ROWS + 1  # the pool's limit, not the cap

        asyncio.run(limited())


def test_point_lookup_reads_the_checkpoint_a_worker_would_read(tmp_path):
    graph = LifecycleGraph.open(tmp_path / "store")
    graph.write(model(1), source="registry", observed_at=T0)
    lookup = "SELECT ?n WHERE { <aip://model/registry/m2> lg:name ?n }"
    with QueryPool(graph.store, workers=1, timeout=10, staleness=0) as pool:
        assert _answered_here(pool, lookup, "text/csv") == b"n\r\n"
        graph.write(model(2), source="registry", observed_at=T0)
        # staleness 0: the next query sees the write, whoever answers it
        assert _lookups(pool, [lookup], "text/csv") == [b"n\r\nM2\r\n"]
        assert _answered_here(pool, lookup, "text/csv") == b"n\r\nM2\r\n"
        kept = pool.checkpoints.paths()
        assert len(kept) == 1, "the older checkpoint is let go once the newer is open here"
    assert not (tmp_path / "store" / "sparql-checkpoints").exists()
    graph.close()


def test_point_lookup_errors_are_the_workers():
    graph = LifecycleGraph.in_memory()
    graph.write(model(1), source="registry", observed_at=T0)
    with QueryPool(graph.store, workers=1, timeout=10) as pool:
        _answered_here(pool, "ASK { <aip://model/registry/m1> ?p ?o }")
        local = pool.local

        async def failing() -> None:
            with pytest.raises(QuerySyntaxError) as error:
                await pool.execute_async("SELECT ?n WHERE { <urn:s> nope:name ?n }")
            assert "Prefix not found" in str(error.value)
            assert (error.value.lineno, error.value.offset) == (1, 36)

        asyncio.run(failing())
        assert pool.local == local
