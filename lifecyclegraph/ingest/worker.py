"""The ingestion worker: events in, then hydrate -> normalize -> validate -> store.

:meth:`Ingestor.submit` checks events and records them durably (accepted ones in the
journal, rejected ones as dead letters); :meth:`Ingestor.process` takes due work,
hydrates each URI once however many events named it, validates the facts, and
writes them (with stubs for what they refer to, and tombstones for what is gone).
Failed work stays in the journal with back-off; nothing accepted is dropped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pyoxigraph import NamedNode

from lifecyclegraph.core.errors import LifecycleGraphError, StoreUnavailableError
from lifecyclegraph.core.events import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_URI_LENGTH,
    EventRejected,
    parse_event,
)
from lifecyclegraph.core.facts import Facts, term_value
from lifecyclegraph.core.uris import AipUri
from lifecyclegraph.core.vocab import RDF_TYPE
from lifecyclegraph.graph.door import Graph
from lifecyclegraph.ingest.forward import Forwarder, ForwardFailed
from lifecyclegraph.ingest.hydration_process import HydratorProcess, RemoteFailure
from lifecyclegraph.ingest.journal import Journal, WorkItem
from lifecyclegraph.providers import Hydrated
from lifecyclegraph.providers.sources import Sources, UnknownPlatform
from lifecyclegraph.store import HydrationState, Observation, Outcome
from lifecyclegraph.validation import Validator

__all__ = ["Ingestor", "PassResult", "SubmitResult"]

log = logging.getLogger("lifecyclegraph.ingest")

MAX_BACKOFF = 300.0
#: Failed hydrations before a work item is dead-lettered: with the back-off (0.5 s
#: doubling up to MAX_BACKOFF, with jitter), between about 30 and 60 minutes of trying.
DEFAULT_MAX_ATTEMPTS = 20


@dataclass
class SubmitResult:
    """What happened to a batch of submitted events."""

    accepted: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  #: (index, reason)
    requeued: int = 0  #: work taken back from the dead letters (replay)


@dataclass
class PassResult:
    """What one processing pass did."""

    taken: int = 0
    written: dict[str, int] = field(default_factory=dict)  #: outcome -> count
    rejected: int = 0  #: entities refused by validation
    dangling: int = 0  #: references whose target stayed 404
    retried: int = 0
    dropped: int = 0
    seconds: float = 0.0
    hydrate_seconds: float = 0.0  #: waiting for sources (requests in flight)
    validate_seconds: float = 0.0  #: SHACL validation
    write_seconds: float = 0.0  #: store transactions
    forwarded: int = 0  #: work handed to the worker of the cluster that owns it
    postponed: int = 0  #: work kept for later: its owner could not be reached

    def count(self, outcome: str, n: int = 1) -> None:
        self.written[outcome] = self.written.get(outcome, 0) + n


class Ingestor:
    """Connects the journal, the sources, the validator and the graph.

    Args:
        graph: where facts are written.
        sources: the configured providers and their clients.
        journal: the durable record of events and work.
        validator: the validation gate (default: the project's shapes).
        batch: how many URIs one pass hydrates at most.
        max_event_bytes: the size limit of one event.
        max_uri_length: the longest AIP URI an event may name, and the longest that is
            ever hydrated (its resource id goes into a URL): longer work is dead-lettered.
        max_attempts: hydrations of one work item that may fail (source errors,
            timeouts, a provider that raises) before it is dead-lettered with its
            last error; ``lifecyclegraph deadletters --replay`` queues it again.
        enrich: resolve stubs progressively: every entity known only from a foreign
            key is queued for hydration through the provider of its URI's platform.
        dangling_after: hydrations of a stub that found nothing (404) before it is
            recorded as a dangling reference (and no longer retried).
        hydrator: hydrate in this child process instead of the event loop; then the
            next batch is hydrated while the previous one is validated and written.
        forwarder: in a cluster (``[cluster]``), the worker's partition and its peers:
            work and stubs of entities another worker owns are handed to it instead of
            being hydrated or written here (docs/scale-out.md).
    """

    def __init__(
        self,
        graph: Graph,
        sources: Sources,
        journal: Journal,
        validator: Validator | None = None,
        batch: int = 256,
        max_event_bytes: int = DEFAULT_MAX_BYTES,
        max_uri_length: int = DEFAULT_MAX_URI_LENGTH,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        enrich: bool = True,
        dangling_after: int = 3,
        hydrator: HydratorProcess | None = None,
        forwarder: Forwarder | None = None,
    ) -> None:
        self.graph = graph
        self.sources = sources
        self.journal = journal
        self.validator = validator or Validator.load()
        self.batch = batch
        self.max_event_bytes = max_event_bytes
        self.max_uri_length = max_uri_length
        self.max_attempts = max_attempts
        self.enrich = enrich
        self.dangling_after = dangling_after
        self.hydrator = hydrator
        self.forwarder = forwarder
        self.kinds = sources.kinds
        self._random = random.Random()
        self._wakeup: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- intake ------------------------------------------------------------------------

    def submit(
        self,
        payloads: Iterable[str | bytes | dict[str, Any]],
        where: Sequence[str] | None = None,
    ) -> SubmitResult:
        """Check events; record accepted ones and dead-letter the rest, durably.

        Returns only once both are committed to the journal. Every payload is
        checked alone: a bad one never stops the others.

        Args:
            payloads: events as JSON text, UTF-8 bytes or decoded objects.
            where: for each payload, where it came from (``events.jsonl:3``); a dead
                letter's reason then starts with it.
        """
        result = SubmitResult()
        accepted, rejected = [], []
        for index, payload in enumerate(payloads):
            try:
                event = parse_event(payload, self.kinds, self.max_event_bytes, self.max_uri_length)
            except EventRejected as error:
                reason = f"{where[index]}: {error.reason}" if where is not None else error.reason
                rejected.append((_storable(payload, self.max_event_bytes), reason))
                result.rejected.append((index, error.reason))
                continue
            accepted.append(
                (event.uri, event.event_type, event.event_id, event.text, event.kind.entity_class)
            )
        if accepted:
            result.accepted = self.journal.accept(accepted)
            self._notify()
        if rejected:
            self.journal.dead_letter(rejected)
        return result

    def submit_pushed(self, platform_id: str, documents: Iterable[Any]) -> SubmitResult:
        """Check documents a pushed source sent (OpenLineage run events); record each
        accepted one durably under every object it concerns, and queue those.

        Returns only once they are committed to the journal. Each document is checked
        alone; the refused ones are listed with their reasons (not dead-lettered: the
        sender is told at once).

        Raises:
            UnknownPlatform: no pushed source ``platform_id`` is configured.
        """
        provider = self.sources.providers.get(platform_id)
        if provider is None or not provider.pushed:
            raise UnknownPlatform(f"no pushed source {platform_id!r} is configured")
        result = SubmitResult()
        rows: list[tuple[str, str, str | None, str, str | None]] = []
        for index, document in enumerate(documents):
            try:
                records = provider.records(document)
                for uri, _, _ in records:
                    if len(uri) > self.max_uri_length:
                        raise EventRejected(
                            f"it names a URI of {len(uri)} characters, over the limit of "
                            f"{self.max_uri_length} (max_uri_length): {uri[:120]}…"
                        )
                text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
            except EventRejected as error:
                result.rejected.append((index, error.reason))
                continue
            rows.extend((uri, kind, None, text, cls) for uri, kind, cls in records)
            result.accepted += 1
        if rows:
            self.journal.accept(rows)
            self._notify()
        return result

    def _notify(self) -> None:
        """Wake the running worker (from any thread): new work was queued."""
        if self._loop is not None and self._wakeup is not None:
            self._loop.call_soon_threadsafe(self._wakeup.set)

    def reconcile(self, spread: float = 0.0) -> int:
        """Queue every known entity (parts through their parents) to be read again,
        falling due evenly over ``spread`` seconds (0: at once)."""
        items = []
        for uri in self.graph.entities():
            state = self.graph.state(uri)
            if state is None or state.part_of is not None or not self.owns(uri):
                continue
            items.append((uri, self._type_of(uri)))
        queued = self.journal.enqueue(items, "reconcile", spread)
        self._notify()
        return queued

    def queue_enrichment(self, stale_after: float | None = None, spread: float = 0.0) -> int:
        """Queue what enrichment should look at: every stub (an entity known only from a
        foreign key) and, with ``stale_after`` seconds, every entity not hydrated since.

        Work that failed before is already queued with its back-off. The items fall due
        evenly over ``spread`` seconds (0: at once). Returns how many URIs were queued.
        """
        now = datetime.now(UTC)
        items = []
        for uri in self.graph.entities():
            state = self.graph.state(uri)
            if state is None or state.part_of is not None or not self.owns(uri):
                continue
            if state.state is HydrationState.REFERENCED or (
                stale_after is not None
                and state.state is HydrationState.HYDRATED
                and state.last_hydrated_at is not None
                and (now - state.last_hydrated_at).total_seconds() > stale_after
            ):
                items.append((uri, self._type_of(uri)))
        queued = self.journal.enqueue(items, "enrich", spread)
        self._notify()
        return queued

    def replay_dead_letters(self, ids: Iterable[int] | None = None) -> SubmitResult:
        """Try dead letters again (after a provider was added or a source came back).

        Rejected events are checked again, as any event is (and dead-lettered again
        if still bad); work given up on is queued again with a fresh count of
        attempts. The letters replayed are marked so.
        """
        wanted = set(ids) if ids is not None else None
        letters = [d for d in self.journal.dead_letters() if wanted is None or d.id in wanted]
        result = self.submit(d.payload for d in letters if d.kind == "event")
        work = [json.loads(d.payload) for d in letters if d.kind == "work"]
        result.requeued = self.journal.enqueue(((w["uri"], w.get("hint")) for w in work), "replay")
        self.journal.mark_replayed(d.id for d in letters)
        self._notify()
        return result

    # -- processing --------------------------------------------------------------------

    async def process(self) -> PassResult:
        """One pass: hydrate up to ``batch`` due URIs and write what they say."""
        began = time.perf_counter()
        items = self.journal.due(self.batch)
        result = PassResult(taken=len(items))
        items = await self._hand_over(items, result)
        if not items:
            return result
        outcomes = await self._hydrate_all(items)
        result.hydrate_seconds = time.perf_counter() - began
        # Validation and writes are CPU and store work: done in a thread so that the
        # event loop (the HTTP API, when serving) keeps answering meanwhile. The next
        # pass waits for them: overlapping it with its hydration was measured slower
        # (the two contend for the GIL; docs/benchmarks.md, Ingestion).
        return await asyncio.to_thread(self._commit_apart, items, outcomes, result, began)

    def _commit_apart(
        self,
        items: list[WorkItem],
        outcomes: list[Hydrated | BaseException],
        result: PassResult,
        began: float,
    ) -> PassResult:
        """:meth:`_commit`, and if the batch fails, each item alone: an item that cannot
        be written (a provider's document that trips a bug, say) fails alone, as a
        failed attempt, instead of failing its whole batch at every pass."""
        try:
            return self._commit(items, outcomes, result, began)
        except StoreUnavailableError:
            raise  # the store, not the items, failed: all stay pending, no attempt counted
        except Exception as error:
            if len(items) == 1:
                self._failed_write(items[0], error, result)
                return result
            log.exception("writing a batch of %d failed; writing its items one by one", len(items))
        for item, outcome in zip(items, outcomes, strict=True):
            try:
                step = self._commit([item], [outcome], PassResult(taken=1), began)
            except StoreUnavailableError:
                raise
            except Exception as error:
                self._failed_write(item, error, result)
                continue
            for key, value in step.written.items():
                result.count(key, value)
            result.rejected += step.rejected
            result.dangling += step.dangling
            result.retried += step.retried
            result.dropped += step.dropped
        result.seconds = time.perf_counter() - began
        return result

    def _failed_write(self, item: WorkItem, error: Exception, result: PassResult) -> None:
        """Count a write that raised as a failed attempt of its item (logged)."""
        log.error("writing %s failed", item.uri, exc_info=error)
        reason = f"the write failed: {_describe(error)}"
        if item.attempts + 1 >= self.max_attempts:
            self.journal.drop_work(
                [(item, f"gave up after {item.attempts + 1} failed attempts: {reason}")]
            )
            result.dropped += 1
        else:
            self.journal.retry_later([(item, self._backoff(item, None), reason)])
            result.retried += 1

    def _commit(
        self,
        items: list[WorkItem],
        outcomes: list[Hydrated | BaseException],
        result: PassResult,
        began: float,
    ) -> PassResult:
        """Validate and write what a pass hydrated; settle its work in the journal."""
        done: list[WorkItem] = []
        retry: list[tuple[WorkItem, float, str]] = []
        dropped: list[tuple[WorkItem, str]] = []
        writes: list[tuple[Facts, Observation]] = []
        stubs: list[tuple[str, str, Observation]] = []
        deletes: list[tuple[str, Observation]] = []
        findings: list[tuple[str, bool, dict[str, Any] | None]] = []
        roots: list[tuple[str, str | None, str, float | None, str | None]] = []
        for item, outcome in zip(items, outcomes, strict=True):
            if isinstance(outcome, Hydrated) and not self.owns(_root(outcome)):
                # a part's URI read its root, which another worker owns: the root's
                # work is queued here, to be handed to it; nothing is written here (a
                # stub's enrichment is the root's work, not a stub to record)
                reason = "enrich" if item.reason == "stub" else item.reason
                roots.append((_root(outcome), None, reason, item.not_before, item.last_event_id))
                done.append(item)
            elif isinstance(outcome, UnknownPlatform | UriTooLong):
                dropped.append((item, str(outcome)))
            elif isinstance(outcome, BaseException):
                error = _describe(outcome)
                if item.attempts + 1 >= self.max_attempts:
                    dropped.append(
                        (item, f"gave up after {item.attempts + 1} failed attempts: {error}")
                    )
                else:
                    retry.append((item, self._backoff(item, outcome), error))
            elif outcome.facts is None and self._is_stub(item.uri):
                if item.attempts + 1 < self.dangling_after:
                    retry.append((item, self._backoff(item, None), "404: not at its source yet"))
                    continue
                findings.append((item.uri, False, self._dangling(item.uri)))
                result.dangling += 1
                self._plan(item, outcome, writes, stubs, deletes, findings, result)
                done.append(item)
            else:
                self._plan(item, outcome, writes, stubs, deletes, findings, result)
                done.append(item)
        written = time.perf_counter()
        # Each write also marks what it wrote enriched: the rule engine and the search
        # index follow every commit of the store, so the stamp goes in the same
        # transaction instead of a write of its own after them.
        now = datetime.now(UTC)
        # validated through the worker's own gate above (with its stubs and findings):
        # the opt-out, so nothing is checked twice
        for res in self.graph.write_many(writes, validate=False, enriched_at=now):
            result.count(res.outcome.value)
        new_stubs = []
        if self.forwarder is not None:  # another worker's stubs: queued to be handed over
            foreign = [(uri, cls) for uri, cls, _ in stubs if not self.owns(uri)]
            stubs = [stub for stub in stubs if self.owns(stub[0])]
            self.journal.enqueue(foreign, "stub")
        for res in self.graph.reference_many(stubs, enriched_at=now):
            if res.outcome is Outcome.REFERENCED:
                result.count(res.outcome.value)
                new_stubs.append(res.uri)
        for res in self.graph.delete_many(deletes, enriched_at=now):
            result.count(res.outcome.value)
        result.write_seconds = time.perf_counter() - written
        if self.enrich and new_stubs:
            self.journal.enqueue(((uri, self._type_of(uri)) for uri in new_stubs), "stub")
        if roots:
            self.journal.enqueue_forwarded(roots)
            result.forwarded += len(roots)
        self.journal.complete(done, findings)
        if retry:
            self.journal.retry_later(retry)
        if dropped:
            self.journal.drop_work(dropped)
        result.retried, result.dropped = len(retry), len(dropped)
        result.seconds = time.perf_counter() - began
        return result

    async def drain(
        self, wait: float = 0.0, on_pass: Callable[[PassResult], None] | None = None
    ) -> PassResult:
        """Process until no work is due; return the totals.

        Args:
            wait: keep waiting up to this many seconds for work that is queued but not
                due yet (retries after failures), until the queue is empty.
            on_pass: called with each pass's result as it is written (progress).
        """
        total = PassResult()

        def add(step: PassResult) -> None:
            total.taken += step.taken
            total.rejected += step.rejected
            total.retried += step.retried
            total.dropped += step.dropped
            total.seconds += step.seconds
            total.hydrate_seconds += step.hydrate_seconds
            total.validate_seconds += step.validate_seconds
            total.write_seconds += step.write_seconds
            total.forwarded += step.forwarded
            total.postponed += step.postponed
            for key, value in step.written.items():
                total.count(key, value)
            if on_pass is not None:
                on_pass(step)

        deadline = time.monotonic() + wait
        while True:
            await self._passes(add)
            due = self.journal.next_due()
            if due is None or time.monotonic() >= deadline:
                return total
            pause = min(max(due - time.time(), 0.01), deadline - time.monotonic(), 1.0)
            await asyncio.sleep(max(pause, 0.0))

    async def run(self, stop: asyncio.Event, idle: float = 1.0) -> None:
        """Process continuously until ``stop`` is set; new work wakes it at once."""
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        try:
            while not stop.is_set():
                self._wakeup.clear()
                try:
                    await self._passes(lambda _: None, stop)
                except Exception:  # the journal or the store failed: keep the worker alive
                    log.exception("an ingestion pass failed; trying again in %s s", idle)
                    await asyncio.sleep(idle)
                    continue
                due = self.journal.next_due()
                pause = idle if due is None else min(idle, max(due - time.time(), 0.005))
                waiters = [
                    asyncio.ensure_future(stop.wait()),
                    asyncio.ensure_future(self._wakeup.wait()),
                ]
                await asyncio.wait(waiters, timeout=pause, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
        finally:
            self._loop = self._wakeup = None

    async def _passes(
        self, on_pass: Callable[[PassResult], None], stop: asyncio.Event | None = None
    ) -> None:
        """Pass after pass until nothing is due (or ``stop`` is set).

        With a hydrating process, the next batch is hydrated there while this one is
        validated and written here; writes stay in order, one batch at a time, and a
        URI being written is not hydrated again until its write is done.
        """
        if self.hydrator is None:
            while stop is None or not stop.is_set():
                step = await self.process()
                if not step.taken:
                    return
                on_pass(step)
            return
        ahead: tuple[list[WorkItem], asyncio.Future[list[Any]], float] | None = None
        while stop is None or not stop.is_set():
            if ahead is None:
                items = self.journal.due(self.batch)
                if not items:
                    return
                handed = PassResult(taken=len(items))
                items = await self._hand_over(items, handed)
                if not items:
                    on_pass(handed)
                    continue
                ahead = self._hydrate_ahead(items)
            items, hydrating, began = ahead
            outcomes = await hydrating
            result = PassResult(taken=len(items), hydrate_seconds=time.perf_counter() - began)
            writing = asyncio.ensure_future(
                asyncio.to_thread(self._commit_apart, items, outcomes, result, began)
            )
            busy = {item.uri for item in items}
            following = [i for i in self.journal.due(self.batch + len(busy)) if i.uri not in busy]
            del following[self.batch :]
            following = await self._hand_over(following, result)
            ahead = self._hydrate_ahead(following) if following else None
            on_pass(await asyncio.shield(writing))

    # -- the cluster -------------------------------------------------------------------

    def owns(self, uri: str) -> bool:
        """Whether this worker hydrates and writes ``uri`` (alone, it owns every URI)."""
        return self.forwarder is None or self.forwarder.partition.owns(uri)

    async def _hand_over(self, items: list[WorkItem], result: PassResult) -> list[WorkItem]:
        """Send the items another worker owns to it, and return the rest.

        A pushed source's item goes with the documents this journal holds for its URI
        (its object is folded from them, by its owner). An item is done here only once
        its owner answered ``2xx`` (it is in the owner's journal then); one whose owner
        could not be reached stays queued, due again after the owner's back-off, without
        counting a failed attempt.
        """
        if self.forwarder is None or not items:
            return items
        foreign = self.forwarder.foreign(items)
        for owner, group in foreign.items():
            pushed = [item.uri for item in group if self.sources.pushed(item.uri)]
            documents = await asyncio.to_thread(self._documents, pushed)
            try:
                await self.forwarder.send(owner, group, documents)
            except ForwardFailed as error:
                log.warning("%d work item(s) kept for later: %s", len(group), error)
                delay = self.forwarder.waiting(owner) + self._random.uniform(0.05, 0.25)
                await asyncio.to_thread(self.journal.postpone, group, delay, str(error))
                result.postponed += len(group)
                continue
            await asyncio.to_thread(self.journal.complete, group)
            result.forwarded += len(group)
        handed = {id(item) for group in foreign.values() for item in group}
        return [item for item in items if id(item) not in handed]

    def _documents(self, uris: list[str]) -> dict[str, list[tuple[str, str]]]:
        """The documents of pushed sources' ``uris`` not handed over yet, by URI."""
        return {uri: self.journal.documents(uri) for uri in uris}

    def take_over(self, items: Sequence[Mapping[str, Any]]) -> int:
        """Queue work another worker of the cluster handed to this one (its owner).

        Each item is ``{"uri", "hint", "reason", "not_before", "event_id"}`` as
        :func:`~lifecyclegraph.ingest.forward.forwarded_item` makes it, with
        ``"documents"`` (``{"kind", "text"}`` each, checked) for a pushed source's
        work: they are recorded in this journal, each once, with the work. A stub
        (``reason`` ``"stub"``, ``hint`` its class) is recorded as the sender would
        have recorded it, had it owned it, and queued for enrichment if new; other
        work is queued as it was queued there. Returns how many items were taken.
        """
        stubs = [item for item in items if item["reason"] == "stub"]
        # a stub that brings a pushed source's documents is work as well: they are recorded
        work = [item for item in items if item["reason"] != "stub" or item.get("documents")]
        if stubs:
            now = datetime.now(UTC)
            refs = [
                (
                    item["uri"],
                    item["hint"] or self._class_for_uri(item["uri"]),
                    Observation(AipUri.parse(item["uri"]).platform_id, now, item.get("event_id")),
                )
                for item in stubs
            ]
            new = [
                r.uri
                for r in self.graph.reference_many(refs, enriched_at=now)
                if r.outcome is Outcome.REFERENCED
            ]
            if self.enrich and new:
                classes = {uri: cls for uri, cls, _ in refs}
                self.journal.enqueue(((uri, classes[uri]) for uri in new), "stub")
        self.journal.enqueue_forwarded(
            (
                (i["uri"], i.get("hint"), i["reason"], i.get("not_before"), i.get("event_id"))
                for i in work
            ),
            {
                i["uri"]: [(d["kind"], d["text"]) for d in i["documents"]]
                for i in work
                if i.get("documents")
            },
        )
        if self.forwarder is not None:
            self.forwarder.received += len(items)
        self._notify()
        return len(items)

    def _hydrate_ahead(
        self, items: list[WorkItem]
    ) -> tuple[list[WorkItem], asyncio.Future[list[Any]], float]:
        """Start hydrating ``items``: (the items, their outcomes to come, when it began)."""
        return items, asyncio.ensure_future(self._hydrate_all(items)), time.perf_counter()

    async def _hydrate_all(self, items: list[WorkItem]) -> list[Hydrated | BaseException]:
        """Each item's hydration, or why it failed; a URI over ``max_uri_length`` is
        never sent to its source."""
        outcomes: list[Hydrated | BaseException | None] = [
            UriTooLong(item.uri, self.max_uri_length)
            if len(item.uri) > self.max_uri_length
            else None
            for item in items
        ]
        for n, item in enumerate(items):  # a pushed source's: folded here, from the journal
            if outcomes[n] is None and self.sources.pushed(item.uri):
                outcomes[n] = await self._fold(item)
        wanted = [item for item, outcome in zip(items, outcomes, strict=True) if outcome is None]
        if self.hydrator is not None:
            found = await self.hydrator.hydrate(
                [(item.uri, item.hint, _not_before(item)) for item in wanted]
            )
        else:
            found = await asyncio.gather(*(self._hydrate(item) for item in wanted))
        answers = iter(found)
        return [next(answers) if outcome is None else outcome for outcome in outcomes]

    async def _fold(self, item: WorkItem) -> Hydrated | BaseException:
        try:
            payloads = await asyncio.to_thread(self.journal.payloads, item.uri)
            return await self.sources.fold(item.uri, payloads)
        except Exception as error:  # kept as work, as a failed hydration is
            return error

    # -- helpers -----------------------------------------------------------------------

    async def _hydrate(self, item: WorkItem) -> Hydrated | BaseException:
        try:
            return await self.sources.hydrate(item.uri, item.hint, not_before=_not_before(item))
        except Exception as error:  # every failure is kept as work, never raised
            return error

    def _plan(
        self,
        item: WorkItem,
        hydrated: Hydrated,
        writes: list[tuple[Facts, Observation]],
        stubs: list[tuple[str, str, Observation]],
        deletes: list[tuple[str, Observation]],
        findings: list[tuple[str, bool, dict[str, Any] | None]],
        result: PassResult,
    ) -> None:
        platform = AipUri.parse(item.uri).platform_id
        obs = Observation(platform, hydrated.observed_at, item.last_event_id)
        if hydrated.facts is None:
            if self.graph.state(item.uri) is None:
                # Never seen, and not at its source (yet, or any more): remember the URI as
                # a deleted entity, so that reconcile reads it again if it appears later
                # and its own event is lost.
                stubs.append((item.uri, self._class_for(item), obs))
            deletes.append((item.uri, obs))
            if hydrated.uri != item.uri:
                deletes.append((hydrated.uri, obs))
            return
        began = time.perf_counter()
        report = self.validator.validate(
            hydrated.facts, self._types_of, reference_types=hydrated.references
        )
        result.validate_seconds += time.perf_counter() - began
        uris = {f.uri for f in hydrated.facts.flatten()}
        if not report.conforms:
            result.rejected += 1
            findings.append((hydrated.facts.uri, True, report.as_dict()))
            self.sources.reports[platform].fail(
                "validation",
                hydrated.facts.uri,
                f"{len(report.violations)} SHACL violation(s); not written: "
                + "; ".join(r.message for r in report.violations[:3]),
            )
            return
        findings.append((hydrated.facts.uri, False, report.as_dict() if report.results else None))
        writes.append((hydrated.facts, obs))
        stubs.extend((uri, cls, obs) for uri, cls in hydrated.references.items())
        if item.uri not in uris:
            deletes.append((item.uri, obs))  # a part its parent no longer has

    def _class_for(self, item: WorkItem) -> str:
        """The class of a work item's entity: its hint, or its component type's default."""
        return item.hint or self._class_for_uri(item.uri)

    def _class_for_uri(self, text: str) -> str:
        """The default class of an entity: its component type's, as its provider says."""
        uri = AipUri.parse(text)
        return self.sources.provider_for(uri).component_types[uri.component_type]

    def _is_stub(self, uri: str) -> bool:
        state = self.graph.state(uri)
        return state is not None and state.state is HydrationState.REFERENCED

    def _dangling(self, uri: str) -> dict[str, Any]:
        """The quality finding for a reference whose target its source does not have."""
        referrers = sorted(
            {
                term_value(q.subject)
                for q in self.graph.quads(None, None, NamedNode(uri), inferred=False)
            }
        )
        return {
            "conforms": True,
            "kind": "dangling-reference",
            "message": f"{uri} is referenced but its source answers 404 "
            f"({self.dangling_after} tries)",
            "referencedBy": referrers,
            "results": [],
        }

    def _types_of(self, iri: str) -> set[str]:
        asserted = self.graph.quads(NamedNode(iri), RDF_TYPE, inferred=False)
        return {term_value(q.object) for q in asserted}

    def _type_of(self, uri: str) -> str | None:
        types = self._types_of(uri)
        return min(types) if types else None

    def _backoff(self, item: WorkItem, error: BaseException | None) -> float:
        base = min(MAX_BACKOFF, 0.5 * 2 ** min(item.attempts, 12))
        delay = self._random.uniform(base / 2, base)
        hint = getattr(error, "retry_after", None)
        return max(delay, float(hint)) if isinstance(hint, int | float) else delay


class UriTooLong(LifecycleGraphError, ValueError):
    """A work item's URI is too long to be put in a URL: it is never hydrated."""

    def __init__(self, uri: str, limit: int) -> None:
        super().__init__(
            f"the URI is {len(uri)} characters, over the limit of {limit} "
            f"(max_uri_length); not hydrated: {uri[:200]}…"
        )


def _storable(payload: str | bytes | dict[str, Any], limit: int) -> str:
    """A rejected payload as text the journal can keep: at most ``limit`` characters,
    whatever it holds (bytes that are not UTF-8, lone surrogates, objects that are
    not JSON). What is not UTF-8 is kept as backslash escapes (``\\xff``): visible,
    and still refused if the letter is replayed."""
    if isinstance(payload, bytes):
        text = payload[:limit].decode("utf-8", "backslashreplace")
    elif isinstance(payload, str):
        text = payload[:limit]
    else:
        try:
            text = json.dumps(payload)[:limit]
        except (TypeError, ValueError, RecursionError):
            text = repr(payload)[:limit]
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _describe(error: BaseException) -> str:
    if isinstance(error, RemoteFailure):
        return f"{error.kind}: {error}"
    if isinstance(error, LifecycleGraphError):
        return f"{type(error).__name__}: {error}"
    return f"{type(error).__name__}: {error!r}"


def _root(hydrated: Hydrated) -> str:
    """The URI of the entity a hydration read: a part's URI reads its root (an A/B
    test cell's, its test), and the root is what a worker of a cluster owns."""
    return hydrated.facts.uri if hydrated.facts is not None else hydrated.uri


def _not_before(item: WorkItem) -> datetime | None:
    """The freshness bound of a work item's hydration: when its latest event was accepted."""
    if item.not_before is None:
        return None
    return datetime.fromtimestamp(item.not_before, UTC)
