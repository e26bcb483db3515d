"""Order independence: late, duplicated, reordered and lost events still converge.

A hypothesis state machine changes the sources' world and emits the matching events
into a "network" that delivers them late, twice, out of order, or never. After a
reconcile, the graph must equal the graph built directly from the sources' final
state (over every object lifecyclegraph has heard of: an object whose every event
was lost and that nothing refers to cannot be discovered, as the contract offers no
listing).
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from contract_world import ALL
from fakesource import FakeClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from lifecyclegraph import HydrationState, LifecycleGraph
from lifecyclegraph.core.config import Config
from lifecyclegraph.ingest import Ingestor, Journal
from lifecyclegraph.providers.sources import Sources

CONFIG = Config.from_dict({"sources": {p: {"url": f"http://{p}.test"} for p in ALL}})


def seed_events(world: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One created event per object of the world."""
    events = []
    for path in world["registry"]:
        kind, key = path.split("/")[3:5]
        if kind == "models":
            events.append({"event_type": "model_created", "model_id": key})
        else:
            events.append({"event_type": "model_instance_created", "instance_id": key})
    for path in world["orchestrator"]:
        kind, key = path.split("/")[3:5]
        if kind == "pipelines":
            events.append({"event_type": "pipeline_created", "pipeline": key})
        else:
            events.append({"event_type": "pipeline_run_started", "run_id": key})
    for path in world["experimentation"]:
        events.append({"event_type": "ab_test_created", "test_id": path.split("/")[4]})
    for path in world["featurestore"]:
        events.append({"event_type": "feature_created", "feature_id": path.split("/")[4]})
    for path in world["datasets"]:
        parts = path.split("/")
        if len(parts) == 5:
            events.append({"event_type": "dataset_created", "dataset_id": parts[4]})
        else:
            events.append(
                {
                    "event_type": "dataset_version_created",
                    "dataset_id": parts[4],
                    "version": parts[6],
                }
            )
    for path in world["identity"]:
        kind, key = path.split("/")[3:5]
        events.append(
            {
                "event_type": "user_created" if kind == "users" else "team_created",
                f"{'user' if kind == 'users' else 'team'}_id": key,
            }
        )
    return events


def make_ingestor(world, journal_path) -> Ingestor:
    sources = Sources(CONFIG, client_factory=lambda platform, _: FakeClient(world[platform]))
    # a reference that is 404 is dangling at once (no retries), to keep examples fast
    return Ingestor(LifecycleGraph.in_memory(), sources, Journal(journal_path), dangling_after=1)


def settle(ingestor: Ingestor) -> None:
    """Process everything, then reconcile until nothing changes."""
    asyncio.run(ingestor.drain())
    previous = None
    for _ in range(10):
        ingestor.reconcile()
        asyncio.run(ingestor.drain())
        now = {(u, ingestor.graph.store.state(u).state) for u in ingestor.graph.entities()}
        if now == previous:
            return
        previous = now
    raise AssertionError("reconcile did not reach a fixed point")


def live_facts(graph: LifecycleGraph) -> set[tuple[str, str, str]]:
    facts = set()
    for state in (HydrationState.HYDRATED, HydrationState.REFERENCED):
        for uri in graph.entities(state):
            snapshot = graph.store.state(uri).current_snapshot
            facts.update((uri, p.value, str(o)) for p, o in graph.store.snapshot_pairs(snapshot))
    return facts


