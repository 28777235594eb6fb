"""Calibration: prior files and their errors, recovery of a known parameter, and the command."""

from __future__ import annotations

import dataclasses
import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from simkit.calibration import load_trajectory
from simkit.calibration.abc import POINTS, SimulationModel, calibrate
from simkit.calibration.point import candidate_points, score_candidates
from simkit.calibration.priors import PriorFile, load_priors
from simkit.calibration.summary_stats import Targets, trajectory_from_run
from simkit.cli import app
from simkit.cli.calibrate import Point
from simkit.scenario import load_scenario, with_overrides
from simkit.single_run import run_seed, simulate
from simkit.yamlio import InputError
from tests.conftest import ROOT, WAER

WAER_TRAJECTORY = ROOT / "calibration" / "waer_trajectory.yaml"
WAER_PRIORS = ROOT / "calibration" / "waer_priors.yaml"
runner = CliRunner()

GOOD = {
    "path": "regime.implementation",
    "distribution": "uniform",
    "low": 0.1,
    "high": 0.9,
    "reason": "stages",
}


def _write(tmp_path, priors, name="priors.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"case": "waer", "priors": priors}, sort_keys=False))
    return path


# ---------------------------------------------------------------- prior files


def test_committed_waer_priors_load_and_every_prior_has_a_reason(waer):
    priors = load_priors(WAER_PRIORS, waer.scenario)
    assert len(priors.priors) >= 5
    assert all(len(p.reason) > 30 for p in priors.priors)
    for prior in priors.priors:
        lo, hi = prior.support()
        assert prior.rv().cdf(lo) == pytest.approx(0.0) and prior.rv().cdf(hi) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"distribution": "normal"}, "distribution"),
        ({"low": 0.9, "high": 0.1}, "expected low < high"),
        ({"reason": "  "}, "reason: expected non-blank text"),
        ({"sigma": 1.0}, "sigma: unknown key"),
        ({"distribution": "beta"}, "a beta prior needs a, b"),
        ({"distribution": "loguniform", "low": 0.0}, "loguniform prior needs low > 0"),
        ({"low": "a lot"}, "low: expected a number"),
    ],
)
def test_bad_prior_is_named_by_file_line_and_field(tmp_path, change, message):
    path = _write(tmp_path, [{**GOOD, **change}])
    with pytest.raises(InputError) as err:
        load_priors(path)
    text = str(err.value)
    assert text.startswith(f"{path}:") and message in text and "priors.0" in text
    assert len(text.splitlines()) == 1


def test_prior_must_fit_the_scenario(tmp_path, waer):
    missing = _write(tmp_path, [{**GOOD, "path": "regime.implemention"}], "typo.yaml")
    with pytest.raises(InputError, match=r"typo.yaml:\d+: priors.0.path: no field 'regime.implemention'"):
        load_priors(missing, waer.scenario)
    too_wide = _write(tmp_path, [{**GOOD, "high": 1.5}], "wide.yaml")  # implementation is a probability
    with pytest.raises(InputError, match=r"bound 1.5 is not a valid value of regime.implementation"):
        load_priors(too_wide, waer.scenario)
    not_a_number = _write(tmp_path, [{**GOOD, "path": "mediator.name"}], "name.yaml")
    with pytest.raises(InputError, match="not a numeric parameter"):
        load_priors(not_a_number, waer.scenario)
    twice = _write(tmp_path, [GOOD, GOOD], "twice.yaml")
    with pytest.raises(InputError, match=r"more than one for regime\.implementation"):
        load_priors(twice)
    with pytest.raises(InputError, match="cannot read file"):
        load_priors(tmp_path / "absent.yaml")


# ---------------------------------------------------------------- recovery

TRUTH = {"behaviour.leave_threshold": 2.2}
PRIOR = {
    "path": "behaviour.leave_threshold",
    "distribution": "uniform",
    "low": 1.5,
    "high": 5.0,
    "reason": "test: a wide range around the truth",
}
LONG = {"horizon_days": 1000}  # every evacuation under a surrender runs to its end: the count is the signal


