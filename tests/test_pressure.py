"""Residents' pressure is always today's: the formula of docs/model.md on the day's state.

A group remembers its pressure for the state it was computed on (talks ask twice on an unchanged
day); these tests recompute the formula from scratch, independently of the model's code, every day
of whole runs (sieges, truces, offensives, corridors with flight reweighing households) and ask for
the model's value twice a day, before and after the day's phases.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simkit.model import SiegeModel
from simkit.model.agents import ResidentGroup
from simkit.model.negotiation import assault_threat
from simkit.scenario import load_scenario
from tests.conftest import ROOT


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def expected_pressure(group: ResidentGroup) -> float:
    """Share of people whose households want a way out, from the group's state and the scenario alone."""
    if not group.population:
        return 0.0
    b, model = group.behaviour, group.model
    days = group.food / group.population
    own_days = days * group.reserve
    hardship = _logistic((b.hardship_midpoint_days.value - own_days) / b.hardship_scale_days.value)
    regime, committee = model.regime, group.committee
    threatened = committee in regime.offensive_until or committee in regime.ultimatum_due
    threat = assault_threat(regime.force, regime.offensive_force) if threatened else 0.0
    logit = (
        b.weight_hardship.value * hardship
        + b.weight_loss.value * 1000.0 * group.loss / group.population
        + b.weight_threat.value * threat
        - b.weight_detainee_tie.value * group.tie
        - b.concede_threshold.value
        + group.disposition
    )
    return float(_logistic(logit) @ group.share)


@pytest.mark.parametrize("case", ["waer", "east_aleppo", "old_homs"])
def test_pressure_is_the_formula_on_every_day(case: str) -> None:
    scenario = load_scenario(ROOT / "scenarios" / f"{case}.yaml").scenario
    changed = 0
    for seed in range(3):
        model = SiegeModel(scenario, rng=seed, record_series=False)
        before: list[float] = []
        while model.running:
            for group in model.groups:
                value = group.pressure()
                assert value == pytest.approx(expected_pressure(group), rel=1e-9, abs=1e-12)
                assert group.pressure() == value  # asked again on the same state: the same answer
                before.append(value)
            model.step()
        changed += len({round(v, 6) for v in before}) > 1
        assert all(0.0 <= v <= 1.0 and not math.isnan(v) for v in before)
    assert changed == 3  # pressure moved over every run: the check saw more than one state


def test_pressure_follows_households_reweighed_by_flight_when_nobody_could_leave() -> None:
    # Every resident counted a fighter: flight moves nobody, but reweighs the households that stay.
    model = SiegeModel(load_scenario(ROOT / "scenarios" / "waer.yaml").scenario, rng=1, record_series=False)
    group = model.groups[0]
    for faction in model.factions:
        faction.fighters = group.population
    group.food = 5.0 * group.population  # hungry: many households want out, so flight reweighs strongly
    before = group.pressure()
    people = group.population
    group.flee(detained_share=0.0)
    assert group.population == people
    assert group.pressure() == pytest.approx(expected_pressure(group), rel=1e-9)
    assert group.pressure() < before  # those who wanted a way out weigh less among the people who stayed
