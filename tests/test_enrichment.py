"""Progressive resolution: one event, and the worker resolves everything it implies."""

from __future__ import annotations

import asyncio

import pytest

from lifecyclegraph import HydrationState, LifecycleGraph
from lifecyclegraph.core.config import Config
from lifecyclegraph.ingest import Journal
from lifecyclegraph.sandbox.server import run_in_thread
from lifecyclegraph.sandbox.world import SYSTEMS
from lifecyclegraph.server.service import Service

INSTANCE = "aip://model/registry/ranking-model-v5-20XX0101"
TEST = "aip://ab-test/experimentation/12345"


@pytest.fixture
def sandbox():
    with run_in_thread() as sandbox:
        yield sandbox


def make_service(sandbox, tmp_path) -> Service:
    config = Config.from_dict(
        {
            "sources": {
                system: {"url": sandbox.base_url(system), "rate_limit": 200} for system in SYSTEMS
            }
        }
    )
    graph = LifecycleGraph.in_memory(rules=True)
    return Service(config, graph, journal=Journal(tmp_path / "j.db"))


def test_one_instance_event_resolves_the_multi_hop_example_with_no_other_event(sandbox, tmp_path):
    service = make_service(sandbox, tmp_path)
    service.submit_events(
        [{"event_type": "model_instance_created", "instance_id": "ranking-model-v5-20XX0101"}]
    )

    async def run():
        await service.ingestor.drain(wait=30)
        await service.sources.aclose()

    asyncio.run(run())
    graph = service.graph
    # the inferred edge: instance -> run -> cell -> test, and the reverse
    assert graph.sparql(f"ASK {{ <{INSTANCE}> lg:associatedAbTest <{TEST}> }}")
    assert graph.sparql(f"ASK {{ <{TEST}> lg:testsInstance <{INSTANCE}> }}")
    # the pipeline, the A/B test (through the cell), the owners and their teams
    pipeline = "aip://pipeline/orchestrator/weekly-ranking-trainer"
    teams = {
        row["t"].value
        for row in graph.sparql(f"SELECT ?t WHERE {{ <{INSTANCE}> lg:owningTeam ?t }}")
    }
    assert teams == {"aip://team/identity/personalization", "aip://team/identity/ml-platform"}
    for uri in (
        INSTANCE,
        "aip://pipeline-run/orchestrator/train-weekly-ranking-20XX0101",
        pipeline,
        TEST,
        "aip://user/identity/alice",
        *teams,
    ):
        state = graph.store.state(uri)
        assert state is not None and state.state is HydrationState.HYDRATED, uri
        assert state.last_hydrated_at is not None and state.last_enriched_at is not None, uri
        assert state.last_enriched_at >= state.last_hydrated_at, uri
    explanation = str(graph.explain(INSTANCE, "lg:associatedAbTest", TEST))
    for step in ("lg:producedByRun", "lg:ranForCell", "lg:cellOf"):
        assert step in explanation
    assert "asserted by registry" in explanation and "asserted by orchestrator" in explanation
    # nothing that exists at the source is left unresolved
    assert list(graph.entities(HydrationState.REFERENCED)) == []
    assert service.journal.stats()["queue_depth"] == 0
    service.journal.close()
