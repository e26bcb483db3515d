"""Queue consumers: events that arrive as messages on SQS or Kafka (docs/queues.md).

:func:`open_queue` makes the transport a ``[[queues]]`` table names; a
:class:`QueueConsumer` feeds its messages into ingestion, at least once.
"""

from __future__ import annotations

from lifecyclegraph.core.config import QueueConfig
from lifecyclegraph.ingest.queues.base import ConsumeResult, Message, Queue, QueueConsumer

__all__ = ["ConsumeResult", "Message", "Queue", "QueueConsumer", "open_queue"]


def open_queue(config: QueueConfig) -> Queue:
    """The transport of one ``[[queues]]`` table (not connected yet: see
    :meth:`Queue.open`).

    Raises:
        QueueError: the package its kind needs is not installed (the extra is named).
    """
    if config.kind == "sqs":
        from lifecyclegraph.ingest.queues.sqs import SqsQueue

        return SqsQueue(config)
    from lifecyclegraph.ingest.queues.kafka import KafkaQueue

    return KafkaQueue(config)
