"""The validation gate: check an entity's facts against the shapes before they are stored.

>>> from lifecyclegraph.core.facts import Facts, Ref
>>> validator = Validator.load()
>>> facts = Facts.of("aip://model/registry/m", {"rdf:type": Ref("lg:Model"), "lg:sourceId": "m"})
>>> report = validator.validate(facts)
>>> report.conforms
False
>>> [r.message for r in report.violations]
['The name is missing, given more than once, or not a string.']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode

from lifecyclegraph.core.facts import Facts, from_literal
from lifecyclegraph.core.ontology import Ontology, data_dir, load_turtle_dir
from lifecyclegraph.core.vocab import RDF_TYPE, XSD
from lifecyclegraph.validation.compiler import CompiledShapes, PropertyPlan, compile_shapes
from lifecyclegraph.validation.report import ValidationReport, ValidationResult

__all__ = ["TypesOf", "Validator"]

SH = "http://www.w3.org/ns/shacl#"
TypesOf = Callable[[str], Iterable[str]]


class Validator:
    """Validates normalized facts against compiled shapes (pySHACL for the rest).

    Args:
        shapes: the compiled shapes.
        ontology: the ontology, for class hierarchy (targets and ``sh:class``).
    """

    def __init__(self, shapes: CompiledShapes, ontology: Ontology) -> None:
        self.shapes = shapes
        self.ontology = ontology

    @classmethod
    def load(cls, shapes_dir: Path | None = None, ontology_dir: Path | None = None) -> Validator:
        """Compile the shapes of ``shapes_dir`` (default: the project's ``shapes/``)."""
        graph = load_turtle_dir(shapes_dir or data_dir("shapes"))
        return cls(compile_shapes(graph), Ontology.load(ontology_dir))

    def validate(
        self,
        facts: Facts,
        types_of: TypesOf | None = None,
        reference_types: dict[str, str] | None = None,
    ) -> ValidationReport:
        """Validate an entity and its parts.

        Args:
            facts: the entity's normalized facts.
            types_of: the classes of an IRI the facts refer to (e.g. from the store).
            reference_types: classes declared for referenced IRIs (stubs to be made).

        Returns:
            A report: violations reject the entity, warnings do not.
        """
        local: dict[str, set[str]] = {}
        for entity in facts.flatten():
            local[entity.uri] = {o.value for p, o in entity.pairs if p == RDF_TYPE}
        declared = reference_types or {}

        def classes(iri: str) -> set[str]:
            found = set(local.get(iri, ()))
            if iri in declared:
                found.add(declared[iri])
            if types_of is not None and not found:
                found.update(types_of(iri))
            return found

        report = ValidationReport()
        for entity in facts.flatten():
            values: dict[NamedNode, list[Any]] = {}
            for predicate, obj in entity.pairs:
                values.setdefault(predicate, []).append(obj)
            for plan in self.shapes.plans_for(local[entity.uri], self.ontology):
                for prop in plan.properties:
                    report.results.extend(
                        _check(entity.uri, prop, values.get(prop.path, []), classes, self.ontology)
                    )
        if self.shapes.fallback:
            report.results.extend(self._fallback(facts, classes))
        return report

    def _fallback(self, facts: Facts, classes: Callable[[str], set[str]]) -> list[ValidationResult]:
        from lifecyclegraph.validation.reference import pyshacl_results

        return pyshacl_results(
            facts, self.shapes, self.ontology, classes, only=set(self.shapes.fallback)
        )


def _check(
    focus: str,
    prop: PropertyPlan,
    values: list[Any],
    classes: Callable[[str], set[str]],
    ontology: Ontology,
) -> list[ValidationResult]:
    out: list[ValidationResult] = []

    def fail(component: str, default: str, value: Any = None) -> None:
        out.append(
            ValidationResult(
                focus=focus,
                path=prop.path.value,
                severity=prop.severity,
                component=SH + component,
                shape=prop.shape,
                message=prop.message or default,
                value=str(value) if value is not None else None,
            )
        )

    name = prop.path.value
    if prop.min_count is not None and len(values) < prop.min_count:
        fail("MinCountConstraintComponent", f"fewer than {prop.min_count} values of {name}")
    if prop.max_count is not None and len(values) > prop.max_count:
        fail("MaxCountConstraintComponent", f"more than {prop.max_count} values of {name}")
    for value in sorted(values, key=str):
        if prop.datatype is not None and not _has_datatype(value, prop.datatype):
            fail("DatatypeConstraintComponent", f"{value} is not a {prop.datatype}", value)
        if prop.classes and (
            not isinstance(value, NamedNode | BlankNode)
            or not all(ontology.is_a(classes(value.value), c) for c in prop.classes)
        ):
            fail("ClassConstraintComponent", f"{value} is not a {', '.join(prop.classes)}", value)
        if prop.in_values is not None and value not in prop.in_values:
            fail("InConstraintComponent", f"{value} is not one of the allowed values", value)
        for component, bound, ok in (
            ("MinInclusiveConstraintComponent", prop.min_inclusive, lambda c: c >= 0),
            ("MaxInclusiveConstraintComponent", prop.max_inclusive, lambda c: c <= 0),
            ("MinExclusiveConstraintComponent", prop.min_exclusive, lambda c: c > 0),
            ("MaxExclusiveConstraintComponent", prop.max_exclusive, lambda c: c < 0),
        ):
            if bound is not None:
                compared = _compare(value, bound)
                if compared is None or not ok(compared):
                    fail(component, f"{value} is out of range ({bound})", value)
        text = value.value if not isinstance(value, BlankNode) else None
        if prop.pattern is not None and (text is None or not prop.pattern.search(text)):
            fail(
                "PatternConstraintComponent",
                f"{value} does not match {prop.pattern.pattern}",
                value,
            )
        if prop.min_length is not None and (text is None or len(text) < prop.min_length):
            fail(
                "MinLengthConstraintComponent", f"{value} is shorter than {prop.min_length}", value
            )
        if prop.max_length is not None and (text is None or len(text) > prop.max_length):
            fail("MaxLengthConstraintComponent", f"{value} is longer than {prop.max_length}", value)
        if prop.node_kind is not None and not _node_kind(value, prop.node_kind):
            fail("NodeKindConstraintComponent", f"{value} is not a {prop.node_kind}", value)
    if prop.has_value is not None and prop.has_value not in values:
        fail("HasValueConstraintComponent", f"{name} lacks the value {prop.has_value}")
    return out


_LEXICAL = {
    XSD.integer.value: re.compile(r"[+-]?[0-9]+"),
    XSD.decimal.value: re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"),
    XSD.boolean.value: re.compile(r"true|false|1|0"),
    XSD.double.value: re.compile(
        r"[+-]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|INF|NaN)|-INF"
    ),
}


def _has_datatype(value: Any, datatype: str) -> bool:
    if not isinstance(value, Literal) or value.datatype.value != datatype:
        return False
    if value.language is not None:
        return False
    pattern = _LEXICAL.get(datatype)
    if pattern is not None:
        return bool(pattern.fullmatch(value.value))
    if datatype in (XSD.dateTime.value, XSD.date.value):
        parsed = from_literal(value)
        return isinstance(parsed, datetime | date)
    return True


def _compare(value: Any, bound: Literal) -> int | None:
    if not isinstance(value, Literal):
        return None
    left, right = from_literal(value), from_literal(bound)
    try:
        if isinstance(left, bool) or isinstance(right, bool):
            return None
        if isinstance(left, int | float | Decimal) and isinstance(right, int | float | Decimal):
            a, b = Decimal(str(left)), Decimal(str(right))
        elif type(left) is type(right) and not isinstance(left, str):
            a, b = left, right
        else:
            return None
        return (a > b) - (a < b)
    except (InvalidOperation, TypeError):
        return None


def _node_kind(value: Any, kind: str) -> bool:
    local = kind.removeprefix(SH)
    is_iri, is_blank, is_literal = (
        isinstance(value, NamedNode),
        isinstance(value, BlankNode),
        isinstance(value, Literal),
    )
    return {
        "IRI": is_iri,
        "BlankNode": is_blank,
        "Literal": is_literal,
        "BlankNodeOrIRI": is_iri or is_blank,
        "BlankNodeOrLiteral": is_blank or is_literal,
        "IRIOrLiteral": is_iri or is_literal,
    }.get(local, False)
