"""The graph of a running ``lifecyclegraph serve``, over HTTP: :class:`RemoteGraph`.

It is a :class:`~lifecyclegraph.graph.door.Graph` like the embedded one and passes the
same contract tests (``tests/test_graph_contract.py``): the same answers, the same
exceptions (``QuerySyntaxError`` with line and column, ``KeyError`` for an unknown
snapshot, ``ValueError`` for a bad depth, ``SearchQueryError`` with the near miss,
``InvalidFactsError``). On top of those, :class:`~lifecyclegraph.core.errors.RemoteGraphError`
says that the service cannot be reached or does not speak the graph protocol, and
:class:`~lifecyclegraph.core.errors.AccessDeniedError` that it refused the token.

Each method is one HTTP request (the first one also asks ``GET /api/v1/graph`` which
protocol the service speaks; ``write_many`` and its kin send ``batch`` entities a
request). Reads see every committed write; ``sparql`` sees every write this client
made (it sends back the generation its last write reached) and the others' within the
server's ``query_staleness``. The routes are in ``docs/graph-protocol.md``.

Use :func:`connect` to get a graph from a URL or a store directory alike::

    with connect("http://127.0.0.1:8800", token=token) as graph:
        graph.entity("aip://model/registry/ranking-model")
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

import httpx
from pyoxigraph import (
    Literal,
    NamedNode,
    Quad,
    QueryResultsFormat,
    RdfFormat,
    parse,
    parse_query_results,
)

from lifecyclegraph.core.errors import (
    AccessDeniedError,
    InvalidFactsError,
    NotAcceptableError,
    QueryError,
    QueryRefusedError,
    QueryRequestError,
    QuerySyntaxError,
    QueryTimeoutError,
    QueryUnavailableError,
    RemoteGraphError,
    ResultLimitError,
    SearchError,
    SearchQueryError,
)
from lifecyclegraph.core.facts import Facts, Object, Pair
from lifecyclegraph.graph.checks import WriteRefusedError
from lifecyclegraph.graph.door import Direction, Graph, PastGraph, check_depth
from lifecyclegraph.graph.entity import Entity, build_entity
from lifecyclegraph.graph.lineage import UnknownTypeError
from lifecyclegraph.graph.wire import (
    PROTOCOL,
    WireError,
    dump_facts,
    dump_observation,
    dump_time,
    load_explanation,
    load_pairs,
    load_quads,
    load_search_results,
    load_snapshot,
    load_state,
    load_validation_result,
    load_write_result,
)
from lifecyclegraph.store.past import PastDataset
from lifecyclegraph.store.sparql.safety import oxigraph_syntax_error
from lifecyclegraph.store.sparql_dataset import protocol_options
from lifecyclegraph.store.values import (
    EntityState,
    HydrationState,
    Observation,
    SnapshotInfo,
    WriteResult,
)
from lifecyclegraph.validation.report import ValidationReport

if TYPE_CHECKING:
    from lifecyclegraph.graph.embedded import LifecycleGraph
    from lifecyclegraph.rules.explain import Explanation
    from lifecyclegraph.search.backend import SearchResults

__all__ = ["RemoteGraph", "RemotePast", "connect"]

GRAPH = "/api/v1/graph"
GENERATION = "Lifecyclegraph-Generation"
MIN_GENERATION = "Lifecyclegraph-Min-Generation"
ACCEPT_RESULTS = "application/sparql-results+json, application/n-triples"

T = TypeVar("T")


def connect(target: str | os.PathLike[str], *, token: str | None = None, **options: Any) -> Graph:
    """A graph from where it is: an ``http://`` or ``https://`` URL is a running
    service (:class:`RemoteGraph`, with ``token``); anything else is a store directory
    (:meth:`LifecycleGraph.open <lifecyclegraph.graph.LifecycleGraph.open>`).

    Args:
        target: the service's root URL, or the store's directory.
        token: the bearer token (a write token to write; reads need one only when the
            service has read tokens). Only for a URL.
        options: for a URL, :class:`RemoteGraph`'s (``timeout``, ``batch``); for a
            directory, :meth:`LifecycleGraph.open`'s (``rules``, ``search``...).

    >>> import tempfile
    >>> with connect(tempfile.mkdtemp()) as graph:
    ...     type(graph).__name__
    'LifecycleGraph'
    >>> remote = connect("http://127.0.0.1:8800")  # nothing is sent yet
    >>> type(remote).__name__
    'RemoteGraph'
    >>> remote.close()
    """
    text = os.fspath(target)
    if text.startswith(("http://", "https://")):
        return RemoteGraph(text, token=token, **options)
    if token is not None:
        raise ValueError("a token is for a service URL (http://...), not a store directory")
    from lifecyclegraph.graph.embedded import LifecycleGraph

    opened: LifecycleGraph = LifecycleGraph.open(Path(text), **options)
    return opened


class RemoteGraph(Graph):
    """The graph of a running ``lifecyclegraph serve``, over HTTP (httpx), with a token.

    Args:
        url: the service's root URL (``http://127.0.0.1:8800``).
        token: a bearer token: a write token to write, a read token (or a write
            token) to read when the service has read tokens.
        timeout: seconds to wait for each answer.
        batch: the most entities a write request carries; a larger ``write_many``
            is sent as several requests, so it is several transactions (each
            entity, with its parts, is still written atomically).
        transport: an httpx transport (tests).

    Nothing is sent until the first call; that call also checks that the service
    speaks the graph protocol (``RemoteGraphError`` if not).
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        batch: int = 500,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if batch < 1:
            raise ValueError(f"batch must be 1 or more, not {batch}")
        self.url = url.rstrip("/")
        self.batch = batch
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout, transport=transport
        )
        self._about: dict[str, Any] | None = None
        #: The generation this client's last write reached (``<epoch>:<n>``).
        self.generation: str | None = None

    def __repr__(self) -> str:
        return f"RemoteGraph({self.url!r})"

    def close(self) -> None:
        """Close the connection (the service goes on)."""
        self._client.close()

    # -- requests ----------------------------------------------------------------------

    @property
    def about(self) -> dict[str, Any]:
        """What the service said of itself (``GET /api/v1/graph``): ``protocol``,
        ``version``, ``rules``, ``search``, ``generation``; asked once."""
        if self._about is None:
            response = self._send("GET", GRAPH)
            about = self._json(response) if response.status_code == 200 else None
            if not isinstance(about, dict) or about.get("protocol") != PROTOCOL:
                said = (
                    f"answered {response.status_code}"
                    if about is None
                    else f"speaks protocol {about.get('protocol')!r}, not {PROTOCOL}"
                )
                raise RemoteGraphError(
                    f"the server at {self.url} does not speak the lifecyclegraph graph "
                    f"protocol {PROTOCOL} (GET {GRAPH} {said}); is it a lifecyclegraph "
                    "service of this version?",
                    self.url,
                )
            self._about = about
        return self._about

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TimeoutException as error:
            raise RemoteGraphError(
                f"the lifecyclegraph service at {self.url} did not answer {method} {path} "
                f"in time ({type(error).__name__})",
                self.url,
            ) from error
        except httpx.TransportError as error:
            raise RemoteGraphError(
                f"cannot reach the lifecyclegraph service at {self.url}: {error}", self.url
            ) from error
        if response.status_code in (401, 403):
            detail = _problem(response).get("detail") or response.reason_phrase
            raise AccessDeniedError(
                f"{self.url} refused {method} {path}: {detail}", str(response.url)
            )
        return response

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise RemoteGraphError(
                f"{self.url} answered {response.request.method} {response.request.url.path} "
                f"with something that is not JSON ({response.headers.get('content-type')})",
                self.url,
            ) from None

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request of the protocol: ``RemoteGraphError`` for an answer no caller
        expects (a 4xx or 5xx left to the caller is returned as it is)."""
        self.about  # noqa: B018 - the handshake, once
        response = self._send(method, path, **kwargs)
        if response.status_code == 404 and path.startswith(GRAPH):
            raise RemoteGraphError(
                f"the server at {self.url} does not offer {method} {path} (404)", self.url
            )
        return response

    def _ok(self, response: httpx.Response) -> httpx.Response:
        if response.is_success:
            return response
        problem = _problem(response)
        detail = problem.get("detail") or response.text[:300]
        if response.status_code == 400:
            raise ValueError(f"{response.request.url.path}: {detail}")
        raise RemoteGraphError(
            f"{self.url} answered {response.request.method} {response.request.url.path} "
            f"with {response.status_code}: {detail}",
            self.url,
        )

    def _get(self, path: str, params: Any = None) -> Any:
        return self._json(self._ok(self._call("GET", path, params=params)))

    def _load(self, load: Any, value: Any) -> Any:
        try:
            return load(value)
        except WireError as error:
            raise RemoteGraphError(
                f"{self.url} answered something unexpected: {error}", self.url
            ) from None

    # -- entities ----------------------------------------------------------------------

    def entity(self, uri: str) -> Entity | None:
        """The current view of an entity, or ``None`` if it is unknown or deleted."""
        return self._entity(uri, None)

    def _entity(self, uri: str, when: datetime | None) -> Entity | None:
        params = {"uri": uri} if when is None else {"uri": uri, "as_of": dump_time(when)}
        found = self._get(f"{GRAPH}/entity", params)["entity"]
        if found is None:
            return None
        state = self._load(load_state, found["state"]) if found.get("state") else None
        snapshot = self._load(load_snapshot, found["snapshot"]) if found.get("snapshot") else None
        outgoing = self._load(load_quads, found["out"].encode())
        incoming = self._load(load_quads, found["in"].encode())
        return build_entity(uri, outgoing, incoming, state, snapshot)

    def state(self, uri: str) -> EntityState | None:
        """The bookkeeping of an entity, or ``None`` if the graph never heard of it."""
        found = self._get(f"{GRAPH}/state", {"uri": uri})["state"]
        return None if found is None else self._load(load_state, found)

    def entities(self, state: HydrationState | None = None) -> Iterator[str]:
        """URIs of every known entity, or of those in ``state``."""
        params = {"state": HydrationState(state).value} if state is not None else None
        response = self._ok(self._call("GET", f"{GRAPH}/entities", params=params))
        return iter(response.text.splitlines())

    def quads(
        self,
        subject: NamedNode | None = None,
        predicate: NamedNode | None = None,
        object: Object | None = None,
        *,
        inferred: bool | None = None,
    ) -> Iterator[Quad]:
        """The facts of the current state that match a pattern (see :meth:`Graph.quads`)."""
        which = {None: "any", True: "true", False: "false"}[inferred]
        return self._quads(subject, predicate, object, {"inferred": which})

    def _quads(
        self, subject: Any, predicate: Any, obj: Any, params: dict[str, str]
    ) -> Iterator[Quad]:
        for name, term in (("s", subject), ("p", predicate), ("o", obj)):
            if term is not None:
                params[name] = str(term)
        response = self._ok(self._call("GET", f"{GRAPH}/quads", params=params))
        return iter(self._load(load_quads, response.content))

    # -- history -----------------------------------------------------------------------

    def history(self, uri: str) -> list[SnapshotInfo]:
        """Every snapshot of an entity, oldest first (empty if unknown)."""
        found = self._get(f"{GRAPH}/history", {"uri": uri})["snapshots"]
        return [self._load(load_snapshot, info) for info in found]

    def snapshot(self, iri: str) -> SnapshotInfo:
        """The catalogue entry of one snapshot (``KeyError`` for an unknown IRI)."""
        found = self._get(f"{GRAPH}/snapshot", {"iri": iri})["snapshot"]
        if found is None:
            raise KeyError(iri)
        info: SnapshotInfo = self._load(load_snapshot, found)
        return info

    def snapshot_facts(self, iri: str) -> frozenset[Pair]:
        """The ``(predicate, object)`` facts one snapshot holds."""
        pairs: frozenset[Pair] = self._load(
            load_pairs, self._get(f"{GRAPH}/snapshot/facts", {"iri": iri})["facts"]
        )
        return pairs

    def as_of(self, when: datetime) -> RemotePast:
        """The graph as it was at ``when`` (``ValueError`` for a naive datetime)."""
        return RemotePast(self, when)

    # -- relationships -----------------------------------------------------------------

    def lineage(
        self,
        uri: str,
        *,
        direction: Direction = "upstream",
        depth: int = 3,
        types: Iterable[str] = (),
        limit: int = 10_000,
    ) -> dict[str, Any] | None:
        """What ``uri`` comes from or feeds; ``None`` if the entity is unknown or deleted."""
        check_depth(depth)
        if direction not in ("upstream", "downstream"):
            raise ValueError(f"direction must be upstream or downstream, not {direction!r}")
        params: dict[str, Any] = {
            "uri": uri,
            "direction": direction,
            "depth": depth,
            "type": list(types),
            "limit": limit,
        }
        response = self._call("GET", f"{GRAPH}/lineage", params=params)
        if response.status_code == 400 and "known" in _problem(response):
            problem = _problem(response)
            raise UnknownTypeError(problem["detail"], list(problem["known"]))
        view: dict[str, Any] | None = self._json(self._ok(response))["lineage"]
        return view

    def impact(self, uri: str, *, limit: int = 10_000) -> dict[str, Any] | None:
        """What a change to ``uri`` would touch; ``None`` if unknown or deleted."""
        view: dict[str, Any] | None = self._get(f"{GRAPH}/impact", {"uri": uri, "limit": limit})[
            "impact"
        ]
        return view

    # -- queries -----------------------------------------------------------------------

    def sparql(
        self,
        query: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        base_iri: str | None = None,
    ) -> Any:
        """Run SPARQL on the current state through the service's ``/sparql`` (see
        :meth:`Graph.sparql`); it sees every write this client made.

        Raises:
            QuerySyntaxError: with the line and column; QueryRefusedError: ``SERVICE``;
            QueryRequestError: a bad parameter; ResultLimitError, QueryTimeoutError,
            QueryUnavailableError: the service's limits.
        """
        shift = 0
        if base_iri is not None:
            query, shift = f"BASE <{NamedNode(base_iri).value}>\n{query}", 1
        form: list[tuple[str, str]] = [("query", query)]
        form += [("default-graph-uri", g) for g in default_graphs or ()]
        form += [("named-graph-uri", g) for g in named_graphs or ()]
        headers = {"Accept": ACCEPT_RESULTS}
        if self.generation is not None:
            headers[MIN_GENERATION] = self.generation
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        response = self._call("POST", "/sparql", content=urlencode(form), headers=headers)
        if not response.is_success:
            raise _query_error(response, shift)
        media = response.headers.get("content-type", "").split(";")[0].strip()
        try:
            if media == "application/n-triples":
                return [q.triple for q in parse(response.content, format=RdfFormat.N_TRIPLES)]
            return parse_query_results(response.content, format=QueryResultsFormat.JSON)
        except (SyntaxError, ValueError) as error:
            raise RemoteGraphError(
                f"{self.url}/sparql answered a result that does not parse ({media}): {error}",
                self.url,
            ) from None

    def search(
        self,
        text: str = "",
        *,
        type: str | Sequence[str] | None = None,
        owner: str | Sequence[str] | None = None,
        tag: str | Sequence[str] | None = None,
        domain: str | Sequence[str] | None = None,
        page: int = 1,
        page_size: int = 20,
        facets: bool = True,
    ) -> SearchResults:
        """Full-text search over entities of every type, as the service ranks it."""
        params: dict[str, Any] = {
            "q": text,
            "type": _list(type),
            "owner": _list(owner),
            "tag": _list(tag),
            "domain": _list(domain),
            "page": page,
            "page_size": page_size,
            "facets": "true" if facets else "false",
        }
        return self._search("/api/v1/search", params)

    def search_owners(self, text: str = "", *, page: int = 1, page_size: int = 20) -> SearchResults:
        """Search users and teams."""
        return self._search(
            "/api/v1/search/owners", {"q": text, "page": page, "page_size": page_size}
        )

    def _search(self, path: str, params: dict[str, Any]) -> SearchResults:
        response = self._call("GET", path, params=params)
        if response.status_code == 400:
            raise SearchQueryError(_problem(response).get("detail") or response.text[:300])
        if response.status_code == 404 and _problem(response).get("search") == "disabled":
            raise SearchError(f"{self.url}: {_problem(response).get('detail')}")
        results: SearchResults = self._load(load_search_results, self._json(self._ok(response)))
        return results

    def explain_all(
        self, subject: Any = None, predicate: Any = None, obj: Any = None, limit: int | None = None
    ) -> list[Explanation]:
        """Explain every fact matching a pattern (``None`` matches anything); the
        service explains at most 10,000 facts a call when ``limit`` is ``None``."""
        params: dict[str, Any] = {}
        for name, value in (("s", subject), ("p", predicate), ("o", obj)):
            if value is not None:
                params[name] = _explain_term(value, name)
        if limit is not None:
            params["limit"] = limit
        found = self._get(f"{GRAPH}/explain", params)["explanations"]
        return [self._load(load_explanation, tree) for tree in found]

    @property
    def has_rules(self) -> bool:
        """Whether the service's rule engine keeps the derived facts up to date."""
        return bool(self.about.get("rules"))

    # -- writes ------------------------------------------------------------------------

    def write_many(
        self,
        items: Iterable[tuple[Facts, Observation]],
        *,
        validate: bool = True,
        enriched_at: datetime | None = None,
    ) -> list[WriteResult]:
        """Write entities (each with its parts, atomically), ``batch`` a request, each
        checked by the server against its model unless ``validate=False`` (see
        :meth:`Graph.write_many`). A refused batch is not written; the batches before
        it are."""
        rows = [{"facts": dump_facts(f), "observation": dump_observation(o)} for f, o in items]
        return self._write("write", rows, {"validate": validate}, enriched_at)

    def delete_many(
        self, items: Iterable[tuple[str, Observation]], *, enriched_at: datetime | None = None
    ) -> list[WriteResult]:
        """Tombstone entities and their parts: gone from the current state, history kept."""
        rows = [{"uri": uri, "observation": dump_observation(o)} for uri, o in items]
        return self._write("delete", rows, None, enriched_at)

    def reference_many(
        self, items: Iterable[tuple[str, str, Observation]], *, enriched_at: datetime | None = None
    ) -> list[WriteResult]:
        """Record stubs for entities known only from a foreign key (no-op if known)."""
        rows = [
            {"uri": uri, "class": cls, "observation": dump_observation(o)} for uri, cls, o in items
        ]
        return self._write("reference", rows, None, enriched_at)

    def _write(
        self,
        what: str,
        rows: list[dict[str, Any]],
        options: dict[str, Any] | None = None,
        enriched_at: datetime | None = None,
    ) -> list[WriteResult]:
        options = dict(options or {})
        if enriched_at is not None:
            options["enriched_at"] = _time(enriched_at, "enriched_at")
        results: list[WriteResult] = []
        for start in range(0, len(rows), self.batch):
            body = {"items": rows[start : start + self.batch], **(options or {})}
            response = self._call("POST", f"{GRAPH}/{what}", json=body)
            if response.status_code == 400:
                raise InvalidFactsError(_problem(response).get("detail") or response.text[:300])
            if response.status_code == 422:
                raise _refused(_problem(response), response.text)
            body = self._json(self._ok(response))
            self._saw(response)
            results += [self._load(load_write_result, r) for r in body["results"]]
        return results

    def mark_enriched(self, uris: Iterable[str], at: datetime) -> None:
        """Record that these entities' derived facts and index are up to date as of ``at``."""
        body = {"uris": list(uris), "at": _time(at, "at")}
        self._saw(self._ok(self._call("POST", f"{GRAPH}/enriched", json=body)))

    def _saw(self, response: httpx.Response) -> None:
        token = response.headers.get(GENERATION)
        if token is not None:
            self.generation = token


