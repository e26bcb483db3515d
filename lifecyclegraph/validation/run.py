"""Validation runs: entities against a model's shapes, as findings with stable ids.

The core is :func:`validate_entities`: a set of entities (normalized facts), the
project's validator for a model (any shapes folder, a candidate one included) and its
:class:`~lifecyclegraph.validation.shape_index.ShapeIndex`, and it returns one
:class:`~lifecyclegraph.validation.findings.Finding` per SHACL result, named by the
shape's stable id, keyed by what the result is about (shape, constraint, focus node,
path, value) so that two runs can be compared finding by finding.
:func:`lifecyclegraph.graph.quality.validate_store` runs it on the current state of a
store (through the door: validation does not import the graph), :func:`validate_data`
on data files before ingestion.

>>> from lifecyclegraph.core.facts import Facts, Ref
>>> sources = ModelSources.load(ModelDirs.current())
>>> facts = Facts.of("aip://model/registry/m", {"rdf:type": Ref("lg:Model"), "lg:sourceId": "m"})
>>> for f in validate_entities([facts], sources):
...     print(f.level, f.check, f.where)
error lgsh:NameRequired shapes/core.ttl:29:1
warning lgsh:DescriptionPresent shapes/core.ttl:79:1
warning lgsh:OwnerPresent shapes/core.ttl:100:1
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from lifecyclegraph.core.facts import Facts
from lifecyclegraph.core.vocab import compact
from lifecyclegraph.validation.findings import (
    Finding,
    Report,
    level_of_severity,
    near_miss,
    numbered,
)
from lifecyclegraph.validation.model import ModelDirs
from lifecyclegraph.validation.report import ValidationResult
from lifecyclegraph.validation.sources import ModelSources
from lifecyclegraph.validation.turtle import Position

__all__ = ["finding_of", "report_of", "validate_data", "validate_entities"]

SH = "http://www.w3.org/ns/shacl#"
#: The words ``validate`` uses for the levels, as SHACL has them.
LEVEL_NAMES = {"error": "violation", "warning": "warning", "note": "info"}


def validate_entities(
    entities: Iterable[Facts],
    sources: ModelSources,
    types_of: Callable[[str], Iterable[str]] | None = None,
    where: Callable[[str], Position | None] | None = None,
) -> list[Finding]:
    """Validate ``entities`` against the shapes of ``sources``.

    Args:
        entities: the entities (each with its parts).
        sources: the model (its validator and its shape index).
        types_of: the classes of an IRI the entities refer to (for ``sh:class``).
        where: where an entity is written (for findings on data files).

    Returns:
        One finding per SHACL result, in a stable order.

    Raises:
        TurtleSyntaxError: a file of the model does not parse.
    """
    validator = sources.validator
    out: list[Finding] = []
    for facts in entities:
        report = validator.validate(facts, types_of)
        out.extend(
            finding_of(r, sources, where(r.focus) if where else None) for r in report.results
        )
    return numbered(out)


def finding_of(result: ValidationResult, sources: ModelSources, at: Position | None) -> Finding:
    """A SHACL result as a finding: checked by the shape's stable id, at ``at`` (the
    entity's place in a data file) or else at the shape's own place."""
    shape = sources.shape_index.get(result.shape)
    check = shape.id if shape is not None else result.shape
    shape_at = shape.where if shape is not None else None
    component = result.component.removeprefix(SH)
    return Finding(
        check=check,
        level=level_of_severity(result.severity),
        message=result.message or f"{component} on {compact(result.path or '')}",
        key=(result.focus, result.path or "", component, result.value or ""),
        where=at or shape_at,
        subject=result.focus,
        related=(("shape", shape_at),) if shape_at is not None else (),
        properties={
            "focusNode": result.focus,
            "resultPath": result.path,
            "severity": result.severity.removeprefix(SH),
            "constraint": component,
            "sourceShape": check,
            "value": result.value,
        },
    )


def _report(sources: ModelSources, findings: Iterable[Finding]) -> Report:
    report = Report("validate", list(findings), level_names=dict(LEVEL_NAMES))
    for f in report.findings:
        shape = sources.shape_index.by_id().get(f.check)
        if shape is not None:
            report.checks[f.check] = shape.check()
    return report


def report_of(sources: ModelSources, results: Iterable[ValidationResult]) -> Report:
    """The report of validation ``results`` against the model of ``sources``, each a
    finding with its stable shape id (the results of a store carry no file position)."""
    return _report(sources, (finding_of(r, sources, None) for r in results))


def validate_data(paths: Sequence[Path], dirs: ModelDirs | None = None) -> Report:
    """Validate data files (Turtle, N-Triples, JSON-LD) before they are ingested.

    Every subject IRI of the files together is an entity; the classes of the IRIs the
    entities refer to are those the files state. Besides the SHACL results, the report
    holds what the store could not take at all (blank nodes) and each entity no shape
    applies to (its class is not one the shapes target, a typo perhaps).

    Raises:
        ConfigError: a path is missing or of an unknown kind, or cannot be read.
        TurtleSyntaxError: a data file or a file of the model does not parse.
    """
    from lifecyclegraph.validation.datafiles import collect, data_files, read_data_file

    sources = ModelSources.load(dirs or ModelDirs.current())
    sources.check_parsed()
    documents = [read_data_file(path) for path in data_files(paths)]
    data = collect(documents)
    findings = list(data.problems)
    findings.extend(_unchecked(data.entities, data.types_of, data.where, sources))
    findings.extend(
        validate_entities(data.entities, sources, data.types_of, lambda iri: data.where.get(iri))
    )
    return _report(sources, findings)


def _unchecked(
    entities: list[Facts],
    types_of: Callable[[str], set[str]],
    where: dict[str, Position | None],
    sources: ModelSources,
) -> list[Finding]:
    """A warning for each entity no shape targets (untyped, or of a class no shape
    targets, perhaps a mistyped one: the nearest class is suggested)."""
    from rdflib.namespace import SH as SHACL

    validator = sources.validator
    ontology = validator.ontology
    graph = validator.shapes.graph
    targeted = {str(c) for c in graph.objects(None, SHACL.targetClass)} if graph else set()
    classes = [compact(c) for c in ontology.classes()]
    out = []
    for facts in entities:
        types = types_of(facts.uri)
        if any(ontology.superclasses(t) & targeted for t in types):
            continue
        shown = ", ".join(sorted(compact(t) for t in types)) or "no class"
        unknown = sorted(compact(t) for t in types if t not in ontology.known_classes())
        suggestion = near_miss(unknown[0], classes) if unknown else None
        message = f"no shape applies to {facts.uri} ({shown}): it is not checked"
        if suggestion:
            message += f"; did you mean {suggestion}?"
        out.append(
            Finding(
                "no-shape",
                "warning",
                message,
                key=(facts.uri, *sorted(types)),
                where=where.get(facts.uri),
                subject=facts.uri,
                suggestion=suggestion,
                properties={"focusNode": facts.uri},
            )
        )
    return out
