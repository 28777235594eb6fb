"""simkit score: proper scores on hand-made forecasts, censoring, leave-one-out baselines, case set errors.

Expected values are worked out by hand from the definitions in docs/scoring.md, not read off the code.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from simkit.cli import app
from simkit.model import OUTCOMES
from simkit.scoring import baselines, rules
from simkit.scoring.caseset import Case, load_caseset
from simkit.scoring.evaluate import CaseForecast, score_cases
from simkit.scoring.report import print_scores
from tests.conftest import ROOT

runner = CliRunner()
SURRENDER = OUTCOMES.index("surrender_evacuation")
STALEMATE = OUTCOMES.index("stalemate")


# ---------------------------------------------------------------- class scores
def test_perfect_forecast_scores_zero():
    perfect = np.eye(len(OUTCOMES))[SURRENDER]
    assert rules.brier(perfect, SURRENDER) == 0.0
    assert rules.log_score(perfect, SURRENDER) == 0.0


def test_uniform_forecast_scores():
    uniform = np.full(5, 0.2)
    # (1 - 0.2)^2 for the observed class + 4 * 0.2^2 for the others
    assert rules.brier(uniform, SURRENDER) == pytest.approx(0.64 + 4 * 0.04)
    assert rules.log_score(uniform, SURRENDER) == pytest.approx(math.log2(5))


def test_confidently_wrong_forecast_scores_worst():
    wrong = np.eye(len(OUTCOMES))[STALEMATE]
    assert rules.brier(wrong, SURRENDER) == pytest.approx(2.0)  # 1^2 missed + 1^2 wrongly certain
    assert rules.log_score(wrong, SURRENDER) == math.inf


def test_runs_never_reaching_a_class_still_give_it_a_finite_log_score():
    runs = ["stalemate"] * 1000
    p = rules.class_probabilities(runs)
    assert p.sum() == pytest.approx(1.0)
    # (0 + 0.5) / (1000 + 5 * 0.5) = 1 / 2005
    assert p[SURRENDER] == pytest.approx(1 / 2005)
    assert rules.log_score(p, SURRENDER) == pytest.approx(math.log2(2005))
    assert rules.class_probabilities(runs, pseudocount=0.0)[STALEMATE] == 1.0


# ---------------------------------------------------------------- CRPS and intervals
def test_crps_of_an_ensemble():
    assert rules.crps([5, 5, 5], 5) == 0.0
    # E|X - 0| - E|X - X'| / 2 over {1, 3}: 2 - (0 + 2 + 2 + 0) / 4 / 2 = 1.5
    assert rules.crps([1, 3], 0) == pytest.approx(1.5)
    # a one-member ensemble is a point forecast: its CRPS is the absolute error
    assert rules.crps([10], 4) == pytest.approx(6.0)


def test_crps_of_a_window_is_averaged_over_its_days_and_a_range_over_its_points():
    # point forecast at day 0, documented window days 0..2: (0 + 1 + 2) / 3
    assert rules.crps([0], 0, 2) == pytest.approx(1.0)
    # point forecast 0, range 0..10 at 101 evenly spaced points: mean of |y| = 5
    assert rules.crps([0], 0, 10, points=101) == pytest.approx(5.0)


def test_intervals_and_whether_the_documented_window_lies_in_them():
    members = np.arange(101)  # quantiles are exact: q-th quantile = 100 q
    median, (fifty, eighty) = rules.intervals(members, 20, 30)
    assert median == 50
    assert (fifty.low, fifty.high, eighty.low, eighty.high) == (25, 75, 10, 90)
    assert (fifty.inside, fifty.overlaps, eighty.inside) == (False, True, True)
    _, (fifty, eighty) = rules.intervals(members, 85, 95)
    assert not fifty.overlaps and eighty.overlaps and not eighty.inside


def test_skill():
    assert rules.skill(0.2, 0.8) == pytest.approx(0.75)
    assert rules.skill(0.8, 0.8) == 0.0
    assert rules.skill(1.6, 0.8) == pytest.approx(-1.0)
    assert math.isnan(rules.skill(1.0, 0.0))


# ---------------------------------------------------------------- hand-made cases
def _case(id_: str, outcome: str = "surrender_evacuation", deal: str | None = "2016-07-01", **extra) -> Case:
    data = {
        "id": id_,
        "name": id_.title(),
        "scenario": "s.yaml",
        "trajectory": "t.yaml",
        "siege_start": {"from": "2015-01-01", "to": "2015-01-01", "source": "test"},
        "outcome": outcome,
        "evacuated": {"low": 1000, "high": 1000, "source": "test"},
        **extra,
    }
    if deal is not None:
        data["deal_date"] = {"from": deal, "to": deal, "source": "test"}
    return Case.model_validate(data)


def _forecast(
    outcomes: list[str], deal_days: list[float | None], evacuated: list[int], horizon=365, truce_waves=4000
):
    """Hand-made runs; `evacuated` is who left on the surrender's buses, `truce_waves` more left before."""
    runs = pd.DataFrame({
        "outcome": outcomes, "deal_day": deal_days, "surrender_evacuated": evacuated,
        "evacuated": [n + truce_waves for n in evacuated],  # runs.parquet's all-departures count: not scored
    })  # fmt: skip
    return CaseForecast(start=dt.date(2016, 1, 1), horizon=horizon, population=10_000.0, runs=runs)


