"""Ingestion: events in, hydrate once per object, validate, store; bad events dead-lettered."""

from __future__ import annotations

import asyncio
import copy
import json
import sqlite3

import pytest
from contract_world import ALL
from fakesource import FakeClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecyclegraph import HydrationState, LifecycleGraph
from lifecyclegraph.core.config import Config
from lifecyclegraph.core.vocab import LG
from lifecyclegraph.ingest import Ingestor, Journal
from lifecyclegraph.providers.sources import Sources

CONFIG = Config.from_dict({"sources": {p: {"url": f"http://{p}.test"} for p in ALL}})
INSTANCE = "aip://model/registry/ranking-model-v5-20XX0101"


@pytest.fixture
def world():
    return copy.deepcopy(ALL)


@pytest.fixture
def ingestor(world, tmp_path):
    clients = {p: FakeClient(world[p]) for p in world}
    sources = Sources(CONFIG, client_factory=lambda platform, _: clients[platform])
    ingestor = Ingestor(LifecycleGraph.in_memory(), sources, Journal(tmp_path / "journal.db"))
    ingestor.clients = clients
    yield ingestor
    ingestor.journal.close()


def event(event_type: str, **ids) -> dict:
    return {"event_type": event_type, "event_id": f"{event_type}-{len(ids)}", **ids}


def drain(ingestor):
    return asyncio.run(ingestor.drain())


def test_event_is_hydrated_validated_and_stored_with_stubs_for_references(ingestor):
    ingestor.enrich = False
    result = ingestor.submit(
        [event("model_instance_created", instance_id="ranking-model-v5-20XX0101")]
    )
    assert result.accepted == 1 and result.rejected == []
    drain(ingestor)
    entity = ingestor.graph.entity(INSTANCE)
    assert entity.get("lg:status") == "LAUNCHED"
    assert entity.state.state is HydrationState.HYDRATED
    assert entity.snapshot.event_id == "model_instance_created-1"
    assert entity.snapshot.source == "registry"
    run = ingestor.graph.entity("aip://pipeline-run/orchestrator/train-weekly-ranking-20XX0101")
    assert run.state.state is HydrationState.REFERENCED
    assert run.types == (LG.PipelineRun.value,)


def test_burst_of_events_for_one_object_costs_one_hydration(ingestor):
    ingestor.submit([event("model_updated", model_id="ranking-model")] * 25)
    drain(ingestor)
    assert ingestor.clients["registry"].requests["/api/v1/models/ranking-model"] == 1
    assert ingestor.journal.stats()["events_pending"] == 0


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "must be a JSON object, not an array"),
        (
            '{"event_type": "model_exploded", "model_id": "x"}',
            "unknown event type 'model_exploded'",
        ),
        ('{"event_type": "model_created"}', "missing id field 'model_id'"),
        ('{"event_type": "model_created", "model_id": {"a": 1}}', "must be a string"),
        ('{"model_id": "x"}', "missing or empty 'event_type'"),
        (
            json.dumps({"event_type": "model_created", "model_id": "x", "pad": "x" * 70000}),
            "over the limit",
        ),
        (
            {"event_type": "model_created", "model_id": "x", "pad": "x" * 70000},
            "event is 70054 bytes, over the limit of 65536",  # measured as compact JSON
        ),
        (
            '{"event_type": "model_created", "model_id": ' + "9" * 5000 + "}",
            "not JSON: line 1 column 45: integer with 5000 digits exceeds the limit",
        ),
        ("[" * 5000 + "]" * 5000, "not JSON: line 1 column 5000: arrays and objects nested"),
        (b'{"event_type": "model_created", "model_id": "\xff"}', "column 46: invalid UTF-8"),
        ('{"event_type": "model_created", "model_id": NaN}', "NaN is not JSON"),
        ('{"event_type": "model_created", "event_id": "\\udfff"}', "lone surrogate"),
        ({"event_type": "model_created", "model_id": "\udfff"}, "not Unicode text"),
        ({"event_type": "model_created", "model_id": float("nan")}, "not JSON: Out of range"),
        ({"event_type": "model_created", "model_id": object()}, "not JSON: Object of type"),
        (
            {"event_type": "model_created", "model_id": "x" * 3000},
            "the ids make a URI of 3021 characters, over the limit of 2048",
        ),
    ],
)
def test_bad_event_is_dead_lettered_with_its_reason_and_ingestion_goes_on(
    ingestor, payload, reason
):
    good = json.dumps(event("model_created", model_id="ranking-model"))
    result = ingestor.submit([payload, good])
    assert result.accepted == 1
    assert [(i, r) for i, r in result.rejected if reason in r] == [(0, result.rejected[0][1])]
    letters = ingestor.journal.dead_letters()
    assert len(letters) == 1 and reason in letters[0].reason
    drain(ingestor)
    assert ingestor.graph.entity("aip://model/registry/ranking-model").name == "Ranking model"


