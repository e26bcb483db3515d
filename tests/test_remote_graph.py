"""What only the remote graph has: tokens, a service that is down or is something
else, connect(), the read-your-writes token, and the routes' refusals.

Everything the embedded graph does too is in ``test_graph_contract.py``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from pyoxigraph import Literal

from lifecyclegraph import Facts, LifecycleGraph, Ref, RemoteGraph, connect
from lifecyclegraph.core.errors import (
    AccessDeniedError,
    QueryRefusedError,
    RemoteGraphError,
    SearchError,
)
from lifecyclegraph.core.vocab import LG, SNAPSHOT_PREFIX
from lifecyclegraph.example import example_writes, load_example
from lifecyclegraph.graph.wire import dump_facts, dump_term
from lifecyclegraph.read.views import entity_jsonld, entity_view, explanation_view, history_view
from lifecyclegraph.server.serving import ServerThread

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def uri(local: str) -> str:
    return f"aip://model/registry/remote-{uuid.uuid4().hex[:8]}-{local}"


def model(at_uri: str, label: str) -> Facts:
    source_id = at_uri.rsplit("/", 1)[-1]
    return Facts.of(
        at_uri, {"rdf:type": Ref("lg:Model"), "lg:name": label, "lg:sourceId": source_id}
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_remote_write_without_a_write_token_is_refused(served):
    m = uri("m")
    with RemoteGraph(served.url) as anonymous:
        assert anonymous.state(m) is None  # reads need no token on this server
        with pytest.raises(AccessDeniedError, match="send a write token") as caught:
            anonymous.write(model(m, "M"), source="registry", observed_at=T0)
        assert isinstance(caught.value, PermissionError)
    with (
        RemoteGraph(served.url, token="wrong") as wrong,
        pytest.raises(AccessDeniedError, match="not allowed to write"),
    ):
        wrong.delete(m, source="registry", observed_at=T0)
    with RemoteGraph(served.url, token=served.token) as allowed:
        assert allowed.state(m) is None, "a refused write wrote nothing"


def test_remote_graph_names_a_server_that_does_not_speak_the_protocol():
    other = FastAPI()

    @other.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    with (
        ServerThread(other) as server,
        RemoteGraph(server.url) as graph,
        pytest.raises(RemoteGraphError) as caught,
    ):
        graph.entity(uri("m"))
    message = str(caught.value)
    assert f"the server at {server.url} does not speak the lifecyclegraph graph protocol" in message
    assert "GET /api/v1/graph answered 404" in message
    assert caught.value.url == server.url
    assert isinstance(caught.value, ConnectionError)


def test_remote_graph_raises_remote_graph_error_when_the_server_is_down():
    url = f"http://127.0.0.1:{free_port()}"
    with RemoteGraph(url, token="t", timeout=5) as graph:
        with pytest.raises(
            RemoteGraphError, match=f"cannot reach the lifecyclegraph service at {url}"
        ):
            graph.state(uri("m"))
        with pytest.raises(RemoteGraphError):
            graph.sparql("ASK {}")


def test_remote_graph_errors_never_show_the_token():
    url = f"http://127.0.0.1:{free_port()}"
    with (
        RemoteGraph(url, token="s3cret-t0ken") as graph,
        pytest.raises(RemoteGraphError) as caught,
    ):
        graph.history(uri("m"))
    assert "s3cret" not in str(caught.value)


def test_connect_picks_remote_for_a_url_and_embedded_for_a_path(served, tmp_path):
    with connect(served.url, token=served.token) as remote:
        assert isinstance(remote, RemoteGraph)
        m = uri("m")
        remote.write(model(m, "M"), source="registry", observed_at=T0)
        assert remote.entity(m).name == "M"
    with connect(tmp_path / "store") as embedded:
        assert isinstance(embedded, LifecycleGraph)
        assert embedded.path == tmp_path / "store"
    with pytest.raises(ValueError, match="token is for a service URL"):
        connect(tmp_path / "store", token="t")


def test_sparql_reads_its_own_writes_only_with_the_generation_token(served):
    """The served checkpoints lag 30 s: a query without the token sees the old name."""
    m = uri("m")
    query = f"SELECT ?n WHERE {{ <{m}> lg:name ?n }}"
    headers = {"Accept": "application/sparql-results+json"}
    with RemoteGraph(served.url, token=served.token) as graph:
        graph.write(model(m, "v1"), source="registry", observed_at=T0)
        assert [r["n"].value for r in graph.sparql(query)] == ["v1"]
        graph.write(model(m, "v2"), source="registry", observed_at=T0.replace(hour=1))
        token = graph.generation
        assert token is not None and token.count(":") == 1
        plain = httpx.post(f"{served.url}/sparql", data={"query": query}, headers=headers)
        assert [b["n"]["value"] for b in plain.json()["results"]["bindings"]] == ["v1"]
        fresh = httpx.post(
            f"{served.url}/sparql",
            data={"query": query},
            headers={**headers, "Lifecyclegraph-Min-Generation": token},
        )
        assert [b["n"]["value"] for b in fresh.json()["results"]["bindings"]] == ["v2"]
        assert [r["n"].value for r in graph.sparql(query)] == ["v2"]


def test_remote_sparql_refuses_service_as_the_endpoint_does(served):
    """The embedded graph runs SERVICE (its caller is its owner); a service refuses it."""
    with RemoteGraph(served.url) as graph, pytest.raises(QueryRefusedError) as caught:
        graph.sparql("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
    assert caught.value.feature == "SERVICE"


@pytest.mark.parametrize("token", ["", "12", "abc:", "abc:x", "abc:-1", "abc:" + "9" * 40])
def test_a_malformed_min_generation_header_is_a_400_problem(served, token):
    response = httpx.post(
        f"{served.url}/sparql",
        data={"query": "ASK {}"},
        headers={"Lifecyclegraph-Min-Generation": token},
    )
    assert response.status_code == 400, response.text
    assert "Lifecyclegraph-Min-Generation must be <epoch>:<n>" in response.json()["detail"]


def test_a_min_generation_of_another_epoch_is_ignored(served):
    response = httpx.post(
        f"{served.url}/sparql",
        data={"query": "ASK {}"},
        headers={
            "Lifecyclegraph-Min-Generation": "0ther:99",
            "Accept": "application/sparql-results+json",
        },
    )
    assert response.status_code == 200 and response.json()["boolean"] is True


def test_write_routes_say_which_item_is_wrong(served):
    auth = {"Authorization": f"Bearer {served.token}"}
    good = {
        "facts": {"uri": uri("m"), "pairs": []},
        "observation": {"source": "registry", "observed_at": "2026-01-01T00:00:00Z"},
    }
    naive = {**good, "observation": {"source": "r", "observed_at": "2026-01-01T00:00:00"}}
    bad_term = {**good, "facts": {"uri": uri("x"), "pairs": [[{"type": "uri"}, {}]]}}
    not_iri = {**good, "facts": {"uri": "not an iri", "pairs": []}}
    for item, says in [
        (naive, "items[1].observation.observed_at: '2026-01-01T00:00:00' has no time zone"),
        (bad_term, "items[1].facts.pairs[0][0]: missing 'value'"),
        (not_iri, "items[1]: the entity URI 'not an iri' is not an IRI"),
    ]:
        response = httpx.post(
            f"{served.url}/api/v1/graph/write", json={"items": [good, item]}, headers=auth
        )
        assert response.status_code == 400, response.text
        problem = response.json()
        assert problem["index"] == 1
        assert says in problem["detail"]
    assert httpx.get(
        f"{served.url}/api/v1/graph/state", params={"uri": good["facts"]["uri"]}
    ).json() == {"state": None}, "nothing of a refused request is written"


def test_write_routes_refuse_a_bad_enriched_at_and_write_nothing(served):
    auth = {"Authorization": f"Bearer {served.token}"}
    seen = {"source": "registry", "observed_at": "2026-01-01T00:00:00Z"}
    m = uri("enriched")
    items = {
        "write": {"facts": {"uri": m, "pairs": []}, "observation": seen},
        "reference": {"uri": m, "class": LG.Model.value, "observation": seen},
        "delete": {"uri": m, "observation": seen},
    }
    for route, item in items.items():
        for stamp, says in [
            ("2026-01-01T00:00:00", "enriched_at: '2026-01-01T00:00:00' has no time zone"),
            ("yesterday", "enriched_at"),
            (12, "enriched_at"),
        ]:
            response = httpx.post(
                f"{served.url}/api/v1/graph/{route}",
                json={"items": [item], "enriched_at": stamp, "validate": False},
                headers=auth,
            )
            assert response.status_code == 400, (route, stamp, response.text)
            assert says in response.json()["detail"], (route, response.json()["detail"])
    state = httpx.get(f"{served.url}/api/v1/graph/state", params={"uri": m})
    assert state.json() == {"state": None}, "nothing of a refused request is written"


def test_write_route_checks_unless_told_not_to_and_answers_422_with_the_findings(served):
    auth = {"Authorization": f"Bearer {served.token}"}
    misspelt = uri("typo")
    bare = {
        "facts": {"uri": uri("bare"), "pairs": []},
        "observation": {"source": "registry", "observed_at": "2026-01-01T00:00:00Z"},
    }
    typo = {
        "facts": {"uri": misspelt, "pairs": dump_facts(model(misspelt, "T"))["pairs"]},
        "observation": bare["observation"],
    }
    typo["facts"]["pairs"].append([dump_term(LG.nmae), dump_term(Literal("T"))])
    write = f"{served.url}/api/v1/graph/write"
    response = httpx.post(write, json={"items": [typo]}, headers=auth)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["problems"] == [f"{misspelt}: unknown property lg:nmae (did you mean lg:name?)"]
    response = httpx.post(write, json={"items": [bare], "validate": "no"}, headers=auth)
    assert response.status_code == 400 and "validate" in response.json()["detail"]
    for item in (typo, bare):
        state = httpx.get(f"{served.url}/api/v1/graph/state", params={"uri": item["facts"]["uri"]})
        assert state.json() == {"state": None}, "nothing of a refused request is written"
    response = httpx.post(write, json={"items": [typo, bare], "validate": False}, headers=auth)
    assert response.status_code == 200
    assert [r["outcome"] for r in response.json()["results"]] == ["created", "created"]


def test_graph_routes_refuse_bad_terms_and_times(served):
    get = httpx.get
    for path, params, says in [
        ("/api/v1/graph/quads", {"s": "not-a-term"}, "s: 'not-a-term' is not an N-Triples term"),
        ("/api/v1/graph/quads", {"p": '"literal"'}, "p must be an IRI"),
        ("/api/v1/graph/quads", {"as_of": "2026-01-01T00:00:00", "s": "<urn:x>"}, "time zone"),
        ("/api/v1/graph/quads", {"as_of": "2026-01-01T00:00:00Z", "inferred": "true"}, "asserted"),
        ("/api/v1/graph/entity", {"uri": "not an iri"}, "uri 'not an iri' is not an IRI"),
        ("/api/v1/graph/entities", {"state": "gone"}, "state"),
        ("/api/v1/graph/lineage", {"uri": "urn:x", "depth": 0}, "depth"),
    ]:
        response = get(served.url + path, params=params)
        assert response.status_code == 400, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert says in response.json()["detail"], (path, response.json()["detail"])


def test_search_is_a_search_error_when_the_server_runs_without_it(served_unindexed):
    with RemoteGraph(served_unindexed.url) as graph:
        assert graph.about["search"] is False
        with pytest.raises(SearchError, match=r"search is off on this server"):
            graph.search("x")


# -- what REST and the CLI show, from either graph -------------------------------------------


def canonical(value, graph):
    """``value`` with every snapshot IRI (random) replaced by its entity and time."""
    if isinstance(value, dict):
        return {k: canonical(v, graph) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical(v, graph) for v in value]
    if isinstance(value, str) and value.startswith(SNAPSHOT_PREFIX):
        info = graph.snapshot(value)
        return f"snapshot of {info.entity} at {info.observed_at.isoformat()}"
    return value


def test_views_of_the_example_world_are_the_same_from_either_graph(served):
    """entity, JSON-LD, history, lineage, impact and explanations: what the REST routes
    and the CLI print, built from the remote graph, equal those of the embedded one."""
    with (
        LifecycleGraph.in_memory(rules=True) as embedded,
        RemoteGraph(served.url, token=served.token) as remote,
    ):
        load_example(embedded)
        load_example(remote)  # again on a later run of the session: unchanged writes
        uris = sorted({f.uri for f, _ in example_writes() for f in f.flatten()})
        assert len(uris) > 10
        for uri in uris:
            for view in (entity_view, entity_jsonld, history_view):
                there, here = view(remote, uri), view(embedded, uri)
                assert canonical(there, remote) == canonical(here, embedded), (view, uri)
            for direction in ("upstream", "downstream"):
                assert remote.lineage(uri, direction=direction, depth=5) == embedded.lineage(
                    uri, direction=direction, depth=5
                )
            assert remote.impact(uri) == embedded.impact(uri)
            then = T0.replace(year=2020)
            assert remote.as_of(then).entities() == embedded.as_of(then).entities() == []
        fact = ("aip://model/registry/ranking-model-v5-20XX0101", "lg:associatedAbTest")
        tests = [e.statement for e in embedded.explain_all(*fact)]
        assert tests and [e.statement for e in remote.explain_all(*fact)] == tests
        s, p, o = fact[0], fact[1], "aip://ab-test/experimentation/12345"
        there, here = explanation_view(remote, s, p, o), explanation_view(embedded, s, p, o)
        assert there is not None
        assert canonical(there, remote) == canonical(here, embedded)


@pytest.mark.slow
def test_a_script_uses_a_running_serve_then_the_store_it_leaves(tmp_path):
    """``lifecyclegraph serve`` in a child process holds the store: connect() to its URL
    writes and reads; once it stops, connect() to the directory sees the same graph."""
    store, port = tmp_path / "store", free_port()
    config = tmp_path / "lifecyclegraph.toml"
    config.write_text(f'[store]\npath = "{store}"\n\n[server]\nwrite_tokens = ["w-t0ken"]\n')
    command = [sys.executable, "-m", "lifecyclegraph", "--config", str(config), "serve"]
    child = subprocess.Popen(
        [*command, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url, m = f"http://127.0.0.1:{port}", uri("m")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/healthz", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                assert child.poll() is None, "the service exited at start"
                assert time.monotonic() < deadline, "the service did not start"
                time.sleep(0.1)
        with connect(url, token="w-t0ken") as graph:
            assert graph.has_rules
            graph.write(model(m, "Beside the service"), source="registry", observed_at=T0)
            assert graph.entity(m).name == "Beside the service"
            rows = graph.sparql(f"SELECT ?n WHERE {{ <{m}> lg:name ?n }}")
            assert [r["n"].value for r in rows] == ["Beside the service"]
            deadline = time.monotonic() + 10
            while not graph.search("beside").uris and time.monotonic() < deadline:
                time.sleep(0.1)
            assert graph.search("beside").uris == [m]
    finally:
        child.terminate()
        child.wait(60)
    with connect(store) as graph:
        assert graph.entity(m).name == "Beside the service"
        assert [h.source for h in graph.history(m)] == ["registry"]
