"""Speed of a Waer run against Mesa's own floor, and of a 10,000-run ensemble on 2 workers.

Prints figures; asserts nothing. Usage:
    .venv/bin/python benchmarks/bench_run.py [--runs 10000] [--workers 2] [--single 300]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import mesa

from simkit.model import SiegeModel
from simkit.scenario import load_scenario
from simkit.single_run import run_seed

ROOT = Path(__file__).resolve().parents[1]
WAER = ROOT / "scenarios" / "waer.yaml"


class Idle(mesa.Agent):
    def step(self) -> None:
        pass


class BareModel(mesa.Model):
    """As many agents as the Waer model, doing nothing: what Mesa itself costs per day."""

    def __init__(self, agents: int, rng: int) -> None:
        super().__init__(rng=rng)
        for _ in range(agents):
            Idle(self)

    def step(self) -> None:
        self.agents.do("step")


def per_run_ms(runs: int) -> tuple[float, float, float]:
    scenario = load_scenario(WAER).scenario
    model_ms, bare_ms, days = [], [], []
    for i in range(runs):
        seed = run_seed(0, i)
        start = time.perf_counter()
        model = SiegeModel(scenario, rng=seed, record_series=False)  # as `simkit run` without --series
        outcome = model.run()
        model_ms.append(1e3 * (time.perf_counter() - start))
        steps = outcome.outcome_day + 1
        days.append(steps)
        start = time.perf_counter()
        bare = BareModel(len(model.agents), seed)
        for _ in range(steps):
            bare.step()
        bare_ms.append(1e3 * (time.perf_counter() - start))
    return statistics.median(model_ms), statistics.median(bare_ms), statistics.median(days)


def tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants (Linux /proc)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            for task in Path(f"/proc/{current}/task").iterdir():
                stack.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total


def ensemble(runs: int, workers: int) -> tuple[float, float]:
    """Wall seconds and peak MiB (whole process tree) of `simkit run` writing to a temporary folder."""
    out = Path(tempfile.mkdtemp(prefix="simkit-bench-"))
    command = [str(Path(sys.executable).with_name("simkit")), "run", str(WAER), "--runs", str(runs),
               "--workers", str(workers), "--seed", "1", "--out", str(out / "r"),
               "--no-plots", "--quiet"]  # fmt: skip
    peak = 0
    start = time.perf_counter()
    process = subprocess.Popen(command)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_kib(process.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    code = process.wait()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    shutil.rmtree(out)
    if code:
        raise SystemExit(f"simkit run failed with exit code {code}")
    return wall, peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=300, help="runs timed one by one on one core")
    parser.add_argument("--runs", type=int, default=10_000, help="runs in the parallel ensemble")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    model_ms, bare_ms, days = per_run_ms(args.single)
    print(f"Waer, {args.single} runs on one core (median {days:.0f} simulated days per run)")
    print(f"  simkit run:         {model_ms:6.2f} ms per run (median)")
    print(f"  bare Mesa, same days and agents: {bare_ms:6.2f} ms per run (median)")
    print(f"  ratio:              {model_ms / bare_ms:6.2f} x the framework's floor")
    small = max(1, args.runs // 10)
    for runs in (small, args.runs):
        wall, peak = ensemble(runs, args.workers)
        print(f"ensemble of {runs:>6} runs, {args.workers} workers: {wall:6.1f} s wall "
              f"({1e3 * wall / runs:.2f} ms per run), "
              f"peak memory {peak:,.0f} MiB (all processes)")  # fmt: skip


if __name__ == "__main__":
    main()
