"""OpenLineage: run events in through ``POST /api/v1/lineage``, folded into jobs, runs
and datasets; on the recorded samples, and with the real ``openlineage-python`` client
posting to a running server."""

from __future__ import annotations

import asyncio
import copy
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecyclegraph import HydrationState, LifecycleGraph
from lifecyclegraph.core.config import Config
from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.ingest import Journal
from lifecyclegraph.server.app import create_app
from lifecyclegraph.server.service import Service
from lifecyclegraph.server.serving import ServerThread
from lifecyclegraph.validation import Validator

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "openlineage"
WRITE, READ = "write-t0ken", "read-t0ken"
AUTH = {"Authorization": f"Bearer {WRITE}"}

pytestmark = pytest.mark.skipif(not SAMPLES.exists(), reason="../shared/samples is missing")


def sample(name: str) -> dict:
    return json.loads((SAMPLES / f"runevent-{name}.json").read_text())


START, COMPLETE = (sample("start"), sample("complete")) if SAMPLES.exists() else ({}, {})
RUN_ID = START.get("run", {}).get("runId", "")
RUN = f"aip://pipeline-run/openlineage/{RUN_ID}"
JOB = "aip://pipeline/openlineage/rc-pipelines%2Ftrain_iris_classifier"
TRAIN = "aip://dataset/openlineage/s3:%2F%2Fbucket%2Fdata%2Ftrain.parquet"
MODEL_OUT = (
    "aip://dataset/openlineage/mlflow:%2F%2F127.0.0.1:5055%2Fmodels%2Frc-iris-classifier%2F2"
)


def config(namespaces: dict[str, str] | None = None) -> Config:
    return Config.from_dict(
        {
            "sources": {"openlineage": {"namespaces": namespaces or {}}},
            "search": {"enabled": False},
        }
    )


def make_service(
    tmp_path, namespaces: dict[str, str] | None = None, rules: bool = False
) -> Service:
    graph = LifecycleGraph.in_memory(rules=rules)
    return Service(config(namespaces), graph, journal=Journal(tmp_path / "j.sqlite"))


def nquads(facts) -> str:
    lines = sorted(f"<{e.uri}> {p} {o} ." for e in facts.flatten() for p, o in e.pairs)
    return "\n".join(lines) + "\n"


def rel(entity, predicate: str) -> str | None:
    """The one entity ``predicate`` links ``entity`` to (asserted or inferred)."""
    targets = entity.related(f"lg:{predicate}")
    assert len(targets) <= 1, targets
    return targets[0] if targets else None


def fold(service: Service, uri: str, events: list[dict]):
    payloads = [json.dumps(e) for e in events]
    return asyncio.run(service.sources.fold(uri, payloads))


# -- the recorded samples ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "golden_name"),
    [(RUN, "run"), (JOB, "job"), (TRAIN, "dataset"), (MODEL_OUT, "output-dataset")],
)
def test_recorded_events_fold_to_golden_facts_that_validate(tmp_path, uri, golden_name, golden):
    service = make_service(tmp_path)
    hydrated = fold(service, uri, [START, COMPLETE])
    assert hydrated.facts is not None
    golden(f"openlineage/{golden_name}.nt", nquads(hydrated.facts))
    report = Validator.load().validate(hydrated.facts, reference_types=hydrated.references)
    assert report.conforms, report.summary()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.sampled_from(["start", "complete"]), min_size=2, max_size=6)
    .filter(lambda names: {"start", "complete"} <= set(names))
    .flatmap(st.permutations)
)
def test_order_and_repetition_of_events_do_not_change_the_state(tmp_path, names):
    service = make_service(tmp_path)
    events = [START if n == "start" else COMPLETE for n in names]
    for uri in (RUN, JOB, TRAIN, MODEL_OUT):
        expected = fold(service, uri, [START, COMPLETE]).facts
        assert fold(service, uri, events).facts == expected, (uri, names)


