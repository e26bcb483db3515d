"""Configuration: ``lifecyclegraph.toml`` (or the file given with ``--config``).

Every table is validated on load; an unknown key is an error that names the key
and the file. Secrets (auth headers) never appear in reprs or error messages.

.. code-block:: toml

    [store]
    path = "data/store"

    [sources.registry]
    url = "http://127.0.0.1:8900/registry"
    rate_limit = 20        # requests per second, never exceeded
    timeout = 5.0          # seconds per request
    concurrency = 4        # requests in flight
    auth_header = "Bearer s3cr3t"   # optional, sent as Authorization

    [search]
    backend = "tantivy"    # or "whoosh" (pure Python, up to some tens of thousands)
    batch_ms = 100         # gather changes this long before writing them to the index

    [model]                # where the ontology, shapes and rules are (default: shipped)
    ontology = "model/ontology"
    shapes = "model/shapes"
    rules = "model/rules"

>>> config = Config.from_text('[sources.registry]\\nurl = "http://localhost:1/registry"\\n')
>>> config.sources["registry"].rate_limit
20.0
>>> Config.from_text('[sources.registry]\\nurl = "http://x"\\nrate = 5\\n')
Traceback (most recent call last):
...
lifecyclegraph.core.errors.ConfigError: <text>: sources.registry.rate: unknown key
"""

from __future__ import annotations

import difflib
import json
import textwrap
import tomllib
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.core.plugins import PROVIDERS, SEARCH_BACKENDS, PluginRegistry

__all__ = [
    "ClientConfig",
    "ClientSettings",
    "ClusterConfig",
    "Config",
    "IngestConfig",
    "ModelConfig",
    "QueueConfig",
    "RulesConfig",
    "SearchConfig",
    "ServerConfig",
    "SourceConfig",
    "StoreConfig",
    "describe",
    "load_config",
    "redact_url",
    "source_model",
]

