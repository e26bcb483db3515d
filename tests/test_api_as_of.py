"""As-of over HTTP (issue 13.4): ``/sparql?as_of=`` and the REST reads answer what
``graph.as_of(t)`` answers, at any time between (and around) the snapshots, over real
HTTP on an on-disk store whose superseded snapshots sit in the archive dataset.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import QueryResultsFormat, parse_query_results

from lifecyclegraph import Facts, LifecycleGraph, Ref
from lifecyclegraph.core.config import Config
from lifecyclegraph.ingest import Journal
from lifecyclegraph.server.app import create_app
from lifecyclegraph.server.service import Service
from lifecyclegraph.server.serving import ServerThread

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MODELS = [f"aip://model/registry/m{i}" for i in range(3)]
NAMES = "SELECT ?m ?n WHERE { ?m a lg:Model ; lg:name ?n } ORDER BY ?m ?n"
#: Each step: (hours after T0, model index, its new name or None for a deletion).
STEPS = [
    (0, 0, "first"),
    (1, 1, "one"),
    (2, 0, "second"),
    (3, 2, "two"),
    (4, 1, None),
    (5, 0, "third"),
    (6, 2, "two again"),
    (7, 1, "one back"),
]


def _build(graph: LifecycleGraph) -> None:
    for hours, index, name in STEPS:
        when = T0 + timedelta(hours=hours)
        if name is None:
            graph.delete(MODELS[index], source="registry", observed_at=when)
        else:
            facts = Facts.of(
                MODELS[index],
                {"rdf:type": Ref("lg:Model"), "lg:name": name, "lg:sourceId": MODELS[index]},
            )
            graph.write(facts, source="registry", observed_at=when)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    graph = LifecycleGraph.open(tmp_path_factory.mktemp("as-of") / "store")
    _build(graph)
    assert len(graph.store.archive) > 0  # superseded snapshots left the current dataset
    config = Config.from_dict({"server": {"query_staleness": 0, "query_workers": 1}})
    service = Service(config, graph, journal=Journal(":memory:"))
    with (
        ServerThread(create_app(service)) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        assert service.queries.wait_ready()
        yield graph, client


def _rows(body: bytes) -> list[tuple[str, ...]]:
    solutions = parse_query_results(body, format=QueryResultsFormat.JSON)
    return [tuple(str(term) for term in row) for row in solutions]


def _expected(graph: LifecycleGraph, when: datetime) -> list[tuple[str, ...]]:
    return [tuple(str(term) for term in row) for row in graph.as_of(when).sparql(NAMES)]


times = st.integers(min_value=-60, max_value=9 * 60).map(lambda m: T0 + timedelta(minutes=m))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(when=times, how=st.sampled_from(["get", "form", "direct"]))
def test_sparql_as_of_answers_what_graph_as_of_answers(served, when, how):
    graph, client = served
    stamp = when.isoformat().replace("+00:00", "Z")
    accept = {"accept": "application/sparql-results+json"}
    if how == "get":
        response = client.get("/sparql", params={"query": NAMES, "as_of": stamp}, headers=accept)
    elif how == "form":
        response = client.post("/sparql", data={"query": NAMES, "as_of": stamp}, headers=accept)
    else:
        response = client.post(
            "/sparql",
            params={"as_of": stamp},
            content=NAMES,
            headers={**accept, "content-type": "application/sparql-query"},
        )
    assert response.status_code == 200, response.text
    assert _rows(response.content) == _expected(graph, when)


def test_sparql_as_of_sees_a_superseded_name_the_current_state_has_not(served):
    _, client = served
    then = T0 + timedelta(hours=2, minutes=30)  # m0 "second", m1 "one", no m2 yet
    response = client.get("/sparql", params={"query": NAMES, "as_of": then.isoformat()})
    names = [row[1] for row in _rows(response.content)]
    assert names == ['"second"', '"one"']
    now = client.get("/sparql", params={"query": NAMES}).content
    assert [row[1] for row in _rows(now)] == ['"third"', '"one back"', '"two again"']


def test_sparql_as_of_after_a_new_write_sees_it(served):
    """The archive copy follows the checkpoint: a write made after an as-of query is
    seen by the next one."""
    graph, client = served
    later = T0 + timedelta(hours=8)
    m = "aip://model/registry/m-late"
    before = client.get("/sparql", params={"query": NAMES, "as_of": later.isoformat()})
    graph.write(
        Facts.of(m, {"rdf:type": Ref("lg:Model"), "lg:name": "late", "lg:sourceId": "m-late"}),
        source="registry",
        observed_at=later,
    )
    after = client.get("/sparql", params={"query": NAMES, "as_of": later.isoformat()})
    assert m not in before.text and m in after.text
    assert _rows(after.content) == _expected(graph, later)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("2026-01-02T00:00:00", "has no time zone"),
        ("yesterday", "is not a time"),
        ("2026-13-01T00:00:00Z", "is not a time"),
    ],
)
def test_sparql_bad_as_of_is_a_400_naming_the_parameter(served, value, says):
    _, client = served
    for response in (
        client.get("/sparql", params={"query": NAMES, "as_of": value}),
        client.post("/sparql", data={"query": NAMES, "as_of": value}),
    ):
        assert response.status_code == 400, response.text
        body = response.json()
        assert body["parameter"] == "as_of"
        assert f"as_of {value!r} {says}" in body["detail"]


def test_sparql_as_of_in_the_future_is_the_current_state(served):
    _, client = served
    future = datetime.now(UTC) + timedelta(days=365)
    response = client.get("/sparql", params={"query": NAMES, "as_of": future.isoformat()})
    assert response.status_code == 200
    assert _rows(response.content) == _rows(client.get("/sparql", params={"query": NAMES}).content)


GRAPHQL = """query ($t: String) {
  models(asOf: $t) { id name }
  entity(id: "aip://model/registry/m1", asOf: $t) { id ... on Model { name } }
}"""


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(when=times)
def test_graphql_as_of_answers_what_graph_as_of_answers(served, when):
    graph, client = served
    past = graph.as_of(when)
    response = client.post(
        "/graphql", json={"query": GRAPHQL, "variables": {"t": when.isoformat()}}
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    live = {uri: past.entity(uri) for uri in past.entities()}  # every entity is a model
    expected = [{"id": uri, "name": e.name} for uri, e in sorted(live.items()) if e is not None]
    assert data["models"] == expected
    m1 = past.entity(MODELS[1])
    assert data["entity"] == (None if m1 is None else {"id": MODELS[1], "name": m1.name})


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(when=times, index=st.integers(0, len(MODELS) - 1))
def test_rest_entity_as_of_answers_what_graph_as_of_answers(served, when, index):
    graph, client = served
    uri = MODELS[index]
    past = graph.as_of(when)
    response = client.get("/api/v1/entity", params={"uri": uri, "as_of": when.isoformat()})
    entity, snapshot = past.entity(uri), past.snapshot_of(uri)
    if snapshot is None:
        assert response.status_code == 404
    elif entity is None:
        assert response.status_code == 410
    else:
        assert response.status_code == 200, response.text
        assert response.json()["properties"]["lg:name"] == [entity.name]


def test_graphql_bad_as_of_is_an_error_naming_the_argument(served):
    _, client = served
    for value, says in (("2026-01-02T00:00:00", "has no time zone"), ("soon", "is not a time")):
        query = '{ entity(id: "aip://model/registry/m1", asOf: "T") { id } }'.replace("T", value)
        response = client.post("/graphql", json={"query": query})
        errors = response.json()["errors"]
        assert [e["message"] for e in errors] == [
            f"asOf {value!r} {says}: "
            + (
                "add one, e.g. 2026-01-02T00:00:00Z"
                if "zone" in says
                else "give ISO 8601 with a time zone, e.g. 2026-01-02T00:00:00Z"
            )
        ]


def test_graphql_as_of_keeps_nested_fields_at_that_time(served):
    """A field under a root field with asOf reads the same past time: m0's name is the
    one it had then, not the current one."""
    _, client = served
    then = (T0 + timedelta(hours=2, minutes=30)).isoformat()
    query = '{ models(asOf: "T") { id name freshness { state lastSeenAt } } }'.replace("T", then)
    data = client.post("/graphql", json={"query": query}).json()["data"]
    assert [m["name"] for m in data["models"]] == ["second", "one"]
    assert data["models"][0]["freshness"] == {
        "state": "hydrated",
        "lastSeenAt": "2026-01-01T02:00:00Z",
    }


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(when=times, index=st.integers(0, len(MODELS) - 1))
def test_rest_history_as_of_ends_with_the_snapshot_graph_as_of_reads(served, when, index):
    graph, client = served
    uri = MODELS[index]
    response = client.get("/api/v1/history", params={"uri": uri, "as_of": when.isoformat()})
    then = graph.as_of(when).snapshot_of(uri)
    if then is None:
        assert response.status_code == 404
        assert "did not know" in response.json()["detail"]
        return
    assert response.status_code == 200, response.text
    iris = [s["snapshot"] for s in response.json()["snapshots"]]
    assert iris[-1] == then.iri
    assert iris == [s.iri for s in graph.history(uri) if s.observed_at <= when]


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/lineage?uri={MODELS[0]}",
        f"/api/v1/entities/{MODELS[0]}/lineage",
        f"/api/v1/impact?uri={MODELS[0]}",
        f"/api/v1/entities/{MODELS[0]}/impact",
        f"/api/v1/explain?s=<{MODELS[0]}>",
        "/api/v1/search?q=m",
        "/api/v1/search/owners?q=a",
        "/api/v1/quality",
        "/api/v1/suggestions",
    ],
)
def test_rest_route_that_reads_only_the_present_refuses_as_of(served, path):
    """A route answering from derived facts or the search index (current only) says so
    rather than answer for now what was asked for a past time."""
    _, client = served
    response = client.get(path, params={"as_of": "2026-01-01T02:00:00Z"})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["parameter"] == "as_of"
    assert "hold the current state only" in body["detail"]


def test_service_description_names_the_as_of_extension(served):
    _, client = served
    response = client.get("/sparql", headers={"accept": "application/n-triples"})
    assert response.status_code == 200
    assert "the parameter as_of (ISO 8601 with a time zone)" in response.text
