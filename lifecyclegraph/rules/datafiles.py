"""Where the rule engine finds the ontology and the rule files.

In a source checkout they are the top-level folders ``ontology/`` and ``rules/``; in an
installed wheel they are packaged as ``lifecyclegraph/_data/ontology`` and
``lifecyclegraph/_data/rules`` (see ``pyproject.toml``).

>>> data_dir("rules").name
'rules'
>>> [path.name for path in rule_files()][:1]
['deprecation.rules']
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["data_dir", "ontology_files", "rule_files"]

_PACKAGE = Path(__file__).resolve().parent.parent


def data_dir(name: str) -> Path:
    """The folder ``name`` (``ontology``, ``rules``, ``shapes``): the checkout's, else the
    packaged copy."""
    checkout = _PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    return _PACKAGE / "_data" / name


def rule_files(directory: str | Path | None = None) -> list[Path]:
    """The ``*.rules`` files of a folder (default: the project's ``rules/``), sorted by name."""
    return sorted(Path(directory or data_dir("rules")).glob("*.rules"))


def ontology_files(directory: str | Path | None = None) -> list[Path]:
    """The ``*.ttl`` files of a folder (default: the project's ``ontology/``), sorted by name."""
    return sorted(Path(directory or data_dir("ontology")).glob("*.ttl"))
