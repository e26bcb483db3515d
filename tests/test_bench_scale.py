"""``lifecyclegraph bench scale``'s table and how it is written into docs/benchmarks.md
(the run itself is a benchmark, never a test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecyclegraph.bench.scale import SECTION, ScaleBenchResult, table, write_docs_section


def result(entities: int, sparql_p50: float = 1.0) -> ScaleBenchResult:
    return ScaleBenchResult(
        entities=entities,
        events=entities + 10,
        backfill_seconds=entities / 1000,  # 1,000 entities/s: the 20-minute target holds
        peak_rss_backfill_mb=5000.0,  # over 4 GB: missed
        peak_rss_after_mb=300.0,
        inferred_p50_ms=10.0,
        inferred_p95_ms=20.0,
        background_rate=50.0,
        reads_ms={"entity JSON": {"p50": 3.0, "p95": 60.0}},  # p95 over 50 ms: missed
        sparql_ms={
            "lifecyclegraph": {"p50": sparql_p50, "p95": 2.0},
            "oxigraph": {"p50": 0.5, "p95": 1.0},
        },
    )


def test_table_puts_each_figure_beside_its_target_and_says_which_are_met():
    rows = {r.what: r for r in result(10_000).rows()}
    assert rows["backfill: created events to stored, derived, indexed"].met is True
    assert rows["peak RSS of serve, during the backfill"].met is False
    assert rows["entity JSON"].met is False
    sparql = rows["SPARQL point lookup, GET /sparql"]
    assert sparql.met is False and "2.00x" in sparql.comparison
    assert result(10_000, sparql_p50=0.7).rows()[-1].met is True  # 1.4x
    assert table(result(10_000)).count("\n") == 2 + len(rows) - 1


def test_the_restart_on_the_backfilled_store_is_a_row_without_a_target():
    assert "serve restarted" not in table(result(10_000))  # not measured: no row
    timed = result(10_000)
    timed.reopen_seconds = 754.4
    rows = timed.rows()
    assert rows[-2].what.startswith("serve restarted") and rows[-2].figure == "754 s"
    assert rows[-2].met is None and rows[-1].what == "SPARQL point lookup, GET /sparql"


def test_docs_section_is_added_once_and_a_size_replaces_its_own_table(tmp_path: Path):
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## Ingestion\n\ntext\n\n## Issue 12's re-run\n\nold\n")
    load = (1.0, 2.0, 3.0)
    write_docs_section(result(10_000), "cmd 10k", "machine A", load, docs)
    write_docs_section(result(100_000), "cmd 100k", "machine A", load, docs)
    write_docs_section(result(10_000, sparql_p50=0.7), "cmd 10k again", "machine B", load, docs)
    text = docs.read_text()
    assert text.count(SECTION) == 1
    assert text.index("## Ingestion") < text.index(SECTION) < text.index("## Issue 12's re-run")
    assert text.count("### 10,000 entities") == 1 and text.count("### 100,000 entities") == 1
    assert "cmd 10k again" in text and "cmd 10k\n" not in text and "machine B" in text
    assert text.index("### 10,000 entities") < text.index("### 100,000 entities")
    assert text.endswith("## Issue 12's re-run\n\nold\n")
    # the last subsection replaced: still a blank line before the next section
    write_docs_section(result(100_000, sparql_p50=0.7), "cmd 100k again", "machine B", load, docs)
    text = docs.read_text()
    assert text.count("### 100,000 entities") == 1 and "cmd 100k again" in text
    assert "|\n\n## Issue 12's re-run\n\nold\n" in text


def test_the_backfill_clock_and_its_memory_stop_before_the_index_check():
    from types import SimpleNamespace

    from lifecyclegraph.bench.scale import _wait_until_done

    calls: list[str] = []

    class Client:  # the two answers the wait reads, in the order it reads them
        def get(self, path: str, **_: object) -> SimpleNamespace:
            calls.append(path)
            body = (
                {"queue_depth": 0, "events_pending": 0, "search": {"pending": 0, "behind": 0}}
                if path == "/api/v1/status"
                else {"ok": True, "checked": 7}
            )
            return SimpleNamespace(json=lambda: body)

    checked, _, _ = _wait_until_done(
        Client(), lambda _: None, when_done=lambda: calls.append("peak taken")
    )
    assert checked == 7
    assert calls == ["/api/v1/status", "peak taken", "/api/v1/admin/search/check"]
    # the wait before the reads does not check the whole index again (at a million
    # entities a check takes ten minutes, and its memory is counted after the backfill)
    calls.clear()
    assert _wait_until_done(Client(), lambda _: None, check=False)[0] == 0
    assert calls == ["/api/v1/status"]


def test_keep_refuses_a_directory_an_earlier_run_left(tmp_path):
    # a store left there would be synced, not backfilled: the figures would lie
    from click.testing import CliRunner

    from lifecyclegraph.cli import main

    (tmp_path / "store").mkdir()
    result = CliRunner().invoke(main, ["bench", "scale", "--entities", "100", "--keep", tmp_path])
    assert result.exit_code == 2
    assert "--keep" in result.output and "is not empty (it holds store)" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]  # nothing started or written


def test_set_runs_serve_with_a_setting_beside_the_default_configuration(tmp_path):
    from lifecyclegraph.bench.scale import _config
    from lifecyclegraph.core.config import load_config

    path = _config(
        tmp_path,
        8123,
        "http://127.0.0.1:9",
        {
            "ingest.hydration_process": "false",
            "server.freeze_heap": "0",
            "store.flush_every": "400000",
        },
    )
    config = load_config(path)
    assert config.ingest.hydration_process is False  # the default is true
    assert config.server.freeze_heap == 0 and config.server.port == 8123
    assert config.store.flush_every == 400_000 and config.store.path == tmp_path / "store"
    assert config.sources["registry"].url == "http://127.0.0.1:9/registry"


@pytest.mark.parametrize(
    "setting, says",
    [
        ("ingest.hydration_proces=true", "unknown key; did you mean 'hydration_process'?"),
        ("server.freeze_heap=-1", "greater than or equal to 0"),
        ("ingest", "is not SECTION.KEY=VALUE"),
        ("server.log_level=warning", "not a TOML value"),
    ],
)
def test_set_refuses_a_setting_serve_would_refuse_before_anything_starts(tmp_path, setting, says):
    from click.testing import CliRunner

    from lifecyclegraph.cli import main

    keep = tmp_path / "run"
    result = CliRunner().invoke(
        main, ["bench", "scale", "--entities", "100", "--keep", keep, "--set", setting]
    )
    assert result.exit_code == 2
    assert "--set" in result.output and says in " ".join(result.output.split())
    assert not keep.exists()  # refused before the world was built
