"""A report's findings as text, JSON, JUnit XML, SARIF 2.1.0 or GitHub annotations.

``text`` is for people; ``json`` for scripts; ``junit`` for the test report of a CI
system (each finding a test case, failed when it is at the ``--fail-on`` level or
worse); ``sarif`` for code scanning (GitHub, GitLab, Azure DevOps), with each
finding's id as its fingerprint; ``github`` writes workflow commands
(``::error file=...,line=...::message``) that GitHub Actions shows on the lines of a
pull request.

>>> from lifecyclegraph.validation.findings import Finding, Report, tool_version
>>> from lifecyclegraph.validation.turtle import Position
>>> report = Report("lint", [Finding("undefined-term", "error", "unknown term lg:x",
...     key=("a",), where=Position("shapes/a.ttl", 3, 5))])
>>> print(render(report, "text"), end="")
shapes/a.ttl:3:5: error: unknown term lg:x [undefined-term]
1 error, 0 warnings, 0 notes
>>> print(render(report, "github"), end="")
::error file=shapes/a.ttl,line=3,col=5,title=undefined-term::unknown term lg:x
"""

from __future__ import annotations

import json

from lifecyclegraph.validation.findings import Finding, Report, tool_version

__all__ = ["FORMATS", "render", "tool_version"]

FORMATS = ("text", "json", "junit", "sarif", "github")


def render(report: Report, fmt: str, fail_on: str = "error") -> str:
    """The report in format ``fmt`` (one of :data:`FORMATS`).

    Args:
        report: the findings.
        fmt: ``text``, ``json``, ``junit``, ``sarif`` or ``github``.
        fail_on: the level from which a finding fails the run (``error`` or
            ``warning``): JUnit marks those as failures, JSON's ``conforms`` counts them.
    """
    if fmt == "text":
        return text(report)
    if fmt == "json":
        return as_json(report, fail_on)
    if fmt == "github":
        return github(report)
    if fmt == "junit":
        from lifecyclegraph.validation.junit import junit

        return junit(report, fail_on)
    if fmt == "sarif":
        from lifecyclegraph.validation.sarif import sarif

        return sarif(report)
    raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")


def text(report: Report) -> str:
    """One line per finding, ``file:line:col: level: message [check]``, and a count."""
    lines = [_line(report, f) for f in report.findings]
    counts = report.counts()
    names = report.level_names
    lines.append(
        ", ".join(_plural(counts[level], names[level]) for level in ("error", "warning", "note"))
    )
    return "\n".join(lines) + "\n"


def _line(report: Report, f: Finding) -> str:
    place = str(f.where) if f.where is not None else (f.path or "<model>")
    subject = ""
    if report.tool == "validate":
        focus = f.properties.get("focusNode")
        path = f.properties.get("resultPath")
        about = " ".join(x for x in (focus, _short(path)) if x)
        subject = f"{about}: " if about else ""
    text = f"{place}: {report.level_names[f.level]}: {subject}{f.message} [{f.check}]"
    for role, where in f.related:
        if where != f.where:
            text += f" ({role} at {where})"
    return text


def _short(iri: str | None) -> str | None:
    from lifecyclegraph.core.vocab import compact

    return compact(iri) if iri else None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def as_json(report: Report, fail_on: str = "error") -> str:
    """``{"tool", "version", "conforms", "summary", "results": [...]}``, one object per
    finding (see :meth:`Finding.as_dict`)."""
    counts = report.counts()
    document = {
        "tool": f"lifecyclegraph {report.tool}",
        "version": tool_version(),
        "conforms": not report.fails(fail_on),
        "summary": {report.level_names[level]: n for level, n in counts.items()},
        "results": [f.as_dict() for f in report.findings],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


_GITHUB_LEVEL = {"error": "error", "warning": "warning", "note": "notice"}


def github(report: Report) -> str:
    """GitHub Actions workflow commands, one per finding."""
    lines = []
    for f in report.findings:
        props = []
        if f.path:
            props.append(f"file={_escape_property(f.path)}")
        if f.where is not None:
            props.append(f"line={f.where.line}")
            props.append(f"col={f.where.column}")
        props.append(f"title={_escape_property(f.check)}")
        message = f.message
        if report.tool == "validate" and f.properties.get("focusNode"):
            path = _short(f.properties.get("resultPath"))
            message = f"{f.properties['focusNode']}{' ' + path if path else ''}: {message}"
        lines.append(f"::{_GITHUB_LEVEL[f.level]} {','.join(props)}::{_escape_data(message)}")
    return "".join(line + "\n" for line in lines)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
