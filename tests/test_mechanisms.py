"""Specific mechanisms behave as documented in docs/model.md."""

from __future__ import annotations

import datetime as dt

import pytest

from simkit.model import SiegeModel
from simkit.scenario import with_overrides
from simkit.single_run import run_seed
from simkit.yamlio import InputError


def events_of(model, kind):
    return [row for row in model.events.rows if row[1] == kind]


def finished_runs(scenario, master_seed, count):
    """Runs 0..count-1 of an ensemble, each stepped to its end."""
    for i in range(count):
        model = SiegeModel(scenario, rng=run_seed(master_seed, i))
        model.run()
        yield model


def truces_signed(model):
    return [row[0] for row in events_of(model, "agreement_signed") if row[4] == "truce"]


def test_an_event_with_a_date_window_fires_inside_it_on_a_day_drawn_per_run(north_homs):
    scenario = north_homs.scenario
    window = next(e for e in scenario.events if e.latest is not None)
    first, last = (window.date - scenario.start).days, (window.latest - scenario.start).days
    days = []
    for i in range(30):
        model = SiegeModel(scenario, rng=run_seed(3, i))
        model.run()
        fired = [row[0] for row in events_of(model, "forces_change")]
        if fired:  # runs may end before the window
            assert first <= fired[0] <= last
            days.append(fired[0])
    assert len(set(days)) > 5  # the date really is uncertain
    again = SiegeModel(scenario, rng=run_seed(3, 0))
    again.run()
    first_run = SiegeModel(scenario, rng=run_seed(3, 0))
    first_run.run()
    assert events_of(again, "forces_change") == events_of(first_run, "forces_change")  # but fixed per seed


def test_a_truce_frees_detainees_in_two_stages_and_never_before_the_first(waer):
    terms = waer.scenario.packages.truce
    checked = 0
    for model in finished_runs(waer.scenario, 5, 60):
        stages = [row[0] for row in model.events.rows if row[1] in ("term_implemented", "term_reneged")
                  and row[4] == "release"]  # fmt: skip
        ends = [row[0] for row in model.events.rows if row[1] in ("ceasefire_collapsed", "agreement_signed")]
        for signed in truces_signed(model):
            end = min([d for d in ends if d > signed] + [signed + terms.release_due_days.value])
            due = [d for d in stages if signed < d <= end]  # stages of this truce, while it lasts
            if due:
                assert due[0] == signed + terms.first_release_days.value
                checked += 1
    assert checked > 10


def test_only_the_final_release_stage_can_break_a_truce(waer):
    terms = waer.scenario.packages.truce
    token_reneged = 0
    for model in finished_runs(waer.scenario, 7, 80):
        rows = model.events.rows
        for signed in truces_signed(model):
            token_day = signed + terms.first_release_days.value
            token_reneged += any(
                r[0] == token_day and r[1] == "term_reneged" and r[4] == "release" for r in rows
            )
            collapses = [r[0] for r in rows if r[1] == "ceasefire_collapsed" and r[4] == "release reneged"]
            assert token_day not in collapses
            final_day = signed + terms.release_due_days.value
            assert all(day == final_day for day in collapses if signed < day <= final_day)
    assert token_reneged > 10  # token stages were reneged, and none of them broke its truce


def test_a_deal_signed_by_outsiders_puts_a_ceasefire_in_force_the_same_day(north_homs):
    model = SiegeModel(north_homs.scenario, rng=1)
    model.run()
    cairo = [row[0] for row in events_of(model, "agreement_signed") if row[4] == "outside"]
    declared = [row[0] for row in events_of(model, "ceasefire_declared") if row[4] == "outside"]
    assert cairo == declared == [(dt.date(2017, 8, 2) - north_homs.scenario.start).days]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"packages.truce.first_release_days": 120}, "must not come after release_due_days"),
        ({"events.2.latest": "2017-10-01"}, "is before date"),
    ],
)
def test_inconsistent_timing_is_rejected(north_homs, overrides, message):
    with pytest.raises(InputError, match=message):
        with_overrides(north_homs.scenario, overrides)
