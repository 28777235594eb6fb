"""Proper scores of one forecast against one documented case (formulas and reasons: docs/scoring.md).

* Class forecasts: the multiclass Brier score and the log score (ignorance, in
  bits) of a probability vector over the outcome classes. Probabilities from
  runs are smoothed (`class_probabilities`) so that no class has probability 0.
* Numeric forecasts (deal day, evacuated): the CRPS of an ensemble (the runs,
  or a baseline's members) against a documented window or range, computed by
  `scoringrules.crps_ensemble` in its energy form, which is the exact CRPS of
  the ensemble's empirical distribution; a window or range is scored by the
  CRPS averaged over it (the documented value taken as uniform on it).
* Central intervals of an ensemble and whether a documented window lies in them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simkit.model import OUTCOMES

RUN_PSEUDOCOUNT = 0.5
"""Added to each class's run count: a class no run reached gets a small, finite probability."""

RANGE_POINTS = 101
"""Evenly spaced values over a documented range at which the CRPS is averaged."""


def class_probabilities(
    outcomes: Sequence[str], classes: Sequence[str] = OUTCOMES, pseudocount: float = RUN_PSEUDOCOUNT
) -> np.ndarray:
    """Forecast probability of each class from the runs' outcomes: (n_k + a) / (N + K a).

    Args:
        outcomes: the outcome class of every run.
        classes: the classes, in the order of the returned vector.
        pseudocount: a, added to every class's count (0 gives the raw shares).
    """
    counts = np.array([sum(1 for o in outcomes if o == c) for c in classes], dtype=float)
    return (counts + pseudocount) / (counts.sum() + pseudocount * len(classes))


def brier(probabilities: np.ndarray, observed: int) -> float:
    """Multiclass Brier score: sum over classes of (p_k - o_k)^2; 0 is perfect, 2 is certain and wrong.

    Computed as the sum of `scoringrules.brier_score` over the one-vs-rest events "class k happened".
    """
    import scoringrules as sr

    truth = np.zeros(len(probabilities))
    truth[observed] = 1.0
    return float(np.sum(sr.brier_score(truth, np.asarray(probabilities, dtype=float))))


def log_score(probabilities: np.ndarray, observed: int) -> float:
    """Ignorance: -log2 of the probability given to the observed class (bits; inf if that is 0).

    `scoringrules.log_score` of the event "the observed class happened" (natural log), in bits.
    """
    import scoringrules as sr

    p = float(probabilities[observed])
    if p <= 0.0:
        return float("inf")
    return float(sr.log_score(1.0, p)) / float(np.log(2.0))


def crps(members: Sequence[float], low: float, high: float | None = None, points: int | None = None) -> float:
    """CRPS of an ensemble against a documented value, or averaged over a documented window or range.

    Args:
        members: the ensemble (runs, or a baseline's members): its empirical distribution is the forecast.
        low: the documented value, or the low end of its window or range.
        high: the high end (None or equal to `low` for an exact value).
        points: how many evenly spaced values of [low, high] to average over; None takes every
            whole number in it (days of a date window).

    Returns:
        the CRPS in the unit of the members (days, people); 0 only for an exact value hit by every member.
    """
    import scoringrules as sr  # imported here: it compiles on first import, and only scoring needs it

    fct = np.asarray(members, dtype=float)
    if high is None or high == low:
        obs = np.array([float(low)])
    elif points is None:
        obs = np.arange(np.ceil(low), np.floor(high) + 1.0)
    else:
        obs = np.linspace(float(low), float(high), points)
    values = sr.crps_ensemble(obs, np.broadcast_to(fct, (len(obs), len(fct))), estimator="nrg")
    return float(np.mean(values))


@dataclass(frozen=True)
class Interval:
    """A central interval of an ensemble and how a documented window or range sits against it."""

    level: float
    low: float
    high: float
    inside: bool
    overlaps: bool


def intervals(
    members: Sequence[float], low: float, high: float, levels: Sequence[float] = (0.5, 0.8)
) -> tuple[float, list[Interval]]:
    """The ensemble's median and central intervals, each with whether the documented [low, high] lies in it.

    `inside`: the whole documented window or range lies within the interval; `overlaps`: they share
    at least one value. Quantiles are numpy's default (linear interpolation).
    """
    values = np.asarray(members, dtype=float)
    median = float(np.quantile(values, 0.5))
    out = []
    for level in levels:
        a, b = (float(q) for q in np.quantile(values, [round((1 - level) / 2, 9), round((1 + level) / 2, 9)]))
        out.append(Interval(level, a, b, inside=a <= low and high <= b, overlaps=a <= high and low <= b))
    return median, out


def skill(score: float, reference: float) -> float:
    """Skill score 1 - score / reference: 1 is perfect, 0 no better than the reference, < 0 worse."""
    if not np.isfinite(reference) or reference == 0.0:
        return float("nan")
    return 1.0 - score / reference
