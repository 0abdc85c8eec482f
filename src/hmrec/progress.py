"""Progress bars for long work: rich when wanted, silent with ``--quiet``."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")

_state = {"quiet": False}


def set_quiet(quiet: bool) -> None:
    """Silence (or restore) every progress bar and status line for this process."""
    _state["quiet"] = quiet


def is_quiet() -> bool:
    return _state["quiet"]


def console() -> Console:
    """The console for status lines (stderr, so that stdout stays clean for tables and pipes)."""
    return Console(stderr=True, quiet=_state["quiet"])


@contextmanager
def progress_bar(transient: bool = True) -> Iterator[Progress]:
    """A rich Progress on stderr; disabled (all calls become no-ops) when quiet or not a terminal in CI."""
    disable = _state["quiet"]
    bar = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        console=Console(stderr=True, quiet=disable, file=sys.stderr),
        transient=transient,
        disable=disable,
    )
    with bar:
        yield bar


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar (silent when quiet)."""
    with progress_bar() as bar:
        task = bar.add_task(description, total=total, info="")
        for item in items:
            yield item
            bar.advance(task)
