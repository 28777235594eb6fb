"""Per-point statistics of a sweep: outcome shares with 95% intervals and attribute means and quantiles.

One row per design point, computed with vectorized group-bys because a Sobol
design can have thousands of points. The intervals are Wilson score intervals,
the same as `simkit run`'s summary (`simkit.summary.share_interval`), written
out in closed form so they vectorize.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from simkit.model import ATTRIBUTES, OUTCOMES
from simkit.summary import QUANTILES
from simkit.sweep.task import BOOKKEEPING

Z95 = 1.959963984540054  # two-sided 95% normal quantile


def wilson(successes: np.ndarray, trials: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score 95% interval (no continuity correction), elementwise."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    z2 = Z95 * Z95
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (k + z2 / 2) / (n + z2)
        half = Z95 * np.sqrt(k * (n - k) / n + z2 / 4) / (n + z2)
    low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), 0.0)
    high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), 1.0)
    return low, high


def output_columns(schema: pa.Schema, classes_seen: set[str]) -> tuple[list[str], list[str], list[str]]:
    """Which columns of a runs table are outcome classes, flags and numeric attributes.

    For the siege model these are all its outcome classes (seen or not, so
    every sweep has the same columns), `partial_release` and its attributes
    (`simkit.model.outcomes`). For another model hook, the values of a string
    column `outcome` (if any) are the classes, boolean columns are flags and
    every other numeric column is an attribute.

    Args:
        schema: Schema of the runs table.
        classes_seen: Every value of its `outcome` column (empty if it has none).
    """
    columns = [f for f in schema if f.name not in BOOKKEEPING]
    classes = list(OUTCOMES) + sorted(classes_seen - set(OUTCOMES)) if classes_seen else []
    flags = [f.name for f in columns if pa.types.is_boolean(f.type)]
    names = {f.name for f in columns}
    if set(ATTRIBUTES) <= names:
        attributes = list(ATTRIBUTES)
    else:
        attributes = [f.name for f in columns if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)]
    return classes, flags, attributes


def summarize_points(
    runs: pd.DataFrame, classes: list[str], flags: list[str], attributes: list[str]
) -> pd.DataFrame:
    """One row per point present in `runs` (all its replicates must be there).

    Columns: `point`, `runs`; for each class and flag `share_<name>` with
    `share_<name>_lo`/`_hi`; for each attribute `<name>_mean`, `_p10`, `_p50`, `_p90`.
    """
    groups = runs.groupby("point", sort=True)
    table = pd.DataFrame({"runs": groups.size()})
    n = table["runs"].to_numpy()
    indicators = {name: runs["outcome"] == name for name in classes}
    indicators.update({name: runs[name].astype(bool) for name in flags})
    for name, hits in indicators.items():
        k = hits.groupby(runs["point"]).sum().reindex(table.index).to_numpy()
        low, high = wilson(k, n)
        table[f"share_{name}"] = k / n
        table[f"share_{name}_lo"] = low
        table[f"share_{name}_hi"] = high
    if attributes:
        values = runs[["point", *attributes]].astype({name: float for name in attributes}).groupby("point")
        means = values.mean()
        quantiles = {label: values.quantile(q) for label, q in QUANTILES.items()}
        for name in attributes:
            table[f"{name}_mean"] = means[name]
            for label, frame in quantiles.items():
                table[f"{name}_{label}"] = frame[name]
    return table.reset_index()


def outputs(summary: pd.DataFrame) -> list[str]:
    """The per-point outputs a sensitivity analysis or heat map can use: shares and means."""
    return [
        c for c in summary.columns
        if (c.startswith("share_") and not c.endswith(("_lo", "_hi"))) or c.endswith("_mean")
    ]  # fmt: skip
