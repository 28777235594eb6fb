"""Forecasts on a posterior: draws by weight from (seed, run) alone, worker-count invariance, bad files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from simkit.calibration.forecast import BEHAVIOURAL, draw_particle, load_posterior, run_forecast
from simkit.calibration.priors import set_parameters
from simkit.cli import app
from simkit.ensemble import run_ensemble
from simkit.scenario import LoadedScenario, load_scenario, scenario_hash, with_overrides
from simkit.summary import summarize
from simkit.yamlio import InputError
from tests.conftest import WAER

runner = CliRunner()

# Four particles with distinct values; the last has weight 0 and must never be drawn. Two columns are
# not behavioural (a deal term, case-specific evidence) and must be left as the scenario has them.
PARTICLES = {
    "regime.implementation": [0.2, 0.5, 0.8, 0.95],
    "mediators.russia.leverage": [0.01, 0.1, 0.25, 0.3],
    "behaviour.leave_threshold": [2.0, 4.0, 6.0, 7.0],
    "committees.0.concession_rate": [0.1, 0.5, 2.0, 3.0],
    "packages.truce.release_due_days": [40.4, 60.6, 100.2, 120.0],
    "committees.0.red_line_firmness": [0.3, 0.5, 0.9, 0.95],
    "weight": [0.5, 0.3, 0.2, 0.0],
}
SHORT = {"horizon_days": 420}  # a shorter Waer: the tests are about bookkeeping, not the ending


@pytest.fixture(scope="module")
def posterior_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("posterior") / "posterior.parquet"
    pd.DataFrame(PARTICLES).to_parquet(path, index=False)
    return path


@pytest.fixture(scope="module")
def short_waer(waer) -> LoadedScenario:
    scenario = with_overrides(waer.scenario, SHORT)
    return LoadedScenario(scenario, waer.path, dict(SHORT), scenario_hash(scenario))


@pytest.fixture(scope="module")
def serial(short_waer, posterior_file):
    return run_forecast(short_waer, load_posterior(posterior_file), 40, seed=5, workers=1)


def test_draws_follow_the_weights_and_depend_on_seed_and_run_only():
    weights = np.array(PARTICLES["weight"])
    cumulative = np.cumsum(weights)
    draws = np.array([draw_particle(cumulative, 9, i) for i in range(4000)])
    assert 3 not in draws  # weight 0
    counts = np.bincount(draws, minlength=4)[:3]
    expected = 4000 * weights[:3]
    assert np.all(np.abs(counts - expected) < 4 * np.sqrt(expected * (1 - weights[:3])))
    # a run's draw is a function of (seed, run): the same in any order, different under another seed
    assert [draw_particle(cumulative, 9, i) for i in (7, 3, 7)] == [draws[7], draws[3], draws[7]]
    assert [draw_particle(cumulative, 10, i) for i in range(50)] != list(draws[:50])


def test_same_result_with_one_and_two_workers(short_waer, posterior_file, serial):
    pooled = run_forecast(short_waer, load_posterior(posterior_file), 40, seed=5, workers=2, batch_size=10)
    pd.testing.assert_frame_equal(serial.runs, pooled.runs)
    pd.testing.assert_frame_equal(serial.events, pooled.events)
    assert serial.summary == pooled.summary


def test_drawn_values_come_from_the_posterior_and_only_behavioural_ones_move(short_waer, serial):
    runs = serial.runs
    drawn = [p for p in BEHAVIOURAL if p in PARTICLES]
    assert serial.manifest["drawn_parameters"] == [p for p in PARTICLES if p in drawn]
    assert set(serial.manifest["not_drawn"]) == {
        "packages.truce.release_due_days",
        "committees.0.red_line_firmness",
    }
    assert runs["particle"].isin([0, 1, 2]).all() and runs["particle"].nunique() > 1
    for path in drawn:
        support = np.array(PARTICLES[path])
        assert runs[path].to_numpy() == pytest.approx(support[runs["particle"].to_numpy()])
    # the other posterior columns are not applied: not even recorded as drawn
    assert "packages.truce.release_due_days" not in runs and "committees.0.red_line_firmness" not in runs
    # different parameters make different histories: runs on particle 0 (implementation 0.2, leverage
    # 0.01) free fewer detainees than runs on particle 2 (0.8, 0.25), as the release terms say
    released = runs.groupby("particle")["released"].mean()
    assert released[0] < released[2]


def test_one_particle_is_the_same_as_run_on_its_values(short_waer, tmp_path):
    """The seed rule is simkit run's: a posterior of one particle reproduces `simkit run` at its values."""
    values = {"regime.implementation": 0.7, "behaviour.leave_threshold": 3.0}
    path = tmp_path / "one.parquet"
    pd.DataFrame({k: [v] for k, v in values.items()} | {"weight": [1.0]}).to_parquet(path)
    forecast = run_forecast(short_waer, load_posterior(path), 15, seed=2)
    fixed = set_parameters(short_waer.scenario, values, origin="test")
    ensemble = run_ensemble(LoadedScenario(fixed, short_waer.path, {}, scenario_hash(fixed)), 15, seed=2)
    pd.testing.assert_frame_equal(forecast.runs[ensemble.runs.columns], ensemble.runs)
    pd.testing.assert_frame_equal(forecast.events, ensemble.events)


