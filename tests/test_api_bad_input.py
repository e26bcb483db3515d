"""Bad input over HTTP: every client fault is a 4xx problem, on a connection that stays open.

A real uvicorn server and a keep-alive client: a server that fails on a request
resets the connection, which the client sees as a new connection for the next one.
"""

from __future__ import annotations

import copy
import json
import logging
import sys
from urllib.parse import quote

import httpx
import pytest
from contract_world import ALL
from fakesource import FakeClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecyclegraph import LifecycleGraph
from lifecyclegraph.core.config import Config
from lifecyclegraph.ingest import Journal
from lifecyclegraph.providers.sources import Sources
from lifecyclegraph.server.app import create_app
from lifecyclegraph.server.service import Service
from lifecyclegraph.server.serving import ServerThread

WRITE, READ = "write-t0ken", "read-t0ken"
AUTH = {"Authorization": f"Bearer {WRITE}"}
DIGITS = sys.get_int_max_str_digits()
EVENT = {"event_type": "model_created", "model_id": "ranking-model"}
HUGE_INT = "9" * 5000
DEEP = "[" * 5000 + "]" * 5000
MAX_REQUEST_BYTES = 2_000_000


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    world = copy.deepcopy(ALL)
    config = Config.from_dict(
        {
            "sources": {p: {"url": f"http://{p}.test"} for p in world},
            "server": {"max_request_bytes": MAX_REQUEST_BYTES},
            # the index writer names its files with the random module, from its own
            # thread: hypothesis would take that for a strategy using random
            "search": {"enabled": False},
        }
    )
    sources = Sources(config, client_factory=lambda platform, _: FakeClient(world[platform]))
    path = tmp_path_factory.mktemp("bad-input") / "j.db"
    return Service(config, LifecycleGraph.in_memory(), sources, Journal(path))


@pytest.fixture(scope="module")
def app(service):
    app = create_app(service, write_tokens=[WRITE])
    app.state.guard.read = [READ.encode()]  # reads need a token too: both guards are tried

    @app.get("/test/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("internal detail: /etc/secret")

    return app


@pytest.fixture(scope="module")
def server(app):
    with ServerThread(app) as server:
        yield server


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def connection(response: httpx.Response) -> object:
    """The client's end of the TCP connection a response came on."""
    return response.extensions["network_stream"].get_extra_info("client_addr")


def assert_still_open(client: httpx.Client, response: httpx.Response) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200
    assert connection(health) == connection(response), "the server closed the connection"


def assert_problem(response: httpx.Response, status: int, says: str = "") -> dict:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert says in problem["detail"], problem["detail"]
    return problem


# -- JSON over a decoder limit (issue 11, point 3) ------------------------------------------


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            '{"event_type": "model_created", "model_id": ' + HUGE_INT + "}",
            f"line 1 column 45: integer with 5000 digits exceeds the limit of {DIGITS}",
        ),
        (DEEP, "nested 4999 deep"),  # an array: its one item is refused
        ('{"a": ' + DEEP + "}", "line 1 column 5006: arrays and objects nested 5001 deep"),
        ('{"event_type": "model_created", "model_id": NaN}', "line 1 column 45: NaN is not JSON"),
        ('{"event_type": "\\ud800", "model_id": "m"}', "column 17: \\ud800 is a lone surrogate"),
        (b'{"event_type": "model_created", "model_id": "\xff"}', "column 46: invalid UTF-8"),
    ],
)
def test_event_json_over_a_decoder_limit_is_a_400_and_a_dead_letter(client, service, body, says):
    before = len(service.journal.dead_letters())
    response = client.post("/api/v1/events", headers=AUTH, content=body)
    problem = assert_problem(response, 400, says)
    assert problem["rejected"][0]["index"] == 0
    assert len(service.journal.dead_letters()) == before + 1
    assert_still_open(client, response)


def test_event_over_a_limit_in_a_batch_is_refused_alone(client, service):
    items = [
        json.dumps({**EVENT, "event_id": "good-1"}),
        '{"event_type": "model_created", "model_id": ' + HUGE_INT + "}",
        DEEP,
        json.dumps({**EVENT, "event_id": "good-2"}),
    ]
    response = client.post("/api/v1/events", headers=AUTH, content="[" + ", ".join(items) + "]")
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["accepted"] == 2
    assert [r["index"] for r in body["rejected"]] == [1, 2]
    assert "integer with 5000 digits" in body["rejected"][0]["reason"]
    assert_still_open(client, response)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            '{"query": "{ __typename }", "variables": {"n": ' + HUGE_INT + "}}",
            f"line 1 column 48: integer with 5000 digits exceeds the limit of {DIGITS}",
        ),
        (DEEP, "line 1 column 5000: arrays and objects nested 5000 deep"),
        (
            '{"query": "{ __typename }", "variables": {"n": NaN}}',
            "line 1 column 48: NaN is not JSON",
        ),
        (b'{"query": "\xc3("}', "line 1 column 12: invalid UTF-8: byte 0xc3"),
        ("", "line 1 column 1: expecting value"),
    ],
)
def test_graphql_json_over_a_decoder_limit_is_a_400_problem(client, body, says):
    response = client.post("/graphql", headers=AUTH, content=body)
    problem = assert_problem(response, 400, "the body is not JSON: " + says)
    assert problem["line"] == 1
    assert_still_open(client, response)


