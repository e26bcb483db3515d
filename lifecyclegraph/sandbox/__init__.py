"""The sandbox: every installed source system, served over real HTTP from a demo world.

``lifecyclegraph sandbox`` runs it; tests and ``demo`` use :func:`run_in_thread`.
Each system lives under its own base URL prefix (for the six reference ones
``http://127.0.0.1:8900/registry``, ``/orchestrator``, ``/experimentation``,
``/featurestore``, ``/datasets``, ``/identity``) and serves exactly the
source-systems contract; the sandbox's own control API is under ``/_sandbox``. The
systems are the providers that bring a sandbox fake (:class:`SystemTable`). See
``docs/sandbox.md``.

>>> from lifecyclegraph.sandbox import World
>>> World.load().get("test", "12345")["title"]
'Ranking Model v5 vs v4'
"""

from lifecyclegraph.sandbox.app import create_app
from lifecyclegraph.sandbox.events import (
    HttpSink,
    JsonLinesSink,
    MemorySink,
    make_event,
    perturb,
)
from lifecyclegraph.sandbox.faults import FaultRule, Faults, RequestLog, max_in_window
from lifecyclegraph.sandbox.server import SandboxServer, run_in_thread, serve
from lifecyclegraph.sandbox.systems import SystemTable
from lifecyclegraph.sandbox.world import World, WorldError

__all__ = [
    "EVENT_TYPES",
    "SYSTEMS",
    "FaultRule",
    "Faults",
    "HttpSink",
    "JsonLinesSink",
    "MemorySink",
    "RequestLog",
    "SandboxServer",
    "SystemTable",
    "World",
    "WorldError",
    "create_app",
    "make_event",
    "max_in_window",
    "perturb",
    "run_in_thread",
    "serve",
]


def __getattr__(name: str) -> object:
    """``SYSTEMS`` (platform ids) and ``EVENT_TYPES`` (event type -> (platform id, id
    fields)) of the installed systems, made from their table on access."""
    if name == "SYSTEMS":
        return tuple(SystemTable.installed().systems)
    if name == "EVENT_TYPES":
        return dict(SystemTable.installed().event_types)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