def test_a_parameter_fixed_with_set_is_not_drawn(waer, posterior_file):
    overrides = {**SHORT, "regime.implementation": 0.33}
    loaded = load_scenario(WAER, overrides)
    result = run_forecast(loaded, load_posterior(posterior_file), 10, seed=1)
    assert "regime.implementation" not in result.manifest["drawn_parameters"]
    assert result.manifest["not_drawn"]["regime.implementation"] == "fixed by --set"
    assert "regime.implementation" not in result.runs


def _write_bad(tmp_path, kind):
    path = tmp_path / f"{kind}.parquet"
    match kind:
        case "text":
            path.write_text("regime.implementation,weight\n0.5,1\n")
        case "no_weight":
            pd.DataFrame({"regime.implementation": [0.5]}).to_parquet(path)
        case "negative":
            pd.DataFrame({"regime.implementation": [0.5, 0.6], "weight": [1.0, -0.5]}).to_parquet(path)
        case "words":
            pd.DataFrame({"regime.implementation": ["high"], "weight": [1.0]}).to_parquet(path)
        case "nan":
            pd.DataFrame({"regime.implementation": [np.nan], "weight": [1.0]}).to_parquet(path)
        case "empty":
            pd.DataFrame({"regime.implementation": [], "weight": []}, dtype=float).to_parquet(path)
    return path


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("missing", "no such posterior file"),
        ("text", "cannot read it as a Parquet posterior"),
        ("no_weight", "no 'weight' column"),
        ("negative", "weights must be non-negative"),
        ("words", "'regime.implementation' is not numeric"),
        ("nan", "missing or infinite values"),
        ("empty", "no particles"),
    ],
)
def test_bad_posterior_file_is_a_clear_input_error(tmp_path, kind, message):
    path = _write_bad(tmp_path, kind)
    with pytest.raises(InputError, match=message) as err:
        load_posterior(path)
    assert str(err.value).startswith(str(path)) and len(str(err.value).splitlines()) == 1


def test_a_posterior_without_behavioural_parameters_is_refused(short_waer, tmp_path):
    path = tmp_path / "deal_terms.parquet"
    pd.DataFrame({"packages.truce.release_due_days": [60.0], "weight": [1.0]}).to_parquet(path)
    with pytest.raises(InputError, match="none of its parameters"):
        run_forecast(short_waer, load_posterior(path), 5, seed=1)


def test_forecast_command_writes_the_run_files_and_exits_2_on_a_bad_posterior(tmp_path, posterior_file):
    out = tmp_path / "fc"
    args = ["forecast", str(WAER), "--posterior", str(posterior_file), "-n", "8", "-o", str(out)]
    result = runner.invoke(app, [*args, "--set", "horizon_days=420", "--no-plots"])
    assert result.exit_code == 0, result.output
    assert "parameters drawn from" in result.stdout and "stalemate" in result.stdout
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 8 and {"particle", "regime.implementation"} <= set(runs.columns)
    assert len(pd.read_parquet(out / "events.parquet")) > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary.keys() == summarize(runs).keys()  # the structure of simkit run's summary.json
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["posterior_hash"] and manifest["master_seed"] == 1 and manifest["runs"] == 8
    # another forecast into the same folder is refused, with one line and exit code 2
    other = runner.invoke(app, [*args, "--seed", "2", "--set", "horizon_days=420", "-q", "--no-plots"])
    assert other.exit_code == 2 and "holds other results" in other.stderr
    bad = _write_bad(tmp_path, "no_weight")
    failed = runner.invoke(app, ["forecast", str(WAER), "--posterior", str(bad), "-o", str(tmp_path / "x")])
    assert failed.exit_code == 2 and "no 'weight' column" in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1 and "Traceback" not in failed.output


