"""The service's own work, run on a schedule or asked for by an operator:
reconciliation, enrichment, a search index rebuild and a rule run, each followed as a
job (when it started, how far it is, what it found).

Reconciliation and enrichment queue their entities in the journal, falling due evenly
over the period (so a large graph is read again a little at a time, and each source's
client keeps to its rate limit); the job is done when the last of them is processed.
A rebuild of the index and a rule run work in a thread beside the ingest worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from lifecyclegraph.core.config import Config
from lifecyclegraph.graph.embedded import LifecycleGraph
from lifecyclegraph.ingest import Ingestor, Journal
from lifecyclegraph.providers.sources import Sources


class Service(Protocol):
    """What jobs need of :class:`lifecyclegraph.server.service.Service` (which holds
    them: a protocol, so that neither module imports the other)."""

    config: Config
    graph: LifecycleGraph
    ingestor: Ingestor
    journal: Journal
    sources: Sources


__all__ = ["KINDS", "Job", "JobRunning", "Jobs"]

log = logging.getLogger("lifecyclegraph.jobs")

#: The jobs an operator can start; ``reconcile`` and ``enrich`` also run on a schedule.
KINDS = ("reconcile", "enrich", "reindex", "rules")
Kind = Literal["reconcile", "enrich", "reindex", "rules"]
#: How many finished jobs are kept for ``GET /api/v1/admin/jobs``.
KEEP = 100


class JobRunning(Exception):
    """A job of that kind is already running (one at a time per kind)."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"a {job.kind} job is already running: {job.id}")
        self.job = job


@dataclass
class Job:
    """One run of a kind of work."""

    kind: str
    trigger: Literal["schedule", "admin"]
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    state: Literal["running", "done", "failed"] = "running"
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    #: entities queued (reconcile, enrich), and of those not processed yet
    queued: int | None = None
    remaining: int | None = None
    #: what it found: gone entities and failures (reconcile, enrich), entities indexed,
    #: derived facts
    found: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    #: enrich: also re-read entities not hydrated for this many seconds (default
    #: ``[ingest] enrich_stale_after``)
    stale_after: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "trigger": self.trigger,
            "state": self.state,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "queued": self.queued,
            "remaining": self.remaining,
            "found": self.found,
            "error": self.error,
        }


