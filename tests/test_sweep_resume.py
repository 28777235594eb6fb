"""Interrupted sweeps keep their finished work and resume to the same tables as an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from simkit.cli import app
from simkit.scenario import Scenario
from simkit.sweep import Sweep, SweepInterrupted, WorkerLost, load_sweep_result, run_sweep
from simkit.sweep.task import simkit_model
from simkit.yamlio import InputError
from tests.conftest import CHILD_TIMEOUT, kill_group, wait_for_parts

WAER = Path(__file__).resolve().parents[1] / "scenarios" / "waer.yaml"
SIMKIT = Path(sys.executable).parent / "simkit"


def spec(**changes) -> dict:
    """3 x 2 grid x 8 replicates = 48 runs in 10 tasks of 5 runs."""
    base = {
        "scenario": str(WAER),
        "parameters": {
            "mediators.russia.leverage": {"values": [0.0, 0.3, 0.6]},
            "regime.siege_tightness": {"values": [0.6, 0.9]},
        },
        "replicates": 8,
        "seed": 3,
        "batch_size": 5,
    }
    return {**base, **changes}


def assert_same_tables(a, b) -> None:
    pd.testing.assert_frame_equal(a.points, b.points)
    pd.testing.assert_frame_equal(a.runs, b.runs)
    pd.testing.assert_frame_equal(a.summary, b.summary)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return run_sweep(Sweep(**spec()), out=tmp_path_factory.mktemp("reference"))


class StopAfter:
    """A progress callback that presses Ctrl-C once `runs` runs are done."""

    def __init__(self, runs: int):
        self.runs, self.seen = runs, 0

    def __call__(self, n: int) -> None:
        self.seen += n
        if self.seen >= self.runs:
            raise KeyboardInterrupt


@pytest.mark.parametrize("workers", [1, 2])
def test_interrupted_sweep_resumes_to_the_same_tables(reference, tmp_path, workers):
    out = tmp_path / "sweep"
    with pytest.raises(SweepInterrupted, match=r"interrupted: \d+ of 48 runs are saved in .*again to resume"):
        run_sweep(Sweep(**spec()), out=out, workers=workers, progress=StopAfter(15))
    saved = sorted((out / "parts").glob("runs-*.parquet"))
    assert 3 <= len(saved) < 10
    assert not (out / "runs.parquet").exists() and (out / "points.parquet").exists()
    saved[1].unlink()  # a part lost too (e.g. the disk filled up): it is simply redone
    resumed = run_sweep(Sweep(**spec()), out=out, workers=workers)
    assert resumed.manifest["last_session"]["tasks"] == 10 - len(saved) + 1  # only the missing tasks ran
    assert_same_tables(resumed, reference)


def test_finished_sweep_is_read_back_not_rerun(reference):
    before = (reference.out / "runs.parquet").stat().st_mtime_ns
    calls = []
    again = run_sweep(Sweep(**spec()), out=reference.out, progress=calls.append)
    assert calls == [48]
    assert (reference.out / "runs.parquet").stat().st_mtime_ns == before
    assert_same_tables(again, reference)


def test_folder_of_another_sweep_is_refused_and_left_alone(reference):
    with pytest.raises(InputError, match=r"holds another sweep \(differs in replicates: 8 there, 9 here\)"):
        run_sweep(Sweep(**spec(replicates=9)), out=reference.out)
    assert len(pd.read_parquet(reference.out / "runs.parquet")) == 48


def test_folder_with_other_files_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="is not empty and holds no simkit results"):
        run_sweep(Sweep(**spec()), out=tmp_path)


def dying_model(scenario: Scenario, params: dict, seed: int) -> dict:
    """The siege model, except that the worker process dies once at the highest leverage.

    The scenario's description carries the path of a marker file: the first run
    that sees it deletes it and kills its own process, as the OOM killer would.
    """
    marker = Path(scenario.description)
    if params["mediators.russia.leverage"] == 0.6 and marker.exists():
        marker.unlink()
        os.kill(os.getpid(), signal.SIGKILL)
    return simkit_model(scenario, params, seed)


def test_killed_pool_worker_loses_only_unfinished_tasks(tmp_path):
    marker = tmp_path / "kill-once"
    marker.touch()
    sweep = Sweep(**spec(overrides={"description": str(marker)}))
    out = tmp_path / "sweep"
    with pytest.raises(WorkerLost, match=r"a worker process died .*: \d+ of 48 runs are saved"):
        run_sweep(sweep, out=out, workers=2, model=dying_model)
    assert not marker.exists()
    assert list((out / "parts").glob("runs-*.parquet"))  # the tasks before the crash are kept
    resumed = run_sweep(sweep, out=out, workers=2, model=dying_model)
    assert_same_tables(resumed, run_sweep(sweep, out=tmp_path / "reference", model=simkit_model))


def _default_sigint() -> None:
    """Ctrl-C as in a terminal, even when the suite runs in the background (where SIGINT is ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_on_the_command_line_then_the_same_command_resumes(reference, tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec(batch_size=2)))  # 24 tasks: it cannot finish before Ctrl-C lands
    out = tmp_path / "out"
    command = [str(SIMKIT), "sweep", str(path), "--workers", "2", "--out", str(out), "--no-plots", "-q"]
    with subprocess.Popen(
        command, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint, start_new_session=True
    ) as process:  # closes its pipe, come what may
        try:
            wait_for_parts(out, process, interval=0.02)  # fails clearly if the sweep saves nothing
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=CHILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the sweep still ran {CHILD_TIMEOUT} s after Ctrl-C; killed it and its workers")
        finally:
            kill_group(process)  # never leave it (or its workers) running, so the `with` cannot wait for ever
    assert process.returncode == 130, stderr
    assert stderr.startswith("interrupted: ") and "Traceback" not in stderr
    assert not (out / "runs.parquet").exists()
    finished = CliRunner().invoke(app, command[1:])  # the same command again (in-process: saves a start-up)
    assert finished.exit_code == 0, finished.output
    resumed = load_sweep_result(out)
    assert_same_tables(resumed, reference)  # batch size differs; the runs do not
