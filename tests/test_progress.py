"""Progress bars: drawn on a terminal, silent in pipes and CI logs."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

SCRIPT = """
from lifecyclegraph.cli.progress import progress
with progress("hydrating", total=3) as advance:
    advance(1)
    advance(3)  # more than the total said: it grows
print("done")
"""


def _run(stderr_is_a_terminal: bool) -> tuple[str, str]:
    if not stderr_is_a_terminal:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True
        )
        return done.stdout, done.stderr
    main, other = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-c", SCRIPT],
        stdout=subprocess.PIPE,
        stderr=other,
        env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
    )
    os.close(other)
    out, _ = child.communicate(timeout=60)
    drawn = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        drawn += chunk
    os.close(main)
    return out.decode(), drawn.decode(errors="replace")


def test_a_bar_is_drawn_on_a_terminal_with_its_count():
    out, drawn = _run(stderr_is_a_terminal=True)
    assert out == "done\n"
    assert "hydrating" in drawn
    assert "4/4" in drawn  # the total grew to what was done


def test_nothing_is_drawn_when_standard_error_is_not_a_terminal():
    out, err = _run(stderr_is_a_terminal=False)
    assert out == "done\n"
    assert err == ""
