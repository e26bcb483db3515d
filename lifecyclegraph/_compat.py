"""Old module paths of lifecyclegraph, importable for one release with a warning.

Issue 12 moved modules into packages that show the layers (``core/``, ``store/``,
``graph/``, ``read/``, ``server/``, ``providers/``). A program that imports an old path
(``import lifecyclegraph.errors``, ``from lifecyclegraph.api import create_app``) gets
the very module object of the new path and a :class:`DeprecationWarning` naming it, so
``isinstance`` and ``except`` keep working across old and new names.

>>> new_name("lifecyclegraph.errors")
'lifecyclegraph.core.errors'

The tables :data:`MOVED`, :data:`PACKAGES_MOVED` and :data:`NAMESPACES_MOVED` are the
whole list;
``docs/architecture.md`` shows the layout. Nothing of lifecyclegraph is imported here
until an old path is.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType

__all__ = ["MOVED", "NAMESPACES_MOVED", "PACKAGES_MOVED", "install", "new_name"]

#: Moved modules: old dotted path -> new dotted path.
MOVED: dict[str, str] = {
    # core: what every layer shares
    "lifecyclegraph.errors": "lifecyclegraph.core.errors",
    "lifecyclegraph.vocab": "lifecyclegraph.core.vocab",
    "lifecyclegraph.uris": "lifecyclegraph.core.uris",
    "lifecyclegraph.facts": "lifecyclegraph.core.facts",
    "lifecyclegraph.events": "lifecyclegraph.core.events",
    "lifecyclegraph.ontology": "lifecyclegraph.core.ontology",
    "lifecyclegraph.config": "lifecyclegraph.core.config",
    "lifecyclegraph.jsontext": "lifecyclegraph.core.jsontext",
    # store: the SPARQL service is the store's
    "lifecyclegraph.sparql_dataset": "lifecyclegraph.store.sparql_dataset",
    "lifecyclegraph.query.description": "lifecyclegraph.server.sparql_description",
    # graph: the door and what reads through it
    "lifecyclegraph.entity": "lifecyclegraph.graph.entity",
    "lifecyclegraph.lineage": "lifecyclegraph.graph.lineage",
    "lifecyclegraph.validation.store_report": "lifecyclegraph.graph.quality",
    # read: views and GraphQL
    "lifecyclegraph.views": "lifecyclegraph.read.views",
    "lifecyclegraph.graphql_schema": "lifecyclegraph.read.graphql.schema",
    "lifecyclegraph.graphql_reads": "lifecyclegraph.read.graphql.reads",
    "lifecyclegraph.graphql_limits": "lifecyclegraph.read.graphql.limits",
    # server: the service, the ASGI app and its routes
    "lifecyclegraph.service": "lifecyclegraph.server.service",
    "lifecyclegraph.serving": "lifecyclegraph.server.serving",
    "lifecyclegraph.api.app": "lifecyclegraph.server.app",
    "lifecyclegraph.api.auth": "lifecyclegraph.server.auth",
    "lifecyclegraph.api.body": "lifecyclegraph.server.body",
    "lifecyclegraph.api.models": "lifecyclegraph.server.models",
    "lifecyclegraph.api.problems": "lifecyclegraph.server.problems",
    "lifecyclegraph.api.events": "lifecyclegraph.server.routes.events",
    "lifecyclegraph.api.entities": "lifecyclegraph.server.routes.entities",
    "lifecyclegraph.api.sparql": "lifecyclegraph.server.routes.sparql",
    "lifecyclegraph.api.graphql_endpoint": "lifecyclegraph.server.routes.graphql",
    # providers: the sources travel with the providers
    "lifecyclegraph.sources": "lifecyclegraph.providers.sources",
    # ingest: the hydration child is named after its setting
    "lifecyclegraph.ingest.hydrator": "lifecyclegraph.ingest.hydration_process",
}

#: Moved packages: every module below the old path is the same module below the new
#: one (``lifecyclegraph.query.pool`` is ``lifecyclegraph.store.sparql.pool``).
PACKAGES_MOVED: dict[str, str] = {
    "lifecyclegraph.query": "lifecyclegraph.store.sparql",
    "lifecyclegraph.hydration": "lifecyclegraph.providers.http",
}


#: Old packages whose names now live in one module: the old path is a package whose
#: attributes are that module's (``from lifecyclegraph.api import create_app``), and
#: whose old submodules are found through :data:`MOVED`.
NAMESPACES_MOVED: dict[str, str] = {
    "lifecyclegraph.api": "lifecyclegraph.server.app",
}


def new_name(name: str) -> str | None:
    """The new dotted path of the old module path ``name``, or ``None`` if it did not
    move.

    >>> new_name("lifecyclegraph.query.pool")
    'lifecyclegraph.store.sparql.pool'
    >>> new_name("lifecyclegraph.api.events")
    'lifecyclegraph.server.routes.events'
    >>> new_name("lifecyclegraph.graph") is None
    True
    """
    if name in MOVED:
        return MOVED[name]
    if name in NAMESPACES_MOVED:
        return NAMESPACES_MOVED[name]
    for old, new in PACKAGES_MOVED.items():
        if name == old or name.startswith(old + "."):
            return new + name[len(old) :]
    return None


class _Moved(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old path first (before the path finder could find an old submodule
    through an aliased package's ``__path__`` and run it a second time, with classes of
    its own) and loads it as the module of its new path."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if new_name(fullname) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        target = new_name(spec.name)
        assert target is not None
        warnings.warn(
            f"{spec.name} moved to {target}; import it from there",
            DeprecationWarning,
            stacklevel=2,
        )
        if spec.name in NAMESPACES_MOVED:
            return _namespace(spec.name, target)
        module = importlib.import_module(target)
        spec.loader_state = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # importlib has just put the old path's spec on the real module: put its own
        # back (importlib.resources and reload read it).
        spec = module.__spec__
        if spec is not None and spec.loader_state is not None:
            module.__spec__ = spec.loader_state


def _namespace(name: str, target: str) -> ModuleType:
    """A package named ``name`` whose attributes are those of the module ``target``."""
    module = ModuleType(name, f"Moved to :mod:`{target}`.")
    module.__path__ = []  # a package: its old submodules are looked up (and found above)

    def __getattr__(attribute: str) -> object:
        return getattr(importlib.import_module(target), attribute)

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    return module


def install() -> None:
    """Put the finder first on :data:`sys.meta_path` (once per process)."""
    if not any(isinstance(finder, _Moved) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Moved())


install()