def test_delete_event_or_404_tombstones_the_entity(ingestor, world):
    ingestor.submit([event("dataset_created", dataset_id="viewing-history")])
    drain(ingestor)
    del world["datasets"]["/api/v1/datasets/viewing-history"]
    ingestor.submit([event("dataset_deleted", dataset_id="viewing-history")])
    drain(ingestor)
    assert ingestor.graph.entity("aip://dataset/datasets/viewing-history") is None
    kinds = [h.kind for h in ingestor.graph.history("aip://dataset/datasets/viewing-history")]
    assert kinds == [HydrationState.HYDRATED, HydrationState.DELETED]


def test_late_delete_event_for_an_object_that_exists_keeps_it(ingestor):
    ingestor.submit([event("dataset_deleted", dataset_id="viewing-history")])
    drain(ingestor)
    assert ingestor.graph.entity("aip://dataset/datasets/viewing-history") is not None


def test_entity_with_violations_is_not_written_and_the_report_is_kept(ingestor, world):
    ingestor.submit([event("model_created", model_id="ranking-model")])
    drain(ingestor)
    broken = dict(world["registry"]["/api/v1/models/ranking-model"], name=None)
    world["registry"]["/api/v1/models/ranking-model"] = broken
    ingestor.submit([event("model_updated", model_id="ranking-model")])
    result = drain(ingestor)
    assert result.rejected == 1
    assert ingestor.graph.entity("aip://model/registry/ranking-model").name == "Ranking model"
    [finding] = ingestor.journal.findings(rejected=True)
    assert finding.uri == "aip://model/registry/ranking-model"
    assert finding.report["results"][0]["resultPath"] == LG.name.value


def test_warnings_are_written_and_recorded_as_quality_findings(ingestor):
    ingestor.submit([event("feature_created", feature_id="watch-time-7d")])
    drain(ingestor)
    assert ingestor.graph.entity("aip://feature/featurestore/watch-time-7d") is not None
    assert ingestor.journal.findings(rejected=True) == []


def test_failing_source_keeps_the_work_for_later(ingestor):
    class Down:
        async def get(self, path, params=None):
            raise ConnectionError("source down")

    ingestor.sources.providers["registry"].client = Down()
    ingestor.submit([event("model_created", model_id="ranking-model")])
    result = drain(ingestor)
    assert result.retried == 1
    stats = ingestor.journal.stats()
    assert stats["queue_depth"] == 1 and stats["failing"] == 1
    assert stats["sources"]["registry"]["failing"] == 1


def test_reconcile_rereads_known_entities(ingestor, world):
    ingestor.submit([event("model_created", model_id="ranking-model")])
    drain(ingestor)
    world["registry"]["/api/v1/models/ranking-model"]["name"] = "Ranking model 2"  # event lost
    assert ingestor.reconcile() >= 1
    drain(ingestor)
    assert ingestor.graph.entity("aip://model/registry/ranking-model").name == "Ranking model 2"


def test_dead_letters_can_be_replayed(ingestor):
    ingestor.submit(['{"event_type": "model_created"}'])
    letters = ingestor.journal.dead_letters()
    assert len(letters) == 1
    result = ingestor.replay_dead_letters()
    assert result.accepted == 0  # still bad: dead-lettered again, the old one marked replayed
    assert len(ingestor.journal.dead_letters()) == 1
    assert ingestor.journal.dead_letters()[0].id != letters[0].id


