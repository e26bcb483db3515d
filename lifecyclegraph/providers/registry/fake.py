"""The model registry in the sandbox: models and their instances, and deployments.

>>> SYSTEM.kinds[1].event_types({"deployments": []}, {"deployments": [{"env": "prod"}]})
['model_instance_deployed']
"""

from __future__ import annotations

from typing import Any

from lifecyclegraph.providers.fake import (
    Action,
    Aspect,
    FakeKind,
    FakeSystem,
    Objects,
    Reference,
    WorldOps,
)

__all__ = ["SYSTEM"]

_OWNED = ("owner_emails", "labels")

MODEL = FakeKind(
    "model",
    collection="models",
    path="/api/v1/models/{model_id}",
    doc="A model, with its current instance if it has one.",
    key_fields=("id",),
    event_fields=("model_id",),
    required=("id", "name", "description", *_OWNED, "created_at", "updated_at"),
    rank=90,
    lists=_OWNED,
    defaults={"description": "", "owner_emails": [], "labels": []},
    now_defaults=("created_at", "updated_at"),
    created="model_created",
    updated="model_updated",
    deleted="model_deleted",
    references=(Reference("current_instance_id", "instance"),),
    emails=("owner_emails",),
)

INSTANCE = FakeKind(
    "instance",
    collection="instances",
    path="/api/v1/instances/{instance_id}",
    doc="A model instance (a trained version of a model).",
    key_fields=("id",),
    event_fields=("instance_id",),
    required=("id", "model_id", "version", *_OWNED, "state", "created_at"),
    rank=100,
    enums={"state": ("STAGED", "LAUNCHED", "RETIRED")},
    lists=(*_OWNED, "features", "deployments"),
    defaults={"owner_emails": [], "labels": [], "state": "STAGED"},
    now_defaults=("created_at",),
    created="model_instance_created",
    updated="model_instance_updated",
    deleted="model_instance_deleted",
    aspects=(Aspect("model_instance_deployed", ("deployments",)),),
    references=(
        Reference("model_id", "model"),
        Reference("pipeline_run_id", "run"),
        Reference("features", "feature", many=True),
    ),
    emails=("owner_emails",),
)


def _put(world: WorldOps, kind: FakeKind, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
    if kind.name == INSTANCE.name:
        world.require("model", new["model_id"])


def _remove(world: WorldOps, kind: FakeKind, key: tuple[str, ...], obj: dict[str, Any]) -> None:
    if kind.name == MODEL.name:  # its instances go with it
        instances = world.objects("instance")
        for instance_key in [k for k, i in instances.items() if i["model_id"] == key[0]]:
            del instances[instance_key]
    elif kind.name == INSTANCE.name:  # its model no longer has it as current
        model = world.objects("model").get((obj["model_id"],))
        if model is not None and model.get("current_instance_id") == key[0]:
            del model["current_instance_id"]


def _bump_updated_at(world: WorldOps, before: Objects) -> None:
    """A changed model gets ``updated_at`` = now, unless the change set it itself."""
    for key, model in world.objects("model").items():
        old = before["model"].get(key)
        if old is not None and old != model and old.get("updated_at") == model.get("updated_at"):
            model["updated_at"] = world.now


def _checks(objects: Objects) -> list[str]:
    out = []
    for (model_id,), model in objects["model"].items():
        instance = objects["instance"].get((str(model.get("current_instance_id")),))
        if instance is not None and instance["model_id"] != model_id:
            out.append(
                f"model {model_id}: current instance {instance['id']} is of {instance['model_id']}"
            )
    return out


def _deploy(
    world: WorldOps, instance_id: str, env: str, region: str, deployed_at: str | None = None
) -> None:
    """Deploy an instance to ``env``/``region`` (replacing a deployment there); it becomes
    ``LAUNCHED`` when deployed to production."""
    current = world.require("instance", instance_id)
    deployments = [
        d
        for d in current.get("deployments") or []
        if (d.get("env"), d.get("region")) != (env, region)
    ]
    deployments.append({"env": env, "region": region, "deployed_at": deployed_at or world.now})
    current["deployments"] = deployments
    if env == "production":
        current["state"] = "LAUNCHED"


SYSTEM = FakeSystem(
    "registry",
    kinds=(MODEL, INSTANCE),
    world="lifecyclegraph.providers.registry:world.json",
    actions=(
        Action(
            "deploy",
            '``{"instance_id", "env", "region"}``: deploy an instance '
            "(``model_instance_deployed``).",
            ("instance_id", "env", "region"),
            _deploy,
        ),
    ),
    on_put=_put,
    on_remove=_remove,
    on_change=_bump_updated_at,
    checks=_checks,
)
