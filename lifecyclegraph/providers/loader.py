"""Finding providers through the ``lifecyclegraph.providers`` entry-point group."""

from __future__ import annotations

from lifecyclegraph.core.plugins import PROVIDERS, PluginRegistry
from lifecyclegraph.providers.base import Provider

__all__ = ["ENTRY_POINT_GROUP", "PROVIDER_REGISTRY", "available_providers"]

ENTRY_POINT_GROUP = PROVIDERS


def _is_provider_class(plugin: object) -> bool:
    return isinstance(plugin, type) and issubclass(plugin, Provider)


#: Every installed provider class, by entry-point name.
PROVIDER_REGISTRY: PluginRegistry[type[Provider]] = PluginRegistry(
    PROVIDERS,
    "provider",
    check=_is_provider_class,
    expected="a lifecyclegraph Provider subclass",
)


def available_providers() -> dict[str, type[Provider]]:
    """Every installed provider class, by entry-point name.

    Raises:
        ConfigError: if an entry point cannot be loaded or is not a Provider subclass,
            naming the entry point and the distribution that declares it.
    """
    return PROVIDER_REGISTRY.all()
