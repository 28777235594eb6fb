"""Figures of comparison and calibration: documented events over simulated timelines, posterior marginals.

Separate from `simkit.plots` (figures of one ensemble) because these need a
documented trajectory or a posterior beside the runs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simkit.calibration.compare import run_rows
from simkit.model.events import EventType

if TYPE_CHECKING:
    from simkit.calibration.compare import Comparison
    from simkit.calibration.summary_stats import Targets

__all__ = [
    "cumulative_counts",
    "plot_event_intervals",
    "plot_fan_with_record",
    "plot_marginals",
    "write_compare_figures",
]


def cumulative_counts(events: pd.DataFrame, run_ids: np.ndarray, horizon: int, kind: EventType) -> np.ndarray:
    """(runs x days) cumulative sum of one event type's `count`; a run that ended keeps its last value."""
    out = np.zeros((len(run_ids), horizon))
    for i, (_, rows) in enumerate(run_rows(events, run_ids)):
        for day, type_, _, count, _ in rows:
            if type_ == kind and 0 <= day < horizon:
                out[i, day] += count
    return np.cumsum(out, axis=1)


def _documented_running_total(
    targets: Targets, kind: EventType, figure: str
) -> list[tuple[dt.date, float | None, float | None]]:
    """Dates of documented events of `kind` with the running sum of their figure, as (date, low, high).

    Where sources disagree the sum is a range; `high` is None where some figure so far has no upper
    bound (a 'more than'), and both are None for an event documented without a figure. A reported
    cumulative figure (`cumulative_people`) counts from the surrender agreement, so it is added to
    what was documented before it.
    """
    low = high = 0.0
    before: tuple[float, float | None] = (0.0, 0.0)
    points: list[tuple[dt.date, float | None, float | None]] = []
    for target in targets.events:
        event = target.event
        if event.type == EventType.AGREEMENT_SIGNED and (event.detail or "").startswith("surrender"):
            before = (low, high)
        if event.type != kind:
            continue
        first, last = event.window()
        when = first + (last - first) / 2
        value = getattr(event, figure, None)
        cumulative = getattr(event, "cumulative_people", None) if figure == "people" else None
        if cumulative is not None:
            low = before[0] + cumulative.low
            high = None if before[1] is None or cumulative.high is None else before[1] + cumulative.high
        elif value is not None:
            low += value.low
            high = None if high is None or value.high is None else high + value.high
        else:
            points.append((when, None, None))
            continue
        points.append((when, low, high))
    return points


FAN_LABELS = {
    EventType.EVACUATION_CONVOY: ("people evacuated", "people evacuated, running total"),
    EventType.DETAINEES_RELEASED: ("detainees released", "detainees released, running total"),
}


def plot_fan_with_record(
    targets: Targets, runs: pd.DataFrame, events: pd.DataFrame, kind: EventType, figure: str, ax: plt.Axes
) -> plt.Axes:
    """Fan (median, 50% and 80% bands over runs) of a cumulative count, with the documented record.

    A documented figure is drawn at the running total of what the sources report up to its date, as
    a dot with a bar over the range where sources disagree (a triangle: a 'more than' figure, drawn
    at its lower bound). An event documented without a figure has no height: it is a dotted line at
    its date, with a tick on the date axis.
    """
    import matplotlib.dates as mdates
    from matplotlib.ticker import StrMethodFormatter

    horizon = targets.horizon
    curves = cumulative_counts(events, runs["run"].to_numpy(), horizon, kind)
    dates = pd.date_range(targets.start, periods=horizon, freq="D")
    q = np.quantile(curves, [0.1, 0.25, 0.5, 0.75, 0.9], axis=0)
    ax.fill_between(dates, q[0], q[4], alpha=0.2, color="#4c72b0", label="simulated, 80% of runs")
    ax.fill_between(dates, q[1], q[3], alpha=0.35, color="#4c72b0", label="simulated, 50% of runs")
    ax.plot(dates, q[2], color="#1f3b73", label="simulated median")
    points = _documented_running_total(targets, kind, figure)
    ranged = [(pd.Timestamp(d), lo, hi) for d, lo, hi in points if lo is not None and hi is not None]
    if ranged:
        x = [d for d, _, _ in ranged]
        mid = np.array([(lo + hi) / 2 for _, lo, hi in ranged])
        half = np.array([(hi - lo) / 2 for _, lo, hi in ranged])
        ax.errorbar(x, mid, yerr=half, fmt="o", color="#c44e52", ms=5, capsize=3, zorder=3,
                    label="documented running total (bar: sources' range)")  # fmt: skip
    open_ended = [(pd.Timestamp(d), lo) for d, lo, hi in points if lo is not None and hi is None]
    if open_ended:
        ax.plot(*zip(*open_ended, strict=True), "^", color="#c44e52", ms=6, ls="", zorder=3,
                label="documented 'more than' (lower bound)")  # fmt: skip
    undated = [pd.Timestamp(d) for d, lo, _ in points if lo is None]
    for i, when in enumerate(undated):
        ax.axvline(when, color="#c44e52", ls=":", lw=1, zorder=1,
                   label="documented, no figure (date only)" if i == 0 else None)  # fmt: skip
        ax.plot([when], [0], marker="|", ms=12, mew=2, color="#c44e52", transform=ax.get_xaxis_transform(),
                clip_on=False)  # fmt: skip
    title, axis = FAN_LABELS.get(kind, (kind.value, f"{kind.value}, running total"))
    ax.set_title(f"cumulative {title}")
    ax.set_ylabel(axis)
    ax.set_xlabel("date")
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return ax


