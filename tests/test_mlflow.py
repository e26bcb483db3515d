"""The MLflow provider: on the recorded samples, and against a real ``mlflow server``.

The samples (``../shared/samples/mlflow/``) are REST answers and webhook deliveries
recorded from MLflow 3; the end-to-end test starts ``mlflow server`` with a sqlite
backend, fills it with the MLflow client, and lets its registry webhooks drive
lifecyclegraph's ingestion over real HTTP. MLflow (server and client) runs from a
venv of its own (``tests/mlflow_venv.py``, the version pinned in
``tests/mlflow-requirements.txt``), never imported here: the client's calls are the
script ``tests/mlflow_fill.py``, run with that venv's python.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import mlflow_venv
import pytest

from lifecyclegraph import HydrationState, LifecycleGraph
from lifecyclegraph.core.config import Config
from lifecyclegraph.core.events import WebhookRejected
from lifecyclegraph.ingest import Journal
from lifecyclegraph.providers.mlflow import MlflowProvider
from lifecyclegraph.providers.mlflow.webhooks import events_of, sign, verify
from lifecyclegraph.providers.sources import Sources
from lifecyclegraph.server.app import create_app
from lifecyclegraph.server.service import Service
from lifecyclegraph.server.serving import ServerThread
from lifecyclegraph.validation import Validator

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "mlflow"
DELIVERIES = sorted((SAMPLES / "webhook-deliveries").glob("req-*.json"))
SECRET = "s3cret"
WRITE = "write-t0ken"
API = "/api/2.0/mlflow"
IDS = json.loads((SAMPLES / "_ids.json").read_text()) if SAMPLES.exists() else {}
MODEL = "rc-iris-classifier"

pytestmark = pytest.mark.skipif(not SAMPLES.exists(), reason="../shared/samples is missing")


# -- the recorded samples ------------------------------------------------------------------


@dataclass
class Fetched:
    status: int
    body: dict[str, Any] | None
    fetched_at: datetime = datetime(2026, 11, 27, tzinfo=UTC)


class SampleClient:
    """Serves the recorded answers by path and parameters, as the tracking server did."""

    def __init__(self) -> None:
        def load(name: str) -> dict[str, Any]:
            return json.loads((SAMPLES / name).read_text())

        run = load("runs-get.json")
        logged = load("logged-models-get.json")
        self.answers: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, Any]] = {
            ("registered-models/get", (("name", MODEL),)): load("registered-models-get.json"),
            ("model-versions/get", (("name", MODEL), ("version", "1"))): load(
                "model-versions-get-v1.json"
            ),
            ("model-versions/get", (("name", MODEL), ("version", "2"))): load(
                "model-versions-get-v2.json"
            ),
            ("runs/get", (("run_id", run["run"]["info"]["run_id"]),)): run,
            ("experiments/get", (("experiment_id", "1"),)): load("experiments-get.json"),
            (f"logged-models/{logged['model']['info']['model_id']}", ()): logged,
        }
        self.requests: list[str] = []

    async def get(self, path: str, params: dict[str, str] | None = None) -> Fetched:
        self.requests.append(path)
        key = (path.removeprefix(API + "/"), tuple(sorted((params or {}).items())))
        body = self.answers.get(key)
        return Fetched(200 if body else 404, body)


def sample_sources() -> Sources:
    config = Config.from_dict({"sources": {"mlflow": {"url": "http://mlflow.test"}}})
    return Sources(
        config,
        providers={"mlflow": MlflowProvider},
        client_factory=lambda platform, _: SampleClient(),
    )


def nquads(facts) -> str:
    lines = sorted(f"<{e.uri}> {p} {o} ." for e in facts.flatten() for p, o in e.pairs)
    return "\n".join(lines) + "\n"


RUN = IDS["runs"][1]["run_id"] if IDS else ""
LOGGED = IDS["runs"][1]["model_id"] if IDS else ""


@pytest.mark.parametrize(
    ("uri", "hint", "golden_name"),
    [
        (f"aip://model/mlflow/{MODEL}", None, "registered-model"),
        (f"aip://model/mlflow/{MODEL}:1", None, "model-version-1"),
        (f"aip://model/mlflow/{MODEL}:2", None, "model-version-2"),
        (f"aip://pipeline-run/mlflow/{RUN}", None, "run"),
        ("aip://pipeline/mlflow/1", None, "experiment"),
        (f"aip://logged-model/mlflow/{LOGGED}", None, "logged-model"),
    ],
)
def test_recorded_answer_normalizes_to_golden_facts_that_validate(uri, hint, golden_name, golden):
    sources = sample_sources()
    hydrated = asyncio.run(sources.hydrate(uri, hint))
    assert hydrated.facts is not None
    golden(f"mlflow/{golden_name}.nt", nquads(hydrated.facts))
    report = Validator.load().validate(hydrated.facts, reference_types=hydrated.references)
    assert report.conforms, report.summary()
    assert list(sources.reports["mlflow"].warnings) == []


def test_model_version_maps_aliases_stage_tags_run_and_logged_model():
    hydrated = asyncio.run(sample_sources().hydrate(f"aip://model/mlflow/{MODEL}:2"))
    values = {(p.value.rsplit("#", 1)[1], o.value) for p, o in hydrated.facts.pairs}
    assert ("alias", "champion") in values
    assert ("status", "LAUNCHED") in values  # the champion is the current instance
    assert ("tag", "validated::true") in values
    assert ("instanceOf", f"aip://model/mlflow/{MODEL}") in values
    assert ("producedByRun", f"aip://pipeline-run/mlflow/{RUN}") in values
    assert ("loggedModel", f"aip://logged-model/mlflow/{LOGGED}") in values
    v1 = asyncio.run(sample_sources().hydrate(f"aip://model/mlflow/{MODEL}:1"))
    assert ("status", "STAGED") in {(p.value.rsplit("#", 1)[1], o.value) for p, o in v1.facts.pairs}


def test_run_keeps_params_latest_metrics_user_and_input_datasets_as_parts():
    hydrated = asyncio.run(sample_sources().hydrate(f"aip://pipeline-run/mlflow/{RUN}"))
    values = {(p.value.rsplit("#", 1)[1], o.value) for p, o in hydrated.facts.pairs}
    assert {("param", "C=1.0"), ("param", "solver=lbfgs")} <= values
    assert {("metric", "accuracy=0.9"), ("metric", "loss=0.3")} <= values
    assert ("triggeredByName", "root") in values and ("status", "SUCCEEDED") in values
    assert ("runOf", "aip://pipeline/mlflow/1") in values
    read = {o for p, o in values if p == "readVersion"}
    assert read == {
        "aip://dataset-version/mlflow/iris-train:64becf55",
        "aip://dataset-version/mlflow/iris-eval:5fb7cda2",
    }
    parts = {f.uri for f in hydrated.facts.flatten()} - {hydrated.uri}
    assert parts == read | {"aip://dataset/mlflow/iris-train", "aip://dataset/mlflow/iris-eval"}


def test_missing_object_is_gone():
    hydrated = asyncio.run(sample_sources().hydrate(f"aip://model/mlflow/{MODEL}:7"))
    assert hydrated.facts is None


@pytest.mark.parametrize("path", DELIVERIES, ids=lambda p: p.stem)
def test_recorded_delivery_signature_verifies_and_names_its_objects(path):
    delivery = json.loads(path.read_text())
    body = json.dumps(delivery["body"]).encode()  # as MLflow serialized it
    headers = delivery["headers"]
    assert len(body) == int(headers["Content-Length"])
    verify(headers, body, SECRET, now=int(headers["X-MLflow-Timestamp"]))
    with pytest.raises(WebhookRejected, match="does not match") as refused:
        verify(headers, body.replace(b'"', b"'", 1), SECRET, now=int(headers["X-MLflow-Timestamp"]))
    assert refused.value.status == 403
    data = delivery["body"]["data"]
    events = events_of(delivery["body"])
    assert events and all(e["name"] == data["name"] for e in events)
    if "version" in data:
        assert events[0]["event_type"] == "mlflow_model_version_updated"
        assert events[0]["version"] == data["version"]
    else:
        assert [e["event_type"] for e in events] == ["mlflow_registered_model_updated"]


def test_stale_delivery_is_refused_even_with_its_genuine_signature():
    body = b'{"entity": "registered_model", "action": "created", "data": {"name": "m"}}'
    headers = sign(body, SECRET, "d-1", 1_700_000_000)
    with pytest.raises(WebhookRejected, match="over the tolerance of 300 s"):
        verify(headers, body, SECRET, now=1_700_000_000 + 301)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"[1]", "the body must be a JSON object"),
        (b'{"entity": "model_version", "action": "created"}', "data: missing"),
        (
            b'{"entity": "model_version", "action": "created", "data": {"name": "m"}}',
            "data.version: missing or not a string in a model_version delivery",
        ),
        (b'{"entity": "model_version", "action": "created", "data": {', "not JSON: line 1"),
    ],
)
def test_malformed_delivery_is_refused_with_what_is_wrong(body, says):
    provider = MlflowProvider.create(
        Config.from_dict(
            {"sources": {"mlflow": {"url": "http://m.test", "webhook_secret": SECRET}}}
        ).sources["mlflow"],
        SampleClient(),
    )
    now = int(time.time())
    with pytest.raises(WebhookRejected) as refused:
        provider.webhook_events(sign(body, SECRET, "d", now), body)
    assert refused.value.status == 400 and says in refused.value.reason


# -- a real mlflow server ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def mlflow_bin() -> Path:
    """The ``bin`` directory of the MLflow venv, made on first use (minutes, once)."""
    return mlflow_venv.ensure_venv()


def test_lifecyclegraph_imports_no_mlflow():
    """The provider speaks REST: importing it (and the app) loads no ``mlflow`` module,
    and ``mlflow`` is not installed beside lifecyclegraph."""
    code = (
        "import sys, lifecyclegraph.providers.mlflow, lifecyclegraph.server.app; "
        "import importlib.util as u; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'mlflow'), "
        "u.find_spec('mlflow') is None)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["[]", "True"], done.stdout


@pytest.fixture(scope="module")
def mlflow_server(mlflow_bin, tmp_path_factory):
    """``mlflow server`` on sqlite, webhooks allowed to private addresses (the test's)."""
    home = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
        "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
    }
    log = (home / "server.log").open("w")
    process = subprocess.Popen(
        [
            str(mlflow_bin / "mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{home / 'mlflow.db'}",
            "--artifacts-destination",
            str(home / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not start: {(home / 'server.log').read_text()}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="module")
def lifecyclegraph_server(mlflow_server, tmp_path_factory):
    config = Config.from_dict(
        {
            "sources": {"mlflow": {"url": mlflow_server, "webhook_secret": SECRET}},
            "search": {"enabled": False},
        }
    )
    journal = Journal(tmp_path_factory.mktemp("lg") / "ingest.sqlite")
    service = Service(config, LifecycleGraph.in_memory(), journal=journal)
    with ServerThread(create_app(service, write_tokens=[WRITE])) as server:
        yield service, server.url


def wait_for(check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def fill(mlflow_bin: Path, tracking_url: str, webhook_url: str) -> dict[str, str]:
    """Run ``tests/mlflow_fill.py`` with the MLflow venv's python: what it made."""
    arguments = {"tracking_url": tracking_url, "webhook_url": webhook_url, "secret": SECRET}
    script = Path(__file__).with_name("mlflow_fill.py")
    done = subprocess.run(
        [str(mlflow_bin / "python"), str(script), json.dumps(arguments)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{script.name} failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_registry_webhooks_drive_ingestion_from_a_real_mlflow_server(
    mlflow_bin, lifecyclegraph_server
):
    service, url = lifecyclegraph_server
    made = fill(mlflow_bin, service.config.sources["mlflow"].url, f"{url}/api/v1/webhooks/mlflow")
    run_id, experiment, version = made["run_id"], made["experiment_id"], made["version"]
    logged_model_id = made["logged_model_id"]

    graph = service.graph
    instance = f"aip://model/mlflow/lg-model:{version}"

    def launched():
        # every delivery of the burst processed: the alias (LAUNCHED) and the tag
        entity = graph.entity(instance)
        return (
            entity is not None
            and entity.get("status") == "LAUNCHED"
            and "validated::true" in entity.properties.get("lg:tag", ())
            and entity
        )

    entity = wait_for(launched)
    assert entity, f"{instance} never became LAUNCHED: {service.status()}"
    assert entity.get("alias") == "champion"
    assert "validated::true" in entity.properties["lg:tag"]
    model = wait_for(lambda: graph.entity("aip://model/mlflow/lg-model"))
    assert model.get("description") == "d"
    # the references were hydrated from the tracking server too (enrichment)
    run_uri = f"aip://pipeline-run/mlflow/{run_id}"
    hydrated = wait_for(
        lambda: (e := graph.entity(run_uri)) and e.state.state is HydrationState.HYDRATED and e
    )
    assert hydrated, service.status()
    assert hydrated.get("status") == "SUCCEEDED"
    assert hydrated.get("metric") == "accuracy=0.9" and hydrated.get("param") == "C=1.0"
    read = graph.entity("aip://dataset-version/mlflow/iris-train:64becf55")
    assert read is not None and read.get("location") == "s3://bucket/data/train.parquet"
    lm = wait_for(
        lambda: (
            (e := graph.entity(f"aip://logged-model/mlflow/{logged_model_id}"))
            and e.state.state is HydrationState.HYDRATED
            and e
        )
    )
    assert lm, service.status()
    experiment_entity = wait_for(
        lambda: (
            (e := graph.entity(f"aip://pipeline/mlflow/{experiment}"))
            and e.state.state is HydrationState.HYDRATED
            and e
        )
    )
    assert experiment_entity.get("name") == "lg-exp"
    # every delivery was accepted: nothing dead-lettered
    assert service.journal.dead_letters() == []


@pytest.mark.slow
def test_delivery_with_a_bad_signature_is_refused_with_403(lifecyclegraph_server):
    _, url = lifecyclegraph_server
    body = b'{"entity": "registered_model", "action": "created", "data": {"name": "m"}}'
    headers = sign(body, "not-the-secret", "d-1", int(time.time()))
    with httpx.Client(base_url=url) as client:
        refused = client.post("/api/v1/webhooks/mlflow", content=body, headers=headers)
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert "X-MLflow-Signature does not match" in refused.json()["detail"]
        unsigned = client.post("/api/v1/webhooks/mlflow", content=body)
        assert unsigned.status_code == 403
        assert "header is missing" in unsigned.json()["detail"]
        good = client.post(
            "/api/v1/webhooks/mlflow",
            content=body,
            headers=sign(body, SECRET, "d-2", int(time.time())),
        )
        assert good.status_code == 202 and good.json()["accepted"] == 1
        nobody = client.post("/api/v1/webhooks/kubeflow", content=body, headers=headers)
        assert nobody.status_code == 404
