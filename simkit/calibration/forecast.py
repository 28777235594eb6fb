"""Forecasts that carry a calibration's parameter uncertainty: each run draws its parameters from a posterior.

`simkit run` on a scenario holding posterior medians gives the run-to-run
(stochastic) spread at one parameter point. A forecast on the posterior itself
also spreads the behavioural parameters as the calibration left them:

* run i draws one particle of the posterior (`posterior.parquet` of `simkit
  calibrate`) with probability equal to its weight, using a generator seeded
  from (master seed, i, PARTICLE_STREAM) only, so the draw does not depend on
  the number of workers or on the other runs;
* of that particle it applies the values of the **behavioural** parameters
  (`BEHAVIOURAL`; docs/forecast.md says why these and not the others) that the
  target scenario has, through the same dotted-path overrides as `--set`;
  whole-number parameters are rounded as in calibration. A parameter fixed
  with `--set` is not drawn;
* it simulates with the seed `run_seed(master seed, i)`, as `simkit run` does.

The runs table has one column per drawn parameter (its dotted path) and the
particle index. Execution and storage are `simkit run`'s
(`simkit.ensemble.run_batches`): batches of consecutive runs on the executor
(this process, a local pool or Dask), each written as part files as it
finishes, merged in run order at the end; an interrupted forecast resumes from
its parts to the same tables. The posterior's hash and the drawn parameters
are part of the folder's identity, so a folder is never resumed on another
posterior.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simkit.calibration.priors import parameter_value, set_parameters
from simkit.ensemble import Batch, Ensemble, _check, event_table, run_batches
from simkit.manifest import software
from simkit.scenario import LoadedScenario, Scenario
from simkit.scenario.paths import check_parameter_path
from simkit.single_run import run_seed, runs_table, simulate
from simkit.yamlio import InputError

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "BEHAVIOURAL",
    "Posterior",
    "chance_share",
    "draw_particle",
    "forecast_summary",
    "load_posterior",
    "posterior_path",
    "run_forecast",
]

BEHAVIOURAL: tuple[str, ...] = (
    "regime.implementation",
    "regime.truce_appetite",
    "regime.ground_rate",
    "regime.settlement_max_fighter_share",
    "mediators.russia.leverage",
    "committees.0.concession_rate",
    "committees.0.truce_threshold",
    "behaviour.leave_threshold",
    "behaviour.weight_threat",
    "behaviour.flight_rate",
    "behaviour.amnesty_when_ordered_out",
    "behaviour.weight_amnesty_distrust",
)
"""How the actors behave, carried over from the case a posterior was fitted on (docs/forecast.md)."""

PARTICLE_STREAM = 0x7061_7274
"""Third word of the particle draw's seed, so it never coincides with a run's own seed sequence."""

BATCH_SIZE = 100
SEED_RULE = "run i uses numpy SeedSequence([master_seed, i]).generate_state(1, uint64)[0] >> 1"
PARTICLE_RULE = (
    "run i draws particle searchsorted(cumsum(weight), u, 'right') with "
    f"u = numpy default_rng([master_seed, i, {PARTICLE_STREAM}]).random() * sum(weight)"
)

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Posterior:
    """Weighted particles of a calibration's last generation.

    Attributes:
        path: the file read.
        values: one column per parameter (dotted path), one row per particle.
        weights: normalised importance weights, one per particle.
        hash: SHA-256 of the file's bytes (recorded in the manifest).
    """

    path: Path
    values: pd.DataFrame
    weights: np.ndarray
    hash: str

    @property
    def parameters(self) -> list[str]:
        """Dotted paths of the parameters the posterior holds."""
        return list(self.values.columns)

    @property
    def ess(self) -> float:
        """Effective sample size of the weights (Kish): how many equally weighted particles they are worth."""
        return float(1.0 / np.sum(self.weights**2))


def posterior_path(path: str | Path) -> Path:
    """The posterior file of `--posterior`: the file itself, or a calibration folder's posterior.parquet.

    The one resolver of `--posterior` for every command (`load_posterior` calls it). A joint calibration's
    folder (`simkit calibrate cases/library.yaml --out DIR`) holds the posterior of the behavioural
    parameters shared by every case, so `--posterior DIR` draws from it. A path that does not exist is
    returned as it is, for `load_posterior` to refuse.

    Raises:
        InputError: a folder without posterior.parquet (one line, naming the folder).
    """
    path = Path(path)
    if path.is_dir():
        if not (path / "posterior.parquet").is_file():
            raise InputError(
                f"{path}: a folder without posterior.parquet; give a calibration's result folder "
                "(simkit calibrate --out) or its posterior.parquet"
            )
        return path / "posterior.parquet"
    return path


def load_posterior(path: str | Path) -> Posterior:
    """Read the posterior of `--posterior`: parameter columns and a `weight` column.

    Args:
        path: A `posterior.parquet` written by `simkit calibrate`, or the calibration's result folder
            holding one (resolved by `posterior_path`).

    Raises:
        InputError: a missing path, a folder without posterior.parquet, an unreadable file, or one that
            is not such a posterior (one line, naming the file or folder).
    """
    path = posterior_path(path)
    if not path.is_file():
        raise InputError(
            f"{path}: no such posterior file or folder (give posterior.parquet of simkit calibrate "
            "or its result folder)"
        )
    try:
        data = path.read_bytes()
        frame = pq.read_table(path).to_pandas()
    except (OSError, pa.ArrowException) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(f"{path}: cannot read it as a Parquet posterior ({first})") from None
    if "weight" not in frame.columns:
        raise InputError(
            f"{path}: no 'weight' column; expected the posterior.parquet written by simkit calibrate"
        )
    parameters = [c for c in frame.columns if c != "weight"]
    if not parameters:
        raise InputError(f"{path}: the posterior has a weight column but no parameter columns")
    for column in parameters:
        problem = check_parameter_path(str(column))
        if problem is not None:
            raise InputError(
                f"{path}: column {column!r} names no scenario parameter ({problem}); expected dotted paths "
                "such as regime.implementation"
            )
    if frame.empty:
        raise InputError(f"{path}: the posterior has no particles")
    for column in frame.columns:
        values = frame[column]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise InputError(f"{path}: column {column!r} is not numeric (found {values.dtype})")
        if not np.isfinite(values.to_numpy(dtype=float)).all():
            raise InputError(f"{path}: column {column!r} has missing or infinite values")
    weights = frame["weight"].to_numpy(dtype=float)
    if (weights < 0).any() or weights.sum() <= 0:
        raise InputError(f"{path}: weights must be non-negative with a positive sum")
    return Posterior(
        path=path,
        values=frame[parameters].astype(float).reset_index(drop=True),
        weights=weights / weights.sum(),
        hash=hashlib.sha256(data).hexdigest(),
    )


def draw_particle(cumulative: np.ndarray, master_seed: int, index: int) -> int:
    """The particle run `index` uses: drawn by weight, from (master seed, index) alone.

    Args:
        cumulative: cumulative sum of the particles' weights.
        master_seed: the forecast's seed.
        index: the run.
    """
    u = np.random.default_rng([master_seed, index, PARTICLE_STREAM]).random() * cumulative[-1]
    return min(int(np.searchsorted(cumulative, u, side="right")), len(cumulative) - 1)


_CACHE_LIMIT = 256


@dataclass(frozen=True)
class _Plan:
    """What every batch needs: sent once to each worker, with the worker's cache of particle scenarios."""

    scenario: Scenario
    drawn: tuple[str, ...]
    values: np.ndarray  # particles x drawn parameters
    cumulative: np.ndarray
    master_seed: int
    origin: str
    cache: dict[int, tuple[Scenario, dict]] = field(default_factory=dict, compare=False, repr=False)

    def scenario_for(self, particle: int) -> tuple[Scenario, dict]:
        """The target scenario with this particle's values, and the values as applied (whole numbers rounded).

        Particles are often redrawn, so the last `_CACHE_LIMIT` are kept (in each worker's copy of the plan).
        """
        cached = self.cache.get(particle)
        if cached is None:
            values = dict(zip(self.drawn, self.values[particle].tolist(), strict=True))
            scenario = set_parameters(self.scenario, values, origin=f"{self.origin}, particle {particle}")
            cached = scenario, {path: parameter_value(scenario, path) for path in self.drawn}
            if len(self.cache) >= _CACHE_LIMIT:
                self.cache.pop(next(iter(self.cache)))
            self.cache[particle] = cached
        return cached


