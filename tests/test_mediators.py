"""Any mediator, linked deals, and terms for groups outside every deal (issue 9, part 2; docs/model.md)."""

from __future__ import annotations

import pytest
from scipy.stats import fisher_exact, mannwhitneyu

from simkit.ensemble import run_ensemble
from simkit.model import SiegeModel
from simkit.scenario import LoadedScenario, Scenario, load_scenario
from simkit.scenario.loader import scenario_hash
from simkit.scenario.paths import apply_overrides
from tests.conftest import ROOT, WAER

RUNS = 300
EAST_ALEPPO = ROOT / "scenarios" / "east_aleppo.yaml"


def _scenario(path, overrides=None, edit=None) -> Scenario:
    data = apply_overrides(load_scenario(path).scenario.model_dump(mode="json"), overrides or {})
    if edit is not None:
        edit(data)
    return Scenario.model_validate(data)


def _loaded(path, overrides=None, edit=None) -> LoadedScenario:
    scenario = _scenario(path, overrides, edit)
    return LoadedScenario(scenario, path, dict(overrides or {}), scenario_hash(scenario))


def _talks_by(model) -> list[tuple[int, str]]:
    return [(row[0], row[2]) for row in model.events.rows if row[1] == "talks_held"]


def test_the_mediator_present_is_whoever_entered_last(waer):
    # Waer: the UN mediates from the start; Russia enters on 28 Nov 2016 and replaces it.
    scenario = waer.scenario
    entry = next(e for e in scenario.events if e.type == "mediator_entry")
    entry_day = (entry.date - scenario.start).days
    seen = 0
    for seed in range(10):
        model = SiegeModel(scenario, rng=seed)
        model.run()
        for day, who in _talks_by(model):
            assert who == ("UN" if day < entry_day else "Russia"), (day, who)
            seen += 1
    assert seen


def test_the_guarantor_and_leverage_are_the_present_mediators(waer):
    model = SiegeModel(waer.scenario, rng=1)
    un = waer.scenario.mediators.un  # the UN mediates in Waer from the start
    assert model.mediator.effective_guarantor == un.guarantor.value
    assert model.mediator.effective_leverage == un.leverage.value
    model.mediator.enter()
    assert model.mediator.effective_guarantor == waer.scenario.mediators.russia.guarantor.value
    assert model.mediator.name == "Russia"


def test_linked_stakes_change_nothing_without_a_mediator_to_carry_them():
    # No mediator ever present: the stakes elsewhere cannot be linked, so runs are identical.
    def no_mediator(data):
        data["other_mediators"] = []
        data["events"] = [e for e in data["events"] if e["type"] != "mediator_entry"]

    runs = {
        stakes: run_ensemble(_loaded(WAER, {"regime.linked_stakes": stakes}, no_mediator), 40, seed=5).runs
        for stakes in (0.0, 1.0)
    }
    assert runs[0.0]["agreements_signed"].tolist() == runs[1.0]["agreements_signed"].tolist()
    assert runs[0.0]["outcome_day"].tolist() == runs[1.0]["outcome_day"].tolist()


def test_linked_stakes_bring_truces_sooner():
    # Waer with the UN present: stakes elsewhere raise the regime's value of a deal, so the first truce
    # comes sooner (the regime refuses fewer truce packages).
    first = {}
    for stakes in (0.0, 1.0):
        result = run_ensemble(load_scenario(WAER, {"regime.linked_stakes": stakes}), RUNS, seed=11)
        events = result.events
        signed = events[(events["type"] == "agreement_signed") & (events["detail"] == "truce")]
        horizon = load_scenario(WAER).scenario.horizon_days.value
        first[stakes] = signed.groupby("run")["day"].min().reindex(result.runs["run"], fill_value=horizon)
    p = mannwhitneyu(first[0.0], first[1.0], alternative="greater").pvalue
    assert p < 1e-3, f"medians {first[0.0].median()} vs {first[1.0].median()}, p = {p:.2g}"


def test_an_amnesty_is_never_tabled_while_a_group_outside_every_deal_bars_it_for_certain():
    # East Aleppo, with the fighter-share rule wide open and the bar at 1: Fatah al-Sham inside means
    # evacuation terms (the bar's probability is tested in test_mechanisms.py).
    scenario = _scenario(
        EAST_ALEPPO,
        {"regime.settlement_max_fighter_share": 1.0, "regime.outside_group_bars_amnesty": 1.0},
    )
    offered = 0
    for seed in range(15):
        model = SiegeModel(scenario, rng=seed)
        model.run()
        for row in model.events.rows:
            if row[1] == "package_offered" and row[4].startswith("surrender"):
                assert row[4].startswith("surrender: evacuation (")  # the terms, then whose they are
                offered += 1
    assert offered


