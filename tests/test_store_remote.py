"""The remote store beyond the store contract (``test_store.py`` runs that on both):
configuration, failures of the remote server, and the service on a remote store."""

from __future__ import annotations

import asyncio
import gc
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from remote_stores import OxigraphServer, VirtuosoServer

from lifecyclegraph import Facts, LifecycleGraph, Outcome, Ref
from lifecyclegraph.core.config import Config
from lifecyclegraph.core.errors import ConfigError, StoreUnavailableError
from lifecyclegraph.sandbox.server import run_in_thread
from lifecyclegraph.sandbox.world import SYSTEMS
from lifecyclegraph.server.service import Service
from lifecyclegraph.store.remote import RemoteEndpoint, RemoteStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MODEL = "aip://model/registry/remote-model"


def model(name: str) -> Facts:
    return Facts.of(
        MODEL, {"rdf:type": Ref("lg:Model"), "lg:name": name, "lg:sourceId": "remote-model"}
    )


@pytest.fixture
def own_server(tmp_path):
    """An ``oxigraph serve`` of this test alone, which the test may stop and start."""
    server = OxigraphServer(tmp_path / "oxigraph")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_store_url_in_the_configuration_opens_the_graph_on_the_remote_store(own_server, tmp_path):
    config = Config.from_dict({"store": {"path": str(tmp_path / "s"), "url": own_server.url}})
    with LifecycleGraph.open(config.store.path, store=config.store) as graph:
        assert isinstance(graph.store, RemoteStore)
        graph.write(model("M"), source="registry", observed_at=T0)
    # the facts are on the server, in the documented layout, not in the directory
    answer = httpx.post(
        own_server.url + "/query",
        data={"query": f'ASK {{ GRAPH ?g {{ <{MODEL}> ?p "M" }} }}'},
        headers={"Accept": "application/sparql-results+json"},
    ).json()
    assert answer["boolean"] is True
    assert not (tmp_path / "s" / "current").exists()


def test_store_url_that_is_not_http_is_refused_with_the_key_named():
    with pytest.raises(ConfigError, match=r"store\.url.*not an http"):
        Config.from_dict({"store": {"url": "localhost:7878"}})


def test_remote_store_down_fails_clearly_naming_url_and_operation_and_loses_nothing(
    own_server, tmp_path
):
    config = Config.from_dict({"store": {"path": str(tmp_path / "s"), "url": own_server.url}})
    with LifecycleGraph.open(config.store.path, store=config.store) as graph:
        graph.write(model("v1"), source="registry", observed_at=T0)
        own_server.stop()
        with pytest.raises(StoreUnavailableError, match=rf"{own_server.url}/\w+ could not "):
            graph.write(model("v2"), source="registry", observed_at=T0.replace(hour=1))
        own_server.start()
        assert graph.entity(MODEL).name == "v1"  # the failed write left nothing behind
        again = graph.write(model("v2"), source="registry", observed_at=T0.replace(hour=1))
        assert again.outcome is Outcome.UPDATED
        assert [h.observed_at.hour for h in graph.history(MODEL)] == [0, 1]


def test_opening_an_unreachable_remote_store_fails_naming_its_url(tmp_path):
    port_nobody_uses = OxigraphServer(tmp_path).port
    url = f"http://127.0.0.1:{port_nobody_uses}"
    config = Config.from_dict({"store": {"path": str(tmp_path / "s"), "url": url}})
    with pytest.raises(StoreUnavailableError, match=rf"{url}/query could not"):
        LifecycleGraph.open(config.store.path, store=config.store)


