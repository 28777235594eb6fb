"""Ensemble statistics: outcome shares with 95% intervals and quantiles of run attributes."""

from __future__ import annotations

import pandas as pd

from simkit.model import ATTRIBUTES, OUTCOMES

QUANTILES = {"p10": 0.10, "p50": 0.50, "p90": 0.90}


def share_interval(successes: int, trials: int) -> tuple[float, float]:
    """Wilson score 95% interval: well behaved near 0 and 1, where ensembles of rare outcomes live."""
    from scipy.stats import binomtest  # imported here: scipy.stats takes seconds and workers never need it

    if trials == 0:
        return (0.0, 1.0)
    ci = binomtest(successes, trials).proportion_ci(confidence_level=0.95, method="wilson")
    return (float(ci.low), float(ci.high))


def summarize(runs: pd.DataFrame) -> dict:
    """What summary.json holds: runs, outcome shares (CIs), partial release, attribute quantiles, timing."""
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
        "timing": timing(runs) if n else {},
    }


def timing(runs: pd.DataFrame) -> dict:
    """When runs end (simkit.timing): per ending, runs, share and p10/p50/p90 of its day and date; unresolved.

    Quantiles are over the runs that reached that ending only; runs unresolved at the horizon are
    counted apart, not as ending on the last day.
    """
    from simkit.timing import timing_rows, unresolved

    endings = {}
    for row in timing_rows(runs):
        name = row.pop("ending")
        endings[name] = {key: value.isoformat() if hasattr(value, "isoformat") else value
                         for key, value in row.items()}  # fmt: skip
    count, share, last = unresolved(runs)
    return {
        "day_of": "deal" if "deal_day" in runs else "outcome",
        "endings": endings,
        "unresolved": {"runs": count, "share": share, "censored_at": last.isoformat()},
    }
