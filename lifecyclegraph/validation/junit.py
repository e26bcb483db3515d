"""A report as JUnit XML, the test report format CI systems read.

One ``<testsuite>`` per check (a lint check, or a shape by its stable id), one
``<testcase>`` per finding, named by what it is about (the focus node and path, or the
term) and its place. A finding at the ``fail_on`` level or worse has a ``<failure>``
(``type`` is its level, ``message`` its message); the others pass, with their message
in ``<system-out>``. A report without findings is one passing test case, so that the
CI system sees that the check ran.

>>> from lifecyclegraph.validation.findings import Finding, Report
>>> from lifecyclegraph.validation.turtle import Position
>>> xml = junit(Report("lint", [Finding("missing-label", "warning", "no label",
...     key=("lg:X",), subject="https://w3id.org/lifecyclegraph/ontology#X",
...     where=Position("ontology/x.ttl", 3, 1))]), fail_on="warning")
>>> print(xml.splitlines()[1])
<testsuites name="lifecyclegraph lint" tests="1" failures="1" errors="0" skipped="0" time="0">
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from lifecyclegraph.core.vocab import compact
from lifecyclegraph.validation.findings import LEVELS, Finding, Report

__all__ = ["junit"]


def junit(report: Report, fail_on: str = "error") -> str:
    """The report as JUnit XML text (UTF-8, with an XML declaration)."""
    failing = set(LEVELS[: LEVELS.index(fail_on) + 1])
    name = f"lifecyclegraph {report.tool}"
    groups: dict[str, list[Finding]] = {}
    for f in report.findings:
        groups.setdefault(f.check, []).append(f)
    failures = sum(1 for f in report.findings if f.level in failing)
    tests = max(len(report.findings), 1)
    root = ET.Element("testsuites", _counts(name, tests, failures))
    if not groups:
        suite = ET.SubElement(root, "testsuite", _counts(name, 1, 0))
        ET.SubElement(
            suite, "testcase", {"classname": f"lifecyclegraph.{report.tool}", "name": "no findings"}
        ).set("time", "0")
    for check_id in sorted(groups):
        items = groups[check_id]
        check = report.check(check_id)
        suite = ET.SubElement(
            root,
            "testsuite",
            _counts(check_id, len(items), sum(1 for f in items if f.level in failing)),
        )
        if check.where is not None:
            properties = ET.SubElement(suite, "properties")
            ET.SubElement(properties, "property", {"name": "definedAt", "value": str(check.where)})
        for f in items:
            case = ET.SubElement(
                suite,
                "testcase",
                {"classname": check_id, "name": _case_name(report, f), "time": "0"},
            )
            details = _details(report, f)
            if f.level in failing:
                failure = ET.SubElement(
                    case,
                    "failure",
                    {"message": f.message, "type": report.level_names[f.level]},
                )
                failure.text = details
            else:
                ET.SubElement(
                    case, "system-out"
                ).text = f"{report.level_names[f.level]}: {f.message}\n{details}"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _counts(name: str, tests: int, failures: int) -> dict[str, str]:
    return {
        "name": name,
        "tests": str(tests),
        "failures": str(failures),
        "errors": "0",
        "skipped": "0",
        "time": "0",
    }


def _case_name(report: Report, f: Finding) -> str:
    focus = f.properties.get("focusNode")
    if report.tool == "validate" and focus:
        path = f.properties.get("resultPath")
        about = f"{focus} {compact(path)}" if path else focus
    else:
        about = compact(f.subject) if f.subject else f.check
    place = str(f.where) if f.where is not None else f.path
    return f"{about} ({place}) [{f.id}]" if place else f"{about} [{f.id}]"


def _details(report: Report, f: Finding) -> str:
    lines = [f"{f.where or f.path or '<model>'}: {f.message}"]
    if f.suggestion:
        lines.append(f"did you mean {f.suggestion}?")
    lines.extend(f"{role}: {where}" for role, where in f.related)
    lines.extend(f"{k}: {v}" for k, v in f.properties.items() if v is not None)
    lines.append(f"id: {f.id}")
    return "\n".join(lines)
