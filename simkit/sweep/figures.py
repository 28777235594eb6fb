"""Figures of a sweep: heat maps of outcome shares over two parameters, and sensitivity bar charts.

No backend is chosen here, so figures show inline in notebooks; the commands
select the file-only Agg backend before importing this module.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simkit.model import OUTCOMES

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
    summary: pd.DataFrame, value: str, x: str | None = None, y: str | None = None, ax: plt.Axes | None = None
) -> plt.Axes:
    """One output over a 2-D grid of points: `x` across, `y` up, each cell annotated.

    Args:
        summary: A sweep's summary table (from a grid design over two parameters, or more with
            the others averaged over).
        value: Summary column, e.g. `share_surrender_evacuation` or `released_share_mean`.
        x: Parameter across (default: the first parameter).
        y: Parameter up (default: the second parameter).
        ax: Axes to draw on.
    """
    names = parameters(summary)
    if len(names) < 2 and (x is None or y is None):
        raise ValueError(f"a heat map needs two parameters; this sweep has {names}")
    x = x or names[0]
    y = y or next(n for n in names if n != x)
    grid = (
        summary.pivot_table(index=y, columns=x, values=value, aggfunc="mean").sort_index().sort_index(axis=1)
    )
    ax = ax or plt.subplots(figsize=(6, 4.5))[1]
    share = value.startswith("share_")
    percent = share or value.endswith("share_mean")  # a share of runs, or the mean of a share attribute
    image = ax.imshow(grid.to_numpy(), origin="lower", aspect="auto", cmap="viridis",
                      vmin=0 if share else None, vmax=1 if share else None)  # fmt: skip
    for (row, col), cell in np.ndenumerate(grid.to_numpy()):
        if np.isfinite(cell):
            text = f"{cell:.0%}" if share else f"{cell:.1%}" if percent else f"{cell:.3g}"
            ax.text(col, row, text, ha="center", va="center", fontsize=7,
                    color="white" if image.norm(cell) < 0.6 else "black")  # fmt: skip
    ax.set_xticks(range(grid.shape[1]), [f"{v:.3g}" for v in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [f"{v:.3g}" for v in grid.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(label(value))
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return ax


def plot_heatmaps(
    summary: pd.DataFrame, values: list[str] | None = None, x: str | None = None, y: str | None = None
) -> plt.Figure:
    """A figure of heat maps, one panel per output.

    By default: every outcome class that occurs somewhere in the sweep (a panel
    of zeros says nothing), and the mean share of the detainee list released.
    """
    if values is None:
        values = [v for v in HEATMAP_VALUES if v in summary.columns]
        values = [v for v in values if not v.startswith("share_") or summary[v].max() > 0]
    values = [v for v in values if v in summary.columns]
    cols = min(3, len(values))
    rows = -(-len(values) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.2 * rows), squeeze=False)
    for value, ax in zip(values, axes.flat, strict=False):
        plot_heatmap(summary, value, x, y, ax)
    for ax in axes.flat[len(values) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def plot_sensitivity(table: pd.DataFrame, outputs: list[str] | None = None) -> plt.Figure:
    """Bar charts of sensitivity indices, one panel per output, with bootstrap 95% intervals.

    Sobol tables show S1 and ST side by side; Morris tables show mu* (bars) and sigma (dots).
    """
    outputs = outputs or list(dict.fromkeys(table["output"]))
    sobol = "S1" in table.columns
    cols = min(3, max(1, len(outputs)))
    rows = max(1, -(-len(outputs) // cols))
    n_params = table["parameter"].nunique()
    fig, axes = plt.subplots(
        rows, cols, figsize=(5.2 * cols, 0.45 * n_params * rows + 1.6 * rows), squeeze=False
    )
    for output, ax in zip(outputs, axes.flat, strict=False):
        part = table[table["output"] == output]
        pos = np.arange(len(part))
        if sobol:
            ax.barh(
                pos - 0.2,
                part["S1"],
                0.4,
                xerr=part["S1_conf"],
                label="S1 (alone)",
                color="#4c72b0",
                capsize=2,
            )
            ax.barh(
                pos + 0.2,
                part["ST"],
                0.4,
                xerr=part["ST_conf"],
                label="ST (total)",
                color="#dd8452",
                capsize=2,
            )
            ax.set_xlim(min(0.0, float(part["S1"].min()) - 0.05), 1.05)
        else:
            ax.barh(
                pos, part["mu_star"], 0.6, xerr=part["mu_star_conf"], label="mu*", color="#4c72b0", capsize=2
            )
            ax.plot(part["sigma"], pos, "o", color="#c44e52", label="sigma")
        ax.set_yticks(pos, part["parameter"], fontsize=8)
        ax.invert_yaxis()
        ax.set_title(label(output), fontsize=10)
        ax.legend(fontsize=7, frameon=False, loc="lower right")
    for ax in axes.flat[len(outputs) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def save(fig: plt.Figure, path: Path) -> Path:
    """Write a figure as PNG and free it."""
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
