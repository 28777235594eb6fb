"""Invariants that hold on every run of every valid scenario (property-based over generated scenarios).

Scenarios are drawn anywhere within the bounds the schema declares, so a bound a run cannot survive
(a NaN, an overflow, a crash) fails here.
"""

from __future__ import annotations

import datetime as dt
import math
import typing

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from simkit.model import OUTCOMES, SiegeModel
from simkit.model.events import EventType
from simkit.model.negotiation import GroupStatus
from simkit.model.population import apportion
from simkit.scenario import Scenario, load_scenario, with_overrides
from simkit.scenario.paths import apply_overrides
from simkit.scenario.provenance import Bound, Count, Days, Param
from simkit.scenario.schema import DAYS
from simkit.single_run import run_seed
from tests.conftest import NORTH_HOMS, WAER

BASES = {"waer": load_scenario(WAER).scenario, "north_homs": load_scenario(NORTH_HOMS).scenario}
SECTIONS = ("regime", "mediator", "committees.0", "factions.0", "residents.0", "behaviour", "detainees",
            "aid", "packages.truce", "packages.surrender", "outcomes")  # fmt: skip


def _limits(kind: type[Param], metadata: list) -> tuple[float, float, bool]:
    """The range the schema allows a parameter's value: its type's own limits and the field's Bound."""
    low, high = -math.inf, math.inf
    for constraint in kind.model_fields["value"].metadata:
        if getattr(constraint, "gt", None) is not None:
            low = max(low, math.nextafter(constraint.gt, math.inf))  # strictly above
        low = max(low, getattr(constraint, "ge", -math.inf))
        high = min(high, getattr(constraint, "le", math.inf))
    for bound in metadata:
        if isinstance(bound, Bound):
            low = low if bound.low is None else max(low, bound.low)
            high = min(high, bound.high)
    return low, high, issubclass(kind, (Count, Days))


def _parameters(model: type[BaseModel], prefix: str) -> dict[str, tuple[float, float, bool]]:
    found = {}
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, Param):
            found[f"{prefix}.{name}"] = _limits(kind, field.metadata)
    return found


def _section_model(path: str) -> type[BaseModel]:
    model: type[BaseModel] = Scenario
    for part in path.split("."):
        if part.isdigit():
            continue
        annotation = model.model_fields[part].annotation
        model = typing.get_args(annotation)[0] if typing.get_origin(annotation) is list else annotation
    return model


PARAMETERS = {
    path: limits
    for section in SECTIONS
    for path, limits in _parameters(_section_model(section), section).items()
}
PARAMETERS["residents.0.population"] = (1, PARAMETERS["residents.0.population"][1], True)  # inhabited
"""Every numeric parameter of the sections above, with the range the schema accepts (read from the schema)."""


@st.composite
def _generated_events(draw, base: Scenario, end: dt.date) -> list[dict]:
    """Up to 6 dated drivers within the run: corridors (flight, screening), campaigns, mediators, forces."""
    span = (end - base.start).days
    mediators = [m.name for m in [base.mediator, *base.other_mediators] if m.identity != "none"]

    def share():
        return {"value": draw(st.floats(0.0, 1.0)), "assumed": "generated"}

    events = []
    for _ in range(draw(st.integers(0, 6))):
        date = (base.start + dt.timedelta(days=draw(st.integers(0, span)))).isoformat()
        kind = draw(st.sampled_from(["corridor", "campaign", "mediator_entry", "forces_change"]))
        if kind == "corridor":
            events.append({"date": date, "type": kind, "days": {"value": draw(st.integers(1, 60)),
                           "assumed": "generated"}, "detained_share": share(),
                           "guarantor": draw(st.sampled_from(["regime", *mediators]))})  # fmt: skip
        elif kind == "campaign":
            events.append({"date": date, "type": kind, "escalation": share()})
        elif kind == "mediator_entry" and mediators:
            events.append({"date": date, "type": kind, "mediator": draw(st.sampled_from(mediators))})
        elif kind == "forces_change":
            delta = draw(st.floats(-2.0, 2.0))
            events.append({"date": date, "type": kind, "delta": {"value": delta, "assumed": "generated"}})
    return events


