"""The sandbox's world: every object of the six reference source systems, kept as data.

A world is six JSON files, one per system: ``registry.json`` (``models``,
``instances``), ``orchestrator.json`` (``pipelines``, ``runs``),
``experimentation.json`` (``tests``), ``featurestore.json`` (``features``),
``datasets.json`` (``datasets``, ``versions``) and ``identity.json`` (``users``,
``teams``). Each object is stored exactly as the contract serves it.

Every change goes through :meth:`World.create`, :meth:`World.replace`,
:meth:`World.update`, :meth:`World.delete` or an action built on them
(:meth:`World.deploy`, :meth:`World.set_allocation`, :meth:`World.set_members`, ...).
A change returns, and sends to the world's subscribers, the thin events of the
contract's table for **every object whose served state changed**: deleting a model
also deletes its instances (``model_instance_deleted`` each); changing a team's
members changes the users' ``teams`` too (``membership_changed`` and ``user_updated``).

>>> world = World.load()
>>> world.get("model", "ranking-model")["current_instance_id"]
'ranking-model-v5-20XX0101'
>>> events = world.update("model", "ranking-model", {"description": "Ranks rows."})
>>> [(e["event_type"], e["model_id"]) for e in events]
[('model_updated', 'ranking-model')]
>>> [e["event_type"] for e in world.set_allocation("12345", {1: 20, 2: 80})]
['ab_test_allocation_changed']
"""

from __future__ import annotations

import copy
import difflib
import json
import logging
import random
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lifecyclegraph.sandbox import integrity
from lifecyclegraph.sandbox.events import Event, format_time, make_event
from lifecyclegraph.sandbox.kinds import (
    BY_COLLECTION,
    DEFAULTS,
    KINDS,
    NOW_DEFAULTS,
    SYSTEMS,
    DuplicateObjectError,
    Key,
    Kind,
    UnknownObjectError,
    WorldError,
    check_collection,
    check_object,
    event_types,
    kind_named,
)

__all__ = [
    "DEFAULT_WORLD",
    "KINDS",
    "SYSTEMS",
    "DuplicateObjectError",
    "Key",
    "Kind",
    "UnknownObjectError",
    "World",
    "WorldError",
]

log = logging.getLogger("lifecyclegraph.sandbox")

#: The directory of the packaged demo world.
DEFAULT_WORLD = Path(__file__).parent / "world"