def test_compare_draws_from_a_posterior_when_given_one(tmp_path, posterior_file):
    trajectory = str(WAER.parents[1] / "calibration" / "waer_trajectory.yaml")
    args = ["compare", str(WAER), "--against", trajectory, "-n", "6", "-q", "--no-plots"]
    drawn = runner.invoke(
        app, [*args, "--posterior", str(posterior_file), "--all-parameters", "-o", str(tmp_path / "c")]
    )
    assert drawn.exit_code == 0, drawn.output
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert "packages.truce.release_due_days" in manifest["drawn_parameters"]  # --all-parameters
    assert (tmp_path / "c" / "comparison.json").exists()
    lone = runner.invoke(app, [*args, "--all-parameters", "-o", str(tmp_path / "d")])
    assert lone.exit_code == 2 and "--all-parameters needs --posterior" in lone.stderr


def test_the_spread_is_split_between_chance_and_the_parameters_drawn():
    """Hand-made runs: particles that decide the result leave nothing to chance, one particle leaves all."""
    from simkit.calibration.forecast import chance_share

    decided = chance_share(np.array([1, 1, 1, 0, 0, 0]), np.array([0, 0, 0, 1, 1, 1]))
    assert decided == pytest.approx(0.0)
    alone = chance_share(np.array([1, 0, 1, 0, 0, 1]), np.zeros(6, dtype=int))
    assert alone == pytest.approx(1.0)
    # half of each particle's runs hit, and particles differ not at all: all chance, whatever the split
    assert chance_share(np.array([1, 0, 1, 0]), np.array([0, 0, 1, 1])) == pytest.approx(1.0)
    # every run agrees: no spread to split; no particle drawn twice: no within-particle estimate
    assert np.isnan(chance_share(np.ones(4), np.array([0, 0, 1, 1])))
    assert np.isnan(chance_share(np.array([1, 0, 1]), np.array([0, 1, 2])))