DEFAULT_FILE = "lifecyclegraph.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClientSettings(_Strict):
    """How the HTTP client talks to one source system: the one declaration of its
    settings (bounds, defaults, meaning), shared by the ``[sources.<platform-id>]``
    table (:class:`SourceConfig`) and the client's own
    :class:`~lifecyclegraph.providers.http.SourceSettings`. ``docs/hydration.md``
    explains each; a test checks its table against these fields.

    >>> ClientSettings(url="http://127.0.0.1:8900/registry/").url
    'http://127.0.0.1:8900/registry'
    """

    url: str = Field(
        description="base URL; paths such as /api/v1/models/x are appended (a trailing / "
        "is dropped)"
    )
    rate_limit: float = Field(
        default=20.0,
        gt=0,
        allow_inf_nan=False,
        description="the most requests per second, as the source counts them; every attempt counts",
    )
    timeout: float = Field(
        default=5.0,
        gt=0,
        allow_inf_nan=False,
        description="seconds one attempt may take, from sending to the last byte of the answer",
    )
    concurrency: int = Field(
        default=4,
        ge=1,
        description="the most requests in flight at once (and the size of the connection pool)",
    )
    auth_header: SecretStr | None = Field(
        default=None, description="the value of the Authorization header; never shown"
    )
    max_retries: int = Field(
        default=5,
        ge=0,
        description="retries after the first attempt: at most max_retries + 1 attempts",
    )
    backoff_base: float = Field(
        default=0.1,
        gt=0,
        allow_inf_nan=False,
        description="seconds; the ceiling of the first retry's wait, doubling with each retry",
    )
    backoff_max: float = Field(
        default=10.0,
        gt=0,
        allow_inf_nan=False,
        description="seconds; no wait between attempts is longer, and a longer Retry-After "
        "hands the work back",
    )
    breaker_threshold: int = Field(
        default=5,
        ge=1,
        description="consecutive failed requests (after their retries) that open the circuit",
    )
    breaker_cooldown: float = Field(
        default=5.0,
        gt=0,
        allow_inf_nan=False,
        description="seconds the circuit stays open before one trial request",
    )
    cache_ttl: float = Field(
        default=1.0,
        ge=0,
        allow_inf_nan=False,
        description="seconds a good answer is reused for the same path and parameters",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return url.rstrip("/")

    def client_settings(self) -> dict[str, Any]:
        """The client settings alone, by name (a provider's own keys left out)."""
        return {name: getattr(self, name) for name in ClientSettings.model_fields}


class SourceConfig(ClientSettings):
    """One ``[sources.<platform-id>]`` table: how to reach a source system.

    A provider with keys of its own declares a subclass as its ``config_model``; the
    table is then validated with it.
    """

    provider: str | None = Field(
        default=None, description="entry point name of the provider (default: the platform id)"
    )


class StoreConfig(_Strict):
    """``[store]``: where the on-disk store lives (``--store`` overrides it), or the
    remote SPARQL 1.1 store that holds the graph instead (``url``, see
    ``docs/remote-store.md``; ``path`` then keeps the journal, the search index and the
    write token).

    >>> StoreConfig(url="http://127.0.0.1:7878", password="s3cr3t").password
    SecretStr('**********')
    """

    path: Path = Path("data") / "store"
    url: str | None = Field(
        default=None,
        description="a remote SPARQL 1.1 store's root URL (http://host:7878); "
        "unset: the embedded Oxigraph store in path",
    )
    query_path: str = Field(default="/query", description="its SPARQL Query endpoint")
    update_path: str = Field(default="/update", description="its SPARQL Update endpoint")
    user: str | None = Field(default=None, description="a user for HTTP authentication")
    password: SecretStr | None = Field(default=None, description="the user's password")
    digest: bool = Field(default=False, description="HTTP digest, not basic, authentication")
    timeout: float = Field(default=60.0, gt=0, description="seconds to wait for an answer")
    flush_every: int = Field(
        default=200_000,
        ge=0,
        description="quads written to the embedded store between two flushes of its write "
        "buffers to disk (0: RocksDB's own limits only); fewer flushes make fewer, larger "
        "files to compact, at the cost of memory (docs/benchmarks.md, Scale)",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        return value


class IngestConfig(_Strict):
    """``[ingest]``: the limits events are checked against, and the worker."""

    max_event_bytes: int = Field(
        default=64 * 1024, ge=256, description="the largest event, as JSON text in bytes"
    )
    max_batch_events: int = Field(
        default=10_000, ge=1, description="the most events one POST /api/v1/events may hold"
    )
    max_uri_length: int = Field(
        default=2048,
        ge=64,
        description="the longest AIP URI (percent-encoded) an event may name or that is "
        "hydrated: its resource id goes into a URL",
    )
    max_attempts: int = Field(
        default=20,
        ge=1,
        description="failed hydrations of one URI before it is dead-lettered "
        "(with the back-off, about 30 to 60 minutes of trying)",
    )
    reconcile_interval: float = Field(
        default=86_400.0,
        ge=0,
        description="seconds between reconciliations inside serve (every known entity read "
        "again, spread over the interval, within each source's rate limit); 0: never",
    )
    enrich_interval: float = Field(
        default=3_600.0,
        ge=0,
        description="seconds between enrichment passes inside serve (stubs hydrated, and "
        "entities older than enrich_stale_after), spread over the interval; 0: never",
    )
    enrich_stale_after: float | None = Field(
        default=None,
        gt=0,
        description="an enrichment pass also reads entities not hydrated for this many "
        "seconds (default: only stubs)",
    )
    hydration_process: bool = Field(
        default=True,
        description="hydrate (HTTP and normalization) in a child process, beside the "
        "writes of the previous batch (the 100k backfill 14% faster on 2 cores, "
        "measured; false: in the service's event loop)",
    )


class RulesConfig(_Strict):
    """``[rules]``: the rule engine that keeps derived facts up to date."""

    enabled: bool = True
    limit: int | None = Field(
        default=None,
        ge=1,
        description="the most facts a rule run may hold (default: 20 per asserted fact "
        "the rules read, and at least 10M)",
    )


class SearchConfig(_Strict):
    """``[search]``: the search index (``lifecyclegraph search``, ``graph.search()``)."""

    backend: str = Field(
        default="tantivy",
        description="the engine: tantivy (Rust, carries a million entities), whoosh "
        "(pure Python, slow past about 50,000 entities) or any installed backend of the "
        "lifecyclegraph.search_backends entry-point group",
    )
    path: Path | None = Field(
        default=None, description="the index directory (default: <store>/search)"
    )
    batch_ms: int = Field(
        default=100, ge=0, le=900, description="how long to gather changes before a write"
    )
    fuzzy_below: int = Field(
        default=1, ge=0, description="try fuzzy matching when exact words find fewer hits"
    )
    ontology: Path | None = Field(
        default=None, description="ontology directory for type labels and domains"
    )
    enabled: bool = Field(
        default=True, description="keep the index up to date while the service runs"
    )

    @field_validator("backend")
    @classmethod
    def _installed_backend(cls, name: str) -> str:
        installed: PluginRegistry[object] = PluginRegistry(SEARCH_BACKENDS, "search backend")
        if name not in installed.names():
            raise ValueError(installed.unknown(name))
        return name


class ModelConfig(_Strict):
    """``[model]``: the folders of the ontology, shapes and rules that every command
    reads (``serve``, ``validate``, ``rules``, ``lint``...); a folder not given is the
    shipped one. A relative path is taken from the working directory, as ``[store]
    path`` is. The ``--ontology``, ``--shapes`` and ``--rules`` options override them."""

    ontology: Path | None = Field(default=None, description="folder of the ontology's *.ttl")
    shapes: Path | None = Field(default=None, description="folder of the SHACL shapes' *.ttl")
    rules: Path | None = Field(default=None, description="folder of the *.rules files")


#: The queue kinds a ``[[queues]]`` URL may name, by scheme.
QUEUE_SCHEMES = ("sqs", "kafka")


class QueueConfig(_Strict):
    """One ``[[queues]]`` table: a message queue whose messages are events, consumed
    by ``serve`` (and ``lifecyclegraph ingest --from-queue URL``). Each message is one
    event or a JSON array of events; it is acknowledged only once its events are in
    the journal (docs/queues.md).

    >>> QueueConfig(url="sqs://lifecyclegraph-events").kind
    'sqs'
    >>> QueueConfig(url="kafka://127.0.0.1:9092/events").name
    'kafka:events'
    >>> Config.from_text('[[queues]]\\nurl = "sqs://events"\\nbatch = 50\\n')
    Traceback (most recent call last):
    ...
    lifecyclegraph.core.errors.ConfigError: <text>: ...
    """

    url: str = Field(
        description="sqs://<queue-name> (an Amazon SQS queue, found by name in the region) "
        "or kafka://<host:port>[,<host:port>...]/<topic>"
    )
    max_receives: int = Field(
        default=5,
        ge=1,
        description="a message received more often than this (never acknowledged: its "
        "batch kept failing) is a poison message: it goes to the dead letters, and is "
        "acknowledged (SQS counts receives; Kafka does not, so it never applies there)",
    )
    batch: int = Field(
        default=10, ge=1, description="the most messages taken at once (SQS: at most 10)"
    )
    wait_seconds: int = Field(
        default=20,
        ge=0,
        description="long polling: seconds one receive waits for a message (SQS: at most 20)",
    )
    visibility_timeout: int = Field(
        default=120,
        ge=1,
        le=43_200,
        description="SQS: seconds a received message stays hidden from other consumers; "
        "one not acknowledged by then is delivered again",
    )
    region: str | None = Field(
        default=None,
        description="SQS: the AWS region (default: boto3's, from AWS_REGION or the profile)",
    )
    endpoint_url: str | None = Field(
        default=None,
        description="SQS: another endpoint than AWS's (LocalStack, moto); credentials come "
        "from boto3's usual places (environment, profile, role), never from this file",
    )
    profile: str | None = Field(
        default=None, description="SQS: the AWS profile whose credentials are used"
    )
    group_id: str = Field(
        default="lifecyclegraph",
        description="Kafka: the consumer group whose committed offsets say what was consumed",
    )

    @field_validator("url")
    @classmethod
    def _queue_url(cls, url: str) -> str:
        scheme, sep, rest = url.partition("://")
        if not sep or scheme not in QUEUE_SCHEMES:
            raise ValueError(
                "must be sqs://<queue-name> or kafka://<host:port>/<topic>, not " + repr(url)
            )
        if scheme == "sqs" and (not rest or "/" in rest):
            raise ValueError(f"sqs://<queue-name> names one queue, not {url!r}")
        if scheme == "kafka":
            hosts, _, topic = rest.partition("/")
            if not hosts or not topic or "/" in topic:
                raise ValueError(f"kafka://<host:port>/<topic> needs hosts and a topic: {url!r}")
        return url

    @model_validator(mode="after")
    def _within_sqs_limits(self) -> QueueConfig:
        if self.kind == "sqs":
            if self.batch > 10:
                raise ValueError(
                    f"batch: SQS hands out at most 10 messages at once, not {self.batch}"
                )
            if self.wait_seconds > 20:
                raise ValueError(
                    f"wait_seconds: SQS long polling waits 20 seconds at most, not "
                    f"{self.wait_seconds}"
                )
        return self

    @property
    def kind(self) -> str:
        """``sqs`` or ``kafka``: the URL's scheme."""
        return self.url.partition("://")[0]

    @property
    def name(self) -> str:
        """How dead letters and logs name the queue: ``sqs:<queue>``, ``kafka:<topic>``."""
        return f"{self.kind}:{self.url.rpartition('/')[2]}"


def _usable_token(token: SecretStr) -> SecretStr:
    """Refuse a bearer token no client could send (its value never appears in the error)."""
    value = token.get_secret_value()
    if not value.strip():
        raise ValueError("a token must not be empty or blank")
    if value != value.strip():
        raise ValueError("a token must not begin or end with white space (it could never match)")
    return token


#: A bearer token from the configuration: not empty, not blank.
Token = Annotated[SecretStr, AfterValidator(_usable_token)]


class ClientConfig(_Strict):
    """``[client]``: a running service that the commands ask instead of opening the
    store (as ``--server`` and ``--token``, or ``LIFECYCLEGRAPH_URL`` and
    ``LIFECYCLEGRAPH_TOKEN``, which override it)."""

    url: str | None = Field(
        default=None,
        description="root URL of a running lifecyclegraph serve (http://127.0.0.1:8800)",
    )
    token: Token | None = Field(
        default=None,
        description="bearer token sent to it (a write token for reconcile, enrich, reindex, "
        "rules run and deadletters --replay)",
    )

    @field_validator("url")
    @classmethod
    def _http(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError("the service URL must begin with http:// or https://")
        return url


class ClusterConfig(_Strict):
    """``[cluster]``: this serve is one of several workers over one remote store and
    one queue, each owning a partition of the entity URIs (docs/scale-out.md). Needs
    ``[store] url``.

    >>> ClusterConfig(peers=["http://a:8800", "http://b:8800/"], me=1, token="t").peers
    ['http://a:8800', 'http://b:8800']
    >>> Config.from_text('[cluster]\\npeers = ["http://a:1"]\\nme = 0\\ntoken = "t"\\n')
    Traceback (most recent call last):
    ...
    lifecyclegraph.core.errors.ConfigError: <text>: cluster: needs a remote store ([store] url): ...
    """

    peers: list[str] = Field(
        min_length=1,
        description="every worker's base URL (http://10.0.0.1:8800), the same list in the "
        "same order on every worker",
    )
    me: int = Field(ge=0, description="this worker's index in peers (0 is the first)")
    token: Token = Field(
        description="the shared secret the workers send each other on their internal "
        "route (POST /api/v1/cluster/work); never shown"
    )
    timeout: float = Field(
        default=10.0, gt=0, allow_inf_nan=False, description="seconds a forward may take"
    )

    @field_validator("peers")
    @classmethod
    def _peer_urls(cls, peers: list[str]) -> list[str]:
        cleaned = []
        for n, url in enumerate(peers):
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"peer {n} is not an http:// or https:// URL: {url!r}")
            cleaned.append(url.rstrip("/"))
        twice = sorted({url for url in cleaned if cleaned.count(url) > 1})
        if twice:
            raise ValueError(f"a worker is listed twice: {', '.join(twice)}")
        return cleaned

    @model_validator(mode="after")
    def _me_in_peers(self) -> ClusterConfig:
        if self.me >= len(self.peers):
            raise ValueError(f"me: {self.me} is not an index of peers (0 to {len(self.peers) - 1})")
        return self


class ServerConfig(_Strict):
    """``[server]``: the HTTP service (``lifecyclegraph serve``)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8800, ge=0, le=65535, description="0 picks a free port")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="the lowest level serve logs (its own and uvicorn's)"
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="text lines, or one JSON object a line for collectors"
    )
    access_log: bool = Field(default=True, description="log every request (at info level)")
    write_tokens: list[Token] = Field(
        default_factory=list,
        description="bearer tokens allowed to write (events, updates); "
        "when empty, serve makes one at start and prints it",
    )
    read_tokens: list[Token] = Field(
        default_factory=list, description="when set, reads need one of these (or a write token)"
    )
    cors_origins: list[str] = Field(default_factory=list)
    max_request_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    query_timeout: float = Field(
        default=10.0, gt=0, description="seconds a SPARQL query may run before it is stopped"
    )
    max_results: int = Field(
        default=100_000, ge=1, description="the most rows or triples a SPARQL result may have"
    )
    query_workers: int = Field(
        default=2, ge=1, description="SPARQL queries that can run at once (one process each)"
    )
    query_staleness: float = Field(
        default=1.0,
        ge=0,
        description="seconds a SPARQL query may lag behind the latest write "
        "(0: it sees every write committed before it started)",
    )
    graphql_timeout: float = Field(
        default=10.0,
        gt=0,
        description="seconds a GraphQL query may run before it is stopped; also the "
        "longest a query waits for one of graphql_workers",
    )
    graphql_workers: int = Field(
        default=2, ge=1, description="GraphQL queries that can run at once (one thread each)"
    )
    graphql_max_cost: int = Field(
        default=100_000,
        ge=1,
        description="the most fields a GraphQL query may resolve, counted before it runs: "
        "each field once per item of the lists above it (docs/graphql.md)",
    )
    graphql_max_page_size: int = Field(
        default=100,
        ge=1,
        description="the largest 'first' of a GraphQL list or connection, the size of one "
        "without it, and the most items a plain list may have",
    )
    graphql_max_depth: int = Field(
        default=20, ge=1, description="how deep fields may nest in a GraphQL query"
    )
    graphql_max_aliases: int = Field(
        default=30, ge=0, description="aliased fields in a GraphQL query, counted as executed"
    )
    graphql_max_tokens: int = Field(
        default=2_000,
        ge=1,
        description="lexical tokens in a GraphQL query's text, checked before it is parsed",
    )
    graphql_max_answer_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        description="the size of a GraphQL answer's JSON, counted while it is built",
    )
    freeze_heap: float = Field(
        default=5.0,
        ge=0,
        description="every this many seconds, move the long-lived heap out of the cyclic "
        "garbage collector's walks (gc.freeze), unfreezing it for one full collection "
        "each time it has doubled (lifecyclegraph.core.collector; 0: Python's own "
        "collector alone)",
    )


class Config(_Strict):
    """The whole configuration file."""

    store: StoreConfig = StoreConfig()
    ingest: IngestConfig = IngestConfig()
    rules: RulesConfig = RulesConfig()
    server: ServerConfig = ServerConfig()
    search: SearchConfig = SearchConfig()
    model: ModelConfig = ModelConfig()
    client: ClientConfig = ClientConfig()
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    queues: list[QueueConfig] = Field(default_factory=list)
    cluster: ClusterConfig | None = None
    source_file: str | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _cluster_over_a_remote_store(self) -> Config:
        if self.cluster is not None and self.store.url is None:
            raise ValueError(
                "cluster: needs a remote store ([store] url): every worker reads and "
                "writes the same graph"
            )
        return self

    @field_validator("sources", mode="wrap")
    @classmethod
    def _by_provider(cls, tables: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """Validate each ``[sources.<id>]`` table with its provider's ``config_model``
        (every problem of every table reported, each under its table)."""
        if not isinstance(tables, dict):
            return handler(tables)
        validated: dict[str, Any] = {}
        problems: list[InitErrorDetails] = []
        for platform_id, table in tables.items():
            if isinstance(table, SourceConfig) or not isinstance(table, dict):
                validated[platform_id] = table
                continue
            model = source_model(str(table.get("provider") or platform_id))
            try:
                validated[platform_id] = model.model_validate(table)
            except ValidationError as error:
                problems += [
                    InitErrorDetails(
                        type=item["type"],
                        loc=(platform_id, *item["loc"]),
                        input=item["input"],
                        ctx=item.get("ctx", {}),
                    )
                    for item in error.errors()
                ]
        if problems:
            raise ValidationError.from_exception_data("sources", problems)
        return handler(validated)

    @classmethod
    def from_text(cls, text: str, name: str = "<text>") -> Config:
        """Parse and validate TOML text (``name`` is used in error messages)."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{name}: not valid TOML: {error}") from error
        return cls.from_dict(data, name)

    @classmethod
    def from_dict(cls, data: dict[str, Any], name: str = "<dict>") -> Config:
        try:
            return cls.model_validate({**data, "source_file": name})
        except ValidationError as error:
            raise ConfigError(_describe(error, name)) from None


def _toml_value(value: Any) -> str | None:
    """``value`` written as TOML, or ``None`` when TOML cannot write it (unset)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value))
    if isinstance(value, list):
        items = [_toml_value(v) for v in value]
        return None if None in items else "[" + ", ".join(i for i in items if i) + "]"
    return None


def sample_config() -> str:
    """A commented ``lifecyclegraph.toml``: every table and key of :class:`Config` with
    its meaning and default, each key commented out (``# key = default``), so the file
    as written, and with every key line uncommented, is the default configuration
    (``lifecyclegraph config init``)."""
    lines = [
        "# lifecyclegraph configuration. Every key is shown with its default, commented",
        "# out: uncomment and change what you need. Reference: docs/ingestion.md (sources,",
        "# limits), docs/sparql.md and docs/graphql.md ([server]), docs/search.md,",
        "# docs/stewards.md ([model]).",
    ]
    defaults = Config()
    for table, field in Config.model_fields.items():
        model = field.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        summary = " ".join((model.__doc__ or f"[{table}]").split("\n\n")[0].split())
        lines += ["", *_wrapped(summary.replace("``", "")), f"[{table}]"]
        current = getattr(defaults, table)
        for key, info in model.model_fields.items():
            if info.description:
                lines += _wrapped(f"{key}: {info.description}")
            value = _toml_value(getattr(current, key))
            lines.append(f"# {key} = {value}" if value is not None else f"# {key}: not set")
    lines += [
        "",
        "# A source system: one table per platform id, read by the provider of that name",
        "# (or the one its provider key names). An example, to copy without the '## ':",
        "## [sources.registry]",
        '## url = "http://127.0.0.1:8900/registry"',
        "## rate_limit = 50.0",
        "# Its keys, and those of every source:",
    ]
    for key, info in ClientSettings.model_fields.items():
        if info.description:
            lines += _wrapped(f"  {key}: {info.description}")
    lines += [
        "",
        "# A message queue whose messages are events, consumed by serve (docs/queues.md):",
        "# one [[queues]] table each. An example, to copy without the '## ':",
        "## [[queues]]",
        '## url = "sqs://lifecyclegraph-events"',
        '## region = "eu-west-1"',
        "# Its keys:",
    ]
    for key, info in QueueConfig.model_fields.items():
        value = None if info.is_required() else _toml_value(info.default)
        default = f" (default {value})" if value is not None else ""
        if info.description:
            lines += _wrapped(f"  {key}: {info.description}{default}")
    lines += [
        "",
        *_wrapped(
            " ".join((ClusterConfig.__doc__ or "").split("\n\n")[0].split()).replace("``", "")
        ),
        "# An example (worker 0 of two), to copy without the '## ':",
        "## [cluster]",
        '## peers = ["http://10.0.0.1:8800", "http://10.0.0.2:8800"]',
        "## me = 0",
        '## token = "a long random secret, the same on every worker"',
        "# Its keys:",
    ]
    for key, info in ClusterConfig.model_fields.items():
        value = None if info.is_required() else _toml_value(info.default)
        default = f" (default {value})" if value is not None else ""
        if info.description:
            lines += _wrapped(f"  {key}: {info.description}{default}")
    return "\n".join(lines) + "\n"


def _wrapped(text: str) -> list[str]:
    return textwrap.wrap(text, 86, initial_indent="# ", subsequent_indent="#   ")


def source_model(provider: str) -> type[SourceConfig]:
    """The model of a ``[sources.<id>]`` table whose provider is called ``provider``:
    the provider's ``config_model``, found through its entry point (only that one
    provider is imported). A provider that is not installed or cannot be loaded gets
    :class:`SourceConfig`; :class:`~lifecyclegraph.providers.sources.Sources` then
    says what is wrong with it.

    >>> source_model("registry").__name__
    'SourceConfig'
    """
    try:
        found = PluginRegistry[object](PROVIDERS, "provider").load(provider)
    except ConfigError:
        return SourceConfig
    model = getattr(found, "config_model", SourceConfig)
    return model if isinstance(model, type) and issubclass(model, SourceConfig) else SourceConfig


def describe(error: ValidationError, prefix: str) -> str:
    """A validation error of settings given in code, one line per problem, each naming
    its key under ``prefix`` in plain words (``sources.registry.rate_limit must be > 0,
    not 0``); the value of a secret or a URL's credentials never appear.

    >>> try:
    ...     ClientSettings(url="http://x", timeout=float("nan"), concurrency=2.5)
    ... except ValidationError as error:
    ...     print(describe(error, "sources.registry"))
    sources.registry.timeout must be > 0, not nan
    sources.registry.concurrency must be a whole number, not 2.5
    """
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        field = ClientSettings.model_fields.get(str(item["loc"][0])) if item["loc"] else None
        value = item.get("input")
        shown = "<redacted>" if isinstance(value, SecretStr) or key == "auth_header" else value
        if key == "url" and isinstance(value, str):
            shown = redact_url(value)
        kind = item["type"]
        if kind == "finite_number" and value == value:  # an infinity (nan != nan)
            text = f"must be a finite number, not {shown!r}"
        elif kind in ("greater_than", "greater_than_equal", "finite_number"):
            text = f"must be {_bound(item.get('ctx'), field)}, not {shown!r}"
        elif kind.startswith("int_"):
            text = f"must be a whole number, not {shown!r}"
        elif kind == "extra_forbidden":
            text = "is not a setting"
        elif kind == "value_error":
            text = f"{item['ctx']['error']}, not {shown!r}"
        else:
            text = f"{item['msg'][:1].lower()}{item['msg'][1:]}"
        lines.append(f"{prefix}.{key} {text}")
    return "\n".join(lines)


def _bound(ctx: dict[str, Any] | None, field: Any) -> str:
    """``> 0`` or ``>= 0``: the bound in the error's context, else the field's own."""
    metadata = field.metadata if field is not None else []
    for name, sign in (("gt", ">"), ("ge", ">=")):
        for bound in [(ctx or {}).get(name), *(getattr(m, name, None) for m in metadata)]:
            if bound is not None:
                return f"{sign} {bound:g}"
    return "a finite number"


def redact_url(url: str) -> str:
    """The URL without the credentials it may hold (``user:password@``), for messages and logs.

    >>> redact_url("https://bot:s3cret@registry.example.com/api")
    'https://[secure]@registry.example.com/api'
    >>> redact_url("http://127.0.0.1:8900/registry")
    'http://127.0.0.1:8900/registry'
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"[secure]@{host}"))


