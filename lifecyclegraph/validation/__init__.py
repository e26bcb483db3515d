"""SHACL validation: shapes compiled to fast checks, pySHACL as reference and fallback."""

from lifecyclegraph.validation.report import Severity, ValidationReport, ValidationResult
from lifecyclegraph.validation.validator import Validator

__all__ = ["Severity", "ValidationReport", "ValidationResult", "Validator"]
