"""The SQS consumer, end to end: real boto3 over real HTTP to moto's server, events
hydrated from the sandbox's systems over HTTP into a real graph."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import httpx
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.server import ThreadedMotoServer
from moto_credentials import use_moto_credentials

from lifecyclegraph import HydrationState, LifecycleGraph
from lifecyclegraph.cli import main
from lifecyclegraph.core.config import Config, QueueConfig
from lifecyclegraph.core.errors import QueueError
from lifecyclegraph.ingest import Journal
from lifecyclegraph.ingest.queues import QueueConsumer, open_queue
from lifecyclegraph.ingest.queues.sqs import SqsQueue
from lifecyclegraph.sandbox.server import run_in_thread
from lifecyclegraph.sandbox.world import SYSTEMS
from lifecyclegraph.server.app import create_app
from lifecyclegraph.server.service import Service
from lifecyclegraph.server.serving import ServerThread

REGION = "us-east-1"


@pytest.fixture(scope="module")
def moto_url():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch, tmp_path):
    """Credentials moto takes (it checks none); nothing read from the user's ~/.aws."""
    use_moto_credentials(monkeypatch, tmp_path, REGION)


@pytest.fixture(scope="module")
def running_sandbox():
    with run_in_thread() as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(running_sandbox):
    running_sandbox.reset()
    return running_sandbox


def _sqs(moto_url):
    return boto3.client("sqs", endpoint_url=moto_url, region_name=REGION)


def _new_queue(moto_url) -> str:
    name = f"events-{uuid.uuid4().hex[:10]}"
    _sqs(moto_url).create_queue(QueueName=name)
    return name


def _send(moto_url, name: str, bodies) -> list[str]:
    sqs = _sqs(moto_url)
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return [sqs.send_message(QueueUrl=url, MessageBody=body)["MessageId"] for body in bodies]


def _left(moto_url, name: str) -> int:
    """Messages still in the queue, visible or in flight."""
    sqs = _sqs(moto_url)
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def _queue_table(moto_url, name: str, **keys) -> dict:
    table = {"url": f"sqs://{name}", "endpoint_url": moto_url, "region": REGION}
    return table | {"wait_seconds": 1, "visibility_timeout": 1, **keys}


def _service(sandbox, tmp_path, queues=(), **ingest) -> Service:
    config = Config.from_dict(
        {
            "ingest": {"reconcile_interval": 0, "enrich_interval": 0, **ingest},
            "server": {"query_workers": 1},
            "sources": {system: {"url": sandbox.base_url(system)} for system in SYSTEMS},
            "queues": list(queues),
        }
    )
    journal = Journal(tmp_path / f"journal-{uuid.uuid4().hex[:6]}.db")
    return Service(config, LifecycleGraph.in_memory(rules=False), journal=journal)


def _consumer(service: Service, moto_url, name: str, **keys) -> QueueConsumer:
    config = QueueConfig(**_queue_table(moto_url, name, **keys))
    return QueueConsumer(open_queue(config), service.ingestor, config.max_receives)


def _graph(service: Service) -> set[tuple[str, str, str, str]]:
    """Every live entity's state and facts (what a user would query)."""
    graph = service.graph
    facts = set()
    for uri in graph.entities():
        state = graph.store.state(uri)
        facts.add((uri, "state", state.state.value, ""))
        if state.state is HydrationState.DELETED:
            continue
        for p, o in graph.store.snapshot_pairs(state.current_snapshot):
            facts.add((uri, p.value, str(o), ""))
    return facts


def _events(sandbox, count: int | None = None) -> list[dict]:
    events = sandbox.world.seed_events(seed=1, emitted_at="2026-01-02T00:00:00Z")
    return events if count is None else events[:count]


def _run(service: Service, *steps):
    """Run the steps (coroutine functions) in one event loop, then close the sources'
    clients there; return the last step's result."""

    async def run():
        try:
            result = None
            for step in steps:
                result = await step()
            return result
        finally:
            await service.sources.aclose()

    return asyncio.run(run())


def _close(service: Service) -> None:
    service.journal.close()
    service.graph.close()


def _direct(sandbox, tmp_path, events) -> set:
    """The graph the same events make when submitted directly."""
    service = _service(sandbox, tmp_path)
    try:
        service.submit_events(events)
        _run(service, service.ingestor.drain)
        return _graph(service)
    finally:
        _close(service)


