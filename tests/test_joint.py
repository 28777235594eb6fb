"""Joint calibration on a case set and leave-one-case-out: bad input, the distance's weighting, end to end."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner

from simkit.calibration.forecast import BEHAVIOURAL
from simkit.calibration.priors import load_priors
from simkit.cli import app
from simkit.scenario import load_scenario
from simkit.scoring.report import print_leave_one_out
from tests.conftest import ROOT

runner = CliRunner()
LIBRARY = ROOT / "cases" / "library.yaml"
LIBRARY_PRIORS = ROOT / "calibration" / "library_priors.yaml"
CHEAP = ("old_homs", "moadamiya")
"""Two cases whose runs are short (about a third of a Waer run)."""

PRIOR = {
    "path": "behaviour.leave_threshold",
    "distribution": "uniform",
    "low": 1.5,
    "high": 7.0,
    "reason": "test: from few to most residents register",
}


def _caseset(folder, ids=CHEAP):
    """The library's entries for `ids`, with absolute paths, as a case set file in `folder`."""
    data = yaml.safe_load(LIBRARY.read_text())
    cases = [case for case in data["cases"] if case["id"] in ids]
    for case in cases:
        for key in ("scenario", "trajectory"):
            case[key] = (LIBRARY.parent / case[key]).resolve().as_posix()
    path = folder / "cases.yaml"
    path.write_text(yaml.safe_dump({"name": "Test cases", "cases": cases}, sort_keys=False))
    return path


def _priors(folder, priors=(PRIOR,)):
    path = folder / "priors.yaml"
    path.write_text(yaml.safe_dump({"case": "library", "priors": list(priors)}, sort_keys=False))
    return path


# ---------------------------------------------------------------- priors and bad input


def test_the_library_priors_name_exactly_the_behavioural_parameters_each_with_a_reason():
    """A renamed or added behavioural parameter must get its prior (and reason) in the library's file."""
    priors = load_priors(LIBRARY_PRIORS)
    assert sorted(p.path for p in priors.priors) == sorted(BEHAVIOURAL)
    assert all(len(p.reason) > 60 for p in priors.priors)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("unknown key", "unknown key 'colour'"),
        ("missing scenario", "no such file"),
        ("scenario without --against", "not a case set"),
        ("case set with --against", "is a case set"),
        ("structural prior", "is not behavioural"),
        ("leave one out of one case", "needs at least two cases"),
        ("prior path missing in a case", "case old_homs:"),
    ],
)
def test_a_bad_case_set_or_prior_exits_2_with_one_line(tmp_path, change, expected):
    caseset, priors = _caseset(tmp_path), _priors(tmp_path)
    extra: list[str] = []
    if change == "unknown key":
        caseset.write_text(
            caseset.read_text().replace("  name: Old Homs\n", "  name: Old Homs\n  colour: red\n", 1)
        )
    elif change == "missing scenario":
        caseset.write_text(caseset.read_text().replace("old_homs.yaml", "old_homs_missing.yaml", 1))
    elif change == "scenario without --against":
        caseset = ROOT / "scenarios" / "waer.yaml"
    elif change == "case set with --against":
        extra = ["--against", str(ROOT / "calibration" / "waer_trajectory.yaml")]
    elif change == "structural prior":
        priors = _priors(
            tmp_path, [PRIOR, {**PRIOR, "path": "regime.siege_tightness", "low": 0.1, "high": 0.9}]
        )
    elif change == "leave one out of one case":
        caseset, extra = _caseset(tmp_path, ("old_homs",)), ["--leave-one-out"]
    elif change == "prior path missing in a case":
        priors = _priors(
            tmp_path, [{**PRIOR, "path": "committees.3.truce_threshold", "low": 0.1, "high": 0.3}]
        )
    out = tmp_path / "out"
    args = ["calibrate", str(caseset), "--priors", str(priors), "--budget", "100", "--population", "10"]
    result = runner.invoke(app, [*args, "--out", str(out), *extra])
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert message.startswith("error: ") and "\n" not in message and "Traceback" not in result.output
    assert expected in message, message
    assert not out.exists()


