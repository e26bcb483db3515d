"""The integrity of a world: every reference between objects that does not resolve.

Owner and trigger emails are not references: an email that identity does not know is
a legitimate unresolved owner (see :meth:`World.unknown_emails`).

>>> from lifecyclegraph.sandbox.world import World
>>> World.load().problems()
[]
"""

from __future__ import annotations

from typing import Any

__all__ = ["problems"]

Objects = dict[str, dict[tuple[str, ...], dict[str, Any]]]


def problems(objects: Objects) -> list[str]:
    """Every dangling reference in ``objects`` (kind name -> key -> object), one line each."""
    out: list[str] = []

    def need(where: str, kind: str, *key: Any) -> None:
        if tuple(key) not in objects[kind]:
            out.append(f"{where}: no {kind} {'/'.join(map(str, key))!r}")

    for (model_id,), model in objects["model"].items():
        current = model.get("current_instance_id")
        if current is not None:
            instance = objects["instance"].get((current,))
            if instance is None:
                out.append(f"model {model_id}: no current instance {current!r}")
            elif instance["model_id"] != model_id:
                out.append(
                    f"model {model_id}: current instance {current} is of {instance['model_id']}"
                )
    for (instance_id,), instance in objects["instance"].items():
        where = f"instance {instance_id}"
        need(where, "model", instance["model_id"])
        if instance.get("pipeline_run_id") is not None:
            need(where, "run", instance["pipeline_run_id"])
        for feature_id in instance.get("features") or []:
            need(where, "feature", feature_id)
    for (name,), pipeline in objects["pipeline"].items():
        for node in pipeline["nodes"]:
            for dataset_id in [*(node.get("inputs") or []), *(node.get("outputs") or [])]:
                need(f"pipeline {name} node {node.get('id')}", "dataset", dataset_id)
    for (run_id,), run in objects["run"].items():
        where = f"run {run_id}"
        need(where, "pipeline", run["pipeline"])
        for cell in run.get("ab_test_cells") or []:
            test = objects["test"].get((cell["test_id"],))
            numbers = {c["cell_number"]: c["name"] for c in test["cells"]} if test else {}
            if cell["cell_number"] not in numbers:
                out.append(f"{where}: no A/B test cell {cell['test_id']}:{cell['cell_number']}")
            elif cell.get("cell_name") not in (None, numbers[cell["cell_number"]]):
                out.append(
                    f"{where}: cell {cell['test_id']}:{cell['cell_number']} is "
                    f"{numbers[cell['cell_number']]!r}, not {cell['cell_name']!r}"
                )
        for ref in [*(run.get("inputs") or []), *(run.get("outputs") or [])]:
            need(where, "dataset_version", ref["dataset_id"], ref["version"])
        for ref in run.get("outputs") or []:
            output = objects["dataset_version"].get((ref["dataset_id"], ref["version"]))
            if output is not None and output.get("produced_by_run") != run_id:
                out.append(
                    f"{where}: output {ref['dataset_id']}/{ref['version']} says it was "
                    f"produced by {output.get('produced_by_run')!r}"
                )
    for (feature_id,), feature in objects["feature"].items():
        for dataset_id in feature.get("source_datasets") or []:
            need(f"feature {feature_id}", "dataset", dataset_id)
        if feature.get("pipeline") is not None:
            need(f"feature {feature_id}", "pipeline", feature["pipeline"])
    for (dataset_id,), dataset in objects["dataset"].items():
        for upstream in dataset.get("upstream") or []:
            need(f"dataset {dataset_id}", "dataset", upstream)
        if dataset.get("latest_version") is not None:
            need(f"dataset {dataset_id}", "dataset_version", dataset_id, dataset["latest_version"])
    for (dataset_id, version), entry in objects["dataset_version"].items():
        where = f"dataset version {dataset_id}/{version}"
        need(where, "dataset", dataset_id)
        producer = entry.get("produced_by_run")
        if producer is not None:
            need(where, "run", producer)
            outputs = (objects["run"].get((producer,)) or {}).get("outputs") or []
            if (producer,) in objects["run"] and {
                "dataset_id": dataset_id,
                "version": version,
            } not in outputs:
                out.append(f"{where}: run {producer} does not list it among its outputs")
    for (user_id,), user in objects["user"].items():
        for team_id in user["teams"]:
            need(f"user {user_id}", "team", team_id)
            joined = objects["team"].get((team_id,))
            if joined is not None and user_id not in joined["members"]:
                out.append(f"user {user_id}: team {team_id} does not list them as a member")
    for (team_id,), team in objects["team"].items():
        if team.get("parent_team") is not None:
            need(f"team {team_id}", "team", team["parent_team"])
        for user_id in team["members"]:
            need(f"team {team_id}", "user", user_id)
            member = objects["user"].get((user_id,))
            if member is not None and team_id not in member["teams"]:
                out.append(f"team {team_id}: member {user_id} does not list the team")
    return out
