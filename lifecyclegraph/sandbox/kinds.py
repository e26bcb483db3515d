"""The kinds of object the six reference source systems serve, as data.

Each :class:`Kind` says which system owns it, its list in the world files, its key,
the id fields of its events, and what a valid object needs. :func:`event_types` maps
a change of one object to the contract's event types.

>>> KINDS["dataset_version"].event_fields
('dataset_id', 'version')
>>> event_types(KINDS["run"], None, {"status": "FAILED"})
['pipeline_run_failed']
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lifecyclegraph.errors import LifecycleGraphError

__all__ = [
    "BY_COLLECTION",
    "DEFAULTS",
    "KINDS",
    "NOW_DEFAULTS",
    "SYSTEMS",
    "DuplicateObjectError",
    "Key",
    "Kind",
    "UnknownObjectError",
    "WorldError",
    "check_collection",
    "check_object",
    "event_types",
    "kind_named",
]

#: The six reference source systems, by platform id.
SYSTEMS = ("registry", "orchestrator", "experimentation", "featurestore", "datasets", "identity")

#: An object's key: its id, or ``(dataset_id, version)`` for a dataset version.
Key = str | tuple[str, ...]


class WorldError(LifecycleGraphError, ValueError):
    """A world file or a change to the world is invalid; the message says where and why."""


class UnknownObjectError(WorldError, LookupError):
    """The object named does not exist in the world."""


class DuplicateObjectError(WorldError):
    """An object with that key already exists."""


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of object of a source system, as the contract serves it.

    Attributes:
        name: the kind's name in the Python and control APIs (``model``, ``dataset_version``).
        system: the platform id of the system that owns it.
        collection: its list's name in the system's world file and in control URLs.
        key_fields: the object's field(s) that form its key.
        event_fields: the id field(s) its events carry, in the same order.
        required: fields every object must have (after defaults).
        enums: allowed values of enumerated fields.
        lists: fields that must be lists when present.
    """

    name: str
    system: str
    collection: str
    key_fields: tuple[str, ...]
    event_fields: tuple[str, ...]
    required: tuple[str, ...]
    enums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    lists: tuple[str, ...] = ()

    def key_of(self, obj: Mapping[str, Any]) -> tuple[str, ...]:
        """The key of an object of this kind (its key fields' values)."""
        return tuple(obj[name] for name in self.key_fields)


_OWNED = ("owner_emails", "labels")

#: Every kind, in dependency order (the order of seed events and of a change's events).
KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "team", system="identity", collection="teams",
            key_fields=("id",), event_fields=("team_id",),
            required=("id", "name", "members"),
            lists=("members",),
        ),
        Kind(
            "user", system="identity", collection="users",
            key_fields=("id",), event_fields=("user_id",),
            required=("id", "email", "display_name", "active", "teams"),
            lists=("teams",),
        ),
        Kind(
            "pipeline", system="orchestrator", collection="pipelines",
            key_fields=("name",), event_fields=("pipeline",),
            required=("name", "description", *_OWNED, "nodes", "created_at"),
            lists=(*_OWNED, "nodes"),
        ),
        Kind(
            "dataset", system="datasets", collection="datasets",
            key_fields=("id",), event_fields=("dataset_id",),
            required=("id", "name", "description", *_OWNED, "created_at"),
            lists=(*_OWNED, "upstream"),
        ),
        Kind(
            "run", system="orchestrator", collection="runs",
            key_fields=("run_id",), event_fields=("run_id",),
            required=("run_id", "pipeline", "status", "started_at"),
            enums={"status": ("RUNNING", "SUCCEEDED", "FAILED")},
            lists=("ab_test_cells", "inputs", "outputs", "attempts"),
        ),
        Kind(
            "dataset_version", system="datasets", collection="versions",
            key_fields=("dataset_id", "version"), event_fields=("dataset_id", "version"),
            required=("dataset_id", "version", "created_at"),
            lists=("schema",),
        ),
        Kind(
            "feature", system="featurestore", collection="features",
            key_fields=("id",), event_fields=("feature_id",),
            required=("id", "name", "description", *_OWNED, "value_type", "version",
                      "created_at"),
            lists=(*_OWNED, "source_datasets"),
        ),
        Kind(
            "test", system="experimentation", collection="tests",
            key_fields=("test_id",), event_fields=("test_id",),
            required=("test_id", "title", "status", "description", "owner_emails",
                      "start_date", "end_date", "cells"),
            enums={"status": ("DRAFT", "ACTIVE", "CONCLUDED")},
            lists=("owner_emails", "cells"),
        ),
        Kind(
            "model", system="registry", collection="models",
            key_fields=("id",), event_fields=("model_id",),
            required=("id", "name", "description", *_OWNED, "created_at", "updated_at"),
            lists=_OWNED,
        ),
        Kind(
            "instance", system="registry", collection="instances",
            key_fields=("id",), event_fields=("instance_id",),
            required=("id", "model_id", "version", *_OWNED, "state", "created_at"),
            enums={"state": ("STAGED", "LAUNCHED", "RETIRED")},
            lists=(*_OWNED, "features", "deployments"),
        ),
    )
}  # fmt: skip

