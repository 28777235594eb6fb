"""Run a sweep into a result folder: written as tasks finish, resumable, memory flat.

The folder holds `manifest.json` (written first: the sweep's identity, seed
rule, versions, command), `points.parquet` (written before any run), and
`parts/runs-<start>-<stop>.parquet`, one per finished task, each written
atomically. When every task is done the parts are streamed, in run order, into
`runs.parquet`, per-point statistics into `summary.parquet`, and the parts are
removed. Rerunning the same sweep into the same folder skips every task whose
part exists, so an interrupted sweep resumes and ends with the same tables as
an uninterrupted one; a folder holding another sweep is refused, never mixed.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from simkit.executor import ExecutionError, open_executor
from simkit.limits import check_work
from simkit.manifest import software
from simkit.scenario.paths import parameter_value
from simkit.store import ResultFolder, parquet_writer, write_table
from simkit.sweep.design import make_points
from simkit.sweep.spec import PreparedSweep, Sweep, as_mapping, identity, load_sweep, point_count, prepare
from simkit.sweep.summary import output_columns, summarize_points
from simkit.sweep.task import SEED_RULES, Model, Task, model_name, run_shared, simkit_model
from simkit.yamlio import InputError

if TYPE_CHECKING:
    from distributed import Client

Progress = Callable[[int], None]
"""Called first with the runs already done (0 unless resuming), then with each finished task's runs."""


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep; the message says how many runs are saved and how to resume."""


@dataclass
class SweepResult:
    """A finished sweep, read from its folder.

    Attributes:
        points: One row per design point: `point` and each parameter path.
        summary: One row per point: its parameters, `runs`, `share_<outcome>` (with `_lo`/`_hi` 95%
            Wilson bounds) and `<attribute>_mean`/`_p10`/`_p50`/`_p90`.
        manifest: The manifest (identity, seed rule, versions, command, last session's timings).
        out: The result folder.
    """

    points: pd.DataFrame
    summary: pd.DataFrame
    manifest: dict
    out: Path

    @cached_property
    def runs(self) -> pd.DataFrame:
        """Every run (one row per run, with `point` and `replicate`); read on first use, it can be large."""
        return pd.read_parquet(self.out / "runs.parquet")

    @property
    def parameters(self) -> list[str]:
        """The swept parameter paths, in spec order."""
        return [c for c in self.points.columns if c != "point"]


def run_sweep(
    sweep: Sweep | str | Path,
    out: str | Path | None = None,
    workers: int = 1,
    scheduler: str | Client | None = None,
    progress: Progress | None = None,
    command: str | None = None,
    model: Model | None = None,
    *,
    allow_large: bool = False,
) -> SweepResult:
    """Run (or resume, or just read back) a sweep and return its tables.

    Args:
        sweep: A `Sweep`, or the path of a sweep YAML.
        out: Result folder; a fresh temporary folder when None. Rerunning into the same folder resumes.
        workers: Local worker processes (1 = in this process); ignored when `scheduler` is given.
        scheduler: A Dask scheduler address (`tcp://host:8786`) or a `distributed.Client`.
        progress: Progress callback (see `Progress`).
        command: Command line to record in the manifest (default: this process's argv).
        model: Model hook (default: the siege model); must be a module-level function so it can be
            sent to worker processes. See `simkit.sweep.task.Model`.
        allow_large: go past the work-size limit (`simkit.limits.MAX_WORK`).

    Raises:
        InputError: a bad spec, a sweep over the work-size limit, or `out` holds something else.
        SweepInterrupted: Ctrl-C; finished tasks are saved.
        WorkerLost: a worker process died; finished tasks are saved.
        TaskFailed: a run raised in a worker; finished tasks are saved.
    """
    source = None
    if isinstance(sweep, (str, Path)):
        source = Path(sweep)
        sweep = load_sweep(source)
    prepared = prepare(sweep, source)
    check_size(prepared, allow_large)
    model = model or simkit_model
    out = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="simkit-sweep-"))
    manifest = _manifest(prepared, model, source, command)
    with ResultFolder(out, manifest, ("identity",), others=_another_sweep) as folder:
        previous = folder.previous or {}
        total = manifest["runs"]
        if "finished" in previous and (out / "runs.parquet").exists() and (out / "summary.parquet").exists():
            folder.drop_parts()
            if progress:
                progress(total)
            return load_sweep_result(out)
        folder.start()
        points = _points(folder, prepared)
        plan = list(tasks(points, prepared))
        todo = [task for task in plan if not _part(folder, task).exists()]
        done = total - sum(task.runs for task in todo)
        if progress:
            progress(done)
        executor = open_executor(workers, scheduler)
        session = {
            "executor": executor.description,
            "slots": executor.slots,
            "tasks": 0,
            "runs": 0,
            "task_seconds": 0.0,
        }
        began = time.perf_counter()
        try:
            with closing(executor.map(run_shared, todo, (prepared.base.scenario, model))) as results:
                for task, result in results:
                    write_table(_part(folder, task), result.table)
                    done += task.runs
                    session["tasks"] += 1
                    session["runs"] += task.runs
                    session["task_seconds"] += result.seconds
                    if progress:
                        progress(task.runs)
        except KeyboardInterrupt:
            raise SweepInterrupted(_saved("interrupted", done, total, out)) from None
        except ExecutionError as err:
            raise type(err)(_saved(str(err), done, total, out)) from None
        finally:
            executor.close()
        session["wall_seconds"] = time.perf_counter() - began
        _finish(folder, plan, points, session)
    return load_sweep_result(out)


def check_size(prepared: PreparedSweep, allow_large: bool = False) -> None:
    """Refuse a sweep whose points x replicates exceed the work-size limit (`simkit.limits`).

    Raises:
        InputError: one line naming the design size, the limit and --allow-large.
    """
    points = point_count(prepared)
    runs = points * prepared.sweep.replicates
    what = f"the sweep ({points:,} points x {prepared.sweep.replicates:,} replicates)"
    check_work(runs, prepared.base.scenario, what, allow_large)


def _another_sweep(out: Path, previous: dict, manifest: dict) -> str:
    if previous.get("kind") != "sweep":
        return f"{out} holds results that are not a sweep; choose another --out"
    return (
        f"{out} holds another sweep ({_differences(previous.get('identity') or {}, manifest['identity'])}); "
        "choose another --out or delete that folder"
    )


def _part(folder: ResultFolder, task: Task):
    return folder.part("runs", task.start, task.stop, width=9)


def _saved(what: str, done: int, total: int, out: Path) -> str:
    return (
        f"{what}: {done:,} of {total:,} runs are saved in {out}; run the same sweep into it again to resume"
    )


def tasks(points: pd.DataFrame, prepared: PreparedSweep) -> Iterator[Task]:
    """Cut the sweep's runs (point-major) into tasks of `batch_size` runs."""
    sweep = prepared.sweep
    replicates = sweep.replicates
    rows = [{name: value.item() if hasattr(value, "item") else value for name, value in row.items()}
            for row in points[prepared.names].to_dict("records")]  # fmt: skip
    total = len(rows) * replicates
    for start in range(0, total, sweep.batch_size):
        stop = min(start + sweep.batch_size, total)
        first, last = start // replicates, (stop - 1) // replicates
        yield Task(start, stop, replicates, sweep.seed, sweep.seeds, first, tuple(rows[first : last + 1]))


def _manifest(prepared: PreparedSweep, model: Model, source: Path | None, command: str | None) -> dict:
    sweep = prepared.sweep
    ident = identity(prepared, model_name(model))
    points = point_count(prepared)
    return {
        "kind": "sweep",
        "name": sweep.label,
        "description": sweep.description,
        "spec_file": str(source) if source else None,
        "spec": as_mapping(sweep),
        "identity": ident,
        "scenario": str(sweep.scenario),
        "scenario_name": prepared.base.scenario.name,
        "scenario_hash": prepared.base.hash,
        "overrides": sweep.overrides,
        "parameters": prepared.names,
        "base": {name: parameter_value(prepared.base.scenario, name) for name in prepared.names},
        "design": sweep.design.model_dump(exclude_none=True),
        "points": points,
        "replicates": sweep.replicates,
        "runs": points * sweep.replicates,
        "master_seed": sweep.seed,
        "seeds": sweep.seeds,
        "seed_rule": SEED_RULES[sweep.seeds],
        "run_numbering": "run i is replicate i % replicates of point i // replicates",
        "batch_size": sweep.batch_size,
        "model": model_name(model),
        **software(command),
    }


def _differences(old: dict, new: dict) -> str:
    keys = [key for key in new if old.get(key) != new.get(key)]
    return "differs in " + ", ".join(
        f"{key}: {_short(old.get(key))} there, {_short(new.get(key))} here" for key in keys
    )


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def _points(folder: ResultFolder, prepared: PreparedSweep) -> pd.DataFrame:
    """The design points: read back when resuming (they are the record), else drawn and written first."""
    path = folder.path("points.parquet")
    if path.exists():
        return pd.read_parquet(path)
    points = make_points(prepared)
    write_table(path, pa.Table.from_pandas(points, preserve_index=False))
    return points


def _finish(folder: ResultFolder, plan: list[Task], points: pd.DataFrame, session: dict) -> None:
    """Merge parts into runs.parquet and summarize per point, streaming (memory does not grow with runs)."""
    out, manifest = folder.out, folder.manifest
    classes_seen = _merge(folder, plan)
    schema = pq.read_schema(out / "runs.parquet")
    classes, flags, attributes = output_columns(schema, classes_seen)
    needed = ["point"] + (["outcome"] if classes else []) + flags + attributes
    pieces, carry = [], None
    runs_file = pq.ParquetFile(out / "runs.parquet")
    for batch in runs_file.iter_batches(batch_size=max(65_536, 4 * manifest["replicates"]), columns=needed):
        frame = batch.to_pandas()
        if carry is not None:
            frame = pd.concat([carry, frame], ignore_index=True)
        last = frame["point"].iloc[-1]
        complete = frame["point"] < last  # the last point may go on in the next batch
        if complete.any():
            pieces.append(summarize_points(frame[complete], classes, flags, attributes))
        carry = frame[~complete]
    pieces.append(summarize_points(carry, classes, flags, attributes))
    summary = points.merge(
        pd.concat(pieces, ignore_index=True), on="point", how="left", validate="one_to_one"
    )
    folder.write_table("summary.parquet", pa.Table.from_pandas(summary, preserve_index=False))
    manifest["last_session"] = session
    folder.finish()
    folder.drop_parts()


ROW_GROUP = 65_536
"""Rows per row group of runs.parquet: parts are small, so they are gathered before writing."""


def _merge(folder: ResultFolder, plan: list[Task]) -> set[str]:
    """Concatenate the parts in run order into runs.parquet; return the outcome classes seen."""
    seen, buffered = set(), []
    first = pq.read_table(_part(folder, plan[0]))
    with parquet_writer(folder.path("runs.parquet"), first.schema) as writer:

        def flush() -> None:
            if buffered:
                writer.write_table(pa.concat_tables(buffered))
                buffered.clear()

        for task in plan:
            table = first if task is plan[0] else pq.read_table(_part(folder, task))
            buffered.append(table.select(writer.schema.names).cast(writer.schema))
            if "outcome" in table.column_names:
                seen.update(pc.unique(table["outcome"]).to_pylist())
            if sum(len(t) for t in buffered) >= ROW_GROUP:
                flush()
        flush()
    return {str(value) for value in seen}


def load_sweep_result(out: str | Path) -> SweepResult:
    """Read a finished sweep folder (written by `run_sweep` or `simkit sweep`)."""
    out = Path(out)
    manifest_path = out / "manifest.json"
    if not manifest_path.exists():
        raise InputError(f"{out}: no manifest.json here; is it a sweep result folder?")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("kind") != "sweep":
        raise InputError(f"{out}: not a sweep result folder (its manifest is of another kind)")
    if "finished" not in manifest or not (out / "summary.parquet").exists():
        parts = len(list((out / "parts").glob("runs-*.parquet"))) if (out / "parts").exists() else 0
        raise InputError(f"{out}: the sweep is not finished ({parts} tasks of runs saved); "
                         "run the same sweep into this folder again to finish it")  # fmt: skip
    points = pd.read_parquet(out / "points.parquet")
    summary = pd.read_parquet(out / "summary.parquet")
    return SweepResult(points, summary, manifest, out)