class RemotePast(PastGraph):
    """A remote graph as it was at :attr:`when`: asserted facts only.

    ``sparql`` downloads the facts live then once (``GET /api/v1/graph/quads?as_of=``)
    and queries them here, as the embedded graph copies them into memory.

    Raises:
        ValueError: for a naive ``when`` (no time zone).
    """

    def __init__(self, graph: RemoteGraph, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("as_of needs a time zone aware datetime (use UTC)")
        self.graph = graph
        self.when = when
        self._copy: PastDataset | None = None

    def entity(self, uri: str) -> Entity | None:
        """The entity as it was, or ``None`` if it did not exist (yet, or any more)."""
        return self.graph._entity(uri, self.when)

    def entities(self) -> list[str]:
        """URIs of the entities that existed at this time, sorted."""
        response = self.graph._call(
            "GET", f"{GRAPH}/entities", params={"as_of": dump_time(self.when)}
        )
        return self.graph._ok(response).text.splitlines()

    def quads(
        self,
        subject: NamedNode | None = None,
        predicate: NamedNode | None = None,
        object: Object | None = None,
    ) -> Iterator[Quad]:
        """The facts of the snapshots live then matching a pattern."""
        return self.graph._quads(subject, predicate, object, {"as_of": dump_time(self.when)})

    def snapshot(self, iri: str) -> SnapshotInfo:
        """The catalogue entry of one snapshot (``KeyError`` for an unknown IRI)."""
        return self.graph.snapshot(iri)

    def snapshot_of(self, uri: str) -> SnapshotInfo | None:
        """The snapshot of ``uri`` current then (a tombstone if deleted by then)."""
        params = {"uri": uri, "as_of": dump_time(self.when)}
        found = self.graph._get(f"{GRAPH}/snapshot-of", params)["snapshot"]
        return None if found is None else self.graph._load(load_snapshot, found)

    def sparql(
        self,
        query: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        base_iri: str | None = None,
    ) -> Any:
        """Run SPARQL on the graph as it was (see :meth:`GraphAsOf.sparql
        <lifecyclegraph.graph.GraphAsOf.sparql>`)."""
        if self._copy is None:
            self._copy = PastDataset(self.quads())
        options: dict[str, Any] = {}
        if base_iri is not None:
            options["base_iri"] = base_iri
        if default_graphs is not None or named_graphs is not None:
            options.update(protocol_options(default_graphs, named_graphs))
        try:
            return self._copy.query(query, **options)
        except SyntaxError as error:
            raise oxigraph_syntax_error(error) from None


def _refused(problem: dict[str, Any], text: str) -> WriteRefusedError:
    """The :class:`WriteRefusedError` of a 422 answer to a checked write."""
    problems = problem.get("problems")
    violations = problem.get("violations")
    try:
        results = [load_validation_result(v, "violations") for v in violations or []]
    except WireError:
        results = []
    return WriteRefusedError(
        problem.get("detail") or text[:300],
        [p for p in problems if isinstance(p, str)] if isinstance(problems, list) else [],
        ValidationReport(results),
    )


def _problem(response: httpx.Response) -> dict[str, Any]:
    """The problem document of an error answer (empty if it has none)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _query_error(response: httpx.Response, shift: int) -> Exception:
    """The exception the embedded graph raises for what ``/sparql`` answered."""
    problem = _problem(response)
    detail = str(problem.get("detail") or response.text[:300])
    status = response.status_code
    if status == 400:
        if "line" in problem:
            line = problem["line"] - shift if isinstance(problem["line"], int) else None
            return QuerySyntaxError(detail, line, problem.get("column"))
        if "refused" in problem:
            return QueryRefusedError(detail, str(problem["refused"]))
        if "syntax" in detail.lower() or "parse" in detail.lower():
            return QuerySyntaxError(detail)
        return QueryRequestError(detail)
    if status == 406:
        return NotAcceptableError(detail, list(problem.get("acceptable") or []))
    if status == 422:
        return ResultLimitError(detail, int(problem.get("max_results") or 0))
    if status == 503 and "query_timeout" in problem:
        return QueryTimeoutError(detail, float(problem["query_timeout"]))
    if status == 503:
        return QueryUnavailableError(detail, float(problem.get("retry_after") or 1))
    return QueryError(f"/sparql answered {status}: {detail}")


def _list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _explain_term(value: Any, name: str) -> str:
    """A term of an explanation pattern as the route takes it: ``<iri>``, a literal in
    N-Triples, or the text the embedded graph would read the same way."""
    if isinstance(value, NamedNode | Literal):
        return str(value)
    text = str(value)
    if name == "o" and text.startswith('"'):
        return str(Literal(text))  # the embedded graph reads it as that text
    return text


def _time(when: datetime, name: str) -> str:
    """``when`` for the wire; a time without a zone is refused before anything is sent.

    Raises:
        InvalidFactsError: ``when`` has no time zone.
    """
    if when.tzinfo is None:
        raise InvalidFactsError(f"{name} {when.isoformat()} has no time zone; use UTC")
    return dump_time(when)
