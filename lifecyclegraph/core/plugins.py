"""Named plugins of one kind, found through an entry-point group (rdflib's plugin registry).

lifecyclegraph's own plugins are registered in its ``pyproject.toml`` exactly as a third
party's are (Datasette's ``DEFAULT_PLUGINS``, through the same hook): the six reference
providers under ``lifecyclegraph.providers``, the search backends under
``lifecyclegraph.search_backends``. A registry lists names without importing anything,
and imports a plugin only when it is asked for by name.

>>> backends = PluginRegistry(SEARCH_BACKENDS, "search backend")
>>> "whoosh" in backends.names()
True
>>> backends.load("whoosh").__name__
'WhooshBackend'
>>> backends.load("woosh")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
lifecyclegraph.core.errors.ConfigError: no search backend 'woosh' is installed; did you mean ...
"""

from __future__ import annotations

import difflib
import os
import sys
import threading
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Generic, TypeVar, cast

from lifecyclegraph.core.errors import ConfigError

__all__ = ["PROVIDERS", "SEARCH_BACKENDS", "PluginRegistry", "group_entry_points"]

#: The entry-point group of providers (source systems).
PROVIDERS = "lifecyclegraph.providers"
#: The entry-point group of search backends.
SEARCH_BACKENDS = "lifecyclegraph.search_backends"

#: The distribution whose own plugins are registered like any other.
_OWN_DISTRIBUTION = "lifecyclegraph"

T = TypeVar("T")

#: Plugins registered from code (tests, notebooks), by group and name: shared by every
#: registry of a group, so that what one registers, all see.
_registered: dict[str, dict[str, object]] = {}
_lock = threading.Lock()


class PluginRegistry(Generic[T]):
    """The plugins of one entry-point group, by entry-point name.

    Args:
        group: the entry-point group, e.g. ``lifecyclegraph.search_backends``.
        what: what a plugin is, for messages (``search backend``).
        check: tells whether a loaded object is a plugin of this kind; a plugin that
            fails it is refused with a :class:`ConfigError` naming its entry point.
        expected: what ``check`` wants, for that message (``a Provider subclass``).

    Entry points are read on every call (a package installed meanwhile is seen); a
    plugin's module is imported once, as any module is.
    """

    def __init__(
        self,
        group: str,
        what: str,
        check: Callable[[object], bool] | None = None,
        expected: str = "a plugin of this kind",
    ) -> None:
        self.group = group
        self.what = what
        self.check = check
        self.expected = expected

    def _entry_points(self) -> dict[str, EntryPoint]:
        """The group's entry points by name; the first one of a name wins, as Python's
        import of the first distribution on ``sys.path`` does."""
        found: dict[str, EntryPoint] = {}
        for entry in group_entry_points(self.group):
            found.setdefault(entry.name, entry)
        return found

    def names(self) -> list[str]:
        """The name of every plugin of the group, sorted, importing none of them."""
        with _lock:
            registered = set(_registered.get(self.group, ()))
        return sorted(registered | set(self._entry_points()))

    def load(self, name: str) -> T:
        """The plugin called ``name``, imported on first use.

        Raises:
            ConfigError: no plugin has that name (with the near miss and the installed
                names); it cannot be imported (with the ``pip install`` that adds a
                missing extra when the name is one); it is not a plugin of this kind.
        """
        with _lock:
            registered = _registered.get(self.group, {})
            if name in registered:
                return cast(T, registered[name])
        entries = self._entry_points()
        entry = entries.get(name)
        if entry is None:
            raise ConfigError(self.unknown(name))
        dist = _distribution(entry)
        where = f"{self.what} {name!r} (entry point {entry.value} of {dist})"
        try:
            plugin = entry.load()
        except ImportError as error:
            extra = _extra_for(entry)
            if extra is not None:
                raise ConfigError(
                    f"the {self.what} {name!r} needs a package that is not installed "
                    f"({error}): pip install '{dist}[{extra}]'"
                ) from error
            raise ConfigError(f"cannot load {where}: {error}") from error
        except Exception as error:
            raise ConfigError(f"cannot load {where}: {error}") from error
        if self.check is not None and not self.check(plugin):
            raise ConfigError(f"{where} is not {self.expected}")
        return cast(T, plugin)

    def all(self) -> dict[str, T]:
        """Every plugin of the group by name, each imported (the first failure raises)."""
        return {name: self.load(name) for name in self.names()}

    def register(self, name: str, plugin: T) -> None:
        """Add a plugin from code, under ``name`` (it wins over an entry point of that
        name): for tests and notebooks. :meth:`unregister` takes it away."""
        if self.check is not None and not self.check(plugin):
            raise ConfigError(f"{self.what} {name!r} is not {self.expected}")
        with _lock:
            _registered.setdefault(self.group, {})[name] = plugin

    def unregister(self, name: str) -> None:
        """Take away a plugin added with :meth:`register` (nothing if there is none)."""
        with _lock:
            _registered.get(self.group, {}).pop(name, None)

    def unknown(self, name: str) -> str:
        """What to say of a name that no plugin of the group has: the near miss, the
        installed names, and a reinstall when lifecyclegraph's own are missing too."""
        entries = self._entry_points()
        known = self.names()
        near = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        message = f"no {self.what} {name!r} is installed{hint} (installed: "
        message += f"{', '.join(known) or 'none'})"
        if not any(_distribution(e) == _OWN_DISTRIBUTION for e in entries.values()):
            # lifecyclegraph registers its own plugins of every group: none means its
            # install metadata predates the group
            message += (
                f"; lifecyclegraph's own {self.what}s are not registered either: "
                "reinstall lifecyclegraph (pip install -e . in a checkout)"
            )
        return message


def group_entry_points(group: str) -> tuple[EntryPoint, ...]:
    """The entry points of ``group``, in the order Python finds them.

    Reading every distribution's metadata takes tens of milliseconds in a large
    environment, so the result is kept until ``sys.path`` or one of its directories
    changes (an install adds a directory to site-packages; a test prepends a site).
    """
    key = tuple((entry, _mtime(entry)) for entry in sys.path)
    with _lock:
        cached = _entry_points_cache.get(key)
    if cached is None:
        everything = entry_points()
        cached = {name: tuple(everything.select(group=name)) for name in everything.groups}
        with _lock:
            _entry_points_cache.clear()
            _entry_points_cache[key] = cached
    return cached.get(group, ())


_entry_points_cache: dict[tuple[tuple[str, float], ...], dict[str, tuple[EntryPoint, ...]]] = {}


def _mtime(path: str) -> float:
    try:
        return os.stat(path or ".").st_mtime
    except OSError:
        return -1.0


def _distribution(entry: EntryPoint) -> str:
    dist = entry.dist
    return dist.name if dist is not None else "an unknown distribution"


def _extra_for(entry: EntryPoint) -> str | None:
    """The name of the entry point when it is also an extra of its distribution (the
    extra that installs what the plugin needs), else None."""
    dist = entry.dist
    if dist is None:
        return None
    extras = dist.metadata.get_all("Provides-Extra") or []
    return entry.name if entry.name in extras else None
