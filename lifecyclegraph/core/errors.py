"""The exception tree: every error lifecyclegraph raises derives from :class:`LifecycleGraphError`.

Each class is also a subclass of the matching built-in exception, so callers can
catch either (``except ValueError`` still works for a malformed URI).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ConfigError",
    "InvalidFactsError",
    "InvalidUriError",
    "JsonTextError",
    "LifecycleGraphError",
    "RuleAnalysisError",
    "RuleLimitError",
    "RuleProblem",
    "RuleSyntaxError",
    "StoreError",
    "StoreUnavailableError",
    "TurtleSyntaxError",
]


class LifecycleGraphError(Exception):
    """Base class of every error raised by lifecyclegraph."""


class InvalidUriError(LifecycleGraphError, ValueError):
    """An AIP URI is malformed.

    The message says what is wrong and quotes the offending URI; ``uri`` holds it.
    """

    def __init__(self, message: str, uri: str) -> None:
        super().__init__(f"{message}: {uri!r}")
        self.uri = uri


class InvalidFactsError(LifecycleGraphError, ValueError):
    """A set of facts handed to the store cannot be written as it is.

    For example a blank node (entity facts must be named so that snapshots can be
    compared) or a triple whose subject is neither the entity nor one of its parts.
    """


class StoreError(LifecycleGraphError, OSError):
    """The store could not be opened, read or written."""


class StoreUnavailableError(StoreError, ConnectionError):
    """A remote store could not be reached, or answered with a server error (5xx), or
    did not answer in time: a request refused or not sent wrote nothing, one that timed
    out may have been applied; the same request may succeed later. The message names
    the store's URL and the operation (never a password)."""


class JsonTextError(LifecycleGraphError, ValueError):
    """A text is not JSON this service can take: malformed, or over a decoder's limit.

    ``lineno`` and ``colno`` (from 1) point at the problem, ``pos`` is its offset
    (in characters of the text, or bytes for invalid UTF-8) and ``msg`` says what is
    wrong; ``str()`` reads ``line 1 column 7: msg``.
    """

    def __init__(self, msg: str, lineno: int, colno: int, pos: int) -> None:
        super().__init__(f"line {lineno} column {colno}: {msg}")
        self.msg, self.lineno, self.colno, self.pos = msg, lineno, colno, pos

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.msg, self.lineno, self.colno, self.pos))


class ConfigError(LifecycleGraphError, ValueError):
    """The configuration is invalid; the message names the key and the file."""


@dataclass(frozen=True, slots=True)
class RuleProblem:
    """One problem found in a rule file: where it is and what is wrong.

    >>> str(RuleProblem("rules/lineage.rules", 3, 7, "unknown predicate lg:upstrem"))
    'rules/lineage.rules:3:7: unknown predicate lg:upstrem'
    """

    filename: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}:{self.column}: {self.message}"


class RuleSyntaxError(LifecycleGraphError, SyntaxError):
    """A rule file (or a fact pattern) does not follow the rule grammar.

    ``filename``, ``lineno``, ``offset`` (the column, from 1) and ``text`` (the line)
    are set as for Python's own :class:`SyntaxError`; ``str()`` reads
    ``file:line:col: message``.
    """

    def __init__(
        self, message: str, filename: str, lineno: int, offset: int, text: str = ""
    ) -> None:
        super().__init__(message, (filename, lineno, offset, text))
        self.problem = RuleProblem(filename, lineno, offset, message)

    def __str__(self) -> str:
        return str(self.problem)


class TurtleSyntaxError(LifecycleGraphError, SyntaxError):
    """An RDF file (ontology, shapes or data) does not parse.

    ``filename``, ``lineno`` and ``offset`` (the column, from 1) are set as for
    Python's own :class:`SyntaxError`; ``str()`` reads ``file:line:col: message``.

    >>> print(TurtleSyntaxError("the prefix zz: has not been declared", "shapes/x.ttl", 3, 4))
    shapes/x.ttl:3:4: the prefix zz: has not been declared
    """

    def __init__(self, message: str, filename: str, lineno: int, offset: int) -> None:
        super().__init__(message, (filename, lineno, offset, None))
        self.message = message

    def __str__(self) -> str:
        return f"{self.filename}:{self.lineno}:{self.offset}: {self.message}"

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.message, self.filename, self.lineno, self.offset))