def test_a_group_outside_every_deal_lowers_the_chance_of_a_settlement_in_place():
    share = {}
    for fighters in (0, 900):
        overrides = {
            "regime.settlement_max_fighter_share": 1.0,
            "factions.Jabhat Fatah al-Sham.fighters": fighters,
        }
        runs = run_ensemble(load_scenario(EAST_ALEPPO, overrides), RUNS, seed=11).runs
        share[fighters] = int((runs["outcome"] == "reconciliation").sum())
    # both shares are observed: Fisher's exact test on the 2 x 2 table, one-sided
    table = [[share[900], RUNS - share[900]], [share[0], RUNS - share[0]]]
    p = fisher_exact(table, alternative="less").pvalue
    assert p < 1e-3, f"reconciliations {share}, p = {p:.2g}"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["events"].append({"date": "2016-01-05", "type": "mediator_entry", "mediator": "Iran"}),
         "unknown mediator 'Iran'"),
        (lambda d: d["mediator"].update(identity="none"), "has identity none"),
        (lambda d: d["other_mediators"].append(dict(d["other_mediators"][0])),
         "mediator names must be unique"),
    ],
)  # fmt: skip
def test_bad_mediators_are_clear_errors(edit, message):
    with pytest.raises(ValueError, match=message):
        _scenario(WAER, edit=edit)


def test_an_offensive_that_takes_ground_kills_more():
    # Waer with no talks at all and a documented-style offensive from 1 Mar 2016: force at the offensive
    # level (no surplus, so no storming), a campaign at full intensity. No truce can be signed without
    # talks, so no detainee is freed and the red line stays unmet; the regime's surrender terms still come
    # (an ultimatum, or tabled during the campaign). At firmness 1 with no surplus force (no threat) the
    # committee holds its red line for a set of terms with probability 1 - pressure: only hunger can make
    # it give way, in either ensemble.
    no_talks = {
        "mediators.russia.talks_rate": 0.0,
        "mediators.un.talks_rate": 0.0,
        "mediator.direct_talks_rate": 0.0,
        "committees.0.red_line_firmness": 1.0,
        "horizon_days": 200,
    }
    offensive = [
        {"date": "2016-03-01", "type": "forces_change", "delta": {"value": 0.4, "assumed": "test"}},
        {"date": "2016-03-01", "type": "campaign", "escalation": {"value": 1.0, "assumed": "test"}},
    ]

    def events(data):
        data["events"] = offensive

    killed = {}
    for rate in (0.0, 0.05):
        scenario = _loaded(WAER, {**no_talks, "regime.ground_rate": rate}, events)
        killed[rate] = run_ensemble(scenario, RUNS, seed=11).runs["killed"]
    p = mannwhitneyu(killed[0.05], killed[0.0], alternative="greater").pvalue
    assert p < 1e-3, f"medians {killed[0.0].median()} vs {killed[0.05].median()}, p = {p:.2g}"


def test_ground_taken_is_logged_in_tenths_and_only_under_an_offensive(waer):
    # Stepped day by day: ground held falls on offensive days only, and on some of them.
    scenario = _scenario(WAER, {"regime.ground_rate": 0.2})
    logged = lost_on_offensive = 0
    for seed in range(10):
        model = SiegeModel(scenario, rng=seed)
        committee = model.committees[0]
        while model.running:
            before = [g.ground for g in model.groups]
            model.step()
            on_offensive = model.regime.posture(committee) == "offensive"
            lost = [g.ground < b for g, b in zip(model.groups, before, strict=True)]
            if any(lost):
                assert on_offensive, f"seed {seed}: ground lost on day {model.day} with no offensive"
                lost_on_offensive += 1
        taken = [row for row in model.events.rows if row[1] == "ground_taken"]
        held = [row[3] for row in taken]
        assert held == sorted(held, reverse=True) and all(0 <= h < 100 for h in held)
        logged += bool(taken)
        assert all(0.0 < g.ground <= 1.0 for g in model.groups)
    assert logged and lost_on_offensive
