"""The demo, end to end: the sandbox's six source systems, the service, and the demo
world ingested through events over real HTTP into the embedded on-disk store.

``lifecyclegraph demo`` calls :func:`start_demo`, waits for the world to be ingested,
prints what it did and a few questions with their answers, and (with ``--serve``)
keeps everything running so that the API can be explored.
"""

from __future__ import annotations

import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from lifecyclegraph.core.config import Config
from lifecyclegraph.sandbox.server import SandboxServer, run_in_thread
from lifecyclegraph.sandbox.world import SYSTEMS
from lifecyclegraph.server.app import create_app
from lifecyclegraph.server.service import Service
from lifecyclegraph.server.serving import ServerThread

__all__ = ["DEMO_QUERIES", "Demo", "start_demo"]

INSTANCE = "aip://model/registry/ranking-model-v5-20XX0101"

DEMO_QUERIES: dict[str, str] = {
    "What the graph holds, by type": """
        SELECT ?type (COUNT(?e) AS ?entities) WHERE {
          ?e lg:hydrationState lg:Hydrated ; a ?type .
          FILTER(STRSTARTS(STR(?type), STR(lg:)) && ?type NOT IN (lg:Asset, lg:UnusedAsset))
        } GROUP BY ?type ORDER BY DESC(?entities) ?type""",
    "Which A/B tests test ranking-model-v5-20XX0101? (derived: instance, run, cell, test)": f"""
        SELECT ?test ?title WHERE {{
          <{INSTANCE}> lg:associatedAbTest ?test . ?test lg:name ?title }}""",
    "Which models does A/B test 12345 test? (the reverse)": """
        SELECT ?instance ?version WHERE {
          <aip://ab-test/experimentation/12345> lg:testsInstance ?instance .
          ?instance lg:version ?version }""",
    "Where does its data come from? (derived: every dataset upstream)": f"""
        SELECT ?dataset WHERE {{
          <{INSTANCE}> lg:upstream+ ?d . ?d a lg:Dataset ; lg:name ?dataset }}
        ORDER BY ?dataset""",
    "What breaks if viewing-history changes? (derived: downstream models)": """
        SELECT ?instance WHERE {
          <aip://dataset/datasets/viewing-history> lg:downstream+ ?instance .
          ?instance a lg:ModelInstance } ORDER BY ?instance""",
    "Which teams own it? (derived: owners, membership, parent teams)": f"""
        SELECT ?team WHERE {{
          <{INSTANCE}> lg:owningTeam ?t . ?t lg:name ?team }} ORDER BY ?team""",
    "Owners the identity platform does not know": """
        SELECT ?asset ?email WHERE { ?asset lg:unresolvedOwnerEmail ?email }""",
}


@dataclass
class Demo:
    """A running demo: the sandbox, the service and its API."""

    sandbox: SandboxServer
    service: Service
    api: ServerThread
    token: str
    directory: Path
    events_sent: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def wait_until_ingested(
        self, timeout: float = 300.0, progress: Callable[[dict[str, Any]], None] | None = None
    ) -> dict:
        """Wait until every event is processed and no work is queued; return the status."""
        deadline = time.monotonic() + timeout
        while True:
            stats = self.service.journal.stats()
            if progress is not None:
                progress(stats)
            if (
                stats["events"] >= self.events_sent
                and not stats["events_pending"]
                and not stats["queue_depth"]
            ):
                return stats
            if time.monotonic() > deadline:
                raise TimeoutError(f"the demo world was not ingested in {timeout} s: {stats}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the API (and with it the service) and the sandbox."""
        self.api.stop()
        self.sandbox.stop()


def start_demo(
    directory: Path,
    *,
    port: int = 0,
    sandbox_port: int = 0,
    store: dict[str, Any] | None = None,
) -> Demo:
    """Start the sandbox and the service, and send the demo world's events to the service.

    ``directory`` is recreated (it must be a lifecyclegraph store or not exist).
    ``store`` adds keys to the ``[store]`` table: with a ``url`` the graph is on that
    remote SPARQL 1.1 store (see ``docs/remote-store.md``), which should be empty.
    """
    began = time.perf_counter()
    if (directory / "lifecyclegraph-store.json").exists():
        shutil.rmtree(directory)
    sandbox = run_in_thread(port=sandbox_port)
    config = Config.from_dict(
        {
            "store": {**(store or {}), "path": str(directory)},
            "sources": {
                system: {"url": sandbox.base_url(system), "rate_limit": 500, "concurrency": 8}
                for system in SYSTEMS
            },
        },
        "<demo>",
    )
    service = Service(config)
    token = secrets.token_urlsafe(16)
    api = ServerThread(create_app(service, write_tokens=[token]), port=port).start()
    demo = Demo(sandbox, service, api, token, directory)
    events = sandbox.world.seed_events()
    with httpx.Client(
        base_url=api.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        for start in range(0, len(events), 200):
            response = client.post("/api/v1/events", json=events[start : start + 200])
            response.raise_for_status()
    demo.events_sent = len(events)
    demo.timings["started_and_sent"] = time.perf_counter() - began
    return demo


def answer(service: Service, query: str) -> list[list[str]]:
    """The rows of a demo query, as text."""
    return [[term.value for term in row if term is not None] for row in service.graph.sparql(query)]
