"""Reference forecasts every score is compared with (formulas and reasons: docs/scoring.md).

Each baseline for a case is built from the *other* cases of the case set only
(leave-one-case-out), so a case's own documented ending never enters the
forecast it is scored against:

* `uniform`: every outcome class equally likely.
* `base_rate`: the other cases' outcome classes, with `BASE_RATE_PSEUDOCOUNT`
  added to every class so that a class none of them ended in keeps a finite
  log score.
* `duration_members`: the other cases' siege-to-deal durations, applied from
  this case's siege start and conditioned on no deal before the scenario's
  start (durations shorter than the siege had already lasted are dropped).
* `evacuated_members`: the other cases' documented evacuated shares of their
  populations, times this case's population.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from simkit.model import OUTCOMES
from simkit.scoring.caseset import Case

BASE_RATE_PSEUDOCOUNT = 1.0
"""Added to every class's count of other cases (Laplace's rule of succession)."""


def uniform(classes: Sequence[str] = OUTCOMES) -> np.ndarray:
    """Every class equally likely."""
    return np.full(len(classes), 1.0 / len(classes))


def base_rate(
    cases: Sequence[Case],
    held_out: str,
    classes: Sequence[str] = OUTCOMES,
    pseudocount: float = BASE_RATE_PSEUDOCOUNT,
) -> np.ndarray:
    """Share of the other cases that ended in each class, smoothed: (m_k + a) / (n + K a).

    Args:
        cases: every case of the set.
        held_out: id of the case being forecast (left out).
        classes: the classes, in the order of the returned vector.
        pseudocount: a, added to every class's count.
    """
    others = [case.outcome for case in cases if case.id != held_out]
    counts = np.array([others.count(name) for name in classes], dtype=float)
    return (counts + pseudocount) / (len(others) + pseudocount * len(classes))


def duration_members(cases: Sequence[Case], held_out: Case, start_day: int, horizon: int) -> list[float]:
    """The library's siege-to-deal durations as forecasts of this case's deal day (days after its start).

    Each other case j with a documented deal gives the duration D_j from its
    siege start to its deal (window midpoints). Applied to this case, the deal
    falls D_j - E days after the scenario's start, where E (`start_day`, the
    days from this case's siege start to its scenario start) is how long the
    siege had already lasted. Durations below E would put the deal before the
    start, which did not happen: they are dropped (the empirical distribution
    conditioned on D >= E). A case whose siege ended without a deal, and every
    member past the horizon, count as no deal by the horizon (the value
    `horizon`), as the model's runs do. If no other case's siege lasted E
    days, the library has nothing that long: the forecast is no deal by the horizon.
    """
    members = []
    for case in cases:
        if case.id == held_out.id:
            continue
        if case.deal_date is None:
            members.append(float(horizon))
            continue
        duration = (case.deal_date.midpoint - case.siege_start.midpoint).days
        if duration >= start_day:
            members.append(float(min(duration - start_day, horizon)))
    return members or [float(horizon)]


def evacuated_members(cases: Sequence[Case], held_out: str, populations: Mapping[str, float]) -> list[float]:
    """The other cases' evacuated shares (range midpoint / population) times this case's population.

    Args:
        cases: every case of the set.
        held_out: id of the case being forecast.
        populations: each case's population at its scenario's start (the scenario's residents).
    """
    own = populations[held_out]
    return [
        case.evacuated.midpoint / populations[case.id] * own
        for case in cases
        if case.id != held_out and case.evacuated is not None and populations[case.id] > 0
    ]