def test_events_accepted_while_the_remote_store_is_down_are_written_once_it_is_back(
    own_server, tmp_path
):
    with run_in_thread(seed=7) as sandbox:
        config = Config.from_dict(
            {
                "store": {"path": str(tmp_path / "s"), "url": own_server.url},
                "search": {"enabled": False},
                "ingest": {"max_attempts": 2},
                "sources": {
                    system: {"url": sandbox.base_url(system), "rate_limit": 500}
                    for system in SYSTEMS
                },
            }
        )
        service = Service(config)
        events = sandbox.world.seed_events()[:40]
        own_server.stop()
        assert service.submit_events(events).accepted == len(events)

        async def outage_then_back() -> dict:
            for _ in range(3):  # more passes than max_attempts: nothing may be given up
                with pytest.raises(StoreUnavailableError, match=own_server.url):
                    await service.ingestor.drain()
            during = service.journal.stats()
            own_server.start()
            await service.ingestor.drain()
            await service.sources.aclose()
            return during

        during = asyncio.run(outage_then_back())
        assert during["queue_depth"] > 0
        assert during["dead_letters"] == 0
        stats = service.journal.stats()
        assert (stats["queue_depth"], stats["dead_letters"]) == (0, 0)
        written = set(service.graph.entities())
        service.journal.close()
        service.queries.close()
        service.graph.close()
    # the same events, embedded, give the same entities
    with run_in_thread(seed=7) as sandbox:
        config = Config.from_dict(
            {
                "store": {"path": str(tmp_path / "embedded")},
                "search": {"enabled": False},
                "sources": {
                    system: {"url": sandbox.base_url(system), "rate_limit": 500}
                    for system in SYSTEMS
                },
            }
        )
        embedded = Service(config)
        embedded.submit_events(events)

        async def run():
            await embedded.ingestor.drain()
            await embedded.sources.aclose()

        asyncio.run(run())
        assert set(embedded.graph.entities()) == written
        embedded.journal.close()
        embedded.queries.close()
        embedded.graph.close()


# -- the demo world on a remote store answers as the embedded one -----------------------

INSTANCE = "aip://model/registry/ranking-model-v5-20XX0101"
DESIGN_QUERY = Path(__file__).resolve().parents[2] / "shared" / "contracts" / "design-query.graphql"


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def remote_api(request, tmp_path_factory):
    """The demo world ingested through a service whose graph is on ``oxigraph serve``,
    or on Virtuoso."""
    from lifecyclegraph.demo import start_demo

    if request.param == "virtuoso":
        if shutil.which("virtuoso-t") is None:
            pytest.skip("virtuoso-t is not installed (apt-get install virtuoso-opensource)")
        server = VirtuosoServer(tmp_path_factory.mktemp("demo-virtuoso"))
        table = {"url": server.url, "query_path": "/sparql", "update_path": "/sparql"}
    else:
        server = OxigraphServer(tmp_path_factory.mktemp("demo-oxigraph") / "data")
        table = {"url": server.url}
    server.start()
    try:
        demo = start_demo(tmp_path_factory.mktemp("remote-demo") / "store", store=table)
        try:
            demo.wait_until_ingested(timeout=300)
            assert isinstance(demo.service.graph.store, RemoteStore)
            with httpx.Client(base_url=demo.api.url, timeout=60) as client:
                yield client
        finally:
            demo.stop()
    finally:
        server.stop()


#: What differs between two ingestions of the same world: snapshot IRIs (random), the
#: times the facts were read, the events' ids.
_RUN_SPECIFIC = {"snapshot", "observedAt", "event", "supersedes"}


def _same_world(value):
    """An answer without what differs between two ingestions of the same world."""
    if isinstance(value, dict):
        return {k: _same_world(v) for k, v in value.items() if k not in _RUN_SPECIFIC}
    if isinstance(value, list):
        return [_same_world(v) for v in value]
    return value