def test_samples_ingest_through_the_journal_with_their_mapping(tmp_path):
    service = make_service(tmp_path, {"s3://bucket": "datasets"})
    result = service.submit_lineage([COMPLETE, START])  # late START: same graph
    assert result.accepted == 2 and result.rejected == []
    asyncio.run(service.ingestor.drain())
    graph = service.graph
    run = graph.entity(RUN)
    assert run.state.state is HydrationState.HYDRATED
    assert run.get("status") == "SUCCEEDED"
    assert run.get("startedAt") == datetime(2026, 11, 27, 5, 36, 51, 773951, tzinfo=UTC)
    assert run.get("endedAt") == datetime(2026, 11, 27, 5, 36, 51, 779606, tzinfo=UTC)
    assert rel(run, "runOf") == JOB
    assert rel(run, "parentRun") == (
        "aip://pipeline-run/openlineage/a0d838a8-dd20-403a-9fd0-dde59338992a"
    )
    facets = {next(iter(json.loads(f))) for f in run.properties["lg:facet"]}
    assert facets == {"nominalTime", "parent", "tags"}
    job = graph.entity(JOB)
    assert job.get("description") == "Trains the iris classifier"
    assert job.get("namespace") == "rc-pipelines"
    # s3://bucket is the dataset platform's: the dataset is its, a reference to hydrate
    assert rel(job, "readsDataset") == "aip://dataset/datasets/data%2Ftrain.parquet"
    assert graph.entity(TRAIN) is None
    version = graph.entity(
        f"aip://dataset-version/openlineage/s3:%2F%2Fbucket%2Fdata%2Ftrain.parquet:{RUN_ID}"
    )
    assert rel(version, "versionOf") == "aip://dataset/datasets/data%2Ftrain.parquet"
    assert version.properties["lg:schemaColumn"] == ["x1: double", "y: long"]
    assert graph.entity(MODEL_OUT).get("namespace") == "mlflow://127.0.0.1:5055"
    # durable: both events are in the journal, under each object they concern
    assert len(service.journal.payloads(RUN)) == 2
    assert len(service.journal.payloads(JOB)) == 2


def test_namespace_mapped_to_something_not_a_platform_id_is_a_config_error():
    with pytest.raises(ConfigError, match=r"sources\.openlineage\.namespaces.*'S3 Bucket'"):
        config({"s3://bucket": "S3 Bucket"})


# -- over HTTP -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("openlineage")
    service = make_service(tmp, {"s3://warehouse": "datasets"}, rules=True)
    app = create_app(service, write_tokens=[WRITE])
    app.state.guard.read = [READ.encode()]
    with ServerThread(app) as server:
        yield service, server.url


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server[1], timeout=30) as client:
        yield client


