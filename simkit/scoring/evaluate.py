"""Score the forecasts of a case set: per case and pooled, against the baselines (docs/scoring.md).

`run_cases` simulates every case of a case set (an ensemble per case, in
`<out>/cases/<id>/`, resumable; or a forecast on a posterior); `score_cases`
turns each case's runs into the scores of its class forecast, its deal-day
forecast and its evacuated forecast, with the same scores for the baselines
and the skill against them; `write_scores` writes scores.parquet and
scores.json into the score's folder (`score_folder`, whose manifest the
caller writes). Scoring reads only three columns of the runs (outcome,
deal_day, surrender_evacuated), so it can be tested on hand-made runs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simkit.manifest import software
from simkit.model import OUTCOMES
from simkit.scenario import LoadedScenario, load_scenario
from simkit.scoring import baselines, rules
from simkit.scoring.caseset import Case, LoadedCaseSet
from simkit.store import ResultFolder
from simkit.yamlio import InputError

LEVELS = (0.5, 0.8)
"""Central intervals reported for the deal day and evacuated."""

RUN_COLUMNS = ("outcome", "deal_day", "surrender_evacuated")
"""The columns of runs.parquet scoring reads: `surrender_evacuated` is scored against a case's `evacuated`."""

SCORE_COLUMNS = ("case", "metric", "model", "baseline", "baseline_score", "skill", "cases")


@dataclass(frozen=True)
class CaseForecast:
    """What a case's runs forecast, in the units scoring needs.

    Attributes:
        start: the scenario's start date (day 0).
        horizon: the scenario's horizon in days; a run without a deal by then is censored at it.
        population: the scenario's population at its start.
        runs: one row per run with `outcome`, `deal_day` (null: no deal) and `surrender_evacuated`
            (people who left on a signed surrender's buses: what a case's documented `evacuated` counts).
    """

    start: dt.date
    horizon: int
    population: float
    runs: pd.DataFrame

    def deal_days(self) -> np.ndarray:
        """min(deal day, horizon) of every run: a run that never reached a deal counts as the horizon."""
        days = pd.to_numeric(self.runs["deal_day"], errors="coerce").to_numpy(dtype=float)
        return np.where(np.isnan(days), float(self.horizon), np.minimum(days, self.horizon))


# ---------------------------------------------------------------- running the cases
def load_cases(caseset: LoadedCaseSet, overrides: Mapping[str, Any]) -> dict[str, LoadedScenario]:
    """Each case's scenario with the --set overrides; a bad scenario or override names its case."""
    from simkit.calibration.trajectory import load_trajectory

    loaded = {}
    for case in caseset.caseset.cases:
        try:
            scenario = load_scenario(caseset.resolve(case.scenario), overrides)
            trajectory = load_trajectory(caseset.resolve(case.trajectory))
        except InputError as err:
            raise InputError(f"case {case.id}: {err}") from None
        documented = trajectory.outcome.kind if trajectory.outcome is not None else None
        if documented is not None and documented != case.outcome:
            raise InputError(
                f"{caseset.path}: case {case.id}: outcome {case.outcome} differs from its trajectory's "
                f"outcome class {documented} ({case.trajectory})"
            )
        start = scenario.scenario.start
        if case.deal_date is not None and case.deal_date.to < start:
            raise InputError(
                f"{caseset.path}: case {case.id}: deal_date {case.deal_date.to} is before its scenario's "
                f"start {start}: the scenario must start before the ending it forecasts"
            )
        loaded[case.id] = scenario
    return loaded