@pytest.mark.slow
def test_events_on_a_queue_become_entities_and_their_messages_are_deleted(
    sandbox, tmp_path, moto_url
):
    events = _events(sandbox)
    name = _new_queue(moto_url)
    # one event per message, and a message holding an array of events
    singles, grouped = events[:-5], events[-5:]
    _send(moto_url, name, [json.dumps(e) for e in singles] + [json.dumps(grouped)])
    service = _service(sandbox, tmp_path)
    consumer = _consumer(service, moto_url, name)

    consumed = asyncio.run(consumer.drain())

    assert consumed.accepted == len(events) and consumed.rejected == 0
    assert consumed.acked == len(singles) + 1
    assert _left(moto_url, name) == 0
    _run(service, service.ingestor.drain)
    for event in events:
        uri = str(service.ingestor.kinds[event["event_type"]].uri(event))
        assert service.graph.state(uri).state is HydrationState.HYDRATED, uri
    assert _graph(service) == _direct(sandbox, tmp_path, events)


def test_a_crash_between_accept_and_delete_redelivers_and_converges(sandbox, tmp_path, moto_url):
    events = _events(sandbox, 12)
    name = _new_queue(moto_url)
    _send(moto_url, name, [json.dumps(e) for e in events])
    service = _service(sandbox, tmp_path)

    class CrashBeforeDelete(SqsQueue):
        """The process dies after the journal committed, before the delete reached SQS."""

        async def ack(self, messages):
            raise SystemExit("killed before the delete")

    config = QueueConfig(**_queue_table(moto_url, name))
    crashing = QueueConsumer(CrashBeforeDelete(config), service.ingestor, 5)
    with pytest.raises(SystemExit):
        asyncio.run(crashing.consume_once())
    first = service.journal.stats()["events"]
    assert first > 0  # accepted, durably, and not deleted
    time.sleep(1.5)  # the visibility timeout passes: the queue delivers them again

    redelivered = asyncio.run(_consumer(service, moto_url, name).drain())

    assert redelivered.accepted == len(events)  # all of them, the first batch again too
    assert _left(moto_url, name) == 0
    assert service.journal.stats()["events"] == first + len(events)
    _run(service, service.ingestor.drain)
    assert _graph(service) == _direct(sandbox, tmp_path, events)


def test_poison_messages_end_in_dead_letters_and_stop_coming_back(sandbox, tmp_path, moto_url):
    name = _new_queue(moto_url)
    good = {"event_type": "ab_test_created", "test_id": "12345"}
    bad, unknown = '{"event_type": "model_created"', {"event_type": "nope", "x": "1"}
    ids = _send(moto_url, name, [bad, json.dumps(unknown), json.dumps([good, {"a": 1}])])
    service = _service(sandbox, tmp_path)

    consumed = asyncio.run(_consumer(service, moto_url, name).drain())

    assert (consumed.accepted, consumed.rejected, consumed.acked) == (1, 3, 3)
    assert _left(moto_url, name) == 0
    letters = {d.reason.split(": ", 1)[0]: d for d in service.journal.dead_letters()}
    queue = f"sqs:{name}"
    assert set(letters) == {
        f"{queue} message {ids[0]}",
        f"{queue} message {ids[1]}",
        f"{queue} message {ids[2]}[1]",
    }
    assert "not JSON: line 1 column" in letters[f"{queue} message {ids[0]}"].reason
    assert letters[f"{queue} message {ids[0]}"].payload == bad
    assert "unknown event type 'nope'" in letters[f"{queue} message {ids[1]}"].reason


def test_a_message_received_more_than_max_receives_times_is_dead_lettered(
    sandbox, tmp_path, moto_url
):
    name = _new_queue(moto_url)
    event = {"event_type": "ab_test_created", "test_id": "12345"}
    (message_id,) = _send(moto_url, name, [json.dumps(event)])
    sqs = _sqs(moto_url)
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    for _ in range(2):  # taken twice by consumers that never acknowledged it
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
        handle = got[0]["ReceiptHandle"]
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    service = _service(sandbox, tmp_path)

    consumed = asyncio.run(_consumer(service, moto_url, name, max_receives=2).drain())

    assert (consumed.accepted, consumed.poison, consumed.acked) == (0, 1, 1)
    assert _left(moto_url, name) == 0
    (letter,) = service.journal.dead_letters()
    assert letter.reason == (
        f"sqs:{name} message {message_id}: received 3 times, over max_receives 2 "
        "(never acknowledged: its batch kept failing)"
    )
    # replayed, it is an event like any other
    assert service.ingestor.replay_dead_letters().accepted == 1