class Jobs:
    """The jobs of one service: started by :meth:`start`, by the schedule of
    ``[ingest] reconcile_interval`` and ``enrich_interval``, and listed for ``status``.

    Args:
        service: the service whose work they are.
        poll: seconds between looks at a queued job's remaining work.
    """

    def __init__(self, service: Service, poll: float = 0.25) -> None:
        # weakly: a service that holds its jobs must go when its last user drops it (a
        # CLI command's service holds the store's lock until it is freed)
        self._service = weakref.ref(service)
        self.poll = poll
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self.running: dict[str, Job] = {}
        self.next_at: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def service(self) -> Service:
        service = self._service()
        if service is None:
            raise RuntimeError("the service of these jobs is gone")
        return service

    # -- starting ----------------------------------------------------------------------

    def start(
        self,
        kind: str,
        trigger: Literal["schedule", "admin"] = "admin",
        *,
        stale_after: float | None = None,
    ) -> Job:
        """Start a job of ``kind`` in the running event loop and return it at once
        (``stale_after``: an enrich job's, over ``[ingest] enrich_stale_after``).

        Raises:
            KeyError: ``kind`` is not one of :data:`KINDS`.
            JobRunning: one of that kind is running.
        """
        if kind not in KINDS:
            raise KeyError(kind)
        if kind in self.running:
            raise JobRunning(self.running[kind])
        job = Job(kind, trigger, stale_after=stale_after)
        self.running[kind] = job
        self.jobs[job.id] = job
        while len(self.jobs) > KEEP:
            oldest = next(iter(self.jobs))
            if self.jobs[oldest].state == "running":
                break
            self.jobs.popitem(last=False)
        task = asyncio.get_running_loop().create_task(self._run(job), name=f"job {kind}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def last(self) -> dict[str, Any]:
        """Per kind: the last job (or ``None``) and, for scheduled kinds, when the next
        run is due (for ``status``)."""
        summary: dict[str, Any] = {}
        for kind in KINDS:
            runs = [j for j in self.jobs.values() if j.kind == kind]
            entry: dict[str, Any] = {"last": runs[-1].as_dict() if runs else None}
            if kind in self.next_at:
                entry["next_at"] = datetime.fromtimestamp(self.next_at[kind], UTC).isoformat()
            summary[kind] = entry
        return summary

    # -- the schedule ------------------------------------------------------------------

    def intervals(self) -> dict[str, float]:
        ingest = self.service.config.ingest
        wanted = {"reconcile": ingest.reconcile_interval, "enrich": ingest.enrich_interval}
        return {kind: seconds for kind, seconds in wanted.items() if seconds > 0}

    async def schedule(self, stop: asyncio.Event) -> None:
        """Start each scheduled kind once per interval (the first after one interval)
        until ``stop`` is set; a kind still running when its time comes is skipped."""
        now = time.time()
        self.next_at = {kind: now + seconds for kind, seconds in self.intervals().items()}
        while self.next_at and not stop.is_set():
            kind = min(self.next_at, key=self.next_at.__getitem__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(self.next_at[kind] - time.time(), 0))
                return
            self.next_at[kind] += self.intervals()[kind]
            try:
                self.start(kind, "schedule")
            except JobRunning as running:
                log.warning("%s is due but %s is still running: skipped", kind, running.job.id)

    async def stop(self) -> None:
        """Cancel the jobs still running (their queued work stays queued)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- running -----------------------------------------------------------------------

    async def _run(self, job: Job) -> None:
        try:
            if job.kind in ("reconcile", "enrich"):
                await self._queued(job)
            elif job.kind == "reindex":
                graph = self.service.graph
                began = time.perf_counter()
                indexed = await asyncio.to_thread(lambda: graph.search_index.rebuild())
                seconds = round(time.perf_counter() - began, 3)
                where = str(graph.search_index.path or "memory")
                job.found = {"indexed": indexed, "seconds": seconds, "path": where}
            else:
                report = await asyncio.to_thread(self.service.graph.materialize)
                job.found = {"derived": report.derived, "added": report.added}
                job.found["removed"] = report.removed
                job.found["counts"] = dict(report.counts)
                job.found["seconds"] = round(report.seconds, 3)
            job.state = "done"
        except asyncio.CancelledError:
            job.state, job.error = "failed", "the service stopped"
            raise
        except Exception as error:  # a job that fails is reported, never kills the service
            log.exception("%s job %s failed", job.kind, job.id)
            job.state, job.error = "failed", f"{type(error).__name__}: {error}"
        finally:
            job.finished_at = datetime.now(UTC)
            self.running.pop(job.kind, None)
            log.info("%s job %s %s: %s", job.kind, job.id, job.state, job.found)

    async def _queued(self, job: Job) -> None:
        """Queue the job's entities (spread over its interval when scheduled) and wait
        until the worker has processed them all."""
        service = self.service
        spread = self.intervals().get(job.kind, 0.0) if job.trigger == "schedule" else 0.0
        before = _source_counts(service)
        ingestor = service.ingestor
        if job.kind == "reconcile":
            job.queued = await asyncio.to_thread(ingestor.reconcile, spread)
        else:
            stale = job.stale_after
            if stale is None:
                stale = service.config.ingest.enrich_stale_after
            job.queued = await asyncio.to_thread(ingestor.queue_enrichment, stale, spread)
        reason = job.kind
        while True:
            job.remaining = service.journal.pending(reason)
            if job.remaining == 0:
                break
            await asyncio.sleep(self.poll)
        after = _source_counts(service)
        job.found = {
            name: after[name] - before.get(name, 0) for name in after if name != "hydrated"
        } | {"hydrated": after.get("hydrated", 0) - before.get("hydrated", 0)}


def _source_counts(service: Service) -> dict[str, int]:
    """The sources' counts so far: entities hydrated, gone (tombstoned) and failures."""
    counts = {"hydrated": 0, "gone": 0, "failures": 0}
    for report in service.sources.reports.values():
        counts["hydrated"] += report.hydrated
        counts["gone"] += report.gone
        counts["failures"] += report.failed
    return counts
