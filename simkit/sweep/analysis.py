"""Global sensitivity of outcome probabilities and attributes to the swept parameters (SALib).

The outputs are per-point statistics from summary.parquet: `share_<outcome>`
(the probability of each outcome class, estimated over the point's replicates)
and `<attribute>_mean`. A `sobol` design gives Saltelli/Jansen first-order (S1)
and total (ST) indices: the share of an output's variance over the design that
a parameter explains alone, and with all its interactions. A `morris` design
gives mu* (mean absolute elementary effect, in output units per full range of
the parameter) and sigma (its spread: non-linearity or interactions). Confidence
intervals are SALib's bootstrap, seeded from the sweep's master seed so the
table is reproducible. Replicate noise adds variance no parameter explains;
more replicates per point shrink it. The true indices lie in [0, 1]: an estimated
S1 below 0 or ST above 1 is estimation noise (too few points or replicates), to be
read as its interval, and is reported as estimated, not clipped.

An outcome share that is too rare to estimate is left out: when fewer than one
run in ten of the sweep lies on its rarer side (the runs ending so, or those not
ending so), its variance over the design is the chance of a handful of runs, and
the indices' bootstrap intervals can be wider than the indices' whole range (a
640-run Sobol sweep of Waer gave ST 2.0 ± 6.1 for the partial-release flag, set in
95% of runs, while an ending in 11% of runs had intervals like the common ones').
Such outputs are listed, with their counts, in `table.attrs["rare"]`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from simkit.sweep.runner import SweepResult, load_sweep_result
from simkit.sweep.summary import outputs as summary_outputs
from simkit.yamlio import InputError

RARE = 0.10
"""An outcome share with fewer than this share of the sweep's runs on its rarer side has no indices."""

METHODS = {"sobol": "Sobol indices (S1 first-order, ST total)", "morris": "Morris screening (mu*, sigma)"}


def sensitivity(
    result: SweepResult | str | Path, outputs: list[str] | None = None, rare: float = RARE
) -> pd.DataFrame:
    """Sensitivity indices of each output to each parameter, one row per (output, parameter).

    Args:
        result: A finished sweep (or its folder) with a `sobol` or `morris` design.
        outputs: Summary columns to analyse (default: every `share_*` and `*_mean`).
        rare: Outcome shares with fewer than this share of all runs on their rarer side are left
            out (0 keeps every output that varies).

    Returns:
        Columns `output`, `parameter` and, for sobol, `S1`, `S1_conf`, `ST`, `ST_conf`; for morris,
        `mu_star`, `mu_star_conf`, `sigma`, `mu`. Outputs constant over the design have no indices;
        they are listed in `table.attrs["constant"]`; shares too rare to estimate have none either,
        and `table.attrs["rare"]` maps each to `(runs on its rarer side, runs, which side)`, the side
        being `"with"` (few runs end so) or `"without"` (few do not). `table.attrs["method"]` names
        the design.

    Raises:
        InputError: the design is not sobol/morris, or an output is unknown.
    """
    if not isinstance(result, SweepResult):
        result = load_sweep_result(result)
    design = result.manifest["design"]
    kind = design["type"]
    if kind not in METHODS:
        raise InputError(
            f"{result.out}: sensitivity indices need a sobol or morris design; this sweep used {kind} "
            "(see docs/sweeps.md)"
        )
    available = summary_outputs(result.summary)
    chosen = outputs or available
    unknown = [name for name in chosen if name not in available]
    if unknown:
        raise InputError(f"unknown output(s) {', '.join(unknown)}; this sweep has: {', '.join(available)}")
    problem = _problem(result)
    seed = result.manifest["master_seed"]
    summary = result.summary.sort_values("point")
    rows, constant, too_rare = [], [], {}
    total = int(summary["runs"].sum())
    for output in chosen:
        y = summary[output].to_numpy(dtype=float)
        if not np.all(np.isfinite(y)) or np.ptp(y) == 0:
            constant.append(output)
            continue
        if output.startswith("share_"):
            hits = round(float((summary[output] * summary["runs"]).sum()))
            fewer, side = min((hits, "with"), (total - hits, "without"))
            if fewer < rare * total:
                too_rare[output] = (fewer, total, side)
                continue
        if kind == "sobol":
            from SALib.analyze import sobol

            indices = sobol.analyze(
                problem, y, calc_second_order=design.get("second_order", False), seed=seed
            )
            columns = ("S1", "S1_conf", "ST", "ST_conf")
        else:
            from SALib.analyze import morris

            x = result.points.sort_values("point")[problem["names"]].to_numpy(dtype=float)
            indices = morris.analyze(problem, x, y, num_levels=design.get("levels", 4), seed=seed)
            columns = ("mu_star", "mu_star_conf", "sigma", "mu")
        for i, name in enumerate(problem["names"]):
            rows.append({"output": output, "parameter": name, **{c: float(indices[c][i]) for c in columns}})
    table = pd.DataFrame(rows, columns=["output", "parameter", *columns_of(kind)])
    table.attrs["method"] = kind
    table.attrs["constant"] = constant
    table.attrs["rare"] = too_rare
    return table


