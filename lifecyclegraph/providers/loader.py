"""Finding providers through the ``lifecyclegraph.providers`` entry-point group."""

from __future__ import annotations

from importlib.metadata import entry_points

from lifecyclegraph.errors import ConfigError
from lifecyclegraph.providers.base import Provider

__all__ = ["ENTRY_POINT_GROUP", "available_providers"]

ENTRY_POINT_GROUP = "lifecyclegraph.providers"


def available_providers() -> dict[str, type[Provider]]:
    """Every installed provider class, by entry-point name.

    Raises:
        ConfigError: if an entry point cannot be loaded or is not a Provider subclass,
            naming the entry point and the distribution that declares it.
    """
    found: dict[str, type[Provider]] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        where = f"entry point {entry.name!r} ({entry.value})"
        try:
            cls = entry.load()
        except Exception as error:
            raise ConfigError(f"cannot load provider {where}: {error}") from error
        if not (isinstance(cls, type) and issubclass(cls, Provider)):
            raise ConfigError(f"provider {where} is not a lifecyclegraph Provider subclass")
        found.setdefault(entry.name, cls)
    return found