def wait_for(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_openlineage_python_client_run_events_become_runs_jobs_and_lineage(server):
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import (
        InputDataset,
        Job,
        OutputDataset,
        Run,
        RunEvent,
        RunState,
    )
    from openlineage.client.facet_v2 import (
        documentation_job,
        output_statistics_output_dataset,
        parent_run,
        schema_dataset,
    )
    from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

    service, url = server
    transport = HttpTransport(
        HttpConfig(url=url, auth=ApiKeyTokenProvider({"apiKey": WRITE}), timeout=30)
    )
    emitter = OpenLineageClient(transport=transport)
    parent_id, run_id = str(uuid.uuid4()), str(uuid.uuid4())
    now = datetime.now(UTC)
    job = Job(
        namespace="etl",
        name="daily_viewing",
        facets={"documentation": documentation_job.DocumentationJobFacet("Builds viewing history")},
    )
    parent = parent_run.ParentRunFacet(
        run=parent_run.Run(runId=parent_id), job=parent_run.Job(namespace="etl", name="nightly")
    )
    schema = schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(name="member_id", type="string")]
    )
    inputs = [InputDataset(namespace="s3://warehouse", name="playback-events")]
    stats = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(rowCount=1200)
    outputs = [
        OutputDataset(
            namespace="postgres://db:5432",
            name="analytics.viewing_history",
            facets={"schema": schema},
            outputFacets={"outputStatistics": stats},
        )
    ]
    for state, at in ((RunState.START, now), (RunState.COMPLETE, now + timedelta(seconds=5))):
        emitter.emit(
            RunEvent(
                eventType=state,
                eventTime=at.isoformat(),
                run=Run(runId=run_id, facets={"parent": parent}),
                job=job,
                producer="https://example.org/etl",
                inputs=inputs,
                outputs=outputs if state == RunState.COMPLETE else [],
            )
        )
    graph = service.graph
    run_uri = f"aip://pipeline-run/openlineage/{run_id}"
    run = wait_for(lambda: (e := graph.entity(run_uri)) and e.get("status") == "SUCCEEDED" and e)
    assert run, service.status()
    assert rel(run, "parentRun") == f"aip://pipeline-run/openlineage/{parent_id}"
    assert rel(run, "runOf") == "aip://pipeline/openlineage/etl%2Fdaily_viewing"
    assert graph.entity(rel(run, "runOf")).get("description") == "Builds viewing history"
    out = "aip://dataset/openlineage/postgres:%2F%2Fdb:5432%2Fanalytics.viewing_history"
    written = f"aip://dataset-version/openlineage/postgres:%2F%2Fdb:5432%2Fanalytics.viewing_history:{run_id}"
    assert rel(run, "wroteVersion") == written
    version = graph.entity(written)
    assert version.get("rowCount") == 1200 and rel(version, "producedByRun") == run_uri
    assert rel(version, "versionOf") == out
    assert wait_for(
        lambda: graph.entity(out) and graph.entity(out).state.state is HydrationState.HYDRATED
    )
    # lineage: the output's upstream reaches the input, mapped to the dataset platform
    lineage = httpx.get(
        f"{url}/api/v1/lineage",
        params={"uri": written, "direction": "upstream", "depth": 10},
        headers={"Authorization": f"Bearer {READ}"},
    )
    assert lineage.status_code == 200, lineage.text
    assert "aip://dataset/datasets/playback-events" in lineage.text


def test_gzip_compressed_events_of_the_real_client_are_taken(server):
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
    from openlineage.client.transport.http import (
        ApiKeyTokenProvider,
        HttpCompression,
        HttpConfig,
        HttpTransport,
    )

    service, url = server
    config = HttpConfig(
        url=url, auth=ApiKeyTokenProvider({"apiKey": WRITE}), compression=HttpCompression.GZIP
    )
    run_id = str(uuid.uuid4())
    OpenLineageClient(transport=HttpTransport(config)).emit(
        RunEvent(
            eventType=RunState.FAIL,
            eventTime=datetime.now(UTC).isoformat(),
            run=Run(runId=run_id),
            job=Job(namespace="etl", name="gzipped"),
            producer="https://example.org/etl",
        )
    )
    uri = f"aip://pipeline-run/openlineage/{run_id}"
    run = wait_for(lambda: (e := service.graph.entity(uri)) and e.get("status") == "FAILED" and e)
    assert run, service.status()


def test_gzip_body_is_inflated_within_the_request_limit(client):
    import gzip

    bomb = gzip.compress(b"[" + b" " * (11 << 20) + b"]")  # over 10 MiB inflated
    gz = {**AUTH, "Content-Encoding": "gzip", "Content-Type": "application/json"}
    refused = client.post("/api/v1/lineage", content=bomb, headers=gz)
    assert refused.status_code == 413, refused.text
    assert "inflates to over the limit" in refused.json()["detail"]
    broken = client.post("/api/v1/lineage", content=b"not gzip", headers=gz)
    assert broken.status_code == 400 and "not gzip data" in broken.json()["detail"]
    other = {**gz, "Content-Encoding": "br"}
    assert client.post("/api/v1/lineage", content=b"{}", headers=other).status_code == 415


