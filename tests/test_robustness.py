"""Interruptions, dead workers and oversized jobs: one line, a resumable folder, no orphans, no traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import psutil
import pytest
import yaml
from typer.testing import CliRunner

from simkit.calibration.forecast import load_posterior, run_forecast
from simkit.cli import app
from simkit.ensemble import BATCH_SIZE, IDENTITY, _manifest, _Plan, _simulate, run_batches, run_ensemble
from simkit.executor import TaskFailed, WorkerLost
from simkit.scenario import load_scenario
from tests.conftest import CHILD_TIMEOUT, ROOT, WAER, kill_group, wait_for_parts

runner = CliRunner()
SIMKIT = Path(sys.executable).parent / "simkit"
SHORT = {"horizon_days": 420}
TRAJECTORY = ROOT / "calibration" / "waer_trajectory.yaml"
PRIORS = ROOT / "calibration" / "waer_priors.yaml"


@pytest.fixture(scope="module")
def short_waer():
    return load_scenario(WAER, SHORT)


@pytest.fixture(scope="module")
def posterior_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("posterior") / "posterior.parquet"
    pd.DataFrame(
        {
            "regime.implementation": [0.2, 0.5, 0.8],
            "mediators.russia.leverage": [0.01, 0.1, 0.25],
            "weight": [0.5, 0.3, 0.2],
        }
    ).to_parquet(path, index=False)
    return path


class Interrupt(Exception):
    pass


def test_an_interrupted_forecast_resumes_to_the_same_tables(short_waer, posterior_file, tmp_path):
    posterior = load_posterior(posterior_file)
    full = run_forecast(short_waer, posterior, 30, seed=3, out=tmp_path / "full", batch_size=10)
    out = tmp_path / "cut"

    def stop(n: int) -> None:
        raise Interrupt

    with pytest.raises(Interrupt):
        run_forecast(short_waer, posterior, 30, seed=3, out=out, progress=stop, batch_size=10)
    assert sorted(p.name for p in (out / "parts").glob("runs-*")) == ["runs-00000000-00000010.parquet"]
    assert not (out / "runs.parquet").exists()
    seen: list[int] = []
    resumed = run_forecast(
        short_waer, posterior, 30, seed=3, out=out, progress=seen.append, batch_size=10, workers=2
    )
    assert seen[0] == 10  # the saved batch is counted, not redone
    pd.testing.assert_frame_equal(resumed.runs, full.runs)
    pd.testing.assert_frame_equal(resumed.events, full.events)
    assert (out / "runs.parquet").read_bytes() == (tmp_path / "full" / "runs.parquet").read_bytes()
    assert not (out / "parts").exists()


def dying_batch(shared: tuple[_Plan, str], batch) -> dict:
    """The ensemble's batch, except that the worker running the second batch kills itself, once."""
    plan, marker = shared
    if batch.start == BATCH_SIZE and os.path.exists(marker):
        os.unlink(marker)
        os.kill(os.getpid(), signal.SIGKILL)
    return _simulate(plan, batch)


def failing_batch(plan: _Plan, batch) -> dict:
    if batch.start == BATCH_SIZE:
        raise ValueError("lam value too large\nsecond line of numpy's message")
    return _simulate(plan, batch)


def test_a_killed_worker_ends_in_worker_lost_and_the_folder_resumes_identically(short_waer, tmp_path):
    runs, seed = 3 * BATCH_SIZE, 7
    reference = run_ensemble(short_waer, runs, seed, out=tmp_path / "reference")
    marker = tmp_path / "kill-once"
    marker.touch()
    out = tmp_path / "e"
    manifest = _manifest(short_waer, runs, seed, False, None)
    with pytest.raises(WorkerLost, match="a worker process died"):
        run_batches(
            out,
            manifest,
            IDENTITY,
            ("runs", "events"),
            dying_batch,
            (_Plan(short_waer.scenario, seed, False), str(marker)),
            runs,
            BATCH_SIZE,
            workers=2,
        )
    assert not marker.exists()  # the worker did die
    assert not (out / "runs.parquet").exists() and (out / "manifest.json").exists()
    resumed = run_ensemble(short_waer, runs, seed, workers=2, out=out)  # the same command, run again
    pd.testing.assert_frame_equal(resumed.runs, reference.runs)
    pd.testing.assert_frame_equal(resumed.events, reference.events)


