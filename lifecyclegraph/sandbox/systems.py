"""Every installed source system that brings a sandbox fake, as one table.

A provider names its fake (:attr:`Provider.fake <lifecyclegraph.providers.Provider.fake>`);
the table gathers the fakes of every installed provider: the systems by name
(lifecyclegraph's own and outside ones alike), every kind in dependency order, and
the event types of the providers' own :class:`~lifecyclegraph.core.events.EventKind` s.
The sandbox's routes, events, world and control actions are all built from it.

>>> table = SystemTable.installed()
>>> list(table.systems)
['datasets', 'experimentation', 'featurestore', 'identity', 'orchestrator', 'registry']
>>> [kind.name for kind in table.kinds.values()][:3]
['team', 'user', 'pipeline']
>>> table.event_types["dataset_version_created"]
('datasets', ('dataset_id', 'version'))
"""

from __future__ import annotations

import difflib
import importlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass, fields

from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.core.plugins import PROVIDERS, group_entry_points
from lifecyclegraph.providers import Provider, available_providers
from lifecyclegraph.providers.fake import Action, FakeKind, FakeSystem, Lookup
from lifecyclegraph.sandbox.kinds import WorldError

__all__ = ["Kind", "SystemTable", "load_fake"]


@dataclass(frozen=True)
class Kind(FakeKind):
    """A :class:`~lifecyclegraph.providers.fake.FakeKind` with the system that serves it."""

    system: str = ""

    @classmethod
    def of(cls, kind: FakeKind, system: str) -> Kind:
        return cls(**{f.name: getattr(kind, f.name) for f in fields(FakeKind)}, system=system)


def load_fake(provider: type[Provider]) -> FakeSystem | None:
    """The sandbox fake a provider names, imported (None when it names none).

    Raises:
        ConfigError: the fake cannot be imported, is not a ``FakeSystem``, or is of
            another platform; the message names the provider.
    """
    if provider.fake is None:
        return None
    where = f"the sandbox fake {provider.fake!r} of provider {provider.__name__}"
    module, _, attribute = provider.fake.partition(":")
    try:
        fake = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as error:
        raise ConfigError(f"cannot load {where}: {error}") from error
    if not isinstance(fake, FakeSystem):
        raise ConfigError(f"{where} is a {type(fake).__name__}, not a FakeSystem")
    if fake.platform_id != provider.platform_id:
        raise ConfigError(
            f"{where} is of platform {fake.platform_id!r}, not {provider.platform_id!r}"
        )
    return fake


@dataclass(frozen=True)
class SystemTable:
    """Source systems with a sandbox fake, as one table.

    Attributes:
        systems: each system's fake, by platform id, in order.
        kinds: every kind (with its system), by name, in dependency order.
        by_collection: the same kinds by collection.
        event_types: event type -> (platform id, id fields), from the providers'
            ``EventKind`` s.
        actions: every control action, by name.
        lookups: every search route, with its system.
    """

    systems: dict[str, FakeSystem]
    kinds: dict[str, Kind]
    by_collection: dict[str, Kind]
    event_types: dict[str, tuple[str, tuple[str, ...]]]
    actions: dict[str, Action]
    lookups: tuple[tuple[str, Lookup], ...]

    @classmethod
    def of(cls, providers: Iterable[type[Provider]]) -> SystemTable:
        """The table of ``providers`` (in that order) that bring a fake.

        Raises:
            ConfigError: a fake cannot be loaded, or two systems claim the same kind,
                collection, event type or action.
        """
        systems: dict[str, FakeSystem] = {}
        event_types: dict[str, tuple[str, tuple[str, ...]]] = {}
        for provider in providers:
            fake = load_fake(provider)
            if fake is None:
                continue
            if fake.platform_id in systems:
                raise ConfigError(f"two sandbox fakes of platform {fake.platform_id!r}")
            systems[fake.platform_id] = fake
            for event in provider.events:
                event_types[event.event_type] = (event.platform_id, event.id_fields)
        order = {pid: index for index, pid in enumerate(systems)}
        all_kinds = sorted(
            (Kind.of(kind, fake.platform_id) for fake in systems.values() for kind in fake.kinds),
            key=lambda kind: (kind.rank, order[kind.system]),
        )
        kinds: dict[str, Kind] = {}
        by_collection: dict[str, Kind] = {}
        for kind in all_kinds:
            for table, name in ((kinds, kind.name), (by_collection, kind.collection)):
                if name in table:
                    raise ConfigError(
                        f"the sandbox fakes of {table[name].system} and {kind.system} "
                        f"both serve {name!r}"
                    )
                table[name] = kind
        actions: dict[str, Action] = {}
        for fake in systems.values():
            for action in fake.actions:
                if action.name in actions:
                    raise ConfigError(f"two sandbox fakes have the action {action.name!r}")
                actions[action.name] = action
        lookups = tuple(
            (fake.platform_id, look) for fake in systems.values() for look in fake.lookups
        )
        return cls(systems, kinds, by_collection, event_types, actions, lookups)

    @classmethod
    def installed(cls) -> SystemTable:
        """The table of every installed provider with a fake (made again only when the
        installed providers change)."""
        key = tuple((e.name, e.value) for e in group_entry_points(PROVIDERS))
        with _lock:
            cached = _cache.get(key)
        if cached is not None:
            return cached
        providers = available_providers()
        table = cls.of(providers[name] for name in sorted(providers))
        with _lock:
            _cache.clear()
            _cache[key] = table
        return table

    def kind(self, name: str) -> Kind:
        """The kind called ``name`` (or whose collection is ``name``).

        >>> SystemTable.installed().kind("versions").name
        'dataset_version'
        >>> SystemTable.installed().kind("modle")
        Traceback (most recent call last):
        ...
        lifecyclegraph.sandbox.kinds.WorldError: unknown kind 'modle'; did you mean 'model'?
        """
        found = self.kinds.get(name) or self.by_collection.get(name)
        if found is None:
            near = difflib.get_close_matches(name, [*self.kinds, *self.by_collection], n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise WorldError(f"unknown kind {name!r}{hint}")
        return found

    def kinds_of(self, system: str) -> list[Kind]:
        """The kinds one system serves, in dependency order."""
        return [kind for kind in self.kinds.values() if kind.system == system]


_cache: dict[tuple[tuple[str, str], ...], SystemTable] = {}
_lock = threading.Lock()
