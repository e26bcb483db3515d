"""The provider contract: what a source-system plugin implements.

A provider is a class registered in the ``lifecyclegraph.providers`` entry-point
group. It declares the events it handles and the component types it can hydrate,
so a URI alone is enough to hydrate an entity, and it turns the source's JSON into
normalized :class:`~lifecyclegraph.core.facts.Facts`. It reports what went wrong as
structured warnings and failures instead of stopping the run.

The class is the whole source system, through that one entry point: its event types
(:attr:`Provider.events`), its ``[sources.<platform-id>]`` table
(:attr:`Provider.config_model`) and its sandbox fake (:attr:`Provider.fake`, loaded
only by the sandbox).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

from lifecyclegraph.core.config import SourceConfig
from lifecyclegraph.core.events import EventKind, WebhookRejected
from lifecyclegraph.core.facts import Facts
from lifecyclegraph.core.uris import AipUri

__all__ = [
    "KEPT_PROBLEMS",
    "Fetcher",
    "Hydrated",
    "HydrationContext",
    "Problem",
    "Provider",
    "SourceReport",
]


class FetchedLike(Protocol):
    status: int
    body: dict[str, Any] | None
    fetched_at: datetime


class Fetcher(Protocol):
    """What a provider needs from the HTTP client of its source."""

    async def get(self, path: str, params: dict[str, str] | None = None) -> FetchedLike: ...


@dataclass(frozen=True, slots=True)
class Problem:
    """One structured warning or failure."""

    kind: str  #: a short machine-readable code, e.g. ``unresolved-owner``
    uri: str | None
    message: str
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


#: how many of its latest warnings, and of its latest failures, a source's report keeps
#: (its counts go on: a long-running service does not keep every problem it ever had)
KEPT_PROBLEMS = 1000


def _kept() -> deque[Problem]:
    return deque(maxlen=KEPT_PROBLEMS)


@dataclass
class SourceReport:
    """What happened while talking to one source (DataHub's ``SourceReport`` idea).

    ``warned`` and ``failed`` count every warning and failure; ``warnings`` and
    ``failures`` keep the latest :data:`KEPT_PROBLEMS` of each, oldest first.
    """

    platform_id: str
    hydrated: int = 0
    gone: int = 0
    warned: int = 0
    failed: int = 0
    warnings: deque[Problem] = field(default_factory=_kept)
    failures: deque[Problem] = field(default_factory=_kept)

    def warn(self, kind: str, uri: str | None, message: str) -> None:
        self.add_warnings([Problem(kind, uri, message)])

    def fail(self, kind: str, uri: str | None, message: str) -> None:
        self.add_failures([Problem(kind, uri, message)])

    def add_warnings(self, problems: Sequence[Problem], count: int | None = None) -> None:
        """Record warnings (made here, or by the hydrating child: ``count`` of them,
        of which ``problems`` are the latest, when more than were kept)."""
        self.warnings.extend(problems)
        self.warned += len(problems) if count is None else count

    def add_failures(self, problems: Sequence[Problem], count: int | None = None) -> None:
        """Record failures, as :meth:`add_warnings` records warnings."""
        self.failures.extend(problems)
        self.failed += len(problems) if count is None else count

    def since(self, warned: int, failed: int) -> tuple[list[Problem], list[Problem]]:
        """The warnings and failures recorded after the counts were ``warned`` and
        ``failed`` (those still kept)."""
        return _latest(self.warnings, self.warned - warned), _latest(
            self.failures, self.failed - failed
        )

    def latest(self, n: int = 5) -> list[dict[str, Any]]:
        """The latest ``n`` warnings and failures, newest first, for a status page."""
        tagged = [("warning", p) for p in _latest(self.warnings, n)]
        tagged += [("failure", p) for p in _latest(self.failures, n)]
        tagged.sort(key=lambda item: item[1].at, reverse=True)
        return [
            {
                "level": level,
                "kind": p.kind,
                "uri": p.uri,
                "message": p.message,
                "at": p.at.isoformat(),
            }
            for level, p in tagged[:n]
        ]


def _latest(problems: deque[Problem], n: int) -> list[Problem]:
    """The last ``n`` of ``problems`` (all of them if fewer are kept), oldest first."""
    if n <= 0:
        return []
    return list(problems)[-n:]


@dataclass(frozen=True)
class Hydrated:
    """The result of hydrating one URI.

    ``facts`` is ``None`` when the source says the object does not exist (``404``).
    ``references`` maps each IRI the facts refer to onto its expected class, so that
    stubs can be made for entities not seen yet.
    """

    uri: str
    facts: Facts | None
    references: dict[str, str]
    observed_at: datetime
    unresolved_owners: tuple[str, ...] = ()


@dataclass
class HydrationContext:
    """Services a provider may use while normalizing: owner resolution and reporting."""

    report: SourceReport
    resolve_email: Callable[[str], Awaitable[str | None]]


class Provider:
    """Base class of every provider (the six reference ones included).

    Subclasses set :attr:`platform_id`, :attr:`events` and :attr:`component_types`
    and implement :meth:`hydrate`; optionally :attr:`config_model` (keys of their own
    in their ``[sources.<platform-id>]`` table, read in :meth:`create`) and
    :attr:`fake` (their system in the sandbox).
    """

    #: the platform id of the source (second part of its AIP URIs)
    platform_id: ClassVar[str]
    #: the events this provider handles
    events: ClassVar[tuple[EventKind, ...]] = ()
    #: component types it can hydrate, each with the ontology class a stub gets
    component_types: ClassVar[dict[str, str]] = {}
    #: whether it resolves owner emails to user URIs (the identity platform does)
    resolves_emails: ClassVar[bool] = False
    #: its ``[sources.<platform-id>]`` table: :class:`SourceConfig` (the client
    #: settings and ``provider``) or a subclass with keys of its own
    config_model: ClassVar[type[SourceConfig]] = SourceConfig
    #: ``"module:attribute"`` of its sandbox fake (a
    #: :class:`~lifecyclegraph.providers.fake.FakeSystem`), imported only by the sandbox
    fake: ClassVar[str | None] = None
    #: whether its source pushes whole documents (OpenLineage) instead of thin events:
    #: they are recorded by :meth:`records` and folded by :meth:`fold`, never read back
    pushed: ClassVar[bool] = False

    def __init__(self, client: Fetcher) -> None:
        self.client = client

    @classmethod
    def create(cls, config: SourceConfig, client: Fetcher) -> Provider:
        """Make the provider of one configured source (DataHub's ``Source.create``).

        Args:
            config: its ``[sources.<platform-id>]`` table, an instance of
                :attr:`config_model`.
            client: the HTTP client of the source, built from the same table.

        A provider with keys of its own overrides this to read them; the default
        ignores the table.
        """
        return cls(client)

    async def hydrate(
        self, uri: AipUri, ctx: HydrationContext, hint: str | None = None
    ) -> Hydrated:
        """Read the object named by ``uri`` from the source and normalize it.

        Args:
            uri: an AIP URI whose component type is in :attr:`component_types`.
            ctx: owner resolution and the report.
            hint: the ontology class the caller expects, when it knows one.
        """
        raise NotImplementedError

    def webhook_events(self, headers: Mapping[str, str], body: bytes) -> list[dict[str, Any]]:
        """The thin events a webhook delivery of this source means, once its signature is
        checked (``POST /api/v1/webhooks/<platform-id>``).

        Args:
            headers: the request's headers.
            body: the request's body, exactly as received.

        Returns:
            Events as objects (each then checked as any event is); none for a
            delivery about something the provider does not hold.

        Raises:
            WebhookRejected: the delivery is refused (its ``status``: ``403`` for a bad
                signature, ``400`` for a malformed delivery). By default every delivery
                is, with ``404``: the source takes no webhooks.
        """
        raise WebhookRejected(f"source {self.platform_id!r} takes no webhooks", 404)

    def records(self, document: Any) -> list[tuple[str, str, str]]:
        """A pushed source's document checked: ``(uri, event type, class)`` of each
        object to record it under (and hydrate by :meth:`fold`).

        Raises:
            EventRejected: the document is refused; the reason names the field.
        """
        raise NotImplementedError(f"{self.platform_id} is not a pushed source")

    async def fold(self, uri: AipUri, payloads: list[str], ctx: HydrationContext) -> Hydrated:
        """A pushed source's object from the documents recorded for it (JSON texts,
        oldest first): its current state, or ``facts=None`` when none is recorded."""
        raise NotImplementedError(f"{self.platform_id} is not a pushed source")

    async def resolve_email(self, email: str) -> str | None:
        """The user URI of an email, or ``None`` if the platform does not know it."""
        raise NotImplementedError(f"{self.platform_id} does not resolve emails")
