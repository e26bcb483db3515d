"""The contract's own example objects (../shared/contracts/source-systems.md), by source."""

from __future__ import annotations

T = "2026-01-01T00:00:00Z"

REGISTRY = {
    "/api/v1/models/ranking-model": {
        "id": "ranking-model",
        "name": "Ranking model",
        "description": "Ranks rows on the home page.",
        "owner_emails": ["alice@example.com"],
        "labels": [{"key": "team", "value": "personalization"}],
        "created_at": T,
        "updated_at": T,
        "current_instance_id": "ranking-model-v5-20XX0101",
    },
    "/api/v1/instances/ranking-model-v5-20XX0101": {
        "id": "ranking-model-v5-20XX0101",
        "model_id": "ranking-model",
        "version": "5",
        "pipeline_run_id": "train-weekly-ranking-20XX0101",
        "owner_emails": ["alice@example.com"],
        "labels": [{"key": "team", "value": "personalization"}],
        "features": ["watch-time-7d", "genre-affinity"],
        "state": "LAUNCHED",
        "artifact_uri": "s3://models/ranking/v5",
        "created_at": T,
        "deployments": [{"env": "production", "region": "us-east-1", "deployed_at": T}],
    },
}
ORCHESTRATOR = {
    "/api/v1/pipelines/weekly-ranking-trainer": {
        "name": "weekly-ranking-trainer",
        "description": "Trains the ranking model weekly.",
        "owner_emails": ["bob@example.com"],
        "labels": [],
        "schedule": {"cron": "0 3 * * MON", "timezone": "UTC"},
        "nodes": [{"id": "train", "inputs": ["viewing-history"], "outputs": []}],
        "created_at": T,
    },
    "/api/v1/pipeline-runs/train-weekly-ranking-20XX0101": {
        "run_id": "train-weekly-ranking-20XX0101",
        "pipeline": "weekly-ranking-trainer",
        "status": "SUCCEEDED",
        "started_at": T,
        "ended_at": T,
        "triggered_by": "bob@example.com",
        "ab_test_cells": [
            {"test_id": "12345", "cell_number": 2, "cell_name": "treatment_ranking_v5"}
        ],
        "inputs": [{"dataset_id": "viewing-history", "version": "2026-01-01"}],
        "outputs": [],
        "attempts": [
            {"attempt": 1, "status": "FAILED", "started_at": T, "ended_at": T},
            {"attempt": 2, "status": "SUCCEEDED", "started_at": T, "ended_at": T},
        ],
    },
}
EXPERIMENTATION = {
    "/api/v1/tests/12345": {
        "test_id": "12345",
        "title": "Ranking Model v5 vs v4",
        "status": "ACTIVE",
        "description": "Does v5 rank better than v4?",
        "owner_emails": ["carol@example.com"],
        "start_date": T,
        "end_date": None,
        "cells": [
            {"cell_number": 1, "name": "control_ranking_v4", "allocation_pct": 50},
            {"cell_number": 2, "name": "treatment_ranking_v5", "allocation_pct": 50},
        ],
    },
}
FEATURESTORE = {
    "/api/v1/features/watch-time-7d": {
        "id": "watch-time-7d",
        "name": "watch_time_7d",
        "description": "Watch time, 7 days.",
        "owner_emails": ["dave@example.com", "ghost@example.com"],
        "labels": [],
        "value_type": "FLOAT",
        "version": "3",
        "source_datasets": ["viewing-history"],
        "pipeline": "feature-backfill",
        "created_at": T,
    },
}
DATASETS = {
    "/api/v1/datasets/viewing-history": {
        "id": "viewing-history",
        "name": "viewing_history",
        "description": "What was watched.",
        "owner_emails": ["erin@example.com"],
        "labels": [],
        "upstream": ["playback-events"],
        "latest_version": "2026-01-01",
        "created_at": T,
    },
    "/api/v1/datasets/viewing-history/versions/2026-01-01": {
        "dataset_id": "viewing-history",
        "version": "2026-01-01",
        "created_at": T,
        "row_count": 1200000,
        "produced_by_run": "daily-viewing-etl-20260101",
        "schema": [{"name": "member_id", "type": "string"}],
    },
}
IDENTITY = {
    **{
        f"/api/v1/users/{u}": {
            "id": u,
            "email": f"{u}@example.com",
            "display_name": u.capitalize(),
            "active": True,
            "teams": [team],
        }
        for u, team in [
            ("alice", "personalization"),
            ("bob", "personalization"),
            ("carol", "experimentation-team"),
            ("dave", "personalization"),
            ("erin", "ml-platform"),
        ]
    },
    "/api/v1/teams/personalization": {
        "id": "personalization",
        "name": "Personalization",
        "parent_team": "ml-platform",
        "members": ["alice", "bob"],
    },
    "/api/v1/teams/ml-platform": {"id": "ml-platform", "name": "ML Platform", "members": ["erin"]},
}
ALL = {
    "registry": REGISTRY,
    "orchestrator": ORCHESTRATOR,
    "experimentation": EXPERIMENTATION,
    "featurestore": FEATURESTORE,
    "datasets": DATASETS,
    "identity": IDENTITY,
}
