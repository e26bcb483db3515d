"""The names a builder query may use: entity types and their fields, read from the ontology.

The names are those of the GraphQL schema (``docs/graphql.md``): a type is named by its
``lg:graphqlName`` or its local name (``ABTest``, ``ModelInstance``), a field likewise
(``lg:usesFeature`` -> ``features``, ``lg:owner`` -> ``owners``); a field is
single-valued or a list by the same rules. A compact IRI (``lg:usesFeature``) is
accepted too. Nothing here names a type: a class a steward adds to ``ontology/`` is a
name at the next :meth:`Names.load`.

>>> names = Names.load()
>>> names.type("ModelInstance").iri
'https://w3id.org/lifecyclegraph/ontology#ModelInstance'
>>> field = names.field("features", names.type("ModelInstance"))
>>> field.iri, field.single, field.is_object
('https://w3id.org/lifecyclegraph/ontology#usesFeature', False, True)
>>> names.type("ModelInstanse")
Traceback (most recent call last):
...
lifecyclegraph.builder.names.UnknownNameError: unknown type 'ModelInstanse'; did you ...
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import rdflib
from rdflib.namespace import RDFS

from lifecyclegraph.core.errors import LifecycleGraphError
from lifecyclegraph.core.ontology import Ontology, data_dir, load_turtle_dir
from lifecyclegraph.core.vocab import LG, compact, expand

__all__ = ["FieldName", "Names", "TypeName", "UnknownNameError"]

#: Fields every entity has beside the ontology's: its URI and its asserted classes.
PSEUDO_FIELDS = ("id", "types")


class UnknownNameError(LifecycleGraphError, AttributeError, ValueError):
    """A type or field name the ontology does not know; the message has the near miss.

    ``name`` is the name asked for, ``known`` the names that would have been accepted.
    It is an ``AttributeError`` too, so ``hasattr(builder, "Nope")`` is ``False``.
    """

    def __init__(self, message: str, name: str, known: list[str]) -> None:
        super().__init__(message)
        self.name = name
        self.known = known


@dataclass(frozen=True)
class TypeName:
    """An entity type: its name, its class IRI, its subclasses (itself included)."""

    name: str
    iri: str
    classes: tuple[str, ...]
    doc: str


@dataclass(frozen=True)
class FieldName:
    """A field: a property of the ontology as a query sees it."""

    name: str
    iri: str
    is_object: bool
    single: bool
    range: str | None
    doc: str


def _near(name: str, known: Iterable[str]) -> str:
    choices = sorted(set(known))
    near = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    if not near:
        lowered = {c.lower(): c for c in choices}
        near = [lowered[m] for m in difflib.get_close_matches(name.lower(), list(lowered), n=1)]
    return f"; did you mean {near[0]}?" if near else ""


class Names:
    """The types and fields of one ontology (and its shapes), by name."""

    def __init__(self, ontology: Ontology, shapes: rdflib.Graph) -> None:
        # the GraphQL schema's naming rules, read once (imported here: graphql-core is
        # loaded only when a builder is made)
        from lifecyclegraph.read.graphql.schema import _Vocabulary

        vocab = _Vocabulary(ontology, shapes)
        self.ontology = ontology
        graph = ontology.graph

        def doc(iri: str, fallback: str) -> str:
            comment = graph.value(rdflib.URIRef(iri), RDFS.comment)
            label = ontology.label(iri)
            return str(comment) if comment is not None else (label or fallback)

        self.types: dict[str, TypeName] = {}
        for cls in vocab.classes:
            name = vocab.type_name(cls)
            subs = tuple(sorted(c for c in vocab.classes if cls in ontology.superclasses(c)))
            self.types.setdefault(name, TypeName(name, cls, subs, doc(cls, name)))
        self._by_class = {t.iri: t for t in self.types.values()}
        self._fields: list[tuple[str | None, FieldName]] = []
        for domain, field in vocab.fields():
            self._fields.append(
                (
                    domain,
                    FieldName(
                        field.name,
                        field.iri,
                        field.is_object,
                        field.single,
                        field.range,
                        doc(field.iri, field.name),
                    ),
                )
            )
        self._per_class: dict[str | None, dict[str, FieldName]] = {}

    @classmethod
    def load(cls, ontology_dir: Path | None = None, shapes_dir: Path | None = None) -> Names:
        """The names of the ontology in ``ontology_dir`` (default: the model in use), cached."""
        ontology = ontology_dir or data_dir("ontology")
        return _load(str(ontology), str(shapes_dir or data_dir("shapes")))

    # -- types -------------------------------------------------------------------------

    def type(self, name: str) -> TypeName:
        """The type called ``name`` (``ModelInstance``, or ``lg:ModelInstance``).

        Raises:
            UnknownNameError: with the near miss and the known types.
        """
        found = self.types.get(name) or self._by_class.get(expand(name))
        if found is None:
            known = sorted(self.types)
            raise UnknownNameError(
                f"unknown type {name!r}{_near(name, known)} (known types: {', '.join(known)})",
                name,
                known,
            )
        return found

    def type_of_class(self, iri: str | None) -> TypeName | None:
        """The type whose class is ``iri``, if it is an entity class."""
        return self._by_class.get(iri) if iri is not None else None

    # -- fields ------------------------------------------------------------------------

    def fields(self, of: TypeName | None) -> dict[str, FieldName]:
        """The fields of a type and of its subclasses (every field for ``None``), by name;
        a field of a subclass is there so that a query over a superclass can select it."""
        key = of.iri if of is not None else None
        found = self._per_class.get(key)
        if found is None:
            found = {}
            if of is None:
                scopes = None
            else:
                scopes = set().union(*(self.ontology.superclasses(c) for c in of.classes))
                scopes |= set(of.classes)
            for domain, field in self._fields:
                if domain is None or scopes is None or domain in scopes:
                    found.setdefault(field.name, field)
            self._per_class[key] = found
        return found

    def field(self, name: str, of: TypeName | None) -> FieldName:
        """The field called ``name`` (``features`` or ``lg:usesFeature``) of type ``of``.

        Raises:
            UnknownNameError: with the near miss and the type's fields.
        """
        fields = self.fields(of)
        found = fields.get(name)
        if found is None:
            iri = expand(name)
            found = next((f for f in fields.values() if f.iri == iri), None)
        if found is None:
            known = sorted(fields)
            where = f" of {of.name}" if of is not None else ""
            near = _near(name, [*known, *(compact(f.iri) for f in fields.values())])
            raise UnknownNameError(
                f"unknown field {name!r}{where}{near} (known fields{where}: {', '.join(known)})",
                name,
                known,
            )
        return found

    def lineage_properties(self) -> list[str]:
        """``lg:dependsOn`` and every property below it (``lg:usesFeature``, ...)."""
        graph = self.ontology.graph
        found = {str(LG.dependsOn.value)}
        todo = [rdflib.URIRef(LG.dependsOn.value)]
        while todo:
            for sub in graph.subjects(RDFS.subPropertyOf, todo.pop()):
                if isinstance(sub, rdflib.URIRef) and str(sub) not in found:
                    found.add(str(sub))
                    todo.append(sub)
        return sorted(found)


@lru_cache(maxsize=4)
def _load(ontology_dir: str, shapes_dir: str) -> Names:
    return Names(Ontology.load(Path(ontology_dir)), load_turtle_dir(Path(shapes_dir)))
