"""The sandbox's errors, and the checks of one object against its kind.

What each kind is (its key, id fields, required fields, event types...) is declared by
its system's fake (``lifecyclegraph/providers/<system>/fake.py``) and gathered in
:class:`~lifecyclegraph.sandbox.systems.SystemTable`.

>>> from lifecyclegraph.sandbox.systems import SystemTable
>>> run = SystemTable.installed().kind("run")
>>> check_object(run, {"run_id": "r", "pipeline": "p", "status": "DONE", "started_at": "x"},
...              "run r")
["run r: status must be one of RUNNING, SUCCEEDED, FAILED, not 'DONE'"]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lifecyclegraph.core.errors import LifecycleGraphError
from lifecyclegraph.providers.fake import FakeKind

__all__ = [
    "DuplicateObjectError",
    "Key",
    "UnknownObjectError",
    "WorldError",
    "check_collection",
    "check_object",
]

#: An object's key: its id, or ``(dataset_id, version)`` for a dataset version.
Key = str | tuple[str, ...]


class WorldError(LifecycleGraphError, ValueError):
    """A world file or a change to the world is invalid; the message says where and why."""


class UnknownObjectError(WorldError, LookupError):
    """The object named does not exist in the world."""


class DuplicateObjectError(WorldError):
    """An object with that key already exists."""


def check_object(kind: FakeKind, obj: Any, where: str) -> list[str]:
    """What is wrong with ``obj`` as an object of ``kind`` (empty when it is fine)."""
    if not isinstance(obj, dict):
        return [f"{where}: a {kind.name} must be a JSON object, not {type(obj).__name__}"]
    problems = []
    missing = [name for name in kind.required if name not in obj]
    if missing:
        problems.append(f"{where}: a {kind.name} needs {', '.join(missing)}")
    for name in kind.key_fields:
        value = obj.get(name)
        if name in obj and (not isinstance(value, str) or not value):
            problems.append(f"{where}: {name} must be a non-empty string, not {value!r}")
    for name, allowed in kind.enums.items():
        if name in obj and obj[name] not in allowed:
            problems.append(
                f"{where}: {name} must be one of {', '.join(allowed)}, not {obj[name]!r}"
            )
    for name in kind.lists:
        if name in obj and not isinstance(obj[name], list):
            problems.append(f"{where}: {name} must be a list, not {type(obj[name]).__name__}")
    return problems


def check_collection(kind: FakeKind, items: Sequence[Any], where: str) -> list[str]:
    """What is wrong with a list of objects of ``kind``: invalid objects, repeated keys."""
    problems: list[str] = []
    seen: set[tuple[str, ...]] = set()
    for index, obj in enumerate(items):
        found = check_object(kind, obj, f"{where}[{index}]")
        if found:
            problems += found
            continue
        key = kind.key_of(obj)
        if key in seen:
            problems.append(f"{where}[{index}]: a second {kind.name} {'/'.join(key)!r}")
        seen.add(key)
    return problems
