"""lifecyclegraph as a running service: the graph, ingestion and its worker, together.

The HTTP API and the CLI both call a :class:`Service`; neither holds logic of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from lifecyclegraph.core.cluster import Partition
from lifecyclegraph.core.collector import HeapCollector
from lifecyclegraph.core.config import Config
from lifecyclegraph.core.events import WebhookRejected
from lifecyclegraph.graph import LifecycleGraph
from lifecyclegraph.ingest import Ingestor, Journal, SubmitResult
from lifecyclegraph.ingest.forward import Forwarder
from lifecyclegraph.ingest.hydration_process import HydratorProcess
from lifecyclegraph.ingest.queues import QueueConsumer, open_queue
from lifecyclegraph.providers.sources import Sources
from lifecyclegraph.server.jobs import Jobs
from lifecyclegraph.store.sparql import QueryPool

__all__ = ["Service"]


class Service:
    """The graph plus everything that keeps it up to date, and its SPARQL workers.

    Args:
        config: the validated configuration.
        graph: the graph (default: opened on disk at ``config.store.path``, or on the
            remote store at ``config.store.url``).
        sources: the configured sources (default: from ``config.sources``). Given
            here, they hydrate in this process even with ``[ingest] hydration_process``.
        journal: the ingestion journal (default: ``ingest.sqlite`` in the store).
    """

    def __init__(
        self,
        config: Config,
        graph: LifecycleGraph | None = None,
        sources: Sources | None = None,
        journal: Journal | None = None,
    ) -> None:
        self.config = config
        cluster = config.cluster
        #: this worker's share of the entity URIs (alone: all of them)
        self.partition = (
            Partition(len(cluster.peers), cluster.me) if cluster else Partition.single()
        )
        # In a cluster, the graph writes a change feed as w<me>, follows the others'
        # (where each stands is read before the engine materializes), and the engine
        # writes only the derived facts of this worker's subjects.
        self.graph = graph or LifecycleGraph.open(
            config.store.path,
            rules=config.rules.enabled,
            rule_limit=config.rules.limit,
            search=config.search,
            store=config.store,
            writer=f"w{cluster.me}" if cluster else None,
            owns=self.partition.owns if cluster else None,
        )
        if config.search.enabled:
            self.graph.search_index.flush(0)  # attached now: every write from here on is indexed
        # the engine materialized and the index is attached: the others' writes since
        # the follower was made are published to both from now on
        self.graph.follow()
        self.sources = sources or Sources(config)
        path = self.graph.path
        self.journal = journal or Journal(Path(path) / "ingest.sqlite" if path else ":memory:")
        # The child builds its sources from the configuration: sources handed in here
        # (tests' scripted clients) can only hydrate in this process.
        self.hydrator = (
            HydratorProcess(config, self.sources)
            if config.ingest.hydration_process and sources is None
            else None
        )
        #: in a cluster, what hands work to the worker that owns it
        self.forwarder = (
            Forwarder(
                self.partition,
                cluster.peers,
                cluster.token.get_secret_value(),
                timeout=cluster.timeout,
            )
            if cluster
            else None
        )
        self.ingestor = Ingestor(
            self.graph,
            self.sources,
            self.journal,
            max_event_bytes=config.ingest.max_event_bytes,
            max_uri_length=config.ingest.max_uri_length,
            max_attempts=config.ingest.max_attempts,
            hydrator=self.hydrator,
            forwarder=self.forwarder,
        )
        server = config.server
        self.queries = QueryPool(
            self.graph.store,
            workers=server.query_workers,
            timeout=server.query_timeout,
            max_results=server.max_results,
            staleness=server.query_staleness,
        )
        self.jobs = Jobs(self)
        #: keeps the cyclic garbage collector off the long-lived heap while serving
        #: (``[server] freeze_heap``; ``None``: Python's own collector alone)
        self.collector = HeapCollector.every(server.freeze_heap)
        self._stop = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._scheduler: asyncio.Task[None] | None = None
        #: one consumer per ``[[queues]]`` table, while the service runs
        self.consumers: list[QueueConsumer] = []
        self._consumer_tasks: list[asyncio.Task[None]] = []

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start the background worker that processes queued work, the schedule of
        reconciliation and enrichment (``[ingest] reconcile_interval``,
        ``enrich_interval``), and a consumer for each ``[[queues]]`` table.

        Raises:
            QueueError: a queue's kind needs a package that is not installed.
        """
        self._stop.clear()
        if self.collector is not None:
            self.collector.start()
        self.consumers = [
            QueueConsumer(open_queue(queue), self.ingestor, queue.max_receives)
            for queue in self.config.queues
        ]
        self._worker = asyncio.create_task(self.ingestor.run(self._stop), name="ingest-worker")
        self._scheduler = asyncio.create_task(self.jobs.schedule(self._stop), name="schedule")
        self._consumer_tasks = [
            asyncio.create_task(consumer.run(self._stop), name=f"queue {consumer.queue.name}")
            for consumer in self.consumers
        ]

    async def stop(self) -> None:
        """Stop the schedule, the jobs and the worker, close the clients, the journal
        and the store."""
        self._stop.set()
        for task in (*self._consumer_tasks, self._scheduler, self._worker):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.jobs.stop()
        await self.sources.aclose()
        if self.forwarder is not None:
            await self.forwarder.aclose()
        if self.hydrator is not None:
            await asyncio.to_thread(self.hydrator.close)
        self.queries.close()
        self.journal.close()
        self.graph.close()
        if self.collector is not None:
            self.collector.stop()

    # -- operations --------------------------------------------------------------------

    def submit_events(
        self, payloads: Iterable[Any], where: Sequence[str] | None = None
    ) -> SubmitResult:
        """Accept events (durably) and dead-letter the bad ones (see
        :meth:`lifecyclegraph.ingest.Ingestor.submit`)."""
        return self.ingestor.submit(payloads, where)

    def submit_lineage(self, events: Iterable[Any]) -> SubmitResult:
        """Accept OpenLineage run events (durably; see
        :meth:`lifecyclegraph.ingest.Ingestor.submit_pushed`).

        Raises:
            UnknownPlatform: no ``[sources.openlineage]`` is configured.
        """
        return self.ingestor.submit_pushed("openlineage", events)

    def receive_webhook(
        self, platform_id: str, headers: Mapping[str, str], body: bytes
    ) -> SubmitResult:
        """Accept a source's webhook delivery: its signature checked by its provider,
        the thin events it means submitted as any event is.

        Raises:
            WebhookRejected: no source ``platform_id`` is configured (``404``), or its
                provider refuses the delivery (its ``status``).
        """
        provider = self.sources.providers.get(platform_id)
        if provider is None:
            raise WebhookRejected(f"no source {platform_id!r} is configured", 404)
        return self.submit_events(provider.webhook_events(headers, body))

    def status(self, *, serving: bool = True) -> dict[str, Any]:
        """Queue depth, lag and failures per source, with each source's report counts
        (``hydrated``, ``gone``, ``warnings``, ``failures``) and its latest ``problems``
        (up to five, newest first: ``level``, ``kind``, ``uri``, ``message``, ``at``),
        how far the search index is behind the store (``search``: ``pending`` URIs and
        commits ``behind``; ``None`` with search off or when not ``serving``),
        the SPARQL workers' counts (``sparql``: workers, busy, timeouts…), the last
        and next job of each kind (``jobs``) and, while consumers run, each queue's
        (``queues``: messages, accepted, rejected, poison, acked, last_error), and
        whether the rule engine keeps the derived facts up to date (``rules``:
        ``running``, and ``error``, why it stopped; ``None`` without rules), and the
        heap collector's work (``collector``: whether the heap is ``frozen``, its
        ``heap_blocks``, the ``full_collections`` of it unfrozen and their ``seconds``,
        and the same of the hydrating child's as of its last batch,
        ``hydration_child``; ``None`` with ``[server] freeze_heap = 0`` or when not
        ``serving``).

        Args:
            serving: whether this service is the one ``serve`` runs. When not (a
                command reading the stopped store), ``sparql`` and ``jobs`` are
                ``None``: there are no query workers (the command runs a query
                itself) and no jobs (they run only inside ``serve``). The keys are
                there all the same, so both answers have one shape.
        """
        stats = self.journal.stats()
        stats["sparql"] = self.queries.stats() if serving else None
        stats["jobs"] = self.jobs.last() if serving else None
        if self.consumers:
            stats["queues"] = {c.queue.name: c.stats() for c in self.consumers}
        stats["cluster"] = self.cluster_status()
        stats["collector"] = None
        if serving and self.collector is not None:
            stats["collector"] = {
                **self.collector.status(),
                "hydration_child": self.hydrator.collector_status if self.hydrator else None,
            }
        searching = serving and self.config.search.enabled
        stats["search"] = self.graph.search_index.indexer.lag() if searching else None
        engine = getattr(self.graph, "rules", None)
        stats["rules"] = (
            None
            if engine is None
            else {
                "running": engine.running,
                "error": None if engine.error is None else str(engine.error),
                "facts": engine.evaluator.size(),
                "limit": engine.evaluator.cap(),
            }
        )
        for platform, report in self.sources.reports.items():
            entry = stats["sources"].setdefault(
                platform, {"queued": 0, "failing": 0, "lag_seconds": 0.0}
            )
            entry.update(
                hydrated=report.hydrated,
                gone=report.gone,
                warnings=report.warned,
                failures=report.failed,
                problems=report.latest(),
            )
            client_stats = (
                self.hydrator.client_stats.get(platform)
                if self.hydrator is not None
                else getattr(self.sources.clients[platform], "stats", None)
            )
            if client_stats is not None:
                entry["client"] = _as_dict(client_stats)
        return stats

    def cluster_status(self) -> dict[str, Any] | None:
        """In a cluster (``[cluster]``): this worker (``me``), its peers, the partition
        size, the work forwarded to each peer and received from them, and the change
        feed's follower (per writer the last record applied); ``None`` alone."""
        if self.forwarder is None:
            return None
        follower = getattr(self.graph, "follower", None)
        return {
            "me": self.partition.me,
            "size": self.partition.size,
            **self.forwarder.stats(),
            "follower": follower.status() if follower is not None else None,
        }


def _as_dict(value: Any) -> Any:
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(value)
    return value
