"""Deal and control dates: when the ending was decided and when the regime took control, per run."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from simkit.ensemble import run_ensemble
from simkit.scenario import load_scenario
from simkit.single_run import runs_table
from tests.conftest import WAER

SETTLED = ("surrender_evacuation", "reconciliation", "military_takeover")


def _check_dates(runs: pd.DataFrame, start: dt.date) -> None:
    settled = runs["outcome"].isin(SETTLED)
    assert runs.loc[settled, "deal_day"].notna().all(), "every settled-class run has a deal day"
    assert runs.loc[~settled, ["deal_day", "deal_date", "control_day", "control_date"]].isna().all().all()
    dealt = runs[runs["deal_day"].notna()]
    assert (dealt["deal_day"] <= dealt["outcome_day"]).all()
    controlled = runs[runs["control_day"].notna()]
    assert (controlled["deal_day"] <= controlled["control_day"]).all()
    assert (controlled["control_day"] <= controlled["outcome_day"]).all()
    for day, date in (("deal_day", "deal_date"), ("control_day", "control_date")):
        both = runs[runs[day].notna()]
        expected = [start + dt.timedelta(days=int(d)) for d in both[day]]
        assert list(both[date]) == expected


@pytest.fixture(scope="module")
def waer_runs(waer):
    return run_ensemble(waer, 200, seed=3)


def test_waer_deal_and_control_dates_are_ordered(waer, waer_runs):
    runs = waer_runs.runs
    assert runs["outcome"].isin(SETTLED).any() and runs["control_day"].notna().any()
    _check_dates(runs, waer.scenario.start)


def test_deal_day_is_the_signing_or_the_takeover_in_the_event_log(waer_runs):
    """One town: the deal day is the day its surrender was signed, or the day it was taken."""
    runs, events = waer_runs.runs, waer_runs.events
    signed = events[(events["type"] == "agreement_signed") & events["detail"].str.startswith("surrender")]
    taken = events[(events["type"] == "control") & events["detail"].str.endswith("military_takeover")]
    first = pd.concat([signed, taken]).groupby("run")["day"].min()
    dealt = runs[runs["deal_day"].notna()].set_index("run")["deal_day"]
    assert len(dealt) > 0
    expected = first.reindex(dealt.index).astype(int)
    pd.testing.assert_series_equal(dealt.astype(int), expected, check_names=False)


def test_buses_running_at_the_horizon_give_a_deal_but_no_control(waer):
    """Cut the horizon short: settled-class runs still evacuating end at the horizon without control."""
    short = load_scenario(WAER, {"horizon_days": 470})
    runs = run_ensemble(short, 200, seed=3).runs
    _check_dates(runs, short.scenario.start)
    open_ended = runs[runs["outcome"].isin(SETTLED) & runs["control_day"].isna()]
    assert len(open_ended) > 0
    assert (open_ended["outcome_day"] == 470 - 1).all()
    assert open_ended["deal_day"].notna().all()


def test_several_towns_keep_the_order(north_homs):
    runs = run_ensemble(north_homs, 100, seed=2).runs
    _check_dates(runs, north_homs.scenario.start)


def test_runs_table_keeps_nullable_types_when_no_run_has_a_deal():
    rows = [{"run": 0, "deal_day": None, "deal_date": None, "control_day": None, "control_date": None}]
    table = runs_table(rows)
    assert table.schema.field("deal_day").type == pa.int64()
    assert table.schema.field("deal_date").type == pa.date32()
    dealt = runs_table([{**rows[0], "deal_day": 3, "deal_date": dt.date(2017, 3, 13)}])
    assert pa.concat_tables([table, dealt]).column("deal_day").to_pylist() == [None, 3]
