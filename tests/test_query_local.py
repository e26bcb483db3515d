"""Point lookups answered in the server process (lifecyclegraph.store.sparql.lookup and
QueryPool.execute_async): only the flat shape, the same answer as a worker's, from the
same checkpoint, and a worker for anything bigger."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyoxigraph import Store

from lifecyclegraph import Facts, LifecycleGraph, Ref
from lifecyclegraph.core.errors import QuerySyntaxError, ResultLimitError
from lifecyclegraph.store import Observation
from lifecyclegraph.store.sparql import QueryPool
from lifecyclegraph.store.sparql.lookup import MAX_LENGTH, is_point_lookup
from lifecyclegraph.store.sparql.pool import LOCAL_ROWS

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HUB = "aip://model/registry/hub"


def model(i: int) -> Facts:
    return Facts.of(
        f"aip://model/registry/m{i}",
        {"rdf:type": Ref("lg:Model"), "lg:name": f"M{i}", "lg:sourceId": f"m{i}"},
    )


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
