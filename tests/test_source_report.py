"""A source's report counts every warning and failure but keeps only the latest."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lifecyclegraph.providers.base import KEPT_PROBLEMS, SourceReport

# each step: warn or fail, and how many times in a row
steps = st.lists(st.tuples(st.booleans(), st.integers(1, 400)), max_size=12)


def play(report: SourceReport, plan: list[tuple[bool, int]], log: list[tuple[str, str]]) -> None:
    for warn, times in plan:
        for _ in range(times):
            n = str(len(log))
            if warn:
                report.warn("w", None, n)
                log.append(("warning", n))
            else:
                report.fail("f", f"aip://x/y/{n}", n)
                log.append(("failure", n))


@given(steps, steps)
def test_counts_go_on_and_the_latest_problems_are_kept(before, after):
    report, log = SourceReport("registry"), []
    play(report, before, log)
    warned, failed = report.warned, report.failed
    cut = len(log)
    play(report, after, log)
    warnings = [m for level, m in log if level == "warning"]
    failures = [m for level, m in log if level == "failure"]
    assert (report.warned, report.failed) == (len(warnings), len(failures))
    assert [p.message for p in report.warnings] == warnings[-KEPT_PROBLEMS:]
    assert [p.message for p in report.failures] == failures[-KEPT_PROBLEMS:]
    # since(): what came after the counts were taken, as far as it is still kept
    new_warnings, new_failures = report.since(warned, failed)
    later = log[cut:]
    assert [p.message for p in new_warnings] == [m for level, m in later if level == "warning"][
        -KEPT_PROBLEMS:
    ]
    assert [p.message for p in new_failures] == [m for level, m in later if level == "failure"][
        -KEPT_PROBLEMS:
    ]


def test_a_report_merged_from_elsewhere_counts_what_was_not_sent():
    child, parent = SourceReport("registry"), SourceReport("registry")
    for n in range(KEPT_PROBLEMS + 50):
        child.warn("unresolved-owner", None, str(n))
    warnings, _ = child.since(0, 0)
    assert len(warnings) == KEPT_PROBLEMS
    parent.add_warnings(warnings, child.warned)
    assert parent.warned == KEPT_PROBLEMS + 50
    assert parent.warnings[-1].message == str(KEPT_PROBLEMS + 49)


def test_latest_problems_newest_first_for_the_status():
    report = SourceReport("featurestore")
    report.warn("unresolved-owner", "aip://feature/featurestore/a", "ghost@example.com")
    report.fail("validation", "aip://feature/featurestore/b", "1 SHACL violation(s)")
    report.warn("malformed-field", None, "created_at")
    latest = report.latest(2)
    assert [(p["level"], p["kind"]) for p in latest] == [
        ("warning", "malformed-field"),
        ("failure", "validation"),
    ]
    assert latest[1]["uri"] == "aip://feature/featurestore/b"
    assert report.latest(10)[-1]["message"] == "ghost@example.com"