def test_a_missing_queue_is_an_error_naming_it(tmp_path, moto_url):
    queue = open_queue(QueueConfig(**_queue_table(moto_url, "no-such-queue")))
    with pytest.raises(QueueError) as raised:
        asyncio.run(queue.open())
    assert str(raised.value) == (
        f"sqs://no-such-queue: SQS queue 'no-such-queue' (region {REGION}, endpoint "
        f"{moto_url}) does not exist (create it, or fix url, region, endpoint_url)"
    )


def test_missing_credentials_are_an_error_naming_the_queue(monkeypatch, moto_url):
    name = _new_queue(moto_url)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    queue = open_queue(QueueConfig(**_queue_table(moto_url, name)))
    with pytest.raises(QueueError, match=rf"^sqs://{name}: no AWS credentials for SQS queue"):
        asyncio.run(queue.open())


def test_an_unreachable_endpoint_is_an_error_naming_it():
    config = QueueConfig(url="sqs://events", endpoint_url="http://127.0.0.1:9", region=REGION)
    with pytest.raises(QueueError, match=r"^sqs://events: SQS queue 'events' .*127\.0\.0\.1:9"):
        asyncio.run(open_queue(config).open())


@pytest.mark.slow
@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_order_and_duplication_of_messages_ends_as_direct_submission(
    sandbox, tmp_path, moto_url, data
):
    events = _events(sandbox, 15)
    picked = data.draw(st.lists(st.sampled_from(range(len(events))), min_size=1, max_size=25))
    name = _new_queue(moto_url)
    _send(moto_url, name, [json.dumps(events[i]) for i in picked])
    service = _service(sandbox, tmp_path)
    try:
        asyncio.run(_consumer(service, moto_url, name).drain())
        _run(service, service.ingestor.drain)
        assert _left(moto_url, name) == 0
        wanted = [events[i] for i in sorted(set(picked))]
        assert _graph(service) == _direct(sandbox, tmp_path, wanted)
    finally:
        _close(service)


def test_serve_consumes_its_queues_in_the_background(sandbox, tmp_path, moto_url):
    name = _new_queue(moto_url)
    service = _service(sandbox, tmp_path, queues=[_queue_table(moto_url, name)])
    test = "aip://ab-test/experimentation/12345"
    with ServerThread(create_app(service, write_tokens=["queue-token"])) as server:
        _send(moto_url, name, [json.dumps({"event_type": "ab_test_created", "test_id": "12345"})])
        deadline = time.monotonic() + 60
        while service.graph.state(test) is None or _left(moto_url, name):
            assert time.monotonic() < deadline, "the queue was not consumed"
            time.sleep(0.2)
        status = httpx.get(f"{server.url}/api/v1/status").json()
    assert status["queues"][f"sqs:{name}"] | {"last_error": None} == {
        "messages": 1,
        "accepted": 1,
        "rejected": 0,
        "poison": 0,
        "acked": 1,
        "last_error": None,
    }


def test_serve_keeps_running_when_its_queue_is_missing(sandbox, tmp_path, moto_url):
    table = _queue_table(moto_url, "never-created")
    service = _service(sandbox, tmp_path, queues=[table])
    with ServerThread(create_app(service, write_tokens=["queue-token"])) as server:
        deadline = time.monotonic() + 30
        while not service.consumers or service.consumers[0].last_error is None:
            assert time.monotonic() < deadline, "no error was reported"
            time.sleep(0.1)
        status = httpx.get(f"{server.url}/api/v1/status")
    assert status.status_code == 200
    assert "SQS queue 'never-created'" in status.json()["queues"]["sqs:never-created"]["last_error"]


def _config_file(tmp_path, sandbox, moto_url, name) -> str:
    lines = [f'[store]\npath = "{tmp_path / "store"}"']
    lines += [f'[sources.{s}]\nurl = "{sandbox.base_url(s)}"' for s in SYSTEMS]
    lines.append(f'[[queues]]\nurl = "sqs://{name}"\nendpoint_url = "{moto_url}"')
    path = tmp_path / "lifecyclegraph.toml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_ingest_from_queue_consumes_it_and_names_the_bad_messages(sandbox, tmp_path, moto_url):
    name = _new_queue(moto_url)
    events = [{"event_type": "ab_test_created", "test_id": "12345"}, _events(sandbox, 1)[0]]
    ids = _send(moto_url, name, [*map(json.dumps, events), "{oops"])
    config = _config_file(tmp_path, sandbox, moto_url, name)

    result = CliRunner().invoke(
        main, ["--config", config, "ingest", "--from-queue", f"sqs://{name}", "--wait", "1"]
    )

    assert result.exit_code == 1, result.output
    assert f"accepted 2 events, rejected 1 (3 messages from sqs:{name})" in result.output
    assert f"rejected: sqs:{name} message {ids[2]}: not JSON: line 1 column 2" in result.output
    assert "queue depth 0, failing 0" in result.output
    assert _left(moto_url, name) == 0
    del result  # its traceback holds the command's frame, and so the store's lock
    gc.collect()
    shown = CliRunner().invoke(
        main, ["--config", config, "entity", "aip://ab-test/experimentation/12345"]
    )
    assert shown.exit_code == 0 and "hydrated" in shown.output, shown.output