def columns_of(kind: str) -> tuple[str, ...]:
    """The index columns of a sensitivity table for a design."""
    return (
        ("S1", "S1_conf", "ST", "ST_conf") if kind == "sobol" else ("mu_star", "mu_star_conf", "sigma", "mu")
    )


def sensitivity_table(table: pd.DataFrame, title: str = "") -> Table:
    """The indices as a terminal table that reads at 80 columns: one section per output.

    Each output's name heads its section, its parameters follow by decreasing total effect (ST,
    or mu*), and a long parameter path wraps after a dot. Numbers are never cut.
    """
    from rich import box
    from rich.table import Table

    from simkit.report import DottedPath
    from simkit.sweep.figures import label

    kind = table.attrs["method"]
    shown = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    shown.add_column("output / parameter")
    headers = ("S1 (alone)", "ST (total)") if kind == "sobol" else ("mu*", "sigma")
    for header in headers:
        shown.add_column(header, justify="right", no_wrap=True)
    rank = "ST" if kind == "sobol" else "mu_star"
    for output, part in table.groupby("output", sort=False):
        shown.add_row(Text(label(output), style="bold"), "", "")
        ordered = part.sort_values(rank, ascending=False)
        for i, row in enumerate(ordered.itertuples(index=False)):
            if kind == "sobol":
                cells = (f"{row.S1:.2f} ± {row.S1_conf:.2f}", f"{row.ST:.2f} ± {row.ST_conf:.2f}")
            else:
                cells = (f"{row.mu_star:.3g} ± {row.mu_star_conf:.2g}", f"{row.sigma:.3g}")
            shown.add_row(Padding(DottedPath(row.parameter), (0, 0, 0, 2)), *cells,
                          end_section=i == len(ordered) - 1)  # fmt: skip
    return shown


def notes(table: pd.DataFrame) -> list[str]:
    """What the table leaves out or asks to be read with care, one sentence each."""
    from simkit.sweep.figures import label

    lines = []
    if table.attrs["method"] == "sobol" and ((table["S1"] < 0) | (table["ST"] > 1)).any():
        lines.append("S1 below 0 or ST above 1 is estimation noise (the true indices lie in [0, 1]): "
                     "read it as its interval; more points or replicates narrow it.")  # fmt: skip
    if table.attrs["rare"]:
        lines.append(rare_note(table.attrs["rare"]))
    if table.attrs["constant"]:
        constant = ", ".join(map(label, table.attrs["constant"]))
        lines.append(f"constant over the design (no indices): {constant}")
    return lines


def rare_note(rare: dict[str, tuple[int, int, str]]) -> str:
    """The sentence naming the outcome shares left out as too rare, with their counts."""
    from simkit.sweep.figures import label

    each = [f"{label(name)} ({fewer:,} of {total:,} runs {side} it)"
            for name, (fewer, total, side) in rare.items()]  # fmt: skip
    return "too rare to estimate (too few runs on one side), left out: " + ", ".join(each)


def _problem(result: SweepResult) -> dict:
    ranges = result.manifest["spec"]["parameters"]
    names = result.parameters
    return {
        "num_vars": len(names),
        "names": names,
        "bounds": [[ranges[n]["min"], ranges[n]["max"]] for n in names],
    }