class World:
    """The objects of the six source systems, thread-safe, with change events.

    Use :meth:`load` to read a world from its files. Reading methods return copies;
    the world changes only through its mutation methods, each of which returns the
    events it implies and sends them to every subscriber (unless ``emit=False``,
    which models an event that is lost).

    Args:
        objects: kind name -> list of objects.
        clock: returns the current time (for ``emitted_at`` and default timestamps).
    """

    def __init__(
        self,
        objects: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._listeners: list[Callable[[Event], None]] = []
        self._objects: dict[str, dict[tuple[str, ...], dict[str, Any]]] = {
            name: {} for name in KINDS
        }
        problems: list[str] = []
        for name, items in (objects or {}).items():
            kind = kind_named(name)
            items = list(items)
            problems += check_collection(kind, items, kind.collection)
            for obj in items:
                if isinstance(obj, dict):
                    self._objects[kind.name][kind.key_of(obj)] = copy.deepcopy(dict(obj))
        if problems:
            raise WorldError("invalid world:\n  " + "\n  ".join(problems))
        self._initial = copy.deepcopy(self._objects)

    # ------------------------------------------------------------------ files

    @classmethod
    def load(
        cls, directory: str | Path | None = None, *, clock: Callable[[], datetime] | None = None
    ) -> World:
        """Read a world from its six JSON files (the packaged demo world by default).

        Raises:
            WorldError: a file is missing, is not valid JSON, has an unknown list or an
                invalid object; every problem is reported, each with its file.
        """
        root = Path(directory) if directory is not None else DEFAULT_WORLD
        objects: dict[str, list[Any]] = {}
        problems: list[str] = []
        for system in SYSTEMS:
            path = root / f"{system}.json"
            collections = {k.collection for k in KINDS.values() if k.system == system}
            try:
                content = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                problems.append(f"{path}: missing (a world has one file per system)")
                continue
            except json.JSONDecodeError as error:
                problems.append(f"{path}:{error.lineno}:{error.colno}: {error.msg}")
                continue
            if not isinstance(content, dict):
                problems.append(f"{path}: must hold a JSON object of lists")
                continue
            for name, items in content.items():
                if name not in collections:
                    near = difflib.get_close_matches(name, collections, n=1)
                    hint = f"; did you mean {near[0]!r}?" if near else ""
                    problems.append(
                        f"{path}: unknown list {name!r}{hint} "
                        f"(expected {', '.join(sorted(collections))})"
                    )
                elif not isinstance(items, list):
                    problems.append(f"{path}: {name} must be a list")
                else:
                    kind = BY_COLLECTION[name]
                    problems += check_collection(kind, items, f"{path}: {name}")
                    objects[kind.name] = items
        if problems:
            raise WorldError("cannot load the world:\n  " + "\n  ".join(problems))
        return cls(objects, clock=clock)

    def to_files(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """The world as its files' contents: system -> collection -> objects."""
        with self._lock:
            files: dict[str, dict[str, list[dict[str, Any]]]] = {s: {} for s in SYSTEMS}
            for kind in KINDS.values():
                files[kind.system][kind.collection] = copy.deepcopy(
                    list(self._objects[kind.name].values())
                )
            return files

    def save(self, directory: str | Path) -> None:
        """Write the current world as six JSON files in ``directory`` (created if needed)."""
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        for system, content in self.to_files().items():
            text = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
            (root / f"{system}.json").write_text(text, encoding="utf-8")

    def reset(self) -> None:
        """Go back to the state the world was created with, silently (no events)."""
        with self._lock:
            self._objects = copy.deepcopy(self._initial)

    # ---------------------------------------------------------------- reading

    def get(self, kind: str, key: Key) -> dict[str, Any] | None:
        """A copy of one object as the contract serves it, or None if there is none.

        >>> World.load().get("dataset_version", ("viewing-history", "2026-01-01"))["row_count"]
        1200000
        """
        found = kind_named(kind)
        with self._lock:
            obj = self._objects[found.name].get(_key(found, key))
            return copy.deepcopy(obj) if obj is not None else None

    def objects(self, kind: str) -> list[dict[str, Any]]:
        """Copies of every object of a kind, in the world's order."""
        found = kind_named(kind)
        with self._lock:
            return copy.deepcopy(list(self._objects[found.name].values()))

    def keys(self, kind: str) -> list[Key]:
        """The keys of every object of a kind: ids, or ``(dataset_id, version)`` pairs.

        >>> World.load().keys("test")
        ['12345', '12210', '12400']
        """
        found = kind_named(kind)
        with self._lock:
            return [k[0] if len(k) == 1 else k for k in self._objects[found.name]]

    def counts(self) -> dict[str, int]:
        """The number of objects of each kind."""
        with self._lock:
            return {name: len(objects) for name, objects in self._objects.items()}

    def find_users(self, email: str) -> list[dict[str, Any]]:
        """The users with this email (compared without case), as the identity API lists them.

        >>> [u["id"] for u in World.load().find_users("Alice@Example.com")]
        ['alice']
        """
        wanted = email.casefold()
        with self._lock:
            return [
                copy.deepcopy(u)
                for u in self._objects["user"].values()
                if str(u.get("email", "")).casefold() == wanted
            ]

    def unknown_emails(self) -> set[str]:
        """Owner and trigger emails that the identity platform does not know.

        >>> World.load().unknown_emails()
        {'ghost@example.com'}
        """
        with self._lock:
            known = {str(u["email"]).casefold() for u in self._objects["user"].values()}
            used = {email for _, _, email in self._emails()}
        return {email for email in used if email.casefold() not in known}

    def _emails(self) -> Iterable[tuple[str, tuple[str, ...], str]]:
        for name, objects in self._objects.items():
            for key, obj in objects.items():
                for email in obj.get("owner_emails") or []:
                    yield name, key, email
                if name == "run" and obj.get("triggered_by"):
                    yield name, key, obj["triggered_by"]

    def problems(self) -> list[str]:
        """Every reference between objects that does not resolve inside the world.

        Owner emails are not references (an unknown email is a legitimate unresolved
        owner, see :meth:`unknown_emails`).

        >>> World.load().problems()
        []
        """
        with self._lock:
            return integrity.problems(self._objects)

    # ---------------------------------------------------------------- changes

    def subscribe(self, listener: Callable[[Event], None]) -> None:
        """Send every event the world emits from now on to ``listener`` (e.g. ``sink.send``)."""
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[Event], None]) -> None:
        """Stop sending events to ``listener``."""
        with self._lock:
            self._listeners.remove(listener)

    def publish(self, events: Iterable[Event]) -> None:
        """Send events to every subscriber, in order (never while the world is locked).

        A subscriber that fails is logged and skipped; it never undoes a change.
        """
        with self._lock:
            listeners = list(self._listeners)
        for event in events:
            for listener in listeners:
                try:
                    listener(event)
                except Exception:
                    log.exception("event subscriber %r failed on %s", listener, event)

    def create(self, kind: str, obj: Mapping[str, Any], *, emit: bool = True) -> list[Event]:
        """Add a new object; missing optional fields get defaults (timestamps: now).

        A dataset version also becomes its dataset's ``latest_version``; a user's
        ``teams`` and a team's ``members`` are kept symmetric.

        Raises:
            DuplicateObjectError: an object with the same key exists.
            WorldError: the object is invalid (missing field, bad state, ...).
        """
        found = kind_named(kind)
        return self._change(lambda now: self._put(found, obj, now, create=True), emit)

    def replace(self, kind: str, obj: Mapping[str, Any], *, emit: bool = True) -> list[Event]:
        """Create the object, or replace the whole existing object with the same key."""
        found = kind_named(kind)
        return self._change(lambda now: self._put(found, obj, now, create=False), emit)

    def update(
        self, kind: str, key: Key, changes: Mapping[str, Any], *, emit: bool = True
    ) -> list[Event]:
        """Set some fields of an existing object (a shallow merge).

        Raises:
            UnknownObjectError: there is no such object.
            WorldError: a key field would change, or the result is invalid.
        """
        found = kind_named(kind)

        def change(now: str) -> None:
            current = self._require(found, key)
            for name in found.key_fields:
                if name in changes and changes[name] != current[name]:
                    raise WorldError(f"{name} is the key of a {found.name} and cannot change")
            self._put(found, {**current, **changes}, now, create=False)

        return self._change(change, emit)

    def delete(self, kind: str, key: Key, *, emit: bool = True) -> list[Event]:
        """Delete an object, and what cannot exist without it.

        A model's instances and a dataset's versions go with it; an instance that was
        its model's current one leaves the model without ``current_instance_id``; a
        user leaves their teams; a team leaves its members and child teams.
        Runs, dataset versions, users and teams have no delete event in the contract:
        their deletion is silent (a consumer learns of it by a ``404``).

        Raises:
            UnknownObjectError: there is no such object.
        """
        found = kind_named(kind)
        return self._change(lambda now: self._remove(found, _key(found, key)), emit)

    def deploy(
        self,
        instance_id: str,
        env: str,
        region: str,
        *,
        deployed_at: str | None = None,
        emit: bool = True,
    ) -> list[Event]:
        """Deploy an instance to ``env``/``region`` (replacing a deployment there); it
        becomes ``LAUNCHED`` when deployed to production.

        >>> world = World.load()
        >>> [e["event_type"] for e in world.deploy("ranking-model-v5-20XX0101",
        ...                                        "production", "eu-west-1")]
        ['model_instance_deployed']
        """

        def change(now: str) -> None:
            current = self._require(KINDS["instance"], instance_id)
            deployments = [
                d
                for d in current.get("deployments") or []
                if (d.get("env"), d.get("region")) != (env, region)
            ]
            deployments.append({"env": env, "region": region, "deployed_at": deployed_at or now})
            current["deployments"] = deployments
            if env == "production":
                current["state"] = "LAUNCHED"

        return self._change(change, emit)

    def set_allocation(
        self, test_id: str, allocations: Mapping[int | str, float], *, emit: bool = True
    ) -> list[Event]:
        """Change the traffic share of an A/B test's cells (cell number -> percent).

        Raises:
            UnknownObjectError: no such test or cell.
            WorldError: the shares of all cells do not add up to 100.
        """

        def change(now: str) -> None:
            test = self._require(KINDS["test"], test_id)
            wanted = {int(number): pct for number, pct in allocations.items()}
            cells = {cell["cell_number"]: cell for cell in test["cells"]}
            unknown = sorted(set(wanted) - set(cells))
            if unknown:
                raise UnknownObjectError(f"test {test_id} has no cell {unknown[0]}")
            for number, pct in wanted.items():
                cells[number]["allocation_pct"] = pct
            total = sum(cell["allocation_pct"] for cell in test["cells"])
            if abs(total - 100) > 1e-9:
                raise WorldError(f"the cells of test {test_id} would add up to {total}%, not 100%")

        return self._change(change, emit)

    def set_members(
        self, team_id: str, members: Sequence[str], *, emit: bool = True
    ) -> list[Event]:
        """Make ``members`` (user ids) the team's members; users' ``teams`` follow.

        >>> world = World.load()
        >>> [(e["event_type"], e.get("team_id") or e.get("user_id"))
        ...  for e in world.set_members("personalization", ["alice", "bob", "dave"])]
        [('membership_changed', 'personalization'), ('user_updated', 'dave')]
        """
        return self.update("team", team_id, {"members": list(members)}, emit=emit)

    def deactivate_user(self, user_id: str, *, emit: bool = True) -> list[Event]:
        """Mark a user inactive (``user_deactivated``); they stay in the identity API."""
        return self.update("user", user_id, {"active": False}, emit=emit)

    def finish_run(
        self,
        run_id: str,
        status: str,
        *,
        outputs: Sequence[Mapping[str, str]] = (),
        ended_at: str | None = None,
        emit: bool = True,
    ) -> list[Event]:
        """End a running run as ``SUCCEEDED`` or ``FAILED``; its last attempt ends too.

        Each of ``outputs`` (``{"dataset_id": ..., "version": ...}``) becomes a new
        dataset version produced by the run (``dataset_version_created``).
        """
        if status not in ("SUCCEEDED", "FAILED"):
            raise WorldError(f"a run finishes as SUCCEEDED or FAILED, not {status!r}")

        def change(now: str) -> None:
            run = self._require(KINDS["run"], run_id)
            end = ended_at or now
            run["status"], run["ended_at"] = status, end
            attempts = run.get("attempts") or [
                {"attempt": 1, "status": "RUNNING", "started_at": run["started_at"]}
            ]
            attempts[-1].update(status=status, ended_at=end)
            run["attempts"] = attempts
            if outputs:
                run["outputs"] = [
                    *(run.get("outputs") or []),
                    *({"dataset_id": o["dataset_id"], "version": o["version"]} for o in outputs),
                ]
                for output in outputs:
                    self._put(
                        KINDS["dataset_version"],
                        {
                            "dataset_id": output["dataset_id"],
                            "version": output["version"],
                            "created_at": end,
                            "produced_by_run": run_id,
                        },
                        now,
                        create=True,
                    )

        return self._change(change, emit)

    # ------------------------------------------------------------------ seeds

    def seed_events(self, *, seed: int = 0, emitted_at: str | None = None) -> list[Event]:
        """One creation event per object of the world, in dependency order.

        A run's event is the one of its status (``pipeline_run_started``, ``_completed``
        or ``_failed``). Event ids come from ``seed``, so the same world and seed give
        the same events; ``emitted_at`` defaults to now.

        >>> events = World.load().seed_events(emitted_at="2026-01-02T00:00:00Z")
        >>> events[0]["event_type"], events[-1]["event_type"]
        ('team_created', 'model_instance_created')
        """
        rng = random.Random(seed)
        stamp = emitted_at or format_time(self.clock())
        with self._lock:
            return [
                make_event(
                    event_type,
                    dict(zip(kind.event_fields, key, strict=True)),
                    emitted_at=stamp,
                    event_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                )
                for kind in KINDS.values()
                for key, obj in self._objects[kind.name].items()
                for event_type in event_types(kind, None, obj)
            ]

    # --------------------------------------------------------------- internals

    def _change(self, mutate: Callable[[str], None], emit: bool) -> list[Event]:
        with self._lock:
            before = copy.deepcopy(self._objects)
            now = format_time(self.clock())
            try:
                mutate(now)
                _bump_updated_at(before, self._objects, now)
                events = _diff(before, self._objects, now)
            except BaseException:
                self._objects = before
                raise
        if emit:
            self.publish(events)
        return events

    def _require(self, kind: Kind, key: Key) -> dict[str, Any]:
        obj = self._objects[kind.name].get(_key(kind, key))
        if obj is None:
            shown = key if isinstance(key, str) else "/".join(key)
            raise UnknownObjectError(f"no {kind.name} {shown!r}")
        return obj

    def _put(self, kind: Kind, obj: Mapping[str, Any], now: str, *, create: bool) -> None:
        new = {**copy.deepcopy(DEFAULTS.get(kind.name, {})), **copy.deepcopy(dict(obj))}
        for name in NOW_DEFAULTS.get(kind.name, ()):
            new.setdefault(name, now)
        problems = check_object(kind, new, f"{kind.name} {obj.get(kind.key_fields[0])!r}")
        if problems:
            raise WorldError("; ".join(problems))
        key = kind.key_of(new)
        objects = self._objects[kind.name]
        old = objects.get(key)
        if old is not None and create:
            raise DuplicateObjectError(f"a {kind.name} {'/'.join(key)!r} already exists")
        if kind.name == "dataset_version":
            dataset = self._require(KINDS["dataset"], new["dataset_id"])
            if old is not None and old != new:
                raise WorldError("a dataset version is immutable; create a new version")
            if old is None:
                dataset["latest_version"] = new["version"]
        if kind.name == "instance":
            self._require(KINDS["model"], new["model_id"])
        objects[key] = new
        if kind.name == "user":
            self._sync_user(new)
        elif kind.name == "team":
            self._sync_team(new)

    def _sync_user(self, user: dict[str, Any]) -> None:
        teams = self._objects["team"]
        for team_id in user["teams"]:
            if (team_id,) not in teams:
                raise UnknownObjectError(f"user {user['id']}: no team {team_id!r}")
        for (team_id,), team in teams.items():
            inside = user["id"] in team["members"]
            if team_id in user["teams"] and not inside:
                team["members"] = [*team["members"], user["id"]]
            elif team_id not in user["teams"] and inside:
                team["members"] = [m for m in team["members"] if m != user["id"]]

    def _sync_team(self, team: dict[str, Any]) -> None:
        users = self._objects["user"]
        for user_id in team["members"]:
            if (user_id,) not in users:
                raise UnknownObjectError(f"team {team['id']}: no user {user_id!r}")
        for (user_id,), user in users.items():
            inside = team["id"] in user["teams"]
            if user_id in team["members"] and not inside:
                user["teams"] = [*user["teams"], team["id"]]
            elif user_id not in team["members"] and inside:
                user["teams"] = [t for t in user["teams"] if t != team["id"]]

    def _remove(self, kind: Kind, key: tuple[str, ...]) -> None:
        obj = self._require(kind, key)
        del self._objects[kind.name][key]
        objects = self._objects
        if kind.name == "model":
            for instance_key in [
                k for k, i in objects["instance"].items() if i["model_id"] == key[0]
            ]:
                del objects["instance"][instance_key]
        elif kind.name == "instance":
            model = objects["model"].get((obj["model_id"],))
            if model is not None and model.get("current_instance_id") == key[0]:
                del model["current_instance_id"]
        elif kind.name == "dataset":
            for version_key in [k for k in objects["dataset_version"] if k[0] == key[0]]:
                del objects["dataset_version"][version_key]
        elif kind.name == "user":
            for team in objects["team"].values():
                team["members"] = [m for m in team["members"] if m != key[0]]
        elif kind.name == "team":
            for user in objects["user"].values():
                user["teams"] = [t for t in user["teams"] if t != key[0]]
            for team in objects["team"].values():
                if team.get("parent_team") == key[0]:
                    del team["parent_team"]