def test_ingest_from_a_missing_queue_exits_2_naming_it(sandbox, tmp_path, moto_url):
    config = _config_file(tmp_path, sandbox, moto_url, "not-there")
    result = CliRunner().invoke(
        main, ["--config", config, "ingest", "--from-queue", "sqs://not-there", "--wait", "1"]
    )
    assert result.exit_code == 2
    assert "SQS queue 'not-there' (region us-east-1" in result.output
    assert "does not exist" in result.output and "Traceback" not in result.output


@pytest.fixture
def checking_moto(tmp_path):
    """A ``moto_server`` process that checks credentials (INITIAL_NO_AUTH_ACTION_COUNT=0):
    an access key it never issued is refused, as AWS refuses it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"}
    command = [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1"]
    log = (tmp_path / "moto.log").open("wb")
    process = subprocess.Popen([*command, "-p", str(port)], env=environment, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, (tmp_path / "moto.log").read_text()
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def test_refused_credentials_are_an_error_naming_the_queue(monkeypatch, checking_moto):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIANOTISSUED0000000")
    queue = open_queue(QueueConfig(**_queue_table(checking_moto, "events")))
    with pytest.raises(QueueError) as raised:
        asyncio.run(queue.open())
    assert str(raised.value) == (
        f"sqs://events: the AWS credentials were refused by SQS queue 'events' (region "
        f"{REGION}, endpoint {checking_moto}): InvalidClientTokenId: The security token "
        "included in the request is invalid."
    )


def test_a_batch_the_journal_could_not_commit_is_not_deleted(sandbox, tmp_path, moto_url):
    name = _new_queue(moto_url)
    _send(moto_url, name, [json.dumps(_events(sandbox, 1)[0])])
    broken = _service(sandbox, tmp_path)
    broken.journal.close()  # every commit now fails

    with pytest.raises(sqlite3.ProgrammingError):
        asyncio.run(_consumer(broken, moto_url, name).consume_once())

    assert _left(moto_url, name) == 1  # in flight, not deleted
    time.sleep(1.5)  # its visibility timeout passes
    service = _service(sandbox, tmp_path)
    consumer = _consumer(service, moto_url, name)
    consumed = asyncio.run(consumer.drain())
    assert (consumed.accepted, consumed.acked) == (1, 1)
    assert _left(moto_url, name) == 0
    assert service.journal.stats()["events"] == 1


def test_after_a_failed_batch_serve_connects_again_and_records_it_once_redelivered(
    sandbox, tmp_path, moto_url
):
    """A batch the journal could not commit is not acknowledged, and the consumer
    connects again before the next receive: a transport whose read position moved past
    the batch (Kafka's) starts again from the last acknowledgement. The totals of
    status keep counts, never the reasons of every dead-lettered event."""
    name = _new_queue(moto_url)
    _send(moto_url, name, [json.dumps(_events(sandbox, 1)[0]), "not json"])
    service = _service(sandbox, tmp_path)
    opened = []

    class Counting(SqsQueue):
        async def open(self):
            opened.append(time.monotonic())
            await super().open()

    submit, failures = service.ingestor.submit, []

    def fails_once(payloads, where=None):
        if not failures:
            failures.append(where)
            raise sqlite3.OperationalError("database is locked")
        return submit(payloads, where)

    service.ingestor.submit = fails_once
    queue = Counting(QueueConfig(**_queue_table(moto_url, name)))
    consumer = QueueConsumer(queue, service.ingestor)

    async def run_until_recorded():
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        deadline = time.monotonic() + 30
        while consumer.total.acked < 2:
            assert time.monotonic() < deadline, f"not recorded: {consumer.stats()}"
            await asyncio.sleep(0.1)
        stop.set()
        await task

    asyncio.run(run_until_recorded())
    assert failures and len(opened) >= 2  # connected again after the failure
    assert (consumer.total.accepted, consumer.total.rejected) == (1, 1)
    assert consumer.total.reasons == []  # the reason is in the dead letters
    assert service.journal.stats()["events"] == 1
    assert _left(moto_url, name) == 0
