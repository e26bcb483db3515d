"""The W3C SPARQL 1.1 Protocol test suite, run from its manifest against /sparql.

Every test of ``shared/conformance/sparql-protocol/manifest.ttl`` runs over real HTTP:
its requests in order, each checked for the status class, and where the manifest says
so, the result format and the boolean. The manifest's data files are loaded once, as
the named graphs the manifest names.

The positive update tests are expected to fail: this service offers no SPARQL Update
(``docs/sparql.md``). They are listed in ``KNOWN_FAILURES`` and run as strict xfails,
so offering updates one day makes them fail loudly until the list is updated. The
bad-update tests do run: each must be refused with a 4xx.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from pyoxigraph import NamedNode, Quad, RdfFormat, parse
from rdflib import Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDFS

from lifecyclegraph import LifecycleGraph
from lifecyclegraph.core.config import Config
from lifecyclegraph.ingest import Journal
from lifecyclegraph.server.app import create_app
from lifecyclegraph.server.service import Service
from lifecyclegraph.server.serving import ServerThread

SUITE = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "sparql-protocol"
MANIFEST = SUITE / "manifest.ttl"

MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
HT = "http://www.w3.org/2011/http#"
CNT = "http://www.w3.org/2011/content#"
UT = "http://www.w3.org/2009/sparql/tests/test-update#"
HTS = "http://www.w3.org/2011/http-statusCodes#"

NO_UPDATE = "SPARQL Update is not offered by this service (docs/sparql.md)"
KNOWN_FAILURES = {
    "update_dataset_default_graph": NO_UPDATE,
    "update_dataset_default_graphs": NO_UPDATE,
    "update_dataset_named_graphs": NO_UPDATE,
    "update_dataset_full": NO_UPDATE,
    "update_post_form": NO_UPDATE,
    "update_post_direct": NO_UPDATE,
    "update_base_uri": NO_UPDATE,
}

RESULTS_TYPES = {
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
}
RDF_TYPES = {"application/rdf+xml", "text/turtle", "application/n-triples", "text/html"}


@dataclass
class Step:
    """One HTTP request of a protocol test, with what its response must be."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: set[int]  # acceptable status classes: 2, 3, 4, 5
    result_format: str | None = None
    boolean: bool | None = None


@dataclass
class ProtocolTest:
    name: str
    steps: list[Step] = field(default_factory=list)
    data: list[tuple[Path, str]] = field(default_factory=list)


def _items(graph: Graph, head: object) -> list:
    return list(Collection(graph, head))


def _read_manifest() -> list[ProtocolTest]:
    graph = Graph().parse(MANIFEST, format="turtle", publicID=MANIFEST.as_uri())
    manifest = next(graph.subjects(URIRef(MF + "entries"), None))
    tests = []
    for entry in _items(graph, graph.value(manifest, URIRef(MF + "entries"))):
        test = ProtocolTest(str(entry).rsplit("#", 1)[1])
        for data in graph.objects(entry, URIRef(UT + "graphData")):
            file = Path(str(graph.value(data, URIRef(UT + "graph"))).removeprefix("file://"))
            test.data.append((file, str(graph.value(data, RDFS.label))))
        action = graph.value(entry, URIRef(MF + "action"))
        for request in _items(graph, graph.value(action, URIRef(HT + "requests"))):
            headers = {}
            header_list = graph.value(request, URIRef(HT + "headers"))
            for header in _items(graph, header_list) if header_list else []:
                name = str(graph.value(header, URIRef(HT + "fieldName")))
                headers[name] = str(graph.value(header, URIRef(HT + "fieldValue")))
            body = None
            content = graph.value(request, URIRef(HT + "body"))
            if content is not None:
                chars = str(graph.value(content, URIRef(CNT + "chars")))
                encoding = str(graph.value(content, URIRef(CNT + "characterEncoding")))
                body = chars.encode(encoding)
            response = graph.value(request, URIRef(HT + "resp"))
            statuses = {
                int(str(code).removeprefix(HTS + "StatusCode")[0])
                for code in graph.objects(response, URIRef(MF + "expectedStatus"))
            }
            result_format = graph.value(response, URIRef(MF + "expectedFormat"))
            boolean = graph.value(response, URIRef(MF + "expectedBoolean"))
            test.steps.append(
                Step(
                    method=str(graph.value(request, URIRef(HT + "methodName"))),
                    path=str(graph.value(request, URIRef(HT + "absolutePath"))),
                    headers=headers,
                    body=body,
                    statuses=statuses,
                    result_format=str(result_format) if result_format is not None else None,
                    boolean=boolean.toPython() if boolean is not None else None,
                )
            )
        tests.append(test)
    return tests


TESTS = _read_manifest() if MANIFEST.exists() else []
pytestmark = pytest.mark.skipif(
    not MANIFEST.exists(),
    reason=f"the W3C protocol suite is not at {SUITE} (shared/ sits beside the project)",
)


@pytest.fixture(scope="module")
def endpoint():
    graph = LifecycleGraph.in_memory()
    for file, name in sorted({d for test in TESTS for d in test.data}):
        triples = parse(path=str(SUITE / file.name), format=RdfFormat.N_TRIPLES)
        graph.store.current.extend(
            Quad(t.subject, t.predicate, t.object, NamedNode(name)) for t in triples
        )
    config = Config.from_dict({"server": {"query_staleness": 0, "query_workers": 2}})
    service = Service(config, graph, journal=Journal(":memory:"))
    with (
        ServerThread(create_app(service, write_tokens=["w"])) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        yield client


def _boolean(response: httpx.Response) -> bool:
    media = response.headers["content-type"].split(";")[0]
    if media == "application/sparql-results+json":
        return bool(json.loads(response.content)["boolean"])
    assert media == "application/sparql-results+xml", media
    root = ElementTree.fromstring(response.content)
    tag = "{http://www.w3.org/2005/sparql-results#}boolean"
    return root.find(tag).text.strip() == "true"  # type: ignore[union-attr]


def _params(test: ProtocolTest) -> object:
    marks = []
    if test.name in KNOWN_FAILURES:
        marks.append(pytest.mark.xfail(reason=KNOWN_FAILURES[test.name], strict=True))
    return pytest.param(test, id=test.name, marks=marks)


@pytest.mark.parametrize("test", [_params(t) for t in TESTS])
def test_w3c_protocol_test_passes(endpoint, test):
    for step in test.steps:
        path = "/sparql" + step.path.removeprefix("/sparql/")
        response = endpoint.request(step.method, path, headers=step.headers, content=step.body)
        assert response.status_code // 100 in step.statuses, (
            f"{step.method} {step.path}: {response.status_code} {response.text[:300]}"
        )
        media = response.headers.get("content-type", "").split(";")[0]
        if step.result_format == "boolean":
            value = _boolean(response)  # also checks it is SPARQL JSON or XML
            if step.boolean is not None:
                assert value is step.boolean
        elif step.result_format == "tabular":
            assert media in RESULTS_TYPES, media
        elif step.result_format == "RDF":
            assert media in RDF_TYPES, media
        if response.status_code >= 400:
            assert media == "application/problem+json"


def test_w3c_protocol_suite_is_complete():
    names = {test.name for test in TESTS}
    if not names:
        pytest.skip(f"the W3C protocol suite is not at {SUITE}")
    assert len(names) == 34
    assert set(KNOWN_FAILURES) <= names
    assert not any(n.startswith(("query_", "bad_")) for n in KNOWN_FAILURES)
