"""A small example graph: the design's own example, written as three moments of history.

Used by the documentation's runnable queries and by notebooks; the full demo world
is served by the sandbox.

>>> from lifecyclegraph import LifecycleGraph
>>> graph = LifecycleGraph.in_memory()
>>> load_example(graph)
13
>>> graph.entity(INSTANCE).get("lg:version")
'5'
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from lifecyclegraph.core.facts import Facts, Ref
from lifecyclegraph.graph import LifecycleGraph
from lifecyclegraph.store import Observation

__all__ = ["INSTANCE", "MODEL", "RUN", "TEST", "example_writes", "load_example"]

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MODEL = "aip://model/registry/ranking-model"
INSTANCE = "aip://model/registry/ranking-model-v5-20XX0101"
RUN = "aip://pipeline-run/orchestrator/train-weekly-ranking-20XX0101"
PIPELINE = "aip://pipeline/orchestrator/weekly-ranking-trainer"
TEST = "aip://ab-test/experimentation/12345"
ALICE = "aip://user/identity/alice"
BOB = "aip://user/identity/bob"
TEAM = "aip://team/identity/personalization"
PARENT = "aip://team/identity/ml-platform"
DATASET = "aip://dataset/datasets/viewing-history"
FEATURE = "aip://feature/featurestore/watch-time-7d"


def _cell(n: int, name: str) -> Facts:
    return Facts.of(
        f"aip://ab-test-cell/experimentation/12345:{n}",
        {
            "rdf:type": Ref("lg:ABTestCell"),
            "lg:cellNumber": n,
            "lg:name": name,
            "lg:allocationPct": Decimal(50),
            "lg:cellOf": Ref(TEST),
        },
    )


def example_writes() -> list[tuple[Facts, Observation]]:
    """The example as (facts, observation) pairs in the order they happened."""
    day = timedelta(days=1)
    user = {"rdf:type": Ref("lg:User"), "lg:active": True}
    team = {"rdf:type": Ref("lg:Team")}
    model = {
        "rdf:type": Ref("lg:Model"),
        "lg:sourceId": "ranking-model",
        "lg:description": "Ranks rows on the home page.",
        "lg:owner": Ref(ALICE),
        "lg:tag": "team::personalization",
    }
    return [
        (
            Facts.of(PARENT, {**team, "lg:name": "ML Platform", "lg:sourceId": "ml-platform"}),
            Observation("identity", T0, "evt-1"),
        ),
        (
            Facts.of(
                TEAM,
                {
                    **team,
                    "lg:name": "Personalization",
                    "lg:sourceId": "personalization",
                    "lg:parentTeam": Ref(PARENT),
                },
            ),
            Observation("identity", T0, "evt-2"),
        ),
        (
            Facts.of(
                ALICE,
                {
                    **user,
                    "lg:name": "Alice Liddell",
                    "lg:email": "alice@example.com",
                    "lg:sourceId": "alice",
                    "lg:memberOf": Ref(TEAM),
                },
            ),
            Observation("identity", T0, "evt-3"),
        ),
        (
            Facts.of(
                BOB,
                {
                    **user,
                    "lg:name": "Bob Builder",
                    "lg:email": "bob@example.com",
                    "lg:sourceId": "bob",
                    "lg:memberOf": Ref(TEAM),
                },
            ),
            Observation("identity", T0, "evt-4"),
        ),
        (
            Facts.of(
                DATASET,
                {
                    "rdf:type": Ref("lg:Dataset"),
                    "lg:name": "viewing_history",
                    "lg:sourceId": "viewing-history",
                    "lg:owner": Ref(BOB),
                },
            ),
            Observation("datasets", T0, "evt-5"),
        ),
        (
            Facts.of(
                FEATURE,
                {
                    "rdf:type": Ref("lg:Feature"),
                    "lg:name": "watch_time_7d",
                    "lg:sourceId": "watch-time-7d",
                    "lg:valueType": "FLOAT",
                    "lg:sourceDataset": Ref(DATASET),
                },
            ),
            Observation("featurestore", T0, "evt-6"),
        ),
        (
            Facts.of(
                PIPELINE,
                {
                    "rdf:type": Ref("lg:Pipeline"),
                    "lg:name": "weekly-ranking-trainer",
                    "lg:sourceId": "weekly-ranking-trainer",
                    "lg:owner": Ref(BOB),
                    "lg:readsDataset": Ref(DATASET),
                },
            ),
            Observation("orchestrator", T0, "evt-7"),
        ),
        (
            Facts.of(
                TEST,
                {
                    "rdf:type": Ref("lg:ABTest"),
                    "lg:name": "Ranking Model v5 vs v4",
                    "lg:sourceId": "12345",
                    "lg:status": "ACTIVE",
                },
                parts=[_cell(1, "control_ranking_v4"), _cell(2, "treatment_ranking_v5")],
            ),
            Observation("experimentation", T0 + day, "evt-8"),
        ),
        (
            Facts.of(
                RUN,
                {
                    "rdf:type": Ref("lg:PipelineRun"),
                    "lg:sourceId": RUN.rsplit("/", 1)[1],
                    "lg:runOf": Ref(PIPELINE),
                    "lg:status": "SUCCEEDED",
                    "lg:startedAt": T0 + day,
                    "lg:ranForCell": Ref("aip://ab-test-cell/experimentation/12345:2"),
                },
            ),
            Observation("orchestrator", T0 + day, "evt-9"),
        ),
        (
            Facts.of(
                INSTANCE,
                {
                    "rdf:type": Ref("lg:ModelInstance"),
                    "lg:version": "5",
                    "lg:sourceId": INSTANCE.rsplit("/", 1)[1],
                    "lg:status": "STAGED",
                    "lg:instanceOf": Ref(MODEL),
                    "lg:producedByRun": Ref(RUN),
                    "lg:usesFeature": Ref(FEATURE),
                    "lg:owner": Ref(ALICE),
                },
            ),
            Observation("registry", T0 + day, "evt-10"),
        ),
        (
            Facts.of(MODEL, {**model, "lg:name": "Ranking model"}),
            Observation("registry", T0 + day, "evt-11"),
        ),
        # Later the instance is launched and becomes the model's current instance.
        (
            Facts.of(
                INSTANCE,
                {
                    "rdf:type": Ref("lg:ModelInstance"),
                    "lg:version": "5",
                    "lg:sourceId": INSTANCE.rsplit("/", 1)[1],
                    "lg:status": "LAUNCHED",
                    "lg:instanceOf": Ref(MODEL),
                    "lg:producedByRun": Ref(RUN),
                    "lg:usesFeature": Ref(FEATURE),
                    "lg:owner": Ref(ALICE),
                },
            ),
            Observation("registry", T0 + 2 * day, "evt-12"),
        ),
        (
            Facts.of(
                MODEL, {**model, "lg:name": "Ranking model", "lg:currentInstance": Ref(INSTANCE)}
            ),
            Observation("registry", T0 + 2 * day, "evt-13"),
        ),
    ]


def load_example(graph: LifecycleGraph) -> int:
    """Write the example into ``graph``; return the number of writes.

    The writes are checked together first (an instance names its model before the
    model's next snapshot, as the registry sends them), then each is written, at its
    own time, with the checks' opt-out: nothing is checked twice.

    Raises:
        WriteRefusedError: the example does not pass the model in use; nothing written.
    """
    writes = example_writes()
    graph.check(facts for facts, _ in writes)
    for facts, obs in writes:
        graph.write_many([(facts, obs)], validate=False)
    return len(writes)
