"""The sandbox's world: every object of the installed source systems, kept as data.

A world is one JSON file per system, ``<platform id>.json``, with one list per kind
of the system: for the six reference systems ``registry.json`` (``models``,
``instances``), ``orchestrator.json`` (``pipelines``, ``runs``),
``experimentation.json`` (``tests``), ``featurestore.json`` (``features``),
``datasets.json`` (``datasets``, ``versions``) and ``identity.json`` (``users``,
``teams``). Each object is stored exactly as the contract serves it. The packaged
demo world travels with each system's fake (``providers/<system>/world.json``).

Every change goes through :meth:`World.create`, :meth:`World.replace`,
:meth:`World.update`, :meth:`World.delete` or a system's action (:meth:`World.act`:
``deploy``, ``allocation``, ``members``, ...).
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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, NoReturn

from lifecyclegraph.providers.fake import FakeKind, Lookup, Objects
from lifecyclegraph.sandbox import integrity
from lifecyclegraph.sandbox.events import Event, format_time, make_event
from lifecyclegraph.sandbox.kinds import (
    DuplicateObjectError,
    Key,
    UnknownObjectError,
    WorldError,
    check_collection,
    check_object,
)
from lifecyclegraph.sandbox.systems import Kind, SystemTable

__all__ = [
    "KINDS",  # noqa: F822 (made from the installed systems on access: __getattr__)
    "SYSTEMS",  # noqa: F822
    "DuplicateObjectError",
    "Key",
    "Kind",
    "UnknownObjectError",
    "World",
    "WorldError",
    "world_files",
]

log = logging.getLogger("lifecyclegraph.sandbox")


def __getattr__(name: str) -> Any:
    """``SYSTEMS`` (the platform ids) and ``KINDS`` (every kind by name) of the
    installed systems' table."""
    if name == "SYSTEMS":
        return tuple(SystemTable.installed().systems)
    if name == "KINDS":
        return dict(SystemTable.installed().kinds)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def world_files(systems: SystemTable | None = None) -> dict[str, Traversable]:
    """The packaged demo world: each system's file (its fake's ``world``), by platform id.

    >>> sorted(world_files())[:2]
    ['datasets', 'experimentation']
    """
    table = systems if systems is not None else SystemTable.installed()
    found = {}
    for pid, fake in table.systems.items():
        if fake.world is not None:
            package, _, name = fake.world.partition(":")
            found[pid] = resources.files(package).joinpath(name)
    return found


