"""Ingestion commands: ``ingest``, ``deadletters``, ``reconcile``, ``enrich``, ``status``.

With ``--server URL`` (a running ``serve`` holds the store), ``ingest`` sends its
lines to the service's ``POST /api/v1/events``, ``deadletters`` and ``status`` ask the
service, and ``reconcile``, ``enrich`` and ``deadletters --replay``
start its jobs and follow them to their end, printing the same lines.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from typing import IO, Any

import click
from pydantic import ValidationError

from lifecyclegraph.cli.context import (
    EXIT_CHECK_FAILED,
    config_of,
    run_job,
    service_client,
)
from lifecyclegraph.cli.model import model_options
from lifecyclegraph.cli.progress import progress
from lifecyclegraph.core.config import QueueConfig, describe
from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.core.jsontext import json_lines
from lifecyclegraph.ingest.queues import ConsumeResult, QueueConsumer, open_queue
from lifecyclegraph.server.client import RequestTooLargeError, ServiceClient
from lifecyclegraph.server.service import Service
from lifecyclegraph.store.snapshots import SnapshotStore

CHUNK = 1000


def _service(ctx: click.Context, *, create: bool = True) -> Service:
    """The service of the configuration; with ``create=False`` its store must exist."""
    config = config_of(ctx)
    if not create and config.store.url is None:  # a remote store answers, or fails, itself
        SnapshotStore.require(config.store.path)
    return Service(config)


def _drain(service: Service, label: str, wait: float = 0.0) -> None:
    """Process the queue to its end, with a progress bar on a terminal."""
    total = service.journal.stats()["queue_depth"]

    async def run() -> None:
        with progress(label, total=total) as advance:
            await service.ingestor.drain(wait=wait, on_pass=lambda step: advance(step.taken))
        await service.sources.aclose()

    asyncio.run(run())


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """The file's non-blank lines, numbered from 1, without their line break."""
    return json_lines(stream)


@click.command()
@model_options
@click.argument("file", type=click.File("rb"), required=False)
@click.option("--no-process", is_flag=True, help="Only record the events; do not hydrate now.")
@click.option(
    "--from-queue",
    "queue_url",
    metavar="URL",
    help="Consume a queue instead of reading FILE: sqs://<queue-name> or "
    "kafka://<host:port>/<topic>, with the settings of its [[queues]] table if one has "
    "this url (docs/queues.md). Consumes until a receive comes back empty.",
)
@click.option(
    "--wait",
    type=click.IntRange(0, 20),
    default=None,
    help="With --from-queue: seconds a receive waits for messages, so the seconds the "
    "last, empty one takes (default: the queue's wait_seconds).",
)
@click.pass_context
def ingest(
    ctx: click.Context,
    file: IO[bytes] | None,
    no_process: bool,
    queue_url: str | None,
    wait: int | None,
) -> None:
    """Ingest events from FILE (JSON lines, UTF-8; - for standard input), or from a
    queue (--from-queue URL).

    Every event is recorded durably before anything else. A bad line (not JSON,
    not UTF-8, over a limit, an unknown event type...) is dead-lettered with its
    line number and reason, and ingestion goes on. Exits with 1 if any line was
    rejected (the good ones are ingested all the same).

    From a queue, a message is acknowledged only once its events are in the journal;
    a bad message is dead-lettered with the queue's name and its message id, and
    acknowledged. Exits with 1 if any event was dead-lettered, 2 if the queue cannot
    be read (missing, credentials, unreachable: the message says which).

    With --server URL (a write token), the lines of FILE go to the running service's
    POST /api/v1/events in batches, and the same lines are printed: rejected ones by
    file and line, then (unless --no-process) the queue once the service processed them.
    A queue beside a running service is the service's to consume: give serve the
    queue ([[queues]]); --from-queue with --server exits with 2 and says so.
    """
    if (file is None) == (queue_url is None):
        raise click.UsageError("give either FILE or --from-queue URL")
    client = service_client(ctx)
    if client is not None and queue_url is not None:
        client.close()
        raise click.UsageError(
            "--from-queue does not go through --server: a running service consumes its "
            "queues itself; add the queue to its configuration ([[queues]], docs/queues.md)"
        )
    if queue_url is not None:
        _ingest_queue(ctx, queue_url, wait, no_process)
        return
    assert file is not None
    name = getattr(file, "name", "-")
    if client is not None:
        with client:
            accepted, rejected = _post(client, name, file)
            click.echo(f"accepted {accepted} events, rejected {rejected}")
            if not no_process:
                with progress("processing") as advance:
                    stats = client.wait_processed(advance)
                click.echo(
                    f"queue depth {stats['queue_depth']}, failing {stats['failing']}, "
                    f"rejected entities {stats['rejected_entities']}"
                )
        if rejected:
            sys.exit(EXIT_CHECK_FAILED)
        return
    service = _service(ctx)
    accepted = rejected = 0
    try:
        chunk: list[tuple[int, bytes]] = []
        for item in _lines(file):
            chunk.append(item)
            if len(chunk) == CHUNK:
                a, r = _submit(service, name, chunk)
                accepted, rejected = accepted + a, rejected + r
                chunk = []
        if chunk:
            a, r = _submit(service, name, chunk)
            accepted, rejected = accepted + a, rejected + r
        click.echo(f"accepted {accepted} events, rejected {rejected}")
        if not no_process:
            _process(service)
    finally:
        service.journal.close()
        service.graph.close()
    if rejected:
        sys.exit(EXIT_CHECK_FAILED)


