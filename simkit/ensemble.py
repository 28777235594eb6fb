"""Ensembles: many seeded runs in parallel, written to Parquet as they finish, resumable.

Runs are cut into fixed batches of consecutive indices. Each batch is simulated
by a worker (`simkit.executor`: this process, a local pool or Dask) and the
parent writes it as its own part files through the result store
(`simkit.store`: atomic, locked, never through a link), so an interrupted
ensemble keeps every finished batch and rerunning the same command does only
the missing ones. At the end the parts are merged in run order, which makes the
output identical whatever the number of workers or the executor.

`run_batches` is the same machinery for any batched ensemble: `simkit
forecast` (runs on posterior draws) uses it with its own batch function.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simkit.executor import executor
from simkit.limits import check_count, check_seed, check_work
from simkit.manifest import software
from simkit.model import SERIES
from simkit.scenario import LoadedScenario, Scenario
from simkit.single_run import run_seed, runs_table, simulate
from simkit.store import PARTS, ResultFolder, parquet_writer, write_table
from simkit.summary import summarize
from simkit.yamlio import InputError

if TYPE_CHECKING:
    from distributed import Client

BATCH_SIZE = 100

EVENT_COLUMNS = ("run", "day", "date", "type", "actor", "count", "detail")
EVENTS_SCHEMA = pa.schema(
    [("run", pa.int64()), ("day", pa.int32()), ("date", pa.date32()), ("type", pa.string()),
     ("actor", pa.string()), ("count", pa.int64()), ("detail", pa.string())]
)  # fmt: skip
SERIES_SCHEMA = pa.schema(
    [("run", pa.int64()), ("day", pa.int32()), ("date", pa.date32())]
    + [(name, pa.float64()) for name in SERIES]
)

Progress = Callable[[int], None]
"""Called with the number of runs just finished."""


@dataclass(frozen=True)
class Batch:
    """Runs `start` to `stop` - 1: the unit of work of one worker task and of one part file."""

    start: int
    stop: int

    @property
    def name(self) -> str:
        """Zero-padded range used in part file names, so parts sort in run order."""
        return f"{self.start:08d}-{self.stop:08d}"


class Ensemble:
    """The tables of a finished ensemble, kept in memory or read back from its folder.

    For a folder, `runs` (one row per run) is read at once; `events` and `series`
    (which grow with the number of runs) only when first used, so memory stays flat
    for callers that need only the outcome table.
    """

    def __init__(
        self,
        runs: pd.DataFrame,
        events: pd.DataFrame | None,
        series: pd.DataFrame | None,
        summary: dict,
        out: Path | None = None,
        manifest: dict | None = None,
    ) -> None:
        self.runs, self.summary, self.out, self.manifest = runs, summary, out, manifest or {}
        self._events, self._series = events, series

    @property
    def events(self) -> pd.DataFrame:
        """The dated event log of every run (run, day, date, type, actor, count, detail)."""
        if self._events is None and self.out is not None:
            self._events = pd.read_parquet(self.out / "events.parquet")
        return self._events

    @property
    def series(self) -> pd.DataFrame | None:
        """Daily series per run, if the ensemble was run with them."""
        if self._series is None and self.out is not None and (self.out / "series.parquet").exists():
            self._series = pd.read_parquet(self.out / "series.parquet")
        return self._series

    def events_of_first(self, runs: int) -> pd.DataFrame:
        """Events of runs 0..runs-1 only, read from disk without loading the whole log."""
        if self._events is not None or self.out is None:
            return self.events[self.events["run"] < runs]
        return pd.read_parquet(self.out / "events.parquet", filters=[("run", "<", runs)])


def batches(runs: int, size: int = BATCH_SIZE) -> list[Batch]:
    """Cut runs 0..runs-1 into consecutive batches; fixed sizes keep part files the same across reruns."""
    return [Batch(start, min(start + size, runs)) for start in range(0, runs, size)]


# ---------------------------------------------------------------- worker side
def simulate_batch(
    scenario: Scenario, batch: Batch, master_seed: int, with_series: bool
) -> tuple[pa.Table, pa.Table, pa.Table | None]:
    """Run one batch and return its runs, events and (optional) series as Arrow tables."""
    rows, event_rows, series_parts = [], [], []
    for index in range(batch.start, batch.stop):
        record = simulate(scenario, run_seed(master_seed, index), index, series=with_series)
        rows.append(record.run)
        event_rows.extend(record.events)
        if record.series is not None:
            days = record.series["day"]
            part = {"run": [index] * len(days), "day": days}
            part["date"] = [scenario.start + dt.timedelta(days=int(d)) for d in days]
            part.update({name: record.series[name] for name in SERIES})
            series_parts.append(pa.table(part, schema=SERIES_SCHEMA))
    runs = runs_table(rows)
    series = pa.concat_tables(series_parts) if with_series else None
    return runs, event_table(event_rows), series


def event_table(event_rows: list[tuple]) -> pa.Table:
    """Event rows (run, day, date, type, actor, count, detail) as an Arrow table of EVENTS_SCHEMA."""
    if not event_rows:
        return EVENTS_SCHEMA.empty_table()
    columns = dict(zip(EVENT_COLUMNS, zip(*event_rows, strict=True), strict=True))
    return pa.table(columns, schema=EVENTS_SCHEMA)


@dataclass(frozen=True)
class _Plan:
    """What every batch of a plain ensemble needs: sent once to each worker."""

    scenario: Scenario
    master_seed: int
    series: bool


def _simulate(plan: _Plan, batch: Batch) -> dict[str, pa.Table]:
    runs, events, series = simulate_batch(plan.scenario, batch, plan.master_seed, plan.series)
    return {"runs": runs, "events": events} | ({"series": series} if series is not None else {})


# ---------------------------------------------------------------- parent side
def run_ensemble(
    scenario: LoadedScenario,
    runs: int,
    seed: int,
    workers: int = 1,
    out: str | Path | None = None,
    series: bool = False,
    progress: Progress | None = None,
    command: str | None = None,
    overwrite: bool = False,
    *,
    scheduler: str | Client | None = None,
    allow_large: bool = False,
) -> Ensemble:
    """Run `runs` seeded runs of a loaded scenario; write to `out` (resumable) or keep in memory.

    Run i uses the seed run_seed(seed, i): the result does not depend on `workers` or `scheduler`.

    Args:
        scenario: the scenario (with its path, overrides and hash).
        runs: number of runs.
        seed: master seed (0 to 2^63-1).
        workers: local worker processes (1: this process); ignored with `scheduler`.
        out: result folder (see `simkit.store`); None keeps the result in memory.
        series: also keep daily series.
        progress: called with the number of runs just finished (first with those already saved).
        command: command line for the manifest (default: this process's argv).
        overwrite: replace a different result of simkit's in `out` (only simkit's files go).
        scheduler: a Dask scheduler address or `distributed.Client` to run the batches on.
        allow_large: go past the work-size limit (`simkit.limits.MAX_WORK`).

    Raises:
        InputError: bad options, or a folder that is not empty, not simkit's or holds other results.
        WorkerLost: a worker died; finished batches are saved and the same call resumes.
        TaskFailed: a run raised; finished batches are saved.
    """
    _check(runs, seed, workers, scenario.scenario, allow_large)
    plan = _Plan(scenario.scenario, seed, series)
    kinds = ("runs", "events", "series") if series else ("runs", "events")
    if out is None:
        horizon = {"end": scenario.scenario.end.isoformat()}  # where unresolved runs are censored
        return run_batches(None, horizon, (), kinds, _simulate, plan, runs, BATCH_SIZE, workers, scheduler,
                           progress)  # fmt: skip
    manifest = _manifest(scenario, runs, seed, series, command)
    return run_batches(
        out, manifest, IDENTITY, kinds, _simulate, plan, runs, BATCH_SIZE, workers, scheduler, progress,
        overwrite, "{out} holds results of a different ensemble ({differences}); choose another --out, "
        "or add --overwrite to replace them",
    )  # fmt: skip


def _check(runs: int, seed: int, workers: int, scenario: Scenario, allow_large: bool) -> None:
    check_count(runs, "--runs")
    check_count(workers, "--workers")
    check_seed(seed)
    check_work(runs, scenario, f"--runs {runs:,}", allow_large)


def run_batches(
    out: str | Path | None,
    manifest: dict,
    identity: Sequence[str],
    kinds: Sequence[str],
    function: Callable[[Any, Batch], dict[str, pa.Table]],
    shared: Any,
    runs: int,
    batch_size: int,
    workers: int = 1,
    scheduler: str | Client | None = None,
    progress: Progress | None = None,
    overwrite: bool = False,
    others: str = "{out} holds other results ({differences}); choose another --out, "
    "or add --overwrite to replace them",
) -> Ensemble:
    """Run batches of an ensemble through the executor into the result store (or into memory).

    Args:
        out: result folder; None keeps the tables in memory.
        manifest: the folder's manifest (holds `kind` and the `identity` keys).
        identity: manifest keys that must match for the folder's parts to be resumed.
        kinds: the tables each batch yields (`runs` first; it marks a batch done, so it is written last).
        function: module-level `function(shared, batch) -> {kind: table}`, run in the workers.
        shared: sent once to each worker.
        runs: number of runs.
        batch_size: runs per batch (part of the identity: it names the part files).
        workers: local processes; ignored with `scheduler`.
        scheduler: Dask scheduler address or client.
        progress: called with runs finished (first with those already saved, when resuming).
        overwrite: replace a different result of simkit's in `out`.
        others: the refusal of a folder holding other results (formatted with `out` and `differences`).
    """
    plan = batches(runs, batch_size)
    if out is None:
        tables: dict[int, dict[str, pa.Table]] = {}
        local = workers if len(plan) > 1 else 1  # one batch: no pool to start (the result is the same)
        with executor(local, scheduler) as pool, closing(pool.map(function, plan, shared)) as results:
            for batch, result in results:
                tables[batch.start] = result
                if progress:
                    progress(batch.stop - batch.start)
        ordered = [tables[b.start] for b in plan]
        frames = {k: pa.concat_tables([t[k] for t in ordered]).to_pandas() for k in kinds}
        summary = summarize(frames["runs"], manifest.get("end"))
        return Ensemble(frames["runs"], frames["events"], frames.get("series"), summary)
    manifest = {**manifest, "batch_size": batch_size, "runs": runs}
    with ResultFolder(out, manifest, identity, overwrite, others) as folder:
        previous = folder.previous or {}
        if previous.get("runs") == runs and "finished" in previous and (folder.out / "runs.parquet").exists():
            if progress:
                progress(runs)
            return load_ensemble(folder.out)
        folder.start()
        todo = [b for b in plan if not folder.part("runs", b.start, b.stop).exists()]
        done = runs - sum(b.stop - b.start for b in todo)
        if progress and done:
            progress(done)
        local = workers if len(todo) > 1 else 1  # one batch: no pool to start (the result is the same)
        with executor(local, scheduler) as pool, closing(pool.map(function, todo, shared)) as results:
            for batch, result in results:
                for kind in (*[k for k in kinds if k != "runs"], "runs"):  # runs last: marks the batch done
                    _write_part(folder, kind, batch, result[kind])
                if progress:
                    progress(batch.stop - batch.start)
        for kind in kinds:
            _merge(folder, kind, plan)
        folder.drop_parts()
        ensemble = load_ensemble(folder.out)
        folder.write_json("summary.json", ensemble.summary)
        folder.finish()
        ensemble.manifest = folder.manifest
        return ensemble


def _write_part(folder: ResultFolder, kind: str, batch: Batch, table: pa.Table) -> None:
    write_table(folder.part(kind, batch.start, batch.stop), table)


def _merge(folder: ResultFolder, kind: str, plan: list[Batch]) -> None:
    """Concatenate the part files of `kind` in run order into <kind>.parquet (streamed: memory stays flat)."""
    first = pq.read_table(folder.part(kind, plan[0].start, plan[0].stop))
    with parquet_writer(folder.path(f"{kind}.parquet"), first.schema) as writer:
        writer.write_table(first)
        for batch in plan[1:]:
            writer.write_table(pq.read_table(folder.part(kind, batch.start, batch.stop)))


def _manifest(scenario: LoadedScenario, runs: int, seed: int, series: bool, command: str | None) -> dict:
    return {
        "kind": "ensemble",
        "scenario": str(scenario.path),
        "scenario_name": scenario.scenario.name,
        "scenario_hash": scenario.hash,
        "end": scenario.scenario.end.isoformat(),
        "overrides": scenario.overrides,
        "master_seed": seed,
        "runs": runs,
        "batch_size": BATCH_SIZE,
        "series": series,
        "seed_rule": "run i uses numpy SeedSequence([master_seed, i]).generate_state(1, uint64)[0] >> 1",
        **software(command),
    }


IDENTITY = ("scenario_hash", "master_seed", "batch_size", "series")
"""What must match for a folder's finished batches to be part of this ensemble (`runs` may grow)."""


def saved_runs(out: str | Path) -> int:
    """Runs finished and kept in a result folder: all of a merged one, or those in its batch parts."""
    out = Path(out)
    parts = sorted((out / PARTS).glob("runs-*.parquet")) if (out / PARTS).is_dir() else []
    if parts:
        return sum(pq.read_metadata(part).num_rows for part in parts)
    return pq.read_metadata(out / "runs.parquet").num_rows if (out / "runs.parquet").is_file() else 0


def load_ensemble(out: str | Path) -> Ensemble:
    """Read a results folder written by run_ensemble (or `simkit run`)."""
    out = Path(out)
    if not (out / "runs.parquet").exists():
        raise InputError(f"{out}: no runs.parquet here; is it a simkit results folder?")
    manifest = json.loads((out / "manifest.json").read_text()) if (out / "manifest.json").exists() else {}
    runs = pd.read_parquet(out / "runs.parquet")
    return Ensemble(runs, None, None, summarize(runs, manifest.get("end")), out, manifest)
