"""An in-memory stand-in for a source's HTTP client, for provider unit tests.

Providers are tested over real HTTP against the sandbox elsewhere; this one lets a
test serve exact JSON documents and count the requests made.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass
class Fetched:
    status: int
    body: dict[str, Any] | None
    etag: str | None = None
    from_cache: bool = False
    fetched_at: datetime = datetime(2026, 1, 1, tzinfo=UTC)


class FakeClient:
    """Serves ``documents[path]``; ``users?email=`` from the identity documents."""

    def __init__(self, documents: dict[str, dict[str, Any]], now: datetime | None = None):
        self.documents = documents
        self.requests: Counter[str] = Counter()
        self.now = now  # None: the real time of each request

    def _now(self) -> datetime:
        return self.now or datetime.now(UTC)

    async def get(self, path: str, params: dict[str, str] | None = None) -> Fetched:
        self.requests[path] += 1
        if path == "/api/v1/users" and params and "email" in params:
            users = [
                d
                for p, d in self.documents.items()
                if p.startswith("/api/v1/users/") and d.get("email") == params["email"]
            ]
            return Fetched(200, {"users": users}, fetched_at=self._now())
        body = self.documents.get(path)
        return Fetched(200 if body is not None else 404, body, fetched_at=self._now())

    async def aclose(self) -> None:
        pass