def test_runs_without_a_deal_are_censored_at_the_horizon():
    forecast = _forecast(
        ["surrender_evacuation", "stalemate", "durable_ceasefire"], [10, None, None], [0] * 3
    )
    assert forecast.deal_days().tolist() == [10.0, 365.0, 365.0]
    # documented deal after the horizon: it too is censored, so "no deal by the horizon" scores perfectly
    late = _case("late", deal="2017-06-01")
    never = _forecast(["stalemate"] * 4, [None] * 4, [1000] * 4)
    table, details = score_cases([late, _case("other")], {"late": never, "other": never})
    row = table[(table["case"] == "late") & (table["metric"] == "crps_deal_days")].iloc[0]
    assert row["model"] == 0.0
    assert details[0]["deal"]["documented_days"] == [365, 365]
    assert details[0]["deal"]["no_deal_by_horizon"] == 1.0


def test_pooled_rows_are_means_over_cases_and_skill_of_the_means():
    cases = [_case("a"), _case("b", outcome="military_takeover")]
    forecasts = {
        "a": _forecast(["surrender_evacuation"] * 4, [182] * 4, [1000] * 4),
        "b": _forecast(["stalemate"] * 4, [None] * 4, [0] * 4),
    }
    table, _ = score_cases(cases, forecasts)
    brier = table[(table["metric"] == "brier") & (table["baseline"] == "uniform")].set_index("case")
    assert brier.loc["pooled", "model"] == pytest.approx(
        (brier.loc["a", "model"] + brier.loc["b", "model"]) / 2
    )
    assert brier.loc["pooled", "skill"] == pytest.approx(1 - brier.loc["pooled", "model"] / 0.8)
    # a: all runs in the documented class, deal on the documented day (2016-07-01 is day 182)
    crps = table[table["metric"] == "crps_deal_days"].set_index("case")
    assert crps.loc["a", "model"] == 0.0
    evacuated = table[table["metric"] == "crps_evacuated"].set_index("case")
    assert evacuated.loc["a", "model"] == 0.0 and evacuated.loc["b", "model"] == pytest.approx(1000.0)