def _process(service: Service) -> None:
    _drain(service, "processing")
    stats = service.journal.stats()
    click.echo(
        f"queue depth {stats['queue_depth']}, failing {stats['failing']}, "
        f"rejected entities {stats['rejected_entities']}"
    )


def _queue_config(ctx: click.Context, url: str) -> QueueConfig:
    """The ``[[queues]]`` table whose url is ``url``, or a queue of that url with the
    default settings."""
    for queue in config_of(ctx).queues:
        if queue.url == url:
            return queue
    try:
        return QueueConfig(url=url)
    except ValidationError as error:
        raise ConfigError(describe(error, "--from-queue")) from None


def _ingest_queue(ctx: click.Context, url: str, wait: int | None, no_process: bool) -> None:
    config = _queue_config(ctx, url)
    queue = open_queue(config)
    service = _service(ctx)
    consumer = QueueConsumer(queue, service.ingestor, config.max_receives)

    async def consume() -> ConsumeResult:
        try:
            await queue.open()
            return await consumer.drain(wait)
        finally:
            await queue.aclose()

    try:
        result = asyncio.run(consume())
        for reason in result.reasons:
            click.echo(f"rejected: {reason}", err=True)
        click.echo(
            f"accepted {result.accepted} events, rejected {result.rejected + result.poison} "
            f"({result.messages} messages from {config.name})"
        )
        if not no_process:
            _process(service)
    finally:
        service.journal.close()
        service.graph.close()
    if result.rejected or result.poison:
        sys.exit(EXIT_CHECK_FAILED)


#: The most bytes ``ingest --server`` sends at once (under the service's default
#: max_request_bytes, 10 MiB; a batch also ends at CHUNK events).
POST_BYTES = 4 * 1024 * 1024


def _post(client: ServiceClient, name: str, file: IO[bytes]) -> tuple[int, int]:
    """Send the file's lines to the service in batches of whole lines (blank ones too,
    so that the service numbers them as the file does); print the rejected ones."""
    accepted = rejected = 0
    batch: list[bytes] = []
    first, events, size = 1, 0, 0

    def send(lines: list[bytes], first: int) -> None:
        nonlocal accepted, rejected
        if not any(line.strip() for line in lines):
            return
        try:
            found = client.submit_lines(b"".join(lines), name=name, first_line=first)
        except RequestTooLargeError as error:
            # over the service's max_request_bytes or max_batch_events: halves, down
            # to the one line that is too large alone, which is rejected (and the
            # rest of the file still sent), as ingest on the store rejects it
            if len(lines) > 1:
                half = len(lines) // 2
                send(lines[:half], first)
                send(lines[half:], first + half)
                return
            reason = f"larger than the service accepts ({error})"
            found = {"accepted": 0, "rejected": [{"line": first, "reason": reason}]}
        for item in found["rejected"]:
            click.echo(f"{name}:{item['line']}: rejected: {item['reason']}", err=True)
        accepted += found["accepted"]
        rejected += len(found["rejected"])

    for number, line in enumerate(file, 1):
        if batch and (events == CHUNK or size + len(line) > POST_BYTES):
            send(batch, first)
            batch, first, events, size = [], number, 0, 0
        batch.append(line)
        events += bool(line.strip())
        size += len(line)
    send(batch, first)
    return accepted, rejected


def _submit(service: Service, name: str, chunk: list[tuple[int, bytes]]) -> tuple[int, int]:
    where = [f"{name}:{number}" for number, _ in chunk]
    result = service.submit_events((line for _, line in chunk), where)
    for index, reason in result.rejected:
        click.echo(f"{where[index]}: rejected: {reason}", err=True)
    return result.accepted, len(result.rejected)


