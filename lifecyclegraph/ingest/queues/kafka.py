"""Kafka as a :class:`~lifecyclegraph.ingest.queues.base.Queue` (aiokafka, the optional
extra ``[kafka]``).

A consumer of the group ``group_id`` reads the topic with automatic commits off; a
batch's offsets are committed only after its events are committed to the journal, so
a consumer that dies before that reads the batch again (at least once). Kafka does not
count deliveries: ``max_receives`` never applies, and a message is dead-lettered only
for what it holds (not JSON, invalid events).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lifecyclegraph.core.config import QueueConfig
from lifecyclegraph.core.errors import QueueError
from lifecyclegraph.ingest.queues.base import Message, Queue

__all__ = ["KafkaQueue", "offsets_to_commit"]


def offsets_to_commit(messages: Sequence[Message]) -> dict[tuple[str, int], int]:
    """The offset to commit per ``(topic, partition)``: one past the last message of
    the batch there (Kafka's committed offset is the next one to read).

    >>> batch = [Message("0:7", b"", None, ("t", 0, 7)), Message("0:8", b"", None, ("t", 0, 8)),
    ...          Message("1:3", b"", None, ("t", 1, 3))]
    >>> offsets_to_commit(batch)
    {('t', 0): 9, ('t', 1): 4}
    """
    offsets: dict[tuple[str, int], int] = {}
    for message in messages:
        topic, partition, offset = message.handle
        key = (topic, partition)
        offsets[key] = max(offsets.get(key, 0), offset + 1)
    return offsets


class KafkaQueue(Queue):
    """One Kafka topic, read by a consumer group.

    Args:
        config: its ``[[queues]]`` table (``url = "kafka://<host:port>/<topic>"``).

    Raises:
        QueueError: aiokafka is not installed (``pip install 'lifecyclegraph[kafka]'``).
    """

    def __init__(self, config: QueueConfig) -> None:
        try:
            import aiokafka
        except ImportError as error:
            raise QueueError(
                f"{config.url}: Kafka needs aiokafka: pip install 'lifecyclegraph[kafka]'",
                config.url,
            ) from error
        self._aiokafka = aiokafka
        self.config = config
        self.name = config.name
        hosts, _, self.topic = config.url.partition("://")[2].partition("/")
        self.servers = hosts.split(",")
        self._consumer: Any = None

    async def open(self) -> None:
        """Join the group and check that the topic exists.

        Raises:
            QueueError: no broker answers, or the topic does not exist.
        """
        if self._consumer is not None:
            return
        from aiokafka.errors import KafkaError

        consumer = self._aiokafka.AIOKafkaConsumer(
            bootstrap_servers=self.servers,
            group_id=self.config.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.config.batch,
        )
        try:
            await consumer.start()
        except KafkaError as error:
            await consumer.stop()
            raise QueueError(
                f"{self.config.url}: no Kafka broker answers at {','.join(self.servers)}: "
                f"{type(error).__name__}: {error}",
                self.config.url,
            ) from error
        try:
            topics = await consumer.topics()
        except BaseException:
            await consumer.stop()  # started: its connections and heartbeat go with it
            raise
        if self.topic not in topics:
            await consumer.stop()
            raise QueueError(
                f"{self.config.url}: the Kafka topic {self.topic!r} does not exist at "
                f"{','.join(self.servers)} (create it, or fix url)",
                self.config.url,
            )
        consumer.subscribe([self.topic])
        self._consumer = consumer

    async def receive(self, wait: float | None = None) -> list[Message]:
        await self.open()
        seconds = self.config.wait_seconds if wait is None else wait
        batches = await self._consumer.getmany(
            timeout_ms=int(seconds * 1000), max_records=self.config.batch
        )
        return [
            Message(
                id=f"{record.partition}:{record.offset}",
                body=record.value or b"",
                receives=None,
                handle=(record.topic, record.partition, record.offset),
            )
            for records in batches.values()
            for record in records
        ]

    async def ack(self, messages: Sequence[Message]) -> None:
        if not messages:
            return
        from aiokafka.errors import KafkaError

        structs = self._aiokafka.structs
        offsets = {
            structs.TopicPartition(topic, partition): offset
            for (topic, partition), offset in offsets_to_commit(messages).items()
        }
        try:
            await self._consumer.commit(offsets)
        except KafkaError as error:  # a rebalance took the partition: it is read again
            raise QueueError(
                f"{self.config.url}: committing offsets failed: {type(error).__name__}: {error}",
                self.config.url,
            ) from error

    async def aclose(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
