"""The worker side of a sweep: one task runs a contiguous block of (point, replicate) runs.

Runs of a sweep are numbered point-major: run i is replicate i % R of point
i // R (R replicates per point). A task is a block [start, stop) of run numbers,
so it may span points; it carries the parameter values of the points it
touches and nothing else, which keeps it small to ship to a process or a Dask
worker. What a run produces depends only on its point's parameters and its
seed, never on the task it landed in or the worker that ran it.

The model that turns (scenario, parameters, seed) into one row is a hook:
`simkit_model` by default; any module-level function with the same signature
(e.g. `simkit.sweep.reference.ishigami`) can stand in for it, which is how the
sensitivity code is checked against functions whose indices are known.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from simkit.scenario import Scenario, with_overrides
from simkit.single_run import run_seed, runs_table
from simkit.yamlio import override_value

Model = Callable[[Scenario, Mapping[str, float], int], Mapping[str, Any]]
"""A run: (scenario with the point applied, the point's parameters by path, seed) -> one row of outputs."""

BOOKKEEPING = ("point", "replicate", "run", "seed")
"""Columns every runs table starts with; a model's outputs may not use these names."""

SEED_RULES = {
    "common": "common random numbers: replicate r of every point uses seed "
    "SeedSequence([master_seed, r]).generate_state(1, uint64)[0] >> 1, "
    "i.e. run r of `simkit run --seed master_seed`",
    "independent": "run (point p, replicate r) uses seed "
    "SeedSequence([master_seed, p, r]).generate_state(1, uint64)[0] >> 1",
}


def seed_of(master_seed: int, rule: str, point: int, replicate: int) -> int:
    """Seed of (point, replicate): a function of the master seed, the rule and these two numbers only.

    With `common` random numbers replicate r sees the same random stream at
    every point, so differences between points are not masked by sampling
    noise, and a point's replicates are exactly the runs of `simkit run` with
    that point's `--set` values and the same seed.
    """
    if rule == "common":
        return run_seed(master_seed, replicate)
    return int(
        np.random.SeedSequence([master_seed, point, replicate]).generate_state(1, dtype=np.uint64)[0] >> 1
    )


def simkit_model(scenario: Scenario, params: Mapping[str, float], seed: int) -> dict[str, Any]:
    """The siege-negotiation model: one run's outcome class and attributes (a `simkit run` runs row)."""
    from simkit.single_run import simulate

    row = simulate(scenario, seed).run
    for name in ("run", "seed"):
        row.pop(name, None)
    return row


def model_name(model: Model) -> str:
    """`module:qualname` of a model hook: recorded in the manifest and part of a sweep's identity."""
    return f"{model.__module__}:{model.__qualname__}"


@dataclass(frozen=True)
class Task:
    """Runs [start, stop) of a sweep, with the parameters of the points they belong to.

    Attributes:
        start: First run number.
        stop: One past the last run number.
        replicates: Replicates per point (R).
        master_seed: The sweep's master seed.
        seeds: Seed rule, `common` or `independent`.
        first_point: Point of run `start`.
        params: Parameters of points first_point, first_point + 1, ... (each a path -> value mapping).
    """

    start: int
    stop: int
    replicates: int
    master_seed: int
    seeds: str
    first_point: int
    params: tuple[dict[str, float], ...]

    @property
    def name(self) -> str:
        """Part-file name of the task's result."""
        return f"{self.start:09d}-{self.stop:09d}"

    @property
    def runs(self) -> int:
        """Number of runs in the task."""
        return self.stop - self.start


@dataclass
class TaskResult:
    """A task's rows and the seconds the worker spent computing them (for overhead figures)."""

    table: pa.Table
    seconds: float


def run_task(base: Scenario, task: Task, model: Model = simkit_model) -> TaskResult:
    """Run every run of a task; the scenario of each point is built once per task."""
    began = time.perf_counter()
    rows = []
    scenarios: dict[int, Scenario] = {}
    for index in range(task.start, task.stop):
        point, replicate = divmod(index, task.replicates)
        params = task.params[point - task.first_point]
        if point not in scenarios:
            scenarios[point] = with_overrides(
                base, params, origin=f"sweep point {point}",
                named=lambda key, value, point=point: f"sweep point {point} {key}={override_value(value)}",
            )  # fmt: skip
        seed = seed_of(task.master_seed, task.seeds, point, replicate)
        outputs = model(scenarios[point], params, seed)
        clash = [name for name in BOOKKEEPING if name in outputs]
        if clash:
            raise ValueError(f"model {model_name(model)} returned reserved column(s) {clash}")
        rows.append({"point": point, "replicate": replicate, "run": index, "seed": seed, **outputs})
    return TaskResult(runs_table(rows), time.perf_counter() - began)


def run_shared(shared: tuple[Scenario, Model], task: Task) -> TaskResult:
    """`run_task` in the executor's form: (base scenario, model) are sent once per worker."""
    base, model = shared
    return run_task(base, task, model)
