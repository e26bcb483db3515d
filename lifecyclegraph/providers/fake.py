"""A source system's sandbox fake, as data: what the sandbox needs to serve it.

A provider names its fake with :attr:`Provider.fake <lifecyclegraph.providers.Provider.fake>`
(``"module:attribute"``); the sandbox imports it and serves every installed system
from one table (``lifecyclegraph/sandbox/systems.py``): one route per
:class:`FakeKind` (and per :class:`Lookup`), one control action per :class:`Action`,
the events of every change from the kinds' event types, and the world's integrity
from their :class:`Reference` s. Nothing here imports the sandbox or a web framework:
a fake is plain data and a few small functions.

>>> team = FakeKind("team", "teams", "/api/v1/teams/{team_id}", "A team.",
...                 key_fields=("id",), event_fields=("team_id",), required=("id", "name"),
...                 rank=10, created="team_created", updated="team_updated",
...                 aspects=(Aspect("membership_changed", ("members",)),))
>>> team.event_types(None, {"id": "t", "name": "T", "members": []})
['team_created']
>>> team.event_types({"id": "t", "name": "T", "members": []},
...                  {"id": "t", "name": "U", "members": ["alice"]})
['membership_changed', 'team_updated']
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, NoReturn, Protocol

__all__ = [
    "Action",
    "Aspect",
    "FakeKind",
    "FakeSystem",
    "Lookup",
    "Objects",
    "Reference",
    "WorldOps",
]

#: The objects of a world: kind name -> key -> object (as the contract serves it).
Objects = dict[str, dict[tuple[str, ...], dict[str, Any]]]


@dataclass(frozen=True)
class Reference:
    """A reference between objects that the world's integrity check follows.

    Attributes:
        field: the field holding the reference (``model_id``); for ``inside``, the
            field of each entry of that list.
        kind: the kind it names (``model``).
        many: the field holds a list of keys.
        key: for a kind with a composite key, the fields of the entry that form it
            (a run's ``inputs``: ``("dataset_id", "version")``); the field is then a
            list of such entries.
        inside: the list whose entries hold ``field`` (a pipeline's ``nodes``).
    """

    field: str
    kind: str
    many: bool = False
    key: tuple[str, ...] = ()
    inside: str | None = None

    def keys(self, obj: Mapping[str, Any]) -> list[tuple[str, ...]]:
        """The keys this reference names in ``obj`` (none when the field is absent)."""
        holders = (obj.get(self.inside) or []) if self.inside else [obj]
        found: list[tuple[str, ...]] = []
        for holder in holders:
            value = holder.get(self.field) if isinstance(holder, Mapping) else None
            if value is None:
                continue
            if self.key:
                found += [tuple(entry[k] for k in self.key) for entry in value]
            elif self.many:
                found += [(item,) for item in value]
            else:
                found.append((value,))
        return found


@dataclass(frozen=True)
class Aspect:
    """A change to some fields that has an event type of its own (deployed, allocation
    changed, membership changed, deactivated); those fields then do not count as an
    update of the object.

    Attributes:
        event_type: the event of such a change.
        fields: the fields it is about.
        changed: whether ``old`` -> ``new`` is such a change (default: a field differs).
        strip: the object without what the aspect covers (default: without the fields).
    """

    event_type: str
    fields: tuple[str, ...]
    changed: Callable[[Mapping[str, Any], Mapping[str, Any]], bool] | None = None
    strip: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None

    def applies(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
        if self.changed is not None:
            return self.changed(old, new)
        return any(old.get(name) != new.get(name) for name in self.fields)

    def without(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        if self.strip is not None:
            return self.strip(obj)
        return {k: v for k, v in obj.items() if k not in self.fields}


@dataclass(frozen=True)
class FakeKind:
    """One kind of object a source system serves, as its contract defines it.

    Attributes:
        name: its name in the Python and control APIs (``model``, ``dataset_version``).
        collection: its list in the system's world file and in control URLs.
        path: the contract's route under the system's base URL, with one path
            parameter per key field, in order (``/api/v1/models/{model_id}``).
        doc: what the route serves (its OpenAPI description).
        key_fields: the object's field(s) that form its key.
        event_fields: the id field(s) its events carry, in the same order.
        required: fields every object must have (after defaults).
        rank: its place in dependency order across every system (seed events and a
            change's events come in rank order; deletions in reverse).
        enums: allowed values of enumerated fields.
        lists: fields that must be lists when present.
        defaults: filled in on create, so that a control call can give only what matters.
        now_defaults: timestamps filled in with the time of the change on create.
        created, updated, deleted: its event types (None: the contract has none).
        by_status: for a kind whose events follow a status field (a run): the field
            and its event type per value; any change emits the current status's.
        aspects: changes with events of their own (see :class:`Aspect`).
        references: the fields that name other objects (see :class:`Reference`).
        emails: fields holding owner emails (a list, or one email), which the
            world's identity system may not know (a legitimate unresolved owner).
    """

    name: str
    collection: str
    path: str
    doc: str
    key_fields: tuple[str, ...]
    event_fields: tuple[str, ...]
    required: tuple[str, ...]
    rank: int
    enums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    lists: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    now_defaults: tuple[str, ...] = ()
    created: str | None = None
    updated: str | None = None
    deleted: str | None = None
    by_status: tuple[str, Mapping[str, str]] | None = None
    aspects: tuple[Aspect, ...] = ()
    references: tuple[Reference, ...] = ()
    emails: tuple[str, ...] = ()

    def key_of(self, obj: Mapping[str, Any]) -> tuple[str, ...]:
        """The key of an object of this kind (its key fields' values)."""
        return tuple(obj[name] for name in self.key_fields)

    def event_type_names(self) -> set[str]:
        """Every event type an object of this kind can cause."""
        names = {self.created, self.updated, self.deleted, *(a.event_type for a in self.aspects)}
        if self.by_status is not None:
            names |= set(self.by_status[1].values())
        return {name for name in names if name is not None}

    def event_types(
        self, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
    ) -> list[str]:
        """The contract's event types for one object going from ``old`` to ``new``
        (``None``: absent)."""
        if new is None:
            return [self.deleted] if self.deleted else []
        if self.by_status is not None:
            status, types = self.by_status
            return [types[new[status]]]
        if old is None:
            return [self.created] if self.created else []
        if self.updated is None:  # immutable once created
            return []
        types_ = []
        rest_old, rest_new = dict(old), dict(new)
        for aspect in self.aspects:
            if aspect.applies(old, new):
                types_.append(aspect.event_type)
                rest_old, rest_new = aspect.without(old), aspect.without(new)
                break
        if rest_old != rest_new:
            types_.append(self.updated)
        return types_


@dataclass(frozen=True)
class Lookup:
    """A search route of the contract (identity's ``GET /api/v1/users?email=``): the
    objects of ``kind`` whose ``field`` equals the query parameter ``param``, answered
    as ``{wrap: [...]}``; without the parameter, a ``400``."""

    name: str
    path: str
    doc: str
    kind: str
    param: str
    field: str
    wrap: str
    casefold: bool = True


class WorldOps(Protocol):
    """What an action or a hook may do to the world (the sandbox's World gives it).

    Objects handed out are the world's own (changes to them are changes to the world);
    every change runs inside one world change, undone as a whole if anything raises.
    """

    #: the time of the change (RFC 3339, UTC)
    now: str

    def objects(self, kind: str) -> dict[tuple[str, ...], dict[str, Any]]:
        """The live objects of ``kind`` by key."""
        ...

    def require(self, kind: str, key: str | tuple[str, ...]) -> dict[str, Any]:
        """The live object, or an ``UnknownObjectError`` naming it."""
        ...

    def put(self, kind: str, obj: Mapping[str, Any], *, create: bool) -> None:
        """Create (``create``: it must not exist) or replace an object, with defaults,
        checks and hooks, as the control API's create and replace do."""
        ...

    def refuse(self, message: str) -> NoReturn:
        """Refuse the change: a ``WorldError`` (``400`` over HTTP)."""
        ...

    def unknown(self, message: str) -> NoReturn:
        """Refuse the change because something named does not exist (``404``)."""
        ...


@dataclass(frozen=True)
class Action:
    """A world change of the control API, ``POST /_sandbox/actions/{name}``.

    ``run(world, **fields)`` gets the body's ``fields`` (all required) and
    ``optional`` ones (``None`` when absent) by name.
    """

    name: str
    doc: str
    fields: tuple[str, ...]
    run: Callable[..., None]
    optional: tuple[str, ...] = ()


#: on_put(world, kind, old, new): after an object was stored (old: None on create).
PutHook = Callable[[WorldOps, FakeKind, "dict[str, Any] | None", "dict[str, Any]"], None]
#: on_remove(world, kind, key, obj): after an object was removed.
RemoveHook = Callable[[WorldOps, FakeKind, tuple[str, ...], "dict[str, Any]"], None]
#: on_change(world, before): once per change, after it, with the objects before it.
ChangeHook = Callable[[WorldOps, Objects], None]


@dataclass(frozen=True)
class FakeSystem:
    """One source system as the sandbox serves it.

    Attributes:
        platform_id: its platform id (and base URL prefix in the sandbox).
        kinds: the kinds of object it serves.
        world: ``"package:file"`` of its demo world (a JSON object with one list per
            kind's collection), read with :mod:`importlib.resources`.
        lookups: its search routes.
        actions: its control actions.
        on_put, on_remove, on_change: what the system keeps consistent itself
            (a new dataset version becomes the dataset's latest; deleting a model
            deletes its instances; team members and user teams stay symmetric...).
        checks: integrity problems beyond plain references, one line each.
    """

    platform_id: str
    kinds: tuple[FakeKind, ...]
    world: str | None = None
    lookups: tuple[Lookup, ...] = ()
    actions: tuple[Action, ...] = ()
    on_put: PutHook | None = None
    on_remove: RemoveHook | None = None
    on_change: ChangeHook | None = None
    checks: Callable[[Objects], list[str]] | None = None

    def demo_world(self) -> dict[str, Any]:
        """The content of its packaged demo world (empty lists without one)."""
        if self.world is None:
            return {kind.collection: [] for kind in self.kinds}
        package, _, name = self.world.partition(":")
        return dict(json.loads(resources.files(package).joinpath(name).read_text("utf-8")))
