"""Comparing runs with a documented trajectory: the sequence rule, censoring, the distance, and the CLI."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from simkit.calibration import load_trajectory
from simkit.calibration.compare import compare
from simkit.calibration.summary_stats import (
    QUANTITIES,
    Targets,
    detail_word,
    match_events,
    observed_statistics,
    reorder_dates,
    summary_statistics,
    trajectory_from_run,
)
from simkit.cli import app
from simkit.ensemble import run_ensemble
from simkit.single_run import run_seed, simulate
from simkit.yamlio import InputError
from tests.conftest import NORTH_HOMS, ROOT, WAER

WAER_TRAJECTORY = ROOT / "calibration" / "waer_trajectory.yaml"
NORTH_HOMS_TRAJECTORY = ROOT / "calibration" / "north_homs_trajectory.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def trajectory():
    return load_trajectory(WAER_TRAJECTORY)


@pytest.fixture(scope="module")
def targets(trajectory, waer):
    return Targets.build(trajectory, waer.scenario)


def _day(targets, iso: str) -> int:
    import datetime as dt

    return (dt.date.fromisoformat(iso) - targets.start).days


def test_detail_is_matched_by_its_first_word():
    assert detail_word("surrender; detainee release dropped") == "surrender"
    assert detail_word("truce") == "truce"
    assert detail_word("") is None and detail_word(None) is None


def test_key_events_follow_the_documented_sequence(targets):
    """The second deal is the first truce after the collapse, not the first truce of the run."""
    rows = [
        (10, "agreement_signed", "c", 140, "truce"),
        (40, "detainees_released", "regime", 30, "c"),
        (100, "ceasefire_collapsed", "c", 0, "release reneged"),
        (150, "agreement_signed", "c", 140, "truce"),
        (160, "detainees_released", "regime", 90, "c"),
        (331, "aid_cut", "regime", 0, ""),
        (363, "mediator_entry", "Russia", 0, ""),
        (460, "ceasefire_declared", "c", 0, "ceasefire"),
        (466, "agreement_signed", "c", 20000, "surrender; detainee release dropped"),
        (471, "evacuation_convoy", "c", 2000, "surrender; fighters=300"),
        (479, "evacuation_convoy", "c", 2000, "surrender; fighters=300"),
        (540, "control", "regime", 40000, "Waer: surrender_evacuation"),
    ]
    days = match_events(targets, rows)
    assert days["first_truce"] == 10 and days["truce_release"] == 40
    assert days["truce_collapse"] == 100
    assert days["second_deal"] == 150 and days["token_release"] == 160
    assert days["mediator_entry"] == 363 and days["aid_cut"] == 331
    assert days["ceasefire"] == 460 and days["surrender_agreement"] == 466
    assert days["first_convoy"] == 471 and days["second_convoy"] == 479  # ordinals count from the surrender
    assert days["third_convoy"] is None
    assert days["control"] == 540


def test_the_first_ten_convoys_are_the_surrender_buses_named_in_the_log():
    """A truce's waves (before the surrender, or another committee's after it) are not its buses."""
    bus = [(20 + day, "evacuation_convoy", "a", 1000, "surrender; fighters=100") for day in range(12)]
    rows = [
        (5, "evacuation_convoy", "a", 300, "truce; fighters=100"),  # the truce's wave before it was signed
        (10, "agreement_signed", "a", 12000, "surrender: evacuation"),
        *bus[:3],
        (23, "evacuation_convoy", "b", 500, "truce; fighters=200"),  # another committee's truce wave
        *bus[3:],
    ]
    read = QUANTITIES["first_ten_convoys_people"].read
    assert read(rows, {}) == 10 * 1000
    assert read([r for r in rows if not r[4].startswith("surrender")], {}) == 0


def test_convoys_that_do_not_name_their_agreement_are_refused_not_read_as_none():
    """An older simkit's log (`fighters=N` alone) would otherwise read 0 people on the surrender's buses."""
    rows = [
        (10, "agreement_signed", "a", 12000, "surrender: evacuation"),
        (20, "evacuation_convoy", "a", 1000, "fighters=100"),
    ]
    with pytest.raises(InputError, match=r"^events written by an older simkit: convoys do not name their "
                       r"agreement; rerun with --overwrite$"):  # fmt: skip
        QUANTITIES["first_ten_convoys_people"].read(rows, {})


def test_a_run_without_the_events_is_censored_not_dropped(targets):
    run = {
        "outcome": "stalemate",
        "released": 0,
        "released_share": 0.0,
        "listed": 7360,
        "population": 60000,
        "surrender_fighters": 0,
        "surrender_evacuated": 0,
    }
    stats = summary_statistics(targets, [], run)
    assert set(stats) == set(observed_statistics(targets))  # nothing dropped
    for target in targets.key_events:
        assert stats[f"{target.id}.happened"] == 0.0
        # censored at the horizon: later than any date a run can have
        assert stats[f"{target.id}.offset_days"] == targets.horizon - target.last_day > 0
    assert stats["outcome.match"] == 0.0
    assert stats["detainees_released_total.offset"] < 0  # below the documented 229


def test_an_event_inside_its_window_scores_zero_and_outside_by_days(targets):
    truce = next(t for t in targets.key_events if t.id == "first_truce")  # window: Dec 2015
    assert truce.offset(truce.first_day) == truce.offset(truce.last_day) == 0
    assert truce.offset(truce.last_day + 12) == 12 and truce.offset(truce.first_day - 3) == -3


def test_a_trajectory_outside_the_scenario_period_is_refused(trajectory, north_homs):
    with pytest.raises(InputError, match="no event in the scenario"):
        Targets.build(trajectory, north_homs.scenario)


def _synthetic(trajectory, waer, start_seed: int = 100):
    """A trajectory written by the model itself: the first run with at least four of Waer's key events.

    The events must fall on distinct dates: two events on one day (a ceasefire declared and the
    surrender signed together) have no order, so "the order reversed" would not be defined.
    """
    for i in range(50):
        record = simulate(waer.scenario, run_seed(start_seed, i), i)
        rows = [event[1:2] + event[3:] for event in record.events]
        try:
            synthetic = trajectory_from_run(trajectory, waer.scenario, rows, record.run, f"run {i}")
        except InputError:
            continue
        dates = [e.date for e in synthetic.events]
        if len(synthetic.key_events()) >= 4 and len(set(dates)) == len(dates):
            return synthetic
    pytest.fail("no run with four key events on distinct dates in 50 runs")


def test_the_model_own_trajectory_scores_better_than_the_same_events_shuffled(trajectory, waer):
    synthetic = _synthetic(trajectory, waer)
    n = len(synthetic.events)
    shuffled = reorder_dates(synthetic, list(reversed(range(n))))  # every event moved, the sequence reversed
    assert [e.id for e in shuffled.events] == [e.id for e in reversed(synthetic.events)]
    ensemble = run_ensemble(waer, 200, seed=7)
    own = compare(synthetic, waer.scenario, ensemble.runs, ensemble.events)
    other = compare(shuffled, waer.scenario, ensemble.runs, ensemble.events)
    assert 0.0 <= own.distance <= 1.0 and 0.0 <= other.distance <= 1.0
    assert own.parts["dates"] < other.parts["dates"]
    assert own.distance < other.distance
    # the quantities and outcome do not depend on event order
    assert own.parts["quantities"] == pytest.approx(other.parts["quantities"])
    assert own.parts["outcome"] == pytest.approx(other.parts["outcome"])


def test_comparison_reports_every_event_quantity_and_the_outcome(trajectory, waer):
    ensemble = run_ensemble(waer, 60, seed=3)
    result = compare(trajectory, waer.scenario, ensemble.runs, ensemble.events)
    assert list(result.events["id"]) == trajectory.ids()  # every Waer event is inside the scenario period
    assert result.events["share_happened"].between(0, 1).all()
    happened = result.events[result.events["share_happened"] > 0]
    assert (happened["p10"] <= happened["median"]).all() and (happened["median"] <= happened["p90"]).all()
    assert {"evacuated_total", "detainees_released_total", "population"} <= set(result.quantities["quantity"])
    assert result.outcome["documented"] == "surrender_evacuation"
    assert sum(result.outcome["shares"].values()) == pytest.approx(1.0)
    assert result.skipped["quantities"] == ["fighters_stayed"]  # documented, but the model does not track it
    json.dumps(result.to_json())  # JSON-ready


def test_an_open_case_has_no_outcome_part(north_homs):
    ensemble = run_ensemble(north_homs, 20, seed=1)
    result = compare(
        load_trajectory(NORTH_HOMS_TRAJECTORY), north_homs.scenario, ensemble.runs, ensemble.events
    )
    assert result.parts["outcome"] is None and not np.isnan(result.distance)
    assert "de_escalation_zone" in result.skipped["events"]  # May 2017, before the scenario starts


# ---------------------------------------------------------------- the command


def test_compare_command_writes_tables_figures_and_the_distance(tmp_path):
    out = tmp_path / "cmp"
    result = runner.invoke(
        app,
        ["compare", str(WAER), "--against", str(WAER_TRAJECTORY), "--runs", "30", "--out", str(out)],
        env={"COLUMNS": "80"},  # a pipe, a log or CI
    )
    assert result.exit_code == 0, result.output
    assert "distance D =" in result.output and "surrender_agreement" in result.output
    assert "warning" not in result.stderr  # Waer's scenario against Waer's record
    tables = [line for line in result.stdout.splitlines() if not line.startswith("wrote ")]
    assert max(map(len, tables)) <= 80 and "…" not in result.stdout  # nothing cut at 80 columns
    first = next(line for line in tables if line.startswith("first_evacuation"))
    assert len(re.findall(r"\d{4}-\d\d-\d\d", first)) >= 3  # documented, median, interval start: whole
    for name in (
        "comparison.json",
        "compare_events.csv",
        "compare_quantities.csv",
        "compare_events.png",
        "compare_fan.png",
        "runs.parquet",
        "events.parquet",
        "manifest.json",
    ):
        assert (out / name).stat().st_size > 0, name
    report = json.loads((out / "comparison.json").read_text())
    assert report["runs"] == 30 and 0 <= report["distance"] <= 1


def test_compare_command_bad_input_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad_trajectory.yaml"
    bad.write_text(WAER_TRAJECTORY.read_text().replace("type: control", "type: conquest", 1))
    result = runner.invoke(
        app, ["compare", str(WAER), "--against", str(bad), "-n", "5", "-o", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "bad_trajectory.yaml:" in result.stderr and "type" in result.stderr
    assert "Traceback" not in result.output
    mismatched = runner.invoke(
        app,
        ["compare", str(NORTH_HOMS), "--against", str(WAER_TRAJECTORY), "-n", "5", "-o", str(tmp_path / "m")],
    )
    assert mismatched.exit_code == 2 and "no event in the scenario" in mismatched.stderr
    assert not (tmp_path / "m").exists()  # refused before running anything
    missing = runner.invoke(app, ["compare", str(WAER), "-n", "5"])
    assert missing.exit_code == 2 and "--against" in missing.output


def test_fan_chart_draws_the_record_at_its_documented_heights_and_dates(targets):
    """Figures at their running totals with the sources' range; events without a figure at their date only."""
    import datetime as dt

    import matplotlib.pyplot as plt
    import pandas as pd

    from simkit.calibration.figures import plot_fan_with_record
    from simkit.model.events import EventType

    runs = pd.DataFrame({"run": [0, 1]})
    events = pd.DataFrame(columns=["run", "day", "date", "type", "actor", "count", "detail"])
    ax = plot_fan_with_record(targets, runs, events, EventType.EVACUATION_CONVOY, "people", plt.subplots()[1])
    assert "people" in ax.get_ylabel() and ax.get_xlabel() == "date"
    convoys = [t.event for t in targets.events if t.event.type == EventType.EVACUATION_CONVOY]
    without = [e for e in convoys if e.people is None and getattr(e, "cumulative_people", None) is None]
    assert without  # the premise: Waer has convoys documented without a number of people
    dotted = [line for line in ax.lines if line.get_linestyle() == ":"]
    assert len(dotted) == len(without)
    when = {pd.Timestamp(line.get_xdata()[0]).date() for line in dotted}
    assert when == {e.window()[0] + (e.window()[1] - e.window()[0]) / 2 for e in without}
    # the first evacuation (9 Dec 2015): 700-770 people by the sources, drawn at 735 with a bar of ±35
    bars = ax.containers[0]
    x, y = bars.lines[0].get_data()
    assert pd.Timestamp(x[0]).date() == dt.date(2015, 12, 9) and y[0] == pytest.approx(735)
    (segments,) = bars.lines[2]
    assert segments.get_segments()[0][:, 1] == pytest.approx([700, 770])
    plt.close(ax.figure)


def test_a_record_of_another_place_warns_in_one_line_but_runs(tmp_path):
    daraya = ROOT / "calibration" / "daraya_trajectory.yaml"  # 2016: inside Waer's period
    command = ["compare", str(WAER), "--against", str(daraya), "-n", "3", "-q", "--no-plots"]
    result = runner.invoke(app, [*command, "-o", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("warning:") and "'Waer'" in line and "'daraya'" in line and "another place" in line


@pytest.mark.parametrize(
    ("case", "names", "other"),
    [
        ("waer", ("Waer", "waer"), False),
        ("waer", ("Waer (what-if)", "waer_leverage"), False),
        ("waer", ("Whatever", "waer_calibrated"), False),  # the file stem names it
        ("north_homs", ("North Homs", "north_homs"), False),
        ("north_homs", ("Old Homs", "old_homs"), True),
        ("daraya", ("Waer", "waer"), True),
    ],
)
def test_same_place_is_every_word_of_the_case_in_a_name(case, names, other):
    from simkit.calibration.compare import another_place

    assert another_place(case, *names) is other