# ---------------------------------------------------------------- worker side
def _simulate_batch(plan: _Plan, batch: Batch) -> dict[str, pa.Table]:
    """Runs batch.start .. batch.stop - 1, each on its own particle; their runs and events as Arrow tables."""
    rows, event_rows = [], []
    for index in range(batch.start, batch.stop):
        particle = draw_particle(plan.cumulative, plan.master_seed, index)
        scenario, applied = plan.scenario_for(particle)
        record = simulate(scenario, run_seed(plan.master_seed, index), index)
        rows.append({**record.run, "particle": particle, **applied})
        event_rows.extend(record.events)
    return {"runs": runs_table(rows), "events": event_table(event_rows)}


# ---------------------------------------------------------------- parent side
def drawn_parameters(
    posterior: Posterior,
    scenario: Scenario,
    parameters: Sequence[str] = BEHAVIOURAL,
    fixed: Sequence[str] = (),
) -> tuple[list[str], dict[str, str]]:
    """Which posterior parameters a forecast draws, and why each of the others is not drawn.

    Returns:
        the dotted paths drawn, and {path: reason} for the posterior's other parameters.
    """
    drawn, left = [], {}
    for path in posterior.parameters:
        if path not in parameters:
            left[path] = "not behavioural: a case-specific term or evidence (docs/forecast.md)"
        elif path in fixed:
            left[path] = "fixed by --set"
        else:
            try:
                parameter_value(scenario, path)
            except InputError:
                left[path] = "not in the target scenario"
                continue
            drawn.append(path)
    return drawn, left


