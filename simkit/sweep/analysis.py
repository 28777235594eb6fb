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
more replicates per point shrink it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simkit.sweep.runner import SweepResult, load_sweep_result
from simkit.sweep.summary import outputs as summary_outputs
from simkit.yamlio import InputError

METHODS = {"sobol": "Sobol indices (S1 first-order, ST total)", "morris": "Morris screening (mu*, sigma)"}


def sensitivity(result: SweepResult | str | Path, outputs: list[str] | None = None) -> pd.DataFrame:
    """Sensitivity indices of each output to each parameter, one row per (output, parameter).

    Args:
        result: A finished sweep (or its folder) with a `sobol` or `morris` design.
        outputs: Summary columns to analyse (default: every `share_*` and `*_mean`).

    Returns:
        Columns `output`, `parameter` and, for sobol, `S1`, `S1_conf`, `ST`, `ST_conf`; for morris,
        `mu_star`, `mu_star_conf`, `sigma`, `mu`. Outputs constant over the design have no indices;
        they are listed in `table.attrs["constant"]`. `table.attrs["method"]` names the design.

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
    rows, constant = [], []
    for output in chosen:
        y = summary[output].to_numpy(dtype=float)
        if not np.all(np.isfinite(y)) or np.ptp(y) == 0:
            constant.append(output)
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
    return table


def columns_of(kind: str) -> tuple[str, ...]:
    """The index columns of a sensitivity table for a design."""
    return (
        ("S1", "S1_conf", "ST", "ST_conf") if kind == "sobol" else ("mu_star", "mu_star_conf", "sigma", "mu")
    )


def _problem(result: SweepResult) -> dict:
    ranges = result.manifest["spec"]["parameters"]
    names = result.parameters
    return {
        "num_vars": len(names),
        "names": names,
        "bounds": [[ranges[n]["min"], ranges[n]["max"]] for n in names],
    }
