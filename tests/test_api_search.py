"""Search over HTTP (issue 13.2): ``GET /api/v1/search``, ``/api/v1/search/owners`` and
GraphQL's ``search`` answer what ``graph.search()`` answers, over a real server, on each
backend shipped (Tantivy, the default, and Whoosh)."""

from __future__ import annotations

import httpx
import pytest

from lifecyclegraph import LifecycleGraph
from lifecyclegraph.core.config import Config, SearchConfig
from lifecyclegraph.example import load_example
from lifecyclegraph.ingest import Journal
from lifecyclegraph.server.app import create_app
from lifecyclegraph.server.service import Service
from lifecyclegraph.server.serving import ServerThread

WRITE = "w-t0ken"

QUERIES = [
    {"q": "ranking"},
    {"q": "rankng"},  # a typo: fuzzy
    {"q": ""},
    {"q": "", "type": ["model", "lg:Dataset"]},
    {"q": "model", "owner": ["alice"], "page_size": 2},
    {"q": "model", "owner": ["alice"], "page_size": 1, "page": 2},
    {"q": "", "domain": ["experiments"], "facets": "false"},
    {"q": "", "tag": ["team::personalization"]},
]


@pytest.fixture(scope="module", params=["tantivy", "whoosh"])
def graph(request: pytest.FixtureRequest):
    graph = LifecycleGraph.in_memory(search=SearchConfig(backend=request.param))
    config = Config.from_dict({"search": {"backend": request.param}})
    service = Service(config, graph, journal=Journal(":memory:"))
    load_example(graph)
    graph.search_index.flush()
    with ServerThread(create_app(service, write_tokens=[WRITE])) as server:
        graph.url = server.url
        yield graph


@pytest.fixture
def client(graph):
    with httpx.Client(base_url=graph.url, timeout=30) as client:
        yield client


def python_search(graph, params: dict) -> dict:
    """What ``graph.search()`` answers for the route's parameters."""
    results = graph.search(
        params.get("q", ""),
        type=params.get("type"),
        owner=params.get("owner"),
        tag=params.get("tag"),
        domain=params.get("domain"),
        page=params.get("page", 1),
        page_size=params.get("page_size", 20),
        facets=params.get("facets", "true") == "true",
    )
    return results.as_dict()


@pytest.mark.parametrize("params", QUERIES, ids=lambda p: str(p))
def test_rest_search_answers_what_graph_search_answers(graph, client, params):
    response = client.get("/api/v1/search", params=params)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer == python_search(graph, params)
    assert answer["hits"] or answer["total"] == 0


def test_rest_search_finds_the_example_model_first_with_highlights_and_facets(client):
    answer = client.get("/api/v1/search", params={"q": "ranking model"}).json()
    first = answer["hits"][0]
    assert first["uri"] == "aip://model/registry/ranking-model"
    assert "<mark>" in first["highlights"]["name"]
    assert answer["facets"]["type"]["lg:Model"] == 1


def test_rest_search_owners_answers_what_graph_search_owners_answers(graph, client):
    answer = client.get("/api/v1/search/owners", params={"q": "personalization"}).json()
    assert answer == graph.search_owners("personalization").as_dict()
    assert "aip://team/identity/personalization" in [h["uri"] for h in answer["hits"]]


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"type": "modell"}, "did you mean"),
        ({"domain": "experimentz"}, "experiments"),
        ({"page": 0}, "page"),
        ({"page_size": 1001}, "page_size"),
        ({"facets": "maybe"}, "facets"),
    ],
)
def test_rest_search_refuses_a_bad_parameter_with_a_400_problem(client, params, says):
    response = client.get("/api/v1/search", params=params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert says in response.json()["detail"]


@pytest.mark.parametrize(
    "text",
    ['"', "(", "AND", "OR NOT", "*", "?", "~", "^2", "name:x", "a\x00b", "\ud7ff", "é" * 999],
)
def test_rest_search_takes_any_text(client, text):
    for path in ("/api/v1/search", "/api/v1/search/owners"):
        response = client.get(path, params={"q": text})
        assert response.status_code == 200, (path, text, response.text)


GRAPHQL = """query($text: String, $type: [String!], $first: Int, $page: Int) {
  search(text: $text, type: $type, first: $first, page: $page) {
    total page pageSize fuzzy
    hits { uri name type score snippet highlights { field text } }
    facets { name values { value count } }
  }
}"""


@pytest.mark.parametrize(
    "variables",
    [
        {"text": "ranking"},
        {"text": "", "type": ["model"]},
        {"text": "model", "first": 2, "page": 2},
    ],
    ids=str,
)
def test_graphql_search_answers_what_graph_search_answers(graph, client, variables):
    response = client.post("/graphql", json={"query": GRAPHQL, "variables": variables})
    assert response.status_code == 200, response.text
    found = response.json()["data"]["search"]
    expected = graph.search(
        variables["text"],
        type=variables.get("type"),
        page=variables.get("page", 1),
        page_size=variables.get("first", 20),
    )
    assert [h["uri"] for h in found["hits"]] == expected.uris
    assert [round(h["score"], 4) for h in found["hits"]] == [round(h.score, 4) for h in expected]
    assert (found["total"], found["page"], found["pageSize"], found["fuzzy"]) == (
        expected.total,
        expected.page,
        expected.page_size,
        expected.fuzzy,
    )
    assert {f["name"]: {v["value"]: v["count"] for v in f["values"]} for f in found["facets"]} == (
        expected.facets
    )


def test_graphql_search_hits_link_to_their_entities(client):
    query = (
        '{ search(text: "ranking model", first: 1) '
        "{ hits { entity { id ... on Model { name } } } } }"
    )
    answer = client.post("/graphql", json={"query": query}).json()
    assert answer["data"]["search"]["hits"] == [
        {"entity": {"id": "aip://model/registry/ranking-model", "name": "Ranking model"}}
    ]


def test_graphql_search_refuses_an_unknown_type_and_a_page_over_the_page_size(client):
    answer = client.post("/graphql", json={"query": '{ search(type: ["modell"]) { total } }'})
    assert "did you mean" in answer.json()["errors"][0]["message"]
    over = client.post("/graphql", json={"query": "{ search(first: 1000) { total } }"})
    assert over.status_code == 400
    assert "graphql_max_page_size" in over.json()["detail"]
