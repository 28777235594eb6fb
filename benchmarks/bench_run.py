"""Speed of a Waer run against Mesa's own floor and the retired driver, of calibration, of an ensemble.

Per Waer run on one core, all in this process on the same seeds: the model's day loop, the retired
Mesa event-list driver (`loop_equivalence.EventListDriven`) and a bare Mesa model with as many idle
agents run for the same days with `run_for`. Then calibration simulations per second (abc's
`SimulationModel` on Waer's priors and trajectory, at the scenario's own values) against plain runs
per second (`simulate`, what an ensemble worker does per run), on the same seeds; then the wall
time and memory of 1,000- and 10,000-run ensembles. Prints figures; asserts nothing. Usage:
    .venv/bin/python benchmarks/bench_run.py [--runs 10000] [--workers 2] [--single 300] [--calib 300]
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
import numpy as np
from loop_equivalence import EventListDriven

from simkit.calibration.abc import SimulationModel
from simkit.calibration.priors import load_priors, parameter_value
from simkit.calibration.summary_stats import Targets
from simkit.calibration.trajectory import load_trajectory
from simkit.model import SiegeModel
from simkit.scenario import Scenario, load_scenario
from simkit.scenario.paths import apply_overrides, whole_number
from simkit.single_run import run_seed, simulate

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


def timed_run(driver: type[SiegeModel], scenario: Scenario, seed: int) -> tuple[float, int]:
    """Milliseconds of one run (built and run as `simkit run` without --series) and its days."""
    start = time.perf_counter()
    outcome = driver(scenario, rng=seed, record_series=False).run()
    return 1e3 * (time.perf_counter() - start), outcome.outcome_day + 1


def per_run_ms(runs: int) -> dict[str, float]:
    """Median ms per Waer run: day loop, retired event-list driver, bare Mesa two ways; and median days."""
    scenario = load_scenario(WAER).scenario
    times: dict[str, list[float]] = {"model": [], "old": [], "bare": [], "bare_do": [], "days": []}
    agents = len(SiegeModel(scenario, rng=0).agents)
    for i in range(runs):
        seed = run_seed(0, i)
        ms, days = timed_run(SiegeModel, scenario, seed)
        times["model"].append(ms)
        times["days"].append(days)
        times["old"].append(timed_run(EventListDriven, scenario, seed)[0])
        start = time.perf_counter()
        BareModel(agents, seed).run_for(days)
        times["bare"].append(1e3 * (time.perf_counter() - start))
        start = time.perf_counter()
        bare = BareModel(agents, seed)
        for _ in range(days):
            bare.agents.do("step")
        times["bare_do"].append(1e3 * (time.perf_counter() - start))
    return {key: statistics.median(values) for key, values in times.items()}


def calibration_rates(n: int) -> tuple[float, float]:
    """Calibration simulations per second and plain runs per second on Waer, the same n runs.

    The calibration's simulation function is given the scenario's own values of its priors' parameters
    (log-scaled ones through log10 and back) and the seeds plain runs get, so both simulate the same
    runs: the difference is the calibration's own work (a scenario per particle, summary statistics).
    """
    scenario = load_scenario(WAER).scenario
    priors = load_priors(ROOT / "calibration" / "waer_priors.yaml", scenario)
    targets = Targets.build(load_trajectory(ROOT / "calibration" / "waer_trajectory.yaml"), scenario)
    logged = frozenset(p.path for p in priors.priors if p.log_scale)
    whole = frozenset(p.path for p in priors.priors if type(parameter_value(scenario, p.path)) is int)
    model = SimulationModel(scenario, targets, whole, logged)
    own = {p.path: float(parameter_value(scenario, p.path)) for p in priors.priors}
    sampled = {k: np.log10(v) if k in logged else v for k, v in own.items()}
    plain = calibration = 0.0
    for i in range(n):  # interleaved, so a busy machine slows both alike
        np.random.seed(i)
        seed = int(np.random.randint(0, 2**62))  # what SimulationModel draws after the same seeding
        start = time.perf_counter()
        simulate(scenario, seed, i)
        plain += time.perf_counter() - start
        np.random.seed(i)
        start = time.perf_counter()
        model(sampled)
        calibration += time.perf_counter() - start
    return n / calibration, n / plain


def particles_identical(n: int) -> int:
    """Run `n` prior draws of the library's priors on every case, scenario built both ways, same seeds.

    Each particle's scenario is built as a calibration builds it (`SimulationModel.scenario_at`: the
    paths resolved once per case, only the sections on them rebuilt) and by a full validation of the
    overridden data (what `with_overrides` did before issue 10); both run with the same seed.
    Returns the number of particles whose scenarios or event logs and outcomes differ.
    """
    differ = 0
    generator = np.random.default_rng(1)
    for case in ("waer", "old_homs", "daraya", "moadamiya", "east_aleppo"):
        scenario = load_scenario(ROOT / "scenarios" / f"{case}.yaml").scenario
        priors = load_priors(ROOT / "calibration" / "library_priors.yaml", scenario).priors
        whole = {p.path for p in priors if type(parameter_value(scenario, p.path)) is int}
        particle = SimulationModel(scenario, targets=None, whole=frozenset(whole))  # no targets read
        for i in range(n):
            values = {}
            for prior in priors:
                value = prior.to_value(float(prior.pyabc_rv().rvs(random_state=generator)))
                values[prior.path] = whole_number(value) if prior.path in whole else value
            fast = particle.scenario_at(values)
            data = apply_overrides(scenario.model_dump(mode="json"), values, origin="abc particle")
            full = Scenario.model_validate(data)
            runs = []
            for built in (fast, full):
                model = SiegeModel(built, rng=run_seed(1, i), record_series=False)
                outcome = model.run()
                runs.append(repr((model.events.rows, outcome.as_row())))
            differ += fast != full or runs[0] != runs[1]
    return differ


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
    parser.add_argument("--runs", type=int, default=10_000, help="runs in the parallel ensemble (0: none)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--calib", type=int, default=300, help="runs timed for calibration vs plain runs")
    parser.add_argument("--particles", type=int, default=20, help="prior draws per case run both ways")
    args = parser.parse_args()

    ms = per_run_ms(args.single)
    print(f"Waer, {args.single} runs on one core (median {ms['days']:.0f} simulated days per run)")
    print(f"  simkit run (day loop):             {ms['model']:6.2f} ms per run (median)")
    print(f"  retired Mesa event-list driver:    {ms['old']:6.2f} ms per run (median)")
    print(f"  bare Mesa run_for, same days and agents: {ms['bare']:6.2f} ms per run (median)")
    print(f"  bare Mesa, agents.do('step') in a plain loop: {ms['bare_do']:6.2f} ms per run (median)")
    print(f"  day loop / bare Mesa floor:        {ms['model'] / ms['bare']:6.2f} x (target <= 0.6)")
    print(f"  day loop / retired driver:         {ms['model'] / ms['old']:6.2f} x "
          f"({ms['old'] / ms['model']:.2f} x faster)")  # fmt: skip
    calibration, plain = calibration_rates(args.calib)
    print(f"Waer calibration simulations vs plain runs, {args.calib} each on one core")
    print(f"  calibration (abc SimulationModel): {calibration:7.1f} simulations/s")
    print(f"  plain runs (simulate):             {plain:7.1f} runs/s")
    print(f"  ratio:                             {calibration / plain:7.2f} x (target >= 0.85)")
    if args.particles:
        differ = particles_identical(args.particles)
        verdict = "identical" if not differ else f"{differ} DIFFER"
        print(
            f"  particle scenarios, sections rebuilt vs full validation: {args.particles} library prior "
            f"draws x 5 cases, same seeds: {verdict}"
        )
    for runs in (max(1, args.runs // 10), args.runs) if args.runs else ():
        wall, peak = ensemble(runs, args.workers)
        print(f"ensemble of {runs:>6} runs, {args.workers} workers: {wall:6.1f} s wall "
              f"({1e3 * wall / runs:.2f} ms per run), "
              f"peak memory {peak:,.0f} MiB (all processes)")  # fmt: skip


if __name__ == "__main__":
    main()