def run_forecast(
    loaded: LoadedScenario,
    posterior: Posterior,
    runs: int,
    seed: int,
    workers: int = 1,
    out: str | Path | None = None,
    *,
    progress: Progress | None = None,
    command: str | None = None,
    overwrite: bool = False,
    parameters: Sequence[str] = BEHAVIOURAL,
    batch_size: int = BATCH_SIZE,
    scheduler: str | Client | None = None,
    allow_large: bool = False,
) -> Ensemble:
    """Simulate `runs` runs, run i on a particle drawn from the posterior; write to `out` if given.

    The result depends on (scenario, posterior, seed, run index) only, not on
    `workers`, `scheduler` or `batch_size`. Written and resumed as `simkit run`'s
    ensembles are (`simkit.ensemble.run_batches`).

    Args:
        loaded: the target scenario (with any --set overrides; those parameters are not drawn).
        posterior: the calibration's posterior.
        runs: number of runs.
        seed: master seed (0 to 2^63-1).
        workers: local processes; ignored with `scheduler`.
        out: result folder (runs.parquet, events.parquet, summary.json, manifest.json); None keeps
            the result in memory only.
        progress: called with the number of runs just finished (first with those already saved).
        command: the command line, recorded in the manifest.
        overwrite: replace a different result of simkit's in `out`.
        parameters: the behavioural parameters (dotted paths) that may be drawn.
        batch_size: runs per task.
        scheduler: a Dask scheduler address or `distributed.Client`.
        allow_large: go past the work-size limit (`simkit.limits.MAX_WORK`).

    Raises:
        InputError: bad options, no behavioural parameter shared by the posterior and the scenario,
            or a folder holding other results.
        WorkerLost: a worker died; finished batches are saved and the same call resumes.
    """
    _check(runs, seed, workers, loaded.scenario, allow_large)
    drawn, left = drawn_parameters(posterior, loaded.scenario, parameters, tuple(loaded.overrides))
    if not drawn:
        raise InputError(
            f"{posterior.path}: none of its parameters ({', '.join(posterior.parameters)}) is a behavioural "
            f"parameter of {loaded.scenario.name} that could be drawn ({', '.join(parameters)})"
        )
    plan = _Plan(
        scenario=loaded.scenario,
        drawn=tuple(drawn),
        values=posterior.values[drawn].to_numpy(dtype=float),
        cumulative=np.cumsum(posterior.weights),
        master_seed=seed,
        origin=f"posterior draw: {posterior.path.as_posix()}",
    )
    manifest = _manifest(loaded, posterior, drawn, left, runs, seed, command)
    ensemble = run_batches(
        out, manifest, IDENTITY, ("runs", "events"), _simulate_batch, plan, runs, batch_size, workers,
        scheduler, progress, overwrite,
    )  # fmt: skip
    if out is None:
        ensemble.manifest = manifest
    return ensemble