class Convergence(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.counter = 0

    @initialize()
    def start(self) -> None:
        import tempfile

        self.tmp = tempfile.mkdtemp()
        self.world = copy.deepcopy(ALL)
        self.ingestor = make_ingestor(self.world, f"{self.tmp}/actual.db")
        self.network: list[dict[str, Any]] = []
        seed = seed_events(self.world)
        self.heard = {self._uri(e) for e in seed}
        self.ingestor.submit(seed)
        asyncio.run(self.ingestor.drain())

    def _uri(self, event: dict[str, Any]) -> str:
        return (
            self.ingestor.kinds[event["event_type"]]
            .uri({k: str(v) for k, v in event.items() if k != "event_type"})
            .__str__()
        )

    def _emit(self, **event: Any) -> None:
        self.counter += 1
        self.network.append({**event, "event_id": f"e{self.counter}"})

    # -- the sources change ----------------------------------------------------------

    @rule(name=st.sampled_from(["Ranking model", "Ranker", "Home ranker"]))
    def rename_model(self, name: str) -> None:
        self.world["registry"]["/api/v1/models/ranking-model"]["name"] = name
        self._emit(event_type="model_updated", model_id="ranking-model")

    @rule(state=st.sampled_from(["STAGED", "LAUNCHED", "RETIRED"]))
    def change_instance_state(self, state: str) -> None:
        self.world["registry"]["/api/v1/instances/ranking-model-v5-20XX0101"]["state"] = state
        self._emit(event_type="model_instance_updated", instance_id="ranking-model-v5-20XX0101")

    @rule(n=st.integers(0, 3))
    def create_feature(self, n: int) -> None:
        self.world["featurestore"][f"/api/v1/features/f{n}"] = {
            "id": f"f{n}",
            "name": f"feature_{n}",
            "description": "d",
            "owner_emails": ["dave@example.com"],
            "value_type": "INT",
            "source_datasets": ["viewing-history"],
        }
        self._emit(event_type="feature_created", feature_id=f"f{n}")

    @rule(n=st.integers(0, 3))
    def delete_feature(self, n: int) -> None:
        self.world["featurestore"].pop(f"/api/v1/features/f{n}", None)
        self._emit(event_type="feature_deleted", feature_id=f"f{n}")

    @rule(pct=st.sampled_from([10, 50, 90]))
    def change_allocation(self, pct: int) -> None:
        test = self.world["experimentation"].get("/api/v1/tests/12345")
        if test is not None:
            test["cells"][0]["allocation_pct"] = pct
            test["cells"][1]["allocation_pct"] = 100 - pct
        self._emit(event_type="ab_test_allocation_changed", test_id="12345")

    @rule()
    def delete_or_restore_test(self) -> None:
        tests = self.world["experimentation"]
        if "/api/v1/tests/12345" in tests:
            del tests["/api/v1/tests/12345"]
            self._emit(event_type="ab_test_deleted", test_id="12345")
        else:
            tests["/api/v1/tests/12345"] = copy.deepcopy(
                ALL["experimentation"]["/api/v1/tests/12345"]
            )
            self._emit(event_type="ab_test_created", test_id="12345")

    @rule(team=st.sampled_from(["personalization", "ml-platform"]))
    def move_bob(self, team: str) -> None:
        self.world["identity"]["/api/v1/users/bob"]["teams"] = [team]
        for t in ("personalization", "ml-platform"):
            members = self.world["identity"][f"/api/v1/teams/{t}"]["members"]
            if "bob" in members:
                members.remove("bob")
        self.world["identity"][f"/api/v1/teams/{team}"]["members"].append("bob")
        self._emit(event_type="user_updated", user_id="bob")
        self._emit(event_type="membership_changed", team_id=team)

    # -- the network misbehaves -------------------------------------------------------

    @precondition(lambda self: self.network)
    @rule(data=st.data())
    def deliver_one(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, len(self.network) - 1))  # out of order
        event = self.network.pop(index)
        self.heard.add(self._uri(event))
        self.ingestor.submit([event])

    @precondition(lambda self: self.network)
    @rule(data=st.data())
    def deliver_twice(self, data: st.DataObject) -> None:
        event = self.network[data.draw(st.integers(0, len(self.network) - 1))]
        self.heard.add(self._uri(event))
        self.ingestor.submit([event, event])  # and it stays in the network: late again

    @precondition(lambda self: self.network)
    @rule(data=st.data())
    def lose_one(self, data: st.DataObject) -> None:
        self.network.pop(data.draw(st.integers(0, len(self.network) - 1)))

    @rule()
    def process(self) -> None:
        asyncio.run(self.ingestor.drain())

    @invariant()
    def journal_never_loses_accepted_events(self) -> None:
        stats = self.ingestor.journal.stats()
        assert stats["dead_letters"] == 0

    def teardown(self) -> None:
        if not hasattr(self, "ingestor"):
            return
        self.network.clear()  # whatever was still in flight is lost
        settle(self.ingestor)
        expected = make_ingestor(self.world, f"{self.tmp}/expected.db")
        expected.submit(_event_for(expected, uri) for uri in sorted(self.heard))
        settle(expected)
        assert live_facts(self.ingestor.graph) == live_facts(expected.graph)
        self.ingestor.journal.close()
        expected.journal.close()


def _event_for(ingestor: Ingestor, uri: str) -> dict[str, Any]:
    """An 'updated' event naming ``uri`` (any event type of its kind will do)."""
    for kind in ingestor.kinds.values():
        prefix = f"aip://{kind.component_type}/{kind.platform_id}/"
        if uri.startswith(prefix) and len(kind.id_fields) == 1:
            return {"event_type": kind.event_type, kind.id_fields[0]: uri[len(prefix) :]}
    resource = uri[len("aip://") :].split("/", 2)[2]
    dataset, version = resource.split(":", 1)
    return {"event_type": "dataset_version_created", "dataset_id": dataset, "version": version}


Convergence.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_events_late_duplicated_reordered_or_lost_converge_after_reconcile = Convergence.TestCase
