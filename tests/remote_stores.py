"""Real SPARQL 1.1 stores that the remote store's tests run against."""

from __future__ import annotations

from pathlib import Path

import httpx


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OxigraphServer:
    """A real ``oxigraph serve`` on a free port (``.url``), stopped and started again
    on demand (``stop()``, ``start()``) on the same data."""

    def __init__(self, location: Path) -> None:
        self.location = location
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self) -> None:
        import shutil
        import subprocess
        import sys
        import time

        binary = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
        self.process = subprocess.Popen(
            [binary, "serve", "--location", str(self.location), "--bind", f"127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/query?query=ASK%7B%7D", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"oxigraph serve did not answer at {self.url} within 30 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def clear(self) -> None:
        """Empty the store (between tests that count what they wrote)."""
        httpx.post(self.url + "/update", data={"update": "DROP ALL"}, timeout=30).raise_for_status()