IDENTITY = ("scenario_hash", "posterior_hash", "drawn_parameters", "master_seed", "batch_size")
"""What must match for a folder's finished batches to be part of this forecast (`runs` may grow)."""


def _manifest(
    loaded: LoadedScenario,
    posterior: Posterior,
    drawn: list[str],
    left: dict[str, str],
    runs: int,
    seed: int,
    command: str | None,
) -> dict:
    return {
        "kind": "forecast on a posterior",
        "scenario": str(loaded.path),
        "scenario_name": loaded.scenario.name,
        "scenario_hash": loaded.hash,
        "end": loaded.scenario.end.isoformat(),
        "overrides": loaded.overrides,
        "posterior": str(posterior.path),
        "posterior_hash": posterior.hash,
        "posterior_particles": len(posterior.weights),
        "posterior_ess": round(posterior.ess, 1),
        "drawn_parameters": drawn,
        "not_drawn": left,
        "master_seed": seed,
        "runs": runs,
        "seed_rule": SEED_RULE,
        "particle_rule": PARTICLE_RULE,
        **software(command),
    }


# ---------------------------------------------------------------- what a forecast says
ENDINGS = ("surrender_evacuation", "reconciliation")
"""The endings a forecast's report dates: a surrender with evacuation, a settlement in place."""

ENDING_LABELS = {"surrender_evacuation": "surrender + evacuation", "reconciliation": "settlement in place"}
"""How a forecast's tables name `ENDINGS` (`simkit forecast`'s printout and the HTML report alike)."""


def _share_text(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.0%}"


def forecast_tables(report: dict) -> tuple[pd.DataFrame, pd.DataFrame, str | None]:
    """A forecast's report (`forecast_summary`) as the text its readers see, one wording for every view.

    Args:
        report: `forecast_summary`'s result, or forecast.json read back.

    Returns:
        The endings by date (by, ending, share, 95% CI, chance, parameters), the deal dates per ending
        (ending, share, p10, p50, p90; "-" where no run ended so) and the sentence on the people
        evacuated on the surrender's buses (None when no run ended in surrender with evacuation).
    """
    by = pd.DataFrame(
        [
            {
                "by": row["date"],
                "ending": ENDING_LABELS.get(row["ending"], row["ending"]),
                "share": f"{row['share']:.1%}",
                "95% CI": f"{row['ci95'][0]:.1%} to {row['ci95'][1]:.1%}",
                "chance": _share_text(row["chance_share"]),
                "parameters": _share_text(row["parameter_share"]),
            }
            for row in report["by"]
        ],
        columns=["by", "ending", "share", "95% CI", "chance", "parameters"],
    )
    deal = pd.DataFrame(
        [
            {
                "ending": ENDING_LABELS.get(name, name),
                "share": f"{row['share']:.1%}",
                **{label: row[label] or "-" for label in ("p10", "p50", "p90")},
            }
            for name, row in report["deal"].items()
        ],
        columns=["ending", "share", "p10", "p50", "p90"],
    )
    evacuated = report.get("evacuated", {})
    sentence = None
    if evacuated.get("runs"):
        sentence = (
            f"Evacuated on the surrender's buses in the {evacuated['runs']:,} runs ending in surrender with "
            f"evacuation (truce departures not counted): p10 {evacuated['p10']:,.0f}, "
            f"median {evacuated['p50']:,.0f}, p90 {evacuated['p90']:,.0f}."
        )
    return by, deal, sentence


