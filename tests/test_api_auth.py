"""Bearer tokens as clients, operators and the sandbox meet them, over real HTTP: every
refusal is a challenge, every read route (the API docs too) follows ``read_tokens``,
a token no client could send is refused at start, the sandbox can send its events
with a token, and the files that hold raw events are the owner's alone."""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.routing import APIRoute

from lifecyclegraph import LifecycleGraph
from lifecyclegraph.cli import main
from lifecyclegraph.core.config import Config
from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.ingest import Journal
from lifecyclegraph.sandbox.server import base_urls
from lifecyclegraph.server.app import create_app
from lifecyclegraph.server.auth import TokenGuard
from lifecyclegraph.server.service import Service
from lifecyclegraph.server.serving import ServerThread

WRITE = "w-t0ken"
READ = "r-t0ken"
CHALLENGE = 'Bearer realm="lifecyclegraph"'
WRITES = {
    ("POST", "/api/v1/events"),
    ("POST", "/api/v1/lineage"),
    ("POST", "/api/v1/admin/x"),  # starting a job
    *(("POST", f"/api/v1/graph/{w}") for w in ("write", "delete", "reference", "enriched")),
    ("POST", "/api/v1/admin/deadletters/replay"),
    ("POST", "/api/v1/admin/search/repair"),
}
#: Routes that take no token: their source signs each request (MLflow's webhooks), and
#: the signature is checked instead (tests/test_mlflow.py).
SIGNED = {("POST", "/api/v1/webhooks/x")}
#: Routes only the workers of a cluster call, with the ``[cluster] token``: any other
#: token, a write token too, is refused with 401 (tests/test_cluster_forward.py).
PEERS = {("POST", "/api/v1/cluster/work")}


def serve(
    read_tokens: list[str], sources: dict[str, str] | None = None
) -> tuple[Service, FastAPI, ServerThread]:
    config = Config.from_dict(
        {
            "server": {"write_tokens": [WRITE], "read_tokens": read_tokens, "query_workers": 1},
            "rules": {"enabled": False},
            "sources": {system: {"url": url} for system, url in (sources or {}).items()},
        }
    )
    service = Service(config, LifecycleGraph.in_memory(), journal=Journal(":memory:"))
    app = create_app(service)
    return service, app, ServerThread(app)


def routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) of the OpenAPI document, and the app's own routes but
    /healthz (the API docs), path parameters filled in."""
    found = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    for route in app.routes:
        if isinstance(route, APIRoute) and route.path != "/healthz":
            found |= {(method, route.path) for method in route.methods - {"HEAD"}}
    return sorted((method, re.sub(r"\{[^}]+\}", "x", path)) for method, path in found)


@pytest.fixture(scope="module")
def guarded():
    """A service whose reads need a token, with its routes."""
    _, app, server = serve([READ])
    found = routes(app)
    assert set(found) >= SIGNED
    with server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client, [route for route in found if route not in SIGNED]


def _challenged(response: httpx.Response, error: str | None) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    header = response.headers["www-authenticate"]
    assert header.startswith(CHALLENGE)
    if error is None:
        assert "error=" not in header  # no credentials, no error code (RFC 6750, 3.1)
    else:
        assert f'error="{error}"' in header
    assert WRITE not in response.text and READ not in response.text


def test_every_route_but_healthz_is_guarded_including_the_api_docs(guarded):
    _, found = guarded
    paths = {path for _, path in found}
    assert {"/docs", "/redoc", "/openapi.json", "/sparql", "/graphql"} <= paths
    assert "/api/v1/status" in paths and any(p.startswith("/api/v1/entities/") for p in paths)


def test_every_401_carries_a_bearer_challenge(guarded):
    client, found = guarded
    for method, path in found:
        _challenged(client.request(method, path), None)
        for header in ("Bearer wrong", "Basic dXNlcjpwdw==", "Bearer"):
            sent = header.startswith("Bearer w")
            response = client.request(method, path, headers={"authorization": header})
            _challenged(response, "invalid_token" if sent else None)


def test_read_token_reads_everything_but_may_not_write(guarded):
    client, found = guarded
    auth = {"authorization": f"Bearer {READ}"}
    for method, path in found:
        response = client.request(method, path, headers=auth)
        if (method, path) in WRITES:
            assert response.status_code == 403, response.text
            assert response.json()["error"] == "insufficient_scope"
        elif (method, path) in PEERS:
            _challenged(response, "invalid_token")
        else:
            assert response.status_code not in (401, 403), (method, path, response.text)
    assert client.get("/openapi.json", headers=auth).json()["info"]["title"] == "lifecyclegraph"
    assert "swagger-ui" in client.get("/docs", headers=auth).text


def test_api_docs_are_open_when_reads_need_no_token():
    _, _, server = serve([])
    with server, httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.get("/openapi.json").json()["paths"]
        assert client.get("/docs").status_code == 200
        _challenged(client.post("/api/v1/events", json={}), None)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_docs_load_nothing_from_another_host(page):
    """The pages work offline: every script, style, icon and font they name is served by
    the app itself (a CDN would leave them blank on a closed network)."""
    _, _, server = serve([])
    with server, httpx.Client(base_url=server.url, timeout=30) as client:
        html = client.get(page).text
        named = re.findall(r"""(?:src|href|url)\s*[=(:]\s*['"]?([^'"\s)>]+)""", html)
        assert named, html
        assert [u for u in named if "//" in u] == []
        assert re.findall(r"https?://", html) == []
        assets = [u for u in named if u.startswith("/docs/assets/")]
        assert assets
        for url in assets:
            response = client.get(url)
            assert response.status_code == 200, url
            assert len(response.content) > 500, url
        assert client.get("/docs/assets/..%2Fapp.py").status_code == 404
        assert client.get("/docs/assets/nope.js").json()["status"] == 404


# -- tokens no client could send ---------------------------------------------------------


@pytest.mark.parametrize("key", ["write_tokens", "read_tokens"])
@pytest.mark.parametrize("blank", ["", " ", "\t\n"])
def test_blank_token_in_the_configuration_stops_serve_with_exit_2(tmp_path, key, blank):
    config = tmp_path / "lifecyclegraph.toml"
    tokens = json.dumps(["a-g00d-secret", blank])
    config.write_text(f'[store]\npath = "{tmp_path / "store"}"\n[server]\n{key} = {tokens}\n')
    result = subprocess.run(
        [sys.executable, "-m", "lifecyclegraph", "--config", str(config), "serve", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,  # a server that starts would serve until killed
    )
    assert result.returncode == 2, result.stderr
    assert f"server.{key}.1: " in result.stderr and "empty or blank" in result.stderr
    assert "a-g00d-secret" not in result.stdout + result.stderr
    assert not (tmp_path / "store").exists(), "refused before anything started"


def test_token_with_surrounding_space_is_refused_naming_the_key():
    with pytest.raises(ConfigError, match=r"server\.read_tokens\.0: .*white space"):
        Config.from_dict({"server": {"read_tokens": [" s3cret "]}})


@pytest.mark.parametrize("write, read", [([""], []), ([WRITE], ["  "])])
def test_token_guard_refuses_blank_tokens(write, read):
    with pytest.raises(ConfigError, match="empty or blank"):
        TokenGuard(write, read)


def test_empty_write_token_file_stops_serve_with_exit_2(tmp_path):
    store = tmp_path / "store"
    LifecycleGraph.open(store).close()
    (store / "write-token").write_text("\n")
    result = subprocess.run(
        [sys.executable, "-m", "lifecyclegraph", "--store", str(store), "serve", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "write-token: the write token file is empty" in result.stderr


# -- the sandbox sends its events with a token --------------------------------------------


def test_sandbox_sends_events_with_the_token_from_the_environment():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    service, _, server = serve([], base_urls(f"http://127.0.0.1:{port}"))
    with server:
        sandbox = subprocess.Popen(
            [
                *(sys.executable, "-m", "lifecyclegraph", "sandbox", "--port", str(port)),
                *("--log-level", "warning", "--events-to", f"{server.url}/api/v1/events"),
            ],
            env={**os.environ, "LIFECYCLEGRAPH_EVENTS_TOKEN": WRITE},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            root = re.search(r"http://\S+", sandbox.stdout.readline()).group(0)
            published = httpx.post(f"{root}/_sandbox/events/seed", json={}, timeout=30)
            count = published.json()["published"]
            assert count > 50
            deadline = time.monotonic() + 60
            while service.journal.stats()["events"] < count:
                assert time.monotonic() < deadline, service.journal.stats()
                time.sleep(0.05)
        finally:
            sandbox.terminate()
            out, err = sandbox.communicate(timeout=30)
    assert WRITE not in out + err
    assert "401" not in err, err


@pytest.mark.parametrize(
    "args, says",
    [
        (["--events-to", "events.jsonl", "--events-token", WRITE], "http(s) --events-to URL"),
        (["--events-to", "http://127.0.0.1:1/api/v1/events", "--events-token", " "], "blank"),
    ],
)
def test_sandbox_refuses_a_token_it_cannot_use(tmp_path, args, says):
    result = CliRunner().invoke(main, ["sandbox", "--port", "0", *args])
    assert result.exit_code == 2 and says in result.output
    assert WRITE not in result.output


# -- raw events stay with their owner ------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_store_and_journal_are_the_owners_alone_whatever_the_umask(tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"event_type": "model_created", "model_id": "m"}) + "\n")
    store = tmp_path / "store"
    config = tmp_path / "lifecyclegraph.toml"
    config.write_text('[sources.registry]\nurl = "http://127.0.0.1:1/registry"\n')
    subprocess.run(
        [
            *(sys.executable, "-m", "lifecyclegraph", "--config", str(config)),
            *("--store", str(store), "ingest", "--no-process", str(events)),
        ],
        capture_output=True,
        check=True,
        timeout=120,
        preexec_fn=lambda: os.umask(0o002),  # only the umask: no threads to upset
    )
    assert _mode(store) == 0o700
    journals = sorted(store.glob("ingest.sqlite*"))
    assert journals and all(_mode(path) & 0o077 == 0 for path in journals), journals
    journal = Journal(store / "ingest.sqlite")
    assert journal.stats()["events"] == 1
    journal.close()


def test_store_made_in_an_empty_directory_and_a_new_journal_are_private(tmp_path):
    empty = tmp_path / "made-before"
    empty.mkdir(mode=0o755)
    empty.chmod(0o755)
    LifecycleGraph.open(empty).close()
    assert _mode(empty) == 0o700
    journal = Journal(tmp_path / "elsewhere.sqlite")
    journal.close()
    assert _mode(tmp_path / "elsewhere.sqlite") == 0o600
