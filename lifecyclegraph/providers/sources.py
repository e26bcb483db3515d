"""The configured source systems: one provider and one HTTP client per platform id.

:class:`Sources` is what the ingestion worker talks to: it turns an event into a URI,
finds the provider for a URI, resolves owner emails through the identity provider,
and keeps a :class:`~lifecyclegraph.providers.SourceReport` per source.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from lifecyclegraph.core.config import Config, SourceConfig, describe
from lifecyclegraph.core.errors import ConfigError, LifecycleGraphError
from lifecyclegraph.core.events import EventKind
from lifecyclegraph.core.uris import AipUri
from lifecyclegraph.providers import Hydrated, HydrationContext, Provider, SourceReport
from lifecyclegraph.providers.freshness import reading_after
from lifecyclegraph.providers.loader import available_providers

__all__ = ["Sources", "UnknownPlatform"]

ClientFactory = Callable[[str, SourceConfig], Any]


class UnknownPlatform(LifecycleGraphError, LookupError):
    """No configured source can hydrate this URI."""


def default_client(platform_id: str, config: SourceConfig) -> Any:
    """The real HTTP client of a source (rate limit, retries, circuit breaker, cache)."""
    from lifecyclegraph.providers.http import SourceClient, SourceSettings

    return SourceClient(SourceSettings(platform_id, **config.client_settings()))


class Sources:
    """Providers and clients for every ``[sources.<platform-id>]`` of the configuration.

    Args:
        config: the validated configuration.
        providers: provider classes by entry-point name (default: the installed ones).
        client_factory: builds the HTTP client of a source (tests pass their own).

    Raises:
        ConfigError: if a source names a provider that is not installed, or its
            provider's platform id differs from the table's name.
    """

    def __init__(
        self,
        config: Config,
        providers: Mapping[str, type[Provider]] | None = None,
        client_factory: ClientFactory = default_client,
    ) -> None:
        installed = dict(providers if providers is not None else available_providers())
        self.providers: dict[str, Provider] = {}
        self.clients: dict[str, Any] = {}
        self.reports: dict[str, SourceReport] = {}
        for platform_id, source in sorted(config.sources.items()):
            name = source.provider or platform_id
            cls = installed.get(name)
            if cls is None:
                known = ", ".join(sorted(installed)) or "none"
                raise ConfigError(
                    f"{config.source_file}: sources.{platform_id}: no provider {name!r} is "
                    f"installed (installed: {known})"
                )
            if cls.platform_id != platform_id:
                raise ConfigError(
                    f"{config.source_file}: sources.{platform_id}: provider {name!r} serves "
                    f"platform {cls.platform_id!r}; name the table [sources.{cls.platform_id}]"
                )
            where = f"{config.source_file}: " if config.source_file else ""
            if not isinstance(source, cls.config_model):
                # a provider handed in (not found through its entry point) with keys
                # of its own: its table is read again with its model
                try:
                    source = cls.config_model.model_validate(source.model_dump())
                except ValidationError as error:
                    raise ConfigError(describe(error, f"{where}sources.{platform_id}")) from None
            client = client_factory(platform_id, source)
            self.clients[platform_id] = client
            self.providers[platform_id] = cls.create(source, client)
            self.reports[platform_id] = SourceReport(platform_id)

    @property
    def kinds(self) -> dict[str, EventKind]:
        """The event kinds of every configured source, by event type."""
        return {k.event_type: k for p in self.providers.values() for k in p.events}

    def provider_for(self, uri: AipUri) -> Provider:
        """The provider that hydrates ``uri``.

        Raises:
            UnknownPlatform: no configured source has the URI's platform id, or its
                provider cannot hydrate that component type.
        """
        provider = self.providers.get(uri.platform_id)
        if provider is None:
            raise UnknownPlatform(
                f"no source is configured for platform {uri.platform_id!r}: {uri}"
            )
        if uri.component_type not in provider.component_types:
            raise UnknownPlatform(
                f"provider {uri.platform_id!r} cannot hydrate component type "
                f"{uri.component_type!r}: {uri}"
            )
        return provider

    async def hydrate(
        self, uri: str, hint: str | None = None, *, not_before: datetime | None = None
    ) -> Hydrated:
        """Read the entity named by ``uri`` from its source and normalize it.

        Args:
            uri: the entity's AIP URI.
            hint: the ontology class the caller expects, when it knows one.
            not_before: when the event that asked for this hydration was accepted
                (UTC): no answer the source gave to a request sent before then is used
                (see :mod:`lifecyclegraph.providers.freshness`). ``None`` (reconcile,
                enrichment) lets the client use its cache.
        """
        parsed = AipUri.parse(uri)
        provider = self.provider_for(parsed)
        ctx = HydrationContext(self.reports[parsed.platform_id], self.resolve_email)
        with reading_after(not_before):
            hydrated = await provider.hydrate(parsed, ctx, hint)
        report = self.reports[parsed.platform_id]
        if hydrated.facts is None:
            report.gone += 1
        else:
            report.hydrated += 1
        return hydrated

    def pushed(self, uri: str) -> bool:
        """Whether ``uri`` belongs to a pushed source (folded from the journal)."""
        platform = uri.removeprefix("aip://").split("/", 2)[1:2]
        provider = self.providers.get(platform[0]) if platform else None
        return provider is not None and provider.pushed

    async def fold(self, uri: str, payloads: list[str]) -> Hydrated:
        """The entity named by ``uri`` of a pushed source, from its recorded documents."""
        parsed = AipUri.parse(uri)
        provider = self.provider_for(parsed)
        report = self.reports[parsed.platform_id]
        hydrated = await provider.fold(
            parsed, payloads, HydrationContext(report, self.resolve_email)
        )
        if hydrated.facts is None:
            report.gone += 1
        else:
            report.hydrated += 1
        return hydrated

    async def resolve_email(self, email: str) -> str | None:
        """The user URI of an owner email, through the source that resolves emails.

        The lookup may use a cached answer even within a hydration an event started:
        the event is about the entity, not about its owners.
        """
        for provider in self.providers.values():
            if provider.resolves_emails:
                with reading_after(None):
                    return await provider.resolve_email(email)
        return None

    async def aclose(self) -> None:
        for client in self.clients.values():
            close = getattr(client, "aclose", None)
            if close is not None:
                await close()
