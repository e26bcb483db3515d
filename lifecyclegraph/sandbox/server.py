"""Running the sandbox over real HTTP: in a background thread (tests, ``demo``) or in
the foreground (``lifecyclegraph sandbox``).

>>> with run_in_thread() as sandbox:
...     import httpx
...     httpx.get(sandbox.base_url("identity") + "/api/v1/users/alice").json()["teams"]
['personalization']
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from lifecyclegraph.sandbox.app import create_app
from lifecyclegraph.sandbox.events import Event, MemorySink, Sink, open_sink, perturb
from lifecyclegraph.sandbox.faults import Faults, RequestLog
from lifecyclegraph.sandbox.world import SYSTEMS, World

__all__ = ["SandboxServer", "base_urls", "run_in_thread", "serve"]

EventTargets = str | Path | Sink | Sequence[str | Path | Sink] | None


def base_urls(root: str) -> dict[str, str]:
    """The base URL of each system under a sandbox's root URL.

    >>> base_urls("http://127.0.0.1:8900")["registry"]
    'http://127.0.0.1:8900/registry'
    """
    return {system: f"{root.rstrip('/')}/{system}" for system in SYSTEMS}


def _open_sinks(targets: EventTargets) -> tuple[list[Sink], list[Sink]]:
    """(every sink, the sinks opened here, which are closed when the server stops)."""
    if targets is None:
        return [], []
    if isinstance(targets, str | Path) or hasattr(targets, "send"):
        items: Sequence[str | Path | Sink] = [targets]  # type: ignore[list-item]
    else:
        items = targets  # type: ignore[assignment]
    sinks: list[Sink] = []
    opened: list[Sink] = []
    for item in items:
        if isinstance(item, str | Path):
            opened.append(open_sink(item))
            sinks.append(opened[-1])
        else:
            sinks.append(item)
    return sinks, opened


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose
    # protocol says TCP, and without it every response waits ~40 ms (Nagle + delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


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
        server: uvicorn.Server,
        thread: threading.Thread,
        sock: socket.socket,
        world: World,
        faults: Faults,
        stats: RequestLog,
        events: MemorySink,
        sinks: list[Sink],
    ) -> None:
        self._server = server
        self._thread = thread
        self._socket = sock
        self._sinks = sinks
        self.url = _url(sock)
        self.world = world
        self.faults = faults
        self.stats = stats
        self.events = events

    def base_url(self, system: str) -> str:
        """The base URL of one system, e.g. ``http://127.0.0.1:8900/registry``."""
        if system not in SYSTEMS:
            raise ValueError(f"unknown system {system!r} (one of {', '.join(SYSTEMS)})")
        return f"{self.url}/{system}"

    def base_urls(self) -> dict[str, str]:
        """The base URL of every system."""
        return base_urls(self.url)

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
        self._server.should_exit = True
        self._thread.join(timeout)
        self._socket.close()
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


def _config(app: FastAPI, log_level: str, access_log: bool) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level=log_level,
        access_log=access_log,
        lifespan="off",
        ws="none",
        http="h11",
        loop="asyncio",
        timeout_graceful_shutdown=5,
    )


def run_in_thread(
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    world: World | None = None,
    events_to: EventTargets = None,
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
        seed: seed of the fault injection's random.

    Raises:
        OSError: the port cannot be bound.
        RuntimeError: the server did not start within ``startup_timeout`` seconds.
    """
    world = world if world is not None else World.load()
    faults, stats, events = Faults(seed), RequestLog(), MemorySink()
    sinks, opened = _open_sinks(events_to)
    for sink in sinks:
        world.subscribe(sink.send)
    app = create_app(world, faults=faults, requests=stats, events=events)
    server = uvicorn.Server(_config(app, "warning", access_log=False))
    sock = _bind(host, port)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"sandbox-{_url(sock)}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(startup_timeout)
            sock.close()
            for sink in opened:
                sink.close()
            raise RuntimeError(f"the sandbox did not start on {_url(sock)}")
        time.sleep(0.01)
    return SandboxServer(
        server=server,
        thread=thread,
        sock=sock,
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
    seed: int = 0,
    log_level: str = "info",
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the sandbox in the foreground until SIGINT (Ctrl-C) or SIGTERM, then return.

    ``on_ready`` is called with the root URL once the port is bound, before serving.

    Raises:
        OSError: the port cannot be bound.
    """
    world = world if world is not None else World.load()
    sock = _bind(host, port)
    sinks, opened = _open_sinks(events_to)
    try:
        for sink in sinks:
            world.subscribe(sink.send)
        app = create_app(world, faults=Faults(seed))
        if on_ready is not None:
            on_ready(_url(sock))
        with _stop_signals_return():
            uvicorn.Server(_config(app, log_level, access_log=True)).run(sockets=[sock])
    finally:
        sock.close()
        for sink in opened:
            sink.close()


@contextlib.contextmanager
def _stop_signals_return() -> Iterator[None]:
    """uvicorn shuts down gracefully on SIGINT/SIGTERM and then raises the signal again
    for the previous handler; make that handler a no-op so that serving just returns."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stops = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, lambda *_: None) for number in stops}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
