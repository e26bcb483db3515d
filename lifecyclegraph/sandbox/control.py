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

from lifecyclegraph.sandbox.events import perturb
from lifecyclegraph.sandbox.faults import Faults
from lifecyclegraph.sandbox.kinds import KINDS, SYSTEMS, UnknownObjectError, WorldError, kind_named
from lifecyclegraph.sandbox.responses import json_response
from lifecyclegraph.sandbox.world import World

__all__ = ["CONTROL_PREFIX", "control", "index"]

#: Where the sandbox's own (non-contract) endpoints live.
CONTROL_PREFIX = "/_sandbox"


control = APIRouter(prefix=CONTROL_PREFIX, tags=["sandbox control"])


def _base_urls(request: Request) -> dict[str, str]:
    root = str(request.base_url).rstrip("/")
    return {system: f"{root}/{system}" for system in SYSTEMS}


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
    result: dict[str, dict[str, list[Any]]] = {system: {} for system in SYSTEMS}
    for kind in KINDS.values():
        result[kind.system][kind.collection] = world.keys(kind.name)
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


def _key(collection: str, key: str) -> tuple[str, Any]:
    kind = kind_named(collection)
    parts = key.split("/")
    if len(parts) != len(kind.key_fields):
        raise UnknownObjectError(f"no {kind.name} {key!r}")
    return kind.name, parts[0] if len(parts) == 1 else tuple(parts)


@control.post("/world/{collection}", status_code=201)
async def create_object(request: Request, collection: str) -> Response:
    """Create an object (the body, in the contract's shape); emits its created event(s)."""
    obj = _object_body(await _body(request), "the new object")
    world: World = request.app.state.world
    return await _changed(request, world.create, kind_named(collection).name, obj, status=201)


@control.put("/world/{collection}/{key:path}")
async def replace_object(request: Request, collection: str, key: str) -> Response:
    """Create or replace a whole object; its key fields must match the URL."""
    name, parsed = _key(collection, key)
    obj = _object_body(await _body(request), "the whole object")
    kind = KINDS[name]
    expected = (parsed,) if isinstance(parsed, str) else parsed
    if tuple(obj.get(f) for f in kind.key_fields) != expected:
        raise WorldError(f"the body's {', '.join(kind.key_fields)} must match the URL")
    return await _changed(request, request.app.state.world.replace, name, obj)


@control.patch("/world/{collection}/{key:path}")
async def update_object(request: Request, collection: str, key: str) -> Response:
    """Set some fields of an object (the body: field -> value)."""
    name, parsed = _key(collection, key)
    changes = _object_body(await _body(request), "field -> new value")
    return await _changed(request, request.app.state.world.update, name, parsed, changes)


@control.delete("/world/{collection}/{key:path}")
async def delete_object(request: Request, collection: str, key: str) -> Response:
    """Delete an object (and what cannot exist without it)."""
    name, parsed = _key(collection, key)
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


@control.post("/actions/deploy")
async def deploy(request: Request) -> Response:
    """``{"instance_id", "env", "region"}``: deploy an instance (``model_instance_deployed``)."""
    instance_id, env, region = _fields(await _body(request), "instance_id", "env", "region")
    return await _changed(request, request.app.state.world.deploy, instance_id, env, region)


@control.post("/actions/allocation")
async def allocation(request: Request) -> Response:
    """``{"test_id", "allocations": {"1": 30, "2": 70}}``: change an A/B test's traffic split."""
    test_id, shares = _fields(await _body(request), "test_id", "allocations")
    return await _changed(request, request.app.state.world.set_allocation, test_id, shares)


@control.post("/actions/members")
async def members(request: Request) -> Response:
    """``{"team_id", "members": [user ids]}``: set a team's members (``membership_changed``)."""
    team_id, users = _fields(await _body(request), "team_id", "members")
    return await _changed(request, request.app.state.world.set_members, team_id, users)


@control.post("/actions/deactivate")
async def deactivate(request: Request) -> Response:
    """``{"user_id"}``: deactivate a user (``user_deactivated``)."""
    (user_id,) = _fields(await _body(request), "user_id")
    return await _changed(request, request.app.state.world.deactivate_user, user_id)


@control.post("/actions/finish-run")
async def finish_run(request: Request) -> Response:
    """``{"run_id", "status", "outputs"?}``: end a running run, creating its output versions."""
    run_id, status, outputs = _fields(
        await _body(request), "run_id", "status", optional=("outputs",)
    )
    world: World = request.app.state.world

    def finish(*, emit: bool) -> list[Any]:
        return world.finish_run(run_id, status, outputs=outputs or (), emit=emit)

    return await _changed(request, finish)


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
