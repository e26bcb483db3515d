"""The search backends: plugins of the ``lifecyclegraph.search_backends`` entry-point group.

A backend is a class with ``open(path)`` (``None``: in memory) that returns a
:class:`~lifecyclegraph.search.backend.SearchBackend`, one per index. Whoosh and
Tantivy are registered in lifecyclegraph's own ``pyproject.toml``, exactly as an outside
package registers its own:

.. code-block:: toml

    [project.entry-points."lifecyclegraph.search_backends"]
    lucene = "acme_search:LuceneBackend"

``[search] backend = "lucene"`` then picks it (see ``docs/search.md``).

>>> BACKENDS.names()
['tantivy', 'whoosh']
>>> backend = open_backend("whoosh", None)
>>> backend.count()
0
>>> backend.close()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.core.plugins import SEARCH_BACKENDS, PluginRegistry
from lifecyclegraph.search.backend import SearchBackend, SearchError

__all__ = ["BACKENDS", "open_backend"]


def _is_backend_class(plugin: object) -> bool:
    return isinstance(plugin, type) and callable(getattr(plugin, "open", None))


#: Every installed search backend class, by name.
BACKENDS: PluginRegistry[Any] = PluginRegistry(
    SEARCH_BACKENDS,
    "search backend",
    check=_is_backend_class,
    expected="a class with open(path) returning a search backend",
)


def open_backend(name: str, path: Path | None) -> SearchBackend:
    """Open one index with the engine ``name`` (``path`` ``None``: in memory).

    Raises:
        SearchError: if the engine is not installed (with the near miss), its extra is
            missing (with the ``pip install`` that adds it), or what it opens is not a
            search backend.
    """
    try:
        cls = BACKENDS.load(name)
    except ConfigError as error:
        raise SearchError(str(error)) from error
    backend = cls.open(path)
    if not isinstance(backend, SearchBackend):
        backend_type = type(backend).__name__
        raise SearchError(f"search backend {name!r} opened a {backend_type}, not a search backend")
    return backend