def _known_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys of the table holding the key at ``loc`` (``("server", "port")``: the
    keys of ``[server]``), or ``[]`` where the model is not known statically."""
    model: Any = Config
    named = False  # the part is a table's name ([sources.<id>]), not a key
    for part in loc[:-1]:
        if named:
            named = False
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        model = field.annotation
        if get_origin(model) is dict:
            model, named = get_args(model)[1], True
        elif get_origin(model) in (UnionType, Union):  # an optional table: [cluster]
            model = next(arg for arg in get_args(model) if arg is not type(None))
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [key for key in model.model_fields if key != "source_file"]
    return []


def _unknown_key(loc: tuple[int | str, ...]) -> str:
    """``unknown key``, with the nearest known key when one is close.

    >>> _unknown_key(("server", "qurey_workers"))
    "unknown key; did you mean 'query_workers'?"
    >>> _unknown_key(("serve",))
    "unknown key; did you mean 'server'?"
    >>> _unknown_key(("sources", "registry", "rate_limt"))
    "unknown key; did you mean 'rate_limit'?"
    """
    known = _known_keys(loc)
    near = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    return f"unknown key; did you mean {near[0]!r}?" if near else "unknown key"


def _describe(error: ValidationError, name: str) -> str:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        if item["type"] == "extra_forbidden":
            problems.append(f"{name}: {where}: {_unknown_key(tuple(item['loc']))}")
        elif not where and item["type"] == "value_error":  # the whole file: the key is in it
            problems.append(f"{name}: {item['ctx']['error']}")
        else:
            problems.append(f"{name}: {where}: {item['msg']}")
    return "\n".join(problems)


def load_config(path: str | Path | None = None) -> Config:
    """Load ``path``, or ``lifecyclegraph.toml`` in the working directory if it exists.

    Raises:
        ConfigError: if the file given does not exist, or the file is invalid.
    """
    if path is None:
        default = Path(DEFAULT_FILE)
        if not default.exists():
            return Config()
        path = default
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"{file}: no such configuration file")
    return Config.from_text(file.read_text(), str(file))