def _key(kind: Kind, key: Key) -> tuple[str, ...]:
    parts = (key,) if isinstance(key, str) else tuple(key)
    if len(parts) != len(kind.key_fields):
        raise WorldError(f"a {kind.name} is named by {', '.join(kind.key_fields)}, not {key!r}")
    return parts


def _diff(
    before: dict[str, dict[tuple[str, ...], dict[str, Any]]],
    after: dict[str, dict[tuple[str, ...], dict[str, Any]]],
    now: str,
) -> list[Event]:
    """The events of every object that changed: deletions first (in reverse dependency
    order), then creations and updates in dependency order."""
    events: list[Event] = []
    for kind in reversed(KINDS.values()):
        for key, gone in before[kind.name].items():
            if key not in after[kind.name]:
                events.extend(_events(kind, key, gone, None, now))
    for kind in KINDS.values():
        old_objects, new_objects = before[kind.name], after[kind.name]
        for key, new in new_objects.items():
            old = old_objects.get(key)
            if old != new:
                events.extend(_events(kind, key, old, new, now))
    return events


def _events(
    kind: Kind,
    key: tuple[str, ...],
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    now: str,
) -> list[Event]:
    ids = dict(zip(kind.event_fields, key, strict=True))
    return [make_event(t, ids, emitted_at=now) for t in event_types(kind, old, new)]


def _bump_updated_at(
    before: dict[str, dict[tuple[str, ...], dict[str, Any]]],
    after: dict[str, dict[tuple[str, ...], dict[str, Any]]],
    now: str,
) -> None:
    """A changed model gets ``updated_at`` = now, unless the change set it itself."""
    for key, model in after["model"].items():
        old = before["model"].get(key)
        if old is not None and old != model and old.get("updated_at") == model.get("updated_at"):
            model["updated_at"] = now