def chance_share(hit: np.ndarray, particle: np.ndarray) -> float:
    """Share of the spread of a 0/1 result due to chance (run to run) rather than the parameters drawn.

    By the law of total variance, Var(Y) = E[Var(Y | particle)] + Var(E[Y | particle]); the first term
    is run-to-run chance at fixed parameters, the second the parameters' uncertainty. The within-particle
    variance is estimated, without bias, from the particles drawn at least twice (m (1 - m) n / (n - 1),
    pooled by draws), the total from all runs; the parameters' share is 1 minus this. NaN when every run
    agrees or no particle was drawn twice.
    """
    frame = pd.DataFrame({"y": np.asarray(hit, dtype=float), "k": np.asarray(particle)})
    n = len(frame)
    p = float(frame["y"].mean()) if n else math.nan
    groups = frame.groupby("k")["y"].agg(["mean", "count"])
    repeated = groups[groups["count"] >= 2]
    if n < 2 or p in (0.0, 1.0) or repeated.empty or math.isnan(p):
        return math.nan
    count, mean = repeated["count"], repeated["mean"]
    within = float((count * mean * (1 - mean) * count / (count - 1)).sum() / count.sum())
    total = p * (1 - p) * n / (n - 1)
    return min(1.0, max(0.0, within / total))


def forecast_summary(runs: pd.DataFrame, by: Sequence[dt.date]) -> dict:
    """The figures a forecast on posterior draws is read for: endings by dates, deal dates, evacuees, spread.

    Args:
        runs: runs.parquet of a forecast (outcome, deal_date, surrender_evacuated, particle).
        by: dates; for each, the share of runs that ended in each of `ENDINGS` with the deal signed by then.

    Returns:
        `by`: per date and ending, the share, its 95% Wilson interval and the share of its spread due to
        chance (`chance_share`; the rest is the parameters'); `deal`: per ending, the share of runs and
        the p10/p50/p90 deal dates among them; `evacuated`: p10/p50/p90 of the people bussed out on the
        signed surrender's convoys (`surrender_evacuated`; truce departures not counted) in the runs
        ending in surrender with evacuation.
    """
    from simkit.sweep.summary import wilson
    from simkit.timing import timing_rows

    n = len(runs)
    deal = pd.to_datetime(runs["deal_date"])
    particle = runs["particle"].to_numpy() if "particle" in runs else np.zeros(n, dtype=int)
    result: dict = {"runs": n, "particles_drawn": int(pd.Series(particle).nunique()), "by": [], "deal": {}}
    for date in by:
        for ending in ENDINGS:
            hit = ((runs["outcome"] == ending) & deal.notna() & (deal <= pd.Timestamp(date))).to_numpy()
            lo, hi = wilson(np.array([hit.sum()]), np.array([max(n, 1)]))
            chance = chance_share(hit, particle)
            result["by"].append({
                "date": date.isoformat(), "ending": ending, "share": float(hit.mean()) if n else math.nan,
                "ci95": [float(lo[0]), float(hi[0])], "chance_share": chance,
                "parameter_share": 1.0 - chance if not math.isnan(chance) else math.nan,
            })  # fmt: skip
    for row in timing_rows(runs):  # the deal dates `simkit run`'s timing table shows, computed once
        if row["ending"] in ENDINGS:
            dates = {label: row[f"date_{label}"] for label in ("p10", "p50", "p90")}
            result["deal"][row["ending"]] = {
                "share": row["share"],
                **{label: None if date is None else date.isoformat() for label, date in dates.items()},
            }
    evacuated = runs.loc[runs["outcome"] == "surrender_evacuation", "surrender_evacuated"]
    quantiles = {f"p{int(q * 100)}": float(evacuated.quantile(q)) for q in (0.1, 0.5, 0.9) if len(evacuated)}
    result["evacuated"] = {"runs": len(evacuated), **quantiles}
    return result