@st.composite
def scenarios(draw):
    """A valid scenario: a shipped one with up to 8 parameters drawn within the schema's bounds.

    Up to 6 generated dated events join its own, so that flight, screening, offensives and mediators
    entering are exercised.
    """
    base = BASES[draw(st.sampled_from(sorted(BASES)))]
    chosen = draw(st.sets(st.sampled_from(sorted(PARAMETERS)), max_size=8))
    overrides = {"horizon_days": draw(st.one_of(st.integers(1, 400), st.integers(1, DAYS)))}
    for path in chosen:
        low, high, whole = PARAMETERS[path]
        if whole:
            overrides[path] = draw(st.integers(int(low), int(high)))
        else:
            overrides[path] = draw(st.floats(low, high, allow_nan=False, allow_infinity=False))
    data = apply_overrides(base.model_dump(mode="json"), overrides)
    end = base.start + dt.timedelta(days=overrides["horizon_days"] - 1)
    data["events"] = [e for e in data["events"] if dt.date.fromisoformat(e["date"]) <= end]
    for event in data["events"]:  # a date window may reach past the shortened horizon: clip it
        if event.get("latest") and dt.date.fromisoformat(event["latest"]) > end:
            event["latest"] = end.isoformat()
    data["events"] += draw(_generated_events(base, end))
    people = sum(group["population"]["value"] for group in data["residents"])
    per_faction = people / len(data["factions"]) / (1.0 + data["behaviour"]["family_per_fighter"]["value"])
    for faction in data["factions"]:  # fighters and their families are among the residents
        faction["fighters"]["value"] = min(faction["fighters"]["value"], int(per_faction))
    truce = data["packages"]["truce"]  # the two release stages must stay in order
    if truce["first_release_days"]["value"] > truce["release_due_days"]["value"]:
        truce["first_release_days"], truce["release_due_days"] = (
            truce["release_due_days"],
            truce["first_release_days"],
        )
    return Scenario.model_validate(data)


def _finite(value) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


def _check_fighter_bookkeeping(model: SiegeModel) -> None:
    """At the end of a day, every fighter is in one place: registered on a town's buses, free, or gone."""
    evacuating = [g for g in model.groups if g.status is GroupStatus.EVACUATING]
    for faction in model.factions:
        registered = sum(g.faction_leavers.get(faction, 0) for g in evacuating)
        assert 0 <= registered <= faction.fighters, (model.day, faction.name, registered, faction.fighters)
    for group in model.groups:
        assert all(n >= 0 for n in group.faction_leavers.values()), (model.day, group.locality)
        if group.status is GroupStatus.SETTLED:  # its leavers have boarded; nobody is left registered
            assert not any(group.faction_leavers.values()), (model.day, group.locality, group.faction_leavers)
    initial = sum(faction.spec.fighters.value for faction in model.factions)
    assert sum(faction.fighters for faction in model.factions) + model.evacuated_fighters <= initial


def test_north_homs_run_keeps_fighter_bookkeeping_day_by_day():
    """Four towns, partial adoptions: run 4 of seed 1 once registered more HTS leavers than HTS had."""
    scenario = BASES["north_homs"]
    for index in range(8):
        model = SiegeModel(scenario, rng=run_seed(1, index))
        while model.running:
            model.step()
            _check_fighter_bookkeeping(model)