def test_a_budget_too_small_for_every_case_names_the_cases(tmp_path):
    result = runner.invoke(
        app,
        ["calibrate", str(_caseset(tmp_path)), "--priors", str(_priors(tmp_path)), "--budget", "30",
         "--population", "10", "--out", str(tmp_path / "out")],
    )  # fmt: skip
    assert result.exit_code == 2 and "too small for population 10 x 2 cases: at least 40" in result.stderr


# ---------------------------------------------------------------- the distance


def test_the_distance_weighs_each_case_alike_whatever_its_number_of_statistics():
    """Case a has one statistic, case b four; each scale is the mean absolute deviation of a hand-made sample.

    Scales: a.x 1 (values 0, 2), each b statistic 2 (values 0, 4). A deviation of one scale in a's only
    statistic, or in all four of b's, is half the distance (the mean over two cases of 1); one scale in one
    of b's four is an eighth.
    """
    import pyabc
    from pyabc.population import Particle, Sample

    from simkit.calibration.abc import TIMING, pack
    from simkit.calibration.distance import TimedDistance, case_weights

    statistics = {"a": ["a.x"], "b": ["b.w", "b.x", "b.y", "b.z"]}
    names = [name for keys in statistics.values() for name in keys]
    weights = case_weights(statistics)
    assert weights["a.x"] == pytest.approx(0.5) and weights["b.w"] == pytest.approx(0.125)
    zero = dict.fromkeys(names, 0.0)
    observed = pack(zero, names)
    sample = Sample(record_rejected=True)
    for value, seconds in ((0.0, 0.25), (1.0, 0.75)):
        values = {"a.x": 2 * value, **{k: 4 * value for k in statistics["b"]}}
        stats = {**pack(values, names), TIMING: seconds}
        particle = Particle(m=0, parameter=pyabc.Parameter({"p": value}), weight=1.0, sum_stat=stats,
                            distance=0.0, accepted=value == 0.0)  # fmt: skip
        sample.append(particle)
    distance = TimedDistance(names, weights)
    distance.initialize(t=0, get_sample=lambda: sample, x_0=observed, total_sims=2)
    one_in_a = {**pack({**zero, "a.x": 1.0}, names), TIMING: 9.0}  # the timing is no statistic: never counts
    all_of_b = pack({**zero, **{k: 2.0 for k in statistics["b"]}}, names)
    one_of_b = pack({**zero, "b.y": -2.0}, names)
    assert distance(one_in_a, observed, t=0) == pytest.approx(0.5)
    assert distance(all_of_b, observed, t=0) == pytest.approx(0.5)
    assert distance(one_of_b, observed, t=0) == pytest.approx(0.125)
    # the rejected particle's time counts too: 0.25 + 0.75 seconds in the prior sample
    assert distance.simulate_seconds[-1] == pytest.approx(1.0)


# ---------------------------------------------------------------- end to end


def _args(caseset, priors, out, *extra):
    return ["calibrate", str(caseset), "--priors", str(priors), "--budget", "200", "--population", "10",
            "--max-generations", "1", "--seed", "3", "--out", str(out), *extra]  # fmt: skip


