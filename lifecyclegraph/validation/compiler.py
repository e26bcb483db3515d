"""Compile SHACL shapes into plain checks that run directly on an entity's facts.

pySHACL costs about a millisecond per small entity; the compiled checks cost
microseconds, which is what lets ingestion validate every entity. The compiler
supports the core constraint components the shapes use (cardinality, datatype,
class, enumerations, ranges, patterns, lengths, node kinds, ``sh:hasValue``) on
plain IRI paths. A node shape that uses anything else is not compiled: it is
listed in :attr:`CompiledShapes.fallback` and validated by pySHACL instead, so
no constraint is ever silently skipped. ``tests/test_validation.py`` checks on
the same data that both give the same results.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import rdflib
from pyoxigraph import Literal, NamedNode
from rdflib.namespace import RDF, SH

from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.core.ontology import Ontology

__all__ = ["CompiledShapes", "NodePlan", "PropertyPlan", "compile_shapes"]

_DESCRIPTIVE = {
    SH.name,
    SH.description,
    SH.message,
    SH.severity,
    SH.order,
    SH.group,
    SH.path,
    SH.defaultValue,
    SH.deactivated,
}
_SUPPORTED = {
    SH.minCount,
    SH.maxCount,
    SH.datatype,
    SH["class"],
    SH["in"],
    SH.minInclusive,
    SH.maxInclusive,
    SH.minExclusive,
    SH.maxExclusive,
    SH.pattern,
    SH.flags,
    SH.nodeKind,
    SH.minLength,
    SH.maxLength,
    SH.hasValue,
}
_NODE_DESCRIPTIVE = {
    SH.targetClass,
    SH.property,
    SH.name,
    SH.description,
    SH.message,
    SH.severity,
    SH.deactivated,
}


@dataclass(frozen=True)
class PropertyPlan:
    """The compiled constraints of one property shape."""

    shape: str
    path: NamedNode
    severity: str
    message: str | None
    min_count: int | None = None
    max_count: int | None = None
    datatype: str | None = None
    classes: tuple[str, ...] = ()
    in_values: frozenset[NamedNode | Literal] | None = None
    min_inclusive: Literal | None = None
    max_inclusive: Literal | None = None
    min_exclusive: Literal | None = None
    max_exclusive: Literal | None = None
    pattern: re.Pattern[str] | None = None
    node_kind: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    has_value: NamedNode | Literal | None = None


@dataclass(frozen=True)
class NodePlan:
    """A node shape: the classes it targets and its compiled property shapes."""

    shape: str
    targets: tuple[str, ...]
    properties: tuple[PropertyPlan, ...]


@dataclass
class CompiledShapes:
    """Every node shape, compiled or (for unsupported features) left to pySHACL."""

    plans: list[NodePlan] = field(default_factory=list)
    fallback: dict[str, str] = field(default_factory=dict)  #: shape -> why it is not compiled
    graph: rdflib.Graph | None = None

    def plans_for(self, types: Iterable[str], ontology: Ontology) -> list[NodePlan]:
        """The compiled node shapes that target any of ``types`` (or a superclass)."""
        closure: set[str] = set()
        for t in types:
            closure |= ontology.superclasses(t)
        return [p for p in self.plans if closure.intersection(p.targets)]


class _Unsupported(Exception):
    pass


def compile_shapes(shapes: rdflib.Graph) -> CompiledShapes:
    """Compile every ``sh:NodeShape`` with a ``sh:targetClass`` in ``shapes``.

    Raises:
        ConfigError: a constraint has a value it cannot have (``sh:minCount "x"``, a
            pattern that is not a regular expression), naming the node shape.
    """
    compiled = CompiledShapes(graph=shapes)
    for node_shape in sorted(set(shapes.subjects(RDF.type, SH.NodeShape)), key=str):
        targets = tuple(sorted(str(c) for c in shapes.objects(node_shape, SH.targetClass)))
        if not targets:
            continue
        try:
            extra = {p for p in shapes.predicates(node_shape) if p != RDF.type} - _NODE_DESCRIPTIVE
            extra = {p for p in extra if str(p).startswith(str(SH))}
            if extra:
                raise _Unsupported(f"node-level {', '.join(sorted(_local(p) for p in extra))}")
            properties = tuple(
                _compile_property(shapes, prop)
                for prop in sorted(shapes.objects(node_shape, SH.property), key=str)
            )
        except _Unsupported as why:
            compiled.fallback[str(node_shape)] = str(why)
            continue
        except (ValueError, re.error) as error:  # sh:minCount "x", sh:pattern "(" ...
            raise ConfigError(f"the shape {node_shape} cannot be compiled: {error}") from error
        compiled.plans.append(NodePlan(str(node_shape), targets, properties))
    return compiled


def _compile_property(g: rdflib.Graph, prop: rdflib.term.Node) -> PropertyPlan:
    if (prop, SH.deactivated, rdflib.Literal(True)) in g:
        raise _Unsupported("deactivated property shape")
    path = g.value(prop, SH.path)
    if not isinstance(path, rdflib.URIRef):
        raise _Unsupported("a property path that is not a single IRI")
    unknown = {
        p
        for p in g.predicates(prop)
        if str(p).startswith(str(SH)) and p not in _DESCRIPTIVE and p not in _SUPPORTED
    }
    if unknown:
        raise _Unsupported(", ".join(sorted(_local(p) for p in unknown)))
    severity = g.value(prop, SH.severity) or SH.Violation
    messages = list(g.objects(prop, SH.message))
    english = [m for m in messages if getattr(m, "language", None) in ("en", None)]
    flags = g.value(prop, SH.flags)
    pattern = g.value(prop, SH.pattern)
    in_list = g.value(prop, SH["in"])
    has_value = g.value(prop, SH.hasValue)
    return PropertyPlan(
        shape=str(prop),
        path=NamedNode(str(path)),
        severity=str(severity),
        message=str(english[0]) if english else (str(messages[0]) if messages else None),
        min_count=_int(g.value(prop, SH.minCount)),
        max_count=_int(g.value(prop, SH.maxCount)),
        datatype=_str(g.value(prop, SH.datatype)),
        classes=tuple(sorted(str(c) for c in g.objects(prop, SH["class"]))),
        in_values=(
            frozenset(to_oxigraph(v) for v in rdflib.collection.Collection(g, in_list))
            if in_list is not None
            else None
        ),
        min_inclusive=_lit(g.value(prop, SH.minInclusive)),
        max_inclusive=_lit(g.value(prop, SH.maxInclusive)),
        min_exclusive=_lit(g.value(prop, SH.minExclusive)),
        max_exclusive=_lit(g.value(prop, SH.maxExclusive)),
        pattern=re.compile(str(pattern), _flags(str(flags or ""))) if pattern is not None else None,
        node_kind=_str(g.value(prop, SH.nodeKind)),
        min_length=_int(g.value(prop, SH.minLength)),
        max_length=_int(g.value(prop, SH.maxLength)),
        has_value=to_oxigraph(has_value) if has_value is not None else None,
    )


def to_oxigraph(term: rdflib.term.Node) -> NamedNode | Literal:
    """An rdflib IRI or literal as the equal pyoxigraph term."""
    if isinstance(term, rdflib.URIRef):
        return NamedNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return Literal(str(term), language=term.language)
        if term.datatype is not None:
            return Literal(str(term), datatype=NamedNode(str(term.datatype)))
        return Literal(str(term))
    raise _Unsupported(f"a blank node where a value is expected ({term!r})")


def _lit(term: rdflib.term.Node | None) -> Literal | None:
    return to_oxigraph(term) if term is not None else None  # type: ignore[return-value]


def _int(term: rdflib.term.Node | None) -> int | None:
    return int(str(term)) if term is not None else None


def _str(term: rdflib.term.Node | None) -> str | None:
    return str(term) if term is not None else None


def _flags(flags: str) -> int:
    value = 0
    for char, flag in (("i", re.I), ("m", re.M), ("s", re.S), ("x", re.X)):
        if char in flags:
            value |= flag
    return value


def _local(term: rdflib.term.Node) -> str:
    return "sh:" + str(term).removeprefix(str(SH))
