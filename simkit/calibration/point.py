"""The calibrated scenario: the posterior point whose ensemble best passes the check against the record.

The marginal medians of a thin, correlated ABC posterior need not be a good joint
point (each median may come from a different particle), and an accepted particle was
accepted on one lucky run. So the candidates — the medians and the heaviest
particles — are each run as a small ensemble with common random numbers and ranked
by the posterior predictive check of `simkit compare` (key dates inside the 80%
intervals, fitted quantities' ranges overlapping them, the documented outcome the most
likely: `Comparison.checks`), ties broken by the distance D. D alone is not used: its
outcome third rewards a point that surrenders in every run even when it surrenders
two months early.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import closing
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from simkit.calibration.compare import compare_frames
from simkit.ensemble import Batch, batches, simulate_batch
from simkit.executor import executor

CANDIDATES = 50
"""Heaviest particles scored besides the medians: with an ESS of tens to a hundred, the rest weigh little."""

if TYPE_CHECKING:
    from simkit.calibration.abc import SimulationModel
    from simkit.scenario import Scenario


def candidate_points(
    posterior: pd.DataFrame, medians: Mapping[str, float], count: int = CANDIDATES
) -> pd.DataFrame:
    """The medians (named "median") and the `count` heaviest particles ("particle <row>"), one row each."""
    names = list(medians)
    heaviest = posterior.sort_values("weight", ascending=False, kind="stable").head(count)
    rows = [{"candidate": "median", "weight": float("nan"), **medians}]
    rows += [
        {"candidate": f"particle {index}", "weight": float(row["weight"]), **{n: row[n] for n in names}}
        for index, row in heaviest.iterrows()
    ]
    return pd.DataFrame(rows)


def score_candidates(
    model: SimulationModel,
    candidates: pd.DataFrame,
    runs: int,
    seed: int,
    workers: int = 1,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """Each candidate's checks passed and distance D, runs i seeded alike at every candidate; best first."""
    names = [c for c in candidates.columns if c not in ("candidate", "weight")]
    scenarios = [model.scenario_at({n: float(row[n]) for n in names}) for _, row in candidates.iterrows()]
    jobs = [(i, batch) for i in range(len(scenarios)) for batch in batches(runs)]
    found: dict[tuple[int, int], tuple[pa.Table, pa.Table]] = {}
    with executor(workers, scheduler) as pool, closing(pool.map(_simulate, jobs, (scenarios, seed))) as done:
        for (i, batch), result in done:
            found[i, batch.start] = result
    tables = {i: [found[i, batch.start] for batch in batches(runs)] for i in range(len(scenarios))}
    scored = []
    for i in range(len(scenarios)):
        run_df = pa.concat_tables([t[0] for t in tables[i]]).to_pandas()
        events = pa.concat_tables([t[1] for t in tables[i]]).to_pandas()
        comparison = compare_frames(model.targets, run_df, events)
        passed, total = comparison.checks()
        scored.append(
            {
                "checks_passed": passed,
                "checks": total,
                "D": comparison.distance,
                **{f"D_{part}": comparison.parts[part] for part in ("dates", "quantities", "outcome")},
                "key_events_inside": len(comparison.key_events_inside()),
            }
        )
    result = pd.concat([candidates.reset_index(drop=True), pd.DataFrame(scored)], axis=1)
    return result.sort_values(["checks_passed", "D"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


def _simulate(shared: tuple[list[Scenario], int], job: tuple[int, Batch]) -> tuple[pa.Table, pa.Table]:
    scenarios, seed = shared
    index, batch = job
    runs_table, events_table, _ = simulate_batch(scenarios[index], batch, seed, False)
    return runs_table, events_table
