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
particle index. Execution: batches of consecutive runs in a process pool
(forkserver, as `simkit.ensemble`), gathered in run order and written once at
the end. Unlike `simkit run`, results are kept in memory rather than written as
resumable parts: a forecast is hundreds to a few thousand runs (a minute or
two), and resuming would need the posterior's identity in the ensemble's folder
check. Memory grows with the number of runs (north Homs: 20-40 MB per thousand).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simkit.calibration.priors import parameter_value, set_parameters
from simkit.ensemble import EVENT_COLUMNS, EVENTS_SCHEMA, RESULT_FILES, Batch, Ensemble, batches
from simkit.manifest import software
from simkit.scenario import LoadedScenario, Scenario
from simkit.scenario.paths import check_parameter_path
from simkit.single_run import run_seed, runs_table, simulate
from simkit.summary import summarize
from simkit.workers import in_order
from simkit.yamlio import InputError

__all__ = [
    "BEHAVIOURAL",
    "Posterior",
    "draw_particle",
    "load_posterior",
    "run_forecast",
]

BEHAVIOURAL: tuple[str, ...] = (
    "regime.implementation",
    "regime.truce_appetite",
    "mediator.leverage",
    "committees.0.concession_rate",
    "committees.0.truce_threshold",
    "behaviour.leave_threshold",
)
"""How the actors behave, carried over from the case a posterior was fitted on (docs/forecast.md)."""

PARTICLE_STREAM = 0x7061_7274
"""Third word of the particle draw's seed, so it never coincides with a run's own seed sequence."""

BATCH_SIZE = 100
PRELOAD = ["simkit.calibration.forecast"]  # imported once in the fork server (simkit/workers.py)
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


def load_posterior(path: str | Path) -> Posterior:
    """Read a `posterior.parquet` written by `simkit calibrate`: parameter columns and a `weight` column.

    Raises:
        InputError: an unreadable file, or one that is not such a posterior (one line, naming the file).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such posterior file (expected posterior.parquet of simkit calibrate)")
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


@dataclass(frozen=True)
class _Plan:
    """What every batch needs: sent once to each worker."""

    scenario: Scenario
    drawn: tuple[str, ...]
    values: np.ndarray  # particles x drawn parameters
    cumulative: np.ndarray
    master_seed: int
    origin: str


# ---------------------------------------------------------------- worker side
_plan: _Plan | None = None
_scenarios: dict[int, tuple[Scenario, dict]] = {}  # particle -> (scenario, applied values); often redrawn
_CACHE_LIMIT = 256


def _init_worker(plan: _Plan) -> None:
    global _plan
    _plan = plan
    _scenarios.clear()


def _scenario_for(particle: int) -> tuple[Scenario, dict]:
    """The target scenario with this particle's values, and the values as applied (whole numbers rounded)."""
    cached = _scenarios.get(particle)
    if cached is None:
        values = dict(zip(_plan.drawn, _plan.values[particle].tolist(), strict=True))
        scenario = set_parameters(_plan.scenario, values, origin=f"{_plan.origin}, particle {particle}")
        cached = scenario, {path: parameter_value(scenario, path) for path in _plan.drawn}
        if len(_scenarios) >= _CACHE_LIMIT:
            _scenarios.pop(next(iter(_scenarios)))
        _scenarios[particle] = cached
    return cached


def _simulate_batch(batch: Batch) -> tuple[pa.Table, pa.Table]:
    """Runs batch.start .. batch.stop - 1, each on its own particle; their runs and events as Arrow tables."""
    rows, event_rows = [], []
    for index in range(batch.start, batch.stop):
        particle = draw_particle(_plan.cumulative, _plan.master_seed, index)
        scenario, applied = _scenario_for(particle)
        record = simulate(scenario, run_seed(_plan.master_seed, index), index)
        rows.append({**record.run, "particle": particle, **applied})
        event_rows.extend(record.events)
    events = (
        pa.table(dict(zip(EVENT_COLUMNS, zip(*event_rows, strict=True), strict=True)), schema=EVENTS_SCHEMA)
        if event_rows
        else EVENTS_SCHEMA.empty_table()
    )
    return runs_table(rows), events


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
) -> Ensemble:
    """Simulate `runs` runs, run i on a particle drawn from the posterior; write to `out` if given.

    The result depends on (scenario, posterior, seed, run index) only, not on
    `workers` or `batch_size`.

    Args:
        loaded: the target scenario (with any --set overrides; those parameters are not drawn).
        posterior: the calibration's posterior.
        runs: number of runs.
        seed: master seed (non-negative).
        workers: local processes.
        out: result folder (runs.parquet, events.parquet, summary.json, manifest.json); None keeps
            the result in memory only.
        progress: called with the number of runs just finished.
        command: the command line, recorded in the manifest.
        overwrite: replace the results of a different ensemble in `out`.
        parameters: the behavioural parameters (dotted paths) that may be drawn.
        batch_size: runs per task.

    Raises:
        InputError: bad options, no behavioural parameter shared by the posterior and the scenario,
            or a folder holding other results.
    """
    if runs < 1:
        raise InputError(f"--runs must be at least 1, found {runs}")
    if workers < 1:
        raise InputError(f"--workers must be at least 1, found {workers}")
    if seed < 0:
        raise InputError(f"--seed must be non-negative, found {seed}")
    drawn, left = drawn_parameters(posterior, loaded.scenario, parameters, tuple(loaded.overrides))
    if not drawn:
        raise InputError(
            f"{posterior.path}: none of its parameters ({', '.join(posterior.parameters)}) is a behavioural "
            f"parameter of {loaded.scenario.name} that could be drawn ({', '.join(parameters)})"
        )
    manifest = _manifest(loaded, posterior, drawn, left, runs, seed, command)
    if out is not None:
        out = Path(out)
        _check_folder(out, manifest, overwrite)
    plan = _Plan(
        scenario=loaded.scenario,
        drawn=tuple(drawn),
        values=posterior.values[drawn].to_numpy(dtype=float),
        cumulative=np.cumsum(posterior.weights),
        master_seed=seed,
        origin=f"posterior draw: {posterior.path.as_posix()}",
    )
    parts = []
    todo = batches(runs, batch_size)
    for table in in_order(_simulate_batch, todo, workers, PRELOAD, _init_worker, (plan,)):
        parts.append(table)
        if progress:
            progress(table[0].num_rows)
    run_table = pa.concat_tables([p[0] for p in parts])
    event_table = pa.concat_tables([p[1] for p in parts])
    run_df = run_table.to_pandas()
    summary = summarize(run_df)
    manifest["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if out is not None:
        _write(out / "runs.parquet", run_table)
        _write(out / "events.parquet", event_table)
        (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return Ensemble(run_df, event_table.to_pandas(), None, summary, out, manifest)


_IDENTITY = ("kind", "scenario_hash", "posterior_hash", "drawn_parameters", "master_seed", "runs")


def _check_folder(out: Path, manifest: dict, overwrite: bool) -> None:
    """Refuse a folder that holds other results (a different forecast, or an ensemble) unless `overwrite`."""
    previous = out / "manifest.json"
    if previous.exists():
        try:
            old = json.loads(previous.read_text())
        except (OSError, ValueError):
            old = {}
        if any(old.get(key) != manifest[key] for key in _IDENTITY):
            if not overwrite:
                raise InputError(
                    f"{out} holds other results (scenario, posterior, seed or runs differ); "
                    "choose another --out, or add --overwrite to replace them"
                )
            for name in RESULT_FILES:
                (out / name).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def _write(path: Path, table: pa.Table) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


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
