"""Partitions of entity URIs among the workers of a cluster (``[cluster]``).

Every worker of a cluster has the same list of peers; each entity URI has exactly one
owner among them, found from a stable hash of the URI (BLAKE2b, never Python's
``hash``, which changes from one process to the next), so every worker, in every run,
agrees on who owns what. Only the owner hydrates, validates and writes an entity; the
others forward its work (docs/scale-out.md). An entity's parts belong with their root
(the URI a work item hydrates), so :meth:`Partition.owns` is asked of work items' URIs
and of derived facts' subjects only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["Partition"]


@dataclass(frozen=True, slots=True)
class Partition:
    """This worker's share of the URIs: worker ``me`` of ``size``.

    Args:
        size: how many workers share the URIs (at least 1).
        me: this worker's index, ``0 <= me < size``.

    Raises:
        ValueError: ``size`` is below 1, or ``me`` is not an index of it.

    >>> three = Partition(3, 0)
    >>> three.owner("aip://registry/model/ranking")
    1
    >>> three.owns("aip://registry/model/ranking"), Partition(3, 1).owns("aip://registry/model/ranking")
    (False, True)
    >>> Partition.single().owns("aip://anything/at/all")
    True
    """

    size: int
    me: int

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError(f"a partition needs at least one worker, not {self.size}")
        if not 0 <= self.me < self.size:
            raise ValueError(f"worker {self.me} is not one of 0 to {self.size - 1}")

    @classmethod
    def single(cls) -> Partition:
        """The partition of a worker alone: it owns every URI."""
        return cls(1, 0)

    def owner(self, uri: str) -> int:
        """The index of the worker that owns ``uri``: the same in every process and run."""
        if self.size == 1:
            return 0
        digest = hashlib.blake2b(uri.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        return int.from_bytes(digest, "big") % self.size

    def owns(self, uri: str) -> bool:
        """Whether this worker owns ``uri``."""
        return self.owner(uri) == self.me