def test_a_town_that_settles_with_registered_fighters_left_empties_its_register():
    """A settled town keeps no one on its register of fighters to leave.

    Found by hypothesis: north Homs under extreme hunger, seed 0. Registered fighters died among the town's
    people before their bus, so its last convoy left 25 on the register of a settled town.
    """
    overrides = {"horizon_days": 442, "regime.escalation_decay": 0.0, "committees.0.concession_rate": 1.0,
                 "committees.0.review_rate": 0.0, "behaviour.storage_days": 1.0,
                 "behaviour.starvation_rate": 89.0, "aid.convoy_interval_days": 1,
                 "aid.convoy_food_days": 0.0}  # fmt: skip
    model = SiegeModel(with_overrides(BASES["north_homs"], overrides), rng=0)
    settled = False
    while model.running:
        model.step()
        _check_fighter_bookkeeping(model)
        settled |= any(g.status is GroupStatus.SETTLED for g in model.groups)
    assert settled  # the case the test is about: a town settled on its last bus


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_every_run_keeps_the_invariants(scenario, seed):
    model = SiegeModel(scenario, rng=seed)
    while model.running:
        model.step()
        _check_fighter_bookkeeping(model)
    outcome = model.outcome
    days = outcome.outcome_day + 1
    s = {name: values[:days] for name, values in model.series.items()}

    # people are conserved, day by day: residents + evacuated + fled + detained + killed + starved
    gone = s["evacuated"] + s["fled"] + s["detained"] + s["killed"] + s["starved"]
    assert np.all(s["population"] + gone == model.initial_population)
    assert (
        outcome.population + outcome.evacuated + outcome.fled + outcome.detained + outcome.killed
        + outcome.starved == model.initial_population
    )  # fmt: skip
    assert all(
        g.population + g.evacuated + g.fled + g.detained + g.killed + g.starved == g.initial_population
        for g in model.groups
    )
    assert min(outcome.fled, outcome.detained, outcome.starved, outcome.killed) >= 0
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
    # a surrender's convoys are some of the buses; a fighter is counted once: in his faction, or gone
    assert outcome.surrender_fighters <= outcome.evacuated_fighters
    assert outcome.surrender_fighters <= outcome.surrender_evacuated <= outcome.evacuated
    initial = sum(faction.spec.fighters.value for faction in model.factions)
    assert sum(faction.fighters for faction in model.factions) + outcome.evacuated_fighters <= initial
    # no NaN or infinity anywhere: the runs row, the event log, the daily series
    assert all(_finite(value) for value in outcome.as_row().values()), outcome.as_row()
    assert all(_finite(value) for row in model.events.rows for value in row)
    assert all(np.isfinite(values).all() for values in s.values())


def test_partial_release_flags_a_release_stage_reneged_in_part(waer):
    """Detainees freed, and some release stage delivered under `partial_release_max_share` of its promise."""
    flagged = 0
    for seed in range(40):
        model = SiegeModel(waer.scenario, rng=seed)
        outcome = model.run()
        reneged = any(row[1] == EventType.TERM_RENEGED and row[4] == "release" for row in model.events.rows)
        assert outcome.partial_release == (outcome.released > 0 and model.release_shortfall)
        assert model.release_shortfall == reneged  # `term_reneged` uses the same line
        flagged += outcome.partial_release
    assert 0 < flagged < 40  # a flag that is (nearly) always true says nothing


def test_apportion_shares_out_exactly_the_count():
    """Per-part rounding of 3 over two equal towns gives 2 + 2 = 4; the largest remainder gives 2 + 1."""
    assert apportion(3, [1, 1]) == [2, 1]  # a tie goes to the earlier part
    assert apportion(10, [1, 1, 1]) == [4, 3, 3]
    assert apportion(7, [0, 5, 0]) == [0, 7, 0]
    assert apportion(5, [0, 0]) == [0, 0] and apportion(0, [2, 3]) == [0, 0]


@given(count=st.integers(0, 10**6), weights=st.lists(st.integers(0, 10**6), min_size=1, max_size=8))
def test_apportion_parts_add_up_and_stay_within_one_of_the_exact_share(count, weights):
    parts = apportion(count, weights)
    total = sum(weights)
    assert sum(parts) == (count if total else 0)
    for part, weight in zip(parts, weights, strict=True):
        exact = count * weight / total if total else 0.0
        assert math.floor(exact) <= part <= math.ceil(exact)