def test_joint_calibration_end_to_end_gives_a_posterior_that_score_and_forecast_read(tmp_path):
    """Two cases, ten particles, one generation; the point chosen by the check over both cases."""
    caseset, priors, out = _caseset(tmp_path), _priors(tmp_path), tmp_path / "out"
    result = runner.invoke(app, _args(caseset, priors, out, "--point-runs", "10"))
    assert result.exit_code == 0, result.output
    assert "posterior on 2 cases after 1 generations" in result.stdout
    assert "[all cases] generation 0:" in result.stderr and "overhead" in result.stderr

    # one posterior of the shared parameter; statistics of both cases; per generation what it cost
    manifest = json.loads((out / "manifest.json").read_text())
    assert [c["id"] for c in manifest["cases"]] == list(CHEAP) and manifest["runs_per_particle"] == 2
    assert {s.split(".")[0] for s in manifest["statistics"]} == set(CHEAP)
    (generation,) = manifest["generation_details"]
    assert generation["simulations"] == 2 * generation["evaluations"] >= 2 * 10
    assert generation["acceptance_rate"] == pytest.approx(10 / generation["evaluations"])
    assert 1 <= generation["ess"] <= 10 and generation["simulate_s"] > 0 and generation["overhead_share"] < 1
    assert manifest["prior_sample"]["simulations"] == 20 and manifest["overhead"]["simulate_s"] > 0

    # the calibrated point: checks added up over the cases, best first; a calibrated scenario per case
    candidates = pd.read_csv(out / "candidates.csv")
    per_case = candidates["checks_passed.old_homs"] + candidates["checks_passed.moadamiya"]
    assert (candidates["checks_passed"] == per_case).all()
    assert candidates["checks_passed"].is_monotonic_decreasing
    best = candidates.loc[0, PRIOR["path"]]
    for case in CHEAP:
        calibrated = load_scenario(out / f"{case}_calibrated.yaml").scenario
        assert calibrated.behaviour.leave_threshold.value == pytest.approx(best)
        assert "joint ABC-SMC on 2 cases" in calibrated.behaviour.leave_threshold.assumed

    # the posterior is what simkit score and simkit forecast read
    posterior = str(out / "posterior.parquet")
    score = runner.invoke(app, ["score", str(caseset), "--posterior", posterior, "-n", "5", "-q",
                                "--no-plots", "-o", str(tmp_path / "score")])  # fmt: skip
    assert score.exit_code == 0, score.output
    north_homs = str(ROOT / "scenarios" / "north_homs.yaml")
    forecast = runner.invoke(app, ["forecast", north_homs, "--posterior", posterior, "-n", "5", "-q",
                                   "--no-plots", "-o", str(tmp_path / "f")])  # fmt: skip
    assert forecast.exit_code == 0, forecast.output
    assert PRIOR["path"] in pd.read_parquet(tmp_path / "f" / "runs.parquet").columns


class _Recorder:
    """Every model run of the calibrations, with the folder of the fit it is for (one worker: in process)."""

    def __init__(self, monkeypatch, root):
        from simkit.calibration import abc as abc_module
        from simkit.calibration import joint as joint_module

        self.runs: list[tuple[str, str]] = []  # (fit folder relative to root, trajectory case)
        self.fit = ""
        real_fit, real_call = joint_module.fit, abc_module.SimulationModel.__call__

        def fit(cases, priors, budget, out, **options):
            self.fit = Path(out).relative_to(root).as_posix()
            return real_fit(cases, priors, budget, out, **options)

        def call(model, parameters):
            self.runs.append((self.fit, model.targets.trajectory.case))
            return real_call(model, parameters)

        monkeypatch.setattr(joint_module, "fit", fit)
        monkeypatch.setattr(abc_module.SimulationModel, "__call__", call)

    def cases(self, fit: str) -> set[str]:
        return {case for f, case in self.runs if f == fit}