def plot_event_intervals(comparison: Comparison, ax: plt.Axes) -> plt.Axes:
    """Each documented event: documented date (red) against the simulated median and 80% interval (blue)."""
    table = comparison.events.iloc[::-1].reset_index(drop=True)
    for i, row in table.iterrows():
        if row["p10"] is not None and not pd.isna(row["p10"]):
            ax.plot(
                [pd.Timestamp(row["p10"]), pd.Timestamp(row["p90"])], [i, i], color="#4c72b0", lw=3, alpha=0.6
            )
            ax.scatter([pd.Timestamp(row["median"])], [i], color="#1f3b73", s=18, zorder=3)
        first, last = pd.Timestamp(row["documented_from"]), pd.Timestamp(row["documented_to"])
        if first == last:
            ax.scatter([first], [i], color="#c44e52", marker="D", s=22, zorder=4)
        else:
            ax.plot([first, last], [i, i], color="#c44e52", lw=6, alpha=0.8, zorder=4)
    labels = [f"{'* ' if r['key'] else ''}{r['id']} ({r['share_happened']:.0%})" for _, r in table.iterrows()]
    ax.set_yticks(range(len(table)), labels, fontsize=8)
    ax.set_title(
        f"{comparison.case}: documented (red) vs simulated median and 80% interval (blue); "
        f"* key event, (share of runs); D = {comparison.distance:.3f}",
        fontsize=9,
    )
    ax.grid(axis="x", alpha=0.3)
    return ax


def write_compare_figures(
    comparison: Comparison,
    targets: Targets,
    runs: pd.DataFrame,
    events: pd.DataFrame,
    out: Path,
    label: str = "",
) -> list[Path]:
    """Write compare_events.png (dates) and compare_fan.png (cumulative evacuated and released).

    `label` names the scenario as run (with its overrides) above both figures.
    """
    written = []
    heading = f"{label} ({len(runs)} runs) against the record of {comparison.case}" if label else ""
    fig, ax = plt.subplots(figsize=(11, 0.32 * len(comparison.events) + 1.6))
    plot_event_intervals(comparison, ax)
    if heading:
        fig.suptitle(heading, fontsize=10)
    written.append(_save(fig, out / "compare_events.png"))
    fig, axes = plt.subplots(1, 2, figsize=(14, 4.2))
    if heading:
        fig.suptitle(heading, fontsize=10)
    plot_fan_with_record(targets, runs, events, EventType.EVACUATION_CONVOY, "people", axes[0])
    plot_fan_with_record(targets, runs, events, EventType.DETAINEES_RELEASED, "released", axes[1])
    written.append(_save(fig, out / "compare_fan.png"))
    return written


def plot_marginals(
    particles: pd.DataFrame, weights: np.ndarray, priors: list, medians: dict[str, float], out: Path
) -> Path:
    """Weighted histograms of the last generation, one panel per parameter, with prior density and median."""
    n = len(priors)
    cols = min(3, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for ax, prior in zip(axes.flat, priors, strict=False):
        x = particles[prior.name].to_numpy()
        lo, hi = prior.support()
        median = medians[prior.name]
        if prior.log_scale:  # a loguniform prior is flat in log10: show it there
            x, lo, hi, shown = np.log10(x), np.log10(lo), np.log10(hi), np.log10(median)
        else:
            shown = median
        grid = np.linspace(lo, hi, 200)
        ax.hist(
            x,
            bins=30,
            range=(lo, hi),
            weights=weights,
            density=True,
            color="#4c72b0",
            alpha=0.7,
            label="posterior",
        )
        density = np.full_like(grid, 1.0 / (hi - lo)) if prior.log_scale else prior.rv().pdf(grid)
        ax.plot(grid, density, color="#888888", lw=1.5, label="prior")
        ax.axvline(shown, color="#c44e52", lw=1.5, label=f"median {median:.3g}")
        ax.set_title(f"{prior.path} (log10)" if prior.log_scale else prior.path, fontsize=9)
        ax.legend(frameon=False, fontsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    return _save(fig, out)


def _save(fig: plt.Figure, path: Path) -> Path:
    from simkit.store import write_figure

    fig.tight_layout()
    return write_figure(path, fig)
