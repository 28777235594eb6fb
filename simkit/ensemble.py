"""Ensembles: many seeded runs in parallel, written to Parquet as they finish, resumable.

Runs are cut into fixed batches of consecutive indices. Each batch is simulated
by a worker and written as its own part file (atomically), so an interrupted
ensemble keeps every finished batch and rerunning the same command does only
the missing ones. At the end the parts are merged in run order, which makes the
output identical whatever the number of workers.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simkit.manifest import software
from simkit.model import SERIES
from simkit.scenario import LoadedScenario, Scenario
from simkit.single_run import run_seed, runs_table, simulate
from simkit.summary import summarize
from simkit.workers import in_order
from simkit.yamlio import InputError

BATCH_SIZE = 100
# Imported once in the server, so each worker starts warm (imports take seconds).
PRELOAD = ["simkit.ensemble"]  # imported once in the fork server (simkit/workers.py)

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
_scenario: Scenario | None = None


def _init_worker(scenario: Scenario) -> None:
    global _scenario
    _scenario = scenario


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
    events = (
        pa.table(dict(zip(EVENT_COLUMNS, zip(*event_rows, strict=True), strict=True)), schema=EVENTS_SCHEMA)
        if event_rows
        else EVENTS_SCHEMA.empty_table()
    )
    series = pa.concat_tables(series_parts) if with_series else None
    return runs, events, series


def _write_batch(parts: Path, master_seed: int, with_series: bool, batch: Batch) -> int:
    runs, events, series = simulate_batch(_scenario, batch, master_seed, with_series)
    # runs last: its part file marks the batch done
    for kind, table in (("events", events), ("series", series), ("runs", runs)):
        if table is not None:
            tmp = parts / f".{kind}-{batch.name}.tmp"
            pq.write_table(table, tmp)
            os.replace(tmp, parts / f"{kind}-{batch.name}.parquet")
    return batch.stop - batch.start


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
) -> Ensemble:
    """Run `runs` seeded runs of a loaded scenario; write to `out` (resumable) or keep in memory.

    Run i uses the seed run_seed(seed, i): the result does not depend on `workers`.
    A folder holding a different ensemble is refused unless `overwrite` is set.
    """
    if runs < 1:
        raise InputError(f"--runs must be at least 1, found {runs}")
    if workers < 1:
        raise InputError(f"--workers must be at least 1, found {workers}")
    if out is None:
        return _run_in_memory(scenario, runs, seed, series, progress)
    out = Path(out)
    manifest = _manifest(scenario, runs, seed, series, command)
    parts, finished = _prepare(out, manifest, overwrite)
    if finished:
        if progress:
            progress(runs)
        return load_ensemble(out)
    todo = [b for b in batches(runs) if not (parts / f"runs-{b.name}.parquet").exists()]
    done = runs - sum(b.stop - b.start for b in todo)
    if progress and done:
        progress(done)
    write = functools.partial(_write_batch, parts, seed, series)
    for finished in in_order(write, todo, workers, PRELOAD, _init_worker, (scenario.scenario,)):
        if progress:
            progress(finished)
    _merge(out, parts, batches(runs), series)
    manifest["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    ensemble = load_ensemble(out)
    (out / "summary.json").write_text(json.dumps(ensemble.summary, indent=2) + "\n")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    ensemble.manifest = manifest
    return ensemble


def _run_in_memory(
    scenario: LoadedScenario, runs: int, seed: int, series: bool, progress: Progress | None
) -> Ensemble:
    tables = []
    for batch in batches(runs):
        tables.append(simulate_batch(scenario.scenario, batch, seed, series))
        if progress:
            progress(batch.stop - batch.start)
    run_df = pa.concat_tables([t[0] for t in tables]).to_pandas()
    events = pa.concat_tables([t[1] for t in tables]).to_pandas()
    daily = pa.concat_tables([t[2] for t in tables]).to_pandas() if series else None
    return Ensemble(run_df, events, daily, summarize(run_df))


def _manifest(scenario: LoadedScenario, runs: int, seed: int, series: bool, command: str | None) -> dict:
    return {
        "scenario": str(scenario.path),
        "scenario_name": scenario.scenario.name,
        "scenario_hash": scenario.hash,
        "overrides": scenario.overrides,
        "master_seed": seed,
        "runs": runs,
        "batch_size": BATCH_SIZE,
        "series": series,
        "seed_rule": "run i uses numpy SeedSequence([master_seed, i]).generate_state(1, uint64)[0] >> 1",
        **software(command),
    }


_IDENTITY = ("scenario_hash", "master_seed", "batch_size", "series")


RESULT_FILES = ("runs.parquet", "events.parquet", "series.parquet", "summary.json", "manifest.json")


def _prepare(out: Path, manifest: dict, overwrite: bool) -> tuple[Path, bool]:
    """Make the folder ready and say whether it already holds this very ensemble, finished.

    A folder holding another ensemble's results is refused unless `overwrite`,
    which removes only simkit's own result files and parts.
    """
    parts = out / "parts"
    previous = out / "manifest.json"
    if previous.exists():
        old = json.loads(previous.read_text())
        if any(old.get(key) != manifest[key] for key in _IDENTITY):
            if not overwrite:
                raise InputError(
                    f"{out} holds results of a different ensemble (scenario, seed or options differ); "
                    "choose another --out, or add --overwrite to replace them"
                )
            shutil.rmtree(parts, ignore_errors=True)
            for name in RESULT_FILES:
                (out / name).unlink(missing_ok=True)
        elif old.get("runs") == manifest["runs"] and "finished" in old and not parts.exists():
            return parts, True
    parts.mkdir(parents=True, exist_ok=True)
    for stale in parts.glob(".*.tmp"):
        stale.unlink()
    previous.write_text(json.dumps(manifest, indent=2) + "\n")
    return parts, False


def _merge(out: Path, parts: Path, plan: list[Batch], series: bool) -> None:
    """Concatenate the part files in run order into runs/events(/series).parquet, then drop the parts."""
    kinds = ("runs", "events", "series") if series else ("runs", "events")
    for kind in kinds:
        tmp = out / f".{kind}.parquet.tmp"
        writer = None
        for batch in plan:
            table = pq.read_table(parts / f"{kind}-{batch.name}.parquet")
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table)
        writer.close()
        os.replace(tmp, out / f"{kind}.parquet")
    shutil.rmtree(parts)


def saved_runs(out: str | Path) -> int:
    """Runs finished and kept in a result folder: all of a merged one, or those in its batch parts."""
    out = Path(out)
    if not (out / "parts").exists():
        return pq.read_metadata(out / "runs.parquet").num_rows if (out / "runs.parquet").exists() else 0
    return sum(pq.read_metadata(part).num_rows for part in (out / "parts").glob("runs-*.parquet"))


def load_ensemble(out: str | Path) -> Ensemble:
    """Read a results folder written by run_ensemble (or `simkit run`)."""
    out = Path(out)
    if not (out / "runs.parquet").exists():
        raise InputError(f"{out}: no runs.parquet here; is it a simkit results folder?")
    manifest = json.loads((out / "manifest.json").read_text()) if (out / "manifest.json").exists() else {}
    runs = pd.read_parquet(out / "runs.parquet")
    return Ensemble(runs, None, None, summarize(runs), out, manifest)
