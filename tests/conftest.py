"""Shared test options and fixtures."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

GOLDEN = Path(__file__).parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden files from the current output instead of comparing",
    )


@pytest.fixture
def golden(request: pytest.FixtureRequest):
    """Compare text with a golden file under tests/golden/ (``--update-golden`` rewrites)."""
    update = request.config.getoption("--update-golden")

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if update or not path.exists():
            if not update:
                pytest.fail(f"golden file {path} is missing; run pytest --update-golden")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            return
        assert text == path.read_text(), f"output differs from {path}"

    return check


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo world ingested through events: sandbox, service and its API, per module."""
    from lifecyclegraph.demo import start_demo

    demo = start_demo(tmp_path_factory.mktemp("demo") / "store")
    try:
        demo.wait_until_ingested(timeout=120)
        yield demo
    finally:
        demo.stop()


@pytest.fixture(scope="module")
def api(demo):
    """An HTTP client of the demo world's API."""
    with httpx.Client(base_url=demo.api.url, timeout=30) as client:
        yield client


#: The write token of the served graph (``served``) that contract tests write with.
CONTRACT_TOKEN = "contract-t0ken"


def _serve(path, **sections):
    from lifecyclegraph.core.config import Config
    from lifecyclegraph.server.app import create_app
    from lifecyclegraph.server.service import Service
    from lifecyclegraph.server.serving import ServerThread

    config = Config.from_dict({"store": {"path": str(path)}, **sections})
    server = ServerThread(create_app(Service(config), write_tokens=[CONTRACT_TOKEN]))
    server.token = CONTRACT_TOKEN
    return server


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    """One real lifecyclegraph service over HTTP for the session, rules and search on:
    what the remote graph of the contract tests talks to (``.url``, ``.token``: a
    write token)."""
    path = tmp_path_factory.mktemp("served") / "store"
    # SPARQL checkpoints lag 30 s behind: the read-your-writes token must do the work
    sections = {"server": {"query_workers": 1, "query_staleness": 30.0}, "search": {"batch_ms": 10}}
    with _serve(path, **sections) as server:
        yield server


@pytest.fixture(scope="session")
def served_unindexed(tmp_path_factory):
    """As ``served``, without the search index: its writer names files with the
    random module from its own thread, which hypothesis takes for a strategy using
    random."""
    path = tmp_path_factory.mktemp("served-unindexed") / "store"
    with _serve(path, search={"enabled": False}) as server:
        yield server


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


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory):
    """One real ``oxigraph serve`` for the session (the remote store's tests)."""
    server = OxigraphServer(tmp_path_factory.mktemp("oxigraph") / "data")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def remote_store(oxigraph_server):
    """A factory of empty remote stores on ``oxigraph_server``."""
    from lifecyclegraph.store.remote import RemoteEndpoint, RemoteStore

    opened = []

    def make():
        oxigraph_server.clear()
        store = RemoteStore.connect(RemoteEndpoint(oxigraph_server.url))
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()