class RuleAnalysisError(LifecycleGraphError, ValueError):
    """The rules parse but cannot be run; ``problems`` lists every problem found.

    >>> error = RuleAnalysisError([RuleProblem("a.rules", 1, 1, "unsafe"),
    ...                            RuleProblem("a.rules", 2, 1, "unknown predicate x")])
    >>> print(error)
    2 problems in the rules:
    a.rules:1:1: unsafe
    a.rules:2:1: unknown predicate x
    """

    def __init__(self, problems: list[RuleProblem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        heading = f"{count} problem{'s' if count != 1 else ''} in the rules:"
        super().__init__("\n".join([heading, *(str(p) for p in self.problems)]))


class RuleLimitError(LifecycleGraphError, RuntimeError):
    """A run would derive more facts than allowed; ``rule`` names the rule that exploded."""

    def __init__(self, message: str, rule: str, limit: int) -> None:
        super().__init__(message)
        self.rule = rule
        self.limit = limit


# --- Source systems (the hydration client, lifecyclegraph.providers.http) ---------------

__all__ += ["SourceError", "SourceProtocolError", "SourceUnavailable"]


class SourceError(LifecycleGraphError, OSError):
    """A source system did not give what was asked of it.

    ``source`` is the source's platform id (``registry``) and ``url`` the URL asked
    for, without credentials. The message never holds a secret.
    """

    def __init__(self, message: str, *, source: str, url: str) -> None:
        super().__init__(message)
        self.source = source
        self.url = url


class SourceUnavailable(SourceError):
    """The source cannot answer now: retries are exhausted or its circuit is open.

    The work is not lost: the caller keeps it and tries again after ``retry_after``
    seconds (a hint, never negative).
    """

    def __init__(self, message: str, *, source: str, url: str, retry_after: float) -> None:
        super().__init__(message, source=source, url=url)
        self.retry_after = retry_after


class SourceProtocolError(SourceError):
    """The source answered something its contract does not allow; retrying will not help.

    For example a ``401`` or ``400``, a body that is not JSON, or JSON that is not an
    object. ``status`` is the HTTP status of that answer.
    """

    def __init__(self, message: str, *, source: str, url: str, status: int) -> None:
        super().__init__(message, source=source, url=url)
        self.status = status


# --- SPARQL queries (lifecyclegraph.store.sparql) ----------------------------------------------

__all__ += [
    "NotAcceptableError",
    "QueryError",
    "QueryEvaluationError",
    "QueryRefusedError",
    "QueryRequestError",
    "QuerySyntaxError",
    "QueryTimeoutError",
    "QueryTooComplexError",
    "QueryUnavailableError",
    "ResultLimitError",
]


class QueryError(LifecycleGraphError):
    """A SPARQL request could not be answered; the subclass says why."""


class QuerySyntaxError(QueryError, SyntaxError):
    """The query (or update) is not valid SPARQL.

    ``lineno`` and ``offset`` (the column, from 1) point at the error when the parser
    says where it is; ``str()`` is the parser's own message.
    """

    def __init__(self, message: str, lineno: int | None = None, offset: int | None = None):
        super().__init__(message, ("<query>", lineno, offset, None))
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.message, self.lineno, self.offset))


class QueryRefusedError(QueryError, PermissionError):
    """The request uses a feature this service refuses (``SERVICE``, ``LOAD``, updates).

    ``feature`` names it, as SPARQL spells it.
    """

    def __init__(self, message: str, feature: str):
        super().__init__(message)
        self.feature = feature

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (str(self), self.feature))


class QueryTooComplexError(QueryError, RecursionError):
    """The query is nested too deeply, or is too long, for the query engine.

    Raised before evaluation when brackets nest deeper than the limit, and when the
    engine crashed on the query (its worker process died of it; the server did not).
    """


class QueryEvaluationError(QueryError, ValueError):
    """The query parses but cannot be evaluated as written, whatever the data: it calls
    a function the engine does not have (``<urn:fn>(1)``), or with the wrong number of
    arguments. The message ends with the engine's own."""