def test_the_printed_tables_write_windows_ranges_and_counts_and_leave_out_what_a_case_lacks():
    cases = [
        _case("a", deal=None, deal_date={"from": "2016-07-01", "to": "2016-07-03", "source": "test"},
              evacuated={"low": 1800, "high": 2000, "source": "test"}),
        _case("b", outcome="stalemate", deal=None, evacuated={"low": 21_800, "high": 21_800, "source": "t"}),
    ]  # fmt: skip
    forecasts = {
        "a": _forecast(["surrender_evacuation"] * 4, [182] * 4, [1900] * 4),  # day 182 is 2016-07-01
        "b": _forecast(["stalemate"] * 4, [None] * 4, [21_800] * 4),
    }
    console = Console(file=io.StringIO(), width=80)
    print_scores(*score_cases(cases, forecasts), title="hand-made", console=console)
    deal, evacuated = console.file.getvalue().split("deal date (")[1].split("evacuated on the")

    def rows(text: str) -> dict[str, list[str]]:
        return {cells[0]: cells for cells in map(str.split, text.splitlines()) if cells[:1] in (["a"], ["b"])}

    # a's deal: a window (+), forecast on its first day (the intervals overlap the window, it is not inside
    # them): CRPS (0 + 1 + 2) / 3 days; the baseline is b's "no deal" censored at the horizon (day 365),
    # 182 days from the window's middle; b has no deal, so no row
    first = "01Jul16"
    assert rows(deal) == {"a": ["a", first + "+", first, first, first, "ov/ov", "1", "182", "+0.99"]}
    # evacuated: a range, and 10,000 or more in thousands; b's baseline is a's share of its population
    # (1,900 of 10,000) times b's (10,000): 19,900 from the documented 21,800
    assert rows(evacuated)["a"][:5] == ["a", "1,800-2,000", "1,900", "1,900", "1,900"]
    assert rows(evacuated)["b"] == ["b", "21.8k", "21.8k", "21.8k", "21.8k", "in/in", "0", "19.9k", "+1.00"]


def test_evacuated_is_scored_on_the_surrender_convoys_not_the_truce_departures():
    """A case documents people leaving under the ending's deal: the runs' truce waves must not count."""
    case = _case("a", evacuated={"low": 1000, "high": 1000, "source": "test"})
    on_the_deal = _forecast(["surrender_evacuation"] * 4, [182] * 4, [1000] * 4, truce_waves=3000)
    table, details = score_cases([case], {"a": on_the_deal})
    row = table[table["metric"] == "crps_evacuated"].iloc[0]
    assert row["model"] == 0.0 and details[0]["evacuated"]["median"] == 1000
    all_departures = _forecast(["surrender_evacuation"] * 4, [182] * 4, [4000] * 4, truce_waves=0)
    table, _ = score_cases([case], {"a": all_departures})
    assert table[table["metric"] == "crps_evacuated"].iloc[0]["model"] == pytest.approx(3000.0)


# ---------------------------------------------------------------- leave-one-case-out baselines
def test_base_rate_is_leave_one_out_with_smoothing():
    cases = [_case("a"), _case("b"), _case("c", outcome="military_takeover")]
    # for a: b surrendered, c was taken; (count + 1) / (2 + 5)
    expected = np.array([2, 1, 2, 1, 1]) / 7
    assert baselines.base_rate(cases, "a") == pytest.approx(expected)


def _baselines_of(cases: list[Case]) -> dict[str, tuple]:
    forecast = _forecast(["stalemate"] * 3, [None] * 3, [0] * 3)
    _, details = score_cases(cases, dict.fromkeys([c.id for c in cases], forecast))
    return {
        d["id"]: (tuple(d["baselines"]["base_rate"].values()), tuple(d["deal"]["baseline_members_days"]),
                  tuple(d["evacuated"]["baseline_members"]))
        for d in details
    }  # fmt: skip


def test_a_cases_own_ending_never_enters_its_baselines():
    """Change one case's outcome, deal date and evacuated: only the other cases' baselines move."""
    before = [
        _case("a"),
        _case("b", deal="2016-03-01"),
        _case("c", outcome="reconciliation", deal="2016-05-01"),
    ]
    changed = _case(
        "a", outcome="military_takeover", deal="2016-11-01",
        evacuated={"low": 5000, "high": 7000, "source": "test"},
    )  # fmt: skip
    after = [changed, *before[1:]]
    old, new = _baselines_of(before), _baselines_of(after)
    assert new["a"] == old["a"]
    for other in ("b", "c"):
        for kind in range(3):
            assert new[other][kind] != old[other][kind], (other, kind)


def test_duration_baseline_drops_durations_shorter_than_the_siege_had_lasted():
    held = _case("x")  # siege from 2015-01-01; say the scenario starts on day 300 of the siege
    short = _case("short", deal="2015-06-01")  # 151 days: before the start, impossible
    long = _case("long", deal="2016-01-01")  # 365 days: 65 days after the start
    never = _case("never", outcome="stalemate", deal=None)
    assert baselines.duration_members([held, short, long, never], held, 300, 200) == [65.0, 200.0]
    assert baselines.duration_members([held, short], held, 300, 200) == [200.0]


