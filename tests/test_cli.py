"""The command line as a user runs it."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys

import httpx
import pytest
from click.testing import CliRunner

from lifecyclegraph.cli import main
from lifecyclegraph.core.config import Config
from lifecyclegraph.example import INSTANCE
from lifecyclegraph.graph import LifecycleGraph
from lifecyclegraph.ingest.journal import Journal
from lifecyclegraph.server.service import Service


def test_demo_ingests_the_world_through_events_and_answers_its_questions(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "lifecyclegraph", "demo", "--dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    out = result.stdout
    assert "hydrating" not in result.stderr  # no progress bar in a pipe
    assert "0 rejected by validation, 0 dead letters" in out
    assert "-> aip://ab-test/experimentation/12345 | Ranking Model v5 vs v4" in out
    assert "-> aip://model/registry/ranking-model-v5-20XX0101 | 5" in out  # the reverse
    assert "-> ML Platform\n   -> Personalization" in out  # owning teams, parent included
    assert "| ghost@example.com" in out
    # the store is left for the other commands, and the status is clean
    status = subprocess.run(
        [sys.executable, "-m", "lifecyclegraph", "--store", str(tmp_path / "demo"), "status"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "queue depth 0" in status.stdout and "dead letters 0" in status.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_demo_serve_prints_the_write_token_and_listens_where_told(tmp_path):
    api_port, sandbox_port = _free_port(), _free_port()
    command = [sys.executable, "-m", "lifecyclegraph", "demo", "--serve", "--dir"]
    child = subprocess.Popen(
        [
            *command,
            str(tmp_path / "d"),
            "--port",
            str(api_port),
            "--sandbox-port",
            str(sandbox_port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        # started as a background job of a script is (SIGINT ignored): Ctrl-C must
        # still stop it (CI once started the suite that way, and the demo never ended)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert child.stdout is not None
        lines = []
        for line in child.stdout:
            lines.append(line)
            if line.startswith("Write token"):
                break
        said = "".join(lines)
        token = lines[-1].rsplit(": ", 1)[1].strip()
        assert f"http://127.0.0.1:{api_port}/docs" in said
        assert f"sandbox http://127.0.0.1:{sandbox_port}" in said
        api = f"http://127.0.0.1:{api_port}/api/v1/events"
        event = {"type": "model.updated", "platformId": "registry", "resourceId": "x"}
        assert httpx.post(api, json=event).status_code == 401
        answer = httpx.post(api, json=event, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code in (202, 400), answer.text  # the token is a write token
        assert answer.status_code != 401
        assert httpx.get(f"http://127.0.0.1:{sandbox_port}/").status_code == 200
    finally:
        child.send_signal(signal.SIGINT)
        child.wait(timeout=60)
        if child.stdout is not None:
            child.stdout.close()


def test_demo_sandbox_port_without_serve_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--dir", str(tmp_path), "--sandbox-port", "9"])
    assert result.exit_code == 2
    assert "--sandbox-port is for --serve" in result.output


def _example_store(path) -> str:
    from lifecyclegraph import LifecycleGraph
    from lifecyclegraph.example import load_example

    with LifecycleGraph.open(path) as graph:
        load_example(graph)
    return str(path)


def test_entity_history_and_sparql_read_the_store(tmp_path):
    runner = CliRunner()
    store = _example_store(tmp_path / "demo")
    entity = runner.invoke(main, ["--store", store, "entity", INSTANCE])
    assert entity.exit_code == 0, entity.output
    assert '"lg:version": [\n      "5"' in entity.output
    history = runner.invoke(main, ["--store", store, "history", INSTANCE])
    assert [line.split("\t")[1] for line in history.output.splitlines()] == ["hydrated", "hydrated"]
    rows = runner.invoke(
        main,
        ["--store", store, "sparql", "SELECT ?n WHERE { ?t a lg:Team ; lg:name ?n } ORDER BY ?n"],
    )
    assert rows.output.splitlines() == ["?n", '"ML Platform"', '"Personalization"']


def test_unknown_entity_exits_with_1(tmp_path):
    runner = CliRunner()
    store = _example_store(tmp_path / "demo")
    result = runner.invoke(main, ["--store", store, "entity", "aip://model/registry/nope"])
    assert result.exit_code == 1
    assert "no current entity" in result.output


def test_store_that_is_not_a_store_exits_with_2(tmp_path):
    (tmp_path / "x.txt").write_text("not a store")
    result = CliRunner().invoke(main, ["--store", str(tmp_path), "sparql", "ASK {}"])
    assert result.exit_code == 2
    assert "not a lifecyclegraph store" in result.output


def test_ingest_file_dead_letters_each_bad_line_with_its_number_and_goes_on(tmp_path):
    import gc
    import json

    from lifecyclegraph.sandbox.server import run_in_thread

    with run_in_thread(seed=3) as sandbox:
        config = tmp_path / "lifecyclegraph.toml"
        config.write_text(
            f'[store]\npath = "{tmp_path / "store"}"\n'
            + "".join(
                f'[sources.{system}]\nurl = "{url}"\n'
                for system, url in sandbox.base_urls().items()
            )
        )
        good = [e for e in sandbox.world.seed_events() if e["event_type"] == "model_created"][:2]
        lines = [
            json.dumps(good[0]).encode(),
            b'{"event_type": "model_created", "model_id": ' + b"9" * 5000 + b"}",
            b"[" * 5000 + b"]" * 5000,
            b'{"event_type": "model_created", "model_id": "\xff"}',
            b"",  # blank lines are skipped, but counted
            json.dumps({"event_type": "model_created", "model_id": "x" * 70_000}).encode(),
            json.dumps({"event_type": "model_created", "model_id": "x" * 3000}).encode(),
            json.dumps(good[1]).encode(),
        ]
        events = tmp_path / "events.jsonl"
        events.write_bytes(b"\n".join(lines) + b"\n")
        runner = CliRunner()
        result = runner.invoke(main, ["--config", str(config), "ingest", str(events)])
        assert result.exit_code == 1, result.output  # some lines were rejected
        assert "accepted 2 events, rejected 5" in result.stdout
        says = {
            2: "line 1 column 45: integer with 5000 digits exceeds the limit of 4300",
            3: "line 1 column 5000: arrays and objects nested 5000 deep",
            4: "line 1 column 46: invalid UTF-8: byte 0xff",
            6: "event is 70047 bytes, over the limit of 65536",
            7: "the ids make a URI of 3021 characters, over the limit of 2048",
        }
        for number, reason in says.items():
            assert f"{events}:{number}: rejected: " in result.stderr
            assert reason in result.stderr
        del result  # its traceback holds the command's frame, and so the store's lock
        gc.collect()
        listed = runner.invoke(main, ["--config", str(config), "deadletters", "--json"])
        assert listed.exit_code == 0, listed.output
        letters = json.loads(listed.stdout)
        assert [int(d["reason"].split(":")[1]) for d in letters] == list(says)
        for letter, reason in zip(letters, says.values(), strict=True):
            assert reason in letter["reason"]
        status = runner.invoke(main, ["--config", str(config), "status", "--json"])
        stats = json.loads(status.stdout)
        assert stats["events"] == 2 and stats["queue_depth"] == 0 and stats["failing"] == 0

        replay = runner.invoke(main, ["--config", str(config), "deadletters", "--replay"])
        assert replay.exit_code == 0, replay.output
        assert "replayed: accepted 0, rejected 5, work queued again 0" in replay.stdout


READERS = [
    ["entity", "aip://model/registry/m"],
    ["history", "aip://model/registry/m"],
    ["sparql", "ASK {}"],
    ["validate"],
    ["search", "ranking"],
    ["status"],
    ["deadletters"],
    ["explain", "?s lg:associatedAbTest ?o"],
    ["rules", "run"],
    ["reindex"],
]


@pytest.mark.parametrize("where", ["missing", "empty"])
@pytest.mark.parametrize("command", READERS, ids=lambda c: c[0] + (c[1] if c[0] == "rules" else ""))
def test_a_reader_on_a_path_without_a_store_is_an_error_not_a_new_store(tmp_path, where, command):
    store = tmp_path / "typo"
    if where == "empty":
        store.mkdir()
    result = CliRunner().invoke(main, ["--store", str(store), *command])
    assert result.exit_code == 2, result.output
    assert f"{store} is not a lifecyclegraph store" in result.output
    assert "Traceback" not in result.output
    assert (not store.exists()) if where == "missing" else list(store.iterdir()) == []


def test_config_init_writes_a_commented_default_configuration(tmp_path, monkeypatch):
    from lifecyclegraph.core.config import Config

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["config", "init"])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "lifecyclegraph.toml").read_text()
    defaults = Config().model_dump()
    assert Config.from_text(text).model_dump() == defaults
    # every key is there, with its default: uncommenting them all changes nothing
    uncommented = "\n".join(re.sub(r"^# (\w+ = )", r"\1", line) for line in text.splitlines())
    assert Config.from_text(uncommented).model_dump() == Config.from_text(text).model_dump()
    for table in ("store", "ingest", "rules", "server", "search", "model"):
        assert f"\n[{table}]\n" in text
        for key in type(getattr(Config(), table)).model_fields:
            assert re.search(rf"^# {key}( = |: not set)", text, re.M), (table, key)
    # it is the file the commands read from the working directory
    assert CliRunner().invoke(main, ["model", "show"]).exit_code == 0
    again = CliRunner().invoke(main, ["config", "init"])
    assert again.exit_code == 2 and "exists; give --force" in again.output
    assert CliRunner().invoke(main, ["config", "init", "--force"]).exit_code == 0


def test_a_misspelt_config_key_gets_the_near_miss(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        "[server]\nqurey_workers = 1\n[sources.registry]\nurl = 'http://x'\nrate_limt = 3\n"
    )
    result = CliRunner().invoke(main, ["--config", str(path), "status"])
    assert result.exit_code == 2
    assert "server.qurey_workers: unknown key; did you mean 'query_workers'?" in result.output
    assert "sources.registry.rate_limt: unknown key; did you mean 'rate_limit'?" in result.output
    assert "Traceback" not in result.output


def test_status_says_each_sources_latest_problems(tmp_path, monkeypatch):
    config = Config.from_dict({"sources": {"registry": {"url": "http://127.0.0.1:9"}}})
    service = Service(config, LifecycleGraph.in_memory(), journal=Journal(tmp_path / "j.db"))
    report = service.sources.reports["registry"]
    report.warn("unresolved-owner", "aip://model/registry/m", "ghost@example.com is unknown")
    report.fail("validation", None, "1 SHACL violation(s); not written")

    class Served:  # what `status --server URL` reads: the running service's status
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

        def status(self):
            return service.status(serving=False)

    monkeypatch.setattr("lifecyclegraph.cli.ingest.service_client", lambda ctx: Served())
    path = tmp_path / "c.toml"
    path.write_text("[sources.registry]\nurl = 'http://127.0.0.1:9'\n")
    result = CliRunner().invoke(main, ["--config", str(path), "status"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    at = next(n for n, line in enumerate(lines) if line.strip().startswith("registry"))
    assert lines[at + 1 : at + 3] == [
        "    failure validation: 1 SHACL violation(s); not written",
        "    warning unresolved-owner aip://model/registry/m: ghost@example.com is unknown",
    ]
    service.journal.close()