def run_cases(
    caseset: LoadedCaseSet,
    scenarios: Mapping[str, LoadedScenario],
    runs: int,
    seed: int,
    workers: int,
    out: Path,
    *,
    posterior: Any = None,
    progress: Callable[[str, str], AbstractContextManager[Callable[[int], None]]] | None = None,
    command: str | None = None,
    overwrite: bool = False,
) -> dict[str, CaseForecast]:
    """Simulate every case into `out/cases/<id>/` and return its forecast.

    Without a posterior each case is `run_ensemble` (resumable: rerunning the
    same command does only what is missing); with one, `run_forecast` (each run
    draws a posterior particle). The same master seed is used for every case.

    Args:
        caseset: the case set.
        scenarios: each case's loaded scenario (`load_cases`).
        runs: runs per case.
        seed: master seed.
        workers: worker processes.
        out: the score's result folder.
        posterior: a `simkit.calibration.forecast.Posterior`, or None.
        progress: given (case id, case name), a context manager yielding the progress callback of
            that case's runs (called with the number of runs just finished).
        command: the command line, recorded in each case's manifest.
        overwrite: replace other results found in a case's folder.
    """
    from contextlib import nullcontext

    forecasts = {}
    for case in caseset.caseset.cases:
        loaded = scenarios[case.id]
        folder = out / "cases" / case.id
        with progress(case.id, case.name) if progress else nullcontext(None) as advance:
            if posterior is None:
                from simkit.ensemble import run_ensemble

                ensemble = run_ensemble(
                    loaded, runs, seed, workers, folder, False, advance, command, overwrite=overwrite
                )
            else:
                from simkit.calibration.forecast import run_forecast

                ensemble = run_forecast(
                    loaded, posterior, runs, seed, workers, folder,
                    progress=advance, command=command, overwrite=overwrite,
                )  # fmt: skip
        missing = [column for column in RUN_COLUMNS if column not in ensemble.runs.columns]
        if missing:
            raise InputError(
                f"{folder} holds runs written before runs had {', '.join(missing)}; "
                "add --overwrite to rerun them"
            )
        forecasts[case.id] = forecast_of(loaded, ensemble.runs)
    return forecasts


def forecast_of(loaded: LoadedScenario, runs: pd.DataFrame) -> CaseForecast:
    """A case's forecast from its scenario and its runs table."""
    scenario = loaded.scenario
    return CaseForecast(
        start=scenario.start,
        horizon=scenario.horizon_days.value,
        population=float(sum(group.population.value for group in scenario.residents)),
        runs=runs[list(RUN_COLUMNS)].reset_index(drop=True),
    )


# ---------------------------------------------------------------- scoring
def _day(start: dt.date, date: dt.date) -> int:
    return (date - start).days


def _date(start: dt.date, day: float, horizon: int) -> str:
    """A forecast day as a date; at the horizon it means no deal by then."""
    if day >= horizon:
        return f">= {start + dt.timedelta(days=horizon)}"
    return str(start + dt.timedelta(days=round(day)))


def _interval_dicts(
    median: float, found: list[rules.Interval], as_text: Callable[[float], Any]
) -> dict[str, Any]:
    return {
        "median": as_text(median),
        "intervals": [
            {
                "level": i.level,
                "low": as_text(i.low),
                "high": as_text(i.high),
                "inside": i.inside,
                "overlaps": i.overlaps,
            }
            for i in found
        ],
    }


def score_case(
    case: Case, cases: list[Case], forecast: CaseForecast, populations: Mapping[str, float]
) -> tuple[list[dict], dict]:
    """Scores of one case (tidy rows) and what it forecast (details for scores.json)."""
    classes = list(OUTCOMES)
    observed = classes.index(case.outcome)
    p_model = rules.class_probabilities(forecast.runs["outcome"].tolist(), classes)
    references = {
        "uniform": baselines.uniform(classes),
        "base_rate": baselines.base_rate(cases, case.id, classes),
    }
    rows = []
    for metric, rule in (("brier", rules.brier), ("log_score", rules.log_score)):
        model = rule(p_model, observed)
        for name, reference in references.items():
            ref = rule(reference, observed)
            rows.append(_row(case.id, metric, model, name, ref))
    shares = forecast.runs["outcome"].value_counts(normalize=True)
    detail: dict[str, Any] = {
        "id": case.id,
        "name": case.name,
        "runs": len(forecast.runs),
        "start": str(forecast.start),
        "horizon_days": forecast.horizon,
        "documented": {
            "outcome": case.outcome,
            "siege_start": [str(case.siege_start.from_), str(case.siege_start.to)],
            "deal_date": [str(case.deal_date.from_), str(case.deal_date.to)] if case.deal_date else None,
            "control_date": (
                [str(case.control_date.from_), str(case.control_date.to)] if case.control_date else None
            ),
            "evacuated": [case.evacuated.low, case.evacuated.high] if case.evacuated else None,
        },
        "probabilities": dict(zip(classes, p_model.round(6).tolist(), strict=True)),
        "shares": {name: float(shares.get(name, 0.0)) for name in classes},
        "p_documented": float(p_model[observed]),
        "most_likely": classes[int(np.argmax(p_model))],
        "baselines": {
            name: dict(zip(classes, ref.round(6).tolist(), strict=True)) for name, ref in references.items()
        },
    }
    if case.deal_date is not None:
        rows.append(_deal_scores(case, cases, forecast, detail))
    if case.evacuated is not None:
        evacuated_row = _evacuated_scores(case, cases, forecast, populations, detail)
        if evacuated_row is not None:
            rows.append(evacuated_row)
    return rows, detail


