"""Shared test options and fixtures."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, settings

GOLDEN = Path(__file__).parent / "golden"

# Hypothesis's too_slow check times the drawing of inputs, not the code under test: on a
# loaded 2-core CI machine a collector pause during the first draw has failed a test
# whose inputs are a few small dicts (1.5 s for one draw). Every property still runs.
settings.register_profile("lifecyclegraph", suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("lifecyclegraph")


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


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory):
    """One real ``oxigraph serve`` for the session (the remote store's tests)."""
    from remote_stores import OxigraphServer

    server = OxigraphServer(tmp_path_factory.mktemp("oxigraph") / "data")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory):
    """One real Virtuoso for the session (``.ci/run`` installs it with apt)."""
    import shutil

    from remote_stores import VirtuosoServer

    if shutil.which("virtuoso-t") is None:
        pytest.skip("virtuoso-t is not installed (apt-get install virtuoso-opensource)")
    server = VirtuosoServer(tmp_path_factory.mktemp("virtuoso"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
