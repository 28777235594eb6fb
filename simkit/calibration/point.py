"""The calibrated scenario: the posterior point whose ensemble best passes the check against the record.

The marginal medians of a thin, correlated ABC posterior need not be a good joint
point (each median may come from a different particle), and an accepted particle was
accepted on one lucky run. So the candidates — the medians and the heaviest
particles — are each run as a small ensemble with common random numbers and ranked
by the posterior predictive check of `simkit compare` (key dates inside the 80%
intervals, fitted quantities' ranges overlapping them, the documented outcome the most
likely: `Comparison.checks`), ties broken by the distance D. D alone is not used: its
outcome third rewards a point that surrenders in every run even when it surrenders
two months early. In a joint calibration every candidate is run on every case and
checked against each case's record: its checks are added up over the cases and its
D averaged, so the point chosen is the one the whole case set agrees on best.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from contextlib import closing
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from simkit.calibration.compare import Comparison, compare_frames
from simkit.ensemble import BATCH_SIZE, Batch, simulate_batch
from simkit.executor import executor

CANDIDATES = 50
"""Heaviest particles scored besides the medians: with an ESS of tens to a hundred, the rest weigh little."""

SCREEN_RUNS = 20
"""Runs per candidate and case in the screening stage of `score_candidates`."""

FINALISTS = 8
"""Candidates run to the full --point-runs after the screening (docs/calibration.md says why eight)."""

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
    models: Mapping[str, SimulationModel],
    candidates: pd.DataFrame,
    runs: int,
    seed: int,
    workers: int = 1,
    scheduler: str | None = None,
    *,
    screen_runs: int = SCREEN_RUNS,
    finalists: int = FINALISTS,
) -> pd.DataFrame:
    """Each candidate's checks passed and distance D over all cases, runs i seeded alike; best first.

    In two stages when there are more than `finalists` candidates: every candidate is run
    `screen_runs` times per case and ranked; the best `finalists` are then run up to `runs`
    (their first `screen_runs` runs are the same runs, so they are reused, not repeated) and
    ranked again on all their runs. The finalists come first, ranked on `runs`; the others
    follow in their screening order. The `runs` column says how many runs each row's scores
    are on.

    With several cases (a joint calibration), a candidate's checks are added up
    over the cases and its D and D's parts are the means over the cases (each case
    weighs alike, as in the ABC distance); each case's checks and D are columns
    `checks_passed.<case>` and `D.<case>`.

    Args:
        models: each case's model (its scenario and targets), by case id.
        candidates: `candidate_points`.
        runs: runs per finalist and case.
        seed: master seed (run i of every candidate and case uses the same seed).
        workers: local processes; ignored with `scheduler`.
        scheduler: a Dask scheduler address.
        screen_runs: runs per candidate and case in the screening stage.
        finalists: candidates run to `runs`.
    """
    names = [c for c in candidates.columns if c not in ("candidate", "weight")]
    points = [{n: float(row[n]) for n in names} for _, row in candidates.iterrows()]
    candidates = candidates.reset_index(drop=True)
    cases = list(models)
    scenarios = [models[case].scenario_at(values) for case in cases for values in points]
    screen = min(screen_runs, runs) if len(points) > finalists else runs
    found: dict[tuple[int, int], tuple[pa.Table, pa.Table]] = {}
    with executor(workers, scheduler) as pool:
        _simulate_runs(pool, scenarios, seed, range(len(points)), len(points), cases, 0, screen, found)
        ranked = _ranked(candidates, models, points, found, range(len(points)), screen)
        if screen == runs:
            return ranked.drop(columns="index")
        chosen = [int(k) for k in ranked["index"].head(finalists)]
        _simulate_runs(pool, scenarios, seed, chosen, len(points), cases, screen, runs, found)
    final = _ranked(candidates, models, points, found, chosen, runs)
    rest = ranked[~ranked["index"].isin(chosen)]
    return pd.concat([final, rest], ignore_index=True).drop(columns="index")


def _simulate_runs(pool, scenarios, seed, chosen, count, cases, start, stop, found) -> None:
    """Runs start..stop-1 of the chosen candidates on every case, into `found` by (scenario, batch start)."""
    jobs = [
        (c * count + k, Batch(first, min(first + BATCH_SIZE, stop)))
        for k in chosen
        for c in range(len(cases))
        for first in range(start, stop, BATCH_SIZE)
    ]
    with closing(pool.map(_simulate, jobs, (scenarios, seed))) as done:
        for (i, batch), result in done:
            found[i, batch.start] = result


def _ranked(candidates, models, points, found, chosen, runs: int) -> pd.DataFrame:
    """The chosen candidates scored on their runs 0..runs-1, best check first, then lowest D."""
    cases = list(models)
    scored = []
    for k in chosen:
        per_case = {}
        for c, case in enumerate(cases):
            i = c * len(points) + k
            tables = [table for (j, start), table in sorted(found.items()) if j == i and start < runs]
            run_df = pa.concat_tables([t[0] for t in tables]).to_pandas()
            events = pa.concat_tables([t[1] for t in tables]).to_pandas()
            per_case[case] = compare_frames(models[case].targets, run_df, events)
        scored.append({"index": k, "runs": runs, **_scores(per_case)})
    frame = pd.concat([candidates.iloc[list(chosen)].reset_index(drop=True), pd.DataFrame(scored)], axis=1)
    return frame.sort_values(["checks_passed", "D"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


def _scores(comparisons: Mapping[str, Comparison]) -> dict[str, float]:
    """One candidate's row: checks added up over the cases, D and its parts averaged over them."""
    checks = {case: comparison.checks() for case, comparison in comparisons.items()}
    row: dict[str, float] = {
        "checks_passed": sum(passed for passed, _ in checks.values()),
        "checks": sum(total for _, total in checks.values()),
        "D": _mean([c.distance for c in comparisons.values()]),
        **{
            f"D_{part}": _mean([c.parts[part] for c in comparisons.values()])
            for part in ("dates", "quantities", "outcome")
        },
        "key_events_inside": sum(len(c.key_events_inside()) for c in comparisons.values()),
    }
    if len(comparisons) > 1:
        for case, comparison in comparisons.items():
            row[f"checks_passed.{case}"] = checks[case][0]
            row[f"D.{case}"] = comparison.distance
    return row


def _mean(values: list[float | None]) -> float:
    """Mean of the parts present (an open case has no outcome part); NaN when none is."""
    present = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(present)) if present else math.nan


def _simulate(shared: tuple[list[Scenario], int], job: tuple[int, Batch]) -> tuple[pa.Table, pa.Table]:
    scenarios, seed = shared
    index, batch = job
    runs_table, events_table, _ = simulate_batch(scenarios[index], batch, seed, False)
    return runs_table, events_table
