"""When runs end: the one definition of a run's ending time (or its censoring), and what follows from it.

A run *reaches an ending* when a deal decides it (surrender with evacuation, reconciliation) or the
regime takes it by force; its time is the day that deal was signed, or the takeover day. A run that
is still a ceasefire or a stalemate at the horizon has not ended: it is *censored* at its last day,
not counted as ending then. Everything that says "when" (the timing table of `simkit run`, the
cumulative-incidence figures of `run` and `diff`, reports) goes through `ending_times`.

Cumulative incidence of each ending over time, with the others competing and unresolved runs
censored, is the Aalen-Johansen estimator of scikit-survival
(`sksurv.nonparametric.cumulative_incidence_competing_risks`), with log-log 95% intervals.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from simkit.model import Outcome

ENDINGS: tuple[str, ...] = (
    Outcome.SURRENDER_EVACUATION.value,
    Outcome.RECONCILIATION.value,
    Outcome.MILITARY_TAKEOVER.value,
)
"""Outcome classes that are an ending with a date; durable_ceasefire and stalemate are unresolved."""

QUANTILES = {"p10": 0.10, "p50": 0.50, "p90": 0.90}


def start_date(runs: pd.DataFrame) -> dt.date:
    """The scenario's start date, read off the runs table (outcome date minus outcome day)."""
    row = runs.iloc[0]
    return pd.Timestamp(row["outcome_date"]).date() - dt.timedelta(days=int(row["outcome_day"]))


def ending_times(runs: pd.DataFrame) -> pd.DataFrame:
    """Per run: `ending` (an outcome class of `ENDINGS`; missing if none), its `day` and `date`, `censored`.

    The day is `deal_day` (the deal that decided the ending was signed, or the takeover) where the
    runs table has it; results written before that column existed fall back on `outcome_day`, the
    day the ending was complete. A run without an ending is censored at its last day.
    """
    ended = runs["outcome"].isin(ENDINGS).to_numpy()
    if "deal_day" in runs:
        deal = runs["deal_day"].to_numpy(dtype=float, na_value=np.nan)
        ended = ended & ~np.isnan(deal)
        day = np.where(ended, deal, runs["outcome_day"].to_numpy(dtype=float))
    else:
        day = runs["outcome_day"].to_numpy(dtype=float)
    start = start_date(runs)
    return pd.DataFrame(
        {
            "run": runs["run"].to_numpy(),
            "ending": runs["outcome"].where(ended).to_numpy(),
            "day": day.astype(int),
            "date": [start + dt.timedelta(days=int(d)) for d in day],
            "censored": ~ended,
        }
    )


def timing_rows(runs: pd.DataFrame) -> list[dict]:
    """One row per ending (runs, share, p10/p50/p90 of its day and date), then "any ending".

    Quantiles are over the runs that reached that ending only (None where none did); runs without
    an ending are counted apart (`unresolved`).
    """
    times = ending_times(runs)
    start = start_date(runs)
    groups = [(name, times[times["ending"] == name]) for name in ENDINGS]
    groups.append(("any ending", times[~times["censored"]]))
    rows = []
    for name, group in groups:
        row: dict = {"ending": name, "runs": len(group), "share": len(group) / len(times)}
        for label, q in QUANTILES.items():
            day = int(group["day"].quantile(q, interpolation="nearest")) if len(group) else None
            row[f"day_{label}"] = day
            row[f"date_{label}"] = None if day is None else start + dt.timedelta(days=day)
        rows.append(row)
    return rows


def unresolved(runs: pd.DataFrame, end: dt.date | None) -> tuple[int, float, dt.date | None]:
    """Runs without an ending by the horizon: how many, their share, and the horizon they are censored at.

    Args:
        runs: the runs table.
        end: the scenario's last simulated day (`Scenario.end`, recorded in the manifest as `end`). The
            runs table alone does not know it when every run ended before it; None (folders written
            before the manifest recorded it) falls back on the last day of the unresolved runs, which
            is the horizon, and on None when there are none.
    """
    times = ending_times(runs)
    censored = times[times["censored"]]
    if end is None and len(censored):
        end = censored["date"].max()
    return len(censored), len(censored) / len(times), end


def cumulative_incidence(runs: pd.DataFrame) -> pd.DataFrame:
    """Aalen-Johansen cumulative incidence of each ending by date, unresolved runs censored.

    Returns a long table: `ending`, `day`, `date`, `incidence`, `low`, `high` (pointwise 95%,
    log-log), with a first row at day 0 (incidence 0) for each ending.
    """
    from sksurv.nonparametric import cumulative_incidence_competing_risks, kaplan_meier_estimator

    times = ending_times(runs)
    present = [name for name in ENDINGS if (times["ending"] == name).any()]
    code = {name: i + 1 for i, name in enumerate(present)}  # the estimator wants risks 1..k, all present
    event = times["ending"].map(code).fillna(0).to_numpy(dtype=int)
    start = start_date(runs)
    days, curves, bands = np.array([0.0]), None, None
    exit_day = times["day"].to_numpy(dtype=float)
    if len(present) == 1:  # one ending only: 1 - Kaplan-Meier (scikit-survival's competing-risk
        # estimator fails with a single risk), which is what Aalen-Johansen reduces to
        days, survival, (s_low, s_high) = kaplan_meier_estimator(event > 0, exit_day, conf_type="log-log")
        curves = np.array([1.0 - survival, 1.0 - survival])
        bands = np.array([[1.0 - s_high, 1.0 - s_low]] * 2)
    elif present:
        days, curves, bands = cumulative_incidence_competing_risks(event, exit_day, conf_type="log-log")
    frames = []
    for name in ENDINGS:
        if name in code:
            incidence, low, high = curves[code[name]], bands[code[name], 0], bands[code[name], 1]
            low, high = np.where(np.isnan(low), incidence, low), np.where(np.isnan(high), incidence, high)
        else:
            incidence = low = high = np.zeros(len(days))
        frame = pd.DataFrame(
            {"ending": name, "day": days.astype(int), "incidence": incidence, "low": low, "high": high}
        )
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    table = table[table["day"] > 0]
    zero = pd.DataFrame({"ending": list(ENDINGS), "day": 0, "incidence": 0.0, "low": 0.0, "high": 0.0})
    table = pd.concat([zero, table], ignore_index=True).sort_values(["ending", "day"], kind="stable")
    table["date"] = [start + dt.timedelta(days=int(d)) for d in table["day"]]
    return table.reset_index(drop=True)