def _deal_scores(case: Case, cases: list[Case], forecast: CaseForecast, detail: dict) -> dict:
    horizon, start = forecast.horizon, forecast.start
    low = min(_day(start, case.deal_date.from_), horizon)
    high = min(_day(start, case.deal_date.to), horizon)
    members = forecast.deal_days()
    reference = baselines.duration_members(cases, case, _day(case.siege_start.midpoint, start), horizon)
    median, found = rules.intervals(members, low, high, LEVELS)
    detail["deal"] = {
        "documented_days": [low, high],
        "no_deal_by_horizon": float(np.mean(members >= horizon)),
        **_interval_dicts(median, found, lambda d: _date(start, d, horizon)),
        "median_day": median,
        "interval_days": [[i.low, i.high] for i in found],
        "baseline_members_days": reference,
    }
    return _row(
        case.id,
        "crps_deal_days",
        rules.crps(members, low, high),
        "durations",
        rules.crps(reference, low, high),
    )


def _evacuated_scores(
    case: Case, cases: list[Case], forecast: CaseForecast, populations: Mapping[str, float], detail: dict
) -> dict | None:
    members = forecast.runs["surrender_evacuated"].to_numpy(dtype=float)
    low, high = float(case.evacuated.low), float(case.evacuated.high)
    median, found = rules.intervals(members, low, high, LEVELS)
    reference = baselines.evacuated_members(cases, case.id, populations)
    detail["evacuated"] = {
        **_interval_dicts(median, found, lambda v: round(float(v))),
        "baseline_members": [round(v) for v in reference],
    }
    model = rules.crps(members, low, high, points=rules.RANGE_POINTS)
    if not reference:
        return _row(case.id, "crps_evacuated", model, "evacuated_share", float("nan"))
    return _row(
        case.id,
        "crps_evacuated",
        model,
        "evacuated_share",
        rules.crps(reference, low, high, points=rules.RANGE_POINTS),
    )


def _row(case: str, metric: str, model: float, baseline: str, reference: float) -> dict:
    return {
        "case": case,
        "metric": metric,
        "model": model,
        "baseline": baseline,
        "baseline_score": reference,
        "skill": rules.skill(model, reference),
        "cases": 1,
    }


def score_cases(cases: list[Case], forecasts: Mapping[str, CaseForecast]) -> tuple[pd.DataFrame, list[dict]]:
    """Every case's scores, then the pooled ones (mean over the cases that have the metric and baseline).

    The pooled skill is 1 - mean(model) / mean(baseline): the skill of the mean
    scores, not the mean of the cases' skills (which a single near-zero baseline
    score would dominate).

    Returns:
        the tidy table (SCORE_COLUMNS; `case` is "pooled" for the pooled rows) and each case's details.
    """
    populations = {case.id: forecasts[case.id].population for case in cases}
    rows, details = [], []
    for case in cases:
        case_rows, detail = score_case(case, cases, forecasts[case.id], populations)
        rows.extend(case_rows)
        details.append(detail)
    table = pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
    scored = table[np.isfinite(table["baseline_score"])]  # a baseline with no members has no score
    pooled = (
        scored.groupby(["metric", "baseline"], sort=False)
        .agg(model=("model", "mean"), baseline_score=("baseline_score", "mean"), cases=("case", "size"))
        .reset_index()
    )
    pooled["case"] = "pooled"
    pooled["skill"] = [
        rules.skill(m, b) for m, b in zip(pooled["model"], pooled["baseline_score"], strict=True)
    ]
    return pd.concat([table, pooled[list(SCORE_COLUMNS)]], ignore_index=True), details


