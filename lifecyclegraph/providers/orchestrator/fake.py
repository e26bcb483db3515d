"""The pipeline orchestrator in the sandbox: pipelines and runs; a run finishes.

>>> SYSTEM.kinds[1].event_types(None, {"status": "FAILED"})
['pipeline_run_failed']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lifecyclegraph.providers.fake import Action, FakeKind, FakeSystem, Objects, Reference, WorldOps

__all__ = ["SYSTEM"]

_OWNED = ("owner_emails", "labels")
_VERSION = ("dataset_id", "version")

PIPELINE = FakeKind(
    "pipeline",
    collection="pipelines",
    path="/api/v1/pipelines/{pipeline}",
    doc="A pipeline: schedule, and nodes with the datasets they read and write.",
    key_fields=("name",),
    event_fields=("pipeline",),
    required=("name", "description", *_OWNED, "nodes", "created_at"),
    rank=30,
    lists=(*_OWNED, "nodes"),
    defaults={"description": "", "owner_emails": [], "labels": [], "nodes": []},
    now_defaults=("created_at",),
    created="pipeline_created",
    updated="pipeline_updated",
    deleted="pipeline_deleted",
    references=(
        Reference("inputs", "dataset", many=True, inside="nodes"),
        Reference("outputs", "dataset", many=True, inside="nodes"),
    ),
    emails=("owner_emails",),
)

RUN = FakeKind(
    "run",
    collection="runs",
    path="/api/v1/pipeline-runs/{run_id}",
    doc="A pipeline run: status, attempts, A/B test cells, dataset versions read and written.",
    key_fields=("run_id",),
    event_fields=("run_id",),
    required=("run_id", "pipeline", "status", "started_at"),
    rank=50,
    enums={"status": ("RUNNING", "SUCCEEDED", "FAILED")},
    lists=("ab_test_cells", "inputs", "outputs", "attempts"),
    defaults={"status": "RUNNING"},
    now_defaults=("started_at",),
    by_status=(
        "status",
        {
            "RUNNING": "pipeline_run_started",
            "SUCCEEDED": "pipeline_run_completed",
            "FAILED": "pipeline_run_failed",
        },
    ),
    references=(
        Reference("pipeline", "pipeline"),
        Reference("inputs", "dataset_version", key=_VERSION),
        Reference("outputs", "dataset_version", key=_VERSION),
    ),
    emails=("triggered_by",),
)


def _checks(objects: Objects) -> list[str]:
    """A/B test cells a run ran for exist (with their names), and its outputs say
    they were produced by it (when those systems are served)."""
    out: list[str] = []
    # a system that is not served (no such kind): its side is not checked
    tests, versions = objects.get("test", {}), objects.get("dataset_version", {})
    for (run_id,), run in objects["run"].items():
        where = f"run {run_id}"
        for cell in run.get("ab_test_cells") or [] if "test" in objects else []:
            test = tests.get((cell["test_id"],))
            names = {c["cell_number"]: c["name"] for c in test["cells"]} if test else {}
            shown = f"{cell['test_id']}:{cell['cell_number']}"
            if cell["cell_number"] not in names:
                out.append(f"{where}: no A/B test cell {shown}")
            elif cell.get("cell_name") not in (None, names[cell["cell_number"]]):
                out.append(
                    f"{where}: cell {shown} is {names[cell['cell_number']]!r}, "
                    f"not {cell['cell_name']!r}"
                )
        for ref in run.get("outputs") or []:
            output = versions.get((ref["dataset_id"], ref["version"]))
            if output is not None and output.get("produced_by_run") != run_id:
                out.append(
                    f"{where}: output {ref['dataset_id']}/{ref['version']} says it was "
                    f"produced by {output.get('produced_by_run')!r}"
                )
    return out


def _finish_run(
    world: WorldOps,
    run_id: str,
    status: str,
    outputs: Sequence[Mapping[str, str]] | None = None,
    ended_at: str | None = None,
) -> None:
    """End a running run as ``SUCCEEDED`` or ``FAILED``; its last attempt ends too, and
    each of ``outputs`` becomes a new dataset version produced by it."""
    if status not in ("SUCCEEDED", "FAILED"):
        world.refuse(f"a run finishes as SUCCEEDED or FAILED, not {status!r}")
    run = world.require("run", run_id)
    end = ended_at or world.now
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
            world.put(
                "dataset_version",
                {
                    "dataset_id": output["dataset_id"],
                    "version": output["version"],
                    "created_at": end,
                    "produced_by_run": run_id,
                },
                create=True,
            )


SYSTEM = FakeSystem(
    "orchestrator",
    kinds=(PIPELINE, RUN),
    world="lifecyclegraph.providers.orchestrator:world.json",
    actions=(
        Action(
            "finish-run",
            '``{"run_id", "status", "outputs"?}``: end a running run, creating its output '
            "versions.",
            ("run_id", "status"),
            _finish_run,
            optional=("outputs",),
        ),
    ),
    checks=_checks,
)
