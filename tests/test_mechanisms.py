"""Specific mechanisms behave as documented in docs/model.md."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from simkit.model import SiegeModel
from simkit.model.negotiation import GroupStatus, Terms, amnesty_standing
from simkit.model.outcomes import settlement_class
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


# ---------------------------------------------------------------- issue 9: coercion, terms, flows


def test_the_release_offer_is_the_regimes_own_reservation_raised_by_leverage():
    from simkit.model.negotiation import truce_release_offer

    # Waer: 137 of 7,360 offered unpressed (seed 000); the committee's demand plays no part.
    assert truce_release_offer(7360, 0, 137 / 7360, 0.0) == 137
    assert truce_release_offer(7360, 0, 137 / 7360, 1.0) == 274  # full leverage doubles it
    assert truce_release_offer(7360, 7300, 137 / 7360, 1.0) == 60  # never more than still held


def _events(loaded):
    return loaded.scenario.model_dump(mode="json")["events"]


def _with(loaded, overrides, events=None):
    """A copy of a shipped scenario with dotted-path overrides and, if given, its events replaced."""
    from simkit.scenario import Scenario
    from simkit.scenario.paths import apply_overrides

    data = apply_overrides(loaded.scenario.model_dump(mode="json"), overrides)
    if events is not None:
        data["events"] = events
    return Scenario.model_validate(data)


def test_a_scheduled_offensive_ends_a_truce_the_same_day(north_homs):
    # The Cairo deal (2 Aug 2017) puts a truce in force; an offensive beginning on 1 Sep ends it.
    events = [e for e in _events(north_homs) if e["type"] == "outside_agreement"]
    events.append({"date": "2017-09-01", "type": "campaign", "escalation": {"value": 1.0, "assumed": "test"}})
    scenario = _with(north_homs, {"committees.0.collapse_tolerance": 1e6}, events)
    day = (dt.date(2017, 9, 1) - scenario.start).days
    for model in finished_runs(scenario, 3, 10):
        offensive = [row for row in events_of(model, "offensive") if row[0] == day]
        collapsed = [row for row in events_of(model, "ceasefire_collapsed") if row[0] == day]
        assert offensive, "the campaign launched no offensive"
        assert [row[4] for row in collapsed] == ["regime offensive"]


def test_force_at_the_offensive_level_brings_an_ultimatum_then_an_offensive_if_refused(waer):
    # Force at the offensive level from the start, a committee that never gives way, no mediator.
    scenario = _with(waer, {"regime.force_here": 1.0, "committees.0.concession_rate": 0.0}, [])
    deadline = scenario.regime.ultimatum_days.value
    for model in finished_runs(scenario, 5, 5):
        ultimatums = events_of(model, "ultimatum")
        offensives = events_of(model, "offensive")
        assert ultimatums and offensives
        assert offensives[0][0] == ultimatums[0][0] + deadline
        assert offensives[0][4].endswith("ultimatum refused")


def _surrenders_under_offensive(scenario, master_seed, runs):
    """Per run: (surrenders signed while an offensive on the committee ran, surrenders, ultimatums)."""
    counts = []
    for i in range(runs):
        model = SiegeModel(scenario, rng=run_seed(master_seed, i))
        during = signed = 0
        while model.running:
            before = model.agreements_signed
            under_way = set(model.regime.offensive_until)  # offensives running as the day begins
            model.step()
            if model.agreements_signed > before:
                for row in events_of(model, "agreement_signed"):
                    if row[0] == model.day and row[4].startswith("surrender"):
                        signed += 1
                        committee = next(c for c in model.committees if c.name == row[2])
                        during += committee in under_way and committee in model.regime.offensive_until
        counts.append((during, signed, len(events_of(model, "ultimatum"))))
    return counts


def test_a_surrender_can_be_signed_while_an_offensive_is_under_way(waer):
    """The regime keeps its demand on the table while it fights (east Aleppo: four weeks into an offensive).

    A refused ultimatum's terms stand through its offensive, and an offensive launched with no terms
    standing (a scheduled campaign) gets them at the ultimatum hazard.
    """
    # Force above the offensive level, a committee slow to concede (it often outlasts the week), no mediator.
    refused = _with(waer, {"regime.force_here": 1.5, "committees.0.concession_rate": 0.3}, [])
    counts = _surrenders_under_offensive(refused, 2, 20)
    assert sum(during for during, _, _ in counts) > 0
    # A campaign on the second day, lasting (on average) ten years: terms come during it, with no ultimatum.
    campaign = [{"date": "2015-12-02", "type": "campaign", "escalation": {"value": 1.0, "assumed": "test"}}]
    scheduled = _with(
        waer, {"regime.force_here": 1.5, "regime.offensive_days": 3_650, "committees.0.concession_rate": 3.0},
        campaign,
    )  # fmt: skip
    counts = _surrenders_under_offensive(scheduled, 2, 20)
    assert sum(during for during, _, ultimatums in counts if ultimatums == 0) > 0


def test_surrender_terms_name_the_committee_they_are_put_to(north_homs):
    """Terms tabled during a campaign have no `ultimatum` row before them: their detail says whose they are.

    North Homs split into two committees (every shipped scenario has one), force above the offensive
    level, a campaign on both from the first day: every surrender `package_offered` names a committee,
    the ultimatum's own when one comes with it, else one the regime is fighting (an offensive logged for
    it and not ended), and some name the second committee.
    """
    from simkit.scenario import Scenario

    data = north_homs.scenario.model_dump(mode="json")
    first = data["committees"][0]
    second = {**first, "name": "Houla committee", "localities": first["localities"][2:]}
    first["localities"] = first["localities"][:2]
    data["committees"].append(second)
    data["regime"]["force_here"]["value"] = 1.5
    campaign = {"date": data["start"], "type": "campaign", "escalation": {"value": 1.0, "assumed": "test"}}
    data["events"] = [campaign]
    scenario = Scenario.model_validate(data)
    under_campaign = []
    for model in finished_runs(scenario, 5, 4):
        fighting: set[str] = set()
        rows = model.events.rows
        for i, (_, kind, actor, _, detail) in enumerate(rows):
            if kind == "offensive":
                fighting.add(detail.rpartition(": ")[0])
            elif kind == "offensive_ended":
                fighting.discard(detail)
            elif kind == "package_offered" and detail.startswith("surrender"):
                named = detail.rpartition(" (")[2].removesuffix(")")
                assert actor == "regime" and named in (first["name"], second["name"]), detail
                if rows[i - 1][1] == "ultimatum":
                    assert rows[i - 1][4] == named, (rows[i - 1], detail)
                else:
                    assert named in fighting, detail
                    under_campaign.append(named)
    assert second["name"] in under_campaign


def test_an_offensive_that_ends_withdraws_its_terms(waer):
    """When the regime pauses, the terms it fought for go: a later surrender needs terms tabled anew.

    Read from the log of a one-committee scenario: surrender terms stand from a `package_offered`
    surrender until an `offensive_ended`; every surrender is signed on terms standing that day, and
    some are signed after an offensive has ended (on a new ultimatum's terms).
    """
    # Force above the offensive level, a committee slow to concede (it often outlasts an offensive).
    scenario = _with(waer, {"regime.force_here": 1.5, "committees.0.concession_rate": 0.3}, [])
    after_a_pause = ended = 0
    for model in finished_runs(scenario, 3, 20):
        standing, paused = False, False
        for _, kind, _, _, detail in model.events.rows:
            if kind == "package_offered" and detail.startswith("surrender"):
                standing = True
            elif kind == "offensive_ended":
                standing, paused = False, True
                ended += 1
            elif kind == "agreement_signed" and detail.startswith("surrender"):
                assert standing, "a surrender signed on withdrawn terms"
                after_a_pause += paused
    assert ended > 0 and after_a_pause > 0


def test_a_ceasefire_for_talks_stops_the_shelling_but_not_the_siege(waer):
    scenario = _with(waer, {"mediator.present_at_start": True, "regime.force_here": 1.0}, [])
    found = 0
    for model in finished_runs(scenario, 7, 10):
        for row in events_of(model, "ceasefire_declared"):
            if row[4] == "ceasefire":
                found += 1
    # Re-run step by step and check the committee's siege while a ceasefire for talks is in force.
    checked = 0
    for seed in range(10):
        model = SiegeModel(scenario, rng=seed)
        while model.running:
            model.step()
            committee = model.committees[0]
            agreement = committee.agreement
            # Declared in the talks (phase 5), after residents have lived the day: it holds from the next day.
            breached = any(row[0] == model.day for row in events_of(model, "violation"))  # shelled back today
            if agreement is not None and agreement.kind == "ceasefire" and agreement.signed_day < model.day:
                assert committee.siege_tightness == scenario.regime.siege_tightness.value
                assert not agreement.aid and (breached or committee.bombardment == 0.0)
                checked += 1
    assert found and checked


@pytest.mark.parametrize(
    ("overrides", "terms", "expected"),
    [
        # settlement terms nobody believes: every fighter refuses the amnesty and his group leaves as a body
        ({"regime.settlement_max_fighter_share": 1.0, "mediators.russia.guarantor": 0.0,
          "committees.0.trust_prior": 0.001, "committees.0.trust_prior_weight": 1e6},
         "settlement in place", "surrender_evacuation"),
        # evacuation terms fully believed, every believer settling alone: the fighters stay under amnesty
        ({"regime.settlement_max_fighter_share": 0.0, "mediators.russia.guarantor": 1.0,
          "behaviour.amnesty_when_ordered_out": 1.0},
         "evacuation", "reconciliation"),
    ],
)  # fmt: skip
def test_the_class_follows_who_left_not_the_terms_alone(waer, overrides, terms, expected):
    scenario = _with(waer, overrides)
    fighters = scenario.factions[0].fighters.value
    signed = 0
    for model in finished_runs(scenario, 2, 30):
        surrenders = [row for row in events_of(model, "agreement_signed") if row[4].startswith("surrender")]
        if surrenders and model.outcome.outcome in ("surrender_evacuation", "reconciliation"):
            signed += 1
            assert surrenders[-1][4].startswith(f"surrender: {terms}")
            assert model.outcome.outcome == expected
            group = model.groups[0]
            if expected == "reconciliation":
                assert model.outcome.surrender_fighters == group.deal_fighters_leaving == 0
            else:  # (nearly) everyone refused: the belief learnt from kept terms is all that is left
                assert group.deal_fighters_leaving >= 0.95 * group.deal_fighters > 0
                assert model.outcome.surrender_fighters <= fighters
    assert signed


@pytest.mark.parametrize(
    ("terms", "standing"),
    [
        (Terms.SETTLEMENT, 0.8),  # the armed locals stay and settle: the amnesty stands as far as believed
        (Terms.EVACUATION, 0.2),  # the groups ordered out: a quarter of that belief holds for who stays
    ],
)
def test_an_amnesty_stands_for_those_who_stay_as_the_terms_let_it(terms, standing):
    # A credibility of 0.8 and amnesty_when_ordered_out 0.25, by hand: 0.8 under a settlement in place,
    # 0.8 x 0.25 under an evacuation.
    assert amnesty_standing(0.8, terms, 0.25) == pytest.approx(standing)


@pytest.mark.parametrize("weight", [0.0, 8.0])
def test_civilians_register_by_distrust_of_the_amnesty_as_weighted(waer, weight):
    # A hand-made household (no detainee tie, neutral disposition) at leave_threshold 4 registers with
    # probability expit(weight x (1 - standing) - 4): at weight 8 and standing 0.5, expit(0) = a half.
    scenario = _with(waer, {"behaviour.weight_amnesty_distrust": weight, "behaviour.leave_threshold": 4.0})
    group = SiegeModel(scenario, rng=run_seed(1, 0)).groups[0]
    # the town's own households first: with no weight the amnesty does not move them, else distrust does
    if weight:
        assert group.leaving_share(0.2) > group.leaving_share(0.8)
    else:
        assert group.leaving_share(0.2) == group.leaving_share(0.8)
    group.tie, group.disposition, group.share = np.zeros(1), np.zeros(1), np.ones(1)
    expected = 0.5 if weight else 1.0 / (1.0 + math.exp(4.0))
    assert group.leaving_share(0.5) == pytest.approx(expected)


@pytest.mark.parametrize("terms", ["evacuation", "settlement in place"])
@pytest.mark.parametrize(
    ("fighters", "leaving", "expected"),
    [
        (100, 49, "reconciliation"),  # fewer than half left: the armed groups settled in place
        (100, 50, "surrender_evacuation"),  # half or more left: they left as a body
        (1, 0, "reconciliation"),
        (1, 1, "surrender_evacuation"),
    ],
)
def test_a_surrendered_towns_class_is_decided_by_half_of_its_fighters_leaving(
    waer, terms, fighters, leaving, expected
):
    # A hand-made town after a signed surrender: its fighters at the deal and those registered to leave,
    # as sign_surrender records them (per faction, and in all). The terms do not decide it.
    group = SiegeModel(waer.scenario, rng=run_seed(1, 0)).groups[0]
    faction = group.model.factions[0]
    group.status, group.terms = GroupStatus.EVACUATING, Terms(terms)
    group.deal_fighters, group.faction_leavers = fighters, {faction: leaving}
    group.deal_fighters_leaving = leaving
    assert settlement_class(group) == expected


@pytest.mark.parametrize(
    ("terms", "expected"), [("settlement in place", "reconciliation"), ("evacuation", "surrender_evacuation")]
)
def test_a_surrendered_town_without_fighters_takes_the_class_of_its_terms(waer, terms, expected):
    group = SiegeModel(waer.scenario, rng=run_seed(1, 0)).groups[0]
    group.status, group.terms = GroupStatus.EVACUATING, Terms(terms)
    group.deal_fighters = group.deal_fighters_leaving = 0
    group.faction_leavers = {}
    assert settlement_class(group) == expected


def _fighters(convoys):
    return sum(int(row[4].partition("fighters=")[2]) for row in convoys)


def test_the_surrender_counts_its_own_convoys_not_the_truce_waves_before_it(waer):
    """`surrender_evacuated` and `surrender_fighters` count the signed surrender's buses only, as cases do.

    Each convoy names the agreement it serves (docs/events.md): a truce's waves say `truce`, the
    surrender's buses `surrender`, and the run's surrender totals are the sums over the latter.
    """
    both = 0
    for model in finished_runs(waer.scenario, 1, 40):
        rows = model.events.rows
        signed = [
            i for i, row in enumerate(rows) if row[1] == "agreement_signed" and row[4].startswith("surrender")
        ]
        convoys = [i for i, row in enumerate(rows) if row[1] == "evacuation_convoy"]
        surrender = [rows[i] for i in convoys if rows[i][4].startswith("surrender; fighters=")]
        outcome = model.outcome
        assert outcome.surrender_evacuated == sum(row[3] for row in surrender)
        assert outcome.surrender_fighters == _fighters(surrender)
        if not signed or not convoys or convoys[0] > signed[0]:
            continue  # wanted: truce waves, then a surrender
        waves = [rows[i] for i in convoys if i < signed[0]]
        buses = [rows[i] for i in convoys if i > signed[0]]
        fighters_out = {(r[0], r[2]) for r in events_of(model, "term_implemented") if r[4] == "fighters out"}
        assert all((row[0], row[2]) in fighters_out for row in waves)  # these were the truce's waves
        assert all(row[4].startswith("truce; fighters=") for row in waves)
        assert buses == surrender
        both += bool(buses)
        left_on_waves = sum(row[3] for row in waves)
        assert outcome.evacuated == outcome.surrender_evacuated + left_on_waves > outcome.surrender_evacuated
        assert outcome.evacuated_fighters == outcome.surrender_fighters + _fighters(waves)
    assert both >= 3


def test_fighters_leave_their_own_faction_and_settlers_leave_the_count(north_homs):
    """Convoys take a town's leavers off their own factions; fighters who settle are residents after.

    So once every town has settled under surrender deals and the last bus has gone, a faction outside
    every deal (whose fighters all leave) counts none (up to one per town of rounding as fighters are
    spread over towns), and no faction counts fighters who settled in place.
    """
    outsiders = [f.name for f in north_homs.scenario.factions if f.outside_every_deal is not None]
    assert outsiders
    checked = 0
    for model in finished_runs(north_homs.scenario, 5, 30):
        settled_by_deal = all(
            g.settlement in ("surrender_evacuation", "reconciliation") for g in model.groups
        ) and model.control_day is not None
        if not settled_by_deal:
            continue
        checked += 1
        towns = len(model.groups)
        for faction in model.factions:
            assert faction.fighters <= towns, (faction.name, faction.fighters)
    assert checked >= 3


def test_a_bus_takes_each_factions_registered_fighters_in_proportion(north_homs):
    # A hand-made town evacuating 8 registered fighters and no one else, 6 of one faction and 2 of
    # another, and a bus of 4 seats: it takes 3 and 1, off their own factions (not 4 and 0, one faction
    # after the other).
    scenario = _with(north_homs, {"packages.surrender.convoy_capacity": 4})
    model = SiegeModel(scenario, rng=run_seed(1, 0))
    committee = model.committees[0]
    group = committee.groups[0]
    a, b = model.factions[0], model.factions[1]
    before = {a: a.fighters, b: b.fighters}
    group.status, group.terms = GroupStatus.EVACUATING, Terms.EVACUATION
    group.faction_leavers, group.to_leave = {a: 6, b: 2}, 8
    group.deal_fighters = group.deal_fighters_leaving = 8
    model.movement.schedule_convoy(committee, 0)
    model.movement.step(0)
    assert group.faction_leavers == {a: 3, b: 1}
    assert (before[a] - a.fighters, before[b] - b.fighters) == (3, 1)
    assert tuple(events_of(model, "evacuation_convoy")[-1][3:5]) == (4, "surrender; fighters=4")


def test_when_every_town_signs_each_of_its_fighters_is_registered_or_settles(north_homs):
    # A hand-made signing: one fighter in each of two factions, an amnesty nobody believes (both refuse it)
    # and all four towns adopting the terms. Each faction's one leaver falls to Rastan, the largest town,
    # which holds only round(2 x 80,000 / 260,000) = 1 fighter: it registers one and the other, trimmed,
    # lives in a town that signed, so he settles there. No fighter is left free, spread over no town.
    factions = {"factions.FSA battalions.fighters": 1, "factions.Ahrar al-Sham.fighters": 1,
                "factions.HTS.fighters": 0}  # fmt: skip
    model = SiegeModel(_with(north_homs, factions), rng=run_seed(1, 0))
    committee = model.committees[0]
    committee.trust_a = 0.0  # a belief of 0 in the regime's word, and no mediator on the ground
    model.sign_surrender(committee, 1e-9, True, Terms.EVACUATION)
    assert all(g.status is GroupStatus.EVACUATING for g in committee.groups)
    registered = sum(g.fighters_to_leave for g in committee.groups)
    assert registered == 1
    assert sum(f.fighters for f in model.factions) == registered
    assert sum(model.movement.free_fighters_by_faction().values()) == 0


def test_surrender_terms_reach_the_committee_only_through_an_ultimatum(waer):
    # Force at the offensive level, a mediator at every round carrying the regime's preferred package,
    # and no ultimatum ever issued: no round tables surrender terms, so no surrender is ever signed.
    scenario = _with(
        waer,
        {"regime.force_here": 1.0, "regime.ultimatum_rate": 0.0, "mediator.present_at_start": True,
         "mediators.russia.talks_rate": 1.0, "mediators.russia.bias": 1.0},
        [],
    )  # fmt: skip
    for model in finished_runs(scenario, 5, 10):
        assert events_of(model, "talks_held")
        assert not events_of(model, "ultimatum")
        assert not [row for row in events_of(model, "package_offered") if row[4].startswith("surrender")]
        assert not [row for row in events_of(model, "agreement_signed") if row[4].startswith("surrender")]
        assert model.outcome.outcome not in ("surrender_evacuation", "reconciliation")


def test_a_spoiler_attack_under_a_truce_brings_shelling_that_kills(north_homs):
    # The Cairo truce in force; HTS attacks every day; the regime shells back: residents are killed.
    events = [e for e in _events(north_homs) if e["type"] == "outside_agreement"]
    scenario = _with(
        north_homs,
        {"factions.HTS.attack_rate": 1.0, "regime.lethality": 5.0, "committees.0.collapse_tolerance": 1e6,
         "regime.violation_rate": 0.0, "mediators.russia.talks_rate": 0.0},
        events,
    )  # fmt: skip
    model = SiegeModel(scenario, rng=1)
    killed_under_truce = 0
    while model.running:
        before = sum(g.killed for g in model.groups)
        model.step()
        if model.committees[0].phase == "truce":
            killed_under_truce += sum(g.killed for g in model.groups) - before
    assert killed_under_truce > 0


def test_a_corridor_lets_people_flee_and_screening_holds_some(waer):
    events = [{"date": "2016-01-10", "type": "corridor", "days": {"value": 10, "assumed": "test"},
               "detained_share": {"value": 0.3, "assumed": "test"}, "guarantor": "regime"}]  # fmt: skip
    scenario = _with(waer, {"regime.siege_tightness": 1.0, "behaviour.flight_rate": 0.5}, events)
    model = SiegeModel(scenario, rng=4)
    model.run()
    first = (dt.date(2016, 1, 10) - scenario.start).days
    flights = events_of(model, "flight")
    assert flights and all(first <= row[0] < first + 10 for row in flights)
    fled, detained = model.outcome.fled, model.outcome.detained
    assert fled > 0 and detained > 0
    assert 0.2 < detained / (fled + detained) < 0.4


def _corridor(date: str, days: int, detained: float, guarantor: str) -> dict:
    return {"date": date, "type": "corridor", "days": {"value": days, "assumed": "test"},
            "detained_share": {"value": detained, "assumed": "test"}, "guarantor": guarantor}  # fmt: skip


def test_a_corridors_guarantor_counts_only_while_that_mediator_is_present(waer):
    # Waer in Jan 2016: the UN is present, Russia not yet. Russia behind the corridor is then the regime's
    # word alone (the very same runs); the UN behind it, present, makes the crossing more credible.
    settings = {"regime.siege_tightness": 1.0, "behaviour.flight_rate": 0.5}
    fled = {}
    for guarantor in ("regime", "Russia", "UN"):
        scenario = _with(waer, settings, [_corridor("2016-01-10", 10, 0.0, guarantor)])
        fled[guarantor] = [m.outcome.fled for m in finished_runs(scenario, 0, 20)]
    assert fled["Russia"] == fled["regime"]
    assert sum(fled["UN"]) > sum(fled["regime"])


def test_a_new_corridor_does_not_change_the_terms_of_one_still_open(waer):
    # A long corridor without screening, and a one-day one that detains everyone who takes it: once the
    # short one has closed, nobody more is detained on the long one.
    events = [_corridor("2016-01-10", 30, 0.0, "regime"), _corridor("2016-01-12", 1, 1.0, "regime")]
    scenario = _with(waer, {"regime.siege_tightness": 1.0, "behaviour.flight_rate": 0.5}, events)
    closed = (dt.date(2016, 1, 13) - scenario.start).days
    for seed in range(5):
        model = SiegeModel(scenario, rng=seed)
        while model.day < closed:
            model.step()
        detained, fled = sum(g.detained for g in model.groups), sum(g.fled for g in model.groups)
        for _ in range(20):
            model.step()
        assert sum(g.detained for g in model.groups) == detained
        assert sum(g.fled for g in model.groups) > fled


def test_people_who_want_a_way_out_flee_first(waer):
    events = [{"date": "2016-01-10", "type": "corridor", "days": {"value": 20, "assumed": "test"},
               "detained_share": {"value": 0.0, "assumed": "test"}, "guarantor": "regime"}]  # fmt: skip
    scenario = _with(waer, {"behaviour.flight_rate": 0.5, "mediators.russia.talks_rate": 0.0,
                            "mediators.un.talks_rate": 0.0,  # the UN mediates from the start
                            "mediator.direct_talks_rate": 0.0}, events)  # fmt: skip
    model = SiegeModel(scenario, rng=4)
    day = (dt.date(2016, 1, 10) - scenario.start).days
    while model.day < day:
        model.step()
    before = model.groups[0].pressure()
    for _ in range(20):
        model.step()
    assert model.groups[0].fled > 0
    assert model.groups[0].pressure() < before


def test_an_ultimatum_is_weighed_each_day_until_its_terms_are_withdrawn_not_decided_on_its_own_day(waer):
    # Force at the offensive level, no talks at all: only the ultimatum puts terms to the committee, which
    # weighs them in its own phase each day (issue 9 review, finding 1) until they are withdrawn: at the end
    # of the offensive that answers its refusal, since the terms stand through it (ASSAULT9).
    scenario = _with(
        waer,
        {"regime.force_here": 1.0, "committees.0.red_line_firmness": 0.0, "mediator.direct_talks_rate": 0.0,
         "mediators.russia.talks_rate": 0.0, "mediators.un.talks_rate": 0.0,
         "factions.Waer rebels.veto": 0.0},
        [],
    )  # fmt: skip
    window = scenario.regime.ultimatum_days.value
    offsets = []
    for model in finished_runs(scenario, 11, 40):
        issued = [row[0] for row in events_of(model, "ultimatum")]
        ended = [row[0] for row in events_of(model, "offensive_ended")]
        for row in events_of(model, "agreement_signed"):
            if row[4].startswith("surrender"):
                last = max(u for u in issued if u <= row[0])
                assert not [e for e in ended if last < e <= row[0]], f"day {row[0]}: terms withdrawn"
                offsets.append(row[0] - last)
        offered = [row[0] for row in events_of(model, "package_offered") if row[4].startswith("surrender")]
        assert offered == issued  # the ultimatum's own terms, and no others
    assert offsets
    # Weighed on the ultimatum's later days, before its deadline: not decided on its own day (a surrender
    # weeks into the offensive that follows would show nothing about the ultimatum's window).
    assert any(0 < offset < window for offset in offsets)


def test_no_second_surrender_is_tabled_while_an_ultimatum_stands(waer):
    # A mediator at every round, always carrying the regime's terms: while the ultimatum stands it only
    # declares its ceasefire for the talks; the committee weighs the standing terms itself.
    scenario = _with(
        waer,
        {"regime.force_here": 1.0, "mediator.present_at_start": True, "mediators.russia.talks_rate": 1.0,
         "mediators.russia.bias": 1.0, "committees.0.red_line_firmness": 1.0},
        [],
    )  # fmt: skip
    window = scenario.regime.ultimatum_days.value
    for model in finished_runs(scenario, 12, 10):
        issued = [row[0] for row in events_of(model, "ultimatum")]
        tabled = [row for row in events_of(model, "package_offered") if row[4].startswith("surrender")]
        assert issued
        for u in issued:  # in each ultimatum's window, only its own terms, tabled by the regime on its day
            assert [(row[0], row[2]) for row in tabled if u <= row[0] < u + window] == [(u, "regime")]


def _offensive_lengths(scenario, master_seed, runs):
    """Days the first offensive lasts in each run (the campaign's), stepping 120 days."""
    lengths = []
    for i in range(runs):
        model = SiegeModel(scenario, rng=run_seed(master_seed, i))
        committee, days = model.committees[0], 0
        for _ in range(120):
            model.step()
            if model.regime.posture(committee) == "offensive":
                days += 1
            elif days:
                break
        lengths.append(days)
    return lengths


def _campaign_alone(waer, days):
    # Force below the offensive level (no ultimatum follows), no talks: a campaign's offensive runs alone.
    events = [{"date": "2016-01-10", "type": "campaign", "escalation": {"value": 1.0, "assumed": "test"}}]
    return _with(
        waer,
        {"regime.offensive_days": days, "mediator.direct_talks_rate": 0.0, "mediators.russia.talks_rate": 0.0,
         "mediators.un.talks_rate": 0.0},
        events,
    )  # fmt: skip


def test_an_offensive_of_mean_length_one_day_lasts_one_day_from_its_start(waer):
    scenario = _campaign_alone(waer, 1)
    model = SiegeModel(scenario, rng=3)
    on_offensive = []
    for _ in range(60):
        model.step()
        if model.regime.posture(model.committees[0]) == "offensive":
            on_offensive.append(model.day)
    first = (dt.date(2016, 1, 10) - scenario.start).days
    assert on_offensive == [first]


def test_an_offensive_lasts_a_geometric_number_of_days_with_mean_offensive_days(waer):
    # Geometric with mean 8: variance 8 x 7 = 56, so the mean of 200 lengths has standard error 0.53.
    lengths = _offensive_lengths(_campaign_alone(waer, 8), 4, 200)
    assert min(lengths) >= 1
    assert len(set(lengths)) > 5  # the length really is random
    assert abs(sum(lengths) / len(lengths) - 8.0) < 4 * (56 / 200) ** 0.5


def _first_ultimatum_days(scenario, master_seed, runs):
    days = []
    for i in range(runs):
        model = SiegeModel(scenario, rng=run_seed(master_seed, i))
        while model.running and not events_of(model, "ultimatum") and model.day < 300:
            model.step()
        issued = events_of(model, "ultimatum")
        if issued:
            days.append(issued[0][0])
    return days


@pytest.mark.parametrize("rate", [1.0, 0.1])
def test_an_ultimatum_is_issued_at_a_daily_hazard_once_force_allows(waer, rate):
    # Force at the offensive level from the first day, no talks: the first ultimatum's day is geometric
    # from day 0, mean (1 - rate) / rate days (0 at rate 1; 9 at 0.1, sd 9.5, standard error 1.2 over 60).
    scenario = _with(
        waer,
        {"regime.force_here": 1.0, "regime.ultimatum_rate": rate, "mediator.direct_talks_rate": 0.0,
         "mediators.russia.talks_rate": 0.0, "mediators.un.talks_rate": 0.0},
        [],
    )  # fmt: skip
    days = _first_ultimatum_days(scenario, 6, 60)
    assert len(days) == 60
    expected = (1.0 - rate) / rate
    if rate == 1.0:
        assert set(days) == {0}
    else:
        assert len(set(days)) > 5
        assert abs(sum(days) / len(days) - expected) < 4 * ((1.0 - rate) / rate**2 / 60) ** 0.5


def test_a_ceasefire_for_talks_lapses_at_the_ultimatum_deadline_without_a_collapse(waer):
    # A mediator at every round declares its ceasefire for the talks; the committee never accepts, so
    # each ultimatum ends in an offensive: the ceasefire lapses, nothing collapses, trust is untouched.
    scenario = _with(
        waer,
        {"regime.force_here": 1.0, "mediator.present_at_start": True, "mediators.russia.talks_rate": 1.0,
         "mediators.russia.bias": 1.0, "committees.0.red_line_firmness": 1.0, "regime.violation_rate": 0.0,
         "factions.Waer rebels.attack_rate": 0.0, "committees.0.collapse_tolerance": 1e6,
         "detainees.listed": 0, "committees.0.concession_rate": 0.0},
        [],
    )  # fmt: skip
    lapsed = 0
    for model in finished_runs(scenario, 13, 10):
        lapsed += len(events_of(model, "ceasefire_lapsed"))
        assert not [row for row in events_of(model, "ceasefire_collapsed") if row[4] == "regime offensive"]
        assert model.agreements_collapsed == len(events_of(model, "ceasefire_collapsed"))
        assert model.committees[0].trust == scenario.committees[0].trust_prior.value
    assert lapsed > 0


@pytest.mark.parametrize("bar", [0.0, 0.5, 1.0])
def test_a_group_outside_every_deal_makes_an_amnesty_less_likely_not_impossible(north_homs, bar):
    # Few fighters among many people (an amnesty otherwise), one faction outside every deal still inside:
    # the regime bars an amnesty in a share `bar` of runs (binomial, 400 runs), and within a run its
    # choice holds at every round of terms (a policy for the siege, drawn once per run).
    from scipy.stats import binomtest

    scenario = _with(north_homs, {"regime.outside_group_bars_amnesty": bar,
                                   "regime.settlement_max_fighter_share": 1.0}, [])  # fmt: skip
    evacuations = 0
    for seed in range(400):
        model = SiegeModel(scenario, rng=seed)
        choices = {model.regime.choose_terms() for _ in range(20)}
        assert len(choices) == 1
        evacuations += choices == {"evacuation"}
    if bar in (0.0, 1.0):
        assert evacuations == 400 * bar
    else:
        assert binomtest(evacuations, 400, bar).pvalue > 1e-4
    assert SiegeModel(scenario, rng=3).regime.bars_amnesty == SiegeModel(scenario, rng=3).regime.bars_amnesty


def test_a_spoiler_attack_under_siege_brings_shelling_that_kills_the_same_day(north_homs):
    # No bombardment at all but the answer to HTS's attacks: residents are killed on the first day.
    scenario = _with(
        north_homs,
        {"factions.HTS.attack_rate": 1.0, "regime.lethality": 5.0, "regime.baseline_escalation": 0.0,
         "mediators.russia.talks_rate": 0.0, "mediator.direct_talks_rate": 0.0},
        [],
    )  # fmt: skip
    for seed in range(5):
        model = SiegeModel(scenario, rng=seed)
        model.step()
        assert model.committees[0].phase == "siege"
        assert events_of(model, "escalation")
        assert sum(g.killed for g in model.groups) > 0


@pytest.mark.parametrize("fighters", [0, 60000])
def test_fighters_do_not_flee_through_a_corridor(waer, fighters):
    events = [{"date": "2016-01-10", "type": "corridor", "days": {"value": 20, "assumed": "test"},
               "detained_share": {"value": 0.0, "assumed": "test"}, "guarantor": "regime"}]  # fmt: skip
    scenario = _with(
        waer,
        {"behaviour.flight_rate": 1.0, "factions.Waer rebels.fighters": fighters,
         "behaviour.family_per_fighter": 0.0, "mediators.russia.talks_rate": 0.0,
         "mediators.un.talks_rate": 0.0, "mediator.direct_talks_rate": 0.0},
        events,
    )  # fmt: skip
    model = SiegeModel(scenario, rng=4)
    model.run()
    people_left = sum(g.fled + g.detained for g in model.groups)
    if fighters:  # everyone inside is a fighter: nobody may leave through the lines
        assert people_left == 0
    else:
        assert people_left > 0


def test_a_truces_later_waves_of_fighters_wait_for_its_releases(waer):
    """Departures and releases are staged against each other (docs/model.md, "Truce").

    The first wave leaves the day after signing; later ones only after the last release stage has fallen due.
    """
    terms = waer.scenario.packages.truce
    later = 0
    for model in finished_runs(waer.scenario, 2, 40):
        signed = [(row[0], row[3]) for row in events_of(model, "agreement_signed") if row[4] == "truce"]
        waves = [row[0] for row in events_of(model, "term_implemented") if row[4] == "fighters out"]
        for i, (day, release) in enumerate(signed):
            end = signed[i + 1][0] if i + 1 < len(signed) else math.inf
            own = [w for w in waves if day < w < end]
            if not own or not release:
                continue
            assert own[0] == day + 1
            assert all(w > day + terms.release_due_days.value for w in own[1:])
            later += len(own) > 1
    assert later >= 3  # runs where a truce lived past its releases and sent more fighters out


# ---------------------------------------------------------------- COERCE9: stands taken once per set of terms


def _tabled(number):
    from simkit.model.negotiation import TabledTerms

    return TabledTerms(number, Terms.EVACUATION)


@pytest.mark.parametrize(
    ("firmness", "pressure"), [(0.0, 0.0), (0.3, 0.0), (1.0, 0.0), (1.0, 0.5), (0.6, 0.5)]
)
def test_a_committee_takes_its_stand_on_its_red_line_once_per_set_of_terms(waer, firmness, pressure):
    """Its stand on a set of terms is kept while they stand; each new tabling is a new draw.

    On day 0 no ultimatum stands (T = 0), so it holds with probability firmness x (1 - pressure).
    Two tablings of the same terms on the same day are different tablings (their numbers differ).
    """
    from simkit.model.negotiation import RedLineStand

    scenario = with_overrides(waer.scenario, {"committees.0.red_line_firmness": firmness})
    committee = SiegeModel(scenario, rng=7).committees[0]
    stands = []
    for number in range(1, 401):
        tabled = _tabled(number)
        stand = committee.stand_on_red_line(tabled, pressure)
        assert all(committee.stand_on_red_line(tabled, 1.0 - pressure) is stand for _ in range(20))  # kept
        stands.append(stand is RedLineStand.DROP)
    share = float(np.mean(stands))  # 400 tablings: standard error at most 0.025
    holds = firmness * (1.0 - pressure)
    assert abs(share - (1.0 - holds)) < 4 * math.sqrt(holds * (1 - holds) / 400) + 1e-12


@pytest.mark.parametrize(("firmness", "pressure"), [(1.0, 0.0), (0.6, 0.5)])
def test_the_threat_behind_the_terms_weakens_the_committees_stand_on_its_red_line(waer, firmness, pressure):
    """Under an ultimatum, force above the offensive level: it holds with probability f x (1 - p) x (1 - T).

    Force twice the offensive level: the believed chance an assault takes the area is
    T = 1 - exp(-surplus / offensive level) = 1 - 1/e (docs/model.md, "Coercion"), so at firmness 1 and no
    pressure about 63% of tablings drop the red line, where without the ultimatum none would.
    """
    from simkit.model.negotiation import RedLineStand

    offensive = waer.scenario.regime.force_for_offensive.value
    overrides = {"committees.0.red_line_firmness": firmness, "regime.force_here": 2 * offensive}
    model = SiegeModel(with_overrides(waer.scenario, overrides), rng=11)
    committee = model.committees[0]
    model.regime.ultimatum_due[committee] = 7  # terms with a deadline stand: the threat is felt
    drops = [committee.stand_on_red_line(_tabled(n), pressure) is RedLineStand.DROP for n in range(1, 401)]
    holds = firmness * (1.0 - pressure) * math.exp(-1.0)  # 1 - T = 1/e
    share = float(np.mean(drops))  # 400 tablings: standard error at most 0.025
    assert abs(share - (1.0 - holds)) < 4 * math.sqrt(holds * (1 - holds) / 400)
    assert abs(share - (1.0 - firmness * (1.0 - pressure))) > 0.15  # the threat's factor is not 1


def test_a_faction_resists_a_set_of_terms_once_and_rising_pressure_overrides_it(waer):
    """A veto is a position on a tabling: the same answer each day at one pressure, none at full pressure.

    Over tablings, the share vetoed at pressure p is veto x (1 - p) (Waer's rebels: 0.3).
    """
    model = SiegeModel(waer.scenario, rng=8)
    faction, committee = model.factions[0], model.committees[0]
    veto = faction.spec.veto.value
    vetoed = {0.0: 0, 0.5: 0}
    for number in range(1, 601):
        tabled = _tabled(number)
        for pressure in vetoed:
            answer = faction.vetoes(committee, tabled, pressure)
            assert all(faction.vetoes(committee, tabled, pressure) is answer for _ in range(10))
            vetoed[pressure] += answer
        assert not faction.vetoes(committee, tabled, 1.0)  # full pressure overrides any resistance
        # the resistance is one draw: vetoing at a higher pressure implies vetoing at a lower one
        assert faction.vetoes(committee, tabled, 0.0) >= faction.vetoes(committee, tabled, 0.5)
    for pressure, count in vetoed.items():
        expected = veto * (1 - pressure)
        assert abs(count / 600 - expected) < 4 * math.sqrt(expected * (1 - expected) / 600)


def test_a_surrender_signed_under_a_truce_ends_it_in_the_log(waer):
    """The log tells every truce's end: one in force at a surrender's signing lapses right after the signing.

    Waer's surrenders are mostly signed under a truce (the ceasefire for the talks, or the Aug 2016 truce):
    before COERCE9 the truce ended with no event (60 of 100 surrenders, assault9 review MED-6). No collapse
    is counted for it.
    """
    superseded = 0
    for model in finished_runs(waer.scenario, 3, 12):
        rows = model.events.rows
        in_truce = False
        for i, (_, kind, _, _, detail) in enumerate(rows):
            signed_truce = kind == "agreement_signed" and detail in ("truce", "outside")
            if kind == "ceasefire_declared" or signed_truce:
                in_truce = True
            elif kind in ("ceasefire_collapsed", "ceasefire_lapsed"):
                assert in_truce, rows[i]
                in_truce = False
            elif kind == "agreement_signed" and detail.startswith("surrender") and in_truce:
                lapse = ("ceasefire_lapsed", rows[i][2], 0, "superseded by surrender")
                assert rows[i + 1][1:] == lapse
                superseded += 1
        assert in_truce is (model.committees[0].phase == "truce")  # the log says the truce's state
        assert model.agreements_collapsed == len(events_of(model, "ceasefire_collapsed"))
    assert superseded > 0


def test_a_truce_signed_during_an_offensive_ends_the_offensive_and_its_terms(north_homs):
    """The regime that signs a truce (here the Cairo deal, 2 Aug 2017) stops its offensive on the area."""
    events = [e for e in _events(north_homs) if e["type"] == "outside_agreement"]
    events.append({"date": "2017-07-20", "type": "campaign", "escalation": {"value": 1.0, "assumed": "test"}})
    scenario = _with(north_homs, {"regime.force_here": 1.5, "regime.offensive_days": 3_650}, events)
    cairo = (dt.date(2017, 8, 2) - scenario.start).days
    checked = 0
    for i in range(6):
        model = SiegeModel(scenario, rng=run_seed(4, i))
        while model.running and model.day < cairo:
            model.step()
        committee = model.committees[0]
        if not model.running or committee.phase != "truce":
            continue  # settled before the deal, or not under siege that day (no outsiders' deal then)
        checked += 1
        today = [row[1:] for row in model.events.rows if row[0] == cairo]
        signed = [row[0] == "agreement_signed" and row[3] == "outside" for row in today].index(True)
        assert today[signed + 1] == ("ceasefire_declared", committee.name, 0, "outside")
        assert today[signed + 2] == ("offensive_ended", "regime", 0, committee.name)
        regime = model.regime
        assert committee not in regime.offensive_until
        # the campaign's terms are withdrawn; any standing now are a new ultimatum's (the regime may issue
        # one later the same day, at `ultimatum_rate`: the truce does not stop it demanding surrender)
        assert committee not in regime.standing_terms or committee in regime.ultimatum_due
    assert checked
