"""Findings: what ``lint`` and ``validate`` report, each with a stable id and a place.

A :class:`Finding` says what is wrong (``message``), how bad it is (``level``: error,
warning or note, as SARIF has them), which check or shape found it (``check``), and
where to look (``where``, a file, line and column). Its :attr:`~Finding.id` is a hash of
what identifies it regardless of wording and of line numbers (the producer's ``key``:
for a SHACL result the shape, constraint, focus node, path and value), so that two
runs on the same input give the same ids, and a run after an unrelated edit gives the
same ids for the same problems: findings can be baselined and compared.

A :class:`Report` holds the findings of one run with a description of each check
(for SARIF's rules and JUnit's suites); :mod:`lifecyclegraph.validation.formats`
writes it as text, JSON, JUnit XML, SARIF 2.1.0 or GitHub annotations.

>>> from lifecyclegraph.validation.turtle import Position
>>> finding = Finding(
...     "undefined-term", "error", "unknown term lg:visualisesModel",
...     key=("shapes/models.ttl", "lg:visualisesModel"),
...     where=Position("shapes/models.ttl", 40, 17), suggestion="lg:visualizesModel")
>>> finding.id == Finding("undefined-term", "error", "reworded", key=finding.key).id
True
>>> report = Report("lint", [finding])
>>> report.fails("error"), report.counts()
(True, {'error': 1, 'warning': 0, 'note': 0})
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from lifecyclegraph.validation.turtle import Position

__all__ = [
    "LEVELS",
    "Check",
    "Finding",
    "Report",
    "level_of_severity",
    "near_miss",
    "numbered",
    "tool_version",
]

#: Levels, from the most to the least serious (SARIF's names).
LEVELS = ("error", "warning", "note")
_SH = "http://www.w3.org/ns/shacl#"


def level_of_severity(severity: str) -> str:
    """The level of a SHACL severity: violation is an error, warning a warning, info a
    note.

    >>> level_of_severity("http://www.w3.org/ns/shacl#Warning")
    'warning'
    """
    return {"Violation": "error", "Warning": "warning"}.get(severity.removeprefix(_SH), "note")


@dataclass(frozen=True)
class Finding:
    """One problem found.

    Args:
        check: what found it: a lint check (``undefined-term``) or a shape's stable id
            (``lgsh:ModelInstanceShape/lg:version``).
        level: ``error``, ``warning`` or ``note``.
        message: what is wrong, for a person.
        key: what identifies the finding (not its wording, not its line): the id is
            made from it and ``check``.
        where: where to look, when known.
        file: the file concerned when ``where`` is unknown (or ``None``).
        subject: the term or entity concerned (an IRI).
        suggestion: the near miss the author probably meant ("did you mean").
        related: other places that matter, each with its role (the shape's own place).
        properties: details for machine-readable reports (a SHACL result's focus node,
            path, constraint, value).
    """

    check: str
    level: str
    message: str
    key: tuple[str, ...] = ()
    where: Position | None = None
    file: str | None = None
    subject: str | None = None
    suggestion: str | None = None
    related: tuple[tuple[str, Position], ...] = ()
    properties: Mapping[str, str | None] = field(default_factory=dict)
    ordinal: int = 1  #: set by :class:`Report` when several findings share a key

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"unknown level {self.level!r}: one of {', '.join(LEVELS)}")

    @property
    def id(self) -> str:
        """A short hash of ``check`` and ``key`` (and the ordinal, after the first)."""
        parts = [self.check, *self.key] + ([str(self.ordinal)] if self.ordinal > 1 else [])
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]

    @property
    def path(self) -> str | None:
        """The file the finding is in: the position's, else ``file``."""
        return self.where.file if self.where is not None else self.file

    def as_dict(self) -> dict[str, Any]:
        where = self.where
        return {
            "id": self.id,
            "check": self.check,
            "level": self.level,
            "message": self.message,
            "file": self.path,
            "line": where.line if where else None,
            "column": where.column if where else None,
            "subject": self.subject,
            "suggestion": self.suggestion,
            "related": [
                {"role": role, "file": p.file, "line": p.line, "column": p.column}
                for role, p in self.related
            ],
            **self.properties,
        }


@dataclass(frozen=True)
class Check:
    """What a check (or a shape) looks for: the rules of SARIF, the suites of JUnit."""

    id: str
    title: str
    description: str = ""
    where: Position | None = None  #: where the check is defined (a shape's file:line)


@dataclass
class Report:
    """The findings of one run, in a stable order, with what each check looks for.

    Args:
        tool: ``lint`` or ``validate``.
        findings: the findings (sorted here: by file, line, column, check, id).
        checks: descriptions of the checks, by id (a check without one gets its id).
        level_names: the words text output uses for the levels (``validate`` says
            violation, warning, info as SHACL does).
    """

    tool: str
    findings: list[Finding] = field(default_factory=list)
    checks: dict[str, Check] = field(default_factory=dict)
    level_names: dict[str, str] = field(default_factory=lambda: {level: level for level in LEVELS})

    def __post_init__(self) -> None:
        self.findings = numbered(self.findings)

    def extend(self, findings: Iterable[Finding]) -> None:
        """Add findings (ids of findings that share a key get an ordinal)."""
        self.findings = numbered([*self.findings, *findings])

    def counts(self) -> dict[str, int]:
        """How many findings of each level."""
        return {level: sum(1 for f in self.findings if f.level == level) for level in LEVELS}

    def fails(self, at: str) -> bool:
        """Whether any finding is at level ``at`` or worse (``error`` or ``warning``)."""
        worst = LEVELS[: LEVELS.index(at) + 1]
        return any(f.level in worst for f in self.findings)

    def check(self, check_id: str) -> Check:
        """The description of a check (its id alone when none was given)."""
        return self.checks.get(check_id) or Check(check_id, check_id)

    def by_id(self) -> dict[str, Finding]:
        """The findings by id (for comparing two runs)."""
        return {f.id: f for f in self.findings}


def _sort_key(f: Finding) -> tuple[Any, ...]:
    where = f.where
    return (
        f.path or "",
        where.line if where else 0,
        where.column if where else 0,
        f.check,
        f.key,
        f.message,
    )


def numbered(findings: list[Finding]) -> list[Finding]:
    """The findings in a stable order (file, line, column, check, key), the second and
    later of a check and key numbered (their ids differ)."""
    ordered = sorted((replace(f, ordinal=1) for f in findings), key=_sort_key)
    seen: dict[tuple[str, ...], int] = {}
    out = []
    for f in ordered:
        identity = (f.check, *f.key)
        seen[identity] = seen.get(identity, 0) + 1
        out.append(replace(f, ordinal=seen[identity]) if seen[identity] > 1 else f)
    return out


def near_miss(name: str, names: Iterable[str]) -> str | None:
    """The known name someone most likely meant: the same but for case, else one that
    starts with what was typed, else the most similar (difflib), else ``None``.

    >>> near_miss("lg:visualisesModel", ["lg:visualizesModel", "lg:Model"])
    'lg:visualizesModel'
    >>> near_miss("lg:zzz", ["lg:Model"]) is None
    True
    """
    import difflib

    lower: dict[str, str] = {}
    for n in sorted(names):
        lower.setdefault(n.lower(), n)
    typed = name.lower()
    if typed in lower and lower[typed] != name:
        return lower[typed]
    longer = sorted((n for n in lower if n.startswith(typed) and n != typed), key=len)
    if longer:
        return lower[longer[0]]
    close = difflib.get_close_matches(typed, [n for n in lower if n != typed], n=1, cutoff=0.6)
    return lower[close[0]] if close else None


def tool_version() -> str:
    """The installed lifecyclegraph version (``0.0.0`` when it is not installed): the
    tool version every report format names."""
    try:
        return version("lifecyclegraph")
    except PackageNotFoundError:  # pragma: no cover - run from a bare source tree
        return "0.0.0"