def test_stubs_are_resolved_progressively_from_one_event(ingestor):
    ingestor.submit([event("model_instance_created", instance_id="ranking-model-v5-20XX0101")])
    drain(ingestor)
    graph = ingestor.graph
    run = graph.entity("aip://pipeline-run/orchestrator/train-weekly-ranking-20XX0101")
    assert run.state.state is HydrationState.HYDRATED
    # two hops away: the run's pipeline, the cell's A/B test, the owner's team and its parent
    for uri in (
        "aip://pipeline/orchestrator/weekly-ranking-trainer",
        "aip://ab-test/experimentation/12345",
        "aip://team/identity/personalization",
        "aip://team/identity/ml-platform",
    ):
        entity = graph.entity(uri)
        assert entity is not None and entity.state.state is HydrationState.HYDRATED, uri
        assert entity.state.last_enriched_at is not None


def test_reference_that_stays_404_becomes_a_dangling_reference(ingestor):
    ingestor.dangling_after = 2
    ingestor.submit(
        [event("dataset_version_created", dataset_id="viewing-history", version="2026-01-01")]
    )
    asyncio.run(ingestor.drain(wait=10))
    run = "aip://pipeline-run/orchestrator/daily-viewing-etl-20260101"  # not at the source
    assert ingestor.graph.entity(run) is None
    assert ingestor.graph.store.state(run).state is HydrationState.DELETED
    [finding] = [f for f in ingestor.journal.findings() if f.uri == run]
    assert finding.report["kind"] == "dangling-reference"
    assert finding.report["referencedBy"] == [
        "aip://dataset-version/datasets/viewing-history:2026-01-01"
    ]
    dangling = {
        f.uri for f in ingestor.journal.findings() if f.report.get("kind") == "dangling-reference"
    }
    assert run in dangling  # (so is playback-events, upstream of viewing-history)
    assert ingestor.journal.stats()["dangling_references"] == len(dangling)
    assert ingestor.journal.stats()["queue_depth"] == 0  # not a retry loop


def test_enrichment_pass_hydrates_stubs_left_by_an_earlier_run(ingestor):
    ingestor.enrich = False
    ingestor.submit([event("model_created", model_id="ranking-model")])
    drain(ingestor)
    stub = "aip://model/registry/ranking-model-v5-20XX0101"
    assert ingestor.graph.store.state(stub).state is HydrationState.REFERENCED
    assert ingestor.queue_enrichment() >= 1
    drain(ingestor)
    assert ingestor.graph.store.state(stub).state is HydrationState.HYDRATED
    assert ingestor.queue_enrichment(stale_after=3600) == len(
        list(ingestor.graph.entities(HydrationState.REFERENCED))
    )


PAYLOADS = st.lists(
    st.binary(max_size=80)
    | st.text(max_size=80)
    | st.text(st.characters(categories=["Cs", "Ll", "Nd"]), max_size=10)  # lone surrogates
    | st.sampled_from(["9" * 5000, "[" * 3000 + "]" * 3000, '"\\ud800"', "NaN", "\x00"])
    | st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(["event_type", "model_id", "event_id"]), inner)
        ),
        max_leaves=6,
    ),
    max_size=5,
)


def test_submit_never_stops_on_a_bad_payload(ingestor):
    journal = ingestor.journal

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(PAYLOADS)
    def check(payloads):
        letters = len(journal.dead_letters())
        result = ingestor.submit(payloads)
        assert result.accepted + len(result.rejected) == len(payloads)
        assert len(journal.dead_letters()) == letters + len(result.rejected)

    check()


def test_provider_that_keeps_raising_is_dead_lettered_after_max_attempts(ingestor):
    class Broken:
        async def get(self, path, params=None):
            raise KeyError("a field the provider expected")

    ingestor.max_attempts = 2
    ingestor.sources.providers["registry"].client = Broken()
    ingestor.submit([event("model_created", model_id="ranking-model")])
    asyncio.run(ingestor.drain(wait=10))
    stats = ingestor.journal.stats()
    assert (stats["queue_depth"], stats["failing"], stats["dead_letters"]) == (0, 0, 1)
    (letter,) = ingestor.journal.dead_letters()
    assert letter.kind == "work"
    assert letter.reason == (
        "gave up after 2 failed attempts: KeyError: KeyError('a field the provider expected')"
    )


