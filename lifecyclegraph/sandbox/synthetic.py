"""Synthetic worlds of any size, shaped like the demo world, for benchmarks and soak tests.

>>> world = synthetic_world(500, seed=1)
>>> world.problems()
[]
>>> 400 < estimated_entities(world) < 650
True
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from lifecyclegraph.sandbox.world import World

__all__ = ["estimated_entities", "synthetic_world"]

T0 = datetime(2026, 1, 1, tzinfo=UTC)
#: lifecyclegraph entities per unit of scale (datasets, versions, pipelines with their
#: schedules, runs with their attempts, features, models, instances with deployments,
#: tests with cells, users, teams), measured on generated worlds.
ENTITIES_PER_UNIT = 7.3


def _time(rng: random.Random) -> str:
    moment = T0 + timedelta(minutes=rng.randrange(0, 60 * 24 * 365))
    return moment.isoformat().replace("+00:00", "Z")


def synthetic_world(entities: int, seed: int = 0) -> World:
    """A consistent world with about ``entities`` lifecyclegraph entities.

    Every foreign key resolves; datasets form upstream chains; runs read dataset
    versions, produce instances and run for A/B test cells; owners are users of a
    few teams under one parent team.
    """
    rng = random.Random(seed)
    k = max(10, round(entities / ENTITIES_PER_UNIT))
    n_teams, n_users = max(3, k // 60), max(6, k // 12)
    teams = [f"team-{i}" for i in range(n_teams)]
    users = [f"user-{i}" for i in range(n_users)]
    emails = [f"{u}@example.com" for u in users]
    objects: dict[str, list[dict[str, Any]]] = {
        kind: []
        for kind in (
            "team",
            "user",
            "pipeline",
            "dataset",
            "run",
            "dataset_version",
            "feature",
            "test",
            "model",
            "instance",
        )
    }
    members: dict[str, list[str]] = {t: [] for t in teams}
    for i, user in enumerate(users):
        team = teams[1 + i % (n_teams - 1)]
        members[team].append(user)
        objects["user"].append(
            {
                "id": user,
                "email": emails[i],
                "display_name": f"User {i}",
                "active": True,
                "teams": [team],
            }
        )
    for i, team in enumerate(teams):
        entry: dict[str, Any] = {"id": team, "name": f"Team {i}", "members": members[team]}
        if i:
            entry["parent_team"] = teams[0]
        objects["team"].append(entry)

    def owners() -> list[str]:
        return [rng.choice(emails)]

    n_datasets = k
    n_pipelines = max(2, k // 4)
    n_runs = k
    datasets = [f"ds-{i}" for i in range(n_datasets)]
    pipelines = [f"pipe-{i}" for i in range(n_pipelines)]
    runs = [f"run-{i}" for i in range(n_runs)]
    n_tests = max(1, k // 20)
    tests = [str(10000 + i) for i in range(n_tests)]
    # Lineage has tiers, as a real catalogue does, and no cycles: the first third of the
    # datasets are raw (no pipeline writes them, the runs that make them read nothing);
    # a pipeline writes a dataset of a later tier from datasets of the tier before.
    tier = max(1, n_datasets // 3)

    def tier_of(index: int) -> int:
        return min(2, index // tier)

    for i, name in enumerate(pipelines):
        output = tier + (i * 7) % (n_datasets - tier) if n_datasets > tier else 0
        previous = datasets[(tier_of(output) - 1) * tier : tier_of(output) * tier]
        reads = rng.sample(previous, min(2, len(previous))) if tier_of(output) else []
        entry = {
            "name": name,
            "description": f"Pipeline {i}",
            "owner_emails": owners(),
            "labels": [{"key": "tier", "value": str(i % 3)}],
            "nodes": [{"id": "main", "inputs": reads, "outputs": [datasets[output]]}],
            "created_at": _time(rng),
        }
        if i % 2 == 0:
            entry["schedule"] = {"cron": f"0 {i % 24} * * *", "timezone": "UTC"}
        objects["pipeline"].append(entry)
    for i, name in enumerate(datasets):
        upstream = [datasets[i - 1]] if i % 5 else []
        objects["dataset"].append(
            {
                "id": name,
                "name": name.replace("-", "_"),
                "description": f"Dataset {i}",
                "owner_emails": owners(),
                "labels": [],
                "upstream": upstream,
                "latest_version": "v1",
                "created_at": _time(rng),
            }
        )
        objects["dataset_version"].append(
            {
                "dataset_id": name,
                "version": "v1",
                "created_at": _time(rng),
                "row_count": rng.randrange(1000, 10**7),
                "produced_by_run": runs[i % n_runs],
                "schema": [{"name": "id", "type": "string"}],
            }
        )
    for i, name in enumerate(runs):
        status = "FAILED" if i % 10 == 0 else "SUCCEEDED"
        entry = {
            "run_id": name,
            "pipeline": pipelines[i % n_pipelines],
            "status": status,
            "started_at": _time(rng),
            "ended_at": _time(rng),
            "triggered_by": rng.choice(emails),
            # a raw dataset's version, made by a run that read nothing
            "inputs": [{"dataset_id": datasets[(i * 3) % tier], "version": "v1"}]
            if i >= tier
            else [],
            "outputs": [{"dataset_id": datasets[i], "version": "v1"}] if i < n_datasets else [],
            "attempts": [
                {
                    "attempt": a,
                    "status": "FAILED" if a == 1 and i % 2 else status,
                    "started_at": _time(rng),
                    "ended_at": _time(rng),
                }
                for a in range(1, 2 + i % 2)
            ],
        }
        if i % 10 == 1:
            test = tests[(i // 10) % n_tests]
            entry["ab_test_cells"] = [{"test_id": test, "cell_number": 2, "cell_name": "treatment"}]
        objects["run"].append(entry)
    features = [f"feat-{i}" for i in range(k)]
    for i, name in enumerate(features):
        objects["feature"].append(
            {
                "id": name,
                "name": name.replace("-", "_"),
                "description": f"Feature {i}",
                "owner_emails": owners(),
                "labels": [],
                "value_type": "FLOAT",
                "version": "1",
                "source_datasets": [datasets[(i * 5) % n_datasets]],
                "pipeline": pipelines[i % n_pipelines],
                "created_at": _time(rng),
            }
        )
    for i, test in enumerate(tests):
        objects["test"].append(
            {
                "test_id": test,
                "title": f"Experiment {i}",
                "status": "ACTIVE",
                "description": f"Experiment {i}",
                "owner_emails": owners(),
                "start_date": _time(rng),
                "end_date": None,
                "cells": [
                    {"cell_number": 1, "name": "control", "allocation_pct": 50},
                    {"cell_number": 2, "name": "treatment", "allocation_pct": 50},
                ],
            }
        )
    n_models = max(1, k // 5)
    instances = []
    for i in range(max(2, k // 2)):
        model = f"model-{i % n_models}"
        instance = f"{model}-v{i // n_models + 1}"
        instances.append(instance)
        objects["instance"].append(
            {
                "id": instance,
                "model_id": model,
                "version": str(i // n_models + 1),
                "pipeline_run_id": runs[(i * 10 + 1) % n_runs],
                "owner_emails": owners(),
                "labels": [{"key": "team", "value": rng.choice(teams)}],
                "features": [features[(i * 2) % k], features[(i * 2 + 1) % k]],
                "state": "LAUNCHED" if i < n_models else "STAGED",
                "created_at": _time(rng),
                "deployments": [
                    {"env": "production", "region": "us-east-1", "deployed_at": _time(rng)}
                ]
                if i % 2 == 0
                else [],
            }
        )
    for i in range(n_models):
        objects["model"].append(
            {
                "id": f"model-{i}",
                "name": f"Model {i}",
                "description": f"Model {i}",
                "owner_emails": owners(),
                "labels": [],
                "created_at": _time(rng),
                "updated_at": _time(rng),
                "current_instance_id": instances[i],
            }
        )
    return World(objects)


def estimated_entities(world: World) -> int:
    """How many lifecyclegraph entities hydrating ``world`` makes (parts included)."""
    count = 0
    for kind in ("team", "user", "dataset", "dataset_version", "feature", "model"):
        count += len(world.objects(kind))
    for pipeline in world.objects("pipeline"):
        count += 1 + (1 if pipeline.get("schedule") else 0)
    for run in world.objects("run"):
        count += 1 + len(run.get("attempts") or [])
    for test in world.objects("test"):
        count += 1 + len(test.get("cells") or [])
    for instance in world.objects("instance"):
        count += 1 + len(instance.get("deployments") or [])
    return count
