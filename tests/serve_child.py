"""``lifecyclegraph serve`` as a child process, as an operator starts it: the tests that
need a real server in a process of its own (its banner, its logs, commands beside it)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path


def start_serve(config: Path) -> tuple[subprocess.Popen[str], str, list[str]]:
    """Start ``serve`` on ``config`` and read its banner up to "Ctrl-C stops"; return
    the process, its root URL and the banner's lines. A server that prints no API URL
    is killed, and the assertion shows its banner and its standard error."""
    child = subprocess.Popen(
        [sys.executable, "-m", "lifecyclegraph", "--config", str(config), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert child.stdout is not None
    banner = []
    for line in child.stdout:
        banner.append(line)
        if line.startswith("Ctrl-C stops"):
            break
    found = re.search(r"API +(http://127\.0\.0\.1:\d+)/api/v1", "".join(banner))
    if not found:
        child.kill()
        raise AssertionError("".join(banner) + child.communicate(timeout=30)[1])
    return child, found.group(1), banner


def stop_serve(child: subprocess.Popen[str]) -> str:
    """Stop ``serve`` as Ctrl-C does; return what it wrote to standard error."""
    child.send_signal(signal.SIGINT)
    return child.communicate(timeout=60)[1]
