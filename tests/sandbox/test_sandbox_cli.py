"""``lifecyclegraph sandbox`` as a user runs it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import httpx
from click.testing import CliRunner

from lifecyclegraph.cli import main
from lifecyclegraph.sandbox import World

SYSTEMS = ["registry", "orchestrator", "experimentation", "featurestore", "datasets", "identity"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cli_starts_serves_and_prints_base_urls():
    port = free_port()
    command = [
        sys.executable,
        "-c",
        "from lifecyclegraph.cli import main; main()",
        "sandbox",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        root = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        response = None
        with httpx.Client() as client:
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    response = client.get(f"{root}/registry/api/v1/models/ranking-model")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
        assert response is not None, "the sandbox never answered"
        assert response.status_code == 200
        assert response.json()["current_instance_id"] == "ranking-model-v5-20XX0101"
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0, "a terminated sandbox shuts down cleanly"
    lines = out.splitlines()
    assert lines[0] == f"lifecyclegraph sandbox on {root}"
    for system in SYSTEMS:
        assert f"{root}/{system}" in out
    assert f"{root}/_sandbox" in out


def test_cli_emits_seed_events_as_json_lines(tmp_path):
    path = tmp_path / "seed.jsonl"
    result = CliRunner().invoke(main, ["sandbox", "--emit-seed-events", str(path)])
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(events) == sum(World.load().counts().values())
    assert {e["event_type"] for e in events} >= {"model_created", "dataset_version_created"}


def test_cli_perturbed_seed_events_are_reproducible(tmp_path):
    args = ["--shuffle", "--drop", "0.2", "--duplicate", "0.1", "--seed", "3"]
    runner = CliRunner()
    runs = []
    for name in ("a.jsonl", "b.jsonl"):
        result = runner.invoke(main, ["sandbox", "--emit-seed-events", str(tmp_path / name), *args])
        assert result.exit_code == 0, result.output
        runs.append(
            [json.loads(line)["event_id"] for line in (tmp_path / name).read_text().splitlines()]
        )
    assert runs[0] == runs[1]
    assert len(runs[0]) != sum(World.load().counts().values())


def test_cli_bad_world_directory_exits_2_naming_the_files(tmp_path):
    result = CliRunner().invoke(main, ["sandbox", "--world", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{tmp_path / 'registry.json'}: missing" in result.output


def test_cli_bad_fraction_exits_2():
    result = CliRunner().invoke(main, ["sandbox", "--emit-seed-events", "-", "--drop", "2"])
    assert result.exit_code == 2
    assert "drop must be a fraction" in result.output


def test_cli_port_in_use_exits_2_with_a_message():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["sandbox", "--port", str(port)])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
