"""The score tables a person reads (rich; fits 80 columns): classes, scores, deal date, evacuated."""

from __future__ import annotations

import datetime as dt
import math
import sys

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

    deal = _table(
        "deal date (CRPS in days; base = library siege-to-deal durations; in/ov/- = documented "
        "inside/overlapping/outside the 50%/80% interval; none = no deal by the horizon; "
        "+ = a window starting then)",
        "case", "documented", "median", "p10", "p90", "50/80", "CRPS", "base", "skill",
    )  # fmt: skip
    for d in details:
        row = _score(table, d["id"], "crps_deal_days", "durations")
        if row is None or "deal" not in d:
            continue
        documented = d["documented"]["deal_date"]
        text = _date_text(documented[0]) + ("" if documented[0] == documented[1] else "+")
        q = d["deal"]
        deal.add_row(
            d["id"], text, _date_text(q["median"]), _date_text(q["intervals"][-1]["low"]),
            _date_text(q["intervals"][-1]["high"]), _flags(q["intervals"]),
            _num(row["model"], "{:.0f}"), _num(row["baseline_score"], "{:.0f}"), _skill(row["skill"]),
        )  # fmt: skip
    pooled = _score(table, "pooled", "crps_deal_days", "durations")
    if pooled is not None:
        deal.add_row(
            "pooled", "", "", "", "", "", _num(pooled["model"], "{:.0f}"),
            _num(pooled["baseline_score"], "{:.0f}"), _skill(pooled["skill"]),
        )  # fmt: skip
    console.print(deal)

    evacuated = _table(
        "evacuated (CRPS in people; base = other cases' evacuated share x population)",
        "case", "documented", "median", "p10", "p90", "50/80", "CRPS", "base", "skill",
    )  # fmt: skip
    for d in details:
        row = _score(table, d["id"], "crps_evacuated", "evacuated_share")
        if row is None or "evacuated" not in d:
            continue
        low, high = d["documented"]["evacuated"]
        documented = _people(low) if low == high else f"{_people(low)}-{_people(high)}"
        q = d["evacuated"]
        evacuated.add_row(
            d["id"], documented, _people(q["median"]), _people(q["intervals"][-1]["low"]),
            _people(q["intervals"][-1]["high"]), _flags(q["intervals"]), _people(row["model"]),
            _people(row["baseline_score"]), _skill(row["skill"]),
        )  # fmt: skip
    pooled = _score(table, "pooled", "crps_evacuated", "evacuated_share")
    if pooled is not None:
        evacuated.add_row(
            "pooled", "", "", "", "", "", _people(pooled["model"]),
            _people(pooled["baseline_score"]), _skill(pooled["skill"]),
        )  # fmt: skip
    console.print(evacuated)


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
            _pair(row, "crps_deal_days", lambda v: _num(v, "{:.0f}")), _pair(row, "crps_skill", _skill),
            end_section=i == len(records) - 2,
        )  # fmt: skip
    console.print(table)


def _pair(row: dict, name: str, show=_num) -> str:
    """`<name>_in/<name>_out` of a leave-one-out row, each as `show` writes it."""
    return f"{show(row[f'{name}_in'])}/{show(row[f'{name}_out'])}"