class World:
    """The objects of the installed source systems, thread-safe, with change events.

    Use :meth:`load` to read a world from its files. Reading methods return copies;
    the world changes only through its mutation methods, each of which returns the
    events it implies and sends them to every subscriber (unless ``emit=False``,
    which models an event that is lost).

    Args:
        objects: kind name -> list of objects.
        clock: returns the current time (for ``emitted_at`` and default timestamps).
        systems: the systems it holds (default: every installed provider's fake).
    """

    def __init__(
        self,
        objects: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        systems: SystemTable | None = None,
    ) -> None:
        self.table = systems if systems is not None else SystemTable.installed()
        self.clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._listeners: list[Callable[[Event], None]] = []
        self._objects: Objects = {name: {} for name in self.table.kinds}
        problems: list[str] = []
        for name, items in (objects or {}).items():
            kind = self.table.kind(name)
            items = list(items)
            problems += check_collection(kind, items, kind.collection)
            for obj in items:
                if isinstance(obj, dict):
                    self._objects[kind.name][kind.key_of(obj)] = copy.deepcopy(dict(obj))
        if problems:
            raise WorldError("invalid world:\n  " + "\n  ".join(problems))
        self._initial = copy.deepcopy(self._objects)
        #: grows with every change (and reset): an index of a search route built before
        #: is built again on its next use
        self._generation = 0
        self._indexes: dict[str, tuple[int, dict[Any, list[tuple[str, ...]]]]] = {}

    # ------------------------------------------------------------------ files

    @classmethod
    def load(
        cls,
        directory: str | Path | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        systems: SystemTable | None = None,
    ) -> World:
        """Read a world: one JSON file per system, ``<platform id>.json`` in
        ``directory``, or by default each system's packaged demo world
        (:func:`world_files`).

        Raises:
            WorldError: a file is missing, is not valid JSON, has an unknown list or an
                invalid object; every problem is reported, each with its file.
        """
        table = systems if systems is not None else SystemTable.installed()
        packaged = world_files(table)
        objects: dict[str, list[Any]] = {}
        problems: list[str] = []
        for system in table.systems:
            collections = {k.collection for k in table.kinds_of(system)}
            path: Path | Traversable | None = (
                Path(directory) / f"{system}.json"
                if directory is not None
                else packaged.get(system)
            )
            if path is None:  # a fake without a demo world: its lists start empty
                continue
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
                    kind = table.by_collection[name]
                    problems += check_collection(kind, items, f"{path}: {name}")
                    objects[kind.name] = items
        if problems:
            raise WorldError("cannot load the world:\n  " + "\n  ".join(problems))
        return cls(objects, clock=clock, systems=table)

    def to_files(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """The world as its files' contents: system -> collection -> objects."""
        with self._lock:
            files: dict[str, dict[str, list[dict[str, Any]]]] = {s: {} for s in self.table.systems}
            for system in self.table.systems:
                for kind in self._system_kinds(system):
                    files[system][kind.collection] = copy.deepcopy(
                        list(self._objects[kind.name].values())
                    )
            return files

    def _system_kinds(self, system: str) -> list[FakeKind]:
        """A system's kinds in the order its fake declares them (the files' order)."""
        return list(self.table.systems[system].kinds)

    def save(self, directory: str | Path) -> None:
        """Write the current world as one JSON file per system in ``directory`` (created
        if needed)."""
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        for system, content in self.to_files().items():
            text = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
            (root / f"{system}.json").write_text(text, encoding="utf-8")

    def reset(self) -> None:
        """Go back to the state the world was created with, silently (no events)."""
        with self._lock:
            self._objects = copy.deepcopy(self._initial)
            self._generation += 1

    # ---------------------------------------------------------------- reading

    def get(self, kind: str, key: Key) -> dict[str, Any] | None:
        """A copy of one object as the contract serves it, or None if there is none.

        >>> World.load().get("dataset_version", ("viewing-history", "2026-01-01"))["row_count"]
        1200000
        """
        found = self.table.kind(kind)
        with self._lock:
            obj = self._objects[found.name].get(_key(found, key))
            return copy.deepcopy(obj) if obj is not None else None

    def objects(self, kind: str) -> list[dict[str, Any]]:
        """Copies of every object of a kind, in the world's order."""
        found = self.table.kind(kind)
        with self._lock:
            return copy.deepcopy(list(self._objects[found.name].values()))

    def keys(self, kind: str) -> list[Key]:
        """The keys of every object of a kind: ids, or ``(dataset_id, version)`` pairs.

        >>> World.load().keys("test")
        ['12345', '12210', '12400']
        """
        found = self.table.kind(kind)
        with self._lock:
            return [k[0] if len(k) == 1 else k for k in self._objects[found.name]]

    def counts(self) -> dict[str, int]:
        """The number of objects of each kind."""
        with self._lock:
            return {name: len(objects) for name, objects in self._objects.items()}

    def lookup(self, name: str, value: str) -> list[dict[str, Any]]:
        """The objects a search route of a system answers for ``value`` (its query
        parameter), as the route lists them.

        Raises:
            WorldError: no system has a search route called ``name``.
        """
        found = next((look for _, look in self.table.lookups if look.name == name), None)
        if found is None:
            raise WorldError(f"no search route {name!r}")
        wanted = value.casefold() if found.casefold else value
        with self._lock:
            objects = self._objects[found.kind]
            return [copy.deepcopy(objects[key]) for key in self._index(found).get(wanted, ())]

    def _index(self, look: Lookup) -> dict[Any, list[tuple[str, ...]]]:
        """A search route's index: each value its field has (case folded when the route
        compares so) -> the keys of the objects with it, in the world's order. Built on
        first use after a change: a scan per request cost a millisecond for each
        10,000 users, and the bench's hydration asks for every owner's email."""
        held = self._indexes.get(look.name)
        if held is not None and held[0] == self._generation:
            return held[1]
        index: dict[Any, list[tuple[str, ...]]] = {}
        for key, obj in self._objects[look.kind].items():
            if look.casefold:
                value: Any = str(obj.get(look.field, "")).casefold()
            else:
                value = obj.get(look.field)
                if not isinstance(value, str):  # the query parameter is text
                    continue
            index.setdefault(value, []).append(key)
        self._indexes[look.name] = (self._generation, index)
        return index

    def find_users(self, email: str) -> list[dict[str, Any]]:
        """The users with this email (compared without case), as the identity API lists them.

        >>> [u["id"] for u in World.load().find_users("Alice@Example.com")]
        ['alice']
        """
        return self.lookup("find_users", email)

    def unknown_emails(self) -> set[str]:
        """Owner and trigger emails that the identity platform does not know.

        >>> World.load().unknown_emails()
        {'ghost@example.com'}
        """
        by_email = [look for _, look in self.table.lookups if look.param == "email"]
        with self._lock:
            known = {
                str(obj[look.field]).casefold()
                for look in by_email
                for obj in self._objects[look.kind].values()
                if obj.get(look.field) is not None
            }
            used = {email for _, _, email in self._emails()}
        return {email for email in used if email.casefold() not in known}

    def _emails(self) -> Iterable[tuple[str, tuple[str, ...], str]]:
        for kind in self.table.kinds.values():
            for key, obj in self._objects[kind.name].items():
                for name in kind.emails:
                    value = obj.get(name)
                    for email in value if isinstance(value, list) else [value] if value else []:
                        yield kind.name, key, email

    def problems(self) -> list[str]:
        """Every reference between objects that does not resolve inside the world.

        Owner emails are not references (an unknown email is a legitimate unresolved
        owner, see :meth:`unknown_emails`).

        >>> World.load().problems()
        []
        """
        with self._lock:
            return integrity.problems(self.table, self._objects)

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
        ``teams`` and a team's ``members`` are kept symmetric (each system's fake says
        what it keeps consistent).

        Raises:
            DuplicateObjectError: an object with the same key exists.
            WorldError: the object is invalid (missing field, bad state, ...).
        """
        found = self.table.kind(kind)
        return self._change(lambda ops: self._put(ops, found, obj, create=True), emit)

    def replace(self, kind: str, obj: Mapping[str, Any], *, emit: bool = True) -> list[Event]:
        """Create the object, or replace the whole existing object with the same key."""
        found = self.table.kind(kind)
        return self._change(lambda ops: self._put(ops, found, obj, create=False), emit)

    def update(
        self, kind: str, key: Key, changes: Mapping[str, Any], *, emit: bool = True
    ) -> list[Event]:
        """Set some fields of an existing object (a shallow merge).

        Raises:
            UnknownObjectError: there is no such object.
            WorldError: a key field would change, or the result is invalid.
        """
        found = self.table.kind(kind)

        def change(ops: _Ops) -> None:
            current = self._require(found, key)
            for name in found.key_fields:
                if name in changes and changes[name] != current[name]:
                    raise WorldError(f"{name} is the key of a {found.name} and cannot change")
            self._put(ops, found, {**current, **changes}, create=False)

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
        found = self.table.kind(kind)
        return self._change(lambda ops: self._remove(ops, found, _key(found, key)), emit)

    def act(self, action: str, *, emit: bool = True, **fields: Any) -> list[Event]:
        """Run a system's control action (``deploy``, ``allocation``, ``members``,
        ``deactivate``, ``finish-run``, or an outside system's own) as one change.

        >>> world = World.load()
        >>> [e["event_type"] for e in world.act("deploy", instance_id="ranking-model-v5-20XX0101",
        ...                                     env="production", region="eu-west-1")]
        ['model_instance_deployed']

        Raises:
            WorldError: there is no such action, or it refuses the change.
        """
        found = self.table.actions.get(action)
        if found is None:
            near = difflib.get_close_matches(action, self.table.actions, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise WorldError(f"no action {action!r}{hint}")
        return self._change(lambda ops: found.run(ops, **fields), emit)

    # One-line wrappers of the actions, kept for one release: use act().

    def deploy(
        self,
        instance_id: str,
        env: str,
        region: str,
        *,
        deployed_at: str | None = None,
        emit: bool = True,
    ) -> list[Event]:
        """Deploy an instance to ``env``/``region`` (``act("deploy", ...)``; deprecated)."""
        return self.act(
            "deploy", instance_id=instance_id, env=env, region=region, deployed_at=deployed_at,
            emit=emit,
        )  # fmt: skip

    def set_allocation(
        self, test_id: str, allocations: Mapping[int | str, float], *, emit: bool = True
    ) -> list[Event]:
        """Change an A/B test's traffic split (``act("allocation", ...)``; deprecated).

        Raises:
            UnknownObjectError: no such test or cell.
            WorldError: the shares of all cells do not add up to 100.
        """
        return self.act("allocation", test_id=test_id, allocations=allocations, emit=emit)

    def set_members(
        self, team_id: str, members: Sequence[str], *, emit: bool = True
    ) -> list[Event]:
        """Make ``members`` (user ids) the team's members; users' ``teams`` follow
        (``act("members", ...)``; deprecated).

        >>> world = World.load()
        >>> [(e["event_type"], e.get("team_id") or e.get("user_id"))
        ...  for e in world.set_members("personalization", ["alice", "bob", "dave"])]
        [('membership_changed', 'personalization'), ('user_updated', 'dave')]
        """
        return self.act("members", team_id=team_id, members=members, emit=emit)

    def deactivate_user(self, user_id: str, *, emit: bool = True) -> list[Event]:
        """Mark a user inactive (``act("deactivate", ...)``; deprecated)."""
        return self.act("deactivate", user_id=user_id, emit=emit)

    def finish_run(
        self,
        run_id: str,
        status: str,
        *,
        outputs: Sequence[Mapping[str, str]] = (),
        ended_at: str | None = None,
        emit: bool = True,
    ) -> list[Event]:
        """End a running run as ``SUCCEEDED`` or ``FAILED``, each of ``outputs`` becoming
        a new dataset version (``act("finish-run", ...)``; deprecated)."""
        return self.act(
            "finish-run", run_id=run_id, status=status, outputs=outputs, ended_at=ended_at,
            emit=emit,
        )  # fmt: skip

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
                    types=self.table.event_types,
                )
                for kind in self.table.kinds.values()
                for key, obj in self._objects[kind.name].items()
                for event_type in kind.event_types(None, obj)
            ]

    # --------------------------------------------------------------- internals

    def _change(self, mutate: Callable[[_Ops], None], emit: bool) -> list[Event]:
        with self._lock:
            ops = _Ops(self, format_time(self.clock()))
            before = ops.before
            try:
                mutate(ops)
                for fake in self.table.systems.values():
                    if fake.on_change is not None:
                        fake.on_change(ops, before)  # type: ignore[arg-type]
                events = self._diff(ops.saved, ops.now)
            except BaseException:
                self._objects.update(ops.saved)
                raise
            finally:
                self._generation += 1  # objects changed in place, or were put back
        if emit:
            self.publish(events)
        return events

    def _require(self, kind: FakeKind, key: Key) -> dict[str, Any]:
        obj = self._objects[kind.name].get(_key(kind, key))
        if obj is None:
            shown = key if isinstance(key, str) else "/".join(key)
            raise UnknownObjectError(f"no {kind.name} {shown!r}")
        return obj

    def _put(self, ops: _Ops, kind: Kind, obj: Mapping[str, Any], *, create: bool) -> None:
        ops.keep(kind.name)
        new = {**copy.deepcopy(dict(kind.defaults)), **copy.deepcopy(dict(obj))}
        for name in kind.now_defaults:
            new.setdefault(name, ops.now)
        problems = check_object(kind, new, f"{kind.name} {obj.get(kind.key_fields[0])!r}")
        if problems:
            raise WorldError("; ".join(problems))
        key = kind.key_of(new)
        objects = self._objects[kind.name]
        old = objects.get(key)
        if old is not None and create:
            raise DuplicateObjectError(f"a {kind.name} {'/'.join(key)!r} already exists")
        objects[key] = new
        hook = self.table.systems[kind.system].on_put
        if hook is not None:
            hook(ops, kind, old, new)

    def _remove(self, ops: _Ops, kind: Kind, key: tuple[str, ...]) -> None:
        ops.keep(kind.name)
        obj = self._require(kind, key)
        del self._objects[kind.name][key]
        hook = self.table.systems[kind.system].on_remove
        if hook is not None:
            hook(ops, kind, key, obj)

    def _diff(self, saved: Objects, now: str) -> list[Event]:
        """The events of every object that changed: deletions first (in reverse dependency
        order), then creations and updates in dependency order. ``saved`` holds, for each
        kind the change touched, its objects as they were (no other kind changed)."""
        after = self._objects
        events: list[Event] = []
        kinds = [kind for kind in self.table.kinds.values() if kind.name in saved]
        for kind in reversed(kinds):
            for key, gone in saved[kind.name].items():
                if key not in after[kind.name]:
                    events.extend(self._events(kind, key, gone, None, now))
        for kind in kinds:
            old_objects, new_objects = saved[kind.name], after[kind.name]
            for key, new in new_objects.items():
                old = old_objects.get(key)
                if old is not new and old != new:
                    events.extend(self._events(kind, key, old, new, now))
        return events

    def _events(
        self,
        kind: FakeKind,
        key: tuple[str, ...],
        old: dict[str, Any] | None,
        new: dict[str, Any] | None,
        now: str,
    ) -> list[Event]:
        ids = dict(zip(kind.event_fields, key, strict=True))
        return [
            make_event(t, ids, emitted_at=now, types=self.table.event_types)
            for t in kind.event_types(old, new)
        ]


class _Ops:
    """What a fake's hooks and actions may do to the world, during one change.

    Every object a change may alter is reached through here, so the world as it was
    is kept only for what the change touches, before it touches it (``saved``): a
    kind's objects are copied shallowly on first touch, an object deeply when it is
    handed out alone (:meth:`require`), and a whole kind deeply when it is handed out
    as a whole (:meth:`objects`). A change to one instance in a world of a million
    objects copies that instance (and what hooks read), not the world.
    """

    def __init__(self, world: World, now: str) -> None:
        self._world = world
        self.now = now
        self.saved: Objects = {}  #: kind -> its objects before the change (touched kinds)
        self._deep: set[str] = set()  #: kinds saved deeply as a whole
        self.before = _Before(self.saved, world._objects)  #: the world before the change

    def keep(self, name: str) -> dict[tuple[str, ...], dict[str, Any]]:
        """Save kind ``name``'s objects (shallowly) before its first change; its live objects."""
        live = self._world._objects[name]
        if name not in self.saved:
            self.saved[name] = dict(live)
        return live

    def objects(self, kind: str) -> dict[tuple[str, ...], dict[str, Any]]:
        name = self._world.table.kind(kind).name
        live = self.keep(name)
        if name not in self._deep:
            saved = self.saved[name]
            for key, obj in saved.items():
                if obj is live.get(key):  # still shared with the world: not saved yet
                    saved[key] = copy.deepcopy(obj)
            self._deep.add(name)
        return live

    def require(self, kind: str, key: str | tuple[str, ...]) -> dict[str, Any]:
        found = self._world.table.kind(kind)
        obj = self._world._require(found, key)
        self.keep(found.name)
        saved, k = self.saved[found.name], _key(found, key)
        if saved.get(k) is obj:  # still shared with the world: not saved yet
            saved[k] = copy.deepcopy(obj)
        return obj

    def put(self, kind: str, obj: Mapping[str, Any], *, create: bool) -> None:
        self._world._put(self, self._world.table.kind(kind), obj, create=create)

    def refuse(self, message: str) -> NoReturn:
        raise WorldError(message)

    def unknown(self, message: str) -> NoReturn:
        raise UnknownObjectError(message)


class _Before(Mapping[str, dict[tuple[str, ...], dict[str, Any]]]):
    """The world as it was before a change: a kind the change touched as saved, the
    others as they are (untouched, so unchanged)."""

    def __init__(self, saved: Objects, live: Objects) -> None:
        self._saved, self._live = saved, live

    def __getitem__(self, name: str) -> dict[tuple[str, ...], dict[str, Any]]:
        found = self._saved.get(name)
        return found if found is not None else self._live[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._live)

    def __len__(self) -> int:
        return len(self._live)


def _key(kind: FakeKind, key: Key) -> tuple[str, ...]:
    parts = (key,) if isinstance(key, str) else tuple(key)
    if len(parts) != len(kind.key_fields):
        raise WorldError(f"a {kind.name} is named by {', '.join(kind.key_fields)}, not {key!r}")
    return parts
