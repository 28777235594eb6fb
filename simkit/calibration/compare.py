"""Simulated runs beside a documented trajectory: event by event, figure by figure, and one distance.

For each documented event inside the scenario's period: the share of runs in
which it happens (matched by the sequence rule of `summary_stats`), the median
simulated date and the 80% interval (10th-90th percentile, over the runs in
which it happens), and whether the documented date (or window) lies inside that
interval. For each documented quantity the model can be read for: the median
and 80% interval, the share of runs inside the documented range, and whether the
range and the interval overlap. For a closed case, the share of runs ending in
the documented outcome class, and whether it is the most likely class.

The overall distance D (0 = every run reproduces the record, 1 = none comes near)
is the mean of three parts, each in [0, 1], each a mean over runs:

* dates: per key event, min(1, |days outside the documented window| / 90),
  scored 1 in a run where the event never happens; averaged over key events.
  Ninety days (a season) is the scale at which a date is "wrong" rather than "off";
* quantities: per calibrated quantity, min(1, |distance outside the documented
  range| / the bound it crosses), i.e. the relative error, capped at 1;
* outcome: 1 if the run's outcome class is not the documented one.

A part with nothing to score (an open case has no outcome) is left out of the
mean. Every term is bounded, so no single late event or huge count dominates,
and a missing event counts fully against the run rather than being dropped.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simkit.calibration.summary_stats import (
    QUANTITIES,
    Row,
    Targets,
    match_events,
    quantity_values,
    range_offset,
)
from simkit.calibration.trajectory import Range, Trajectory
from simkit.model import OUTCOMES
from simkit.scenario import Scenario

__all__ = ["DATE_SCALE_DAYS", "Comparison", "compare", "compare_frames", "run_rows"]

DATE_SCALE_DAYS = 90
"""Days outside a documented window at which a simulated date scores as fully wrong."""

POPULATION = "population"
"""Simulated residents before the surrender evacuation: final population plus those bussed out under it."""


@dataclass
class Comparison:
    """The result of comparing an ensemble with a trajectory.

    Attributes:
        case: the trajectory's case.
        runs: number of runs compared.
        events: one row per documented event in the simulated period (see `compare`).
        quantities: one row per documented quantity the model can be read for, plus population.
        outcome: documented class, its share and whether it is the most likely; None for an open case.
        distance: the overall distance D in [0, 1].
        parts: D's parts (dates, quantities, outcome) and the per-event and per-quantity scores.
        skipped: documented events outside the simulated period; quantities without a simulated reading.
        matched: run x event table of matched days (NaN: never happened), for figures.
    """

    case: str
    runs: int
    events: pd.DataFrame
    quantities: pd.DataFrame
    outcome: dict | None
    distance: float
    parts: dict
    skipped: dict
    matched: pd.DataFrame = field(repr=False)

    def to_json(self) -> dict:
        """Plain JSON-ready dict (dates as ISO text)."""
        return {
            "case": self.case,
            "runs": self.runs,
            "distance": self.distance,
            "distance_definition": "mean of dates, quantities and outcome parts; see docs/calibration.md",
            "parts": self.parts,
            "outcome": self.outcome,
            "events": _records(self.events),
            "quantities": _records(self.quantities),
            "skipped": self.skipped,
        }

    def key_events_inside(self) -> list[str]:
        """Ids of key events whose documented date lies in the simulated 80% interval."""
        rows = self.events[self.events["key"] & self.events["inside_80"].fillna(False).astype(bool)]
        return list(rows["id"])

    def checks(self) -> tuple[int, int]:
        """(passed, total) of the posterior predictive check against the record.

        Checks: key dates inside the 80% intervals, fitted quantities' documented ranges overlapping
        theirs, and (closed cases) the documented outcome class the most likely.
        """
        key = self.events[self.events["key"]]
        fitted = self.quantities[self.quantities["calibrated"]]
        passed = len(self.key_events_inside()) + int(fitted["overlaps_80"].sum())
        total = len(key) + len(fitted)
        if self.outcome and self.outcome.get("documented"):
            passed += bool(self.outcome["documented_is_most_likely"])
            total += 1
        return passed, total


def run_rows(events: pd.DataFrame, run_ids: Sequence[int]) -> Iterator[tuple[int, list[Row]]]:
    """Each run's event log as (day, type, actor, count, detail) rows, in log order ([] for none)."""
    columns = [events[c].to_numpy() for c in ("run", "day", "type", "actor", "count", "detail")]
    by_run: dict[int, list[Row]] = {}
    for run, day, kind, actor, count, detail in zip(*columns, strict=True):
        by_run.setdefault(int(run), []).append((int(day), kind, actor, int(count), detail))
    for run in run_ids:
        yield int(run), by_run.get(int(run), [])


def compare_frames(targets: Targets, runs: pd.DataFrame, events: pd.DataFrame) -> Comparison:
    """Compare the runs (runs.parquet and events.parquet tables) with the targets."""
    run_ids = runs["run"].to_numpy()
    run_by_id = runs.set_index("run", drop=False)
    matched_rows, value_rows = [], []
    names = list(targets.quantities)
    for run, rows in run_rows(events, run_ids):
        record = run_by_id.loc[run]
        matched_rows.append(match_events(targets, rows))
        values = quantity_values(rows, record, names)
        surrender = QUANTITIES["evacuated_total"].read(rows, record)
        values[POPULATION] = float(record["population"]) + surrender
        value_rows.append(values)
    matched = pd.DataFrame(matched_rows, index=run_ids, columns=[t.id for t in targets.events], dtype=float)
    values = pd.DataFrame(value_rows, index=run_ids)
    event_table, event_scores = _event_table(targets, matched)
    quantity_table, quantity_scores = _quantity_table(targets, values)
    outcome, outcome_score = _outcome(targets, runs)
    parts = {
        "dates": _mean(list(event_scores.values())),
        "quantities": _mean([quantity_scores[n] for n in targets.calibrated_quantities]),
        "outcome": outcome_score,
    }
    used = [v for v in parts.values() if v is not None]
    distance = float(np.mean(used)) if used else math.nan
    return Comparison(
        case=targets.trajectory.case,
        runs=len(runs),
        events=event_table,
        quantities=quantity_table,
        outcome=outcome,
        distance=distance,
        parts={**parts, "event_scores": event_scores, "quantity_scores": quantity_scores},
        skipped={"events": list(targets.skipped), "quantities": list(targets.unmatched_quantities)},
        matched=matched,
    )


