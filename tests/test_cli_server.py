"""Every command of the README beside a running ``lifecyclegraph serve`` (issue 13.1):
with ``--server URL`` each answers what it answers on the stopped store, with the same
exit code; without it, the held store is a clear error (exit 2), never a traceback.

One real ``serve`` child process on an on-disk store that holds the demo world
(ingested through the command line from the sandbox's seed events, plus one bad line
for the dead letters).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from serve_child import start_serve, stop_serve

from lifecyclegraph.cli import main
from lifecyclegraph.sandbox.server import run_in_thread
from lifecyclegraph.sandbox.world import SYSTEMS

TOKEN = "cli-server-t0ken"
MODEL = "aip://model/registry/ranking-model"

#: The commands of the README that read or change the store, in the order they run
#: (the writing ones after the reads whose answers they could change).
COMMANDS: list[list[str]] = [
    ["status"],
    ["status", "--json"],
    ["deadletters"],
    ["deadletters", "--json"],
    ["sparql", "SELECT ?m ?n WHERE { ?m a lg:Model ; lg:name ?n } ORDER BY ?m"],
    ["sparql", "ASK { ?m a lg:Model }"],
    ["sparql", "SELECT WHERE {"],
    ["entity", MODEL],
    ["entity", "aip://model/registry/nope"],
    ["history", MODEL],
    ["explain", "?m lg:dependsOn ?x", "--limit", "3"],
    ["explain", "<aip://model/registry/nope> lg:dependsOn ?x"],
    ["search", "ranking"],
    ["search", "ranking", "--json"],
    ["search", "--type", "model", "--page-size", "5"],
    ["search", "--type", "modle"],
    ["search", "--owners", "a"],
    ["search", "--check"],
    ["reindex", "--check"],
    ["validate"],
    ["validate", "--format", "json"],
    ["suggest"],
    ["quality", "--format", "json"],
    ["impact"],
    ["rules", "run"],
    ["reindex"],
    ["reindex", "--repair"],
    ["reconcile"],
    ["enrich"],
    ["deadletters", "--replay"],
    ["ingest", "MORE_EVENTS"],
    ["deadletters"],
]

#: What must differ between two runs: durations, and the times and ages a report
#: takes from the clock.
_CLOCK = [
    (re.compile(r"\b\d+(\.\d+)? s\b"), "N s"),
    (re.compile(r'"(seconds|lag_seconds|secondsSinceLast|age\w*)": [\d.e-]+'), r'"\1": N'),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?"), "TIME"),
]


def _normal(text: str, config: Path) -> str:
    """The text without what must differ: the clock's, and the store's own directory
    (the two runs have a store each)."""
    text = text.replace(str(config.with_suffix("")), "STORE")
    for pattern, replacement in _CLOCK:
        text = pattern.sub(replacement, text)
    return text


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[tuple[Path, Path]]:
    """The configurations of two on-disk stores holding the same demo world (one for
    the stopped run, a copy for the served one: the writing commands change them
    alike), their sources the sandbox (running for the module)."""
    root = tmp_path_factory.mktemp("cli-server")
    sandbox = run_in_thread()
    try:
        sources = "".join(
            f'[sources.{s}]\nurl = "{sandbox.base_url(s)}"\nrate_limit = 500\n' for s in SYSTEMS
        )
        configs = []
        for name in ("stopped", "served"):
            config = root / f"{name}.toml"
            config.write_text(
                f'[store]\npath = "{root / name}"\n'
                f'[server]\nport = 0\nquery_workers = 1\nwrite_tokens = ["{TOKEN}"]\n'
                "access_log = false\nquery_staleness = 0\n" + sources
            )
            configs.append(config)
        events = root / "events.jsonl"
        lines = [json.dumps(e) for e in sandbox.world.seed_events()]
        events.write_text("\n".join([*lines, "{not json"]) + "\n")
        code, out, err = _run_child(configs[0], ["ingest", str(events)])
        assert code == 1, out + err  # the bad line is rejected, the rest ingested
        # What `ingest MORE_EVENTS` sends (both runs): events seen again, a blank line
        # (line numbers count it), and bad lines of each kind.
        more = root / "more-events.jsonl"
        more.write_bytes(
            b"\n".join(
                [
                    *(line.encode() for line in lines[:3]),
                    b"",
                    b"{not json either",
                    b'{"event_type": "no_such_event"}',
                    b'{"x": "\xff not utf-8"}',
                    lines[3].encode(),
                ]
            )
            + b"\n"
        )
        shutil.copytree(root / "stopped", root / "served")
        yield configs[0], configs[1]
    finally:
        sandbox.stop()


def _args(config: Path, command: list[str]) -> list[str]:
    """The command's arguments, ``MORE_EVENTS`` replaced by that file beside the config."""
    more = str(config.with_name("more-events.jsonl"))
    return [more if arg == "MORE_EVENTS" else arg for arg in command]


