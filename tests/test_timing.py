"""When runs end: endings with dates, unresolved runs censored, cumulative incidence by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from simkit.model import ATTRIBUTES
from simkit.summary import summarize
from simkit.timing import cumulative_incidence, ending_times, timing_rows, unresolved

START = dt.date(2020, 1, 1)


def runs_table(outcomes, days, deal_days=None):
    table = pd.DataFrame(
        {
            "run": range(len(outcomes)),
            "outcome": outcomes,
            "outcome_day": days,
            "outcome_date": [START + dt.timedelta(days=d) for d in days],
        }
    )
    if deal_days is not None:
        table["deal_day"] = pd.array(deal_days, dtype="Int64")
    return table


def test_cumulative_incidence_matches_a_hand_computation():
    # Four runs: surrender on day 1, unresolved (censored) on day 2, takeover and surrender on day 3.
    # Aalen-Johansen: day 1, 1 of 4 at risk ends -> surrender 1/4, all-cause survival 3/4; day 2 the
    # censored run leaves the risk set; day 3, 2 at risk both end -> each ending adds 3/4 x 1/2.
    runs = runs_table(["surrender_evacuation", "stalemate", "military_takeover", "surrender_evacuation"],
                      [1, 2, 3, 3])  # fmt: skip
    table = cumulative_incidence(runs).set_index(["ending", "day"])["incidence"]
    assert table["surrender_evacuation", 1] == pytest.approx(0.25)
    assert table["surrender_evacuation", 3] == pytest.approx(0.25 + 0.375)
    assert table["military_takeover", 3] == pytest.approx(0.375)
    assert (table["reconciliation"] == 0).all()
    assert table["surrender_evacuation", 0] == 0


def test_one_ending_alone_is_one_minus_kaplan_meier():
    runs = runs_table(["surrender_evacuation", "stalemate", "surrender_evacuation"], [1, 2, 3])
    table = cumulative_incidence(runs).set_index(["ending", "day"])
    # day 1: 1 of 3 ends (1/3); day 3: the one left at risk ends: 1/3 + 2/3 x 1 = 1
    assert table.loc[("surrender_evacuation", 1), "incidence"] == pytest.approx(1 / 3)
    assert table.loc[("surrender_evacuation", 3), "incidence"] == pytest.approx(1.0)
    low, high = table.loc[("surrender_evacuation", 1), ["low", "high"]]
    assert 0 < low < 1 / 3 < high < 1


def test_unresolved_runs_are_censored_not_ending_at_the_horizon():
    runs = runs_table(["stalemate", "durable_ceasefire", "surrender_evacuation", "reconciliation"],
                      [99, 99, 40, 60])  # fmt: skip
    times = ending_times(runs)
    assert times["censored"].tolist() == [True, True, False, False]
    rows = {row["ending"]: row for row in timing_rows(runs)}
    assert rows["any ending"]["runs"] == 2 and rows["any ending"]["day_p90"] == 60
    assert rows["military_takeover"]["date_p50"] is None
    assert unresolved(runs, None) == (2, 0.5, START + dt.timedelta(days=99))


def test_runs_are_censored_at_the_scenarios_horizon_even_when_every_run_ended_before_it():
    # every run ended (the last deal on day 60); the scenario ran to day 120: that is the horizon,
    # not the latest deal date
    runs = runs_table(["surrender_evacuation", "reconciliation"], [40, 60])
    runs["partial_release"] = False
    for name in ATTRIBUTES:
        if name not in runs:
            runs[name] = 0
    end = START + dt.timedelta(days=120)
    assert unresolved(runs, end) == (0, 0.0, end)
    assert summarize(runs, end.isoformat())["timing"]["unresolved"]["censored_at"] == end.isoformat()


def test_the_deal_day_is_the_ending_time_where_the_runs_have_it():
    runs = runs_table(["surrender_evacuation", "stalemate"], [99, 99], deal_days=[70, None])
    times = ending_times(runs)
    assert times["day"].tolist() == [70, 99] and times["censored"].tolist() == [False, True]
    assert times["date"].iloc[0] == START + dt.timedelta(days=70)


def test_summary_timing_counts_every_run_once():
    runs = runs_table(["stalemate", "surrender_evacuation", "military_takeover", "surrender_evacuation"],
                      [99, 10, 20, 30])  # fmt: skip
    runs["partial_release"] = False
    for name in ATTRIBUTES:
        if name not in runs:
            runs[name] = 0
    timing = summarize(runs)["timing"]
    endings = timing["endings"]
    assert endings["any ending"]["runs"] + timing["unresolved"]["runs"] == len(runs)
    assert sum(endings[k]["runs"] for k in endings if k != "any ending") == endings["any ending"]["runs"]
    assert endings["surrender_evacuation"]["date_p50"] == "2020-01-11"
