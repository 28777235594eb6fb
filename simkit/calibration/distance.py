"""The ABC distance of `simkit calibrate`: pyabc's adaptive p-norm, cases weighing alike, time counted.

One trajectory (`simkit calibrate SCENARIO --against TRAJECTORY`): pyabc's
`AdaptivePNormDistance` with p = 1, the sum over statistics of |s - s_obs| /
scale, each scale re-fitted every generation as the mean absolute deviation of
that statistic over all the generation's simulations (accepted and rejected;
the first scales from the prior sample). No statistic may weigh more than
`MAX_SCALE_WEIGHT_RATIO` times another.

A case set (`simkit calibrate cases/library.yaml`): the same scaled statistics,
each also multiplied by a fixed weight 1 / (C n_c), C the number of cases and
n_c the number of statistics of its case (`case_weights`), so that

    d = (1/C) sum_c (1/n_c) sum_{s in c} |s - s_obs| / scale_s,

the mean over cases of each case's mean scaled deviation. A case with twelve
statistics (Waer: eight key events, three quantities, the outcome) then counts
as much as one with five, and no case dominates by the length of its record.

A particle's statistics travel, and are stored in `abc.db`, as one array under
the key `STATISTICS` (in the order of their names, `pack`), not as one entry per
statistic: pyabc writes every accepted particle's statistics to its database row
by row through SQLAlchemy's ORM, and two rows per particle (the array and the time) instead of 47 made
writing a library population about nine times faster (0.1 s instead of 0.9 s
for 100 particles). The distance is the same: pyabc's p-norm flattens the array
in that order, and the fixed weights are given in it (`TimedDistance(names=)`).

The time spent inside the model function (one particle's runs of every case
and their statistics) travels back with the statistics under the key `TIMING`,
which the distance ignores (pyabc compares only the observed statistics' keys);
`TimedDistance` adds it up over every simulation of each generation, accepted
or rejected, so the calibration can report pyabc's overhead: the share of the
workers' time not spent simulating.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pyabc
from pyabc.population import Sample

from simkit.calibration.abc import STATISTICS, TIMING, pack

__all__ = ["MAX_SCALE_WEIGHT_RATIO", "STATISTICS", "TIMING", "TimedDistance", "case_weights", "pack"]

MAX_SCALE_WEIGHT_RATIO = 100.0
"""No statistic may weigh more than 100 times another: a near-constant one cannot take over the distance."""


def case_weights(statistics: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """Fixed weight of each statistic so that every case weighs alike: 1 / (cases x the case's statistics).

    Args:
        statistics: each case's statistic keys (as the model returns them), by case.

    Returns:
        {statistic key: weight}; the weights of each case add up to 1 / (number of cases).
    """
    cases = [case for case, keys in statistics.items() if keys]
    return {key: 1.0 / (len(cases) * len(statistics[case])) for case in cases for key in statistics[case]}


def simulated_seconds(sample: Sample) -> float:
    """Seconds spent inside the model over every particle of a sample (the rejected ones when recorded)."""
    return float(sum(float(p.sum_stat.get(TIMING, 0.0)) for p in sample.all_particles))


class TimedDistance(pyabc.AdaptivePNormDistance):
    """pyabc's adaptive L1 distance (mean-absolute-deviation scales), optional fixed weights, time counted.

    Attributes:
        simulate_seconds: seconds inside the model per generation (key -1: the prior sample that fits
            the first scales), summed over every simulation of the generation.
    """

    def __init__(self, names: Sequence[str], fixed_weights: Mapping[str, float] | None = None):
        """The distance on statistics packed in the order of `names`, each weighed by its fixed weight.

        Args:
            names: the statistics' names, in the order `pack` puts them.
            fixed_weights: by name; None weighs all alike.
        """
        packed = None
        if fixed_weights:
            packed = {f"{STATISTICS}:{i}": float(fixed_weights[name]) for i, name in enumerate(names)}
        super().__init__(
            p=1,
            scale_function=pyabc.distance.mean_absolute_deviation,
            max_scale_weight_ratio=MAX_SCALE_WEIGHT_RATIO,
            fixed_weights=packed,
        )
        self.names = tuple(names)
        self.simulate_seconds: dict[int, float] = {}

    def initialize(self, t: int, get_sample: Callable[[], Sample], x_0: dict, total_sims: int) -> None:
        """Fit the first scales on the calibration sample and count its time (as generation t - 1)."""
        super().initialize(t=t, get_sample=get_sample, x_0=x_0, total_sims=total_sims)
        self.simulate_seconds[t - 1] = simulated_seconds(get_sample())

    def update(self, t: int, get_sample: Callable[[], Sample], total_sims: int) -> bool:
        """Refit the scales on generation t - 1's simulations and count their time."""
        self.simulate_seconds[t - 1] = simulated_seconds(get_sample())
        return super().update(t=t, get_sample=get_sample, total_sims=total_sims)
