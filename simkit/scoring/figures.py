"""The case set's figure: class probabilities per case, and deal-date intervals against the record."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from simkit.model import OUTCOMES
from simkit.store import write_figure

COLOURS = {
    "surrender_evacuation": "#4c72b0",
    "reconciliation": "#55a868",
    "military_takeover": "#c44e52",
    "durable_ceasefire": "#8172b2",
    "stalemate": "#b0b0b0",
}
DOCUMENTED = "black"
"""The documented deal window: a colour no outcome class uses, so it is not read as military_takeover."""
HORIZON = "#777777"


def plot_scores(details: list[dict], path: Path, title: str) -> Path:
    """Left: each case's forecast class probabilities (stacked), the documented class outlined.

    Right: each case's deal-day forecast in days after its scenario's start (median, 50% and
    80% intervals; runs without a deal sit at the horizon) against the documented deal window.
    """
    n = len(details)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 1.8 + 0.55 * n))
    rows = list(range(n))[::-1]
    labels = [d["name"] for d in details]
    for y, d in zip(rows, details, strict=True):
        offset = 0.0
        for name in OUTCOMES:
            p = d["probabilities"][name]
            documented = name == d["documented"]["outcome"]
            left.barh(
                y, p, left=offset, color=COLOURS[name], height=0.6,
                edgecolor="black" if documented else "white", linewidth=2.0 if documented else 0.5,
            )  # fmt: skip
            if documented:
                left.text(offset + p / 2, y, f"{p:.2f}", ha="center", va="center", fontsize=8)
            offset += p
    left.set_yticks(rows, labels)
    left.set_xlim(0, 1)
    left.set_ylim(-0.6, n - 0.4)
    left.set_xlabel("forecast probability of each class (documented class outlined)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=COLOURS[name]) for name in OUTCOMES]
    fig.legend(handles, OUTCOMES, loc="lower center", ncol=len(OUTCOMES), fontsize=8, frameon=False)

    for y, d in zip(rows, details, strict=True):
        deal = d.get("deal")
        if deal is None:
            continue
        (p25, p75), (p10, p90) = deal["interval_days"]
        right.plot([p10, p90], [y, y], color="#4c72b0", linewidth=2, solid_capstyle="butt")
        right.plot([p25, p75], [y, y], color="#4c72b0", linewidth=7, solid_capstyle="butt")
        right.plot(deal["median_day"], y, "o", color="white", markeredgecolor="#4c72b0")
        low, high = deal["documented_days"]
        if high > low:
            right.plot([low, high], [y + 0.25, y + 0.25], color=DOCUMENTED, linewidth=3,
                       solid_capstyle="butt")  # fmt: skip
        # a triangle over every window, so a window of a day or two is as visible as a wide one
        right.plot((low + high) / 2, y + 0.3, "v", color=DOCUMENTED, markersize=8)
        right.plot(d["horizon_days"], y, "|", color=HORIZON, markersize=14)
        right.text(
            d["horizon_days"], y - 0.32, f"no deal {deal['no_deal_by_horizon']:.0%} ",
            ha="right", va="center", fontsize=7,
        )  # fmt: skip
    right.set_yticks(rows, labels)
    right.set_ylim(-0.6, n - 0.4)
    right.set_xlim(left=0)
    right.set_xlabel("deal day, days after the scenario's start")
    right.set_title(
        "forecast: 50% (thick) and 80% intervals, median (o)\n"
        "documented deal window (black, ▼); horizon (grey |)",
        fontsize=9,
    )
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return write_figure(path, fig, dpi=120)