def _run_child(config: Path, command: list[str]) -> tuple[int, str, str]:
    """The command as a process of its own, as a user runs it on the stopped store."""
    done = subprocess.run(
        [sys.executable, "-m", "lifecyclegraph", "--config", str(config), *_args(config, command)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_COLOR": "1"},
    )
    return done.returncode, _normal(done.stdout, config), _normal(done.stderr, config)


def _run(config: Path, command: list[str], *server: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *server, *_args(config, command)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return -1, "", "".join(traceback.format_exception(result.exception))
    return result.exit_code, _normal(result.stdout, config), _normal(result.stderr, config)


@pytest.fixture(scope="module")
def both(world: tuple[Path, Path]) -> dict[str, Any]:
    """Each command's exit code and output on the stopped store, then through the
    running service on its copy; and what a command without --server says beside it."""
    stopped = [_run_child(world[0], command) for command in COMMANDS]
    child, url, _ = start_serve(world[1])
    try:
        held = _run(world[1], ["entity", MODEL])
        served = [
            _run(world[1], command, "--server", url, "--token", TOKEN) for command in COMMANDS
        ]
    finally:
        log = stop_serve(child)
    return {"stopped": stopped, "served": served, "held": held, "log": log, "url": url}


#: Keys of ``status --json`` that only a running service fills (null on the stopped
#: store): its query workers, its jobs, how far its search index is behind, and its
#: heap collector's work.
SERVICE_ONLY = ("sparql", "jobs", "search", "collector")


def _json(out: str) -> Any:
    """A JSON output read back after :func:`_normal` (its ``N`` clock values quoted)."""
    return json.loads(re.sub(r'(": )N\b', r'\1"N"', out))


def _comparable(command: list[str], out: str) -> str:
    """The output to compare: for ``status --json``, without the values only a running
    service has (each answer keeps the keys; ``test_status_json_…`` checks them)."""
    if command != ["status", "--json"]:
        return out
    found = _json(out)
    assert set(SERVICE_ONLY) <= set(found)
    return json.dumps({k: v for k, v in found.items() if k not in SERVICE_ONLY}, indent=2)


@pytest.mark.parametrize("n", range(len(COMMANDS)), ids=lambda n: " ".join(COMMANDS[n])[:40])
def test_a_command_with_server_answers_as_on_the_stopped_store(both, n):
    code, out, err = both["served"][n]
    code_before, out_before, err_before = both["stopped"][n]
    out, out_before = _comparable(COMMANDS[n], out), _comparable(COMMANDS[n], out_before)
    assert (code, out, err) == (code_before, out_before, err_before)
    assert "Traceback" not in err
    if code != 0:
        assert err.strip(), "an error says what went wrong"


def test_status_json_has_one_shape_with_null_where_no_service_runs(both):
    n = COMMANDS.index(["status", "--json"])
    stopped, served = (_json(both[run][n][1]) for run in ("stopped", "served"))
    assert list(stopped) == list(served)
    assert stopped["sparql"] is None and stopped["jobs"] is None and stopped["search"] is None
    assert stopped["collector"] is None
    assert set(served["collector"]) == {
        "frozen",
        "heap_blocks",
        "full_collections",
        "seconds",
        "hydration_child",
    }
    assert served["sparql"]["workers"] == 1
    assert set(served["search"]) == {"pending", "behind"}
    assert set(served["jobs"]) == {"reconcile", "enrich", "reindex", "rules"}


def test_the_commands_see_the_demo_world(both):
    """The comparison is not of two empty answers."""
    answers = dict(zip(map(tuple, COMMANDS), both["served"], strict=True))
    assert answers[("entity", MODEL)][0] == 0
    assert '"uri": "aip://model/registry/ranking-model"' in answers[("entity", MODEL)][1]
    assert "{not json" in answers[("deadletters",)][1]
    assert re.search(r"queued [1-9]\d* entities", answers[("reconcile",)][1])
    assert re.search(r"indexed [1-9]\d* entities", answers[("reindex",)][1])
    assert answers[("sparql", "SELECT WHERE {")][0] == 2
    assert answers[("entity", "aip://model/registry/nope")][0] == 1
    code, out, err = answers[("ingest", "MORE_EVENTS")]
    assert code == 1 and re.match(r"accepted \d+ events, rejected 3\n", out)
    assert [line.split(": rejected: ")[0][-7:] for line in err.splitlines()] == [
        "jsonl:5",
        "jsonl:6",
        "jsonl:7",
    ]
    assert "more-events.jsonl:7: " in answers[("deadletters",)][1]  # the letter says where


def test_a_command_beside_serve_without_server_names_the_store_and_the_way(both, world):
    code, out, err = both["held"]
    assert code == 2
    assert "in use by another process" in err and "--server URL" in err
    assert "cannot open the store at STORE" in err  # the served store, named
    assert "Traceback" not in err + out


def test_writing_commands_with_server_need_a_write_token(world):
    config = str(world[1])
    child, url, _ = start_serve(world[1])
    try:
        result = CliRunner().invoke(
            main, ["--config", config, "--server", url, "--token", "wrong", "reconcile"]
        )
        unreachable = CliRunner().invoke(
            main, ["--config", config, "--server", "http://127.0.0.1:9", "status"]
        )
        client = Path(config).with_name("client.toml")
        client.write_text(f'[client]\nurl = "{url}"\ntoken = "{TOKEN}"\n')
        from_config = CliRunner().invoke(main, ["--config", str(client), "reindex", "--json"])
        from_env = CliRunner().invoke(
            main,
            ["--config", config, "status"],
            env={"LIFECYCLEGRAPH_URL": url, "LIFECYCLEGRAPH_TOKEN": TOKEN},
        )
        ingest = CliRunner().invoke(
            main,
            ["--config", config, "--server", url, "--token", TOKEN, "ingest", "-"],
            input="\n{}\n",
        )
        ingest_unauthorized = CliRunner().invoke(
            main, ["--config", config, "--server", url, "ingest", "-"], input="{}\n"
        )
    finally:
        stop_serve(child)
    assert from_config.exit_code == 0, from_config.output  # [client] url and a write token
    assert ingest.exit_code == 1, ingest.output  # the line reached the service, refused
    assert ingest.stdout.startswith("accepted 0 events, rejected 1\n")
    assert re.match(r"\S+:2: rejected: ", ingest.stderr)  # blank line 1 is counted
    assert ingest_unauthorized.exit_code == 2
    assert "refused POST /api/v1/events" in ingest_unauthorized.stderr
    assert json.loads(from_config.stdout)["indexed"] > 0
    assert from_env.exit_code == 0 and from_env.stdout.startswith("events ")
    assert result.exit_code == 2
    assert "refused POST /api/v1/admin/reconcile" in result.stderr
    assert "wrong" not in result.stderr
    assert unreachable.exit_code == 2
    assert "cannot reach the lifecyclegraph service at http://127.0.0.1:9" in unreachable.stderr


def test_ingest_from_queue_through_server_says_the_service_consumes_its_queues():
    """A queue beside a running service is the service's to consume ([[queues]]):
    ``--from-queue`` with ``--server`` is a usage error that says so, before any
    request is made (nothing listens at the URL) and without reading the queue."""
    result = CliRunner().invoke(
        main,
        ["--server", "http://127.0.0.1:9", "--token", TOKEN, "ingest", "--from-queue", "sqs://q"],
    )
    assert result.exit_code == 2, result.output
    assert "--from-queue does not go through --server" in result.output
    assert "[[queues]]" in result.output


def test_ingest_needs_a_file_or_a_queue_not_both():
    for args in (["ingest"], ["ingest", "-", "--from-queue", "sqs://q"]):
        result = CliRunner().invoke(main, args, input="")
        assert result.exit_code == 2, result.output
        assert "give either FILE or --from-queue URL" in result.output


def test_ingest_through_server_rejects_a_line_over_the_request_limit_and_sends_the_rest(
    tmp_path,
):
    """A line larger than the service accepts (max_request_bytes) is rejected by file
    and line, as ingest on the store rejects an oversized line, and every other line
    of the file still reaches the service (the batch is halved down to that line)."""
    from lifecyclegraph.core.config import Config
    from lifecyclegraph.server.app import create_app
    from lifecyclegraph.server.service import Service
    from lifecyclegraph.server.serving import ServerThread

    small = [json.dumps({"event_type": "ab_test_created", "test_id": str(i)}) for i in range(6)]
    huge = json.dumps({"event_type": "ab_test_created", "test_id": "x" * 2000})
    lines = [*small[:3], huge, *small[3:]]
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n")
    sections = {
        "server": {"max_request_bytes": 1024, "query_workers": 1},
        # the events name these sources; nothing is hydrated (--no-process)
        "sources": {system: {"url": f"http://127.0.0.1:9/{system}"} for system in SYSTEMS},
    }
    config = Config.from_dict(
        {"store": {"path": str(tmp_path / "store")}, "search": {"enabled": False}, **sections}
    )
    with ServerThread(create_app(Service(config), write_tokens=[TOKEN])) as server:
        result = CliRunner().invoke(
            main,
            ["--server", server.url, "--token", TOKEN, "ingest", "--no-process", str(events)],
        )
    assert result.exit_code == 1, result.output
    assert result.stdout == "accepted 6 events, rejected 1\n", result.stderr
    assert re.fullmatch(
        rf"{re.escape(str(events))}:4: rejected: larger than the service accepts \(413: .*\)\n",
        result.stderr,
    )
