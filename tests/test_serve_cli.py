"""``lifecyclegraph serve`` as an operator runs it: what it prints at start, and its logs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from serve_child import start_serve, stop_serve


def _serve(tmp_path: Path, server_table: str) -> tuple[subprocess.Popen[str], str, list[str]]:
    config = tmp_path / "lifecyclegraph.toml"
    config.write_text(
        f'[store]\npath = "{tmp_path / "store"}"\n[server]\nport = 0\nquery_workers = 1\n'
        + server_table
    )
    return start_serve(config)


def test_serve_prints_its_urls_store_and_configuration_file(tmp_path):
    child, url, banner = _serve(tmp_path, "")
    try:
        text = "".join(banner)
        for path in ("/api/v1", "/sparql", "/graphql", "/docs"):
            assert f"{url}{path}" in text
        assert f"portal   {url}/\n" in text
        assert f"the store {tmp_path / 'store'}" in text
        assert f"configuration: {tmp_path / 'lifecyclegraph.toml'}" in text
        assert "writes need the token in" in text
        assert httpx.get(f"{url}/docs").status_code == 200  # the URLs printed answer
        assert "Search the graph" in httpx.get(f"{url}/").text
    finally:
        err = stop_serve(child)
    assert "GET /docs" in err  # the access log is on by default, as text lines


def test_serve_logs_json_lines_when_asked(tmp_path):
    child, url, _ = _serve(tmp_path, 'log_format = "json"\n')
    try:
        assert httpx.get(f"{url}/healthz").status_code == 200
        assert httpx.get(f"{url}/api/v1/nothing-here").status_code == 404
    finally:
        err = stop_serve(child)
    records = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    assert {(r["method"], r["path"], r["status"]) for r in access} >= {
        ("GET", "/healthz", 200),
        ("GET", "/api/v1/nothing-here", 404),
    }


def test_serve_without_the_access_log_logs_no_request(tmp_path):
    child, url, _ = _serve(tmp_path, "access_log = false\n")
    try:
        assert httpx.get(f"{url}/healthz").status_code == 200
    finally:
        err = stop_serve(child)
    assert "/healthz" not in err


@pytest.mark.parametrize("table", ['log_level = "loud"\n', 'log_format = "xml"\n'])
def test_serve_refuses_a_log_setting_it_does_not_know(tmp_path, table):
    config = tmp_path / "c.toml"
    config.write_text("[server]\n" + table)
    result = subprocess.run(
        [sys.executable, "-m", "lifecyclegraph", "--config", str(config), "serve"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "server.log_" in result.stderr and "Traceback" not in result.stderr


def test_the_bound_socket_listens_before_the_server_starts_so_no_client_is_refused():
    import socket

    from lifecyclegraph.server.serving import bind, url_of

    sock = bind("127.0.0.1", 0, listen=True)  # as serve binds it
    try:
        host, port = url_of(sock).removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5):
            pass  # queued in the backlog: nothing accepts yet, and nothing refuses
    finally:
        sock.close()
