"""Directions of effects under counterfactuals, measured on ensembles of a few hundred runs (model-brief.md).

Each test compares two ensembles that differ in one parameter, with the same
master seed (common random numbers), by a one-sided Mann-Whitney test. Seeds are
fixed, so the tests are deterministic; the 1% level leaves room for model changes
that keep the direction but move the numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from simkit.ensemble import run_ensemble
from simkit.scenario import load_scenario
from tests.conftest import NORTH_HOMS, WAER

RUNS = 300
SETTLED = ("surrender_evacuation", "reconciliation", "military_takeover")


def ensemble(path, overrides, events=False):
    result = run_ensemble(load_scenario(path, overrides), RUNS, seed=11)
    return result if events else result.runs


def days_to_settlement(runs, horizon):
    """Day the area gave way; runs that never did count as the horizon (censored, not dropped)."""
    return np.where(runs["outcome"].isin(SETTLED), runs["outcome_day"], horizon)


def assert_greater(larger, smaller):
    larger, smaller = np.asarray(larger, float), np.asarray(smaller, float)
    p = mannwhitneyu(larger, smaller, alternative="greater").pvalue
    assert p < 0.01, f"means {larger.mean():.3g} vs {smaller.mean():.3g}, p = {p:.2g}"


def test_more_mediator_leverage_frees_more_of_the_list():
    low = ensemble(WAER, {"mediator.leverage": 0.0})
    high = ensemble(WAER, {"mediator.leverage": 0.6})
    assert_greater(high["released_share"], low["released_share"])


@pytest.mark.parametrize(
    ("path", "holding_out", "giving_way"),
    [
        ("residents.Waer.local_production", 0.6, 0.0),  # farming inside
        ("regime.siege_tightness", 0.3, 0.95),  # a loose siege (at 0.5 hunger still builds: 61% vs 67%)
    ],
)
def test_food_getting_in_delays_or_prevents_surrender(path, holding_out, giving_way):
    fed = ensemble(WAER, {path: holding_out})
    starved = ensemble(WAER, {path: giving_way})
    horizon = load_scenario(WAER).scenario.horizon_days.value
    assert_greater(days_to_settlement(fed, horizon), days_to_settlement(starved, horizon))
    assert (fed["outcome"] == "surrender_evacuation").mean() < (
        starved["outcome"] == "surrender_evacuation"
    ).mean()


def test_a_committee_that_never_drops_its_red_line_endures_a_longer_costlier_siege():
    bending = ensemble(WAER, {"committees.0.red_line_firmness": 0.6})
    unbending = ensemble(WAER, {"committees.0.red_line_firmness": 1.0})
    assert_greater(unbending["outcome_day"], bending["outcome_day"])
    assert_greater(unbending["killed"], bending["killed"])
    assert (unbending["outcome"] == "surrender_evacuation").sum() == 0


def test_spoilers_bring_more_collapses():
    quiet = ensemble(NORTH_HOMS, {"factions.HTS.attack_rate": 0.0})
    active = ensemble(NORTH_HOMS, {"factions.HTS.attack_rate": 0.05})
    assert_greater(active["agreements_collapsed"], quiet["agreements_collapsed"])


def first_truce_day(result, horizon):
    """Day of each run's first signed truce; runs without one count as the horizon (censored, not dropped)."""
    events = result.events
    truces = events[(events["type"] == "agreement_signed") & (events["detail"] == "truce")]
    return truces.groupby("run")["day"].min().reindex(result.runs["run"], fill_value=horizon).to_numpy()


def test_a_committee_that_distrusts_the_regime_holds_out_longer_before_its_first_truce():
    horizon = load_scenario(WAER).scenario.horizon_days.value
    trusting = ensemble(WAER, {"committees.0.trust_prior": 0.6}, events=True)
    wary = ensemble(WAER, {"committees.0.trust_prior": 0.2}, events=True)
    assert_greater(first_truce_day(wary, horizon), first_truce_day(trusting, horizon))
