"""Writes from Python checked as ingested ones are: the ontology's names, then the shapes.

Every write from Python is checked unless the caller opts out:
:meth:`Graph.write <lifecyclegraph.graph.door.Graph.write>` and
:meth:`~lifecyclegraph.graph.door.Graph.write_many` (embedded, and remote where the
server checks), and the builder's ``write``, call :func:`check_many` before anything
is written: a class or a property the ontology does not declare is refused with its
near miss, facts that violate the shapes are refused with the SHACL report, and the
warnings come back on the result (``WriteResult.warnings``) as the ingestion worker
keeps them among its findings. ``validate=False`` is the opt-out for bulk loads of
data already validated (the ingestion worker, which validates through its own gate).

>>> from lifecyclegraph import Facts, LifecycleGraph, Ref
>>> graph = LifecycleGraph.in_memory()
>>> graph.write(Facts.of("aip://dashboard/bi/d", {"rdf:type": Ref("lg:Dashbord"),
...     "lg:nmae": "D"}), source="bi")
Traceback (most recent call last):
...
lifecyclegraph.graph.checks.WriteRefusedError: aip://dashboard/bi/d: unknown class lg:Dashbord...
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from pyoxigraph import NamedNode
from rdflib.namespace import OWL, RDF, RDFS

from lifecyclegraph.core.errors import InvalidFactsError
from lifecyclegraph.core.facts import Facts
from lifecyclegraph.core.ontology import Ontology, data_dir
from lifecyclegraph.core.vocab import RDF_TYPE, compact
from lifecyclegraph.store.values import WriteResult
from lifecyclegraph.validation.report import ValidationReport, ValidationResult
from lifecyclegraph.validation.validator import TypesOf, Validator

__all__ = ["WriteRefusedError", "check_many", "check_write", "known_terms", "with_warnings"]

_PROPERTY_KINDS = (
    OWL.ObjectProperty,
    OWL.DatatypeProperty,
    OWL.AnnotationProperty,
    RDF.Property,
)


class WriteRefusedError(InvalidFactsError):
    """Facts refused before anything was written: names the ontology does not know
    (``problems``, each with its near miss) or SHACL violations (``report``)."""

    def __init__(self, message: str, problems: list[str], report: ValidationReport) -> None:
        super().__init__(message)
        self.problems = problems
        self.report = report


@lru_cache(maxsize=4)
def known_terms(ontology_dir: str) -> tuple[frozenset[str], frozenset[str]]:
    """The classes and the properties the ontology in ``ontology_dir`` knows (declared,
    or named as a superclass or a super-property)."""
    ontology = Ontology.load(Path(ontology_dir))
    graph = ontology.graph
    properties = {RDF_TYPE.value}
    for kind in _PROPERTY_KINDS:
        properties.update(str(p) for p in graph.subjects(RDF.type, kind))
    properties.update(str(p) for p in graph.objects(None, RDFS.subPropertyOf))
    classes = set(ontology.known_classes())
    return frozenset(classes), frozenset(p for p in properties if isinstance(p, str))


@lru_cache(maxsize=4)
def _validator(shapes_dir: str, ontology_dir: str) -> Validator:
    return Validator.load(Path(shapes_dir), Path(ontology_dir))


def _near(iri: str, known: frozenset[str]) -> str:
    names = sorted(compact(k) for k in known)
    near = difflib.get_close_matches(compact(iri), names, n=1)
    return f" (did you mean {near[0]}?)" if near else ""


def check_write(facts: Facts, types_of: TypesOf) -> ValidationReport:
    """Check ``facts`` (with its parts) as the ingestion gate would, against the model
    in use (:func:`~lifecyclegraph.core.ontology.data_dir`).

    Args:
        facts: the entity's facts.
        types_of: the asserted classes of an IRI the facts link to (from the graph).

    Returns:
        The report: warnings only (a write with warnings goes ahead).

    Raises:
        WriteRefusedError: unknown classes or properties (every one, with its near
            miss), or SHACL violations (the report's lines in the message).
    """
    ontology_dir = str(data_dir("ontology"))
    classes, properties = known_terms(ontology_dir)
    problems = []
    for entity in facts.flatten():
        for predicate, obj in sorted(entity.pairs, key=str):
            if predicate.value not in properties:
                problems.append(
                    f"{entity.uri}: unknown property {compact(predicate.value)}"
                    + _near(predicate.value, properties)
                )
            elif predicate == RDF_TYPE and isinstance(obj, NamedNode) and obj.value not in classes:
                problems.append(
                    f"{entity.uri}: unknown class {compact(obj.value)}" + _near(obj.value, classes)
                )
    if problems:
        raise WriteRefusedError(
            "; ".join(problems) + "; not written (validate=False writes without checks)",
            problems,
            ValidationReport(),
        )

    validator = _validator(str(data_dir("shapes")), ontology_dir)
    report = validator.validate(facts, types_of)
    if not report.conforms:
        lines = "\n".join(
            f"  {r.focus} {compact(r.path) if r.path else ''}: {r.message}"
            for r in report.violations
        )
        raise WriteRefusedError(
            f"{facts.uri}: {len(report.violations)} SHACL violation(s); not written "
            f"(validate=False writes without checks):\n{lines}",
            [],
            report,
        )
    return report


def check_many(
    facts: Iterable[Facts], types_of: TypesOf
) -> dict[str, tuple[ValidationResult, ...]]:
    """Check every entity of a batch (:func:`check_write`) and report every refusal
    together. A link to an entity of the same batch is checked with that entity's
    classes, a link elsewhere with ``types_of`` (the graph's asserted classes).

    Returns:
        The warnings of each entity that has any, by URI.

    Raises:
        WriteRefusedError: naming every refused entity and why (``problems`` and the
            ``report``'s violations of them all); nothing should be written then.

    >>> from lifecyclegraph import Facts, Ref
    >>> team = Facts.of("aip://team/identity/t", {"rdf:type": Ref("lg:Team"),
    ...     "lg:name": "T", "lg:sourceId": "t"})
    >>> user = Facts.of("aip://user/identity/a", {"rdf:type": Ref("lg:User"),
    ...     "lg:name": "A", "lg:sourceId": "a", "lg:email": "a@example.com",
    ...     "lg:active": True, "lg:memberOf": Ref("aip://team/identity/t")})
    >>> check_many([user, team], lambda iri: set())
    {}
    """
    batch = list(facts)
    local: dict[str, set[str]] = {}
    for each in batch:
        for entity in each.flatten():
            local.setdefault(entity.uri, set()).update(
                o.value for p, o in entity.pairs if p == RDF_TYPE
            )

    known: dict[str, set[str]] = {}

    def classes(iri: str) -> set[str]:  # each IRI asked of the graph once a batch
        if iri in local:
            return local[iri]
        if iri not in known:
            known[iri] = set(types_of(iri))
        return known[iri]

    warnings: dict[str, tuple[ValidationResult, ...]] = {}
    refused: list[WriteRefusedError] = []
    for each in batch:
        try:
            report = check_write(each, classes)
        except WriteRefusedError as error:
            refused.append(error)
            continue
        if report.warnings:
            warnings[each.uri] = tuple(report.warnings)
    if len(refused) == 1:
        raise refused[0]
    if refused:
        raise WriteRefusedError(
            "\n".join(str(e) for e in refused),
            [p for e in refused for p in e.problems],
            ValidationReport([r for e in refused for r in e.report.results]),
        )
    return warnings


def with_warnings(
    results: Sequence[WriteResult], warnings: dict[str, tuple[ValidationResult, ...]]
) -> list[WriteResult]:
    """``results`` with each entity's validation ``warnings`` set on its result."""
    return [
        dataclasses.replace(r, warnings=warnings[r.uri]) if warnings.get(r.uri) else r
        for r in results
    ]
