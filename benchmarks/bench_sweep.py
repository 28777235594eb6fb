"""Benchmark: a 2-parameter sweep of Waer with the local process pool and with a Dask LocalCluster.

Default: a 10 x 10 grid (mediator leverage x siege tightness) with 100 replicates
per point, i.e. 10,000 runs in tasks of 100 runs, on 2 workers each way. Prints
wall time, runs per second, and the overhead per task:

    overhead per task = (wall x worker slots - seconds spent simulating inside tasks) / tasks

i.e. everything that is not simulation (scheduling, shipping tasks and results,
writing part files, the final merge and summary, idle slots at the end), spread
over the tasks. Start-up (the pool's workers importing the model; the Dask
cluster) is measured and shown apart. Also checks that both executors wrote
identical tables. Quick check: --levels 4 --replicates 10.

    .venv/bin/python benchmarks/bench_sweep.py [--levels 10] [--replicates 100] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from simkit.scenario import load_scenario
from simkit.single_run import run_seed, simulate
from simkit.sweep import Sweep, run_sweep

WAER = Path(__file__).resolve().parents[1] / "scenarios" / "waer.yaml"


def sweep_of(levels: int, replicates: int, batch_size: int) -> Sweep:
    return Sweep(
        name="bench_leverage_siege",
        scenario=WAER,
        parameters={
            "mediators.russia.leverage": {"min": 0.0, "max": 0.6, "levels": levels},
            "regime.siege_tightness": {"min": 0.5, "max": 1.0, "levels": levels},
        },
        design="grid",
        replicates=replicates,
        seed=1,
        batch_size=batch_size,
    )


def serial_ms_per_run(runs: int = 200) -> float:
    scenario = load_scenario(WAER).scenario
    began = time.perf_counter()
    for i in range(runs):
        simulate(scenario, run_seed(1, i), i)
    return 1000 * (time.perf_counter() - began) / runs


def pool_start_up(workers: int, tmp: Path) -> float:
    """Seconds the first pool of a process takes to start: a 4-run sweep, less the simulating in it.

    The fork server that imports the model is started once per process, so later pools start warm.
    """
    tiny = sweep_of(2, 1, 1).model_copy(update={"name": "start-up"})  # 4 runs, 4 tasks
    began = time.perf_counter()
    result = run_sweep(tiny, out=tmp / "start-up", workers=workers)
    return time.perf_counter() - began - result.manifest["last_session"]["task_seconds"] / workers


def report(label: str, wall: float, result, extra: str = "") -> None:
    session = result.manifest["last_session"]
    runs, tasks, slots = session["runs"], session["tasks"], session["slots"]
    overhead = (wall * slots - session["task_seconds"]) / tasks
    print(
        f"{label:<34} wall {wall:7.1f} s   {runs / wall:6.0f} runs/s   {tasks} tasks of "
        f"{runs // tasks} runs   simulating {session['task_seconds']:6.1f} s   "
        f"overhead/task {1000 * overhead:6.0f} ms{extra}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--levels", type=int, default=10, help="grid levels per parameter (points = levels^2)"
    )
    parser.add_argument("--replicates", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=100, help="runs per task")
    parser.add_argument("--skip-dask", action="store_true")
    args = parser.parse_args()
    sweep = sweep_of(args.levels, args.replicates, args.batch_size)
    total = args.levels**2 * args.replicates
    print(
        f"sweep: {args.levels}x{args.levels} points x {args.replicates} replicates = {total:,} runs, "
        f"tasks of {args.batch_size} runs, {args.workers} workers; {os.cpu_count()} CPUs, "
        f"load average before {os.getloadavg()[0]:.2f}"
    )
    ms = serial_ms_per_run()
    ideal = total * ms / 1000 / args.workers
    print(
        f"{'one run, in this process':<34} {ms:.1f} ms -> ideal wall {ideal:.1f} s on {args.workers} workers"
    )
    with tempfile.TemporaryDirectory(prefix="simkit-bench-") as tmp:
        start_up = pool_start_up(args.workers, Path(tmp))
        began = time.perf_counter()
        pooled = run_sweep(sweep, out=Path(tmp) / "pool", workers=args.workers)
        note = f"   (+ first pool start-up {start_up:.1f} s, not included)"
        report(f"process pool, {args.workers} workers", time.perf_counter() - began, pooled, note)
        if not args.skip_dask:
            from distributed import Client, LocalCluster

            began = time.perf_counter()
            with (
                LocalCluster(
                    n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
                ) as cluster,
                Client(cluster) as client,
            ):
                client.wait_for_workers(args.workers)
                start_up = time.perf_counter() - began
                began = time.perf_counter()
                dasked = run_sweep(sweep, out=Path(tmp) / "dask", scheduler=client)
                wall = time.perf_counter() - began
                note = f"   (+ cluster start-up {start_up:.1f} s, not included)"
                report(f"Dask LocalCluster, {args.workers} workers", wall, dasked, note)
            pd.testing.assert_frame_equal(pooled.runs, dasked.runs)
            pd.testing.assert_frame_equal(pooled.summary, dasked.summary)
            print("identical runs and summary tables from both executors")
    print(
        f"load average after {os.getloadavg()[0]:.2f} (above {args.workers} means other work shared the CPUs)"
    )


if __name__ == "__main__":
    main()
