"""A report as SARIF 2.1.0 (the OASIS Static Analysis Results Interchange Format).

One run of the tool ``lifecyclegraph``: each check (a lint check, or a shape by its
stable id) is a ``reportingDescriptor`` of ``tool.driver.rules``; each finding a
``result`` with its level, its message, its place (``physicalLocation``: the file
relative to the working directory, the line and the column in Unicode code points),
other places that matter (``relatedLocations``: the shape's own file and line) and its
id as ``partialFingerprints["lifecyclegraph/v1"]``, which code scanning uses to
follow a finding from one run to the next.

>>> from lifecyclegraph.validation.findings import Finding, Report
>>> from lifecyclegraph.validation.turtle import Position
>>> log = json.loads(sarif(Report("lint", [Finding("missing-label", "warning",
...     "lg:Model has no rdfs:label", key=("lg:Model",),
...     where=Position("ontology/models.ttl", 12, 1))])))
>>> result = log["runs"][0]["results"][0]
>>> result["ruleId"], result["locations"][0]["physicalLocation"]["region"]
('missing-label', {'startLine': 12, 'startColumn': 1})
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lifecyclegraph.validation.findings import Finding, Report, tool_version
from lifecyclegraph.validation.turtle import Position

__all__ = ["SCHEMA", "sarif"]

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://w3id.org/lifecyclegraph"


def sarif(report: Report) -> str:
    """The report as a SARIF 2.1.0 log (JSON text)."""
    rule_ids = sorted({f.check for f in report.findings} | set(report.checks))
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "lifecyclegraph",
                        "semanticVersion": tool_version(),
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(report, rule_id) for rule_id in rule_ids],
                    }
                },
                "automationDetails": {"id": f"lifecyclegraph/{report.tool}/"},
                "columnKind": "unicodeCodePoints",
                "results": [_result(f, index[f.check]) for f in report.findings],
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _rule(report: Report, rule_id: str) -> dict[str, Any]:
    check = report.check(rule_id)
    levels = {f.level for f in report.findings if f.check == rule_id}
    rule: dict[str, Any] = {
        "id": rule_id,
        "shortDescription": {"text": check.title or rule_id},
    }
    if check.description:
        rule["fullDescription"] = {"text": check.description}
    if len(levels) == 1:
        rule["defaultConfiguration"] = {"level": levels.pop()}
    if check.where is not None:
        rule["properties"] = {"definedAt": str(check.where)}
    return rule


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.check,
        "ruleIndex": rule_index,
        "level": f.level,
        "message": {"text": f.message or f.check},
        "partialFingerprints": {"lifecyclegraph/v1": f.id},
    }
    location = _location(f.where, f.path)
    if location is not None:
        result["locations"] = [location]
    if f.subject:
        result.setdefault("locations", [{}])
        result["locations"][0]["logicalLocations"] = [
            {"fullyQualifiedName": f.subject, "kind": "resource"}
        ]
    related = []
    for number, (role, where) in enumerate(f.related, start=1):
        place = _location(where, where.file)
        if place is not None:
            place["id"] = number
            place["message"] = {"text": role}
            related.append(place)
    if related:
        result["relatedLocations"] = related
    properties = {k: v for k, v in f.properties.items() if v is not None}
    if f.suggestion:
        properties["suggestion"] = f.suggestion
    if properties:
        result["properties"] = properties
    return result


def _location(where: Position | None, path: str | None) -> dict[str, Any] | None:
    if path is None:
        return None
    physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(path)}}
    if where is not None:
        physical["region"] = {"startLine": where.line, "startColumn": where.column}
    return {"physicalLocation": physical}


def artifact_uri(path: str) -> str:
    """A file as a SARIF artifact URI: relative (with ``/``) when it is, else ``file:``.

    >>> artifact_uri("shapes/my shapes.ttl")
    'shapes/my%20shapes.ttl'
    >>> artifact_uri("/srv/model/a.ttl")
    'file:///srv/model/a.ttl'
    """
    file = Path(path)
    if file.is_absolute():
        return file.as_uri()
    return quote(file.as_posix())
