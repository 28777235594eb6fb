"""What a person reads: the outcome table, attribute quantiles, and a progress bar."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

ATTRIBUTE_LABELS = {
    "outcome_day": "days to outcome",
    "released": "detainees released",
    "released_share": "share of list released",
    "evacuated": "people evacuated",
    "evacuated_fighters": "fighters evacuated",
    "killed": "killed",
    "agreements_signed": "agreements signed",
    "agreements_collapsed": "agreements collapsed",
    "ceasefire_days": "days under ceasefire",
}


@contextmanager
def progress_bar(total: int, label: str, enabled: bool = True) -> Iterator[Callable[[int], None]]:
    """Yield `advance(n)`; draws a bar only on a terminal (stderr), so logs and CI stay clean."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield lambda n: None
        return
    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("runs"),
        TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
    )  # fmt: skip
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


def print_summary(summary: dict, title: str, console: Console | None = None) -> None:
    """Outcome shares with 95% intervals, then p10/p50/p90 of the run attributes."""
    console = console or Console(file=sys.stdout)
    outcomes = Table(title=title, title_justify="left")
    outcomes.add_column("outcome")
    outcomes.add_column("share", justify="right")
    outcomes.add_column("95% CI", justify="right")
    # The en dash in the "95% CI" ranges is deliberate typography, hence the noqa: RUF001 below.
    for name, stats in summary["outcomes"].items():
        lo, hi = stats["ci95"]
        outcomes.add_row(name, f"{stats['share']:.1%}", f"{lo:.1%} – {hi:.1%}")  # noqa: RUF001
    lo, hi = summary["partial_release_ci95"]
    partial = f"{summary['partial_release_share']:.1%}"
    outcomes.add_row("[italic]partial_release (flag)[/]", partial, f"{lo:.1%} – {hi:.1%}")  # noqa: RUF001
    console.print(outcomes)
    attributes = Table(title="attributes over runs", title_justify="left")
    attributes.add_column("attribute")
    for label in ("p10", "p50", "p90"):
        attributes.add_column(label, justify="right")
    for name, q in summary["attributes"].items():
        fmt = "{:.1%}" if name == "released_share" else "{:,.0f}"
        attributes.add_row(
            ATTRIBUTE_LABELS.get(name, name), *(fmt.format(q[k]) for k in ("p10", "p50", "p90"))
        )
    console.print(attributes)
