"""Where the steward-edited data lives (ontology, shapes, rules), and what the ontology says.

In a source checkout the shipped folders are the top-level ``ontology/``, ``shapes/``
and ``rules/``; in an installed wheel they are packaged under ``lifecyclegraph/_data/``.
A stewards' repository keeps its own: :func:`set_data_dirs` (which the CLI calls from
``[model]`` and ``--ontology/--shapes/--rules``, see
:mod:`lifecyclegraph.validation.model`) makes them the default of every reader, and
any reader also takes an explicit directory.

>>> onto = Ontology.load()
>>> onto.component_type("https://w3id.org/lifecyclegraph/ontology#ModelInstance")
'model'
>>> "https://w3id.org/lifecyclegraph/ontology#Asset" in onto.superclasses(
...     "https://w3id.org/lifecyclegraph/ontology#Dataset")
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import rdflib
from pyoxigraph import RdfFormat, parse
from rdflib.namespace import OWL, RDF, RDFS

from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.core.vocab import PREFIXES

__all__ = ["Ontology", "data_dir", "load_turtle_dir", "set_data_dirs", "shipped_dir"]

_PACKAGE = Path(__file__).resolve().parents[1]  # the lifecyclegraph package
LG = rdflib.Namespace(PREFIXES["lg"])


#: The folders chosen for this process (by name), instead of the shipped ones.
_CHOSEN: dict[str, Path] = {}


def data_dir(name: str) -> Path:
    """The directory of ``ontology``, ``shapes`` or ``rules``: the one chosen with
    :func:`set_data_dirs`, else the shipped one (:func:`shipped_dir`).

    Raises:
        ConfigError: if neither the checkout's nor the packaged folder exists.
    """
    chosen = _CHOSEN.get(name)
    return chosen if chosen is not None else shipped_dir(name)


def set_data_dirs(dirs: Mapping[str, Path | None]) -> dict[str, Path | None]:
    """Make ``dirs`` (``ontology``, ``shapes``, ``rules``; ``None``: the shipped one) the
    folders :func:`data_dir` gives, and return the previous choice (to restore it).

    >>> previous = set_data_dirs({"rules": Path("/srv/model/rules")})
    >>> data_dir("rules")
    PosixPath('/srv/model/rules')
    >>> _ = set_data_dirs(previous)
    >>> data_dir("rules") == shipped_dir("rules")
    True
    """
    unknown = set(dirs) - {"ontology", "shapes", "rules"}
    if unknown:
        raise ValueError(f"unknown model folder {sorted(unknown)[0]!r}")
    previous = {name: _CHOSEN.get(name) for name in dirs}
    for name, directory in dirs.items():
        if directory is None:
            _CHOSEN.pop(name, None)
        else:
            _CHOSEN[name] = Path(directory)
    return previous


def shipped_dir(name: str) -> Path:
    """The shipped directory of ``ontology``, ``shapes`` or ``rules`` (the checkout's
    top-level folder, else the wheel's packaged copy).

    Raises:
        ConfigError: if neither the checkout's nor the packaged folder exists.
    """
    for candidate in (_PACKAGE.parent / name, _PACKAGE / "_data" / name):
        if candidate.is_dir():
            return candidate
    raise ConfigError(f"cannot find the {name}/ folder next to the package or in its data")


def load_turtle_dir(directory: Path, graph: rdflib.Graph | None = None) -> rdflib.Graph:
    """Parse every ``*.ttl`` file of ``directory`` into one graph.

    Raises:
        ConfigError: naming the file, line and what the parser said, if one does not parse.
    """
    graph = graph if graph is not None else rdflib.Graph()
    for path in sorted(directory.glob("*.ttl")):
        try:
            graph.parse(path, format="turtle")
        except Exception as error:  # rdflib raises several unrelated types
            raise ConfigError(_turtle_error(path, error)) from error
    return graph


def _turtle_error(path: Path, error: Exception) -> str:
    """``file:line:col: message``, from pyoxigraph (rdflib's errors quote byte reprs and
    have no column)."""
    try:
        list(parse(path.read_bytes(), format=RdfFormat.TURTLE))
    except SyntaxError as found:
        message = re.sub(r"^Parser error (at|between) [^:]*: ", "", str(found.msg or found))
        return f"{path}:{found.lineno}:{found.offset}: cannot parse Turtle: {message}"
    except OSError as found:
        return f"{path}: cannot read: {found}"
    return f"{path}: cannot parse Turtle: {error}"


@dataclass
class Ontology:
    """The ontology's classes, their hierarchy and annotations, read from Turtle."""

    graph: rdflib.Graph
    _super: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, directory: Path | None = None) -> Ontology:
        """Load (and cache) the ontology of ``directory`` (default: :func:`data_dir`)."""
        return _load(str(directory or data_dir("ontology")))

    def classes(self) -> list[str]:
        """Every ``owl:Class`` declared in the ``lg`` namespace, sorted."""
        return sorted(
            str(c) for c in self.graph.subjects(RDF.type, OWL.Class) if str(c).startswith(str(LG))
        )

    def entity_classes(self) -> list[str]:
        """Classes that name entity types (those with an ``lg:componentType``)."""
        return sorted(str(c) for c, _ in self.graph.subject_objects(LG.componentType))

    def component_type(self, cls: str) -> str | None:
        value = self.graph.value(rdflib.URIRef(cls), LG.componentType)
        return str(value) if value is not None else None

    def domain(self, cls: str) -> str | None:
        """The domain individual of an entity class (e.g. ``lg:ModelsDomain``)."""
        value = self.graph.value(rdflib.URIRef(cls), LG.domain)
        return str(value) if value is not None else None

    def label(self, term: str) -> str | None:
        value = self.graph.value(rdflib.URIRef(term), RDFS.label)
        return str(value) if value is not None else None

    def superclasses(self, cls: str) -> frozenset[str]:
        """``cls`` and everything it is a (transitive) ``rdfs:subClassOf``."""
        cached = self._super.get(cls)
        if cached is None:
            seen = {cls}
            todo = [rdflib.URIRef(cls)]
            while todo:
                for parent in self.graph.objects(todo.pop(), RDFS.subClassOf):
                    if isinstance(parent, rdflib.URIRef) and str(parent) not in seen:
                        seen.add(str(parent))
                        todo.append(parent)
            cached = self._super[cls] = frozenset(seen)
        return cached

    def known_classes(self) -> frozenset[str]:
        """The ``lg`` classes and every class they are a (transitive) subclass of.

        >>> "http://www.w3.org/ns/prov#Entity" in Ontology.load().known_classes()
        True
        """
        return frozenset().union(*(self.superclasses(c) for c in self.classes()))

    def is_a(self, types: Iterable[str], cls: str) -> bool:
        """Whether any of ``types`` is ``cls`` or one of its subclasses."""
        return any(cls in self.superclasses(t) for t in types)

    def read_transitively(self) -> frozenset[str]:
        """The properties marked ``lg:readTransitively true``: held one step at a time,
        answered in full (``p+``) by GraphQL and the lineage views.

        >>> sorted(p.rsplit("#", 1)[1] for p in Ontology.load().read_transitively())
        ['downstream', 'upstream']
        """
        return frozenset(
            str(p)
            for p, value in self.graph.subject_objects(LG.readTransitively)
            if isinstance(value, rdflib.Literal) and value.toPython() is True
        )

    def properties(self) -> list[str]:
        """Every object or datatype property declared in the ``lg`` namespace."""
        found: set[str] = set()
        for kind in (OWL.ObjectProperty, OWL.DatatypeProperty):
            found.update(str(p) for p in self.graph.subjects(RDF.type, kind))
        return sorted(p for p in found if p.startswith(str(LG)))


@lru_cache(maxsize=8)
def _load(directory: str) -> Ontology:
    return Ontology(load_turtle_dir(Path(directory)))
