"""The queue consumer: messages in, events to the journal, then acknowledged.

A :class:`Queue` is one transport (SQS, Kafka): it receives a batch of
:class:`Message` and acknowledges messages. The :class:`QueueConsumer` holds the
semantics, the same for every transport: each message is one event or a JSON array of
events; they are handed to :meth:`lifecyclegraph.ingest.Ingestor.submit`, which
returns once the accepted ones are committed to the journal and the rejected ones are
dead-lettered; only then is the message acknowledged (at least once: a crash before
the acknowledgement delivers the message again, and the duplicate events converge).

A *poison* message never blocks the queue: undecodable JSON and invalid events are
dead-lettered by ``submit`` (the reason names the queue and the message id), and a
message received more than ``max_receives`` times (its batch kept failing) is
dead-lettered whole; all of them are then acknowledged so they stop coming back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from lifecyclegraph.core.errors import JsonTextError
from lifecyclegraph.core.jsontext import array_items, decode_utf8, is_array
from lifecyclegraph.ingest.worker import Ingestor

__all__ = ["ConsumeResult", "Message", "Queue", "QueueConsumer", "events_of"]

log = logging.getLogger("lifecyclegraph.ingest.queues")

#: Seconds to wait after a failed receive or submit before trying again, doubling.
RETRY_FIRST = 1.0
RETRY_MAX = 60.0


@dataclass(frozen=True, slots=True)
class Message:
    """One message as a queue delivered it.

    Attributes:
        id: the queue's id of the message (SQS ``MessageId``; Kafka
            ``<partition>:<offset>``), named in dead letters.
        body: its bytes, as sent.
        receives: how many times it was delivered, this time included (SQS's
            ``ApproximateReceiveCount``), or ``None`` where the queue does not count.
        handle: what the queue needs to acknowledge it (receipt handle, offset).
    """

    id: str
    body: bytes
    receives: int | None = None
    handle: Any = None


class Queue(ABC):
    """One queue's transport: receive a batch, acknowledge messages.

    Attributes:
        name: how dead letters and logs name it (``sqs:events``, ``kafka:events``).
    """

    name: str

    async def open(self) -> None:  # noqa: B027 (optional: most transports connect lazily)
        """Connect, and check that the queue exists and the credentials are good.

        Raises:
            QueueError: it does not, or they are not (what and where).
        """

    @abstractmethod
    async def receive(self, wait: float | None = None) -> list[Message]:
        """The next messages, waiting up to ``wait`` seconds (default: the queue's
        ``wait_seconds``) for the first; an empty list when none came."""

    @abstractmethod
    async def ack(self, messages: Sequence[Message]) -> None:
        """Acknowledge messages for good: they are never delivered again."""

    async def aclose(self) -> None:  # noqa: B027 (optional)
        """Release the connection."""


@dataclass
class ConsumeResult:
    """What consuming did (one batch, or the totals of several)."""

    messages: int = 0  #: messages received
    accepted: int = 0  #: events committed to the journal
    rejected: int = 0  #: events dead-lettered by submit (not JSON, invalid)
    poison: int = 0  #: messages dead-lettered whole (over max_receives)
    acked: int = 0  #: messages acknowledged
    reasons: list[str] = field(default_factory=list)  #: why each event was dead-lettered

    def add(self, other: ConsumeResult) -> None:
        self.messages += other.messages
        self.accepted += other.accepted
        self.rejected += other.rejected
        self.poison += other.poison
        self.acked += other.acked
        self.reasons += other.reasons


def events_of(body: bytes) -> list[str | bytes]:
    """The events a message holds: its array's items, each as its own text, or the
    body as one event (which ``submit`` then checks, and rejects if it is not JSON).

    >>> events_of(b'[{"a": 1}, {"b": 2}]')
    ['{"a": 1}', '{"b": 2}']
    >>> events_of(b'{"a": 1}')
    [b'{"a": 1}']
    >>> events_of(b'[1 2]')
    [b'[1 2]']
    """
    if not is_array(body):
        return [body]
    try:
        return list(array_items(decode_utf8(body)))
    except JsonTextError:
        return [body]  # malformed: submitted whole, to be dead-lettered with the reason


class QueueConsumer:
    """Feeds a queue's messages into ingestion, at least once.

    Args:
        queue: the transport.
        ingestor: whose ``submit`` records the events (and whose journal keeps the
            dead letters).
        max_receives: a message delivered more often than this is dead-lettered whole
            and acknowledged (only where the queue counts deliveries).

    Example (with a transport ``queue``)::

        consumer = QueueConsumer(queue, service.ingestor, max_receives=5)
        await consumer.run(stop)          # until stop is set (serve)
        total = await consumer.drain()    # until a receive comes back empty (the CLI)
    """

    def __init__(self, queue: Queue, ingestor: Ingestor, max_receives: int = 5) -> None:
        self.queue = queue
        self.ingestor = ingestor
        self.max_receives = max_receives
        self.total = ConsumeResult()
        self.last_error: str | None = None

    async def consume_once(self, wait: float | None = None) -> ConsumeResult:
        """Receive one batch, record its events durably, then acknowledge it.

        Returns:
            What the batch held and what became of it.

        Raises:
            QueueError: the queue cannot be read or acknowledged.
            Exception: the journal failed: nothing of the batch is acknowledged, and
                the queue delivers it again.
        """
        return await self._handle(await self.queue.receive(wait))

    def _record(self, messages: Sequence[Message], result: ConsumeResult) -> None:
        payloads: list[str | bytes] = []
        where: list[str] = []
        poison: list[tuple[str, str]] = []
        for message in messages:
            label = f"{self.queue.name} message {message.id}"
            items = events_of(message.body)
            if message.receives is not None and message.receives > self.max_receives:
                reason = (
                    f"{label}: received {message.receives} times, over max_receives "
                    f"{self.max_receives} (never acknowledged: its batch kept failing)"
                )
                poison += [(self._storable(item), reason) for item in items]
                result.poison += 1
                continue
            for index, item in enumerate(items):
                payloads.append(item)
                where.append(f"{label}[{index}]" if len(items) > 1 else label)
        if payloads:
            submitted = self.ingestor.submit(payloads, where)
            result.accepted = submitted.accepted
            result.rejected = len(submitted.rejected)
            result.reasons = [f"{where[i]}: {reason}" for i, reason in submitted.rejected]
        if poison:
            self.ingestor.journal.dead_letter(poison)
            result.reasons += [reason for _, reason in poison]

    def _storable(self, item: str | bytes) -> str:
        if isinstance(item, bytes):
            item = item.decode("utf-8", "backslashreplace")
        return item[: self.ingestor.max_event_bytes]

    async def drain(self, wait: float | None = None) -> ConsumeResult:
        """Consume until a receive comes back empty; return the totals."""
        total = ConsumeResult()
        while True:
            step = await self.consume_once(wait)
            total.add(step)
            if not step.messages:
                return total

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, then close the queue.

        A failure (the queue unreachable, the journal failing) is logged and tried
        again with back-off: the consumer never stops the service, and what was not
        acknowledged is delivered again. ``stop`` ends a long poll at once (what it
        would have brought comes back after the visibility timeout); a batch being
        recorded is recorded and acknowledged first.
        """
        delay = RETRY_FIRST
        opened = False
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                try:
                    if not opened:
                        await self.queue.open()
                        opened = True
                    receiving = asyncio.ensure_future(self.queue.receive())
                    await asyncio.wait({receiving, stopping}, return_when=asyncio.FIRST_COMPLETED)
                    if not receiving.done():
                        receiving.cancel()
                        break
                    await self._handle(receiving.result())
                    delay, self.last_error = RETRY_FIRST, None
                except Exception as error:
                    self.last_error = f"{type(error).__name__}: {error}"
                    log.error("queue %s: %s; trying again in %.0f s", self.queue.name, error, delay)
                    if opened:
                        # Connect again: a transport that moved its read position past
                        # the failed batch (Kafka's consumer does, when it hands records
                        # out) starts again from the last acknowledgement.
                        with contextlib.suppress(Exception):
                            await self.queue.aclose()
                        opened = False
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(stopping), delay)
                    delay = min(delay * 2, RETRY_MAX)
        finally:
            stopping.cancel()
            await self.queue.aclose()

    async def _handle(self, messages: list[Message]) -> ConsumeResult:
        """Record a received batch durably, then acknowledge it."""
        result = ConsumeResult(messages=len(messages))
        if not messages:
            return result
        await asyncio.to_thread(self._record, messages, result)
        # Only now, with every event of the batch committed (accepted or
        # dead-lettered), may the queue forget the messages.
        await self.queue.ack(messages)
        result.acked = len(messages)
        # serve's totals are counts (for status): the reasons are in the dead letters,
        # and a long-running consumer must not keep every one in memory
        self.total.add(replace(result, reasons=[]))
        return result

    def stats(self) -> dict[str, Any]:
        """Counts so far, for ``status``."""
        return {
            "messages": self.total.messages,
            "accepted": self.total.accepted,
            "rejected": self.total.rejected,
            "poison": self.total.poison,
            "acked": self.total.acked,
            "last_error": self.last_error,
        }