BY_COLLECTION = {kind.collection: kind for kind in KINDS.values()}

# Event types by kind; a kind missing from a table has no such event in the contract.
_CREATED = {
    "team": "team_created",
    "user": "user_created",
    "pipeline": "pipeline_created",
    "dataset": "dataset_created",
    "dataset_version": "dataset_version_created",
    "feature": "feature_created",
    "test": "ab_test_created",
    "model": "model_created",
    "instance": "model_instance_created",
}
_UPDATED = {
    "team": "team_updated",
    "user": "user_updated",
    "pipeline": "pipeline_updated",
    "dataset": "dataset_updated",
    "feature": "feature_updated",
    "test": "ab_test_updated",
    "model": "model_updated",
    "instance": "model_instance_updated",
}
_DELETED = {
    "pipeline": "pipeline_deleted",
    "dataset": "dataset_deleted",
    "feature": "feature_deleted",
    "test": "ab_test_deleted",
    "model": "model_deleted",
    "instance": "model_instance_deleted",
}
_RUN_STATUS = {
    "RUNNING": "pipeline_run_started",
    "SUCCEEDED": "pipeline_run_completed",
    "FAILED": "pipeline_run_failed",
}

# Defaults filled in on create, so that a control call can give only what matters.
DEFAULTS: dict[str, dict[str, Any]] = {
    "team": {"members": []},
    "user": {"active": True, "teams": []},
    "pipeline": {"description": "", "owner_emails": [], "labels": [], "nodes": []},
    "dataset": {"description": "", "owner_emails": [], "labels": []},
    "run": {"status": "RUNNING"},
    "feature": {"description": "", "owner_emails": [], "labels": []},
    "test": {
        "status": "DRAFT",
        "description": "",
        "owner_emails": [],
        "end_date": None,
        "cells": [],
    },
    "model": {"description": "", "owner_emails": [], "labels": []},
    "instance": {"owner_emails": [], "labels": [], "state": "STAGED"},
}
NOW_DEFAULTS = {
    "pipeline": ("created_at",),
    "dataset": ("created_at",),
    "run": ("started_at",),
    "dataset_version": ("created_at",),
    "feature": ("created_at",),
    "test": ("start_date",),
    "model": ("created_at", "updated_at"),
    "instance": ("created_at",),
}


def kind_named(name: str) -> Kind:
    """The kind called ``name`` (or whose collection is ``name``).

    >>> kind_named("versions").name
    'dataset_version'
    >>> kind_named("modle")
    Traceback (most recent call last):
    ...
    lifecyclegraph.sandbox.kinds.WorldError: unknown kind 'modle'; did you mean 'model'?
    """
    found = KINDS.get(name) or BY_COLLECTION.get(name)
    if found is None:
        near = difflib.get_close_matches(name, [*KINDS, *BY_COLLECTION], n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise WorldError(f"unknown kind {name!r}{hint}")
    return found


def check_object(kind: Kind, obj: Any, where: str) -> list[str]:
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


def check_collection(kind: Kind, items: Sequence[Any], where: str) -> list[str]:
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


def event_types(kind: Kind, old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[str]:
    """The contract's event types for one object going from ``old`` to ``new``."""
    if new is None:
        return [_DELETED[kind.name]] if kind.name in _DELETED else []
    if kind.name == "run":
        return [_RUN_STATUS[new["status"]]]
    if old is None:
        return [_CREATED[kind.name]]
    if kind.name not in _UPDATED:  # dataset versions are immutable
        return []
    aspect, rest_old, rest_new = _split_aspect(kind.name, old, new)
    types = [aspect] if aspect else []
    if rest_old != rest_new:
        types.append(_UPDATED[kind.name])
    return types


def _split_aspect(
    name: str, old: dict[str, Any], new: dict[str, Any]
) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
    """The specific event of a change (deployed, allocation, membership, deactivated), if
    any, and both objects without the fields that event covers."""

    def without(obj: dict[str, Any], *names: str) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if k not in names}

    if name == "instance" and old.get("deployments") != new.get("deployments"):
        return "model_instance_deployed", without(old, "deployments"), without(new, "deployments")
    if name == "team" and old.get("members") != new.get("members"):
        return "membership_changed", without(old, "members"), without(new, "members")
    if name == "user" and old.get("active") and not new.get("active"):
        return "user_deactivated", without(old, "active"), without(new, "active")
    if name == "test":

        def shares(obj: dict[str, Any]) -> list[Any]:
            return [(c.get("cell_number"), c.get("allocation_pct")) for c in obj["cells"]]

        def cells(obj: dict[str, Any]) -> dict[str, Any]:
            return {**obj, "cells": [without(c, "allocation_pct") for c in obj["cells"]]}

        if shares(old) != shares(new):
            return "ab_test_allocation_changed", cells(old), cells(new)
    return None, old, new
