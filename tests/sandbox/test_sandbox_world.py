"""The demo world: integrity, richness, the design's example, loading and saving."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecyclegraph.sandbox.world import (
    DuplicateObjectError,
    UnknownObjectError,
    World,
    WorldError,
    world_files,
)

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def files() -> dict[str, Any]:
    """The world files as they are on disk (read here, not through World)."""
    return {system: json.loads(path.read_text()) for system, path in world_files().items()}


def test_world_has_one_file_per_system():
    assert sorted(files()) == sorted(
        ["registry", "orchestrator", "experimentation", "featurestore", "datasets", "identity"]
    )


def test_every_foreign_key_resolves_except_the_unknown_email():
    w = files()
    models = {m["id"]: m for m in w["registry"]["models"]}
    instances = {i["id"]: i for i in w["registry"]["instances"]}
    pipelines = {p["name"] for p in w["orchestrator"]["pipelines"]}
    runs = {r["run_id"]: r for r in w["orchestrator"]["runs"]}
    cells = {
        (t["test_id"], c["cell_number"]): c["name"]
        for t in w["experimentation"]["tests"]
        for c in t["cells"]
    }
    features = {f["id"] for f in w["featurestore"]["features"]}
    datasets = {d["id"]: d for d in w["datasets"]["datasets"]}
    versions = {(v["dataset_id"], v["version"]): v for v in w["datasets"]["versions"]}
    users = {u["id"]: u for u in w["identity"]["users"]}
    teams = {t["id"]: t for t in w["identity"]["teams"]}
    emails = {u["email"] for u in users.values()}
    dangling: list[str] = []

    def need(ok: bool, what: str) -> None:
        if not ok:
            dangling.append(what)

    for m in models.values():
        if "current_instance_id" in m:
            current = instances.get(m["current_instance_id"])
            need(current is not None and current["model_id"] == m["id"], f"model {m['id']}")
    for i in instances.values():
        need(i["model_id"] in models, f"instance {i['id']} model")
        if "pipeline_run_id" in i:
            need(
                runs.get(i["pipeline_run_id"], {}).get("status") == "SUCCEEDED",
                f"instance {i['id']} run",
            )
        for f in i.get("features", []):
            need(f in features, f"instance {i['id']} feature {f}")
    for p in w["orchestrator"]["pipelines"]:
        for node in p["nodes"]:
            for d in node["inputs"] + node["outputs"]:
                need(d in datasets, f"pipeline {p['name']} dataset {d}")
    for r in runs.values():
        need(r["pipeline"] in pipelines, f"run {r['run_id']} pipeline")
        for c in r.get("ab_test_cells", []):
            need(
                cells.get((c["test_id"], c["cell_number"])) == c["cell_name"],
                f"run {r['run_id']} cell",
            )
        for ref in r.get("inputs", []) + r.get("outputs", []):
            need((ref["dataset_id"], ref["version"]) in versions, f"run {r['run_id']} {ref}")
        for ref in r.get("outputs", []):
            produced = versions.get((ref["dataset_id"], ref["version"]), {})
            need(produced.get("produced_by_run") == r["run_id"], f"run {r['run_id']} output")
    for f in w["featurestore"]["features"]:
        for d in f.get("source_datasets", []):
            need(d in datasets, f"feature {f['id']} dataset {d}")
        if "pipeline" in f:
            need(f["pipeline"] in pipelines, f"feature {f['id']} pipeline")
    for d in datasets.values():
        for u in d.get("upstream", []):
            need(u in datasets, f"dataset {d['id']} upstream {u}")
        if "latest_version" in d:
            latest = d["latest_version"]
            mine = [v for (ds, v) in versions if ds == d["id"]]
            need(latest in mine and latest == max(mine), f"dataset {d['id']} latest")
    for (ds, v), version in versions.items():
        need(ds in datasets, f"version {ds}/{v}")
        if "produced_by_run" in version:
            need(version["produced_by_run"] in runs, f"version {ds}/{v} run")
    for u in users.values():
        for t in u["teams"]:
            need(t in teams and u["id"] in teams[t]["members"], f"user {u['id']} team {t}")
    for t in teams.values():
        if "parent_team" in t:
            need(t["parent_team"] in teams, f"team {t['id']} parent")
        for m in t["members"]:
            need(m in users and t["id"] in users[m]["teams"], f"team {t['id']} member {m}")
    owners = [
        e
        for system in w.values()
        for objects in system.values()
        for o in objects
        for e in o.get("owner_emails", [])
    ]
    owners += [r["triggered_by"] for r in runs.values() if "triggered_by" in r]
    assert dangling == []
    assert sorted({e for e in owners if e not in emails}) == ["ghost@example.com"]


def test_the_unknown_email_is_unknown_to_identity(sandbox, client):
    response = client.get(
        sandbox.base_url("identity") + "/api/v1/users", params={"email": "ghost@example.com"}
    )
    assert response.json() == {"users": []}
    assert sandbox.world.unknown_emails() == {"ghost@example.com"}


def test_world_reports_no_dangling_reference():
    assert World.load().problems() == []


def test_world_reports_a_planted_dangling_reference():
    world = World.load()
    world.update("feature", "watch-time-7d", {"source_datasets": ["no-such-dataset"]})
    assert world.problems() == ["feature watch-time-7d: no dataset 'no-such-dataset'"]


def test_world_meets_the_minimum_counts():
    counts = World.load().counts()
    assert counts["model"] >= 5
    assert counts["feature"] >= 10
    assert counts["dataset"] >= 10
    assert counts["test"] >= 3
    assert counts["user"] >= 6
    assert counts["team"] >= 3


def test_world_is_rich_enough_to_explore():
    w = files()
    per_model = Counter(i["model_id"] for i in w["registry"]["instances"])
    assert all(per_model[m["id"]] >= 2 for m in w["registry"]["models"])
    states = Counter(i["state"] for i in w["registry"]["instances"])
    assert states["STAGED"] and states["RETIRED"] and states["LAUNCHED"]
    without_current = [m["id"] for m in w["registry"]["models"] if "current_instance_id" not in m]
    assert without_current == ["churn-predictor"]
    statuses = Counter(r["status"] for r in w["orchestrator"]["runs"])
    assert statuses["SUCCEEDED"] and statuses["FAILED"] and statuses["RUNNING"]
    assert sorted(t["status"] for t in w["experimentation"]["tests"]) == [
        "ACTIVE",
        "CONCLUDED",
        "DRAFT",
    ]
    referenced = {
        c["test_id"] for r in w["orchestrator"]["runs"] for c in r.get("ab_test_cells", [])
    }
    assert referenced == {t["test_id"] for t in w["experimentation"]["tests"]}
    full = [
        f for f in w["featurestore"]["features"] if f.get("source_datasets") and f.get("pipeline")
    ]
    assert len(full) >= 10
    produced = {v["dataset_id"] for v in w["datasets"]["versions"] if v.get("produced_by_run")}
    assert len(produced) >= 5
    teams = w["identity"]["teams"]
    assert any("parent_team" in t for t in teams)
    assert len({t for u in w["identity"]["users"] for t in u["teams"]}) >= 3


def test_dataset_upstream_chains_are_several_hops_deep():
    upstream = {d["id"]: d.get("upstream", []) for d in files()["datasets"]["datasets"]}

    def depth(dataset: str) -> int:
        return 1 + max((depth(u) for u in upstream[dataset]), default=0)

    assert depth("viewing-history") == 3  # playback-events -> sessionized-playback -> here
    assert max(depth(d) for d in upstream) >= 4


def test_every_timestamp_is_rfc3339_utc():
    bad = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                stamped = k.endswith(("_at", "_date")) and v is not None
                if stamped and not (isinstance(v, str) and TIMESTAMP.fullmatch(v)):
                    bad.append(f"{where}.{k}={v!r}")
                walk(v, f"{where}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{where}[{i}]")

    walk(files(), "world")
    assert bad == []


def test_save_then_load_gives_the_same_world(tmp_path):
    world = World.load()
    world.create("model", {"id": "extra-model", "name": "Extra"})
    world.save(tmp_path)
    again = World.load(tmp_path)
    assert again.to_files() == world.to_files()
    assert again.get("model", "extra-model")["name"] == "Extra"


def test_load_reports_every_problem_with_its_file(tmp_path):
    World.load().save(tmp_path)
    (tmp_path / "featurestore.json").write_text('{"features": [\n  {"id": "x",}\n]}')
    registry = json.loads((tmp_path / "registry.json").read_text())
    registry["modles"] = registry.pop("models")
    (tmp_path / "registry.json").write_text(json.dumps(registry))
    (tmp_path / "identity.json").unlink()
    with pytest.raises(WorldError) as caught:
        World.load(tmp_path)
    message = str(caught.value)
    assert f"{tmp_path / 'featurestore.json'}:2:" in message
    assert "unknown list 'modles'; did you mean 'models'?" in message
    assert f"{tmp_path / 'identity.json'}: missing" in message


def test_load_rejects_an_invalid_object(tmp_path):
    World.load().save(tmp_path)
    registry = json.loads((tmp_path / "registry.json").read_text())
    registry["instances"][0]["state"] = "LIVE"
    del registry["models"][1]["name"]
    (tmp_path / "registry.json").write_text(json.dumps(registry))
    with pytest.raises(WorldError) as caught:
        World.load(tmp_path)
    message = str(caught.value)
    assert (
        f"{tmp_path / 'registry.json'}: instances[0]: state must be one of STAGED, "
        "LAUNCHED, RETIRED, not 'LIVE'"
    ) in message
    assert f"{tmp_path / 'registry.json'}: models[1]: a model needs name" in message


def test_load_rejects_a_repeated_id(tmp_path):
    World.load().save(tmp_path)
    teams = json.loads((tmp_path / "identity.json").read_text())
    teams["teams"].append(dict(teams["teams"][0]))
    (tmp_path / "identity.json").write_text(json.dumps(teams))
    with pytest.raises(WorldError, match=r"teams\[4\]: a second team 'ml-platform'"):
        World.load(tmp_path)


def test_failed_change_leaves_the_world_unchanged():
    world = World.load()
    before = world.to_files()
    with pytest.raises(WorldError):
        world.set_allocation("12345", {1: 70})  # 70 + 50 != 100
    with pytest.raises(UnknownObjectError):
        world.set_members("personalization", ["alice", "nobody"])
    with pytest.raises(DuplicateObjectError):
        world.create("model", {"id": "ranking-model", "name": "Again"})
    assert world.to_files() == before


def test_dataset_versions_are_immutable():
    world = World.load()
    with pytest.raises(WorldError, match="immutable"):
        world.update("dataset_version", ("viewing-history", "2026-01-01"), {"row_count": 1})


def test_reset_returns_to_the_loaded_world_silently():
    world = World.load()
    received: list[dict[str, Any]] = []
    world.subscribe(received.append)
    world.delete("model", "ranking-model")
    received.clear()
    world.reset()
    assert world.get("model", "ranking-model") is not None
    assert received == []


def test_key_fields_cannot_change_by_update():
    with pytest.raises(WorldError, match="key"):
        World.load().update("model", "ranking-model", {"id": "renamed"})


def test_packaged_world_is_the_default(tmp_path: Path):
    for system, path in world_files().items():  # the packaged files, as a world directory
        (tmp_path / f"{system}.json").write_text(path.read_text())
    assert World.load().to_files() == World.load(tmp_path).to_files()


class _CopyEverything(World):
    """The world as it was before changes copied only what they touch: the whole world
    deep-copied before every change (the reference the lazy copies must agree with)."""

    def _change(self, mutate, emit):  # type: ignore[no-untyped-def]
        import copy

        from lifecyclegraph.sandbox.events import format_time
        from lifecyclegraph.sandbox.world import _Ops

        with self._lock:
            before = copy.deepcopy(self._objects)
            ops = _Ops(self, format_time(self.clock()))
            try:
                mutate(ops)
                for fake in self.table.systems.values():
                    if fake.on_change is not None:
                        fake.on_change(ops, before)
                events = self._diff(before, ops.now)
            except BaseException:
                self._objects = before
                raise
        if emit:
            self.publish(events)
        return events


_CHANGES = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "describe-model",
                "new-instance",
                "deploy",
                "delete-instance",
                "delete-model",
                "members",
                "deactivate",
                "delete-user",
                "delete-team",
                "allocation",
                "finish-run",
                "bad-allocation",
            ]
        ),
        st.integers(min_value=0, max_value=10_000),
    ),
    max_size=12,
)


def _apply(world: World, change: str, n: int) -> list[Any]:
    def pick(kind: str) -> Any:
        keys = sorted(world.keys(kind), key=str)
        return keys[n % len(keys)] if keys else None

    if change == "describe-model" and pick("model"):
        return world.update("model", pick("model"), {"description": f"changed {n}"})
    if change == "new-instance" and pick("model"):
        obj = {"id": f"new-{n}", "model_id": pick("model"), "version": str(n), "state": "STAGED"}
        return world.create("instance", obj)
    if change == "deploy" and pick("instance"):
        return world.act("deploy", instance_id=pick("instance"), env="production", region="r1")
    if change == "delete-instance" and pick("instance"):
        return world.delete("instance", pick("instance"))
    if change == "delete-model" and pick("model"):
        return world.delete("model", pick("model"))
    if change == "members" and pick("team") and pick("user"):
        return world.set_members(pick("team"), [pick("user")])
    if change == "deactivate" and pick("user"):
        return world.deactivate_user(pick("user"))
    if change == "delete-user" and pick("user"):
        return world.delete("user", pick("user"))
    if change == "delete-team" and pick("team"):
        return world.delete("team", pick("team"))
    if change == "allocation" and pick("test"):
        test = world.get("test", pick("test"))
        cells = [c["cell_id"] for c in test.get("cells", [])] if test else []
        if cells:
            return world.set_allocation(pick("test"), {c: 100 // len(cells) for c in cells})
    if change == "finish-run" and pick("run"):
        return world.finish_run(pick("run"), "SUCCEEDED")
    if change == "bad-allocation" and pick("test"):
        return world.set_allocation(pick("test"), {"no-such-cell": 70})
    return []


@given(changes=_CHANGES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_changes_copy_only_what_they_touch_and_agree_with_copying_everything(changes):
    clock = lambda: datetime(2026, 1, 1, tzinfo=UTC)  # noqa: E731
    lazy, full = World.load(clock=clock), World.load(clock=clock)
    full.__class__ = _CopyEverything
    for change, n in changes:
        outcomes = []
        for world in (lazy, full):
            try:
                events = _apply(world, change, n)
                outcomes.append(("events", [{**e, "event_id": None} for e in events]))
            except Exception as error:  # refused: both refuse alike, nothing changes
                outcomes.append(("refused", type(error).__name__))
        assert outcomes[0] == outcomes[1], change
        assert lazy.to_files() == full.to_files(), change


_EMAIL_CHANGES = st.lists(
    st.tuples(
        st.sampled_from(["new-user", "email", "delete-user", "reset", "refused"]),
        st.integers(min_value=0, max_value=50),
        st.sampled_from(["a@x.org", "A@X.org", "b@x.org", "alice@example.com", "Bob@Example.com"]),
    ),
    max_size=15,
)


@given(changes=_EMAIL_CHANGES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_user_search_answers_as_a_scan_of_the_users_after_any_change(changes):
    world = World.load()
    asked = ["a@x.org", "B@X.ORG", "alice@example.com", "bob@example.com", "nobody@x.org"]

    def scan(email: str) -> list[dict[str, Any]]:
        return [u for u in world.objects("user") if u["email"].casefold() == email.casefold()]

    for step, (change, n, email) in enumerate(changes):
        users = sorted(world.keys("user"))
        if change == "new-user":
            user = {"id": f"new-{step}", "email": email, "display_name": "U", "teams": []}
            world.create("user", user)
        elif change == "email" and users:
            world.update("user", users[n % len(users)], {"email": email})
        elif change == "delete-user" and users:
            world.delete("user", users[n % len(users)])
        elif change == "reset":
            world.reset()
        elif change == "refused" and users:  # a change that fails is undone as a whole
            with pytest.raises(DuplicateObjectError):
                taken = {"id": users[n % len(users)], "email": email, "display_name": "U"}
                world.create("user", taken)
        for each in asked:
            assert world.find_users(each) == scan(each), (change, each)
