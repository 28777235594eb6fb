"""Figures of an ensemble: outcome shares, event timelines, and fan charts of daily series."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simkit.model import OUTCOMES

if TYPE_CHECKING:
    from simkit.ensemble import Ensemble

ENDING_COLOURS = {
    "surrender_evacuation": "#0072B2",
    "reconciliation": "#009E73",
    "military_takeover": "#D55E00",
    "durable_ceasefire": "#E69F00",
    "stalemate": "#999999",
}
"""Okabe-Ito colours (safe for colour-blind readers), one per outcome class, in every figure."""

TIMELINE_MARKS = {
    "talks_held": ("talks", ".", "#999999", 10),
    "package_offered": ("offer tabled", "|", "#555555", 30),
    "agreement_signed": ("agreement signed", "^", "#009E73", 36),
    "ceasefire_declared": ("ceasefire declared", "v", "#009E73", 30),
    "detainees_released": ("detainees freed", "o", "#56B4E9", 22),
    "violation": ("violation", "x", "#CC79A7", 18),
    "ceasefire_collapsed": ("truce collapsed", "X", "#D55E00", 44),
    "evacuation_convoy": ("evacuation convoy", "s", "#0072B2", 14),
    "mediator_entry": ("mediator enters", "*", "#000000", 60),
    "control": ("regime takes control", "D", "#000000", 30),
}
"""Event types drawn on timelines: label, marker, colour (Okabe-Ito and greys), size."""


def _legend(ax: plt.Axes, **kwargs) -> bool:
    """Draw the legend if anything on `ax` is labelled (matplotlib warns on an empty one); say if drawn."""
    if not ax.get_legend_handles_labels()[0]:
        return False
    ax.legend(**kwargs)
    return True


def plot_outcomes(summary: dict, ax: plt.Axes | None = None, label: str = "") -> plt.Axes:
    """Bar chart of outcome shares with their 95% intervals; `label` names the scenario as run."""
    ax = ax or plt.subplots(figsize=(7, 3.5))[1]
    shares = [summary["outcomes"][name]["share"] for name in OUTCOMES]
    lows = [summary["outcomes"][name]["ci95"][0] for name in OUTCOMES]
    highs = [summary["outcomes"][name]["ci95"][1] for name in OUTCOMES]
    errors = np.array([np.subtract(shares, lows), np.subtract(highs, shares)])
    colours = [ENDING_COLOURS[name] for name in OUTCOMES]
    ax.bar(range(len(OUTCOMES)), shares, yerr=errors, capsize=4, color=colours)
    ax.set_xticks(range(len(OUTCOMES)), [name.replace("_", "\n") for name in OUTCOMES])
    ax.set_ylabel("share of runs")
    ax.set_ylim(0, 1)
    prefix = f"{label}: " if label else ""
    ax.set_title(f"{prefix}outcomes over {summary['runs']} runs (95% Wilson intervals)")
    return ax


def plot_timeline(
    events: pd.DataFrame, runs: pd.DataFrame, ax: plt.Axes | None = None, label: str = ""
) -> plt.Axes:
    """One row per run, grouped by outcome (a coloured bar to its last day), with its talks, offers and deals.

    Args:
        events: the event log of the runs in `runs`.
        runs: their rows of runs.parquet (run, outcome, outcome_day, outcome_date).
        ax: where to draw.
        label: the scenario as run, for the title.
    """
    order = {name: i for i, name in enumerate(OUTCOMES)}
    runs = runs.assign(_group=runs["outcome"].map(order)).sort_values(["_group", "outcome_day", "run"])
    ax = ax or plt.subplots(figsize=(11, 0.22 * len(runs) + 2))[1]
    row_of = {run: i for i, run in enumerate(runs["run"])}
    start = pd.Timestamp(runs["outcome_date"].iloc[0]) - pd.Timedelta(days=int(runs["outcome_day"].iloc[0]))
    for run, outcome, end in runs[["run", "outcome", "outcome_date"]].itertuples(index=False):
        ax.plot([start, pd.Timestamp(end)], [row_of[run]] * 2, color=ENDING_COLOURS[outcome], lw=5,
                alpha=0.35, solid_capstyle="butt", zorder=1)  # fmt: skip
    shown = events[events["run"].isin(row_of) & events["type"].isin(TIMELINE_MARKS)]
    for kind, (name, marker, colour, size) in TIMELINE_MARKS.items():
        rows = shown[shown["type"] == kind]
        if len(rows):
            ax.scatter(pd.to_datetime(rows["date"]), rows["run"].map(row_of), s=size, marker=marker,
                       color=colour, label=name, zorder=3, linewidths=1)  # fmt: skip
    ticks, labels = [], []
    for outcome, group in runs.groupby("outcome", sort=False):
        rows = [row_of[r] for r in group["run"]]
        ax.axhline(max(rows) + 0.5, color="#cccccc", lw=0.8)
        ticks.append((min(rows) + max(rows)) / 2)
        labels.append(f"{outcome.replace('_', ' ')}\n({len(rows)} run{'s' if len(rows) > 1 else ''})")
    ax.set_yticks(ticks, labels, fontsize=8)
    ax.set_ylim(len(runs) - 0.5, -0.5)
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    _legend(ax, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    prefix = f"{label}: " if label else ""
    ax.set_title(f"{prefix}runs 0-{len(runs) - 1}, one row each, grouped by outcome (bar: run's length)")
    return ax


def plot_cumulative_incidence(
    runs: pd.DataFrame,
    ax: plt.Axes | None = None,
    label: str = "",
    linestyle: str = "-",
    end: str | None = None,
) -> plt.Axes:
    """Cumulative incidence of each ending by date (Aalen-Johansen, 95% bands), unresolved runs censored.

    Drawn on `ax` so two ensembles can share one (`simkit diff`); `label` names the ensemble; `end`
    is the scenario's last simulated day (the manifest's `end`), drawn as a dotted line.
    """
    import datetime as dt

    from simkit.timing import ENDINGS, cumulative_incidence, unresolved

    ax = ax or plt.subplots(figsize=(8, 4))[1]
    table = cumulative_incidence(runs)
    for name in ENDINGS:
        curve = table[table["ending"] == name]
        if curve["incidence"].iloc[-1] == 0:
            continue
        dates = pd.to_datetime(curve["date"])
        colour = ENDING_COLOURS[name]
        ax.step(dates, curve["incidence"], where="post", color=colour, linestyle=linestyle,
                label=f"{label + ': ' if label else ''}{name.replace('_', ' ')}")  # fmt: skip
        ax.fill_between(dates, curve["low"], curve["high"], step="post", color=colour, alpha=0.15)
    _, _, last = unresolved(runs, None if end is None else dt.date.fromisoformat(end))
    if last is not None:
        ax.axvline(pd.Timestamp(last), color="black", linewidth=0.8, linestyle=":")
    ax.set_ylim(0, 1)
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_ylabel("share of runs ended this way by then\n(Aalen-Johansen, 95% band)")
    horizon = "the horizon" if last is None else f"the horizon, {last},"
    ax.set_xlabel(f"date (runs unresolved at {horizon} are censored there)")
    if not _legend(ax, frameon=False, fontsize=8, loc="upper left"):
        ax.text(0.5, 0.5, "no run reached an ending by the horizon", transform=ax.transAxes,
                ha="center", va="center", fontsize=9)  # fmt: skip
    return ax


def write_diff_figure(a: pd.DataFrame, b: pd.DataFrame, label_a: str, label_b: str, path: Path) -> Path:
    """diff_endings.png: cumulative incidence of each ending for A (solid) and B (dashed), one panel each."""
    from simkit.timing import ENDINGS, cumulative_incidence

    tables = {"A": cumulative_incidence(a), "B": cumulative_incidence(b)}
    shown = [e for e in ENDINGS if any(t[t["ending"] == e]["incidence"].max() > 0 for t in tables.values())]
    shown = shown or [ENDINGS[0]]
    fig, axes = plt.subplots(1, len(shown), figsize=(5 * len(shown) + 1, 4), sharey=True, squeeze=False)
    for ending, ax in zip(shown, axes[0], strict=True):
        for (label, table), style in zip(tables.items(), ("-", "--"), strict=True):
            curve = table[table["ending"] == ending]
            dates = pd.to_datetime(curve["date"])
            ax.step(dates, curve["incidence"], where="post", linestyle=style, label=label,
                    color=ENDING_COLOURS[ending])  # fmt: skip
            ax.fill_between(dates, curve["low"], curve["high"], step="post", alpha=0.12,
                            color=ENDING_COLOURS[ending])  # fmt: skip
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.set_title(ending.replace("_", " "))
        ax.set_ylim(0, 1)
        ax.legend(frameon=False, fontsize=7, loc="upper left")
    axes[0][0].set_ylabel("share of runs ended this way by then\n(Aalen-Johansen, 95% band)")
    width = 45 * len(shown) + 20
    fig.suptitle(
        "When runs end (unresolved runs censored at the horizon)\n"
        + textwrap.fill(f"A (solid): {label_a}", width)
        + "\n"
        + textwrap.fill(f"B (dashed): {label_b}", width),
        fontsize=9,
    )
    return _save(fig, path)


def plot_fan(series: pd.DataFrame, column: str, ax: plt.Axes | None = None) -> plt.Axes:
    """Median and 50%/80% bands of a daily series across runs, by date.

    Runs that ended before the last date carry their last value forward.
    """
    ax = ax or plt.subplots(figsize=(8, 3.5))[1]
    wide = series.pivot(index="date", columns="run", values=column).ffill()
    dates = pd.to_datetime(wide.index)
    q = wide.quantile([0.1, 0.25, 0.5, 0.75, 0.9], axis=1).T
    ax.fill_between(dates, q[0.1], q[0.9], alpha=0.2, color="#4c72b0", label="80%")
    ax.fill_between(dates, q[0.25], q[0.75], alpha=0.35, color="#4c72b0", label="50%")
    ax.plot(dates, q[0.5], color="#1f3b73", label="median")
    ax.set_title(column.replace("_", " "))
    ax.legend(frameon=False, fontsize=8)
    return ax


SERIES_UNITS = {
    "population": "people inside",
    "food_days": "days of food per resident",
    "hardship": "households' mean hardship (0-1)",
    "killed": "people killed (cumulative)",
    "evacuated": "people evacuated (cumulative)",
    "released": "detainees freed (cumulative)",
}
"""Daily series drawn in series.png, with the unit of each axis."""


def plot_series_by_outcome(series: pd.DataFrame, runs: pd.DataFrame, column: str, ax: plt.Axes) -> plt.Axes:
    """Median and 50% band of a daily series for the runs of each outcome class (classes with 5+ runs).

    Stocks and running totals of a run that ended keep their last value; levels among the people
    still inside (food, hardship) stop with the run.
    """
    wide = series.pivot(index="date", columns="run", values=column)
    if column not in ("food_days", "hardship"):
        wide = wide.ffill()
    dates = pd.to_datetime(wide.index)
    outcome_of = runs.set_index("run")["outcome"]
    for name in OUTCOMES:
        members = [r for r in wide.columns if outcome_of.get(r) == name]
        if len(members) < 5:
            continue
        q = wide[members].quantile([0.25, 0.5, 0.75], axis=1).T
        colour = ENDING_COLOURS[name]
        ax.fill_between(dates, q[0.25], q[0.75], alpha=0.2, color=colour, lw=0)
        ax.plot(dates, q[0.5], color=colour, label=f"{name.replace('_', ' ')} ({len(members)})")
    ax.set_title(SERIES_UNITS.get(column, column), fontsize=9)
    if not ax.lines:
        ax.text(0.5, 0.5, "no outcome class has 5 runs to summarise", transform=ax.transAxes,
                ha="center", va="center", fontsize=8)  # fmt: skip
    ax.ticklabel_format(axis="y", style="plain", useOffset=False)
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    _legend(ax, frameon=False, fontsize=7)
    return ax


def write_figures(ensemble: Ensemble, out: Path) -> list[Path]:
    """Write outcomes.png, endings.png, timeline.png and (with series) series.png into the result folder."""
    from simkit.manifest import scenario_label

    label = scenario_label(ensemble.manifest) if ensemble.manifest else ""
    written = []
    fig, ax = plt.subplots(figsize=(7, 3.5))
    plot_outcomes(ensemble.summary, ax, label)
    written.append(_save(fig, out / "outcomes.png"))
    fig, ax = plt.subplots(figsize=(8, 4))
    end = (ensemble.manifest or {}).get("end")
    plot_cumulative_incidence(ensemble.runs, ax, end=end)
    share = ensemble.summary["timing"]["unresolved"]["share"]
    prefix = f"{label}: " if label else ""
    ax.set_title(f"{prefix}when runs end ({share:.0%} of {len(ensemble.runs)} runs unresolved)")
    written.append(_save(fig, out / "endings.png"))
    shown = min(30, len(ensemble.runs))
    fig, ax = plt.subplots(figsize=(11, 0.22 * shown + 2))
    plot_timeline(ensemble.events_of_first(shown), ensemble.runs[ensemble.runs["run"] < shown], ax, label)
    written.append(_save(fig, out / "timeline.png"))
    if ensemble.series is not None:
        series = ensemble.series
        columns = [c for c in SERIES_UNITS if c in series and series[c].max() > series[c].min()]
        cols = min(3, max(1, len(columns)))
        rows = -(-len(columns) // cols) or 1
        fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.4 * rows), sharex=True, squeeze=False)
        for ax in axes.flat[len(columns) :]:
            ax.set_visible(False)
        for column, ax in zip(columns, axes.flat, strict=False):
            plot_series_by_outcome(series, ensemble.runs, column, ax)
        prefix = f"{label}: " if label else ""
        fig.suptitle(f"{prefix}daily series by outcome (median and 50% band of the runs ending that way)",
                     fontsize=10)  # fmt: skip
        written.append(_save(fig, out / "series.png"))
    return written


def _save(fig: plt.Figure, path: Path) -> Path:
    from simkit.store import write_figure

    fig.tight_layout()
    return write_figure(path, fig)