@pytest.mark.parametrize("workers", [1, 2])
def test_an_exception_in_a_run_is_one_line_and_keeps_the_finished_batches(short_waer, tmp_path, workers):
    seed, out = 2, tmp_path / "e"
    manifest = _manifest(short_waer, 3 * BATCH_SIZE, seed, False, None)
    with pytest.raises(TaskFailed) as err:
        run_batches(
            out,
            manifest,
            IDENTITY,
            ("runs", "events"),
            failing_batch,
            _Plan(short_waer.scenario, seed, False),
            3 * BATCH_SIZE,
            BATCH_SIZE,
            workers=workers,
        )
    assert str(err.value).startswith("a run failed (ValueError: lam value too large; task ")
    assert "\n" not in str(err.value)
    if workers == 1:  # in a pool the batch before may still be running when the failure arrives
        assert (out / "parts" / f"runs-{0:08d}-{BATCH_SIZE:08d}.parquet").exists()


def _descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    """Processes still running (a zombie holds nothing and is gone once reaped)."""
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            pass
    return alive


@pytest.fixture
def pooled_run() -> Iterator[Callable[..., tuple[subprocess.Popen, list[str]]]]:
    """Starts `simkit run` of Waer on two workers in a child process and returns once it saved runs.

    Called with the result folder, the number of runs and further options; gives the process and the
    arguments after `simkit` (to run the same command again). A process still running when the test ends
    (a failed test) is killed with its process group, not waited for.
    """
    started: list[subprocess.Popen] = []

    def start(out: Path, runs: int, *options: str) -> tuple[subprocess.Popen, list[str]]:
        args = ["run", str(WAER), "-n", str(runs), "--workers", "2", "-o", str(out), "-q", "--no-plots"]
        args += options
        command = [str(SIMKIT), *args]
        started.append(subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True))
        wait_for_parts(out, started[-1])
        return started[-1], args

    yield start
    for process in started:
        with process:  # closes its pipe
            kill_group(process)  # and any worker left (the test below checks that killing it suffices)


def test_no_orphans_after_the_parent_is_killed(pooled_run, tmp_path):
    process, _ = pooled_run(tmp_path / "e", 20000)
    family = _descendants(process.pid)
    assert len(family) >= 3  # the fork server and two workers (and multiprocessing's helpers)
    process.kill()
    process.wait(timeout=30)
    deadline = time.monotonic() + 15
    while _alive(family) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = _alive(family)
    for orphan in left:  # do not leave them running even when the test fails
        orphan.kill()
    assert left == []


def _one_line(result, code: int, *phrases: str) -> None:
    assert result.exit_code == code, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["run", str(WAER)],
        ["compare", str(WAER), "--against", str(TRAJECTORY)],
        ["forecast", str(WAER), "--posterior", "POSTERIOR"],
        ["calibrate", str(WAER), "--against", str(TRAJECTORY), "--priors", str(PRIORS), "--budget", "400"],
    ],
    ids=["run", "compare", "forecast", "calibrate"],
)
def test_a_negative_seed_is_one_line(command, tmp_path, posterior_file):
    command = [str(posterior_file) if c == "POSTERIOR" else c for c in command]
    result = runner.invoke(app, [*command, "--seed", "-1", "-o", str(tmp_path / "o"), "-q"])
    _one_line(result, 2, "--seed must be a whole number from 0 to 2^63-1, found -1")