def test_uri_too_long_for_a_url_is_never_hydrated(ingestor):
    """A stub's id comes from a source's document, not from an event's limits."""
    uri = "aip://model/registry/" + "x" * 5000
    ingestor.journal.enqueue([(uri, None)], "stub")
    asyncio.run(ingestor.drain(wait=10))
    assert sum(ingestor.clients["registry"].requests.values()) == 0
    (letter,) = ingestor.journal.dead_letters()
    assert letter.kind == "work" and json.loads(letter.payload)["uri"] == uri
    assert letter.reason.startswith(
        "the URI is 5021 characters, over the limit of 2048 (max_uri_length); not hydrated"
    )
    assert ingestor.journal.stats()["queue_depth"] == 0


def test_replayed_dead_letters_are_checked_against_the_same_limits(ingestor):
    too_long = json.dumps(event("model_created", model_id="x" * 2100))
    unknown = json.dumps({"event_type": "model_renamed", "model_id": "y" * 2500})
    assert len(ingestor.submit([too_long, unknown]).rejected) == 2
    ingestor.max_event_bytes = 2200  # lowered since: a replay is held to today's limits
    result = ingestor.replay_dead_letters()
    assert result.rejected == [
        (0, "the ids make a URI of 2121 characters, over the limit of 2048"),
        (1, f"event is {len(unknown)} bytes, over the limit of 2200"),
    ]


def test_dead_letters_of_an_older_journal_are_read_with_their_kind(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE deadletters (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "received_at TEXT NOT NULL, payload TEXT NOT NULL, reason TEXT NOT NULL, "
            "replayed_at TEXT);"
        )
        db.executemany(
            "INSERT INTO deadletters (received_at, payload, reason) VALUES ('t', ?, ?)",
            [('{"uri": "aip://x/y/z"}', "no source"), ("{not json", "not JSON")],
        )
    journal = Journal(path)
    assert [(d.kind, d.reason) for d in journal.dead_letters()] == [
        ("work", "no source"),
        ("event", "not JSON"),
    ]
    journal.close()


def test_entity_that_cannot_be_written_fails_alone_and_ends_in_dead_letters(ingestor, caplog):
    validate = ingestor.validator.validate

    def validate_or_trip(facts, *args, **kwargs):  # a document that trips a bug
        if facts.uri == "aip://model/registry/ranking-model":
            raise ZeroDivisionError("a bug this document trips")
        return validate(facts, *args, **kwargs)

    ingestor.validator.validate = validate_or_trip
    ingestor.max_attempts, ingestor.enrich = 2, False
    ingestor.submit(
        [
            event("model_created", model_id="ranking-model"),
            event("feature_created", feature_id="watch-time-7d"),
        ]
    )
    asyncio.run(ingestor.drain(wait=10))
    assert ingestor.graph.entity("aip://feature/featurestore/watch-time-7d") is not None
    assert ingestor.graph.entity("aip://model/registry/ranking-model") is None
    (letter,) = ingestor.journal.dead_letters()
    assert letter.reason == (
        "gave up after 2 failed attempts: the write failed: "
        "ZeroDivisionError: ZeroDivisionError('a bug this document trips')"
    )
    assert "writing aip://model/registry/ranking-model failed" in caplog.text


def test_worker_outlives_a_pass_that_fails(ingestor, caplog):
    due = ingestor.journal.due
    failures = iter([sqlite3.OperationalError("database is locked")])

    def due_or_fail(*args, **kwargs):
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return due(*args, **kwargs)

    ingestor.journal.due = due_or_fail
    ingestor.enrich = False
    ingestor.submit([event("model_created", model_id="ranking-model")])

    async def run():
        stop = asyncio.Event()
        worker = asyncio.create_task(ingestor.run(stop, idle=0.05))
        for _ in range(200):
            if ingestor.graph.entity("aip://model/registry/ranking-model") is not None:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await worker

    asyncio.run(run())
    assert ingestor.graph.entity("aip://model/registry/ranking-model") is not None
    assert "an ingestion pass failed" in caplog.text
