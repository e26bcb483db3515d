"""A ``lifecyclegraph reindex`` killed with SIGKILL never leaves an index marked clean
that is not: the next search or ``serve`` brings it back to the whole store."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from lifecyclegraph import Facts, LifecycleGraph, Ref
from lifecyclegraph.core.config import SearchConfig
from lifecyclegraph.store import Observation

#: More than one batch of the rebuild (2000), so a rebuild commits several times.
ENTITIES = 2500
_TOC = re.compile(r"_\w+_(\d+)\.toc$")


def _generation(index: Path) -> int:
    """The newest commit of a Whoosh index directory (-1 if none can be seen)."""
    found = [int(m.group(1)) for p in index.iterdir() if (m := _TOC.search(p.name))]
    return max(found, default=-1)


def _cli(store: Path, *args: str) -> list[str]:
    """The command line, on Whoosh (not the default): its commits are watched above."""
    config = store.parent / "whoosh.toml"
    config.write_text('[search]\nbackend = "whoosh"\n')
    return [
        sys.executable,
        "-m",
        "lifecyclegraph",
        "--config",
        str(config),
        "--store",
        str(store),
        *args,
    ]


@pytest.fixture(scope="module")
def indexed_store(tmp_path_factory) -> Path:
    """A store of ENTITIES models whose index was closed clean (built once, copied)."""
    path = tmp_path_factory.mktemp("crash") / "store"
    seen = Observation("registry", datetime(2026, 1, 1, tzinfo=UTC))
    with LifecycleGraph.open(path, search=SearchConfig(backend="whoosh")) as graph:
        graph.write_many(
            [
                (
                    Facts.of(
                        f"aip://model/registry/m{i}",
                        {
                            "rdf:type": Ref("lg:Model"),
                            "lg:name": f"Crash model {i}",
                            "lg:sourceId": f"m{i}",
                        },
                    ),
                    seen,
                )
                for i in range(ENTITIES)
            ]
        )
        assert graph.search("crash").total == ENTITIES
    assert json.loads((path / "search" / "lifecyclegraph-search.json").read_text())["clean"]
    return path


def _kill_reindex_after_its_first_commit(store: Path) -> None:
    entities = store / "search" / "entities"
    before = _generation(entities)
    proc = subprocess.Popen(_cli(store, "reindex"), stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while _generation(entities) <= before:  # the rebuild has emptied the index
            assert proc.poll() is None, "reindex ended before it was killed"
            assert time.monotonic() < deadline, "reindex never committed"
            time.sleep(0.005)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def _search_finds_every_entity(store: Path) -> None:
    found = subprocess.run(
        _cli(store, "search", "crash", "--json"), capture_output=True, text=True, check=True
    )
    assert json.loads(found.stdout)["total"] == ENTITIES


def _serve_starts_and_stops(store: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        _cli(store, "serve", "--port", str(port)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                assert proc.poll() is None, "serve exited at start"
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(60)


@pytest.mark.parametrize(
    "next_opener", [_search_finds_every_entity, _serve_starts_and_stops], ids=["search", "serve"]
)
def test_sigkill_during_reindex_is_made_good_by_the_next_opener(
    indexed_store, tmp_path, next_opener
):
    store = tmp_path / "store"
    shutil.copytree(indexed_store, store)
    _kill_reindex_after_its_first_commit(store)
    next_opener(store)
    check = subprocess.run(_cli(store, "search", "--check"), capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