def test_graphql_variables_in_the_url_are_decoded_the_same_way(client):
    response = client.get(
        "/graphql", headers=AUTH, params={"query": "{ __typename }", "variables": HUGE_INT}
    )
    assert_problem(response, 400, "'variables' is not JSON: line 1 column 1: integer with 5000")
    assert_still_open(client, response)


# -- the event limits on HTTP (issue 11, point 4) -------------------------------------------


def test_event_over_the_size_limit_is_refused_over_http(client, service):
    """A 9 MB model_id was answered 202, then retried forever against its source."""
    status = client.get("/api/v1/status", headers=AUTH).json()
    big = json.dumps({**EVENT, "model_id": "x" * 1_500_000})  # its size is its own text's
    body = f"[{json.dumps({**EVENT, 'event_id': 'ok'})},\n {big}]"
    response = client.post("/api/v1/events", headers=AUTH, content=body)
    assert response.status_code == 202, response.text
    reason = f"event is {len(big)} bytes, over the limit of 65536"
    assert response.json()["rejected"] == [{"index": 1, "reason": reason}]
    letter = service.journal.dead_letters()[-1]
    assert letter.reason == reason
    assert len(letter.payload) == 65536, "a dead letter keeps the event cut at the limit"
    after = client.get("/api/v1/status", headers=AUTH).json()
    assert after["events"] == status["events"] + 1


def test_event_whose_ids_make_a_uri_too_long_for_a_url_is_refused(client):
    response = client.post("/api/v1/events", headers=AUTH, json={**EVENT, "model_id": "x" * 3000})
    assert_problem(response, 400, "the ids make a URI of 3021 characters, over the limit of 2048")


# -- the safety net --------------------------------------------------------------------------


def test_unexpected_error_is_a_logged_500_problem_that_leaks_nothing(client, caplog):
    with caplog.at_level(logging.ERROR, logger="lifecyclegraph.api"):
        response = client.get("/test/boom", headers=AUTH)
    problem = assert_problem(response, 500, "its log holds incident")
    assert "secret" not in response.text and "RuntimeError" not in response.text
    logged = [r for r in caplog.records if problem["incident"] in r.getMessage()]
    assert logged and logged[0].exc_info[0] is RuntimeError
    assert_still_open(client, response)


# -- hostile requests to every route ---------------------------------------------------------