def _synthetic_waer(scenario):
    """Waer's surrender and control, evacuees and releases as one run at TRUTH produced them."""
    scenario = with_overrides(scenario, TRUTH)
    documented = load_trajectory(WAER_TRAJECTORY)
    # only the endgame is kept as key events: the earlier ones carry no information on leave_threshold
    # and would only add noise that a small test budget cannot average out
    endgame = {"surrender_agreement", "control"}
    events = [e.model_copy(update={"key": e.id in endgame}) for e in documented.events]
    trajectory = documented.model_copy(update={"events": events})
    for i in range(100):
        record = simulate(scenario, run_seed(11, i), i)
        if record.run["outcome"] == "surrender_evacuation" and record.run["evacuated"] > 5000:
            rows = [event[1:2] + event[3:] for event in record.events]
            return trajectory_from_run(
                trajectory, scenario, rows, record.run, f"waer.yaml at {TRUTH}, run {i}"
            )
    pytest.fail("no surrendering run at the true parameters")


def test_calibration_recovers_a_known_parameter(tmp_path, waer):
    """How many residents register for the buses identifies leave_threshold: ABC finds it from one run.

    The Waer scenario with a longer horizon, so that the number evacuated is not
    cut short by the end of the run; everything else as in scenarios/waer.yaml.
    """
    loaded = dataclasses.replace(waer, scenario=with_overrides(waer.scenario, LONG))
    synthetic = _synthetic_waer(loaded.scenario)
    priors = PriorFile(case="synthetic", priors=[PRIOR])
    generations = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = calibrate(
            loaded,
            synthetic,
            priors,
            budget=2000,
            out=tmp_path / "abc",
            population=100,
            workers=1,
            seed=3,
            max_generations=8,
            progress=generations.append,
            point="median",
        )
    assert generations and result.total_simulations <= 2000 + 1000  # a last generation may run over a little
    row = result.summary.set_index("parameter").loc["behaviour.leave_threshold"]
    truth, prior_median = TRUTH["behaviour.leave_threshold"], (PRIOR["low"] + PRIOR["high"]) / 2
    # One run is one noisy observation, so the posterior cannot be sharp (a run-to-run spread of the
    # evacuee count worth ~0.7 in leave_threshold): it must move toward the truth, keep it inside its
    # 90% interval, and be clearly narrower than the prior.
    assert abs(row["median"] - truth) < 0.7 * abs(prior_median - truth)
    assert row["q05"] <= truth <= row["q95"]
    prior_sd = (PRIOR["high"] - PRIOR["low"]) / np.sqrt(12)
    assert row["sd"] < 0.75 * prior_sd
    # what a user gets: a posterior table, the pyabc database and a scenario that runs
    for name in (
        "abc.db",
        "posterior.parquet",
        "posterior_summary.csv",
        "posterior_summary.json",
        "generations.csv",
        "marginals.png",
        "manifest.json",
    ):
        assert (tmp_path / "abc" / name).stat().st_size > 0, name
    posterior = pd.read_parquet(tmp_path / "abc" / "posterior.parquet")
    assert posterior["weight"].sum() == pytest.approx(1.0)
    calibrated = load_scenario(result.calibrated_scenario)
    param = calibrated.scenario.behaviour.leave_threshold
    assert param.value == pytest.approx(row["median"])
    assert param.assumed.startswith("calibrated: posterior median")
    assert calibrated.scenario.regime == waer.scenario.regime  # nothing outside the prior moved
    manifest = json.loads((tmp_path / "abc" / "manifest.json").read_text())
    assert manifest["reproducible"] and manifest["total_simulations"] == result.total_simulations


# ---------------------------------------------------------------- the command


def _calibrate_args(tmp_path, priors, *extra):
    return [
        "calibrate",
        str(WAER),
        "--against",
        str(WAER_TRAJECTORY),
        "--priors",
        str(priors),
        "--budget",
        "60",
        "--population",
        "20",
        "--out",
        str(tmp_path / "out"),
        *extra,
    ]


