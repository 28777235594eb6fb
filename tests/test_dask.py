"""A real Dask cluster (LocalCluster, two worker processes) runs the same sweep to the same tables."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dask
import pandas as pd
import pytest
from typer.testing import CliRunner

from simkit.cli import app
from simkit.executor import DaskExecutor, TaskFailed, WorkerLost, open_executor
from simkit.scenario import Scenario
from simkit.sweep import Sweep, load_sweep_result, run_sweep
from simkit.sweep.task import simkit_model
from simkit.yamlio import InputError

distributed = pytest.importorskip("distributed")

WAER = Path(__file__).resolve().parents[1] / "scenarios" / "waer.yaml"


def spec(**changes) -> dict:
    """3 x 2 grid x 6 replicates = 36 runs in 9 tasks of 4 runs."""
    base = {
        "scenario": str(WAER),
        "parameters": {
            "mediators.russia.leverage": {"values": [0.0, 0.3, 0.6]},
            "regime.siege_tightness": {"values": [0.6, 0.9]},
        },
        "replicates": 6,
        "seed": 11,
        "batch_size": 4,
    }
    return {**base, **changes}


@contextmanager
def local_cluster(workers: int) -> Iterator[distributed.Client]:
    """A client of a cluster of single-threaded worker processes on this machine.

    The scheduler's HTTP server (it runs even without a dashboard) takes a free loopback port: dask's
    default 8787 may be held by another cluster, and the warning saying so is an error in the suite.
    """
    with (
        distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",
            scheduler_port=0,
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        yield client  # the client closes before the cluster it talks to, so shutdown is clean


@pytest.fixture(scope="module")
def client():
    """Two workers, as on the 2-core CI machine."""
    with local_cluster(2) as client:
        yield client


@pytest.fixture(scope="module")
def pooled(tmp_path_factory):
    return run_sweep(Sweep(**spec()), out=tmp_path_factory.mktemp("pool"), workers=2)


def assert_same_tables(a, b) -> None:
    pd.testing.assert_frame_equal(a.points, b.points)
    pd.testing.assert_frame_equal(a.runs, b.runs)
    pd.testing.assert_frame_equal(a.summary, b.summary)


def test_dask_cluster_gives_the_same_tables_as_the_process_pool(client, pooled, tmp_path):
    result = run_sweep(Sweep(**spec()), out=tmp_path / "dask", scheduler=client)
    session = result.manifest["last_session"]
    assert session["executor"].startswith("Dask cluster at tcp://") and session["tasks"] == 9
    assert_same_tables(result, pooled)
    serial = run_sweep(Sweep(**spec()), out=tmp_path / "serial", workers=1)
    assert_same_tables(serial, pooled)


def test_command_line_reaches_the_scheduler_by_option_and_by_environment(client, pooled, tmp_path):
    import yaml

    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec()))
    address = client.scheduler.address
    by_option = tmp_path / "by_option"
    result = CliRunner().invoke(app, ["sweep", str(path), "--scheduler", address, "-o", str(by_option), "-q"])
    assert result.exit_code == 0, result.output
    by_env = tmp_path / "by_env"
    result = CliRunner().invoke(
        app, ["sweep", str(path), "-o", str(by_env), "-q"], env={"DASK_SCHEDULER_ADDRESS": address}
    )
    assert result.exit_code == 0, result.output
    for out in (by_option, by_env):
        sweep = load_sweep_result(out)
        assert sweep.manifest["last_session"]["executor"] == f"Dask cluster at {address}, 2 worker threads"
        assert_same_tables(sweep, pooled)


def test_unreachable_scheduler_is_a_one_line_error(tmp_path):
    import yaml

    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec()))
    # port 9 (discard) on loopback: nothing listens; dask retries until its connect timeout
    command = ["sweep", str(path), "--scheduler", "tcp://127.0.0.1:9", "-o", str(tmp_path / "o")]
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        result = CliRunner().invoke(app, command)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'")
    assert result.stderr.count("\n") == 1


def dying_model(scenario: Scenario, params: dict, seed: int) -> dict:
    """The siege model, except that a worker process dies once (the description names a marker file)."""
    marker = Path(scenario.description)
    if params["mediators.russia.leverage"] == 0.3 and marker.exists():
        marker.unlink()
        os.kill(os.getpid(), signal.SIGKILL)
    return simkit_model(scenario, params, seed)


def test_a_worker_that_dies_does_not_lose_the_sweep(client, tmp_path):
    marker = tmp_path / "kill-once"
    marker.touch()
    sweep = Sweep(**spec(overrides={"description": str(marker)}))
    result = run_sweep(sweep, out=tmp_path / "dask", scheduler=client, model=dying_model)
    assert not marker.exists()  # a worker did die ...
    client.wait_for_workers(2, timeout=60)  # ... and its nanny restarted it
    reference = run_sweep(sweep, out=tmp_path / "reference", model=simkit_model)
    assert_same_tables(result, reference)  # ... and the cluster reran its task: nothing lost, nothing doubled


def test_run_and_forecast_on_a_dask_cluster_equal_one_process(client, tmp_path):
    from simkit.calibration.forecast import load_posterior, run_forecast
    from simkit.ensemble import BATCH_SIZE, run_ensemble
    from simkit.scenario import load_scenario

    short = load_scenario(WAER, {"horizon_days": 420})
    runs = BATCH_SIZE + 20
    on_dask = run_ensemble(short, runs, seed=3, out=tmp_path / "dask", scheduler=client)
    here = run_ensemble(short, runs, seed=3, out=tmp_path / "here")
    pd.testing.assert_frame_equal(on_dask.runs, here.runs)
    pd.testing.assert_frame_equal(on_dask.events, here.events)
    posterior = tmp_path / "posterior.parquet"
    pd.DataFrame({"regime.implementation": [0.2, 0.8], "weight": [0.5, 0.5]}).to_parquet(posterior)
    drawn = [
        run_forecast(short, load_posterior(posterior), 30, seed=2, batch_size=10, **where)
        for where in ({"scheduler": client}, {})
    ]
    pd.testing.assert_frame_equal(drawn[0].runs, drawn[1].runs)


def failing(shared: None, item: int) -> int:
    """Item 2 fails: with a user mistake when `shared` says so, else with a bug of two lines."""
    if item == 2 and shared == "user":
        raise InputError("item 2 is refused")
    if item == 2:
        raise ValueError("bad value\nsecond line")
    return item


def killing(shared: None, item: int) -> int:
    """Every try of this task kills the worker process running it."""
    os.kill(os.getpid(), signal.SIGKILL)
    return item


@pytest.mark.parametrize("where", ["this process", "process pool", "dask"])
def test_a_failing_task_ends_the_same_way_on_every_executor(where, client):
    running = DaskExecutor(client) if where == "dask" else open_executor(1 if where == "this process" else 2)
    try:
        with pytest.raises(TaskFailed) as failed:
            list(running.map(failing, range(4), None))
        assert str(failed.value) == "a run failed (ValueError: bad value; task 2)"
        with pytest.raises(InputError, match=r"^item 2 is refused$"):  # a user's mistake, as it is
            list(running.map(failing, range(4), "user"))
    finally:
        running.close()


def test_a_task_that_keeps_killing_dask_workers_ends_in_worker_lost():
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),  # the first death is final
        local_cluster(1) as client,
        pytest.raises(WorkerLost, match=r"^Dask workers kept dying on a task"),
    ):
        list(DaskExecutor(client).map(killing, [1], None))
