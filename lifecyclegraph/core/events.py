"""Thin change events from source systems: their kinds, and parsing with clear rejections.

An event only says *that* something changed; lifecyclegraph then reads the object's
current state from its source. Each provider declares the :class:`EventKind` s it
handles; :func:`parse_event` checks a payload against them.

>>> kinds = {"model_created": EventKind("model_created", "registry", "model", ("model_id",),
...                                     "https://w3id.org/lifecyclegraph/ontology#Model")}
>>> event = parse_event('{"event_type": "model_created", "model_id": "ranking-model"}', kinds)
>>> event.uri
'aip://model/registry/ranking-model'
>>> parse_event('{"event_type": "model_created"}', kinds)
Traceback (most recent call last):
...
lifecyclegraph.core.events.EventRejected: missing id field 'model_id' for event type 'model_created'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lifecyclegraph.core.errors import InvalidUriError, JsonTextError, LifecycleGraphError
from lifecyclegraph.core.jsontext import loads
from lifecyclegraph.core.uris import AipUri

__all__ = ["Event", "EventKind", "EventRejected", "WebhookRejected", "parse_event"]

DEFAULT_MAX_BYTES = 64 * 1024
DEFAULT_MAX_URI_LENGTH = 2048


class EventRejected(LifecycleGraphError, ValueError):
    """An event that cannot be accepted; ``reason`` says why in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WebhookRejected(LifecycleGraphError, ValueError):
    """A webhook delivery that is refused; ``status`` is the HTTP status to answer
    (``403``: not signed by the shared secret; ``400``: not a delivery the source sends;
    ``404``: no configured source takes webhooks at that address)."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True, slots=True)
class EventKind:
    """One event type a provider handles.

    Args:
        event_type: e.g. ``model_instance_created``.
        platform_id: the source's platform id (the URI's second part).
        component_type: the URI component type of the object the event is about.
        id_fields: the fields that identify it; their values joined with ``:`` form
            the URI's resource id (``dataset_id`` and ``version`` ->
            ``viewing-history:2026-01-01``).
        entity_class: the ontology class of the object (a hint for hydration).
        deletes: whether the event says the object is gone (it is still hydrated:
            the source is the truth, and a ``404`` then tombstones it).
    """

    event_type: str
    platform_id: str
    component_type: str
    id_fields: tuple[str, ...]
    entity_class: str
    deletes: bool = False

    def uri(self, ids: dict[str, str]) -> AipUri:
        """The AIP URI of the object an event of this kind is about."""
        return AipUri(
            self.component_type, self.platform_id, ":".join(ids[f] for f in self.id_fields)
        )


@dataclass(frozen=True)
class Event:
    """A parsed, accepted event."""

    kind: EventKind
    ids: dict[str, str]
    event_id: str | None
    source: str | None
    emitted_at: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)
    text: str = field(default="", repr=False, compare=False)  #: the JSON text, as received

    @property
    def event_type(self) -> str:
        return self.kind.event_type

    @property
    def uri(self) -> str:
        """The canonical AIP URI of the object the event is about."""
        return str(self.kind.uri(self.ids))


def parse_event(
    payload: str | bytes | dict[str, Any],
    kinds: dict[str, EventKind],
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_uri_length: int = DEFAULT_MAX_URI_LENGTH,
) -> Event:
    """Check one event and return it parsed.

    The same checks hold whichever way the event came (a line of a file, an HTTP
    body or an item of its array, a dead letter replayed, a Python object).

    Args:
        payload: the event as JSON text or bytes (UTF-8), or as an already decoded
            object (measured by its compact JSON text).
        kinds: the event kinds the installed providers handle, by event type.
        max_bytes: the largest accepted JSON text, in bytes.
        max_uri_length: the longest AIP URI (percent-encoded) the ids may make: the
            URI's resource id goes into the URL its source is asked.

    Raises:
        EventRejected: the payload is oversized, not JSON (or JSON this service
            refuses: see :func:`lifecyclegraph.core.jsontext.loads`), not a JSON object,
            has an unknown ``event_type``, lacks an id field, or has ids that make
            no valid URI or one that is too long.

    >>> parse_event({"event_type": "x", "id": "a" * 70_000}, {})
    Traceback (most recent call last):
    ...
    lifecyclegraph.core.events.EventRejected: event is 70026 bytes, over the limit of 65536
    """
    if isinstance(payload, str | bytes):
        text: str | bytes = payload
    else:
        try:
            text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError, RecursionError) as error:
            raise EventRejected(f"not JSON: {error}") from None
    try:
        size = len(text.encode() if isinstance(text, str) else text)
    except UnicodeEncodeError as error:
        raise EventRejected(f"not Unicode text: {error}") from None
    if size > max_bytes:
        raise EventRejected(f"event is {size} bytes, over the limit of {max_bytes}")
    if isinstance(payload, str | bytes):
        try:
            data = loads(payload)
        except JsonTextError as error:
            raise EventRejected(f"not JSON: {error}") from None
    else:
        data = payload
    if not isinstance(data, dict):
        raise EventRejected(f"an event must be a JSON object, not {_json_type(data)}")
    event_type = data.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        raise EventRejected("missing or empty 'event_type'")
    kind = kinds.get(event_type)
    if kind is None:
        known = ", ".join(sorted(kinds)) or "none (no provider is installed)"
        raise EventRejected(f"unknown event type {event_type!r}; known types: {known}")
    ids: dict[str, str] = {}
    for name in kind.id_fields:
        value = data.get(name)
        if value is None or value == "":
            raise EventRejected(f"missing id field {name!r} for event type {event_type!r}")
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise EventRejected(f"id field {name!r} must be a string, not {_json_type(value)}")
        ids[name] = str(value)
    try:
        uri = str(kind.uri(ids))
    except InvalidUriError as error:
        raise EventRejected(f"the ids make no valid URI: {error}") from None
    if len(uri) > max_uri_length:
        raise EventRejected(
            f"the ids make a URI of {len(uri)} characters, over the limit of {max_uri_length}"
        )
    return Event(
        kind=kind,
        ids=ids,
        event_id=_optional_str(data, "event_id"),
        source=_optional_str(data, "source"),
        emitted_at=_optional_str(data, "emitted_at"),
        raw=data,
        text=text.decode() if isinstance(text, bytes) else text,
    )


def _optional_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return str(value) if value is not None else None


def _json_type(value: Any) -> str:
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)