def _answer(client, method, path, **kwargs):
    response = client.request(method, path, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def test_demo_world_on_a_remote_store_answers_the_design_query_as_embedded(api, remote_api):
    if not DESIGN_QUERY.exists():
        pytest.skip(f"the design's query is not at {DESIGN_QUERY} (shared/contracts missing)")
    body = {"query": DESIGN_QUERY.read_text()}
    embedded = _answer(api, "POST", "/graphql", json=body)
    assert "errors" not in embedded and embedded["data"]["model"]["name"] == "Ranking model"
    assert _answer(remote_api, "POST", "/graphql", json=body) == embedded


def test_demo_world_on_a_remote_store_answers_lineage_and_explain_as_embedded(api, remote_api):
    params = {"uri": INSTANCE, "depth": 10}
    embedded = _answer(api, "GET", "/api/v1/lineage", params=params)
    assert embedded["reach"] > 3
    assert _answer(remote_api, "GET", "/api/v1/lineage", params=params) == embedded
    why = {"s": INSTANCE, "p": "lg:associatedAbTest", "o": "aip://ab-test/experimentation/12345"}
    explained = _same_world(_answer(api, "GET", "/api/v1/explain", params=why))
    assert "lg:producedByRun" in str(explained)
    assert "'source': 'registry'" in str(explained)
    remote = _same_world(_answer(remote_api, "GET", "/api/v1/explain", params=why))
    assert remote == explained


def test_demo_world_on_a_remote_store_answers_sparql_as_embedded(api, remote_api):
    query = "SELECT ?m ?n WHERE { ?m a lg:Model ; lg:name ?n } ORDER BY ?m"
    headers = {"Accept": "application/sparql-results+json"}
    embedded = _answer(api, "GET", "/sparql", params={"query": query}, headers=headers)
    assert embedded["results"]["bindings"]
    remote = _answer(remote_api, "GET", "/sparql", params={"query": query}, headers=headers)
    assert remote == embedded


def test_demo_world_on_a_remote_store_answers_sparql_as_of_as_embedded(api, remote_api):
    """``/sparql?as_of=`` reads the graph of that time from the remote store (a copy,
    as embedded): now, the whole world; before it was ingested, nothing."""
    query = "SELECT ?m ?n WHERE { ?m a lg:Model ; lg:name ?n } ORDER BY ?m"
    headers = {"Accept": "application/sparql-results+json"}
    now = datetime.now(UTC).isoformat()
    embedded = _answer(api, "GET", "/sparql", params={"query": query}, headers=headers)
    for client in (api, remote_api):
        params = {"query": query, "as_of": now}
        assert _answer(client, "GET", "/sparql", params=params, headers=headers) == embedded
        params = {"query": query, "as_of": "2000-01-01T00:00:00Z"}
        past = _answer(client, "GET", "/sparql", params=params, headers=headers)
        assert past["results"]["bindings"] == []


def test_bench_store_with_a_store_url_measures_embedded_and_remote_in_one_run(oxigraph_server):
    from click.testing import CliRunner

    from lifecyclegraph.cli import main

    oxigraph_server.clear()
    args = ["bench", "store", "--store-url", oxigraph_server.url, "--entities", "30"]
    result = CliRunner().invoke(main, [*args, "--batch", "10", "--reads", "5", "--json"])
    assert result.exit_code == 0, result.output
    runs = json.loads(result.output)
    assert [(r["name"], r["entities"], r["reads"]) for r in runs] == [
        ("embedded", 30, 5),
        ("remote", 30, 5),
        ("feed", 30, 5),
    ]
    assert all(r["write_seconds"] > 0 and r["entities_per_second"] > 0 for r in runs)
    # the feed run's 3 write requests carried a change record each; the remote run's none
    count = (
        "SELECT (COUNT(*) AS ?n) { GRAPH <https://w3id.org/lifecyclegraph/graph/changes> "
        "{ ?c <https://w3id.org/lifecyclegraph/ontology#writer> ?w } }"
    )
    answer = httpx.post(
        oxigraph_server.url + "/query",
        data={"query": count},
        headers={"Accept": "application/sparql-results+json"},
    ).json()
    assert answer["results"]["bindings"][0]["n"]["value"] == "3"


def test_a_query_reads_only_this_datasets_graphs_of_the_remote_store(own_server, tmp_path):
    """As embedded: FROM, FROM NAMED and the protocol's graphs reach the current
    snapshots and the derived facts only; a superseded snapshot and a graph of another
    application on the same server read as empty."""
    other = "http://other.example/app"
    httpx.post(
        own_server.url + "/update",
        data={"update": f'INSERT DATA {{ GRAPH <{other}> {{ <urn:s> <urn:p> "secret" }} }}'},
    ).raise_for_status()
    with LifecycleGraph(RemoteStore.connect(RemoteEndpoint(own_server.url))) as graph:
        old = graph.write(model("v1"), source="registry", observed_at=T0).snapshot
        new = graph.write(model("v2"), source="registry", observed_at=T0.replace(hour=1)).snapshot

        def names(query: str, **dataset) -> list[str]:
            return sorted(str(r[0].value) for r in graph.sparql(query, **dataset))

        assert names(f"SELECT ?o FROM <{new}> WHERE {{ ?s lg:name ?o }}") == ["v2"]
        assert names(f"SELECT ?o FROM <{old}> WHERE {{ ?s lg:name ?o }}") == []
        assert names(f"SELECT ?o FROM <{other}> WHERE {{ ?s ?p ?o }}") == []
        assert names(f"SELECT ?o FROM NAMED <{other}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}") == []
        assert names("SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o } FILTER(?o = 'secret') }") == []
    # pyoxigraph's query results may only be freed by the thread that made them: collect
    # here what this test left in reference cycles, not in another test's server thread
    gc.collect()
