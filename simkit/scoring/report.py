"""The score tables a person reads (rich; fits 80 columns): classes, scores, deal date, evacuated."""

from __future__ import annotations

import datetime as dt
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from rich import box
from rich.console import Console
from rich.table import Table

SHORT = {
    "surrender_evacuation": "surrender",
    "reconciliation": "reconcil.",
    "military_takeover": "takeover",
    "durable_ceasefire": "durable",
    "stalemate": "stalemate",
}
"""Outcome class names short enough for an 80-column table."""


def _num(value: float, fmt: str = "{:.3f}") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if math.isinf(value):
        return "inf"
    return fmt.format(value)


def _people(value: float) -> str:
    """A count of people, narrow: 2,074 or 21.8k."""
    if value is None or math.isnan(value):
        return "-"
    return f"{value / 1000:.1f}k" if abs(value) >= 10_000 else f"{value:,.0f}"


def _whole(value: float) -> str:
    return _num(value, "{:.0f}")


def _skill(value: float) -> str:
    return _num(value, "{:+.2f}")


def _table(title: str, *columns: str) -> Table:
    table = Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1),
        collapse_padding=True,
    )  # fmt: skip
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right", no_wrap=True)
    return table


def _score(table: pd.DataFrame, case: str, metric: str, baseline: str) -> pd.Series | None:
    rows = table[(table["case"] == case) & (table["metric"] == metric) & (table["baseline"] == baseline)]
    return rows.iloc[0] if len(rows) else None


def _date_text(value: str) -> str:
    """A forecast or documented date as 13Mar17 (narrow); none for no deal by the horizon."""
    if value.startswith(">="):
        return "none"
    return dt.date.fromisoformat(value).strftime("%d%b%y")


def _flags(intervals: list[dict]) -> str:
    """'in'/'ov'/'-' per interval (50%, 80%): documented inside it, overlapping it, or outside."""
    marks = ["in" if i["inside"] else "ov" if i["overlaps"] else "-" for i in intervals]
    return "/".join(marks)


@dataclass(frozen=True)
class _Quantity:
    """A forecast quantity's table: where its scores and details are, and how its numbers are written."""

    title: str
    detail: str
    """Key of the forecast in a case's details (`score_cases`)."""
    documented: str
    """Key of the documented [low, high] in the details' `documented`."""
    metric: str
    baseline: str
    value: Callable[[Any], str]
    """Writes a documented or forecast value (median, interval ends)."""
    score: Callable[[float], str]
    """Writes the CRPS of the model and of the baseline."""
    window: Callable[[Any, Any], str]
    """Writes the documented value from its low and high."""


DEAL = _Quantity(
    title="deal date (CRPS in days; base = library siege-to-deal durations; in/ov/- = documented "
    "inside/overlapping/outside the 50%/80% interval; none = no deal by the horizon; "
    "+ = a window starting then)",
    detail="deal", documented="deal_date", metric="crps_deal_days", baseline="durations",
    value=_date_text, score=_whole, window=lambda low, high: _date_text(low) + ("" if low == high else "+"),
)  # fmt: skip
EVACUATED = _Quantity(
    title="evacuated on the surrender's buses (truce departures not counted; CRPS in people; "
    "base = other cases' evacuated share x population)",
    detail="evacuated", documented="evacuated", metric="crps_evacuated", baseline="evacuated_share",
    value=_people, score=_people,
    window=lambda low, high: _people(low) if low == high else f"{_people(low)}-{_people(high)}",
)  # fmt: skip


def _quantity_table(table: pd.DataFrame, details: list[dict], quantity: _Quantity) -> Table:
    """Per case: documented, median, 80% interval, 50/80 flags, CRPS, baseline CRPS, skill; pooled last."""
    shown = _table(
        quantity.title, "case", "documented", "median", "p10", "p90", "50/80", "CRPS", "base", "skill"
    )
    for d in details:
        row = _score(table, d["id"], quantity.metric, quantity.baseline)
        if row is None or quantity.detail not in d:
            continue
        low, high = d["documented"][quantity.documented]
        forecast = d[quantity.detail]
        widest = forecast["intervals"][-1]
        shown.add_row(
            d["id"], quantity.window(low, high), quantity.value(forecast["median"]),
            quantity.value(widest["low"]), quantity.value(widest["high"]), _flags(forecast["intervals"]),
            quantity.score(row["model"]), quantity.score(row["baseline_score"]), _skill(row["skill"]),
        )  # fmt: skip
    pooled = _score(table, "pooled", quantity.metric, quantity.baseline)
    if pooled is not None:
        shown.add_row(
            "pooled", "", "", "", "", "", quantity.score(pooled["model"]),
            quantity.score(pooled["baseline_score"]), _skill(pooled["skill"]),
        )  # fmt: skip
    return shown


def print_scores(
    table: pd.DataFrame, details: list[dict], title: str, console: Console | None = None
) -> None:
    """Four tables: class forecasts, class scores with skills, deal date, evacuated; pooled rows last."""
    console = console or Console(file=sys.stdout)
    ids = [d["id"] for d in details] + ["pooled"]

    classes = _table(f"{title}\noutcome class forecasts", "case", "documented", "p(doc)", "likeliest", "p")
    for d in details:
        likeliest = d["most_likely"]
        classes.add_row(
            d["id"], SHORT[d["documented"]["outcome"]], f"{d['p_documented']:.3f}",
            SHORT[likeliest], f"{d['probabilities'][likeliest]:.3f}",
        )  # fmt: skip
    console.print(classes)

    scores = _table(
        "class scores (skill: 1 - score/baseline; uni = uniform, base = base rate)",
        "case", "Brier", "uni", "base", "log2", "uni", "base",
    )  # fmt: skip
    for case in ids:
        cells = [case]
        for metric in ("brier", "log_score"):
            uniform, base = _score(table, case, metric, "uniform"), _score(table, case, metric, "base_rate")
            cells += [_num(uniform["model"]), _skill(uniform["skill"]), _skill(base["skill"])]
        scores.add_row(*cells, end_section=case == ids[-2])
    console.print(scores)

    for quantity in (DEAL, EVACUATED):
        console.print(_quantity_table(table, details, quantity))


def print_leave_one_out(frame: pd.DataFrame, title: str, console: Console | None = None) -> None:
    """In-sample beside out-of-sample scores per case (`simkit.calibration.joint.leave_one_out_table`).

    Each cell is "in/out": the score on the posterior fitted on all cases, then on the one fitted
    without the case.
    """
    console = console or Console(file=sys.stdout)
    table = _table(
        f"{title}\nin/out = posterior fitted on all cases / fitted without the case; skill against the "
        "base rate (Brier) and the library's siege-to-deal durations (CRPS of the deal date, days)",
        "case", "p(doc)\nin/out", "Brier\nin/out", "skill\nin/out", "CRPS\nin/out",
        "skill\nin/out",
    )  # fmt: skip
    records = frame.to_dict("records")
    for i, row in enumerate(records):
        table.add_row(
            row["case"], _pair(row, "p_documented"), _pair(row, "brier"), _pair(row, "brier_skill", _skill),
            _pair(row, "crps_deal_days", _whole), _pair(row, "crps_skill", _skill),
            end_section=i == len(records) - 2,
        )  # fmt: skip
    console.print(table)


def _pair(row: dict, name: str, show=_num) -> str:
    """`<name>_in/<name>_out` of a leave-one-out row, each as `show` writes it."""
    return f"{show(row[f'{name}_in'])}/{show(row[f'{name}_out'])}"