def test_north_homs_is_forecast_from_a_calibration_folder_with_endings_by_date(tmp_path):
    """A tiny posterior of the shared parameters in a calibration folder; the report the issue asks for."""
    from tests.conftest import ROOT

    folder = tmp_path / "joint"
    folder.mkdir()
    pd.DataFrame({
        "regime.implementation": [0.3, 0.9], "committees.0.concession_rate": [0.1, 3.0],
        "behaviour.weight_threat": [0.0, 6.0], "behaviour.flight_rate": [0.02, 0.3], "weight": [0.5, 0.5],
    }).to_parquet(folder / "posterior.parquet", index=False)  # fmt: skip
    out = tmp_path / "nh"
    args = ["forecast", str(ROOT / "scenarios" / "north_homs.yaml"), "--posterior", str(folder), "-n", "12"]
    dates = ["--by", "2018-06-30", "--by", "2018-12-31"]
    result = runner.invoke(app, [*args, *dates, "-o", str(out), "--no-plots"])
    assert result.exit_code == 0, result.output
    for text in ("surrender + evacuation", "settlement in place", "2018-06-30", "2018-12-31", "deal dates"):
        assert text in result.stdout
    report = json.loads((out / "forecast.json").read_text())
    runs = pd.read_parquet(out / "runs.parquet")
    assert report["runs"] == 12 and set(runs["particle"]) <= {0, 1}
    by = {(row["date"], row["ending"]): row for row in report["by"]}
    for ending in ("surrender_evacuation", "reconciliation"):
        early, late = by["2018-06-30", ending], by["2018-12-31", ending]
        assert 0 <= early["share"] <= late["share"] <= 1  # an ending reached by June is reached by December
        assert late["share"] <= (runs["outcome"] == ending).mean()
        assert late["ci95"][0] <= late["share"] <= late["ci95"][1]
    bad = runner.invoke(app, [*args, "--by", "30/06/2018", "-o", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "--by 30/06/2018: not a date" in bad.stderr
    empty = runner.invoke(app, ["forecast", str(WAER), "-p", str(tmp_path), "-o", str(tmp_path / "y")])
    assert empty.exit_code == 2 and "a folder without posterior.parquet" in empty.stderr


@pytest.mark.parametrize("by", ["2030-01-01", "2010-01-01"])
def test_a_by_date_outside_the_period_is_refused_naming_the_period(tmp_path, posterior_file, by):
    period = load_scenario(WAER).scenario
    args = ["forecast", str(WAER), "--posterior", str(posterior_file), "-n", "2", "--by", by]
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "x"), "-q"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert f"--by {by} is outside the scenario's period ({period.start} to {period.end})" in result.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("command", ["forecast", "compare", "score"])
def test_a_bad_runs_option_leaves_no_folder_behind(tmp_path, posterior_file, command):
    from tests.conftest import ROOT

    target = {
        "forecast": [str(WAER), "--posterior", str(posterior_file)],
        "compare": [str(WAER), "--against", str(ROOT / "calibration" / "waer_trajectory.yaml")],
        "score": [str(ROOT / "cases" / "library.yaml")],
    }[command]
    result = runner.invoke(app, [command, *target, "--runs", "-1", "-o", str(tmp_path / "x"), "-q"])
    assert result.exit_code == 2 and result.stderr == "error: --runs must be at least 1, found -1\n"
    assert not (tmp_path / "x").exists()


def hand_made_forecast_runs() -> pd.DataFrame:
    """Seven runs from 2018-01-01: deal days 10, 11, 12 (settled), 30, 31, 35 (surrendered), a stalemate."""
    import datetime as dt

    start = dt.date(2018, 1, 1)
    # three reconciliations on days 10, 11, 12; three surrenders on days 30, 31, 35; one stalemate
    days = [10, 11, 12, 30, 31, 35, 200]
    outcomes = ["reconciliation"] * 3 + ["surrender_evacuation"] * 3 + ["stalemate"]
    deal = pd.array([10, 11, 12, 30, 31, 35, None], dtype="Int64")
    runs = pd.DataFrame({
        "run": range(7), "outcome": outcomes, "outcome_day": days,
        "outcome_date": [start + dt.timedelta(days=d) for d in days], "deal_day": deal,
        "deal_date": [None if pd.isna(d) else start + dt.timedelta(days=int(d)) for d in deal],
        "surrender_evacuated": [0, 0, 0, 500, 700, 900, 0], "particle": [0, 1, 0, 1, 0, 1, 0],
    })  # fmt: skip
    return runs


def test_the_forecasts_deal_dates_and_evacuees_are_hand_computed_quantiles():
    """Deal dates are days some run signed on (nearest-rank p10/p50/p90), evacuees interpolate."""
    import datetime as dt

    from simkit.calibration.forecast import forecast_summary

    report = forecast_summary(hand_made_forecast_runs(), [dt.date(2018, 4, 11)])
    # nearest rank over 3 sorted values: positions 0.2, 1.0, 1.8 -> first, second, third
    assert report["deal"]["reconciliation"] == {
        "share": 3 / 7, "p10": "2018-01-11", "p50": "2018-01-12", "p90": "2018-01-13",
    }  # fmt: skip
    assert report["deal"]["surrender_evacuation"] == {
        "share": 3 / 7, "p10": "2018-01-31", "p50": "2018-02-01", "p90": "2018-02-05",
    }  # fmt: skip
    # linear interpolation over 500, 700, 900: 500 + 0.2 * 200, 700, 700 + 0.8 * 200
    assert report["evacuated"] == pytest.approx({"runs": 3, "p10": 540.0, "p50": 700.0, "p90": 860.0})


def test_the_forecast_printout_uses_the_shared_labels_and_evacuated_sentence(capsys):
    import datetime as dt

    from simkit.calibration.forecast import forecast_summary, forecast_tables
    from simkit.cli.forecast import _print_forecast

    report = forecast_summary(hand_made_forecast_runs(), [dt.date(2018, 4, 11)])
    _print_forecast(report)
    printed = capsys.readouterr().out
    by, deal, evacuated = forecast_tables(report)
    assert "surrender + evacuation" in printed and "settlement in place" in printed
    assert evacuated == (
        "Evacuated on the surrender's buses in the 3 runs ending in surrender with evacuation (truce "
        "departures not counted): p10 540, median 700, p90 860."
    )
    assert " ".join(evacuated.split()) in " ".join(printed.split())
    assert list(by["share"]) == ["42.9%", "42.9%"] and list(deal["p50"]) == ["2018-02-01", "2018-01-12"]
