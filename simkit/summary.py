"""Ensemble statistics: outcome shares with 95% intervals and quantiles of run attributes."""

from __future__ import annotations

import math
from statistics import NormalDist

import pandas as pd

from simkit.model import ATTRIBUTES, OUTCOMES

QUANTILES = {"p10": 0.10, "p50": 0.50, "p90": 0.90}


Z95 = NormalDist().inv_cdf(0.975)
"""The standard normal quantile of a two-sided 95% interval."""


def share_interval(successes: int, trials: int) -> tuple[float, float]:
    """Wilson score 95% interval: well behaved near 0 and 1, where ensembles of rare outcomes live.

    Newcombe's (1998) form, as scipy's `binomtest(...).proportion_ci(method="wilson")`, written out:
    importing scipy.stats costs every command about a second for this one interval.
    """
    if trials == 0:
        return (0.0, 1.0)
    n, p, z = trials, successes / trials, Z95
    denom = 2 * (n + z**2)
    center = (2 * n * p + z**2) / denom
    delta = z / denom * math.sqrt(4 * n * p * (1 - p) + z**2)
    return (0.0 if successes == 0 else center - delta, 1.0 if successes == trials else center + delta)


def summarize(runs: pd.DataFrame, end: str | None = None) -> dict:
    """What summary.json holds: runs, outcome shares (CIs), partial release, attribute quantiles, timing.

    Args:
        runs: the runs table.
        end: the scenario's last simulated day (ISO date; the manifest's `end`), where unresolved runs
            are censored (`simkit.timing.unresolved`).
    """
    n = len(runs)
    counts = runs["outcome"].value_counts()
    outcomes = {}
    for name in OUTCOMES:
        k = int(counts.get(name, 0))
        lo, hi = share_interval(k, n)
        outcomes[name] = {"share": k / n if n else 0.0, "ci95": [lo, hi]}
    partial = int(runs["partial_release"].sum()) if n else 0
    attributes = {
        name: {label: float(runs[name].quantile(q)) for label, q in QUANTILES.items()} for name in ATTRIBUTES
    }
    lo, hi = share_interval(partial, n)
    return {
        "runs": n,
        "outcomes": outcomes,
        "partial_release_share": partial / n if n else 0.0,
        "partial_release_ci95": [lo, hi],
        "attributes": attributes,
        "timing": timing(runs, end) if n else {},
    }


def timing(runs: pd.DataFrame, end: str | None = None) -> dict:
    """When runs end (simkit.timing): per ending, runs, share and p10/p50/p90 of its day and date; unresolved.

    Quantiles are over the runs that reached that ending only; runs unresolved at the horizon are
    counted apart, not as ending on the last day, censored at `end` (the scenario's last simulated day).
    """
    import datetime as dt

    from simkit.timing import timing_rows, unresolved

    endings = {}
    for row in timing_rows(runs):
        name = row.pop("ending")
        endings[name] = {key: value.isoformat() if hasattr(value, "isoformat") else value
                         for key, value in row.items()}  # fmt: skip
    count, share, last = unresolved(runs, None if end is None else dt.date.fromisoformat(end))
    return {
        "day_of": "deal" if "deal_day" in runs else "outcome",
        "endings": endings,
        "unresolved": {"runs": count, "share": share, "censored_at": last and last.isoformat()},
    }