def test_calibrate_command_runs_and_its_scenario_is_accepted_by_run_and_compare(tmp_path):
    priors = _write(tmp_path, [GOOD])
    result = runner.invoke(
        app,
        _calibrate_args(tmp_path, priors, "--max-generations", "1", "--point-runs", "20"),
        env={"COLUMNS": "80"},  # a log or CI: the table must still read
    )
    assert result.exit_code == 0, result.output
    assert "generation 0:" in result.stderr and "posterior after 1 generations" in result.stdout
    table = result.stdout[: result.stdout.index("wrote ")]
    assert max(map(len, table.splitlines())) <= 80 and "…" not in table
    assert re.search(r"regime\.\s*implementation", table)  # whole, or wrapped after its dot
    assert re.search(r"uniform\(0\.1, 0\.9\)\s+\d\.\d+\s+\d\.\d+–\d\.\d+", table), table  # noqa: RUF001
    calibrated = tmp_path / "out" / "waer_calibrated.yaml"
    # the default point: the candidate with the lowest distance, scored over the medians and the particles
    candidates = pd.read_csv(tmp_path / "out" / "candidates.csv")
    assert len(candidates) == 21 and "median" in set(candidates["candidate"])
    assert candidates["checks_passed"].is_monotonic_decreasing
    chosen = load_scenario(calibrated).scenario.regime.implementation
    assert chosen.value == pytest.approx(candidates.loc[0, GOOD["path"]])
    assert f"{candidates.loc[0, 'candidate']} of the posterior, best check" in chosen.assumed
    for command in (
        ["run", str(calibrated), "-n", "5", "-o", str(tmp_path / "r"), "-q", "--no-plots"],
        [
            "compare",
            str(calibrated),
            "--against",
            str(WAER_TRAJECTORY),
            "-n",
            "5",
            "-o",
            str(tmp_path / "c"),
            "-q",
            "--no-plots",
        ],
    ):
        assert runner.invoke(app, command).exit_code == 0, command
    again = runner.invoke(app, _calibrate_args(tmp_path, priors))
    assert again.exit_code == 2 and "already holds a calibration" in again.stderr


def test_calibrate_command_bad_input_exits_2_with_one_line(tmp_path):
    bad = _write(tmp_path, [{**GOOD, "path": "regime.nonsense"}])
    result = runner.invoke(app, _calibrate_args(tmp_path, bad))
    assert result.exit_code == 2 and "no field 'regime.nonsense'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    good = _write(tmp_path, [GOOD], "good.yaml")
    small = runner.invoke(
        app, [*_calibrate_args(tmp_path, good)[:-2], "--budget", "10", "--out", str(tmp_path / "s")]
    )
    assert small.exit_code == 2 and "too small" in small.stderr
    unreachable = runner.invoke(app, _calibrate_args(tmp_path, good, "--scheduler", "tcp://127.0.0.1:9"))
    assert unreachable.exit_code == 2 and "cannot reach a Dask scheduler" in unreachable.stderr
    unknown_point = runner.invoke(app, _calibrate_args(tmp_path, good, "--point", "mode"))
    assert unknown_point.exit_code == 2 and "'mode' is not one of" in unknown_point.stderr


def test_the_command_offers_the_points_the_library_knows():
    assert tuple(Point) == POINTS


def test_the_point_chosen_is_the_candidate_whose_ensemble_best_matches_the_record(waer):
    """A committee that never concedes never surrenders: that candidate must rank last.

    (Concession rate 0: the daily surrender hazard is 0. A red-line firmness of 1 no longer means never:
    hunger and the threat can make the firmest committee drop its red line, docs/model.md "Surrender".)
    """
    targets = Targets.build(load_trajectory(WAER_TRAJECTORY), waer.scenario)
    model = SimulationModel(waer.scenario, targets, frozenset())
    path = "committees.0.concession_rate"
    posterior = pd.DataFrame({path: [0.0, 0.5], "weight": [0.7, 0.3]})
    candidates = candidate_points(posterior, {path: 0.25}, count=2)
    assert list(candidates["candidate"]) == ["median", "particle 0", "particle 1"]  # heaviest first
    scored = score_candidates({"waer": model}, candidates, runs=40, seed=2)
    assert scored["checks_passed"].is_monotonic_decreasing
    last = scored.iloc[-1]
    assert last["candidate"] == "particle 0" and last["D_outcome"] == 1.0 and last["D"] == scored["D"].max()



