"""Validation results and reports, in SHACL's terms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Severity", "ValidationReport", "ValidationResult"]

SH = "http://www.w3.org/ns/shacl#"


class Severity:
    """SHACL severities, as IRIs."""

    VIOLATION = SH + "Violation"
    WARNING = SH + "Warning"
    INFO = SH + "Info"


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """One ``sh:ValidationResult``: which node, which path, what is wrong."""

    focus: str
    path: str | None
    severity: str
    component: str  #: the constraint component, e.g. ``sh:MinCountConstraintComponent``
    shape: str  #: the node or property shape that failed
    message: str
    value: str | None = None  #: the offending value's N-Triples text, when there is one

    def key(self) -> tuple[str, str | None, str, str, str | None]:
        """What identifies the result regardless of wording (for comparisons)."""
        return (self.focus, self.path, self.severity, self.component, self.value)

    def as_dict(self) -> dict[str, Any]:
        return {
            "focusNode": self.focus,
            "resultPath": self.path,
            "severity": self.severity.removeprefix(SH),
            "constraint": self.component.removeprefix(SH),
            "sourceShape": self.shape,
            "message": self.message,
            "value": self.value,
        }


@dataclass
class ValidationReport:
    """The outcome of validating one entity (with its parts)."""

    results: list[ValidationResult] = field(default_factory=list)

    @property
    def violations(self) -> list[ValidationResult]:
        return [r for r in self.results if r.severity == Severity.VIOLATION]

    @property
    def warnings(self) -> list[ValidationResult]:
        return [r for r in self.results if r.severity != Severity.VIOLATION]

    @property
    def conforms(self) -> bool:
        """True when nothing is a violation (warnings do not reject an entity)."""
        return not self.violations

    def as_dict(self) -> dict[str, Any]:
        return {"conforms": self.conforms, "results": [r.as_dict() for r in self.results]}

    def summary(self) -> str:
        """One line per result: ``severity focus path: message``."""
        return "\n".join(
            f"{r.severity.removeprefix(SH)} {r.focus} {r.path or ''}: {r.message}"
            for r in self.results
        )
