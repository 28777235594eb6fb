"""Designs: where in the parameter box the sweep puts its points.

`grid` is every combination of each parameter's values (first parameter varies
slowest), the natural design for heat maps. `lhs` is a Latin hypercube (scipy's
qmc): each parameter's range is cut into as many strata as points and each
stratum is hit once. `sobol` and `morris` are SALib's samplers, whose point
order the matching SALib analysis relies on, so points keep it. All are seeded
from the sweep's master seed: the same spec gives the same points.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from simkit.scenario.paths import whole_number
from simkit.sweep.spec import PreparedSweep, Range


def problem(prepared: PreparedSweep) -> dict:
    """The SALib problem (names and bounds) of a sampled design."""
    params = prepared.sweep.parameters
    return {
        "num_vars": len(params),
        "names": list(params),
        "bounds": [[r.min, r.max] for r in params.values()],
    }


def make_points(prepared: PreparedSweep) -> pd.DataFrame:
    """One row per design point: `point` (0, 1, ...) and one column per parameter path.

    Parameters whose scenario value is a whole number are rounded to whole
    numbers (the model would reject 3.7 fighters); the rest stay as sampled.
    """
    sweep = prepared.sweep
    design = sweep.design
    match design.type:
        case "grid":
            values = np.array(
                list(itertools.product(*(_levels(r) for r in sweep.parameters.values()))), dtype=float
            )
        case "lhs":
            from scipy.stats import qmc

            unit = qmc.LatinHypercube(d=len(sweep.parameters), rng=sweep.seed).random(design.points)
            bounds = np.array(problem(prepared)["bounds"])
            values = qmc.scale(unit, bounds[:, 0], bounds[:, 1])
        case "sobol":
            from SALib.sample import sobol

            values = sobol.sample(
                problem(prepared), design.n, calc_second_order=design.second_order, seed=sweep.seed
            )
        case "morris":
            from SALib.sample import morris

            values = morris.sample(
                problem(prepared), design.trajectories, num_levels=design.levels, seed=sweep.seed
            )
        case _:
            raise AssertionError(design.type)
    table = pd.DataFrame({"point": np.arange(len(values), dtype=np.int64)})
    for column, name in enumerate(prepared.names):
        if name in prepared.integer:
            table[name] = np.array([whole_number(v) for v in values[:, column]], dtype=np.int64)
        else:
            table[name] = values[:, column].astype(float)
    return table


def _levels(spec: Range) -> list[float]:
    if spec.values is not None:
        return list(spec.values)
    # rounded to 12 decimals so 0.15 stays 0.15 (not 0.15000000000000002) in tables and in `--set`
    return [round(float(v), 12) for v in np.linspace(spec.min, spec.max, spec.levels)]
