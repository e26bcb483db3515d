"""The six systems over real HTTP, checked against the source-systems contract."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")


@dataclass(frozen=True)
class Obj:
    """A JSON object schema: required fields, and optional ones (absent or null allowed)."""

    required: dict[str, Any]
    optional: dict[str, Any] = field(default_factory=dict)


class Timestamp:
    """An RFC 3339 string in UTC."""


class Nullable:
    def __init__(self, inner: Any) -> None:
        self.inner = inner


def enum(*values: str) -> frozenset[str]:
    return frozenset(values)


def check(value: Any, schema: Any, where: str = "$") -> list[str]:
    """Every way ``value`` departs from ``schema`` (empty when it conforms)."""
    if isinstance(schema, Nullable):
        return [] if value is None else check(value, schema.inner, where)
    if isinstance(schema, Obj):
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {value!r}"]
        errors = [f"{where}.{k}: missing" for k in schema.required if k not in value]
        extra = set(value) - set(schema.required) - set(schema.optional)
        errors += [f"{where}.{k}: not in the contract" for k in sorted(extra)]
        for k, sub in schema.required.items():
            if k in value:
                errors += check(value[k], sub, f"{where}.{k}")
        for k, sub in schema.optional.items():
            if value.get(k) is not None:
                errors += check(value[k], sub, f"{where}.{k}")
        return errors
    if isinstance(schema, list):
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {value!r}"]
        return [e for i, item in enumerate(value) for e in check(item, schema[0], f"{where}[{i}]")]
    if isinstance(schema, frozenset):
        return [] if value in schema else [f"{where}: {value!r} not one of {sorted(schema)}"]
    if schema is Timestamp:
        ok = isinstance(value, str) and TIMESTAMP.fullmatch(value)
        return [] if ok else [f"{where}: {value!r} is not an RFC 3339 UTC timestamp"]
    if schema is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{where}: expected an integer, got {value!r}"]
    if schema is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{where}: expected a number, got {value!r}"]
    if isinstance(value, schema):
        return []
    return [f"{where}: expected {schema.__name__}, got {value!r}"]


# The contract's objects, written from docs (not from the implementation).
LABEL = Obj({"key": str, "value": str})
DATASET_REF = Obj({"dataset_id": str, "version": str})
MODEL = Obj(
    {
        "id": str,
        "name": str,
        "description": str,
        "owner_emails": [str],
        "labels": [LABEL],
        "created_at": Timestamp,
        "updated_at": Timestamp,
    },
    {"current_instance_id": str},
)
INSTANCE = Obj(
    {
        "id": str,
        "model_id": str,
        "version": str,
        "owner_emails": [str],
        "labels": [LABEL],
        "state": enum("STAGED", "LAUNCHED", "RETIRED"),
        "created_at": Timestamp,
    },
    {
        "pipeline_run_id": str,
        "features": [str],
        "artifact_uri": str,
        "deployments": [Obj({"env": str, "region": str, "deployed_at": Timestamp})],
    },
)
PIPELINE = Obj(
    {
        "name": str,
        "description": str,
        "owner_emails": [str],
        "labels": [LABEL],
        "nodes": [Obj({"id": str, "inputs": [str], "outputs": [str]})],
        "created_at": Timestamp,
    },
    {"schedule": Obj({"cron": str, "timezone": str})},
)
RUN = Obj(
    {
        "run_id": str,
        "pipeline": str,
        "status": enum("RUNNING", "SUCCEEDED", "FAILED"),
        "started_at": Timestamp,
    },
    {
        "ended_at": Timestamp,
        "triggered_by": str,
        "ab_test_cells": [Obj({"test_id": str, "cell_number": int, "cell_name": str})],
        "inputs": [DATASET_REF],
        "outputs": [DATASET_REF],
        "attempts": [
            Obj(
                {
                    "attempt": int,
                    "status": enum("RUNNING", "SUCCEEDED", "FAILED"),
                    "started_at": Timestamp,
                },
                {"ended_at": Timestamp},
            )
        ],
    },
)
TEST = Obj(
    {
        "test_id": str,
        "title": str,
        "status": enum("DRAFT", "ACTIVE", "CONCLUDED"),
        "description": str,
        "owner_emails": [str],
        "start_date": Nullable(Timestamp),
        "end_date": Nullable(Timestamp),
        "cells": [Obj({"cell_number": int, "name": str, "allocation_pct": float})],
    },
)
FEATURE = Obj(
    {
        "id": str,
        "name": str,
        "description": str,
        "owner_emails": [str],
        "labels": [LABEL],
        "value_type": str,
        "version": str,
        "created_at": Timestamp,
    },
    {"source_datasets": [str], "pipeline": str},
)
DATASET = Obj(
    {
        "id": str,
        "name": str,
        "description": str,
        "owner_emails": [str],
        "labels": [LABEL],
        "created_at": Timestamp,
    },
    {"upstream": [str], "latest_version": str},
)
VERSION = Obj(
    {"dataset_id": str, "version": str, "created_at": Timestamp},
    {"row_count": int, "produced_by_run": str, "schema": [Obj({"name": str, "type": str})]},
)
USER = Obj({"id": str, "email": str, "display_name": str, "active": bool, "teams": [str]})
TEAM = Obj({"id": str, "name": str, "members": [str]}, {"parent_team": str})

# (system, path template, collection in /_sandbox/ids, schema)
ENDPOINTS = [
    ("registry", "/api/v1/models/{}", "models", MODEL),
    ("registry", "/api/v1/instances/{}", "instances", INSTANCE),
    ("orchestrator", "/api/v1/pipelines/{}", "pipelines", PIPELINE),
    ("orchestrator", "/api/v1/pipeline-runs/{}", "runs", RUN),
    ("experimentation", "/api/v1/tests/{}", "tests", TEST),
    ("featurestore", "/api/v1/features/{}", "features", FEATURE),
    ("datasets", "/api/v1/datasets/{}", "datasets", DATASET),
    ("datasets", "/api/v1/datasets/{}/versions/{}", "versions", VERSION),
    ("identity", "/api/v1/users/{}", "users", USER),
    ("identity", "/api/v1/teams/{}", "teams", TEAM),
]

EXAMPLE = {
    "models": "ranking-model",
    "instances": "ranking-model-v5-20XX0101",
    "pipelines": "weekly-ranking-trainer",
    "runs": "train-weekly-ranking-20XX0101",
    "tests": "12345",
    "features": "watch-time-7d",
    "datasets": "viewing-history",
    "versions": ["viewing-history", "2026-01-01"],
    "users": "alice",
    "teams": "personalization",
}


def url(sandbox, system: str, template: str, key: Any) -> str:
    parts = key if isinstance(key, list) else [key]
    return sandbox.base_url(system) + template.format(*parts)


@pytest.mark.parametrize(
    ("system", "template", "collection", "schema"), ENDPOINTS, ids=[e[2] for e in ENDPOINTS]
)
def test_contract_endpoint_serves_documented_shape_for_design_example(
    sandbox, client, system, template, collection, schema
):
    response = client.get(url(sandbox, system, template, EXAMPLE[collection]))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert check(response.json(), schema) == []


@pytest.mark.parametrize(
    ("system", "template", "collection", "schema"), ENDPOINTS, ids=[e[2] for e in ENDPOINTS]
)
def test_contract_endpoint_serves_documented_shape_for_every_object(
    sandbox, client, system, template, collection, schema
):
    keys = client.get("/_sandbox/ids").json()[system][collection]
    assert keys
    errors = []
    for key in keys:
        response = client.get(url(sandbox, system, template, key))
        assert response.status_code == 200, key
        errors += check(response.json(), schema, f"{collection}/{key}")
    assert errors == []


def test_design_example_is_served_exactly(sandbox, client):
    registry, orchestrator = sandbox.base_url("registry"), sandbox.base_url("orchestrator")
    model = client.get(f"{registry}/api/v1/models/ranking-model").json()
    assert model["name"] == "Ranking model"
    assert model["owner_emails"] == ["alice@example.com"]
    assert model["labels"] == [{"key": "team", "value": "personalization"}]
    assert model["current_instance_id"] == "ranking-model-v5-20XX0101"

    instance = client.get(f"{registry}/api/v1/instances/ranking-model-v5-20XX0101").json()
    assert {
        k: instance[k]
        for k in (
            "model_id",
            "version",
            "pipeline_run_id",
            "features",
            "state",
            "owner_emails",
            "labels",
        )
    } == {
        "model_id": "ranking-model",
        "version": "5",
        "pipeline_run_id": "train-weekly-ranking-20XX0101",
        "features": ["watch-time-7d", "genre-affinity"],
        "state": "LAUNCHED",
        "owner_emails": ["alice@example.com"],
        "labels": [{"key": "team", "value": "personalization"}],
    }
    assert instance["deployments"][0]["env"] == "production"

    run = client.get(f"{orchestrator}/api/v1/pipeline-runs/train-weekly-ranking-20XX0101").json()
    assert run["pipeline"] == "weekly-ranking-trainer"
    assert run["status"] == "SUCCEEDED"
    assert run["ab_test_cells"] == [
        {"test_id": "12345", "cell_number": 2, "cell_name": "treatment_ranking_v5"}
    ]
    assert run["inputs"] == [{"dataset_id": "viewing-history", "version": "2026-01-01"}]
    assert [(a["attempt"], a["status"]) for a in run["attempts"]] == [
        (1, "FAILED"),
        (2, "SUCCEEDED"),
    ]
    pipeline = client.get(f"{orchestrator}/api/v1/pipelines/weekly-ranking-trainer").json()
    assert pipeline["owner_emails"] == ["bob@example.com"]

    test = client.get(sandbox.base_url("experimentation") + "/api/v1/tests/12345").json()
    assert (test["title"], test["status"], test["owner_emails"]) == (
        "Ranking Model v5 vs v4",
        "ACTIVE",
        ["carol@example.com"],
    )
    assert test["cells"] == [
        {"cell_number": 1, "name": "control_ranking_v4", "allocation_pct": 50},
        {"cell_number": 2, "name": "treatment_ranking_v5", "allocation_pct": 50},
    ]

    identity = sandbox.base_url("identity")
    alice = client.get(f"{identity}/api/v1/users/alice").json()
    assert alice == {
        "id": "alice",
        "email": "alice@example.com",
        "display_name": "Alice Liddell",
        "active": True,
        "teams": ["personalization"],
    }
    team = client.get(f"{identity}/api/v1/teams/personalization").json()
    assert team == {
        "id": "personalization",
        "name": "Personalization",
        "parent_team": "ml-platform",
        "members": ["alice", "bob"],
    }


@pytest.mark.parametrize(
    ("system", "template", "collection", "schema"), ENDPOINTS, ids=[e[2] for e in ENDPOINTS]
)
def test_unknown_id_answers_404_with_problem_body(
    sandbox, client, system, template, collection, schema
):
    key = ["viewing-history", "1999-01-01"] if collection == "versions" else "no-such-id"
    response = client.get(url(sandbox, system, template, key))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404 and body["title"] == "Not Found"
    assert "no-such-id" in body["detail"] or "1999-01-01" in body["detail"]


def test_version_of_unknown_dataset_answers_404(sandbox, client):
    response = client.get(
        sandbox.base_url("datasets") + "/api/v1/datasets/no-such-dataset/versions/2026-01-01"
    )
    assert response.status_code == 404


def test_deleted_object_answers_404(sandbox, client):
    sandbox.world.delete("feature", "watch-time-7d")
    response = client.get(sandbox.base_url("featurestore") + "/api/v1/features/watch-time-7d")
    assert response.status_code == 404


def test_unknown_path_under_a_system_answers_404_problem(sandbox, client):
    response = client.get(sandbox.base_url("registry") + "/api/v1/unicorns/1")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_every_response_carries_etag_of_its_body(sandbox, client):
    registry = sandbox.base_url("registry")
    tags = {}
    for path in (
        "/api/v1/models/ranking-model",
        "/api/v1/models/search-ranker",
        "/api/v1/models/no-such-model",
    ):
        first, second = client.get(registry + path), client.get(registry + path)
        assert re.fullmatch(r'"[0-9a-f]{32}"', first.headers["etag"])
        assert second.headers["etag"] == first.headers["etag"]
        tags[path] = first.headers["etag"]
    assert len(set(tags.values())) == 3


def test_if_none_match_with_current_tag_answers_304_without_body(sandbox, client):
    model_url = sandbox.base_url("registry") + "/api/v1/models/ranking-model"
    tag = client.get(model_url).headers["etag"]
    response = client.get(model_url, headers={"If-None-Match": tag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == tag
    weak_in_list = client.get(model_url, headers={"If-None-Match": f'"other", W/{tag}'})
    assert weak_in_list.status_code == 304


def test_if_none_match_with_stale_tag_answers_200_after_change(sandbox, client):
    model_url = sandbox.base_url("registry") + "/api/v1/models/ranking-model"
    tag = client.get(model_url).headers["etag"]
    sandbox.world.update("model", "ranking-model", {"description": "Ranks the home page."})
    response = client.get(model_url, headers={"If-None-Match": tag})
    assert response.status_code == 200
    assert response.json()["description"] == "Ranks the home page."
    assert response.headers["etag"] != tag


def test_users_by_email_finds_the_user(sandbox, client):
    response = client.get(
        sandbox.base_url("identity") + "/api/v1/users", params={"email": "alice@example.com"}
    )
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["users"]
    assert [u["id"] for u in body["users"]] == ["alice"]
    assert check(body["users"][0], USER) == []


def test_users_by_email_is_empty_for_an_unknown_email(sandbox, client):
    response = client.get(
        sandbox.base_url("identity") + "/api/v1/users", params={"email": "ghost@example.com"}
    )
    assert response.status_code == 200
    assert response.json() == {"users": []}
    assert "etag" in response.headers


def test_users_without_email_is_a_bad_request(sandbox, client):
    response = client.get(sandbox.base_url("identity") + "/api/v1/users")
    assert response.status_code == 400
    assert "email" in response.json()["detail"]


def test_index_lists_the_base_url_of_every_system(sandbox, client):
    systems = client.get("/_sandbox").json()["systems"]
    assert systems == sandbox.base_urls()
    assert systems["registry"] == f"{sandbox.url}/registry"
    assert client.get("/").json()["systems"] == systems


def test_whole_world_and_ids_agree(sandbox, client):
    world = client.get("/_sandbox/world").json()
    ids = client.get("/_sandbox/ids").json()
    assert (
        set(world)
        == set(ids)
        == {"registry", "orchestrator", "experimentation", "featurestore", "datasets", "identity"}
    )
    assert [m["id"] for m in world["registry"]["models"]] == ids["registry"]["models"]
    assert [[v["dataset_id"], v["version"]] for v in world["datasets"]["versions"]] == (
        ids["datasets"]["versions"]
    )


def test_contract_paths_never_include_the_sandbox_listings(sandbox, client):
    # Listings are sandbox extras: no system answers a collection listing.
    for system, collection in (("registry", "models"), ("datasets", "datasets")):
        response = client.get(f"{sandbox.base_url(system)}/api/v1/{collection}")
        assert response.status_code == 404
