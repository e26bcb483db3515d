"""The operator's side of a running ``lifecyclegraph serve``, over HTTP: its status,
its dead letters, and its jobs (reconcile, enrich, reindex, rules), started and
followed to their end: :class:`ServiceClient`.

What the command line asks when ``--server URL`` is given for a command that must
write (the service holds the store, so it does the work), or that reads the
ingestion journal rather than the graph (``status``, ``deadletters``). The graph
itself is :class:`~lifecyclegraph.graph.RemoteGraph`'s.

>>> client = ServiceClient("http://127.0.0.1:8800")  # nothing is sent yet
>>> client.url
'http://127.0.0.1:8800'
>>> client.close()
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Self

import httpx

from lifecyclegraph.core.errors import AccessDeniedError, RemoteGraphError

__all__ = ["ServiceClient"]

ADMIN = "/api/v1/admin"


class RequestTooLargeError(RemoteGraphError):
    """The service refused a request as larger than it accepts (413)."""


class ServiceClient:
    """A running service's status, dead letters and jobs.

    Args:
        url: the service's root URL.
        token: a bearer token (a write token to start jobs and replay dead letters).
        timeout: seconds to wait for each answer.
        poll: seconds between two looks at a running job.
        transport: an httpx transport (tests).

    Errors are :class:`~lifecyclegraph.core.errors.RemoteGraphError` (cannot reach the
    service, or it answered an error; a job that failed, with the service's reason) and
    :class:`~lifecyclegraph.core.errors.AccessDeniedError` (it refused the token); the
    token never appears in them.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        poll: float = 0.25,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.poll = poll
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        """Close the connection (the service goes on)."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ----------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request; its JSON answer, or the error that says what went wrong."""
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TransportError as error:
            raise RemoteGraphError(
                f"cannot reach the lifecyclegraph service at {self.url}: {error}", self.url
            ) from error
        problem = _problem(response)
        detail = problem.get("detail") or response.reason_phrase
        if response.status_code in (401, 403):
            raise AccessDeniedError(f"{self.url} refused {method} {path}: {detail}", self.url)
        if not response.is_success:
            raise RemoteGraphError(
                f"{self.url} answered {method} {path} with {response.status_code}: {detail}",
                self.url,
            )
        try:
            return response.json()
        except ValueError:
            raise RemoteGraphError(
                f"{self.url} answered {method} {path} with something that is not JSON",
                self.url,
            ) from None

    # -- reads -------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """``GET /api/v1/status``: what :meth:`Service.status
        <lifecyclegraph.server.service.Service.status>` answers in the service."""
        found: dict[str, Any] = self._request("GET", "/api/v1/status")
        return found

    def dead_letters(self) -> list[dict[str, Any]]:
        """The dead letters not replayed yet, oldest first: ``id``, ``kind``,
        ``received_at``, ``reason``, ``payload``."""
        found: list[dict[str, Any]] = self._request("GET", f"{ADMIN}/deadletters")["letters"]
        return found

    def search_check(self) -> dict[str, Any]:
        """The search index compared with the store (``CheckReport.as_dict()``)."""
        found: dict[str, Any] = self._request("GET", f"{ADMIN}/search/check")
        return found

    # -- writes ------------------------------------------------------------------------

    def submit_lines(self, body: bytes, *, name: str | None, first_line: int) -> dict[str, Any]:
        """``POST /api/v1/events`` with a JSON-lines body (write token): each non-blank
        line one event, numbered from ``first_line``; with ``name`` the service's dead
        letters say ``<name>:<line>``, as ``lifecyclegraph ingest`` on the store does.

        Returns:
            ``accepted`` (a count) and ``rejected`` (``line`` and ``reason`` of each
            refused line), also when every line was refused (the service's 400).
        """
        params: dict[str, Any] = {"first_line": first_line}
        if name is not None:
            params["name"] = name
        headers = {"Content-Type": "application/x-ndjson"}
        try:
            response = self._client.post(
                "/api/v1/events", content=body, params=params, headers=headers
            )
        except httpx.TimeoutException as error:
            last = first_line + max(body.count(b"\n") - 1, 0)
            raise RemoteGraphError(
                f"no answer from the lifecyclegraph service at {self.url} in time to POST "
                f"/api/v1/events (lines {first_line}-{last}): they may have been accepted; "
                f"sending them again is harmless (ingestion is idempotent): {error}",
                self.url,
            ) from error
        except httpx.TransportError as error:
            raise RemoteGraphError(
                f"cannot reach the lifecyclegraph service at {self.url}: {error}", self.url
            ) from error
        problem = _problem(response)
        if response.status_code == 400 and isinstance(problem.get("rejected"), list):
            return {"accepted": 0, "rejected": problem["rejected"]}
        detail = problem.get("detail") or response.reason_phrase
        if response.status_code in (401, 403):
            raise AccessDeniedError(f"{self.url} refused POST /api/v1/events: {detail}", self.url)
        if response.status_code == 413:
            raise RequestTooLargeError(f"{response.status_code}: {detail}", self.url)
        if not response.is_success:
            raise RemoteGraphError(
                f"{self.url} answered POST /api/v1/events with {response.status_code}: {detail}",
                self.url,
            )
        found: dict[str, Any] = response.json()
        return found

    def wait_processed(self, on_progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Wait until the service has processed every event it holds and no queued work
        is due (what is left waits for a retry, or for its turn in a reconciliation
        spread over its interval), as ``ingest`` drains on the store; the last status
        seen.

        Args:
            on_progress: called with how many queued entities left the queue since the
                last call (for a progress bar).
        """
        status = self.status()
        last = status["queue_depth"]
        while status["queue_due"]:
            time.sleep(self.poll)
            status = self.status()
            if on_progress is not None and status["queue_depth"] < last:
                on_progress(last - status["queue_depth"])
            last = status["queue_depth"]
        return status

    def search_repair(self) -> dict[str, Any]:
        """Re-index what the check finds wrong; what was found, as the check says it."""
        found: dict[str, Any] = self._request("POST", f"{ADMIN}/search/repair")
        return found

    def replay_dead_letters(self) -> dict[str, int]:
        """Submit the dead letters again (the service's worker processes them):
        ``accepted``, ``rejected`` and ``requeued`` (work queued again)."""
        found: dict[str, int] = self._request("POST", f"{ADMIN}/deadletters/replay")
        return found

    def run(
        self,
        kind: str,
        *,
        params: dict[str, Any] | None = None,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Start a job (``reconcile``, ``enrich``, ``reindex`` or ``rules``), follow it
        to its end and return it as ``GET /api/v1/admin/jobs/{id}`` shows it.

        Args:
            kind: the job.
            params: the job's query parameters (``stale_after`` for ``enrich``).
            on_progress: called with the job each time it is looked at.

        Raises:
            RemoteGraphError: a job of that kind is already running, or the job failed
                (the service's reason).
        """
        job: dict[str, Any] = self._request("POST", f"{ADMIN}/{kind}", params=params)
        while True:
            if on_progress is not None:
                on_progress(job)
            if job["state"] != "running":
                break
            time.sleep(self.poll)
            job = self._request("GET", f"{ADMIN}/jobs/{job['id']}")
        if job["state"] == "failed":
            raise RemoteGraphError(
                f"the {kind} job {job['id']} failed in the service at {self.url}: "
                f"{job.get('error')}",
                self.url,
            )
        return job


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
