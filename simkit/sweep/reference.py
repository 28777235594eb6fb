"""Reference models with known answers (sensitivity indices, a planted box), to check the analysis wiring.

They plug into `run_sweep(..., model=...)` in place of the siege model, so the
same spec checking, design, tasks, executors, part files, per-point summary and
sensitivity code run on a function whose answer is known analytically. Each
reads the point's parameters in spec order (x1, x2, ...); the scenario is
ignored, but the parameter paths must still be valid scenario parameters that
accept the ranges (e.g. the behaviour weights, which take any real number).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from simkit.scenario import Scenario

ISHIGAMI_A, ISHIGAMI_B = 7.0, 0.1


def ishigami(scenario: Scenario, params: Mapping[str, float], seed: int) -> dict[str, Any]:
    """Ishigami function of the first three parameters, each to be swept over [-π, π].

    y = sin x1 + a sin² x2 + b x3⁴ sin x1, with a = 7, b = 0.1. Its Sobol
    indices are known in closed form (`ishigami_indices`); x3 acts only through
    its interaction with x1 (S1 = 0, ST > 0), which is what makes it a test.
    """
    x1, x2, x3 = list(params.values())[:3]
    return {"y": math.sin(x1) + ISHIGAMI_A * math.sin(x2) ** 2 + ISHIGAMI_B * x3**4 * math.sin(x1)}


def ishigami_indices(a: float = ISHIGAMI_A, b: float = ISHIGAMI_B) -> dict[str, list[float]]:
    """Analytical first-order and total Sobol indices of the Ishigami function on [-π, π]³."""
    pi = math.pi
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi**8 * (1 / 18 - 1 / 50)
    variance = v1 + v2 + v13
    return {
        "S1": [v1 / variance, v2 / variance, 0.0],
        "ST": [(v1 + v13) / variance, v2 / variance, v13 / variance],
    }


def linear(scenario: Scenario, params: Mapping[str, float], seed: int) -> dict[str, Any]:
    """Y = 1·x1 + 2·x2 + 3·x3 + ..., and a coin flip `heads` drawn from the run's seed.

    y is noise-free and linear, so the Morris mu* of parameter i is exactly
    i * (its max - min) and its sigma is 0, whatever the design. `heads` depends on
    the seed alone: with common random numbers its share is the same at every
    point, so it has no sensitivity at all (and is reported as constant).
    """
    import numpy as np

    y = sum((i + 1) * x for i, x in enumerate(params.values()))
    heads = bool(np.random.default_rng(seed).random() < 0.5)
    return {"y": float(y), "heads": heads}


PLANTED_BOX = {"x1": (0.6, 1.0), "x2": (0.0, 0.4)}
"""Where `planted_box` settles often: x1 above 0.6 and x2 below 0.4 (of parameters swept over [0, 1])."""

PLANTED_START = dt.date(2016, 1, 1)


def planted_box(scenario: Scenario, params: Mapping[str, float], seed: int) -> dict[str, Any]:
    """A run that ends in a settlement with probability 0.9 inside a known box, 0.05 outside it.

    Reads the first four parameters in spec order, each to be swept over [0, 1]: inside
    `PLANTED_BOX` (x1 > 0.6, x2 < 0.4; 16% of the unit square) the run ends in
    `surrender_evacuation` with probability 0.9, elsewhere with 0.05; otherwise in `stalemate`.
    The deal of a settlement is signed 100 + 400 x3 days after 1 Jan 2016, so a deadline cuts
    the box along x3 too; x4 does nothing. Scenario discovery must find the box, and feature
    scores must rank x1 and x2 first.
    """
    import numpy as np

    x1, x2, x3, _ = list(params.values())[:4]
    inside = (
        PLANTED_BOX["x1"][0] < x1 <= PLANTED_BOX["x1"][1]
        and PLANTED_BOX["x2"][0] <= x2 < PLANTED_BOX["x2"][1]
    )
    settles = np.random.default_rng(seed).random() < (0.9 if inside else 0.05)
    return {
        "outcome": "surrender_evacuation" if settles else "stalemate",
        "deal_date": PLANTED_START + dt.timedelta(days=round(100 + 400 * x3)) if settles else None,
    }
