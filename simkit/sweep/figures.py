"""Figures of a sweep: heat maps of outcome shares, sensitivity bar charts, scenario discovery.

No backend is chosen here, so figures show inline in notebooks; the commands
select the file-only Agg backend before importing this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simkit.model import OUTCOMES

if TYPE_CHECKING:
    from simkit.sweep.discovery import Discovery

HEATMAP_VALUES = (*(f"share_{name}" for name in OUTCOMES), "released_share_mean")
"""Panels of the default heat-map figure: every outcome class and the share of the detainee list released."""


def label(column: str) -> str:
    """A reader's name for a summary column: P(outcome) for shares, 'mean x' for means."""
    if column.startswith("share_"):
        return f"P({column.removeprefix('share_')})"
    if column.endswith("_mean"):
        return f"mean {column.removesuffix('_mean')}"
    return column


def parameters(summary: pd.DataFrame) -> list[str]:
    """The parameter columns of a summary table (between `point` and `runs`)."""
    columns = list(summary.columns)
    return columns[columns.index("point") + 1 : columns.index("runs")]


def plot_heatmap(
    summary: pd.DataFrame,
    value: str,
    x: str | None = None,
    y: str | None = None,
    ax: plt.Axes | None = None,
    base: Mapping[str, float] | None = None,
    legend: bool = True,
) -> plt.Axes:
    """One output over a 2-D grid of points: `x` across, `y` up, each cell annotated.

    A share's cell reads its value and the half-width of its 95% Wilson interval over the cell's
    runs (`± 10` is ten percentage points: 100 runs at 50% give about that), so a difference
    smaller than the intervals is not read as an effect. The base scenario's values, when given
    and inside the grid, are marked with a ring (between cells when they fall between levels).

    Args:
        summary: A sweep's summary table (from a grid design over two parameters, or more with
            the others pooled: a cell's share is then over all its points' runs).
        value: Summary column, e.g. `share_surrender_evacuation` or `released_share_mean`.
        x: Parameter across (default: the first parameter).
        y: Parameter up (default: the second parameter).
        ax: Axes to draw on.
        base: The base scenario's value of each parameter (a sweep manifest's `base`).
        legend: Say what the ring is under the panel (`plot_heatmaps` says it once for all).
    """
    from simkit.sweep.summary import wilson

    names = parameters(summary)
    if len(names) < 2 and (x is None or y is None):
        raise ValueError(f"a heat map needs two parameters; this sweep has {names}")
    x = x or names[0]
    y = y or next(n for n in names if n != x)
    share = value.startswith("share_")
    cells = summary.assign(hits=summary[value] * summary["runs"]) if share else summary
    if share:  # pool the runs of every point in a cell, then one Wilson interval over them
        pooled = cells.groupby([y, x])[["hits", "runs"]].sum()
        low, high = wilson(pooled["hits"].round().to_numpy(), pooled["runs"].to_numpy())
        pooled[value] = pooled["hits"] / pooled["runs"]
        pooled["half"] = (high - low) / 2
        grid = pooled[value].unstack(x).sort_index().sort_index(axis=1)
        half = pooled["half"].unstack(x).reindex_like(grid)
    else:
        grid = summary.pivot_table(index=y, columns=x, values=value, aggfunc="mean")
        grid = grid.sort_index().sort_index(axis=1)
    ax = ax or plt.subplots(figsize=(6, 4.5))[1]
    percent = share or value.endswith("share_mean")  # a share of runs, or the mean of a share attribute
    image = ax.imshow(grid.to_numpy(), origin="lower", aspect="auto", cmap="viridis",
                      vmin=0 if share else None, vmax=1 if share else None)  # fmt: skip
    for (row, col), cell in np.ndenumerate(grid.to_numpy()):
        if np.isfinite(cell):
            text = f"{cell:.0%}" if share else f"{cell:.1%}" if percent else f"{cell:.3g}"
            if share:
                text += f"\n±{100 * half.iat[row, col]:.0f}"
            ax.text(col, row, text, ha="center", va="center", fontsize=6.5, linespacing=0.95,
                    color="white" if image.norm(cell) < 0.6 else "black")  # fmt: skip
    ax.set_xticks(range(grid.shape[1]), [f"{v:.3g}" for v in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [f"{v:.3g}" for v in grid.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    what = " (±: 95% interval, % points)" if share else " (mean over runs)"
    ax.set_title(label(value) + what, fontsize=10)
    if base and x in base and y in base:
        where = [_grid_position(grid.columns, base[x]), _grid_position(grid.index, base[y])]
        if None not in where:
            ax.plot(*where, "o", ms=22, mfc="none", mec=BASE_COLOUR, mew=2.2, label="base scenario")
            if legend:
                ax.legend(loc="upper left", bbox_to_anchor=(0, -0.13), fontsize=7, frameon=False,
                          handlelength=1, markerscale=0.45)  # fmt: skip
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return ax


BASE_COLOUR = "#e6194b"
"""The ring marking the base scenario on heat maps: a red that stands out on every viridis cell."""


def _grid_position(levels: pd.Index, value: float) -> float | None:
    """Where `value` falls on an axis of cells at `levels` (0, 1, ...; between cells by interpolation)."""
    levels = np.asarray(levels, dtype=float)
    if len(levels) == 0 or not levels.min() <= value <= levels.max():
        return None
    return float(np.interp(value, levels, np.arange(len(levels))))


def plot_heatmaps(
    summary: pd.DataFrame,
    values: list[str] | None = None,
    x: str | None = None,
    y: str | None = None,
    base: Mapping[str, float] | None = None,
) -> plt.Figure:
    """A figure of heat maps, one panel per output, the base scenario marked (see `plot_heatmap`).

    By default: every outcome class that occurs somewhere in the sweep (a panel
    of zeros says nothing), and the mean share of the detainee list released.
    """
    if values is None:
        values = [v for v in HEATMAP_VALUES if v in summary.columns]
        values = [v for v in values if not v.startswith("share_") or summary[v].max() > 0]
    values = [v for v in values if v in summary.columns]
    cols = min(3, len(values))
    rows = -(-len(values) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.4 * cols, 4.3 * rows + 0.4), squeeze=False)
    for value, ax in zip(values, axes.flat, strict=False):
        plot_heatmap(summary, value, x, y, ax, base, legend=False)
    for ax in axes.flat[len(values) :]:
        ax.set_visible(False)
    runs = summary["runs"]
    per_point = f"{runs.iat[0]:,}" if runs.nunique() == 1 else f"{runs.min():,}-{runs.max():,}"
    caption = (f"Each cell: {per_point} runs per point; ± is half the width of the 95% Wilson interval "
               "of the share, in percentage points.")  # fmt: skip
    x, y = axes.flat[0].get_xlabel(), axes.flat[0].get_ylabel()
    if base and x in base and y in base:
        caption += f"  Ring: the base scenario ({x} {base[x]:.3g}, {y} {base[y]:.3g})."
    fig.text(0.01, 0.005, caption, fontsize=8, ha="left", va="bottom", color="#333333")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def plot_sensitivity(table: pd.DataFrame, outputs: list[str] | None = None) -> plt.Figure:
    """Sensitivity indices, one panel per output, each with its bootstrap 95% interval.

    Sobol tables show S1 (first-order) and ST (total) as points with their intervals, as estimated:
    an estimate below 0 or above 1 (the range of the true indices, marked) is noise and is drawn
    where it falls, never clipped; a hollow point is one whose interval holds 0, i.e. no effect
    is distinguishable from noise. Morris tables show mu* (bars with intervals) and sigma (dots).
    Outcome shares too rare to estimate (`table.attrs["rare"]`) are named in a note under the
    panels.
    """
    from simkit.sweep.analysis import rare_note

    outputs = outputs or list(dict.fromkeys(table["output"]))
    sobol = "S1" in table.columns
    cols = min(3, max(1, len(outputs)))
    rows = max(1, -(-len(outputs) // cols))
    n_params = table["parameter"].nunique()
    rare = table.attrs.get("rare") or {}
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(5.4 * cols, 0.45 * n_params * rows + 1.7 * rows + (0.4 if rare else 0)),
        squeeze=False,
    )
    for output, ax in zip(outputs, axes.flat, strict=False):
        part = table[table["output"] == output]
        pos = np.arange(len(part))
        if sobol:
            _sobol_panel(ax, part, pos)
        else:
            ax.barh(
                pos, part["mu_star"], 0.6, xerr=part["mu_star_conf"], label="mu*", color="#4c72b0", capsize=2
            )
            ax.plot(part["sigma"], pos, "o", color="#c44e52", label="sigma")
            ax.legend(fontsize=7, frameon=False, loc="lower right")
        ax.set_yticks(pos, part["parameter"], fontsize=8)
        ax.invert_yaxis()
        ax.set_title(label(output), fontsize=10)
    for ax in axes.flat[len(outputs) :]:
        ax.set_visible(False)
    if sobol:
        handles = [
            plt.Line2D([], [], marker="o", ls="", color=SOBOL_COLOURS["S1"], label="S1: the parameter alone"),
            plt.Line2D([], [], marker="s", ls="", color=SOBOL_COLOURS["ST"], label="ST: with interactions"),
            plt.Line2D([], [], marker="o", ls="", mfc="white", color="#555555",
                       label="hollow: interval holds 0 (not told from noise)"),
        ]  # fmt: skip
        fig.legend(handles=handles, loc="upper center", ncol=3, fontsize=8, frameon=False)
    if rare:
        fig.text(0.01, 0.005, rare_note(rare), fontsize=8, ha="left", va="bottom", wrap=True)
    fig.tight_layout(rect=(0, 0.04 if rare else 0, 1, 0.95 if sobol else 1))
    return fig


SOBOL_COLOURS = {"S1": "#0072b2", "ST": "#d55e00"}
"""Okabe-Ito blue and vermillion: told apart with any colour vision."""


def _sobol_panel(ax: plt.Axes, part: pd.DataFrame, pos: np.ndarray) -> None:
    """S1 and ST of one output as points with 95% intervals on an axis that shows [0, 1] and beyond."""
    for index, offset, marker in (("S1", -0.17, "o"), ("ST", 0.17, "s")):
        value, half = part[index].to_numpy(), part[f"{index}_conf"].to_numpy()
        colour = SOBOL_COLOURS[index]
        ax.errorbar(value, pos + offset, xerr=half, fmt="none", ecolor=colour, elinewidth=1.2, capsize=2)
        noise = value - half <= 0
        ax.plot(value[~noise], pos[~noise] + offset, marker, color=colour, ms=5, ls="")
        ax.plot(value[noise], pos[noise] + offset, marker, mfc="white", mec=colour, ms=5, ls="")
    lows = (part[["S1", "ST"]].to_numpy() - part[["S1_conf", "ST_conf"]].to_numpy()).min()
    highs = (part[["S1", "ST"]].to_numpy() + part[["S1_conf", "ST_conf"]].to_numpy()).max()
    left, right = min(-0.05, lows - 0.05), max(1.05, highs + 0.05)
    ax.set_xlim(left, right)
    ax.axvspan(left, 0, color="#eeeeee", zorder=0)  # outside [0, 1]: only noise lands there
    ax.axvspan(1, right, color="#eeeeee", zorder=0)
    for edge in (0, 1):
        ax.axvline(edge, color="#888888", lw=0.8, zorder=0)
    ax.set_xlabel("share of the output's variance (grey: outside [0, 1], noise)", fontsize=8)
    ax.grid(axis="x", alpha=0.3)


def save(fig: plt.Figure, path: Path) -> Path:
    """Write a figure as PNG (atomically, through the store) and free it."""
    from simkit.store import write_figure

    return write_figure(path, fig)


def plot_discovery(discovery: Discovery, box: int | None = None) -> plt.Figure:
    """Scenario discovery at a glance: PRIM's peeling trajectory, one box, and the feature scores.

    Left: coverage against density of every box on the trajectory, coloured by the number of
    restricted parameters, the shown box circled. Middle: the box's restrictions, each parameter's
    sampled range scaled to [0, 1] (grey) with the box's part of it (blue; pale when no side passes
    the quasi-p test), its limits and the quasi-p-value of each restricted side (starred above 0.05).
    Right: extra-trees feature scores of the share.

    Args:
        discovery: The result of `simkit.sweep.discovery.discover`.
        box: The box to show (default: the chosen one).
    """
    from simkit.sweep.discovery import SIGNIFICANT

    box = discovery.chosen if box is None else box
    trajectory = discovery.trajectory
    fig, (left, middle, right) = plt.subplots(
        1, 3, figsize=(15, 4.6), gridspec_kw={"width_ratios": [1, 1.25, 0.9]}
    )
    most = int(trajectory["restricted"].max())
    dots = left.scatter(trajectory["coverage"], trajectory["density"], c=trajectory["restricted"],
                        cmap=plt.get_cmap("viridis", most + 1), vmin=-0.5, vmax=most + 0.5, s=18,
                        zorder=2)  # fmt: skip
    shown = trajectory[trajectory["box"] == box].iloc[0]
    left.plot(shown["coverage"], shown["density"], "o", ms=12, mfc="none", mec="#c44e52", mew=2, zorder=3)
    offset = (-52 if shown["coverage"] > 0.6 else 10, -4)  # keep the label inside the axes
    left.annotate(f"box {box}", (shown["coverage"], shown["density"]), textcoords="offset points",
                  xytext=offset, color="#c44e52", fontsize=9)  # fmt: skip
    left.set_xlabel("coverage (share of all cases inside the box)")
    left.set_ylabel("density (share of the box's points that are cases)")
    left.set_xlim(-0.02, 1.02)
    left.set_ylim(-0.02, 1.02)
    left.set_title("PRIM peeling trajectory", fontsize=10)
    left.grid(alpha=0.3)
    bar = fig.colorbar(dots, ax=left, fraction=0.046, pad=0.04, ticks=range(most + 1))
    bar.set_label("restricted parameters")
    limits = discovery.box(box)
    for j, row in enumerate(limits.itertuples(index=False)):
        y = len(limits) - 1 - j
        span = row.max - row.min or 1.0
        low, high = (row.lower - row.min) / span, (row.upper - row.min) / span
        tested = [p for p in (row.qp_lower, row.qp_upper) if np.isfinite(p)]
        needed = any(p <= SIGNIFICANT for p in tested)  # pale: no side of it passes the test
        middle.barh(y, 1.0, color="#dddddd", height=0.5)
        middle.barh(y, high - low, left=low, color="#4c72b0" if needed else "#aec3e0", height=0.5)
        middle.text(low, y - 0.42, f"{row.lower:.3g}", ha="center", va="center", fontsize=8)
        middle.text(high, y - 0.42, f"{row.upper:.3g}", ha="center", va="center", fontsize=8)
        sides = [f"{side} p={p:.2g}" + ("*" if p > SIGNIFICANT else "")
                 for side, p in (("low", row.qp_lower), ("high", row.qp_upper))
                 if np.isfinite(p)]  # fmt: skip
        middle.text(1.02, y, ", ".join(sides), va="center", fontsize=8)
    middle.set_yticks(range(len(limits)), list(limits["parameter"])[::-1], fontsize=8)
    middle.set_xlim(0, 1.45)
    middle.set_ylim(-0.9, max(len(limits), 1) - 0.4)
    middle.set_xticks([0, 0.5, 1], ["min", "", "max"])
    middle.spines[["top", "right"]].set_visible(False)
    middle.set_title(f"box {box}: coverage {shown['coverage']:.0%}, density {shown['density']:.0%}, "
                     f"mean share {shown['mean_share']:.0%}", fontsize=10)  # fmt: skip
    if not len(limits):
        middle.text(0.5, 0.0, "no restriction: the whole space", ha="center", va="center")
    scores = discovery.features
    right.barh(range(len(scores)), scores["score"], color="#4c72b0")
    right.set_yticks(range(len(scores)), scores["parameter"], fontsize=8)
    right.invert_yaxis()
    right.set_xlabel("extra-trees feature score")
    right.set_title("which parameters matter", fontsize=10)
    fig.suptitle(" or ".join(discovery.outcomes) + (f" before {discovery.by}" if discovery.by else "")
                 + f": cases are points with share >= {discovery.threshold:.0%}", fontsize=11)  # fmt: skip
    fig.tight_layout()
    return fig
