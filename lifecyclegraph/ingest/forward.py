"""Handing work to the worker of the cluster that owns it (``[cluster]``, docs/scale-out.md).

A worker journals every event it receives, but hydrates and writes only the entities
of its own partition. Work for another worker's entity is sent to that worker's
``POST /api/v1/cluster/work`` (a JSON array, bearer ``[cluster] token``), which queues
it in its own journal (a pushed source's work, OpenLineage's, with the documents this
worker's journal holds for it, which the owner records first); only after a ``2xx`` is
the work done here. A peer that does not answer keeps the work pending here, with a
back-off per peer, and is not counted as a failed attempt of the work: nothing is lost
while it is down.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from lifecyclegraph.core.cluster import Partition
from lifecyclegraph.core.errors import LifecycleGraphError
from lifecyclegraph.ingest.journal import WorkItem

__all__ = ["FORWARD_PATH", "ForwardFailed", "Forwarder", "forwarded_item"]

#: The route of a worker that takes work from its peers.
FORWARD_PATH = "/api/v1/cluster/work"
#: The longest a peer that does not answer is left alone before it is tried again.
MAX_PEER_BACKOFF = 30.0


class ForwardFailed(LifecycleGraphError, ConnectionError):
    """A peer did not take forwarded work (down, or it answered an error)."""


def forwarded_item(
    item: WorkItem, documents: Sequence[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """A work item as it is sent to its owner: what the owner queues.

    ``documents`` are a pushed source's documents this worker's journal holds for the
    item's URI, ``(event type, JSON text)`` each: its object is folded from them, so
    they go along (``"documents"``), and the owner records them before it queues.

    >>> item = WorkItem("aip://registry/model/m", None, "event", 1, 4, 0, "e1", 2.5)
    >>> forwarded_item(item)["reason"], forwarded_item(item)["not_before"]
    ('event', 2.5)
    >>> forwarded_item(item, [("START", "{}")])["documents"]
    [{'kind': 'START', 'text': '{}'}]
    """
    sent: dict[str, Any] = {
        "uri": item.uri,
        "hint": item.hint,
        "reason": item.reason,
        "not_before": item.not_before,
        "event_id": item.last_event_id,
    }
    if documents:
        sent["documents"] = [{"kind": kind, "text": text} for kind, text in documents]
    return sent


@dataclass
class _Peer:
    url: str
    failures: int = 0  #: consecutive failed forwards
    down_until: float = 0.0  #: monotonic time before which it is not tried
    forwarded: int = 0  #: work items it took
    last_error: str | None = None


@dataclass
class Forwarder:
    """Sends work to the workers that own it, and counts what it sent and received.

    Args:
        partition: this worker's partition (``me`` is this worker).
        peers: every worker's base URL, in partition order.
        token: the ``[cluster] token`` (sent as a bearer token, never logged).
        timeout: seconds one forward may take.
        transport: an httpx transport (tests' faults); default: the network.
    """

    partition: Partition
    peers: list[str]
    token: str = field(repr=False)
    timeout: float = 10.0
    transport: httpx.AsyncBaseTransport | None = None
    received: int = 0  #: work items peers handed to this worker
    _peers: list[_Peer] = field(default_factory=list, init=False, repr=False)
    _client: httpx.AsyncClient | None = field(default=None, init=False, repr=False)
    _random: random.Random = field(default_factory=random.Random, init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.peers) != self.partition.size:
            raise ValueError(
                f"{len(self.peers)} peers for a partition of {self.partition.size} workers"
            )
        self._peers = [_Peer(url.rstrip("/")) for url in self.peers]

    def foreign(self, items: Iterable[WorkItem]) -> dict[int, list[WorkItem]]:
        """The items another worker owns, by owner."""
        found: dict[int, list[WorkItem]] = {}
        for item in items:
            owner = self.partition.owner(item.uri)
            if owner != self.partition.me:
                found.setdefault(owner, []).append(item)
        return found

    def waiting(self, owner: int) -> float:
        """Seconds before peer ``owner`` is tried again (0: now)."""
        return max(0.0, self._peers[owner].down_until - time.monotonic())

    async def send(
        self,
        owner: int,
        items: list[WorkItem],
        documents: Mapping[str, Sequence[tuple[str, str]]] | None = None,
    ) -> None:
        """Hand ``items`` to worker ``owner``; return once it answered ``2xx``.

        ``documents`` maps an item's URI to the pushed source's documents that go
        with it (see :func:`forwarded_item`).

        Raises:
            ForwardFailed: it did not answer, answered another status, or is in its
                back-off after earlier failures (not tried).
        """
        peer = self._peers[owner]
        if self.waiting(owner) > 0:
            raise ForwardFailed(
                f"worker {owner} ({peer.url}) is left alone for {self.waiting(owner):.1f} s "
                f"after {peer.failures} failed forward(s): {peer.last_error}"
            )
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, transport=self.transport)
        documents = documents or {}
        body = [forwarded_item(item, documents.get(item.uri)) for item in items]
        try:
            response = await self._client.post(
                peer.url + FORWARD_PATH,
                json=body,
                headers={"Authorization": f"Bearer {self.token}"},
            )
        except httpx.HTTPError as error:
            raise self._failed(peer, f"{type(error).__name__}: {error}") from error
        if not response.is_success:
            raise self._failed(peer, f"answered {response.status_code}: {response.text[:300]}")
        peer.failures, peer.down_until, peer.last_error = 0, 0.0, None
        peer.forwarded += len(items)

    def _failed(self, peer: _Peer, reason: str) -> ForwardFailed:
        peer.failures += 1
        ceiling = min(MAX_PEER_BACKOFF, 0.25 * 2 ** min(peer.failures, 10))
        peer.down_until = time.monotonic() + self._random.uniform(ceiling / 2, ceiling)
        peer.last_error = reason
        return ForwardFailed(f"forwarding to {peer.url} failed: {reason}")

    def stats(self) -> dict[str, Any]:
        """Per peer: its URL, the work it took, its failures in a row and last error;
        and the work this worker received."""
        return {
            "forwarded": sum(p.forwarded for p in self._peers),
            "received": self.received,
            "peers": [
                {
                    "url": p.url,
                    "forwarded": p.forwarded,
                    "failures": p.failures,
                    "last_error": p.last_error,
                }
                for p in self._peers
            ],
        }

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
