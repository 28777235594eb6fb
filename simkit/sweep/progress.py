"""The sweep's progress bar: runs done of total, rate in runs per second, elapsed and time left."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Runs per second over rich's recent window (so a resumed sweep's head start does not inflate it)."""

    def render(self, task: Task) -> Text:
        """The current rate, or a dash before there is one."""
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} runs/s" if speed else "- runs/s", style="progress.data.speed")


@contextmanager
def sweep_progress(total: int, label: str, enabled: bool = True) -> Iterator[Callable[[int], None]]:
    """Yield the `progress` callback of `run_sweep`; draws only on a terminal (stderr).

    The first call carries the runs already done by an earlier, interrupted
    session: it moves the bar without counting towards the rate or time left.
    """
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield lambda n: None
        return
    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("runs"), RateColumn(),
        TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
    )  # fmt: skip
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        first = True

        def advance(runs: int) -> None:
            nonlocal first
            if first:
                bar.reset(task, completed=runs)  # clears rate samples: the head start is not speed
                first = False
            else:
                bar.advance(task, runs)

        yield advance
