"""Running an ASGI app with uvicorn in a background thread, on a real socket.

Used by ``lifecyclegraph demo`` and by the tests (real HTTP, no test client).

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

import socket
import threading
import time
from typing import Any

import uvicorn

__all__ = ["ServerThread"]


class ServerThread:
    """Serve ``app`` on ``host:port`` (0 picks a free port) until :meth:`stop`."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        # IPPROTO_TCP (not 0): asyncio sets TCP_NODELAY only on sockets that say they are
        # TCP; without it keep-alive responses stall 40 ms on Nagle and delayed ACKs.
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        self.host, self.port = self.socket.getsockname()[:2]
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name=f"uvicorn:{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        self.server.run(sockets=[self.socket])

    def start(self, timeout: float = 10.0) -> ServerThread:
        """Start serving and wait until the server accepts requests."""
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to finish (running its shutdown) and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(timeout)
        self.socket.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
