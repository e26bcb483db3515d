"""Running the sandbox over real HTTP: in a background thread (tests, ``demo``) or in
the foreground (``lifecyclegraph sandbox``).

>>> with run_in_thread() as sandbox:
...     import httpx
...     httpx.get(sandbox.base_url("identity") + "/api/v1/users/alice").json()["teams"]
['personalization']
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

from lifecyclegraph.sandbox.app import create_app
from lifecyclegraph.sandbox.events import Event, MemorySink, Sink, open_sink, perturb
from lifecyclegraph.sandbox.faults import Faults, RequestLog
from lifecyclegraph.sandbox.systems import SystemTable
from lifecyclegraph.sandbox.world import World
from lifecyclegraph.server.serving import ServerThread, bind, serve_foreground, url_of

__all__ = ["SandboxProcess", "SandboxServer", "base_urls", "run_in_thread", "serve"]

EventTargets = str | Path | Sink | Sequence[str | Path | Sink] | None


def base_urls(root: str, systems: SystemTable | None = None) -> dict[str, str]:
    """The base URL of each system (default: every installed one) under a sandbox's root URL.

    >>> base_urls("http://127.0.0.1:8900")["registry"]
    'http://127.0.0.1:8900/registry'
    """
    table = systems if systems is not None else SystemTable.installed()
    return {system: f"{root.rstrip('/')}/{system}" for system in table.systems}


def _open_sinks(targets: EventTargets, token: str | None = None) -> tuple[list[Sink], list[Sink]]:
    """(every sink, the sinks opened here, which are closed when the server stops).

    ``token`` goes with every event POSTed to a URL target (see :func:`open_sink`).
    """
    if targets is None:
        return [], []
    if isinstance(targets, str | Path) or hasattr(targets, "send"):
        items: Sequence[str | Path | Sink] = [targets]  # type: ignore[list-item]
    else:
        items = targets
    sinks: list[Sink] = []
    opened: list[Sink] = []
    for item in items:
        if isinstance(item, str | Path):
            try:
                opened.append(open_sink(item, token=token))
            except ValueError:
                for sink in opened:
                    sink.close()
                raise
            sinks.append(opened[-1])
        else:
            sinks.append(item)
    return sinks, opened


class SandboxServer:
    """A sandbox serving over HTTP in a background thread. Stop it with :meth:`stop`
    (or use it as a context manager).

    Attributes:
        url: the root URL, e.g. ``http://127.0.0.1:8900``.
        world: the world it serves; change it directly (events go to the sinks).
        faults: the faults in force.
        stats: every request the systems received.
        events: every event the world emitted or published.
    """

    def __init__(
        self,
        *,
        server: ServerThread,
        world: World,
        faults: Faults,
        stats: RequestLog,
        events: MemorySink,
        sinks: list[Sink],
    ) -> None:
        self._server = server
        self._sinks = sinks
        self.url = server.url
        self.world = world
        self.faults = faults
        self.stats = stats
        self.events = events

    def base_url(self, system: str) -> str:
        """The base URL of one system, e.g. ``http://127.0.0.1:8900/registry``."""
        if system not in self.world.table.systems:
            known = ", ".join(self.world.table.systems)
            raise ValueError(f"unknown system {system!r} (one of {known})")
        return f"{self.url}/{system}"

    def base_urls(self) -> dict[str, str]:
        """The base URL of every system it serves."""
        return base_urls(self.url, self.world.table)

    def reset(self) -> None:
        """Back to the world as loaded, with no faults, counts or recorded events."""
        self.world.reset()
        self.faults.clear()
        self.stats.clear()
        self.events.clear()

    def emit_seed_events(
        self,
        *,
        seed: int = 0,
        shuffle: bool = False,
        duplicate: float = 0.0,
        drop: float = 0.0,
        delay: float = 0.0,
    ) -> list[Event]:
        """Send one created event per object of the world to the sinks (and ``.events``),
        optionally perturbed as :func:`~lifecyclegraph.sandbox.events.perturb` does.

        Returns:
            The events sent, in the order sent.
        """
        stream = perturb(
            self.world.seed_events(seed=seed),
            seed=seed,
            shuffle=shuffle,
            duplicate=duplicate,
            drop=drop,
            delay=delay,
        )
        self.world.publish(stream)
        return stream

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, wait for the thread, and close the sinks it opened."""
        self._server.stop(timeout)
        for sink in self._sinks:
            sink.close()
        self._sinks = []

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def run_in_thread(
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    world: World | None = None,
    events_to: EventTargets = None,
    events_token: str | None = None,
    seed: int = 0,
    startup_timeout: float = 10.0,
) -> SandboxServer:
    """Serve the sandbox over real HTTP from a background thread.

    Args:
        port: the port; 0 picks a free one (see ``.url``).
        host: the address to listen on.
        world: the world to serve; the packaged demo world by default.
        events_to: where events go besides ``.events``: a URL, a JSON-lines file path,
            a sink, or a list of them.
        events_token: a bearer token sent with each event POSTed to a URL of
            ``events_to`` (lifecyclegraph's write token).
        seed: seed of the fault injection's random.

    Raises:
        OSError: the port cannot be bound.
        RuntimeError: the server did not start within ``startup_timeout`` seconds.
        ValueError: ``events_token`` is blank, or given for a file.
    """
    world = world if world is not None else World.load()
    faults, stats, events = Faults(seed), RequestLog(), MemorySink()
    sinks, opened = _open_sinks(events_to, events_token)
    for sink in sinks:
        world.subscribe(sink.send)
    app = create_app(world, faults=faults, requests=stats, events=events)
    try:
        server = ServerThread(app, host, port, lifespan="off").start(startup_timeout)
    except (OSError, RuntimeError):
        for sink in opened:
            sink.close()
        raise
    return SandboxServer(
        server=server,
        world=world,
        faults=faults,
        stats=stats,
        events=events,
        sinks=opened,
    )


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8900,
    world: World | None = None,
    events_to: EventTargets = None,
    events_token: str | None = None,
    seed: int = 0,
    log_level: str = "info",
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the sandbox in the foreground until SIGINT (Ctrl-C) or SIGTERM, then return.

    ``on_ready`` is called with the root URL once the port is bound, before serving.
    ``events_token`` is sent with each event POSTed to a URL of ``events_to``.

    Raises:
        OSError: the port cannot be bound.
        ValueError: ``events_token`` is blank, or given for a file.
    """
    world = world if world is not None else World.load()
    sinks, opened = _open_sinks(events_to, events_token)
    try:
        sock = bind(host, port)
    except OSError:
        for sink in opened:
            sink.close()
        raise
    try:
        for sink in sinks:
            world.subscribe(sink.send)
        app = create_app(world, faults=Faults(seed))
        if on_ready is not None:
            on_ready(url_of(sock))
        serve_foreground(app, sock, log_level)
    finally:
        sock.close()
        for sink in opened:
            sink.close()


class SandboxProcess:
    """The sandbox in a child process (``lifecyclegraph sandbox``), for benchmarks and
    crash tests that must not share a process (or the GIL) with lifecyclegraph.

    Args:
        world_dir: a directory with the six world files (default: the demo world).
    """

    def __init__(self, world_dir: str | Path | None = None) -> None:
        import re
        import subprocess
        import sys

        command = [
            sys.executable,
            "-m",
            "lifecyclegraph",
            "sandbox",
            "--port",
            "0",
            "--log-level",
            "warning",
        ]
        if world_dir is not None:
            command += ["--world", str(world_dir)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.search(r"(http://\S+)", line)
        if not match:
            self.stop()
            raise RuntimeError(f"the sandbox did not start: {line!r}")
        self.url = match.group(1)
        _wait_until_up(self.url + "/_sandbox")

    def base_url(self, system: str) -> str:
        return f"{self.url}/{system}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _wait_until_up(url: str, timeout: float = 20.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
