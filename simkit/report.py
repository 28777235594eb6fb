"""What a person reads: the outcome table, attribute quantiles, and a progress bar."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

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


class DottedPath:
    """A dotted parameter path in a table cell that wraps after its dots, never in a name or with `…`.

    `committees.0.red_line_firmness` in a narrow column reads `committees.0.` / `red_line_firmness`
    rather than being cut. Only a single name longer than the column is folded.
    """

    def __init__(self, path: str, style: str = "") -> None:
        self.path = path
        self.style = style
        self.parts = [part + "." for part in path.split(".")]
        self.parts[-1] = self.parts[-1][:-1]

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        longest = max(len(part) for part in self.parts)
        return Measurement(min(longest, options.max_width), min(len(self.path), options.max_width))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(1, options.max_width)
        lines = [""]
        for part in self.parts:
            if lines[-1] and len(lines[-1]) + len(part) > width:
                lines.append("")
            lines[-1] += part
        yield Text("\n".join(lines), style=self.style, overflow="fold", no_wrap=False)


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
    """Outcome shares with 95% intervals, when runs end, then p10/p50/p90 of the run attributes.

    The outcome classes add up to 100%; the partial-release flag is not one of them (the share of the
    list released is among the attributes). "Days to an ending" counts only runs that reached one.
    """
    console = console or Console(file=sys.stdout)
    outcomes = Table(title=title, title_justify="left")
    outcomes.add_column("outcome", overflow="fold")
    outcomes.add_column("share", justify="right", no_wrap=True)
    outcomes.add_column("95% CI", justify="right", no_wrap=True)
    # The en dash in the "95% CI" ranges is deliberate typography, hence the noqa: RUF001 below.
    for name, stats in summary["outcomes"].items():
        lo, hi = stats["ci95"]
        outcomes.add_row(name, f"{stats['share']:.1%}", f"{lo:.1%} – {hi:.1%}")  # noqa: RUF001
    console.print(outcomes)
    timing = summary.get("timing") or {}
    if timing:
        print_timing(timing, console)
    attributes = Table(title="attributes over runs", title_justify="left")
    attributes.add_column("attribute", overflow="fold")
    for label in ("p10", "p50", "p90"):
        attributes.add_column(label, justify="right", no_wrap=True)
    for name, q in summary["attributes"].items():
        if name == "outcome_day" and timing:
            ended = timing["endings"]["any ending"]
            if ended["runs"]:
                attributes.add_row(
                    f"days to an ending ({ended['share']:.0%} of runs)",
                    *(f"{ended[f'day_{k}']:,}" for k in ("p10", "p50", "p90")),
                )
            continue
        fmt = "{:.1%}" if name == "released_share" else "{:,.0f}"
        attributes.add_row(
            ATTRIBUTE_LABELS.get(name, name), *(fmt.format(q[k]) for k in ("p10", "p50", "p90"))
        )
    console.print(attributes)


def horizon_at(censored_at: str | None) -> str:
    """` (2017-08-01)` after "unresolved at the horizon"; empty where the folder does not record it."""
    return "" if censored_at is None else f" ({censored_at})"


def print_timing(timing: dict, console: Console) -> None:
    """When runs end: per ending, its runs and the p10/median/p90 dates, and the share still unresolved."""
    title = (
        "when: date of the deal that decided the ending, or the takeover"
        if timing.get("day_of") == "deal"
        else "when: date the ending was complete (these results predate deal dates)"
    )
    table = Table(title=title, title_justify="left")
    table.add_column("ending", overflow="fold")
    table.add_column("runs", justify="right", no_wrap=True)
    for label in ("p10", "median", "p90"):
        table.add_column(label, justify="right", no_wrap=True)
    for name, row in timing["endings"].items():
        dates = [row[f"date_{k}"] or "-" for k in ("p10", "p50", "p90")]
        table.add_row(name.replace("_", " "), f"{row['runs']:,} ({row['share']:.1%})", *dates)
    console.print(table)
    left = timing["unresolved"]
    console.print(
        f"unresolved at the horizon{horizon_at(left['censored_at'])}: "
        f"{left['runs']:,} runs ({left['share']:.0%}), "
        "censored there rather than counted as ending then"
    )
