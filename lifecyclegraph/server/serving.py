"""Running an ASGI app with uvicorn on a real socket: in a background thread (tests,
``demo``) or in the foreground (``serve``, ``sandbox``).

>>> from fastapi import FastAPI
>>> app = FastAPI()
>>> @app.get("/ping")
... def ping() -> dict:
...     return {"pong": True}
>>> import httpx
>>> with ServerThread(app) as server:
...     httpx.get(server.url + "/ping").json()
{'pong': True}
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, Literal

import uvicorn
from uvicorn.config import LOGGING_CONFIG

__all__ = ["ServerThread", "bind", "serve_foreground", "url_of", "uvicorn_config"]


def bind(host: str, port: int, *, listen: bool = False) -> socket.socket:
    """A TCP socket bound to ``host:port`` (0 picks a free port); with ``listen``,
    listening already (``serve``: a client that connects as soon as the URL is printed
    waits in the backlog instead of being refused while the service starts). Not the
    default: a bound port whose server has not started yet (a peer that is down, in
    tests/test_cluster_forward.py) must refuse connections, not hold them.

    Raises:
        OSError: the address cannot be bound (for example, the port is in use).
    """
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
    if listen:
        sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """The ``http://host:port`` root URL of a bound socket."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


#: uvicorn's ``lifespan`` setting: run the app's startup and shutdown ("on") or not.
Lifespan = Literal["auto", "on", "off"]


def uvicorn_config(
    app: Any,
    log_level: str = "warning",
    access_log: bool = False,
    lifespan: Lifespan = "on",
    log_config: dict[str, Any] | None = None,
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level=log_level,
        access_log=access_log,
        log_config=LOGGING_CONFIG if log_config is None else log_config,
        lifespan=lifespan,
        ws="none",
        http="auto",
        loop="asyncio",
        timeout_graceful_shutdown=5,
    )


class ServerThread:
    """Serve ``app`` on ``host:port`` (0 picks a free port) until :meth:`stop`.

    Args:
        app: the ASGI application.
        lifespan: ``"on"`` runs the app's startup and shutdown, ``"off"`` does not.
    """

    def __init__(
        self, app: Any, host: str = "127.0.0.1", port: int = 0, lifespan: Lifespan = "on"
    ) -> None:
        self.socket = bind(host, port)
        self.url = url_of(self.socket)
        self.server = uvicorn.Server(uvicorn_config(app, lifespan=lifespan))
        self.thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self.socket]},
            name=f"uvicorn {self.url}",
            daemon=True,
        )

    def start(self, timeout: float = 10.0) -> ServerThread:
        """Start serving and wait until the server accepts requests.

        Raises:
            RuntimeError: the server did not start within ``timeout`` seconds.
        """
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.stop(timeout)
                raise RuntimeError(f"the server did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to finish (running its shutdown) and wait for the thread."""
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(timeout)
        self.socket.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_foreground(
    app: Any,
    sock: socket.socket,
    log_level: str = "info",
    access_log: bool = True,
    log_config: dict[str, Any] | None = None,
) -> None:
    """Serve until SIGINT (Ctrl-C) or SIGTERM, shut down gracefully, then return."""
    config = uvicorn_config(app, log_level, access_log, log_config=log_config)
    with _stop_signals_return():
        uvicorn.Server(config).run(sockets=[sock])


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
