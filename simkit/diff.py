"""Two ensembles side by side: outcome shares and their difference, paired transitions, timing.

A counterfactual run with the same master seed as its base uses common random numbers: run i of
both starts from the same seed, so the runs pair up and the question "which runs moved from which
outcome to which" has an answer (the transition table). The interval for a difference of shares is
then a paired bootstrap over runs (scipy.stats.bootstrap, percentile, 2,000 resamples, fixed seed);
for unpaired ensembles it is Newcombe's hybrid score interval (Newcombe 1998, method 10), built from
the two Wilson intervals that the outcome tables already show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simkit.ensemble import Ensemble
from simkit.manifest import scenario_label
from simkit.model import OUTCOMES
from simkit.summary import share_interval
from simkit.yamlio import InputError

BOOTSTRAP_RESAMPLES = 2000


@dataclass(frozen=True)
class Diff:
    """What `simkit diff` reports: labels, whether runs pair up, shares with intervals, transitions."""

    label_a: str
    label_b: str
    paired_runs: int
    shares: pd.DataFrame
    transitions: pd.DataFrame | None

    @property
    def method(self) -> str:
        """The interval used for the differences, in words."""
        if self.paired_runs:
            return f"paired bootstrap over {self.paired_runs} runs sharing seeds (95%, percentile)"
        return "Newcombe's hybrid score interval (95%), unpaired"

    def to_json(self) -> dict:
        """diff.json: both labels, the method, the shares table and the transition counts."""
        return {
            "a": self.label_a,
            "b": self.label_b,
            "paired_runs": self.paired_runs,
            "interval": self.method,
            "shares": self.shares.to_dict("records"),
            "transitions": None
            if self.transitions is None
            else {a: {b: int(n) for b, n in row.items()} for a, row in self.transitions.iterrows()},
        }


def describe(ensemble: Ensemble) -> str:
    """The scenario as run (with overrides), its runs and seed: how headers name an ensemble."""
    manifest = ensemble.manifest
    return f"{scenario_label(manifest)} ({len(ensemble.runs)} runs, seed {manifest.get('master_seed', '?')})"


def paired_runs(a: Ensemble, b: Ensemble) -> pd.DataFrame:
    """Runs of A and B with the same index and the same seed (common random numbers): run, outcome_a/b.

    Empty unless the master seeds are equal; then every run index both hold pairs up.
    """
    if a.manifest.get("master_seed") is None or a.manifest.get("master_seed") != b.manifest.get(
        "master_seed"
    ):
        return pd.DataFrame(columns=["run", "outcome_a", "outcome_b"])
    both = a.runs[["run", "seed", "outcome"]].merge(
        b.runs[["run", "seed", "outcome"]], on="run", suffixes=("_a", "_b")
    )
    both = both[both["seed_a"] == both["seed_b"]]
    return both[["run", "outcome_a", "outcome_b"]].reset_index(drop=True)


def newcombe_interval(k_a: int, n_a: int, k_b: int, n_b: int) -> tuple[float, float]:
    """95% interval for p_b - p_a from independent samples (Newcombe's method 10, on Wilson limits)."""
    p_a, p_b = k_a / n_a, k_b / n_b
    lo_a, hi_a = share_interval(k_a, n_a)
    lo_b, hi_b = share_interval(k_b, n_b)
    d = p_b - p_a
    return (
        d - math.sqrt((p_b - lo_b) ** 2 + (hi_a - p_a) ** 2),
        d + math.sqrt((hi_b - p_b) ** 2 + (p_a - lo_a) ** 2),
    )


def paired_interval(in_a: np.ndarray, in_b: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """95% percentile bootstrap interval for mean(in_b) - mean(in_a), resampling runs (pairs) together."""
    from scipy.stats import bootstrap

    change = in_b.astype(float) - in_a.astype(float)
    if np.all(change == change[0]):  # nothing moved (or all moved alike): no spread to resample
        return float(change[0]), float(change[0])
    result = bootstrap(
        (change,),
        np.mean,
        n_resamples=BOOTSTRAP_RESAMPLES,
        method="percentile",
        confidence_level=0.95,
        rng=np.random.default_rng(seed),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def diff(a: Ensemble, b: Ensemble) -> Diff:
    """Compare two ensembles: shares of each outcome, B - A with its interval, and paired transitions."""
    pairs = paired_runs(a, b)
    paired = len(pairs) == len(a.runs) == len(b.runs) and len(pairs) > 0
    rows = []
    for name in OUTCOMES:
        k_a, k_b = int((a.runs["outcome"] == name).sum()), int((b.runs["outcome"] == name).sum())
        n_a, n_b = len(a.runs), len(b.runs)
        if paired:
            low, high = paired_interval(
                (pairs["outcome_a"] == name).to_numpy(), (pairs["outcome_b"] == name).to_numpy()
            )
        else:
            low, high = newcombe_interval(k_a, n_a, k_b, n_b)
        rows.append(
            {
                "outcome": name,
                "runs_a": k_a,
                "share_a": k_a / n_a,
                "runs_b": k_b,
                "share_b": k_b / n_b,
                "difference": k_b / n_b - k_a / n_a,
                "low": low,
                "high": high,
            }
        )
    transitions = None
    if len(pairs):
        transitions = pd.crosstab(
            pd.Categorical(pairs["outcome_a"], OUTCOMES),
            pd.Categorical(pairs["outcome_b"], OUTCOMES),
            dropna=False,
        ).rename_axis(index="a", columns="b")
        transitions.index = transitions.index.astype(str)
        transitions.columns = transitions.columns.astype(str)
    return Diff(describe(a), describe(b), len(pairs) if paired else 0, pd.DataFrame(rows), transitions)


DIFF_IDENTITY = ("a_results", "b_results")
"""What must match for a diff folder to be written again without --overwrite: the same results as A
and as B, however their folders are named (the manifest's `a` and `b` are only information)."""


def _results_of(ensemble: Ensemble) -> dict:
    """What identifies the results a folder held when it was compared: scenario, overrides, seed, runs."""
    manifest = ensemble.manifest
    keys = ("scenario_hash", "overrides", "master_seed", "finished")
    return {"runs": len(ensemble.runs), **{key: manifest.get(key) for key in keys}}


def write_diff(
    result: Diff,
    a: Ensemble,
    b: Ensemble,
    out: str | Path,
    plots: bool = True,
    overwrite: bool = False,
    command: str | None = None,
) -> list[str]:
    """Write diff.json, transitions.csv (paired runs only) and diff_endings.png through the result store.

    The folder is locked while it is written, every file is written atomically, and its manifest
    (`kind: diff`, the two folders and the results they held, the command and package versions)
    lists what was written, as for every result folder (`simkit.store.ResultFolder`).

    Args:
        result: the comparison (`diff`).
        a: ensemble A, as read from its folder (`load_ensemble`).
        b: ensemble B, likewise.
        out: the folder to write.
        plots: also write diff_endings.png.
        overwrite: replace a different result of simkit's found in `out`.
        command: the command line for the manifest (default: this process's argv).

    Returns:
        The names of the files written.

    Raises:
        InputError: `out` is A or B, a folder that is not simkit's, another result (without
            `overwrite`), or a folder another process is writing.
    """
    from simkit.manifest import software
    from simkit.store import ResultFolder, write_bytes

    out = Path(out)
    for name, ensemble in (("A", a), ("B", b)):
        if ensemble.out is not None and out.resolve() == Path(ensemble.out).resolve():
            raise InputError(f"--out {out} is folder {name} itself; choose another folder for the diff")
    manifest = {
        "kind": "diff",
        "a": str(a.out),
        "b": str(b.out),
        "a_results": _results_of(a),
        "b_results": _results_of(b),
        **software(command),
    }
    with ResultFolder(out, manifest, DIFF_IDENTITY, overwrite) as folder:
        folder.save()  # first: the folder is known as this diff while its files are written
        folder.write_json("diff.json", result.to_json())
        written = ["diff.json"]
        if result.transitions is not None:
            write_bytes(folder.path("transitions.csv"), result.transitions.to_csv().encode())
            written.append("transitions.csv")
        if plots:
            from simkit.plots import write_diff_figure

            path = folder.path("diff_endings.png")
            write_diff_figure(a.runs, b.runs, result.label_a, result.label_b, path)
            written.append(path.name)
        folder.finish()
    return written