# ---------------------------------------------------------------- the case set file and the command
WAER_CASE = """  - id: {id}
    name: Waer {id}
    scenario: {scenario}
    trajectory: {trajectory}
    siege_start: {{from: 2013-10-01, to: 2013-12-31, source: "AFP, AP, May 2017"}}
    outcome: surrender_evacuation
    deal_date: {{from: {deal}, to: {deal}, source: "test"}}
    control_date: {{from: 2017-05-21, to: 2017-05-21, source: "test"}}
    evacuated: {{low: 14000, high: 20000, source: "test", note: "range of reports"}}
"""


def _caseset(folder: Path, deals: tuple[str, ...] = ("2017-03-13", "2017-01-15")) -> Path:
    """Waer twice under different ids (and deal dates), in a case set file written to `folder`."""
    scenario = (ROOT / "scenarios" / "waer.yaml").as_posix()
    trajectory = (ROOT / "calibration" / "waer_trajectory.yaml").as_posix()
    body = "".join(
        WAER_CASE.format(id=f"waer_{i}", scenario=scenario, trajectory=trajectory, deal=deal)
        for i, deal in enumerate(deals)
    )
    path = folder / "library.yaml"
    path.write_text("name: Test library\ncases:\n" + body)
    return path


def test_a_valid_case_set_loads(tmp_path):
    loaded = load_caseset(_caseset(tmp_path))
    assert [c.id for c in loaded.caseset.cases] == ["waer_0", "waer_1"]
    assert loaded.caseset.cases[0].deal_date.from_ == dt.date(2017, 3, 13)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    outcome: surrender_evacuation\n", "    outcome: surrender\n", "cases.0.outcome"),
        ("deal_date: {from: 2017-03-13, to: 2017-03-13", "deal_date: {from: 2017-03-13, to: 2017-03-01",
         "cases.0.deal_date: expected from <= to"),
        ("evacuated: {low: 14000, high: 20000, source: \"test\", note: \"range of reports\"}",
         "evacuated: {low: 14000, high: 20000, note: \"no source\"}", "cases.0.evacuated.source: required"),
        ("evacuated: {low: 14000, high: 20000", "evacuated: {low: 24000, high: 20000",
         "cases.0.evacuated: expected low <= high"),
        ("evacuated: {low: 14000, high: 20000", "evacuated: {low: 14000, high: 1e308",
         "cases.0.evacuated: expected at most 10,000,000 people"),
        ("    name: Waer waer_0\n", "    name: Waer waer_0\n    colour: red\n", "unknown key 'colour'"),
        ("waer.yaml", "waer_missing.yaml", "no such file"),
        ("id: waer_1", "id: waer_0", "cases.1.id: duplicate id 'waer_0'"),
    ],
)  # fmt: skip
def test_a_broken_case_set_exits_2_with_one_clear_line(tmp_path, old, new, expected):
    path = _caseset(tmp_path)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    result = runner.invoke(app, ["score", str(path), "-n", "2", "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert message.count("\n") == 0 and message.startswith(f"error: {path}:"), message
    assert expected in message
    assert not (tmp_path / "out").exists()


def test_a_set_path_missing_in_a_case_names_the_case(tmp_path):
    path = _caseset(tmp_path)
    result = runner.invoke(
        app, ["score", str(path), "-n", "2", "-o", str(tmp_path / "o"), "--set", "regime.nope=1"]
    )
    assert result.exit_code == 2
    assert (
        result.stderr.strip().count("\n") == 0
        and "case waer_0" in result.stderr
        and "regime.nope" in result.stderr
    )


def test_score_runs_every_case_and_writes_its_results(tmp_path):
    path, out = _caseset(tmp_path), tmp_path / "score"
    result = runner.invoke(app, ["score", str(path), "-n", "30", "-s", "4", "-o", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("scores.parquet", "scores.json", "manifest.json", "scores.png"):
        assert (out / name).stat().st_size > 0, name
    for case in ("waer_0", "waer_1"):
        assert len(pd.read_parquet(out / "cases" / case / "runs.parquet")) == 30
    table = pd.read_parquet(out / "scores.parquet")
    assert set(table["case"]) == {"waer_0", "waer_1", "pooled"}
    assert set(table["metric"]) == {"brier", "log_score", "crps_deal_days", "crps_evacuated"}
    # the same scenario and seed: identical class forecasts, different deal dates documented
    brier = table[(table["metric"] == "brier") & (table["baseline"] == "uniform")].set_index("case")["model"]
    assert brier["waer_0"] == brier["waer_1"]
    crps = table[table["metric"] == "crps_deal_days"].set_index("case")["model"]
    assert crps["waer_0"] != crps["waer_1"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runs_per_case"] == 30 and manifest["master_seed"] == 4
    assert len(manifest["case_set_sha256"]) == 64 and len(manifest["cases"]) == 2
    assert manifest["packages"]["scoringrules"] != "not installed"
    assert "outcome class forecasts" in result.output and "pooled" in result.output
    tables = [line for line in result.output.splitlines() if not line.startswith("wrote ")]
    assert max(len(line) for line in tables) <= 80
    # rerunning resumes from the cases' folders: nothing is simulated again, the scores are the same
    again = runner.invoke(
        app, ["score", str(path), "-n", "30", "-s", "4", "-o", str(out), "-q", "--no-plots"]
    )
    assert again.exit_code == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "scores.parquet"), table)


def test_score_writes_through_the_result_store_never_through_a_link(tmp_path):
    path, out = _caseset(tmp_path, deals=("2017-03-13",)), tmp_path / "score"
    command = ["score", str(path), "-n", "2", "-o", str(out), "-q"]
    assert runner.invoke(app, command).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["written_by"] == "simkit" and manifest["kind"] == "score" and manifest["finished"]
    # every file the command wrote at the top is listed (so --overwrite and later commands know it)
    assert manifest["files"] == ["manifest.json", "scores.json", "scores.parquet", "scores.png"]
    assert sorted(p.name for p in out.iterdir()) == ["cases", *manifest["files"]]
    mine = tmp_path / "mine.json"
    mine.write_text("the user's file\n")
    (out / "scores.json").unlink()
    (out / "scores.json").symlink_to(mine)
    runs = out / "cases" / "waer_0" / "runs.parquet"
    written = runs.stat().st_mtime_ns
    refused = runner.invoke(app, [*command, "-n", "3"])  # a case's ensemble would grow by a run
    assert refused.exit_code == 2, refused.output
    assert refused.stderr.count("\n") == 1 and "scores.json is a symbolic link" in refused.stderr
    assert mine.read_text() == "the user's file\n"
    assert runs.stat().st_mtime_ns == written  # refused before any case ran


def test_score_refuses_another_kind_of_result_without_overwrite(tmp_path):
    path, out = _caseset(tmp_path, deals=("2017-03-13",)), tmp_path / "score"
    out.mkdir()
    ensemble = {"written_by": "simkit", "kind": "ensemble", "files": ["manifest.json", "runs.parquet"]}
    (out / "manifest.json").write_text(json.dumps(ensemble))
    (out / "runs.parquet").write_bytes(b"an ensemble's runs")
    command = ["score", str(path), "-n", "2", "-o", str(out), "-q", "--no-plots"]
    refused = runner.invoke(app, command)
    assert refused.exit_code == 2, refused.output
    assert refused.stderr.startswith("error: ") and refused.stderr.count("\n") == 1, refused.stderr
    assert "holds other results" in refused.stderr and "--overwrite" in refused.stderr
    assert (out / "runs.parquet").exists() and not (out / "cases").exists()  # refused before any run
    assert runner.invoke(app, [*command, "--overwrite"]).exit_code == 0
    assert not (out / "runs.parquet").exists()  # the ensemble's listed file went
    assert json.loads((out / "manifest.json").read_text())["kind"] == "score"


def test_a_different_score_is_refused_before_anything_is_written_and_overwrite_replaces_it(tmp_path):
    path, out = _caseset(tmp_path, deals=("2017-03-13",)), tmp_path / "score"
    command = ["score", str(path), "-n", "2", "-s", "1", "-o", str(out), "-q"]
    assert runner.invoke(app, command).exit_code == 0
    runs = out / "cases" / "waer_0" / "runs.parquet"
    before = {name: (out / name).read_bytes() for name in ("manifest.json", "scores.parquet", "scores.png")}
    written = runs.stat().st_mtime_ns
    other = ["score", str(path), "-n", "2", "-s", "2", "-o", str(out), "-q", "--no-plots"]
    refused = runner.invoke(app, other)
    assert refused.exit_code == 2, refused.output
    assert refused.stderr.count("\n") == 1 and "master_seed: 1 there, 2 here" in refused.stderr
    assert "--overwrite" in refused.stderr
    # nothing was written: not the manifest, not the scores, not a case's runs
    assert {name: (out / name).read_bytes() for name in before} == before
    assert runs.stat().st_mtime_ns == written
    # more runs of the same score are the same score (an ensemble may grow)
    assert runner.invoke(app, [*command[:2], "-n", "3", *command[4:]]).exit_code == 0
    assert len(pd.read_parquet(runs)) == 3
    # --overwrite replaces it: seed 2's manifest, its scores, and no stale figure of seed 1
    assert runner.invoke(app, [*other, "--overwrite"]).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["master_seed"] == 2 and manifest["finished"]
    assert manifest["files"] == ["manifest.json", "scores.json", "scores.parquet"]
    assert not (out / "scores.png").exists()
    assert json.loads((out / "cases" / "waer_0" / "manifest.json").read_text())["master_seed"] == 2


def test_score_on_a_posterior_draws_parameters_per_run(tmp_path):
    path, out = _caseset(tmp_path, deals=("2017-03-13",)), tmp_path / "posterior"
    posterior = ROOT / "calibration" / "waer" / "posterior.parquet"
    args = ["score", str(path), "-n", "10", "-o", str(out), "-q", "--no-plots", "--posterior", str(posterior)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    runs = pd.read_parquet(out / "cases" / "waer_0" / "runs.parquet")
    assert "particle" in runs.columns and len(runs) == 10
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["posterior"] == str(posterior) and len(manifest["posterior_hash"]) == 64


def test_score_takes_a_calibration_folder_as_its_posterior(tmp_path):
    """`--posterior DIR` resolves to DIR/posterior.parquet, as for simkit forecast."""
    import hashlib

    folder = tmp_path / "joint"
    folder.mkdir()
    particles = {
        "regime.implementation": [0.3, 0.9],
        "behaviour.flight_rate": [0.02, 0.3],
        "weight": [0.5, 0.5],
    }
    pd.DataFrame(particles).to_parquet(folder / "posterior.parquet", index=False)
    path, out = _caseset(tmp_path, deals=("2017-03-13",)), tmp_path / "out"
    args = ["score", str(path), "-n", "8", "-o", str(out), "-q", "--no-plots", "--posterior", str(folder)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    runs = pd.read_parquet(out / "cases" / "waer_0" / "runs.parquet")
    assert len(runs) == 8 and set(runs["particle"]) <= {0, 1}
    for column, values in particles.items():
        if column != "weight":  # every run carries the values of the particle it drew
            assert list(runs[column]) == [values[k] for k in runs["particle"]]
    manifest = json.loads((out / "manifest.json").read_text())
    file = folder / "posterior.parquet"
    assert manifest["posterior"] == str(file)
    assert manifest["posterior_hash"] == hashlib.sha256(file.read_bytes()).hexdigest()


@pytest.mark.parametrize("command", ["score", "forecast", "compare"])
@pytest.mark.parametrize(
    ("where", "expected"),
    [("empty", "a folder without posterior.parquet"), ("missing", "no such posterior file or folder")],
)
def test_every_posterior_option_refuses_a_folder_without_one_and_a_missing_path_alike(
    tmp_path, command, where, expected
):
    """One resolver for every `--posterior`: the same one line, exit 2, and nothing written."""
    bad = tmp_path / where
    if where == "empty":
        bad.mkdir()
    waer, record = ROOT / "scenarios" / "waer.yaml", ROOT / "calibration" / "waer_trajectory.yaml"
    first = {
        "score": [str(_caseset(tmp_path))],
        "forecast": [str(waer)],
        "compare": [str(waer), "-a", str(record)],
    }
    out = tmp_path / "out"
    result = runner.invoke(app, [command, *first[command], "-n", "2", "-o", str(out), "-q", "-p", str(bad)])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"error: {bad}: {expected}")
    assert not out.exists()
