"""Progress bars for the commands that can run longer than a few seconds, drawn by
rich on standard error, and quiet when standard error is not a terminal (CI logs and
pipes get only the commands' own lines).

>>> with progress("indexing", total=3) as advance:   # not a terminal here: silent
...     for _ in range(3):
...         advance(1)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

__all__ = ["progress"]


def _silent(n: int = 1) -> None:
    """What ``advance`` is when no bar is drawn."""


@contextmanager
def progress(label: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A bar labelled ``label`` while the block runs; yields ``advance(n)``.

    ``total`` ``None`` (or 0) draws a spinner and a count; the total grows when more is
    done than it said (work that makes work, such as stubs found while hydrating).
    """
    console = Console(stderr=True)
    if not console.is_terminal:
        yield _silent
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(label, total=total or None)

        def advance(n: int = 1) -> None:
            done = bar.tasks[0].completed + n
            if total and done > (bar.tasks[0].total or 0):
                bar.update(task, total=done)
            bar.advance(task, n)

        yield advance