# ---------------------------------------------------------------- writing
def manifest(
    caseset: LoadedCaseSet,
    scenarios: Mapping[str, LoadedScenario],
    runs: int,
    seed: int,
    overrides: Mapping[str, Any],
    posterior: Any,
    command: str | None,
) -> dict:
    """What manifest.json records: the case set and its hash, each case's files and hashes, seed, runs."""
    cases = []
    for case in caseset.caseset.cases:
        trajectory = caseset.resolve(case.trajectory)
        cases.append(
            {
                "id": case.id,
                "scenario": str(scenarios[case.id].path),
                "scenario_hash": scenarios[case.id].hash,
                "trajectory": str(trajectory),
                "trajectory_sha256": hashlib.sha256(trajectory.read_bytes()).hexdigest(),
                "results": f"cases/{case.id}",
            }
        )
    hashes = {case["id"]: [case["scenario_hash"], case["trajectory_sha256"]] for case in cases}
    return {
        "kind": "score",
        "case_set": str(caseset.path),
        "case_set_sha256": caseset.hash,
        "cases": cases,
        "case_hashes": hashes,
        "master_seed": seed,
        "runs_per_case": runs,
        "overrides": dict(overrides),
        "posterior": str(posterior.path) if posterior is not None else None,
        "posterior_hash": posterior.hash if posterior is not None else None,
        "smoothing": {
            "runs_pseudocount": rules.RUN_PSEUDOCOUNT,
            "base_rate_pseudocount": baselines.BASE_RATE_PSEUDOCOUNT,
        },
        **software(command),
    }


SCORE_IDENTITY = (
    "case_set_sha256",
    "case_hashes",
    "master_seed",
    "overrides",
    "posterior_hash",
    "posteriors",
    "smoothing",
)
"""What makes two scores the same: the case set, its cases' scenarios and trajectories, the master seed, the
overrides, the posterior(s) and the smoothing. A score that differs in any of them is refused (or, with
`--overwrite`, replaces the folder's) before anything is written; the number of runs per case is not part of
it, as an ensemble may grow (each case's folder, `cases/<id>/`, resumes its own ensemble)."""


def score_folder(out: str | Path, info: dict, overwrite: bool = False) -> ResultFolder:
    """The result folder of a score (`simkit.store.ResultFolder`), to open before its cases run.

    Args:
        out: The folder; the cases run into `out/cases/<id>/`.
        info: Its manifest (`manifest`).
        overwrite: Replace another result of simkit's found there (another kind, or another score:
            `SCORE_IDENTITY`); only the files its manifest lists and its part files go.
    """
    return ResultFolder(out, info, SCORE_IDENTITY, overwrite)


def write_scores(folder: ResultFolder, table: pd.DataFrame, details: list[dict]) -> list[Path]:
    """Write scores.parquet and scores.json into an open score folder (`score_folder`); return the paths.

    A score's files are computed whole on every run, so the top-level files an earlier run of it wrote
    (such as a scores.png this run, without plots, would leave stale) are removed first
    (`ResultFolder.drop_files`). Through the result store, as every result: each file atomically, never
    through a symbolic link, and listed in the manifest so that `--overwrite` knows them. The caller
    writes any figure into the folder (`ResultFolder.path`), then `finish`es it; the paths returned end
    with its manifest's.
    """
    import pyarrow as pa

    from simkit import store

    folder.drop_files()
    folder.write_table("scores.parquet", pa.Table.from_pandas(table, preserve_index=False))
    records = json.loads(table.to_json(orient="records"))  # NaN -> null
    scores = {"case_set": folder.manifest["case_set"], "cases": details, "scores": records}
    folder.write_json("scores.json", scores)
    return [folder.out / name for name in ("scores.parquet", "scores.json", store.MANIFEST)]