@click.command()
@model_options
@click.option("--replay", is_flag=True, help="Submit the dead letters again.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def deadletters(ctx: click.Context, replay: bool, as_json: bool) -> None:
    """List rejected events with their reasons, or replay them."""
    client = service_client(ctx)
    if client is not None:
        with client:
            if replay:
                found = client.replay_dead_letters()
                click.echo(
                    f"replayed: accepted {found['accepted']}, rejected {found['rejected']}, "
                    f"work queued again {found['requeued']}"
                )
                return
            _print_letters(client.dead_letters(), as_json)
        return
    service = _service(ctx, create=False)
    try:
        if replay:
            result = service.ingestor.replay_dead_letters()
            click.echo(
                f"replayed: accepted {result.accepted}, rejected {len(result.rejected)}, "
                f"work queued again {result.requeued}"
            )
            _drain(service, "processing")
            return
        _print_letters([_letter(letter) for letter in service.journal.dead_letters()], as_json)
    finally:
        service.journal.close()
        service.graph.close()


def _print_letters(letters: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(letters, indent=2))
        return
    for letter in letters:
        click.echo(
            f"{letter['id']}\t{letter['received_at']}\t{letter['reason']}\t"
            f"{letter['payload'][:200]}"
        )


def _letter(letter: Any) -> dict[str, Any]:
    return {
        "id": letter.id,
        "kind": letter.kind,
        "received_at": letter.received_at,
        "reason": letter.reason,
        "payload": letter.payload,
    }


@click.command()
@model_options
@click.pass_context
def reconcile(ctx: click.Context) -> None:
    """Read every known entity again from its source, repairing what lost events missed."""
    client = service_client(ctx)
    if client is not None:
        with client:
            job = run_job(client, "reconcile", "reconciling")
        click.echo(f"queued {job['queued']} entities")
        return
    service = _service(ctx)
    try:
        queued = service.ingestor.reconcile()
        click.echo(f"queued {queued} entities")
        _drain(service, "reconciling")
    finally:
        service.journal.close()
        service.graph.close()


@click.command()
@model_options
@click.option(
    "--stale-after",
    type=float,
    default=None,
    help="Also re-read entities not hydrated for this many seconds.",
)
@click.option(
    "--wait",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds to wait for work that is retried after failures.",
)
@click.pass_context
def enrich(ctx: click.Context, stale_after: float | None, wait: float) -> None:
    """One enrichment pass (for cron): hydrate stubs (and stale entities), update derived
    facts, and record when each entity was enriched.

    With --server, the service's enrich job does it (its worker retries failures as
    always; --wait does not apply)."""
    client = service_client(ctx)
    if client is not None:
        params = None if stale_after is None else {"stale_after": stale_after}
        with client:
            job = run_job(client, "enrich", "enriching", params)
            click.echo(f"queued {job['queued']} entities")
            stats = client.status()
        click.echo(
            f"queue depth {stats['queue_depth']}, failing {stats['failing']}, "
            f"dangling references {stats['dangling_references']}"
        )
        return
    service = _service(ctx)
    try:
        queued = service.ingestor.queue_enrichment(stale_after)
        click.echo(f"queued {queued} entities")

        _drain(service, "enriching", wait=wait)
        stats = service.journal.stats()
        click.echo(
            f"queue depth {stats['queue_depth']}, failing {stats['failing']}, "
            f"dangling references {stats['dangling_references']}"
        )
    finally:
        service.journal.close()
        service.graph.close()


@click.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Queue depth, lag and failures per source.

    With --json, the service's whole status; read from a stopped store, its `sparql`
    (the query workers) and `jobs` (the jobs of `serve`) are null: neither runs there.
    """
    client = service_client(ctx)
    if client is not None:
        with client:
            stats = client.status()
    else:
        service = _service(ctx, create=False)
        try:
            stats = service.status(serving=False)
        finally:
            service.journal.close()
            service.graph.close()
    if as_json:
        click.echo(json.dumps(stats, indent=2))
        return
    click.echo(
        f"events {stats['events']} (pending {stats['events_pending']}); queue depth "
        f"{stats['queue_depth']}, lag {stats['lag_seconds']} s, failing "
        f"{stats['failing']}, dead letters {stats['dead_letters']}, rejected entities "
        f"{stats['rejected_entities']}"
    )
    for platform, entry in sorted(stats["sources"].items()):
        click.echo(
            f"  {platform:16} queued {entry['queued']:6}  failing {entry['failing']:4}  "
            f"lag {entry['lag_seconds']} s"
        )
        for problem in entry.get("problems", [])[:3]:  # the latest, newest first
            where = f" {problem['uri']}" if problem["uri"] else ""
            click.echo(f"    {problem['level']} {problem['kind']}{where}: {problem['message']}")
