"""The dataset platform in the sandbox: datasets and their immutable versions."""

from __future__ import annotations

from typing import Any

from lifecyclegraph.providers.fake import FakeKind, FakeSystem, Objects, Reference, WorldOps

__all__ = ["SYSTEM"]

_OWNED = ("owner_emails", "labels")

DATASET = FakeKind(
    "dataset",
    collection="datasets",
    path="/api/v1/datasets/{dataset_id}",
    doc="A dataset, its upstream datasets and latest version.",
    key_fields=("id",),
    event_fields=("dataset_id",),
    required=("id", "name", "description", *_OWNED, "created_at"),
    rank=40,
    lists=(*_OWNED, "upstream"),
    defaults={"description": "", "owner_emails": [], "labels": []},
    now_defaults=("created_at",),
    created="dataset_created",
    updated="dataset_updated",
    deleted="dataset_deleted",
    references=(Reference("upstream", "dataset", many=True),),
    emails=("owner_emails",),
)

VERSION = FakeKind(
    "dataset_version",
    collection="versions",
    path="/api/v1/datasets/{dataset_id}/versions/{version}",
    doc="One version of a dataset and the run that produced it.",
    key_fields=("dataset_id", "version"),
    event_fields=("dataset_id", "version"),
    required=("dataset_id", "version", "created_at"),
    rank=60,
    lists=("schema",),
    now_defaults=("created_at",),
    created="dataset_version_created",  # immutable: no update, no delete event
    references=(Reference("dataset_id", "dataset"), Reference("produced_by_run", "run")),
)


def _put(world: WorldOps, kind: FakeKind, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
    if kind.name == VERSION.name:  # a new version becomes its dataset's latest
        dataset = world.require("dataset", new["dataset_id"])
        if old is not None and old != new:
            world.refuse("a dataset version is immutable; create a new version")
        if old is None:
            dataset["latest_version"] = new["version"]


def _remove(world: WorldOps, kind: FakeKind, key: tuple[str, ...], obj: dict[str, Any]) -> None:
    if kind.name == DATASET.name:  # its versions go with it
        versions = world.objects("dataset_version")
        for version_key in [k for k in versions if k[0] == key[0]]:
            del versions[version_key]


def _checks(objects: Objects) -> list[str]:
    """A dataset's latest version exists; a version's producing run lists it."""
    out = []
    for (dataset_id,), dataset in objects["dataset"].items():
        latest = dataset.get("latest_version")
        if latest is not None and (dataset_id, latest) not in objects["dataset_version"]:
            out.append(f"dataset {dataset_id}: no dataset version '{dataset_id}/{latest}'")
    runs = objects.get("run")
    for (dataset_id, version), entry in objects["dataset_version"].items():
        producer = (runs or {}).get((str(entry.get("produced_by_run")),))
        if producer is not None and {"dataset_id": dataset_id, "version": version} not in (
            producer.get("outputs") or []
        ):
            out.append(
                f"dataset version {dataset_id}/{version}: run {producer['run_id']} does not "
                "list it among its outputs"
            )
    return out


SYSTEM = FakeSystem(
    "datasets",
    kinds=(DATASET, VERSION),
    world="lifecyclegraph.providers.datasets:world.json",
    on_put=_put,
    on_remove=_remove,
    checks=_checks,
)
