"""The Kafka consumer against a real broker (aiokafka), on the same interface as SQS.

Runs when a broker answers at ``LIFECYCLEGRAPH_TEST_KAFKA`` (default
``localhost:9092``); skipped, saying so, when none does. The offsets to commit are
checked without a broker (``offsets_to_commit``'s doctest).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid

import pytest

from lifecyclegraph import LifecycleGraph
from lifecyclegraph.core.config import Config, QueueConfig
from lifecyclegraph.core.errors import QueueError
from lifecyclegraph.ingest import Ingestor, Journal
from lifecyclegraph.ingest.queues import QueueConsumer, open_queue
from lifecyclegraph.ingest.queues.kafka import KafkaQueue
from lifecyclegraph.providers.sources import Sources

BROKER = os.environ.get("LIFECYCLEGRAPH_TEST_KAFKA", "localhost:9092")


def _reachable(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except (OSError, ValueError):
        return False


needs_broker = pytest.mark.skipif(
    not _reachable(BROKER),
    reason=f"no Kafka broker answers at {BROKER} (set LIFECYCLEGRAPH_TEST_KAFKA=host:port)",
)

EVENTS = [
    {"event_type": "ab_test_created", "test_id": "12345"},
    {"event_type": "model_created", "model_id": "ranking-model"},
    {"event_type": "user_created", "user_id": "alice"},
]


def _ingestor(tmp_path) -> Ingestor:
    """An ingestor that records events (nothing here hydrates them)."""
    config = Config.from_dict(
        {
            "sources": {
                p: {"url": f"http://127.0.0.1:9/{p}"}
                for p in ("registry", "experimentation", "identity")
            }
        }
    )
    return Ingestor(
        LifecycleGraph.in_memory(rules=False), Sources(config), Journal(tmp_path / "j.db")
    )


async def _topic_with(bodies: list[bytes]) -> str:
    from aiokafka import AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    topic = f"lg-events-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=BROKER)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=BROKER)
    await producer.start()
    try:
        for body in bodies:
            await producer.send_and_wait(topic, body)
    finally:
        await producer.stop()
    return topic


def _config(topic: str, group: str) -> QueueConfig:
    return QueueConfig(url=f"kafka://{BROKER}/{topic}", group_id=group, wait_seconds=5)


async def _drain(config: QueueConfig, ingestor) -> tuple[int, int]:
    queue = open_queue(config)
    try:
        await queue.open()
        result = await QueueConsumer(queue, ingestor).drain()
        return result.accepted, result.rejected
    finally:
        await queue.aclose()


@needs_broker
def test_kafka_events_are_recorded_and_their_offsets_committed(tmp_path):
    bodies = [json.dumps(e).encode() for e in EVENTS] + [b"{not json"]
    topic = asyncio.run(_topic_with(bodies))
    group = f"g-{uuid.uuid4().hex[:6]}"
    ingestor = _ingestor(tmp_path)

    assert asyncio.run(_drain(_config(topic, group), ingestor)) == (3, 1)
    (letter,) = ingestor.journal.dead_letters()
    assert letter.reason.startswith(f"kafka:{topic} message ")
    assert "not JSON" in letter.reason
    # committed: the group reads nothing again
    assert asyncio.run(_drain(_config(topic, group), ingestor)) == (0, 0)


@needs_broker
def test_kafka_messages_not_committed_are_read_again(tmp_path):
    topic = asyncio.run(_topic_with([json.dumps(e).encode() for e in EVENTS]))
    group = f"g-{uuid.uuid4().hex[:6]}"
    ingestor = _ingestor(tmp_path)

    async def read_without_commit() -> int:
        queue = KafkaQueue(_config(topic, group))
        try:
            await queue.open()
            got = []
            while len(got) < len(EVENTS):
                got += await queue.receive(5)
            ingestor.submit([m.body for m in got])  # recorded; then the consumer dies
            return len(got)
        finally:
            await queue.aclose()

    assert asyncio.run(read_without_commit()) == len(EVENTS)
    assert asyncio.run(_drain(_config(topic, group), ingestor)) == (len(EVENTS), 0)
    assert ingestor.journal.stats()["events"] == 2 * len(EVENTS)


@needs_broker
def test_a_missing_kafka_topic_is_an_error_naming_it():
    config = _config(f"never-{uuid.uuid4().hex[:6]}", "g")
    with pytest.raises(QueueError, match=r"the Kafka topic 'never-.*' does not exist"):
        asyncio.run(open_queue(config).open())


def test_an_unreachable_kafka_broker_is_an_error_naming_it():
    config = QueueConfig(url="kafka://127.0.0.1:9/events")
    with pytest.raises(QueueError, match=r"^kafka://127.0.0.1:9/events: no Kafka broker answers"):
        asyncio.run(open_queue(config).open())