def test_leave_one_out_never_simulates_a_case_in_the_fit_that_leaves_it_out(tmp_path, monkeypatch):
    from simkit.calibration.joint import calibrate_cases, fold_seed, load_joint
    from simkit.cli.calibrate import _report_leave_one_out

    recorder = _Recorder(monkeypatch, tmp_path)
    inputs = load_joint(_caseset(tmp_path), _priors(tmp_path), {})
    result = calibrate_cases(
        inputs, 200, tmp_path / "out", leave_one_out=True, score_runs=5, seed=3, population=10,
        max_generations=1, point="median",
    )  # fmt: skip
    assert recorder.cases("out") == {"old_homs", "moadamiya"}
    assert recorder.cases("out/loo/old_homs") == {"moadamiya"}
    assert recorder.cases("out/loo/moadamiya") == {"old_homs"}
    for case in CHEAP:
        fold = json.loads((tmp_path / "out" / "loo" / case / "manifest.json").read_text())
        assert fold["held_out"] == case
        assert [c["id"] for c in fold["cases"]] == [c for c in CHEAP if c != case]
        assert not any(s.startswith(f"{case}.") for s in fold["statistics"])
        # the held-out case is scored on draws from the posterior fitted without it
        runs = pd.read_parquet(tmp_path / "out" / "out_of_sample" / "cases" / case / "runs.parquet")
        fitted = pd.read_parquet(tmp_path / "out" / "loo" / case / "posterior.parquet")
        assert len(runs) == 5 and set(runs[PRIOR["path"]]) <= set(fitted[PRIOR["path"]])
    assert list(result.table["case"]) == [*CHEAP, "pooled"]
    assert result.table.filter(like="p_documented").apply(lambda p: p.between(0, 1)).all().all()
    # each fold draws its own numbers: a seed of its own, derived from the master seed and the case
    seeds = {case: json.loads((tmp_path / "out" / "loo" / case / "manifest.json").read_text())["seed"]
             for case in CHEAP}  # fmt: skip
    assert seeds == {case: fold_seed(3, case) for case in CHEAP}
    assert len({3, *seeds.values()}) == 3
    # each side's score folder is a whole simkit score: finished, listing what it wrote at its top
    for side in ("in_sample", "out_of_sample"):
        scored = json.loads((tmp_path / "out" / side / "manifest.json").read_text())
        assert scored["kind"] == "score" and scored["finished"]
        assert scored["files"] == ["manifest.json", "scores.json", "scores.parquet"]
    # each case's row says how many effective particles the posterior it was scored on had
    for case in CHEAP:
        weights = pd.read_parquet(tmp_path / "out" / "loo" / case / "posterior.parquet")["weight"]
        row = result.table.set_index("case").loc[case]
        assert row["ess_out"] == pytest.approx(weights.sum() ** 2 / (weights**2).sum())
        assert 1 <= row["ess_in"] <= 10 and row["likeliest_in"] in (0, 1) and row["likeliest_out"] in (0, 1)
    pooled = result.table.set_index("case").loc["pooled"]
    assert pooled["likeliest_out"] == result.table["likeliest_out"].iloc[:-1].sum()
    saved = json.loads((tmp_path / "out" / "leave_one_out.json").read_text())
    assert {fit["seed"] for fit in saved["fits"].values()} == {3, *seeds.values()}
    # the report: simkit score's tables on both sides, the in/out table and the ESS, saved as text
    _report_leave_one_out(result, "Test cases", 5, tmp_path / "out", quiet=True)
    text = (tmp_path / "out" / "leave_one_out.txt").read_text()
    assert "IN SAMPLE: posterior fitted on all cases" in text
    assert "OUT OF SAMPLE: fitted without the case" in text
    assert "documented class the likeliest:" in text and "without moadamiya" in text
    # the printed table fits 80 columns whole, even with the library's longest case id
    console = Console(width=80, record=True, file=io.StringIO())
    longest = result.table.assign(case=result.table["case"].replace({"old_homs": "east_aleppo"}))
    print_leave_one_out(longest, "leave one case out", console)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80 and "…" not in text and "east_aleppo" in text


@pytest.mark.slow
def test_leave_one_out_command_prints_its_table_and_resumes_without_simulating_again(tmp_path, monkeypatch):
    recorder = _Recorder(monkeypatch, tmp_path)
    caseset, priors, out = _caseset(tmp_path), _priors(tmp_path), tmp_path / "out"
    args = _args(caseset, priors, out, "--point", "median", "--leave-one-out", "--score-runs", "10")
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "leave one case out" in result.stdout and "pooled" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines() if not line.startswith("wrote ")) <= 80
    table = pd.read_csv(out / "leave_one_out.csv")
    assert list(table["case"]) == [*CHEAP, "pooled"]
    written = json.loads((out / "manifest.json").read_text())["files"]
    assert {"leave_one_out.csv", "leave_one_out.json"} <= set(written)
    for side in ("in_sample", "out_of_sample"):
        scored = json.loads((out / side / "manifest.json").read_text())
        assert scored["finished"] and scored["files"] == ["manifest.json", "scores.json", "scores.parquet"]
        assert all((out / side / name).is_file() for name in scored["files"])
    assert "OUT OF SAMPLE: fitted without the case" in result.stdout
    assert (out / "leave_one_out.txt").read_text().strip() in result.stdout
    # rerunning reads every finished fit and scored case back: nothing is simulated again
    before = len(recorder.runs)
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert len(recorder.runs) == before
    pd.testing.assert_frame_equal(pd.read_csv(out / "leave_one_out.csv"), table)
