"""The model side of `simkit app`: knobs through the one resolver, a run stepped by day, ensembles."""

from __future__ import annotations

import pytest

from simkit.app.state import Run, Session, knobs
from simkit.scenario import load_scenario, scenario_hash, with_overrides
from simkit.story import replay, tell
from simkit.yamlio import InputError
from tests.conftest import NORTH_HOMS, WAER


def test_every_knob_is_a_numeric_parameter_the_resolver_finds(waer):
    found = knobs(waer.scenario)
    assert len({k.path for k in found}) == len(found) > 20
    for knob in found[:: max(1, len(found) // 15)]:
        assert knob.provenance.startswith(("source: ", "assumed: "))
        moved = knob.value + 1 if knob.whole else knob.value * 0.5
        changed = with_overrides(waer.scenario, {knob.path: moved})
        (after,) = [k for k in knobs(changed) if k.path == knob.path]
        assert after.value == moved
        assert after.provenance.startswith("assumed: override (was ")


def test_knobs_are_grouped_by_section_and_list_item(north_homs):
    groups = {k.group for k in knobs(north_homs.scenario)}
    assert "regime" in groups
    committees = {g for g in groups if g.startswith("committees ")}
    assert len(committees) == len(north_homs.scenario.committees)


@pytest.mark.parametrize("path", [WAER, NORTH_HOMS])
def test_a_run_stepped_day_by_day_is_the_run_and_the_story_of_one_go(path):
    scenario = load_scenario(path).scenario
    run = Run(scenario, seed=3)
    steps = 0
    while run.running:
        run.step()
        steps += 1
    whole = replay(scenario, 3)
    assert [(t.day, t.type) for t in run.told] == [(row[0], row[1]) for row in whole.rows]
    assert steps == len(run.days) == whole.outcome["outcome_day"] + 1
    assert run.outcome() == whole.outcome["outcome"]
    assert run.step() == []  # an ended run stays ended
    story = tell(whole.rows, whole.states, scenario.start)  # the words of `simkit story` for the same run
    assert [(t.date, t.text) for t in run.told] == [(line.date, line.text) for line in story]
    for day in run.days:
        assert day.food_days >= 0 and 0 <= day.hardship <= 1 and day.killed >= 0
        assert all(0 <= t <= 1 for t in day.trust.values())


def test_a_knob_gives_the_scenario_of_set_and_reset_gives_the_file():
    session = Session.open(WAER, seed=2)
    session.run.step()
    session.set("regime.siege_tightness", 0.5)
    # the same scenario, provenance included, as `--set regime.siege_tightness=0.5`
    assert scenario_hash(session.scenario) == load_scenario(WAER, {"regime.siege_tightness": 0.5}).hash
    assert session.run.days == []  # a new knob restarts the run
    with pytest.raises(InputError):
        session.set("regime.siege_tightness", 7.0)  # a share above 1
    with pytest.raises(InputError):
        session.set("regime.no_such_knob", 1.0)
    assert session.overrides == {"regime.siege_tightness": 0.5}  # a refused value changes nothing
    session.reset_knobs()
    assert session.overrides == {}
    assert scenario_hash(session.scenario) == load_scenario(WAER).hash


def test_ensemble_at_knobs_against_the_file_with_common_seeds():
    session = Session.open(WAER, seed=4)
    same = session.ensemble(6, workers=1)
    assert same.knobs.equals(same.file)  # no knob: one ensemble, shown as both
    session.set("regime.siege_tightness", 0.2)
    ticks: list[int] = []
    both = session.ensemble(6, workers=2, progress=ticks.append)
    assert ticks[-1] == 12
    assert both.knobs["seed"].tolist() == both.file["seed"].tolist()
    assert both.file["outcome"].tolist() == same.file["outcome"].tolist()
    shares = both.shares()
    assert shares["knobs share"].sum() == pytest.approx(1) and shares["file share"].sum() == pytest.approx(1)
    incidence = both.incidence()
    assert set(incidence["ensemble"]) == {"knobs", "file"}
    assert ((incidence["incidence"] >= 0) & (incidence["incidence"] <= 1)).all()