def test_job_sizes_are_checked_before_anything_runs(tmp_path):
    out = str(tmp_path / "o")
    _one_line(runner.invoke(app, ["run", str(WAER), "--runs", "1e30", "-o", out]), 2, "'--runs'")
    huge = runner.invoke(app, ["run", str(WAER), "--runs", str(10**30), "-o", out])
    _one_line(huge, 2, "household-days, over simkit's limit of 1e+12", "--allow-large")
    many = runner.invoke(app, ["run", str(WAER), "--runs", "10000000", "-o", out])
    _one_line(many, 2, "10,000,000 runs x 610 days x 200 households")
    budget = runner.invoke(
        app,
        [
            "calibrate",
            str(WAER),
            "--against",
            str(TRAJECTORY),
            "--priors",
            str(PRIORS),
            "--budget",
            str(10**30),
            "-o",
            out,
        ],
    )
    _one_line(budget, 2, "--budget 1,000,000,000,000,000,000,000,000,000,000 asks for", "--allow-large")
    assert budget.stdout == ""
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "scenario": str(WAER),
                "replicates": 5 * 10**6,
                "parameters": {"mediators.russia.leverage": {"values": [0.1, 0.2]}},
            }
        )
    )
    sweep = runner.invoke(app, ["sweep", str(spec), "-o", out])
    _one_line(sweep, 2, "the sweep (2 points x 5,000,000 replicates) asks for", "--allow-large")
    spec.write_text(
        yaml.safe_dump(
            {
                "scenario": str(WAER),
                "replicates": 2,
                "seed": -1,
                "parameters": {"mediators.russia.leverage": {"values": [0.1, 0.2]}},
            }
        )
    )
    _one_line(runner.invoke(app, ["sweep", str(spec), "-o", out]), 2, "seed")


@pytest.mark.slow
def test_a_worker_killed_under_the_command_line_is_one_line_and_the_same_command_resumes(
    pooled_run, tmp_path
):
    out = tmp_path / "e"
    process, args = pooled_run(out, 3000, "--set", "horizon_days=420")
    workers = [p for p in _descendants(process.pid) if p.parent().pid != process.pid]
    workers[0].kill()
    _, stderr = process.communicate(timeout=CHILD_TIMEOUT)
    assert process.returncode == 1, stderr
    assert stderr.startswith("error: a worker process died") and stderr.count("\n") == 1, stderr
    assert "runs are saved in" in stderr and "rerun the same command to resume" in stderr
    resumed = runner.invoke(app, args)
    assert resumed.exit_code == 0, resumed.output
    reference = run_ensemble(load_scenario(WAER, SHORT), 3000, 1, workers=2)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet"), reference.runs)


def test_an_interrupted_calibration_resumes_from_its_database(waer, tmp_path):
    from simkit.calibration import load_trajectory
    from simkit.calibration.abc import calibrate
    from simkit.calibration.priors import load_priors

    priors_path = tmp_path / "priors.yaml"
    prior = {
        "path": "regime.implementation",
        "distribution": "uniform",
        "low": 0.1,
        "high": 0.9,
        "reason": "r",
    }
    priors_path.write_text(yaml.safe_dump({"case": "waer", "priors": [prior]}))
    priors = load_priors(priors_path, waer.scenario)
    trajectory = load_trajectory(TRAJECTORY)
    out = tmp_path / "abc"
    options = {"population": 20, "seed": 4, "max_generations": 3, "point": "median"}

    def stop_after_first(generation) -> None:
        raise Interrupt

    with pytest.raises(Interrupt):
        calibrate(waer, trajectory, priors, 400, out, progress=stop_after_first, **options)
    assert len(pd.read_csv(out / "generations.csv")) == 1 and (out / "abc.db").exists()
    assert not (out / "posterior.parquet").exists()
    seen = []
    result = calibrate(waer, trajectory, priors, 400, out, progress=seen.append, **options)
    assert [g.t for g in seen] == [1, 2]  # generation 0 is not redone
    assert [g.t for g in result.generations] == [0, 1, 2]
    assert list(pd.read_csv(out / "generations.csv")["t"]) == [0, 1, 2]
    assert json.loads((out / "manifest.json").read_text())["resumed"] == 1
    again = runner.invoke(
        app,
        [
            "calibrate",
            str(WAER),
            "-a",
            str(TRAJECTORY),
            "-p",
            str(priors_path),
            "-b",
            "400",
            "-o",
            str(out),
            "--population",
            "20",
            "--seed",
            "4",
        ],
    )
    _one_line(again, 2, "already holds a calibration (finished")