def test_a_screened_point_check_scores_its_finalists_as_a_full_check_would(waer):
    """Screening reuses the finalists' first runs: their scores equal those of a check of them alone.

    Five candidates, screened on 10 runs; the best 2 run on to 30. Runs i of every candidate share a seed,
    so a finalist's 30 runs are the same whether or not they were screened first.
    """
    targets = Targets.build(load_trajectory(WAER_TRAJECTORY), waer.scenario)
    model = SimulationModel(waer.scenario, targets, frozenset())
    path = "committees.0.concession_rate"
    posterior = pd.DataFrame({path: [0.0, 2.0, 0.5, 0.05], "weight": [0.4, 0.3, 0.2, 0.1]})
    candidates = candidate_points(posterior, {path: 0.6}, count=4)
    screened = score_candidates({"waer": model}, candidates, runs=30, seed=2, screen_runs=10, finalists=2)
    assert list(screened["runs"]) == [30, 30, 10, 10, 10]
    assert sorted(screened["candidate"]) == sorted(candidates["candidate"])
    finalists = candidates[candidates["candidate"].isin(screened["candidate"].head(2))]
    alone = score_candidates({"waer": model}, finalists, runs=30, seed=2, screen_runs=10, finalists=2)
    columns = ["candidate", "checks_passed", "checks", "D"]
    pd.testing.assert_frame_equal(screened[columns].head(2), alone[columns])
    assert list(alone.columns) == list(screened.columns)  # one table, screened or not
    # the never-conceding committee (concession rate 0) cannot be a finalist: it fails the outcome check
    assert "particle 0" not in set(screened["candidate"].head(2))


# ---------------------------------------------------------------- pyabc's pieces, made cheap


def test_the_flat_prior_has_scipys_uniform_density_and_draws():
    """Same density on a grid (the bounds included, as scipy counts them), same draws from the same seed."""
    from scipy import stats

    from simkit.calibration.pyabc_parts import Flat

    for loc, scale in ((0.1, 0.85), (-1.3, 1.3010299956639813), (30.0, 90.0)):
        flat, uniform = Flat(loc, scale), stats.uniform(loc, scale)
        grid = [loc - scale, loc, *np.linspace(loc, loc + scale, 17), loc + scale, loc + 2 * scale]
        assert [flat.pdf(x) for x in grid] == [float(uniform.pdf(x)) for x in grid]
        np.random.seed(11)
        ours = [flat.rvs() for _ in range(50)]
        np.random.seed(11)
        assert ours == [float(uniform.rvs()) for _ in range(50)]


def test_the_kernel_proposes_inside_the_box_with_twice_the_populations_covariance():
    """Every proposal lies inside the priors' box; unbounded, proposals spread three times as widely.

    The perturbation's covariance is twice the population's, so a proposal (a particle plus the
    perturbation) varies as the particles' covariance plus twice it.
    """
    from simkit.calibration.pyabc_parts import Kernel

    generator = np.random.default_rng(5)
    particles = pd.DataFrame(generator.random((40, 3)), columns=["a.x", "b", "c.d"])
    weights = np.full(40, 1 / 40)
    box = {"a.x": (0.0, 1.0), "b": (0.2, 0.8), "c.d": (0.0, 1.0)}
    bounded, free = Kernel(box), Kernel()
    bounded.fit(particles, weights)
    free.fit(particles, weights)
    np.random.seed(3)
    drawn = pd.DataFrame([dict(bounded.rvs()) for _ in range(2000)])
    assert ((drawn >= [0.0, 0.2, 0.0]) & (drawn <= [1.0, 0.8, 1.0])).all().all()
    free_draws = pd.DataFrame([dict(free.rvs()) for _ in range(4000)])
    ratio = np.diag(free_draws.cov().to_numpy()) / np.diag(particles.cov(ddof=0).to_numpy())
    assert ratio == pytest.approx([3.0, 3.0, 3.0], rel=0.15)
