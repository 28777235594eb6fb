"""Likelihood-free calibration to documented trajectories with pyabc's ABC-SMC: one case, or several at once.

Why ABC: the model's likelihood of a dated event sequence is intractable, but
simulating is cheap (~10 ms a run), so the posterior is approximated by keeping
parameter draws whose runs land close to the documented trajectory.

The pieces:

* data and statistics: `summary_stats` (key-event indicators and censored date
  offsets, quantity offsets, outcome indicator; the documented trajectory is the
  point 1/0 of that vector);
* distance (`simkit.calibration.distance`): pyabc's `AdaptivePNormDistance` (p = 1), which rescales each
  statistic by its mean absolute deviation over each generation's simulations
  (accepted and rejected), so days, people and indicators weigh alike and the
  weights follow the statistics' spread as the population narrows. The mean (not
  median) absolute deviation keeps 0/1 indicators in: their median deviation is
  0 whenever most runs agree, which would silently drop them. Several cases
  (`fit` with `joint`, `simkit.calibration.joint`): each particle runs every case
  once (`CaseModels`), statistics are named by case, and each case's statistics
  share a weight of 1 / cases, so every case weighs alike;
* threshold: the median of the last generation's distances (pyabc's default);
* loguniform priors are sampled as uniform on log10 scale, so rates and scales
  are perturbed by factors; the posterior tables hold the values themselves;
* one simulation per particle, seeded from numpy's global generator, which pyabc
  seeds per worker: a run with one worker and a given --seed is reproducible,
  with several workers it is not (pyabc reseeds its worker processes);
* budget: generations run while the predicted cost of the next one (population
  size / last acceptance rate) fits in what is left; a generation that would
  exceed the remainder is stopped by pyabc's evaluation cap and discarded.

Outputs in the result folder: `abc.db` (pyabc history, SQLite), `posterior.parquet`
(last generation: parameters and weights), `posterior_summary.csv` and `.json`
(weighted quantiles per parameter, prior and reason), `generations.csv` (epsilon,
simulations, acceptance rate, ESS, wall time, seconds inside the model and pyabc's
overhead share per generation), `marginals.png`, `<scenario>_calibrated.yaml` (a
case set: `<case>_calibrated.yaml` per case) and `manifest.json` (command, seeds,
versions, timings, the generations again).
The folder is a result store folder (`simkit.store`): its manifest is written
first, `generations.csv` after every generation; an interrupted calibration
(Ctrl-C, a killed process) is resumed from `abc.db` by the same command, from
the last finished generation (pyabc's `ABCSMC.load`). A resumed calibration
continues the same ABC-SMC, but not with the same random draws as an
uninterrupted one (numpy's global generator is reseeded at the resume, and the
adaptive distance is refitted on the last population), so it is a valid
posterior, not a bit-identical one.
The calibrated scenario is, by default, the candidate (the medians or one of the
heaviest particles) whose ensemble best passes the posterior predictive check, then
has the lowest distance D (`point`, `simkit.calibration.point`; the scores are in
`candidates.csv`); with `point="median"`, the posterior medians.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from simkit.calibration.priors import PriorFile, parameter_value
from simkit.calibration.summary_stats import Targets, observed_statistics, summary_statistics
from simkit.calibration.trajectory import Trajectory
from simkit.executor import ExecutionError
from simkit.limits import check_count, check_seed, check_work
from simkit.manifest import software
from simkit.model import SiegeModel
from simkit.scenario import LoadedScenario, Scenario, dump_scenario, with_overrides
from simkit.scenario.paths import OverridePlan, whole_number
from simkit.store import ResultFolder, write_bytes
from simkit.yamlio import InputError

__all__ = [
    "CalibrationResult",
    "CaseInput",
    "CaseModels",
    "Generation",
    "SimulationModel",
    "calibrate",
    "fit",
    "pack",
    "read_calibration",
    "weighted_quantile",
]

POINTS = ("best", "median")
"""How the calibrated scenario is chosen from the posterior (see `calibrate`)."""

TIMING = "_simulate_s"
"""Key of the seconds a model call spent simulating, among the statistics it returns (not itself a statistic:
the distance compares only the observed statistics' keys; `simkit.calibration.distance` adds it up)."""

STATISTICS = "statistics"
"""Key of a particle's statistics: one array in the order of their names (`pack`; simkit.calibration.distance
says why)."""


def pack(statistics: Mapping[str, float], names: Sequence[str]) -> dict[str, np.ndarray]:
    """Named statistics as pyabc sees them: one array under `STATISTICS`, in the order of `names`.

    Raises:
        KeyError: a name the statistics lack.
    """
    return {STATISTICS: np.array([statistics[name] for name in names], dtype=float)}


@dataclass(frozen=True)
class SimulationModel:
    """One case's runs: parameters in, one run's summary statistics out. Picklable (module-level, plain data).

    Attributes:
        scenario: the scenario being calibrated (parameters not in the prior stay as they are).
        targets: the trajectory matched to the scenario.
        whole: dotted paths of whole-number parameters (rounded before use).
        logged: dotted paths sampled on log10 scale (pyabc's values are their logarithms).
        parent: pid of the process that runs the calibration; a sampler's worker process (another
            pid) binds itself to its parent's life on its first simulation (no orphans after a kill).
        _plans: the sampled paths resolved against the scenario (`OverridePlan`), once per process;
            None for a path set no plan can be built for (each particle then words its error).
    """

    scenario: Scenario
    targets: Targets
    whole: frozenset[str]
    logged: frozenset[str] = frozenset()
    parent: int = 0
    _plans: dict[tuple[str, ...], OverridePlan | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def values(self, sampled: Mapping[str, float]) -> dict[str, float]:
        """Parameter values for what pyabc sampled (log scale undone)."""
        return {k: 10.0 ** float(v) if k in self.logged else float(v) for k, v in sampled.items()}

    def scenario_at(self, values: Mapping[str, float], origin: str = "abc particle") -> Scenario:
        """The scenario with these parameter values (whole-number parameters rounded)."""
        fixed = {k: whole_number(v) if k in self.whole else float(v) for k, v in values.items()}
        paths = tuple(fixed)
        if paths not in self._plans:  # a path set no plan can be built for is remembered as None
            try:
                self._plans[paths] = OverridePlan(self.scenario, paths)
            except (InputError, ValueError):
                self._plans[paths] = None
        plan = self._plans[paths]
        if plan is None:
            return with_overrides(self.scenario, fixed, origin=origin)  # words the error as --set does
        try:
            return plan.apply(fixed, origin=origin)
        except (TypeError, ValueError):  # pydantic.ValidationError is a ValueError
            return with_overrides(self.scenario, fixed, origin=origin)  # words the error as --set does

    def __call__(self, parameters: Mapping[str, float]) -> dict[str, float]:
        """Simulate one run at these sampled parameters and return its summary statistics."""
        if self.parent and os.getpid() != self.parent:
            _bind_worker()
        scenario = self.scenario_at(self.values(parameters))
        seed = int(np.random.randint(0, 2**62))  # pyabc seeds numpy in each worker
        model = SiegeModel(scenario, rng=seed, record_series=False)  # the statistics read no series
        outcome = model.run()
        return summary_statistics(self.targets, model.events.rows, outcome.as_row())


@dataclass(frozen=True)
class CaseModels:
    """The model pyabc calls: one run of every case at the sampled parameters, their statistics, the time.

    One case (a scenario and its trajectory) keeps the statistics' own names; a
    case set (`prefixed`) names each `<case id>.<statistic>`. The seconds spent
    in the runs and their statistics come back under `TIMING`.

    Attributes:
        cases: (case id, its model), in the case set's order.
        prefixed: name statistics by case (a joint calibration, even of one case left after leave-one-out).
    """

    cases: tuple[tuple[str, SimulationModel], ...]
    prefixed: bool = False

    @property
    def models(self) -> dict[str, SimulationModel]:
        """Each case's model by case id."""
        return dict(self.cases)

    def key(self, case: str, statistic: str) -> str:
        """The name a case's statistic has in the calibration."""
        return f"{case}.{statistic}" if self.prefixed else statistic

    def statistics(self) -> dict[str, list[str]]:
        """Each case's statistic names (as in `names`), by case id."""
        return {
            case: [self.key(case, name) for name in observed_statistics(model.targets)]
            for case, model in self.cases
        }

    def names(self) -> list[str]:
        """Every statistic's name, in the order of the packed array pyabc sees (`observed`, a run's)."""
        return [name for names in self.statistics().values() for name in names]

    def observed(self) -> dict[str, np.ndarray]:
        """The documented trajectories' statistics, every case's, packed (`pack`)."""
        values = {
            self.key(case, name): value
            for case, model in self.cases
            for name, value in observed_statistics(model.targets).items()
        }
        return pack(values, self.names())

    def __call__(self, parameters: Mapping[str, float]) -> dict[str, np.ndarray | float]:
        """One run of each case at these parameters: their statistics, packed, and the seconds they took."""
        started = time.perf_counter()
        values: list[float] = []
        for _, model in self.cases:
            stats = model(parameters)
            values.extend(stats[name] for name in observed_statistics(model.targets))
        return {STATISTICS: np.array(values, dtype=float), TIMING: time.perf_counter() - started}


_bound: set[int] = set()


def _bind_worker() -> None:
    """In a pyabc sampler's worker process: die with the parent, deaf to Ctrl-C (once per process).

    Ctrl-C reaches the whole process group; the parent reports it in one line and keeps what finished.
    """
    if os.getpid() not in _bound:
        import signal

        from simkit._forkserver_quiet import die_with_parent

        die_with_parent()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _bound.add(os.getpid())


@dataclass(frozen=True)
class Generation:
    """One ABC-SMC generation, as reported while running and in generations.csv and the manifest.

    Attributes:
        t: generation index (0 = the first, sampled from the prior).
        epsilon: its acceptance threshold.
        simulations: model runs (particles evaluated x cases).
        accepted: particles accepted (the population).
        acceptance_rate: accepted / particles evaluated.
        ess: effective sample size of the importance weights (Kish).
        wall_time_s: wall time of the generation (sampling, weights, pyabc's bookkeeping).
        total_simulations: model runs so far, the prior sample that fits the first scales included.
        evaluations: particles evaluated (each runs every case once).
        simulate_s: seconds spent inside the model over every evaluation, summed over the workers.
        overhead_share: 1 - simulate_s / (wall_time_s x worker slots): the share of the workers' time
            not spent simulating (pyabc's sampling, weighting and database, and idle workers).
    """

    t: int
    epsilon: float
    simulations: int
    accepted: int
    acceptance_rate: float
    ess: float
    wall_time_s: float
    total_simulations: int
    evaluations: int = 0
    simulate_s: float = math.nan
    overhead_share: float = math.nan


@dataclass
class CalibrationResult:
    """What `calibrate` wrote and found."""

    out: Path
    generations: list[Generation]
    posterior: pd.DataFrame
    summary: pd.DataFrame
    calibrated_scenario: Path | None
    wall_time_s: float
    total_simulations: int
    stop_reason: str
    calibrated_scenarios: dict[str, Path] = field(default_factory=dict)
    overhead_share: float = math.nan


@dataclass(frozen=True)
class CaseInput:
    """One case a calibration fits: its scenario as loaded (with any --set) and its documented trajectory.

    Attributes:
        id: the case's id (the trajectory's case for a single calibration, the case set's id in a joint one).
        loaded: the scenario.
        trajectory: the documented trajectory.
        trajectory_path: the trajectory's file, recorded in the manifest.
    """

    id: str
    loaded: LoadedScenario
    trajectory: Trajectory
    trajectory_path: str | Path | None = None


def weighted_quantile(x: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Quantile of weighted draws (inverse of the weighted empirical CDF)."""
    order = np.argsort(x)
    cumulative = np.cumsum(weights[order])
    return float(x[order][min(np.searchsorted(cumulative, q * cumulative[-1]), len(x) - 1)])


def overhead_share(simulate_s: float, wall_s: float, slots: int) -> float:
    """The share of the workers' time (wall x slots) not spent inside the model; NaN when not measured."""
    if not (wall_s > 0 and slots > 0) or math.isnan(simulate_s):
        return math.nan
    return 1.0 - simulate_s / (wall_s * slots)


def calibrate(
    loaded: LoadedScenario,
    trajectory: Trajectory,
    priors: PriorFile,
    budget: int,
    out: str | Path,
    *,
    trajectory_path: str | Path | None = None,
    **options,
) -> CalibrationResult:
    """Calibrate one scenario to its documented trajectory; see `fit` for the options.

    Args:
        loaded: the scenario to calibrate.
        trajectory: the documented trajectory to fit.
        priors: the parameters to fit (checked against the scenario).
        budget: most simulations to spend (the prior sample that calibrates the adaptive distance counts too).
        out: result folder (see `fit`).
        trajectory_path: the trajectory file, recorded in the manifest.
        **options: keyword options of `fit`.
    """
    case = CaseInput(trajectory.case, loaded, trajectory, trajectory_path)
    return fit([case], priors, budget, out, joint=False, **options)


def fit(
    cases: Sequence[CaseInput],
    priors: PriorFile,
    budget: int,
    out: str | Path,
    *,
    joint: bool = True,
    population: int = 200,
    workers: int = 1,
    scheduler: str | None = None,
    seed: int = 1,
    max_generations: int = 30,
    min_acceptance_rate: float = 0.002,
    progress: Callable[[Generation], None] | None = None,
    command: str | None = None,
    priors_path: str | Path | None = None,
    point: str | None = "best",
    point_runs: int = 200,
    allow_large: bool = False,
    on_start: Callable[[int], None] | None = None,
    reuse_finished: bool = False,
    manifest_extra: Mapping[str, object] | None = None,
) -> CalibrationResult:
    """Run ABC-SMC until the simulation budget, `max_generations` or `min_acceptance_rate` stops it.

    Every particle is one run of each case at the particle's parameters (the
    other parameters stay each case's own); `joint` names the statistics by
    case and weighs the cases alike in the distance (`simkit.calibration.distance`).

    Args:
        cases: the cases to fit (one for `simkit calibrate SCENARIO --against TRAJECTORY`).
        priors: the parameters to fit (checked against every case's scenario).
        budget: most model runs to spend (a particle costs one run per case; the prior sample that
            calibrates the adaptive distance counts too).
        out: result folder (created; an interrupted calibration of the same inputs there is resumed,
            a finished one or one of other inputs is refused).
        joint: a case set's calibration (statistics named by case, cases weighted alike).
        population: particles per generation.
        workers: local processes (ignored with `scheduler`).
        scheduler: address of a running Dask scheduler, e.g. tcp://127.0.0.1:8786.
        seed: numpy seed (reproducible with one local worker).
        max_generations: most generations.
        min_acceptance_rate: stop when a generation accepts less than this.
        progress: called after each generation.
        command: the command line, recorded in the manifest.
        priors_path: the prior file, recorded in the manifest.
        point: which posterior point becomes the calibrated scenario(s): "best" (best check, then lowest
            D, of `point_runs`-run ensembles of the medians and the heaviest particles, over all cases),
            "median", or None for none (a leave-one-out fold needs only its posterior).
        point_runs: runs per candidate ensemble (per case) for `point="best"`.
        allow_large: go past the work-size limit (`simkit.limits.MAX_WORK`) for the budget.
        on_start: called once the folder is open, with the generations an interrupted calibration
            there had finished (0 for a new one).
        reuse_finished: read a finished calibration of the same inputs back instead of refusing it.
        manifest_extra: more entries for the manifest (e.g. the case set, the case left out).

    Raises:
        InputError: bad options, an unusable folder, or an unreachable scheduler.
    """
    import pyabc

    from simkit.calibration.distance import TimedDistance, case_weights

    check_options([c.loaded for c in cases], budget, population, workers, seed, point or "median", point_runs,
                  allow_large)  # fmt: skip
    models = []
    for case in cases:
        scenario = case.loaded.scenario
        targets = Targets.build(case.trajectory, scenario)
        whole = frozenset(p.path for p in priors.priors if _is_whole(parameter_value(scenario, p.path)))
        logged = frozenset(p.path for p in priors.priors if p.log_scale)
        models.append((case.id, SimulationModel(scenario, targets, whole, logged, os.getpid())))
    model = CaseModels(tuple(models), prefixed=joint)
    prior = pyabc.Distribution(**{p.name: p.pyabc_rv() for p in priors.priors})
    distance = TimedDistance(model.names(), case_weights(model.statistics()) if joint else None)
    manifest = {
        "kind": "calibration",
        **software(command),
        **_inputs(cases, joint),
        "priors": str(priors_path) if priors_path else None,
        "priors_hash": _hash(priors),
        "budget": budget,
        "population": population,
        "runs_per_particle": len(cases),
        "point": point,
        "point_runs": point_runs if point == "best" else None,
        "workers": workers,
        "scheduler": scheduler,
        "seed": seed,
        "reproducible": scheduler is None and workers == 1,
        "distance": (
            "mean over cases of each case's mean scaled statistic: pyabc AdaptivePNormDistance(p=1, "
            "scale=mean absolute deviation, max weight ratio 100) with fixed weights 1/(cases x the case's "
            "statistics)"
            if joint
            else "pyabc AdaptivePNormDistance(p=1, scale=mean absolute deviation, max weight ratio 100)"
        ),
        "epsilon": "pyabc default: median of the previous generation's distances",
        "statistics": model.names(),
        "abc_db_statistics": ABC_DB_STATISTICS,
        **dict(manifest_extra or {}),
    }
    with ResultFolder(out, manifest, CALIBRATION_IDENTITY, others=_another_calibration) as folder:
        previous = folder.previous or {}
        if "finished" in previous:
            if reuse_finished:
                return read_calibration(folder.out)
            raise InputError(
                f"{folder.out} already holds a calibration (finished {previous['finished']}); "
                "choose another --out"
            )
        resumed = previous.get("kind") == "calibration" and (folder.out / "abc.db").exists()
        folder.manifest["resumed"] = previous.get("resumed", 0) + 1 if resumed else 0
        folder.start()
        return _calibrate_into(
            folder, resumed, model, prior, distance, cases, priors, budget,
            population=population, workers=workers, scheduler=scheduler, seed=seed,
            max_generations=max_generations, min_acceptance_rate=min_acceptance_rate, progress=progress,
            point=point, point_runs=point_runs, on_start=on_start,
        )  # fmt: skip


def _inputs(cases: Sequence[CaseInput], joint: bool) -> dict:
    """The scenarios and trajectories fitted, for the manifest (their hashes: the folder's identity)."""
    if not joint:
        (case,) = cases
        return {
            "scenario": str(case.loaded.path),
            "scenario_hash": case.loaded.hash,
            "overrides": case.loaded.overrides,
            "trajectory": str(case.trajectory_path) if case.trajectory_path else case.trajectory.case,
            "trajectory_hash": _hash(case.trajectory),
        }
    records = [
        {
            "id": case.id,
            "scenario": str(case.loaded.path),
            "scenario_hash": case.loaded.hash,
            "trajectory": str(case.trajectory_path) if case.trajectory_path else case.trajectory.case,
            "trajectory_hash": _hash(case.trajectory),
        }
        for case in cases
    ]
    return {
        "cases": records,
        "overrides": cases[0].loaded.overrides,
        "scenario_hash": _combined([(r["id"], r["scenario_hash"]) for r in records]),
        "trajectory_hash": _combined([(r["id"], r["trajectory_hash"]) for r in records]),
    }


def _combined(pairs: list[tuple[str, str]]) -> str:
    return hashlib.sha256(json.dumps(pairs, separators=(",", ":")).encode()).hexdigest()


def check_options(
    scenarios: Sequence[LoadedScenario],
    budget: int,
    population: int = 200,
    workers: int = 1,
    seed: int = 1,
    point: str = "best",
    point_runs: int = 200,
    allow_large: bool = False,
) -> None:
    """The checks `calibrate` makes of its options before anything runs (the command makes them first).

    Args:
        scenarios: every case's scenario (one for a single trajectory); a particle runs each once.
        budget: most model runs.
        population: particles per generation.
        workers: local processes.
        seed: numpy seed.
        point: how the calibrated point is chosen.
        point_runs: runs per candidate ensemble.
        allow_large: go past the work-size limit.

    Raises:
        InputError: one line naming the option.
    """
    check_seed(seed)
    check_count(workers, "--workers")
    if population < 10:
        raise InputError(f"--population must be at least 10, found {population}")
    per_particle = len(scenarios)
    least = 2 * population * per_particle
    if budget < least:
        cases = f" x {per_particle} cases" if per_particle > 1 else ""
        raise InputError(
            f"--budget {budget} is too small for population {population}{cases}: at least {least}"
        )
    for loaded in scenarios:
        check_work(budget // per_particle, loaded.scenario, f"--budget {budget:,}", allow_large)
    if point not in POINTS:
        raise InputError(f"--point must be one of {', '.join(POINTS)}, found {point!r}")
    if point_runs < 10:
        raise InputError(f"--point-runs must be at least 10, found {point_runs}")


ABC_DB_STATISTICS = "packed; kernel 2 x covariance"
"""How abc.db holds a particle's statistics (one array, `pack`) and which kernel made its proposals (twice
the population's covariance, `simkit.calibration.pyabc_parts.Kernel`); earlier calibrations held one row
per statistic and used pyabc's default kernel, and are not resumed by this version (the folder's identity
says so)."""

CALIBRATION_IDENTITY = (
    "scenario_hash", "trajectory_hash", "priors_hash", "population", "seed", "abc_db_statistics",
)  # fmt: skip
"""What must match for an interrupted calibration in a folder to be resumed (the budget may change)."""


def _another_calibration(out: Path, previous: dict, manifest: dict) -> str:
    if previous.get("kind") not in ("calibration", None) or "abc.db" not in previous.get("files", ["abc.db"]):
        return f"{out} holds results that are not a calibration; choose another --out"
    from simkit.store import differences

    changed = differences(previous, manifest, CALIBRATION_IDENTITY)
    return f"{out} already holds a calibration of other inputs ({changed}); choose another --out"


def _hash(model) -> str:
    canonical = json.dumps(model.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _calibrate_into(
    folder: ResultFolder,
    resumed: bool,
    model: CaseModels,
    prior,
    distance,
    cases: Sequence[CaseInput],
    priors: PriorFile,
    budget: int,
    *,
    population: int,
    workers: int,
    scheduler: str | None,
    seed: int,
    max_generations: int,
    min_acceptance_rate: float,
    progress: Callable[[Generation], None] | None,
    point: str | None,
    point_runs: int,
    on_start: Callable[[int], None] | None,
) -> CalibrationResult:
    """ABC-SMC into a locked result folder, new or resumed from its abc.db; then the posterior files."""
    import pyabc

    from simkit.calibration.pyabc_parts import Kernel, OneModel

    out = folder.out
    db = folder.path("abc.db")
    runs = len(cases)
    earlier = _earlier_generations(out) if resumed else []
    if on_start:
        on_start(len(earlier))
    quiet = _quiet_pyabc()  # our own per-generation lines replace pyabc's INFO log
    try:
        sampler, client = _sampler(workers, scheduler)
    except BaseException:
        _restore(quiet)
        raise
    slots = max(1, sum(client.nthreads().values())) if client is not None else workers
    np.random.seed(seed + len(earlier))  # a resume draws afresh rather than repeating generation 0's draws
    started = time.perf_counter()

    def save(generation: Generation) -> None:
        done = [*earlier, *generations_so_far]
        write_bytes(folder.path("generations.csv"),
                    pd.DataFrame([asdict(g) for g in done]).to_csv(index=False).encode())  # fmt: skip
        folder.manifest["generation_details"] = [_plain(asdict(g)) for g in done]
        folder.save()
        if progress:
            try:
                progress(generation)
            except BaseException as err:  # the caller's own exception: passed on as it is
                raised_by_progress.append(err)
                raise

    raised_by_progress: list[BaseException] = []

    generations_so_far: list[Generation] = []
    prior_sample: dict | None = None
    try:
        box = {p.name: p.sampled_support() for p in priors.priors}
        abc = pyabc.ABCSMC(model, prior, distance, population_size=population, sampler=sampler,
                           model_prior=OneModel(), transitions=Kernel(box))  # fmt: skip
        if resumed:
            try:
                abc.load(f"sqlite:///{db.resolve()}", 1)
            except Exception as err:  # pyabc's errors vary with what is wrong with the file
                raise InputError(
                    f"{db}: cannot resume the calibration from it ({type(err).__name__}); "
                    "its finished generations are kept there; choose another --out to start afresh"
                ) from None
        else:
            abc.new(f"sqlite:///{db.resolve()}", model.observed())
        try:
            generations, stop_reason, prior_sample = _run(
                abc, distance, budget // runs, population, max_generations, min_acceptance_rate,
                lambda g: (generations_so_far.append(g), save(g)), runs=runs, slots=slots,
            )  # fmt: skip
        except (InputError, ExecutionError):
            raise
        except Exception as err:  # pyabc's sampler when a worker process dies, or a run that raises
            if err in raised_by_progress:
                raise
            done = len(earlier) + len(generations_so_far)
            first = str(err).strip().splitlines()[0] if str(err).strip() else ""
            raise ExecutionError(
                f"the calibration stopped ({type(err).__name__}{': ' + first if first else ''}); "
                f"{done} finished generation{'s are' if done != 1 else ' is'} saved in {out}; "
                "rerun the same command to resume"
            ) from err
    finally:
        _restore(quiet)
        if client is not None:
            client.close()
    generations = [*earlier, *generations]
    abc_wall = time.perf_counter() - started
    wall = abc_wall + sum(g.wall_time_s for g in earlier)
    if not generations:
        raise InputError(
            f"no generation finished within --budget {budget}; raise the budget or lower --population"
        )

    history = abc.history
    particles, weights = history.get_distribution(m=0, t=history.max_t)
    posterior = particles.reset_index(drop=True)[[p.name for p in priors.priors]].copy()
    for prior in priors.priors:
        posterior[prior.name] = [prior.to_value(x) for x in posterior[prior.name]]
    posterior["weight"] = np.asarray(weights) / np.sum(weights)
    summary = _summary(posterior, priors, [c.loaded.scenario for c in cases])
    total = generations[-1].total_simulations
    medians = dict(zip(summary["parameter"], summary["median"], strict=True))

    folder.write_table("posterior.parquet", pa.Table.from_pandas(posterior, preserve_index=False))
    write_bytes(folder.path("posterior_summary.csv"), summary.to_csv(index=False).encode())
    folder.write_json("posterior_summary.json", _json_records(summary))
    write_bytes(folder.path("generations.csv"),
                pd.DataFrame([asdict(g) for g in generations]).to_csv(index=False).encode())  # fmt: skip

    from simkit.calibration.figures import plot_marginals

    plot_marginals(posterior, posterior["weight"].to_numpy(), priors.priors, medians,
                   folder.path("marginals.png"))  # fmt: skip
    written: dict[str, Path] = {}
    if point is not None:
        chosen, origin = _calibrated_point(
            model.models, posterior, medians, point, point_runs, seed, workers, folder, scheduler
        )
        if model.prefixed:
            ids = ", ".join(c.id for c in cases)
            origin += f" (joint ABC-SMC on {len(cases)} cases: {ids}; {total} simulations)"
        else:
            origin += f" (ABC-SMC on {cases[0].trajectory.case}, {total} simulations)"
        for case in cases:
            name = (
                f"{case.id}_calibrated.yaml" if model.prefixed else f"{case.loaded.path.stem}_calibrated.yaml"
            )
            written[case.id] = folder.path(name)
            dump_scenario(model.models[case.id].scenario_at(chosen, origin=origin), written[case.id])
    measured = [g for g in generations if not math.isnan(g.simulate_s)]
    simulate_s = sum(g.simulate_s for g in measured) + (prior_sample or {}).get("simulate_s", 0.0)
    measured_wall = sum(g.wall_time_s for g in measured) + (prior_sample or {}).get("wall_time_s", 0.0)
    share = overhead_share(simulate_s, measured_wall, slots) if measured else math.nan
    folder.manifest.update(
        {
            "total_simulations": total,
            "generations": len(generations),
            "stop_reason": stop_reason,
            "wall_time_s": round(wall, 1),
            "worker_slots": slots,
            "overhead": {
                "simulate_s": round(simulate_s, 1),
                "wall_time_s": round(measured_wall, 1),
                "share": None if math.isnan(share) else round(share, 4),
                "definition": "1 - seconds inside the model (all workers) / (ABC wall time x worker slots), "
                "over the prior sample and the generations run by this process",
            },
            "calibrated_scenarios": {case: path.name for case, path in written.items()},
        }
    )
    if prior_sample is not None:
        folder.manifest["prior_sample"] = prior_sample
    folder.finish()
    return CalibrationResult(
        out, generations, posterior, summary, next(iter(written.values()), None), wall, total, stop_reason,
        written, share,
    )  # fmt: skip


def read_calibration(out: str | Path) -> CalibrationResult:
    """A finished calibration read back from its folder (posterior, summary, generations, manifest).

    Raises:
        InputError: a folder without a finished calibration's files.
    """
    out = Path(out)
    try:
        manifest = json.loads((out / "manifest.json").read_text())
        posterior = pd.read_parquet(out / "posterior.parquet")
        summary = pd.read_csv(out / "posterior_summary.csv")
    except (OSError, ValueError) as err:
        raise InputError(f"{out}: cannot read its calibration back ({type(err).__name__})") from None
    written = {case: out / name for case, name in manifest.get("calibrated_scenarios", {}).items()}
    share = (manifest.get("overhead") or {}).get("share")
    return CalibrationResult(
        out, _earlier_generations(out), posterior, summary, next(iter(written.values()), None),
        float(manifest.get("wall_time_s", math.nan)), int(manifest.get("total_simulations", 0)),
        str(manifest.get("stop_reason", "")), written, math.nan if share is None else float(share),
    )  # fmt: skip


def _earlier_generations(out: Path) -> list[Generation]:
    """The generations an interrupted calibration finished (its generations.csv), to continue from."""
    path = out / "generations.csv"
    if not path.is_file():
        return []
    try:
        frame = pd.read_csv(path)
        return [Generation(**{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()})
                for row in frame.to_dict("records")]  # fmt: skip
    except (OSError, ValueError, TypeError, pd.errors.ParserError):
        return []


def _run(
    abc,
    distance,
    budget: int,
    population: int,
    max_generations: int,
    min_acceptance_rate: float,
    progress: Callable[[Generation], None] | None,
    *,
    runs: int = 1,
    slots: int = 1,
) -> tuple[list[Generation], str, dict | None]:
    """ABCSMC.run's loop, opened up to report each generation and to keep within the budget.

    Args:
        abc: the pyabc ABCSMC, new or loaded.
        distance: its `TimedDistance` (the seconds spent simulating, per generation).
        budget: most particle evaluations (the model runs' budget / runs per evaluation).
        population: particles per generation.
        max_generations: most generations.
        min_acceptance_rate: stop below this acceptance rate.
        progress: called after each generation.
        runs: model runs per particle evaluation (cases), to report simulations.
        slots: worker slots, for the overhead share.

    Returns:
        the generations run, why the loop stopped, and (for a new calibration) the prior sample's
        simulations, seconds inside the model and wall time.
    """
    from pyabc.weighted_statistics import effective_sample_size

    initialising = time.perf_counter()
    t0 = abc.initialize_components_before_run(
        minimum_epsilon=0.0,
        max_nr_populations=max_generations,
        min_acceptance_rate=min_acceptance_rate,
        max_total_nr_simulations=budget,
        max_walltime=None,
        min_eps_diff=0.0,
    )
    prior_sample = population  # the distance's scales are fitted on a prior sample of one population
    prior_info = None
    if t0 == 0 and -1 in distance.simulate_seconds:
        wall = time.perf_counter() - initialising
        seconds = distance.simulate_seconds[-1]
        prior_info = {
            "simulations": prior_sample * runs,
            "simulate_s": round(seconds, 2),
            "wall_time_s": round(wall, 2),
            "overhead_share": _rounded(overhead_share(seconds, wall, slots)),
        }
    generations: list[Generation] = []
    reason = f"reached {max_generations} generations"
    try:
        for t in range(t0, max_generations):  # t0 > 0 when resuming: generations count from the start
            spent = abc.history.total_nr_simulations + prior_sample
            left = budget - spent
            if generations:
                expected = population / max(generations[-1].acceptance_rate, 1e-9)
                if expected > left:
                    reason = (
                        f"budget: the next generation would need ~{expected * runs:,.0f} simulations, "
                        f"{left * runs:,} left"
                    )
                    break
            abc.min_acceptance_rate = max(min_acceptance_rate, population / max(left, 1))
            started = time.perf_counter()
            result = abc.run_generation(t=t)
            if not result["successful"]:
                reason = (
                    f"generation {t} stopped: it would have exceeded the budget or the lowest acceptance rate"
                )
                break
            weights = abc.history.get_weighted_distances(t=t)["w"].to_numpy()  # not the whole population
            evaluations = int(abc.history.get_all_populations().set_index("t").loc[t, "samples"])
            wall = time.perf_counter() - started
            seconds = distance.simulate_seconds.get(t, math.nan)
            generation = Generation(
                t=t,
                epsilon=float(abc.eps(t)),
                simulations=evaluations * runs,
                accepted=len(weights),
                acceptance_rate=result["acceptance_rate"],
                ess=float(effective_sample_size(weights)),
                wall_time_s=round(wall, 2),
                total_simulations=(abc.history.total_nr_simulations + prior_sample) * runs,
                evaluations=evaluations,
                simulate_s=round(seconds, 2),
                overhead_share=_rounded(overhead_share(seconds, wall, slots)),
            )
            generations.append(generation)
            if progress:
                progress(generation)
            if abc.check_terminate(t=t, acceptance_rate=result["acceptance_rate"]):
                reason = (
                    "budget spent"
                    if abc.history.total_nr_simulations + prior_sample >= budget
                    else f"acceptance rate below {min_acceptance_rate}"
                    if result["acceptance_rate"] < min_acceptance_rate
                    else f"reached {max_generations} generations"
                )
                break
    finally:
        abc.history.done(end_time=dt.datetime.now())
        abc.sampler.stop()
    return generations, reason, prior_info


def _rounded(value: float) -> float:
    return value if math.isnan(value) else round(value, 4)


def _plain(record: dict) -> dict:
    """A generation for JSON: NaN as null."""
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()}


def _quiet_pyabc() -> dict[logging.Logger, int]:
    """Raise pyabc's loggers ("ABC", "ABC.Sampler", ...) to WARNING; returns their levels to restore."""
    names = ["ABC", *(name for name in logging.root.manager.loggerDict if name.startswith("ABC."))]
    levels = {}
    for name in names:
        logger = logging.getLogger(name)
        levels[logger] = logger.level
        logger.setLevel(logging.WARNING)
    return levels


def _restore(levels: dict[logging.Logger, int]) -> None:
    for logger, level in levels.items():
        logger.setLevel(level)


def _sampler(workers: int, scheduler: str | None):
    import pyabc

    if scheduler is not None:
        from distributed import Client

        try:
            client = Client(scheduler, timeout=10)
        except (OSError, TimeoutError) as err:
            raise InputError(
                f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({err})"
            ) from None
        return pyabc.sampler.DaskDistributedSampler(dask_client=client, batch_size=20), client
    if workers == 1:
        return pyabc.sampler.SingleCoreSampler(), None
    return pyabc.sampler.MulticoreEvalParallelSampler(n_procs=workers), None


def _calibrated_point(
    models: Mapping[str, SimulationModel],
    posterior: pd.DataFrame,
    medians: dict[str, float],
    point: str,
    runs: int,
    seed: int,
    workers: int,
    folder: ResultFolder,
    scheduler: str | None = None,
) -> tuple[dict[str, float], str]:
    """The parameter values of the calibrated scenario(s) and the provenance saying how they were chosen."""
    out = folder.out
    if point == "median":
        return medians, f"calibrated: posterior median, {out.as_posix()}/posterior_summary.csv"
    from simkit.calibration.point import FINALISTS, SCREEN_RUNS, candidate_points, score_candidates

    candidates = candidate_points(posterior, medians)
    scored = score_candidates(models, candidates, runs, seed, workers, scheduler)
    write_bytes(folder.path("candidates.csv"), scored.to_csv(index=False).encode())
    best = scored.iloc[0]
    over = f" over {len(models)} cases" if len(models) > 1 else ""
    each = " per case" if len(models) > 1 else ""
    screened = int(scored["runs"].min())
    finalists = int((scored["runs"] == runs).sum())
    how = (
        f"{screened} runs each{each}, the best {finalists} then {runs}"
        if screened < runs
        else f"{runs} runs each{each}"
    )
    origin = (
        f"calibrated: {best['candidate']} of the posterior, best check ({best['checks_passed']} of "
        f"{best['checks']}{over}; D {best['D']:.3f}) of the medians and the {len(candidates) - 1} heaviest "
        f"particles ({how}), {out.as_posix()}/candidates.csv"
    )
    folder.manifest["point_check"] = {
        "candidates": len(candidates),
        "screen_runs": screened,
        "finalists": finalists,
        "runs": runs,
        "simulations": int(scored["runs"].sum()) * len(models),
        "rule": f"every candidate run {SCREEN_RUNS} times per case; the best {FINALISTS} by checks, then D, "
        "run on to --point-runs (their first runs reused); the chosen point is the best of those on all runs",
    }
    return {name: float(best[name]) for name in medians}, origin


def _summary(posterior: pd.DataFrame, priors: PriorFile, scenarios: Sequence[Scenario]) -> pd.DataFrame:
    """Weighted quantiles of each parameter, prior and reason; `scenario_value` NaN if the cases differ."""
    weights = posterior["weight"].to_numpy()
    rows = []
    for prior in priors.priors:
        x = posterior[prior.name].to_numpy()
        mean = float(np.sum(weights * x))
        lo, hi = prior.support()
        values = {parameter_value(scenario, prior.path) for scenario in scenarios}
        rows.append(
            {
                "parameter": prior.path,
                "scenario_value": values.pop() if len(values) == 1 else math.nan,
                "prior": _describe(prior),
                "prior_low": lo,
                "prior_high": hi,
                "median": weighted_quantile(x, weights, 0.5),
                "mean": mean,
                "sd": math.sqrt(float(np.sum(weights * (x - mean) ** 2))),
                "q05": weighted_quantile(x, weights, 0.05),
                "q10": weighted_quantile(x, weights, 0.10),
                "q90": weighted_quantile(x, weights, 0.90),
                "q95": weighted_quantile(x, weights, 0.95),
                "reason": prior.reason,
            }
        )
    return pd.DataFrame(rows)


def _describe(prior) -> str:
    lo, hi = prior.support()
    match prior.distribution:
        case "beta":
            return f"beta(a={prior.a:g}, b={prior.b:g}) on [{lo:g}, {hi:g}]"
        case "truncnormal":
            return f"truncnormal(mean={prior.mean:g}, sd={prior.sd:g}) on [{lo:g}, {hi:g}]"
        case kind:
            return f"{kind}({lo:g}, {hi:g})"


def _is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_records(frame: pd.DataFrame) -> list[dict]:
    return [
        {k: (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()}
        for r in frame.to_dict("records")
    ]