@pytest.mark.parametrize(
    ("mutate", "says"),
    [
        (lambda e: e.pop("eventTime"), "eventTime: missing, or not a non-empty string"),
        (lambda e: e.update(eventTime="yesterday"), "eventTime: not an RFC 3339 date-time"),
        (lambda e: e["run"].pop("runId"), "run.runId: missing, or not a non-empty string"),
        (lambda e: e["job"].update(name=7), "job.name: missing, or not a non-empty string"),
        (lambda e: e.update(eventType="DONE"), "eventType: 'DONE' is not one of START"),
        (lambda e: e["inputs"][0].pop("namespace"), "inputs[0].namespace: missing"),
        (lambda e: e.update(outputs={}), "outputs: not an array"),
        (lambda e: e["run"].update(facets=[]), "run.facets: missing, or not an object"),
    ],
)
def test_bad_run_event_is_refused_naming_what_and_where(client, mutate, says):
    event = copy.deepcopy(START)
    mutate(event)
    refused = client.post("/api/v1/lineage", json=event, headers=AUTH)
    assert refused.status_code == 400, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert says in refused.json()["detail"]


def test_event_naming_a_uri_over_the_length_limit_is_refused(tmp_path):
    service = make_service(tmp_path)
    event = copy.deepcopy(START)
    event["job"]["name"] = "j" * 3000
    result = service.submit_lineage([event])
    assert result.accepted == 0
    assert "over the limit of 2048 (max_uri_length)" in result.rejected[0][1]
    assert service.journal.stats()["events_pending"] == 0


def test_array_takes_the_good_events_and_lists_the_bad_by_index(client, server):
    bad = copy.deepcopy(START)
    del bad["job"]
    answer = client.post("/api/v1/lineage", json=[START, bad], headers=AUTH)
    assert answer.status_code == 202, answer.text
    assert answer.json() == {
        "accepted": 1,
        "rejected": [{"index": 1, "reason": "job: missing, or not an object"}],
    }


def test_lineage_post_needs_a_write_token_and_get_still_answers_queries(client):
    assert client.post("/api/v1/lineage", json=START).status_code == 401
    read = {"Authorization": f"Bearer {READ}"}
    assert client.post("/api/v1/lineage", json=START, headers=read).status_code == 403
    queried = client.get("/api/v1/lineage", params={"uri": RUN}, headers=read)
    assert queried.status_code in (200, 404), queried.text


def test_lineage_post_without_an_openlineage_source_is_404_saying_how_to_enable_it(tmp_path):
    config = Config.from_dict({"search": {"enabled": False}})
    service = Service(config, LifecycleGraph.in_memory(), journal=Journal(tmp_path / "j.db"))
    with ServerThread(create_app(service, write_tokens=[WRITE])) as server:
        refused = httpx.post(f"{server.url}/api/v1/lineage", json=START, headers=AUTH)
    assert refused.status_code == 404
    assert "[sources.openlineage]" in refused.json()["detail"]


def test_events_fold_the_same_with_hydration_in_a_child_process(tmp_path):
    """Pushed objects are folded beside the child that hydrates the pulled ones."""

    def ingest(process: bool) -> dict[str, dict]:
        config = Config.from_dict(
            {
                "ingest": {"hydration_process": process},
                "sources": {"openlineage": {}},
                "search": {"enabled": False},
            }
        )
        journal = Journal(tmp_path / f"{process}.sqlite")
        service = Service(config, LifecycleGraph.in_memory(), journal=journal)
        assert (service.hydrator is not None) is process
        try:
            service.submit_lineage([START, COMPLETE])
            asyncio.run(service.ingestor.drain(wait=10))
            return {uri: service.graph.entity(uri).properties for uri in (RUN, JOB, TRAIN)}
        finally:
            if service.hydrator is not None:
                service.hydrator.close()

    apart = ingest(True)
    assert apart[RUN]["lg:status"] == ["SUCCEEDED"]
    assert apart == ingest(False)
