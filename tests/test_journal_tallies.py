"""The journal's status counts (``Journal.stats``) are kept by triggers as rows change;
whatever the sequence of intake, retries, completions and dead letters, they equal a
count of the rows themselves, and a journal made before the triggers is counted once
when opened."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lifecyclegraph.ingest.journal import Journal

URIS = [
    "aip://model/registry/m1",
    "aip://model/registry/m2",
    "aip://dataset/datasets/d1",
    "aip://dataset/datasets/d1/v2",  # a resource path with a slash of its own
    "aip://pipelineRun/orchestrator/r9",
    "aip://person/identity",  # no resource part: the rest is the platform
]


def recount(journal: Journal) -> dict[str, Any]:
    """The figures ``stats`` gives, counted from the rows (what it did before)."""
    db = journal._conn
    sources: dict[str, dict[str, Any]] = {}
    for uri, attempts in db.execute("SELECT uri, attempts FROM work"):
        rest = uri[len("aip://") :].split("/", 1)[1]
        entry = sources.setdefault(rest.split("/", 1)[0], {"queued": 0, "failing": 0})
        entry["queued"] += 1
        entry["failing"] += attempts > 0
    pending = db.execute("SELECT COUNT(*) FROM events WHERE done = 0").fetchone()[0]
    return {"events_pending": pending, "sources": sources}


def seen(stats: dict[str, Any]) -> dict[str, Any]:
    return {
        "events_pending": stats["events_pending"],
        "sources": {
            p: {"queued": s["queued"], "failing": s["failing"]} for p, s in stats["sources"].items()
        },
    }


operation = st.one_of(
    st.tuples(st.just("accept"), st.lists(st.sampled_from(URIS), min_size=1, max_size=4)),
    st.tuples(st.just("enqueue"), st.lists(st.sampled_from(URIS), min_size=1, max_size=4)),
    st.tuples(st.just("complete"), st.integers(0, 5)),
    st.tuples(st.just("retry"), st.integers(0, 5)),
    st.tuples(st.just("drop"), st.integers(0, 5)),
    st.tuples(st.just("forward"), st.lists(st.sampled_from(URIS), min_size=1, max_size=3)),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(operation, max_size=25))
def test_the_tallies_equal_a_count_of_the_rows_after_any_sequence(ops: list[Any]) -> None:
    journal = Journal(":memory:")
    for n, (kind, arg) in enumerate(ops):
        if kind == "accept":
            journal.accept((uri, "created", f"e{n}{i}", "{}", None) for i, uri in enumerate(arg))
        elif kind == "enqueue":
            journal.enqueue(((uri, None) for uri in arg), "reconcile")
        elif kind == "forward":
            journal.enqueue_forwarded(
                ((uri, None, "event", None, None) for uri in arg),
                {uri: [("created", f'{{"n": {n}}}')] for uri in arg},
            )
        else:
            items = journal.due(arg, now=time.time() + 1e9)
            if kind == "complete":
                journal.complete(items)
            elif kind == "retry":
                journal.retry_later((item, 0.0, "boom") for item in items)
            else:
                journal.drop_work((item, "gave up") for item in items)
        stats = journal.stats()
        assert seen(stats) == recount(journal), (n, kind)
        assert stats["queue_depth"] == sum(s["queued"] for s in stats["sources"].values())
        assert stats["failing"] == sum(s["failing"] for s in stats["sources"].values())
        due = journal._conn.execute("SELECT COUNT(*) FROM work WHERE due <= ?", (time.time(),))
        assert stats["queue_due"] == due.fetchone()[0] == stats["queue_depth"]  # none later


def test_a_journal_made_before_the_tallies_is_counted_when_opened(tmp_path: Path):
    path = tmp_path / "ingest.sqlite"
    journal = Journal(path)
    journal.accept((uri, "created", None, "{}", None) for uri in URIS)
    journal.retry_later((item, 0.0, "boom") for item in journal.due(2, now=time.time() + 1e9))
    journal.complete(journal.due(1, now=time.time() + 1e9))
    expected = journal.stats()
    journal.close()
    db = sqlite3.connect(path)  # as an older version left it: no tallies, no triggers
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f"DROP TRIGGER {name}")
    db.execute("DROP TABLE tallies")
    db.execute("DROP TABLE work_by_platform")
    db.execute("DROP INDEX work_platform_age")
    db.commit()
    db.close()

    reopened = Journal(path)
    got = reopened.stats()
    assert seen(got) == seen(expected) == recount(reopened)
    assert got["queue_depth"] == len(URIS) - 1 and got["failing"] == 2
    assert got["events_pending"] == len(URIS) - 1
    reopened.accept([(URIS[0], "updated", None, "{}", None)])  # counted from here on
    assert seen(reopened.stats()) == recount(reopened)


def test_the_oldest_queued_work_of_each_source_gives_its_lag():
    journal = Journal(":memory:")
    journal.accept([(URIS[0], "created", None, "{}", None)])
    time.sleep(0.05)
    journal.accept([(URIS[2], "created", None, "{}", None)])
    stats = journal.stats()
    assert set(stats["sources"]) == {"registry", "datasets"}
    registry, datasets = stats["sources"]["registry"], stats["sources"]["datasets"]
    assert registry["lag_seconds"] >= datasets["lag_seconds"] + 0.04
    assert stats["lag_seconds"] == registry["lag_seconds"]
    journal.complete(journal.due(10, now=time.time() + 1e9))
    assert journal.stats()["sources"] == {} and journal.stats()["lag_seconds"] == 0.0


def test_work_spread_over_an_hour_is_queued_but_not_due():
    journal = Journal(":memory:")
    journal.enqueue(((uri, None) for uri in URIS), "reconcile", spread=3600)
    journal.accept([("aip://model/registry/m9", "created", None, "{}", None)])
    stats = journal.stats()
    assert stats["queue_depth"] == len(URIS) + 1
    assert stats["queue_due"] == 2  # the spread's first item, and the event
