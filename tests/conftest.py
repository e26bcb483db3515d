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
