"""Invariants that hold on every run of every valid scenario (property-based over generated scenarios)."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simkit.model import OUTCOMES, SiegeModel
from simkit.model.events import EventType
from simkit.scenario import Scenario, load_scenario
from simkit.scenario.paths import apply_overrides
from tests.conftest import NORTH_HOMS, WAER

BASES = {"waer": load_scenario(WAER).scenario, "north_homs": load_scenario(NORTH_HOMS).scenario}

SHARES = [
    "regime.siege_tightness", "regime.baseline_escalation", "regime.implementation",
    "regime.max_release_share",
    "mediator.leverage", "mediator.bias", "mediator.guarantor", "mediator.talks_rate",
    "committees.0.red_line_release_share", "committees.0.red_line_firmness", "committees.0.legitimacy",
    "factions.0.retaliation", "factions.0.veto", "factions.0.evacuation_stance", "factions.0.attack_rate",
    "residents.0.local_production", "residents.0.detainee_tie_share", "aid.open_under_siege",
    "packages.truce.siege_tightness",
]  # fmt: skip
POSITIVES = {
    "regime.force_here": (0.0, 3.0), "regime.lethality": (0.0, 5.0), "regime.takeover_rate": (0.0, 0.05),
    "committees.0.concession_rate": (0.0, 5.0), "committees.0.resolve": (0.05, 5.0),
    "residents.0.food_days": (0.0, 200.0), "behaviour.weight_hardship": (-2.0, 8.0),
}  # fmt: skip
COUNTS = {
    "residents.0.population": (1, 300_000), "factions.0.fighters": (0, 20_000),
    "detainees.listed": (0, 20_000),
    "packages.truce.fighters_out": (0, 5_000), "packages.surrender.convoy_capacity": (1, 5_000),
    "behaviour.households_per_group": (1, 300),
}  # fmt: skip


@st.composite
def scenarios(draw):
    base = BASES[draw(st.sampled_from(sorted(BASES)))]
    chosen = draw(st.sets(st.sampled_from(SHARES + list(POSITIVES) + list(COUNTS)), max_size=8))
    overrides = {"horizon_days": draw(st.integers(1, 400))}
    for path in chosen:
        if path in POSITIVES:
            lo, hi = POSITIVES[path]
            overrides[path] = draw(st.floats(lo, hi, allow_nan=False))
        elif path in COUNTS:
            overrides[path] = draw(st.integers(*COUNTS[path]))
        else:
            overrides[path] = draw(st.floats(0.0, 1.0))
    data = apply_overrides(base.model_dump(mode="json"), overrides)
    end = base.start + dt.timedelta(days=overrides["horizon_days"] - 1)
    data["events"] = [e for e in data["events"] if dt.date.fromisoformat(e["date"]) <= end]
    for event in data["events"]:  # a date window may reach past the shortened horizon: clip it
        if event.get("latest") and dt.date.fromisoformat(event["latest"]) > end:
            event["latest"] = end.isoformat()
    people = sum(group["population"]["value"] for group in data["residents"])
    for faction in data["factions"]:
        faction["fighters"]["value"] = min(faction["fighters"]["value"], people // len(data["factions"]))
    return Scenario.model_validate(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_every_run_keeps_the_invariants(scenario, seed):
    model = SiegeModel(scenario, rng=seed)
    outcome = model.run()
    days = outcome.outcome_day + 1
    s = {name: values[:days] for name, values in model.series.items()}

    # people are conserved, day by day
    assert np.all(s["population"] + s["evacuated"] + s["killed"] == model.initial_population)
    assert outcome.population + outcome.evacuated + outcome.killed == model.initial_population
    # stocks never go negative; shares stay shares
    assert np.all(s["food_days"] >= 0) and np.all(s["population"] >= 0)
    assert np.all((s["hardship"] >= 0) & (s["hardship"] <= 1))
    assert all(group.food >= 0 for group in model.groups)
    assert all(faction.fighters >= 0 for faction in model.factions)
    # releases only accumulate and never exceed the list
    assert np.all(np.diff(s["released"]) >= 0)
    assert 0 <= outcome.released <= outcome.listed
    # the event log is in date order and ends in exactly one outcome
    event_days = [row[0] for row in model.events.rows]
    assert event_days == sorted(event_days)
    outcomes = [row for row in model.events.rows if row[1] == EventType.OUTCOME]
    assert len(outcomes) == 1 and model.events.rows[-1] == outcomes[0]
    assert outcome.outcome in OUTCOMES
    assert outcome.outcome_day < scenario.horizon_days.value
    assert outcome.evacuated_fighters <= outcome.evacuated


def test_partial_release_flag_matches_its_definition(waer):
    limit = waer.scenario.outcomes.partial_release_max_share.value
    for seed in range(40):
        outcome = SiegeModel(waer.scenario, rng=seed).run()
        assert outcome.partial_release == (0 < outcome.released < limit * outcome.listed)