def compare(
    trajectory: Trajectory, scenario: Scenario, runs: pd.DataFrame, events: pd.DataFrame
) -> Comparison:
    """Compare an ensemble's tables (e.g. `Ensemble.runs`, `Ensemble.events`) with a documented trajectory.

    Raises:
        InputError: when the trajectory has no event in the scenario's period.
    """
    return compare_frames(Targets.build(trajectory, scenario), runs, events)


def another_place(case: str, *names: str) -> bool:
    """Whether a trajectory's `case` (e.g. `north_homs`) names none of a scenario's names (name, file stem).

    A name is of the same place when it holds every word of the case id, whatever else it says:
    `Waer`, `waer_calibrated` and "Waer (what-if)" are all of `waer`; `Old Homs` is not of
    `north_homs`. Comparing another place's runs with a record is allowed (a transfer check), so
    the command only warns.
    """
    import re

    def words(text: str) -> set[str]:
        return set(re.findall(r"[a-z0-9]+", text.lower()))

    wanted = words(case)
    return bool(wanted) and not any(wanted <= words(name) for name in names)


# ---------------------------------------------------------------- parts


def _event_table(targets: Targets, matched: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    start, rows, scores = targets.start, [], {}
    for target in targets.events:
        days = matched[target.id].dropna().to_numpy()
        share = len(days) / len(matched) if len(matched) else 0.0
        p10, p50, p90 = np.quantile(days, [0.1, 0.5, 0.9]) if len(days) else (math.nan,) * 3
        inside = bool(len(days)) and target.first_day <= p90 and p10 <= target.last_day
        offsets = np.array([abs(target.offset(int(d))) for d in days], dtype=float)
        score = (np.minimum(1.0, offsets / DATE_SCALE_DAYS).sum() + (len(matched) - len(days))) / max(
            len(matched), 1
        )
        if target.key:
            scores[target.id] = float(score)
        first, last = target.event.window()
        rows.append(
            {
                "id": target.id,
                "type": target.event.type.value,
                "detail": target.event.detail or "",
                "key": target.key,
                "documented_from": first,
                "documented_to": last,
                "share_happened": share,
                "median": _date(start, p50),
                "p10": _date(start, p10),
                "p90": _date(start, p90),
                "inside_80": inside if len(days) else None,
                "median_offset_days": float(np.median([target.offset(int(d)) for d in days]))
                if len(days)
                else None,
                "score": float(score),
            }
        )
    return pd.DataFrame(rows), scores


def _quantity_table(targets: Targets, values: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    documented: dict[str, Range] = {**targets.quantities, POPULATION: targets.trajectory.population}
    rows, scores = [], {}
    for name, bounds in documented.items():
        x = values[name].to_numpy(dtype=float)
        p10, p50, p90 = np.quantile(x, [0.1, 0.5, 0.9])
        offsets = np.array([range_offset(v, bounds) for v in x])
        crossed = np.where(offsets < 0, bounds.low, bounds.high if bounds.high is not None else bounds.low)
        relative = np.abs(offsets) / np.maximum(crossed, 1.0)
        scores[name] = float(np.minimum(1.0, relative).mean())
        description = QUANTITIES[name].description if name in QUANTITIES else POPULATION_TEXT
        rows.append(
            {
                "quantity": name,
                "what": description,
                "documented_low": bounds.low,
                "documented_high": bounds.high,
                "median": p50,
                "p10": p10,
                "p90": p90,
                "share_in_range": float((offsets == 0).mean()),
                "median_in_range": bounds.contains(p50),
                "overlaps_80": bool(
                    p10 <= (bounds.high if bounds.high is not None else math.inf) and bounds.low <= p90
                ),
                "calibrated": name in targets.calibrated_quantities,
                "score": scores[name],
            }
        )
    return pd.DataFrame(rows), scores


POPULATION_TEXT = (
    "residents before the surrender evacuation (final population plus those bussed out under it)"
)


def _outcome(targets: Targets, runs: pd.DataFrame) -> tuple[dict | None, float | None]:
    counts = runs["outcome"].value_counts()
    shares = {name: float(counts.get(name, 0)) / max(len(runs), 1) for name in OUTCOMES}
    if targets.outcome is None:
        return {"documented": None, "shares": shares}, None
    share = shares[targets.outcome]
    most_likely = max(shares, key=shares.get)
    return (
        {
            "documented": targets.outcome,
            "share": share,
            "most_likely": most_likely,
            "documented_is_most_likely": share >= shares[most_likely],
            "shares": shares,
        },
        1.0 - share,
    )


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _date(start: dt.date, day: float) -> dt.date | None:
    return None if math.isnan(day) else start + dt.timedelta(days=round(day))


def _records(frame: pd.DataFrame) -> list[dict]:
    out = []
    for record in frame.to_dict(orient="records"):
        out.append({k: _plain(v) for k, v in record.items()})
    return out


def _plain(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