def every_route(app) -> list[tuple[str, str]]:
    """(method, path) of every route the app serves, included routers' too."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before included routers were kept as such
        routes = [(r.path, r.methods) for r in app.routes]
    else:
        routes = [(r.path, r.methods) for r in iter_route_contexts(app.routes)]
    return sorted({(m, path) for path, methods in routes for m in methods or ()})


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=8,
)
HOSTILE_TEXTS = [
    HUGE_INT,
    "-" + "1" * (DIGITS + 1),
    DEEP,
    "[" * 5000,
    '{"a":' * 3000 + "1" + "}" * 3000,
    '{"event_type": "model_created", "model_id": ' + HUGE_INT + "}",
    "[" + json.dumps(EVENT) + ", " + DEEP + "]",
    '{"query": "{ __typename }", "variables": {"n": ' + HUGE_INT + "}}",
    '{"query": "{ __typename }", "variables": []}',
    '{"query": 5, "operationName": []}',
    '{"query": "' + "{" * 3000 + '"}',
    "NaN",
    '[1, -Infinity, "x"]',
    '{"event_type": "model_created", "model_id": NaN}',
    '"\\ud800"',
    '{"event_type": "\\udc00", "model_id": "m"}',
    '{"query": "{ model(id: \\"\\ud800\\") { name } }"}',
    json.dumps({**EVENT, "model_id": "x" * 100_000}),
    json.dumps({**EVENT, "model_id": "é" * 3000}),
    json.dumps({**EVENT, "model_id": ["x"], "event_id": {"a": 1}}),
    json.dumps([EVENT, 5, None, [], {"event_type": 5}]),
    json.dumps({**EVENT, "model_id": "a\x00b"}),
    '{"a": "\x00"}',
    "\x00",
    "",
    "[]",
    "null",
    "SELECT (<urn:fn>(1) AS ?x) {}",
    "SELECT * { " * 1500,
    "query=SELECT%20*%20%7B%7D&query=ASK%20%7B%7D",
    "update=LOAD%20%3Chttp%3A%2F%2Fx%3E",
    "query=%FF%FE",
]
BODIES = st.one_of(
    st.sampled_from(HOSTILE_TEXTS).map(str.encode),
    st.binary(max_size=64),
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
    st.integers(MAX_REQUEST_BYTES - 10, MAX_REQUEST_BYTES + 10).map(lambda n: b"x" * n),
)
CONTENT_TYPES = st.sampled_from(
    [
        None,
        "application/json",
        "application/json; charset=utf-16",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/sparql-query",
        "application/sparql-update; charset=latin-1",
        "multipart/form-data",
        "application/problem+json",
        "*/*",
        "application/json;;;=",
    ]
)
PARAMETERS = st.dictionaries(
    st.sampled_from(
        [
            *("query", "variables", "operationName", "update"),
            *("uri", "as_of", "fact", "limit", "depth", "direction", "types"),
            *("default-graph-uri", "named-graph-uri"),
        ]
    ),
    st.sampled_from([t for t in HOSTILE_TEXTS if len(t) < 12_000]) | st.text(max_size=30),
    max_size=3,
)
PATH_VALUES = st.sampled_from(
    ["aip://model/registry/ranking-model", "aip://model/registry/" + "x" * 3000, "x", "%00"]
) | st.text(max_size=30)
TOKENS = st.sampled_from([None, READ, WRITE, "wrong"])


PARAMETER_SETS = [("query", "variables"), ("uri", "as_of", "fact"), ("limit", "depth", "types")]
BODY_TYPES = ["application/json", "application/x-www-form-urlencoded", "application/sparql-query"]


def check_answer(client: httpx.Client, request: httpx.Request, path: str) -> None:
    """Send ``request``: it must get a 2xx, 3xx or 4xx problem on a connection left open."""
    response = client.send(request)
    where = f"{request.method} {str(request.url)[:200]} -> {response.status_code}: "
    where += response.text[:300]
    assert response.status_code < 500, where
    if response.status_code >= 400 and request.method != "HEAD":
        media = response.headers["content-type"]
        if path == "/graphql" and media == "application/json":
            # GraphQL over HTTP: a query that does not parse or validate is answered
            # with a GraphQL result that holds its errors
            assert response.json()["errors"], where
        elif (path == "/" or path.startswith("/portal/")) and media.startswith("text/html"):
            # the portal answers a browser: an HTML page (under its CSP) saying what is wrong
            assert "content-security-policy" in response.headers, where
            assert '<p class="error" role="alert">' in response.text, where
        else:
            assert media == "application/problem+json", where
            assert response.json()["status"] == response.status_code, where
    assert_still_open(client, response)


def test_every_route_answers_every_hostile_text_with_a_4xx_problem(app, server):
    """Each hostile text, as the body of every POST route in each media type it reads,
    and as each parameter of every GET route; with a token that may do anything."""
    routes = every_route(app)
    paths = {path for _, path in routes}
    assert paths >= {"/api/v1/events", "/graphql", "/sparql", "/api/v1/entity", "/healthz"}
    headers = {"authorization": f"Bearer {WRITE}"}
    bodies = [t.encode() for t in HOSTILE_TEXTS] + [b"\xff\xfe{", b"\x00", b"x" * 3_000_000]
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for method, path in routes:
            if path.startswith("/test/"):
                continue
            url = path.replace("{uri:path}", "aip://model/registry/ranking-model")
            if method == "POST":
                for body in bodies:
                    for media in BODY_TYPES:
                        request = client.build_request(
                            method, url, content=body, headers={**headers, "content-type": media}
                        )
                        check_answer(client, request, path)
                continue
            for text in HOSTILE_TEXTS:
                for names in PARAMETER_SETS:
                    if len(quote(text)) * len(names) > 60_000:
                        continue  # over what a client puts in a URL
                    params = {name: text for name in names}
                    request = client.build_request(method, url, params=params, headers=headers)
                    check_answer(client, request, path)


def hostile_requests(client: httpx.Client, method: str, path: str):
    """A hypothesis test that sends random requests to one route."""

    @settings(
        max_examples=30,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        body=BODIES,
        content_type=CONTENT_TYPES,
        params=PARAMETERS,
        path_value=PATH_VALUES,
        token=TOKENS,
        chunked=st.booleans(),
    )
    def run(body, content_type, params, path_value, token, chunked):
        url = path.replace("{uri:path}", quote(path_value, safe=":/"))
        headers = {"content-type": content_type} if content_type else {}
        if token:
            headers["authorization"] = f"Bearer {token}"
        content = iter([body]) if chunked else body
        request = client.build_request(method, url, params=params, headers=headers, content=content)
        check_answer(client, request, path)

    return run


def test_every_route_answers_hostile_requests_with_4xx_problems_and_stays_open(app, server):
    """Random requests to every route: bodies, media types, parameters, path values,
    tokens (none, read, write, wrong), sent whole or chunked."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for method, path in every_route(app):
            if not path.startswith("/test/"):
                hostile_requests(client, method, path)()
