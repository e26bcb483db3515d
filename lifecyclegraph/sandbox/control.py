"""The sandbox's own control API, under ``/_sandbox``: never part of the contract.

The whole world and every id, world changes (each answering the events it emitted),
faults and rate limits, request counts, and the events emitted so far. See
``docs/sandbox.md`` for the list.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from lifecyclegraph.providers.fake import Action
from lifecyclegraph.sandbox.events import perturb
from lifecyclegraph.sandbox.faults import Faults
from lifecyclegraph.sandbox.kinds import UnknownObjectError, WorldError
from lifecyclegraph.sandbox.responses import json_response
from lifecyclegraph.sandbox.systems import SystemTable
from lifecyclegraph.sandbox.world import World

__all__ = ["CONTROL_PREFIX", "control", "control_router", "index"]

#: Where the sandbox's own (non-contract) endpoints live.
CONTROL_PREFIX = "/_sandbox"


control = APIRouter(prefix=CONTROL_PREFIX, tags=["sandbox control"])


def _base_urls(request: Request) -> dict[str, str]:
    root = str(request.base_url).rstrip("/")
    return {system: f"{root}/{system}" for system in request.app.state.world.table.systems}


@control.get("")
async def index(request: Request) -> Response:
    """The base URL of each system, and the control endpoints."""
    root = str(request.base_url).rstrip("/") + CONTROL_PREFIX
    return json_response(
        {
            "systems": _base_urls(request),
            "control": {
                name: f"{root}/{name}"
                for name in ("world", "ids", "problems", "faults", "stats", "events", "reset")
            },
            "docs": str(request.base_url) + "docs",
        }
    )


@control.get("/world")
async def whole_world(request: Request) -> Response:
    """The whole world: system -> collection -> objects (the world files' content)."""
    return json_response(request.app.state.world.to_files())


@control.get("/ids")
async def ids(request: Request) -> Response:
    """Every object's key: system -> collection -> ids (``[dataset_id, version]`` pairs
    for dataset versions)."""
    world: World = request.app.state.world
    result: dict[str, dict[str, list[Any]]] = {
        system: {kind.collection: world.keys(kind.name) for kind in fake.kinds}
        for system, fake in world.table.systems.items()
    }
    return json_response(result)


@control.get("/problems")
async def problems(request: Request) -> Response:
    """Dangling references in the world, and the owner emails identity does not know."""
    world: World = request.app.state.world
    return json_response(
        {"problems": world.problems(), "unknown_emails": sorted(world.unknown_emails())}
    )


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except json.JSONDecodeError as error:
        raise WorldError(f"the body is not JSON: {error}") from error


def _object_body(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise WorldError(f"the body must be a JSON object ({what})")
    return body


def _emit(request: Request) -> bool:
    return request.query_params.get("emit", "true").lower() not in ("false", "0", "no")


async def _changed(
    request: Request, change: Callable[..., list[Any]], *args: Any, status: int = 200
) -> Response:
    events = await run_in_threadpool(change, *args, emit=_emit(request))
    return json_response({"events": events}, status)


def _key(table: SystemTable, collection: str, key: str) -> tuple[str, Any]:
    kind = table.kind(collection)
    parts = key.split("/")
    if len(parts) != len(kind.key_fields):
        raise UnknownObjectError(f"no {kind.name} {key!r}")
    return kind.name, parts[0] if len(parts) == 1 else tuple(parts)


@control.post("/world/{collection}", status_code=201)
async def create_object(request: Request, collection: str) -> Response:
    """Create an object (the body, in the contract's shape); emits its created event(s)."""
    obj = _object_body(await _body(request), "the new object")
    world: World = request.app.state.world
    return await _changed(request, world.create, world.table.kind(collection).name, obj, status=201)


@control.put("/world/{collection}/{key:path}")
async def replace_object(request: Request, collection: str, key: str) -> Response:
    """Create or replace a whole object; its key fields must match the URL."""
    table = request.app.state.world.table
    name, parsed = _key(table, collection, key)
    obj = _object_body(await _body(request), "the whole object")
    kind = table.kinds[name]
    expected = (parsed,) if isinstance(parsed, str) else parsed
    if tuple(obj.get(f) for f in kind.key_fields) != expected:
        raise WorldError(f"the body's {', '.join(kind.key_fields)} must match the URL")
    return await _changed(request, request.app.state.world.replace, name, obj)


@control.patch("/world/{collection}/{key:path}")
async def update_object(request: Request, collection: str, key: str) -> Response:
    """Set some fields of an object (the body: field -> value)."""
    name, parsed = _key(request.app.state.world.table, collection, key)
    changes = _object_body(await _body(request), "field -> new value")
    return await _changed(request, request.app.state.world.update, name, parsed, changes)


@control.delete("/world/{collection}/{key:path}")
async def delete_object(request: Request, collection: str, key: str) -> Response:
    """Delete an object (and what cannot exist without it)."""
    name, parsed = _key(request.app.state.world.table, collection, key)
    return await _changed(request, request.app.state.world.delete, name, parsed)


def _fields(body: Any, *names: str, optional: tuple[str, ...] = ()) -> list[Any]:
    data = _object_body(body, ", ".join(names))
    missing = [n for n in names if n not in data]
    unknown = set(data) - set(names) - set(optional)
    if missing or unknown:
        raise WorldError(
            f"the body needs {', '.join(names)}"
            + (f" (optional: {', '.join(optional)})" if optional else "")
            + (f"; unknown: {', '.join(sorted(unknown))}" if unknown else "")
        )
    return [data[n] for n in names] + [data.get(n) for n in optional]


@control.post("/reset")
async def reset(request: Request) -> Response:
    """Back to the world as loaded, with no faults, counts or recorded events (silent)."""
    state = request.app.state
    state.world.reset()
    state.faults.clear()
    state.requests.clear()
    state.events.clear()
    return json_response({"reset": True})


@control.get("/faults")
async def get_faults(request: Request) -> Response:
    """The fault rules (with their remaining counts) and rate limits in force."""
    return json_response(request.app.state.faults.as_dict())


@control.post("/faults")
async def add_faults(request: Request) -> Response:
    """``{"seed"?, "rules"?: [...], "rate_limits"?: {system: requests per second}}``."""
    body = _object_body(await _body(request), "seed, rules, rate_limits")
    faults: Faults = request.app.state.faults
    faults.configure(body)
    return json_response(faults.as_dict())


@control.delete("/faults")
async def clear_faults(request: Request) -> Response:
    """Remove every fault rule and rate limit."""
    faults: Faults = request.app.state.faults
    faults.clear()
    return json_response(faults.as_dict())


@control.get("/stats")
async def stats(request: Request, requests: bool = False) -> Response:
    """Request counts per system, status and path, the most requests in any second, and
    with ``?requests=true`` every request with its time."""
    return json_response(request.app.state.requests.as_dict(requests=requests))


@control.delete("/stats")
async def clear_stats(request: Request) -> Response:
    """Forget every counted request."""
    request.app.state.requests.clear()
    return json_response({"total": 0, "systems": {}})


@control.get("/events")
async def events(request: Request) -> Response:
    """Every event the world emitted (and published) since the start or the last clear."""
    return json_response({"events": request.app.state.events.events})


@control.delete("/events")
async def clear_events(request: Request) -> Response:
    """Forget the recorded events (the sinks are not affected)."""
    request.app.state.events.clear()
    return json_response({"events": []})


@control.post("/events/seed")
async def seed_events(request: Request) -> Response:
    """Publish one created event per object to the sinks, optionally perturbed:
    ``{"seed", "shuffle", "duplicate", "drop", "delay", "emitted_at"}`` (all optional)."""
    body = await _body(request)
    seed, shuffle, duplicate, drop, delay, emitted_at = _fields(
        body if body is not None else {},
        optional=("seed", "shuffle", "duplicate", "drop", "delay", "emitted_at"),
    )
    world: World = request.app.state.world
    seed = int(seed or 0)
    stream = perturb(
        world.seed_events(seed=seed, emitted_at=emitted_at),
        seed=seed,
        shuffle=bool(shuffle),
        duplicate=float(duplicate or 0),
        drop=float(drop or 0),
        delay=float(delay or 0),
    )
    await run_in_threadpool(world.publish, stream)
    return json_response({"published": len(stream), "events": stream})


def _action_endpoint(action: Action) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        names = (*action.fields, *action.optional)
        values = _fields(await _body(request), *action.fields, optional=action.optional)
        world: World = request.app.state.world

        def run(*, emit: bool) -> list[Any]:
            return world.act(action.name, emit=emit, **dict(zip(names, values, strict=True)))

        return await _changed(request, run)

    return endpoint


def control_router(table: SystemTable) -> APIRouter:
    """The control API for the systems of ``table``: the routes above, and
    ``POST /_sandbox/actions/{name}`` for each system's actions."""
    router = APIRouter()
    router.include_router(control)
    actions = APIRouter(prefix=CONTROL_PREFIX, tags=["sandbox control"])
    for action in table.actions.values():
        actions.add_api_route(
            f"/actions/{action.name}",
            _action_endpoint(action),
            methods=["POST"],
            name=action.name.replace("-", "_"),
            description=action.doc,
        )
    router.include_router(actions)
    return router