class QueryRequestError(QueryError, ValueError):
    """A parameter of the request is invalid (for example a graph name that is no IRI)."""


class NotAcceptableError(QueryError, ValueError):
    """None of the media types the client accepts can carry this result.

    ``offered`` lists the media types that could.
    """

    def __init__(self, message: str, offered: list[str]):
        super().__init__(message)
        self.offered = list(offered)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (str(self), self.offered))


class ResultLimitError(QueryError, RuntimeError):
    """The result has more rows (or triples) than ``limit``; nothing is returned."""

    def __init__(self, message: str, limit: int):
        super().__init__(message)
        self.limit = limit

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (str(self), self.limit))


class QueryTimeoutError(QueryError, TimeoutError):
    """The query ran longer than ``timeout`` seconds and was stopped."""

    def __init__(self, message: str, timeout: float):
        super().__init__(message)
        self.timeout = timeout

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (str(self), self.timeout))


class QueryUnavailableError(QueryError, OSError):
    """No query worker could run the query now (all busy, or the worker died).

    ``retry_after`` is a hint in seconds.
    """

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (str(self), self.retry_after))


__all__ += [
    "GraphQLAnswerTooLargeError",
    "GraphQLCancelledError",
    "GraphQLLimitError",
    "GraphQLTimeoutError",
    "GraphQLTooComplexError",
]


class SearchError(LifecycleGraphError, OSError):
    """The search index could not be opened, read or written."""


class SearchQueryError(LifecycleGraphError, ValueError):
    """A search request is invalid (an unknown type or domain, a bad page)."""


class GraphQLLimitError(LifecycleGraphError):
    """A GraphQL request went over one of the service's limits; the subclass says when.

    ``setting`` is the limit's configuration key (``graphql_max_cost``), ``limit`` its
    value, ``measured`` what the request came to (its cost, depth...) when that is
    known, ``path`` the response path where a running request met the limit, and
    ``locations`` the ``(line, column)`` places in the query it comes from.
    """

    def __init__(
        self,
        message: str,
        setting: str,
        limit: float,
        *,
        measured: float | None = None,
        path: list[str | int] | None = None,
        locations: list[tuple[int, int]] | None = None,
    ) -> None:
        super().__init__(message)
        self.setting = setting
        self.limit = limit
        self.measured = measured
        self.path = path
        self.locations = locations or []


class GraphQLTooComplexError(GraphQLLimitError, ValueError):
    """The query was refused before it ran: too many tokens, too deep, too many
    aliases, a page larger than the page size, or a cost over the limit."""


class GraphQLAnswerTooLargeError(GraphQLLimitError, RuntimeError):
    """The answer grew past its size limit, or a plain list past the page size, while
    it was being built; the execution was stopped and nothing is returned."""


class GraphQLTimeoutError(GraphQLLimitError, TimeoutError):
    """The execution ran past its time limit and was stopped."""


class GraphQLCancelledError(LifecycleGraphError):
    """The execution was stopped because its caller gave up (the client went away)."""


# --- The remote graph (lifecyclegraph.graph.remote) --------------------------------------

__all__ += ["AccessDeniedError", "RemoteGraphError"]


class RemoteGraphError(LifecycleGraphError, ConnectionError):
    """A running lifecyclegraph service could not be used as a graph: it does not
    answer, does not speak the graph protocol, or answered something that does not
    parse. ``url`` is the service's root URL (never a token)."""

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message)
        self.url = url

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (str(self), self.url))


class AccessDeniedError(LifecycleGraphError, PermissionError):
    """The service refused the token: none was sent, it is unknown, or it may read but
    not write. The message says which; ``url`` is the request's URL."""

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message)
        self.url = url

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (str(self), self.url))


# --- Queue consumers (lifecyclegraph.ingest.queues) -----------------------------------

__all__ += ["QueueError"]


class QueueError(LifecycleGraphError, ConnectionError):
    """A message queue cannot be consumed: it does not exist, its credentials are
    missing or refused, or its service cannot be reached. The message says which, and
    names the queue; ``queue`` is the queue's URL as configured (``sqs://events``)."""

    def __init__(self, message: str, queue: str) -> None:
        super().__init__(message)
        self.queue = queue

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (str(self), self.queue))
