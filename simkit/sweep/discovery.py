"""Scenario discovery over a finished sweep: PRIM boxes and extra-trees feature scores.

"Under which conditions does this ending happen?" Each design point of a sweep
has a share of its runs ending in the outcome class(es) of interest (optionally
only those whose deal was signed before a date). A point is a *case of interest*
when that share is at least a threshold. PRIM (Friedman and Fisher 1999, as used
for scenario discovery by Bryant and Lempert 2010) then peels the parameter space
down to a box of points that are mostly cases: its **coverage** is the share of
all cases that fall inside the box, its **density** the share of the points
inside that are cases. Each step of the peeling is a box on the **peeling
trajectory**; fewer restrictions and more coverage at one end, more density at
the other. Each restriction of a box has a **quasi-p-value** (a one-sided
binomial test of the box's density against the density with that restriction
lifted): a large one says the restriction adds little.

The implementation is EMA Workbench's (`ema_workbench.analysis.prim`), in its
binary mode: its quasi-p-values are defined for cases counted as 0/1, and
coverage and density then keep their textbook meaning. The share itself is not
lost: every box also reports the mean share over its points. Feature scores
(which parameters matter at all) are EMA Workbench's extra-trees scores, in
regression mode on the share itself, so they need no threshold.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from simkit.store import ResultFolder
from simkit.sweep.runner import SweepResult, load_sweep_result
from simkit.sweep.summary import output_columns
from simkit.yamlio import InputError

DEFAULT_THRESHOLD = 0.5
"""A point is a case of interest when at least half its runs end in the class(es)."""

SIGNIFICANT = 0.05
"""Quasi-p-values above this flag a restriction that adds little to the box."""

FEATURE_TREES = 100
"""Trees in the extra-trees forest of the feature scores."""


@dataclass
class Discovery:
    """The result of scenario discovery on one sweep.

    Attributes:
        outcomes: The outcome class(es) of interest.
        threshold: Share of a point's runs (in those classes) that makes it a case of interest.
        by: Only runs whose deal was signed before this date count (None: any date).
        density_target: The density the chosen box had to reach (None: the best balance was chosen).
        points: One row per design point: `point`, each parameter, `runs`, `share` (of its runs ending
            in the classes, before `by`) and `case` (share >= threshold).
        trajectory: One row per box on PRIM's peeling (and pasting) trajectory: `box`, `coverage`,
            `density`, `mean_share`, `mass`, `restricted`, `points`, `cases`, `chosen`.
        boxes: One row per (box, restricted parameter): `box`, `parameter`, `lower`, `upper`, `min`,
            `max` (the sampled range), `qp_lower`, `qp_upper` (quasi-p-value of each side's restriction;
            NaN when that side is not restricted).
        features: One row per parameter, most important first: `parameter`, `score` (extra-trees
            importance; the scores sum to 1).
        chosen: The chosen box's number on the trajectory.
        note: Why this box was chosen, in a sentence.
        sweep: The sweep's folder, name and master seed.
    """

    outcomes: tuple[str, ...]
    threshold: float
    by: dt.date | None
    density_target: float | None
    points: pd.DataFrame
    trajectory: pd.DataFrame
    boxes: pd.DataFrame
    features: pd.DataFrame
    chosen: int
    note: str
    sweep: dict[str, Any] = field(default_factory=dict)

    @property
    def parameters(self) -> list[str]:
        """The swept parameters, in spec order."""
        return [c for c in self.points.columns if c not in ("point", "runs", "share", "case")]

    def box(self, i: int | None = None) -> pd.DataFrame:
        """The restrictions of box `i` on the trajectory (default: the chosen box)."""
        i = self.chosen if i is None else i
        return self.boxes[self.boxes["box"] == i].drop(columns="box").reset_index(drop=True)

    def stats(self, i: int | None = None) -> dict[str, Any]:
        """Coverage, density, mean share, mass and counts of box `i` (default: the chosen box)."""
        i = self.chosen if i is None else i
        row = self.trajectory.set_index("box").loc[i]
        return {"box": i, **{k: _plain(v) for k, v in row.items() if k != "chosen"}}

    def trimmed(
        self, i: int | None = None, alpha: float = SIGNIFICANT
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Box `i` (default: the chosen one) with the sides whose quasi-p-value exceeds `alpha` lifted.

        A restriction that adds little is dropped (the box keeps only what the test supports), and
        the box's statistics are recomputed on the points, as in EMA Workbench's `drop_restriction`.

        Returns:
            The remaining restrictions (as `box`), and the trimmed box's `coverage`, `density`,
            `mean_share`, `points`, `cases` and `mean_share_outside` (over the points outside it).
        """
        limits = self.box(i).copy()
        for side, bound in (("lower", "min"), ("upper", "max")):
            lift = limits[f"qp_{side}"] > alpha
            limits.loc[lift, side] = limits.loc[lift, bound]
            limits.loc[lift, f"qp_{side}"] = np.nan
        limits = limits[limits[["qp_lower", "qp_upper"]].notna().any(axis=1)].reset_index(drop=True)
        inside = np.ones(len(self.points), dtype=bool)
        for row in limits.itertuples(index=False):
            inside &= self.points[row.parameter].between(row.lower, row.upper).to_numpy()
        case, share = self.points["case"].to_numpy(), self.points["share"].to_numpy()
        stats = {
            "coverage": float(case[inside].sum() / case.sum()),
            "density": float(case[inside].mean()),
            "mean_share": float(share[inside].mean()),
            "points": int(inside.sum()),
            "cases": int(case[inside].sum()),
            "mean_share_outside": float(share[~inside].mean()) if (~inside).any() else None,
        }
        return limits, stats

    def _trimmed_dict(self) -> dict[str, Any]:
        limits, stats = self.trimmed()
        return {
            "alpha": SIGNIFICANT,
            **stats,
            "restrictions": [{k: _plain(v) for k, v in row.items()} for row in limits.to_dict("records")],
        }

    def to_dict(self) -> dict[str, Any]:
        """The chosen box and the question it answers, as written to boxes.json."""
        return {
            "sweep": self.sweep,
            "outcomes": list(self.outcomes),
            "by": self.by.isoformat() if self.by else None,
            "threshold": self.threshold,
            "case_rule": case_rule(self.outcomes, self.threshold, self.by),
            "points": len(self.points),
            "cases": int(self.points["case"].sum()),
            "density_target": self.density_target,
            "chosen": self.stats(),
            "why_chosen": self.note,
            "restrictions": [{k: _plain(v) for k, v in row.items()} for row in self.box().to_dict("records")],
            "significant_only": self._trimmed_dict(),
            "trajectory_boxes": len(self.trajectory),
            "features": [
                {"parameter": p, "score": _plain(s)}
                for p, s in zip(self.features["parameter"], self.features["score"], strict=True)
            ],
        }


def case_rule(outcomes: tuple[str, ...], threshold: float, by: dt.date | None) -> str:
    """The definition of a case of interest, in words."""
    ending = " or ".join(outcomes)
    date = f" with the deal signed before {by.isoformat()}" if by else ""
    return f"a point where at least {threshold:.0%} of runs end in {ending}{date}"


def discover(
    result: SweepResult | str | Path,
    outcomes: str | list[str] | tuple[str, ...],
    threshold: float = DEFAULT_THRESHOLD,
    by: dt.date | str | None = None,
    density: float | None = None,
    box: int | None = None,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
) -> Discovery:
    """Find the box of parameter space where the ending is likely, and score the parameters.

    Args:
        result: A finished sweep (or its folder).
        outcomes: Outcome class(es) of interest; a run counts if it ends in any of them.
        threshold: A point is a case of interest when the share of its runs that count is at least this.
        by: Count only runs whose deal was signed before this date (uses runs.parquet's `deal_date`).
        density: Choose the box with the largest coverage among those at least this dense (if none
            is, the densest) rather than the best balance of coverage and density (see `choose`).
        box: Choose this box on the trajectory instead (0 is the whole space).
        peel_alpha: Share of the remaining points PRIM peels off at each step (EMA Workbench's default).
        mass_min: PRIM stops peeling when a box would hold less than this share of the points.

    Returns:
        The points with their shares, PRIM's trajectory and boxes, the feature scores, the chosen box.

    Raises:
        InputError: not a finished sweep, an unknown outcome class, a threshold or density outside
            [0, 1], `by` without deal dates in the runs, or no contrast (no case, or only cases).
    """
    if not isinstance(result, SweepResult):
        result = load_sweep_result(result)
    outcomes = (outcomes,) if isinstance(outcomes, str) else tuple(dict.fromkeys(outcomes))
    by = _date(by)
    for name, value in (("--threshold", threshold), ("--density", density)):
        if value is not None and not 0 <= value <= 1:
            raise InputError(f"{name} must be a share between 0 and 1, found {value:g}")
    points = point_shares(result, outcomes, by)
    points["case"] = points["share"] >= threshold
    cases = int(points["case"].sum())
    rule = case_rule(outcomes, threshold, by)
    if cases == 0:
        raise InputError(f"no case of interest among the {len(points)} points ({rule}); "
                         f"the highest share is {points['share'].max():.0%}: lower --threshold")  # fmt: skip
    if cases == len(points):
        raise InputError(f"every one of the {len(points)} points is a case of interest ({rule}): "
                         "nothing to tell apart; raise --threshold")  # fmt: skip
    parameters = result.parameters
    trajectory, boxes = _prim(points, parameters, peel_alpha, mass_min)
    if box is not None and not 0 <= box < len(trajectory):
        raise InputError(f"--box {box}: the peeling trajectory has boxes 0 to {len(trajectory) - 1}")
    chosen, note = (box, f"box {box} as asked") if box is not None else choose(trajectory, density)
    trajectory["chosen"] = trajectory["box"] == chosen
    features = feature_scores(points[parameters], points["share"], seed=result.manifest.get("master_seed"))
    return Discovery(
        outcomes=outcomes,
        threshold=threshold,
        by=by,
        density_target=density,
        points=points,
        trajectory=trajectory,
        boxes=boxes,
        features=features,
        chosen=chosen,
        note=note,
        sweep={
            "folder": str(result.out),
            "name": result.manifest.get("name"),
            "design": result.manifest.get("design", {}).get("type"),
            "replicates": result.manifest.get("replicates"),
            "master_seed": result.manifest.get("master_seed"),
        },
    )


def _date(by: dt.date | str | None) -> dt.date | None:
    if by is None or isinstance(by, dt.date):
        return by
    try:
        return dt.date.fromisoformat(by)
    except ValueError:
        raise InputError(f"--by: expected a date like 2017-01-01, found {by!r}") from None


def point_shares(result: SweepResult, outcomes: tuple[str, ...], by: dt.date | None = None) -> pd.DataFrame:
    """Per design point: its parameters, `runs` and the `share` of runs ending in `outcomes` (before `by`).

    Raises:
        InputError: an unknown outcome class, or `by` when the runs have no `deal_date`.
    """
    path = result.out / "runs.parquet"
    schema = pq.read_schema(path)
    if "outcome" not in schema.names:
        raise InputError(f"{result.out}: the runs of this sweep have no outcome class")
    columns = ["point", "outcome"]
    if by is not None:
        if "deal_date" not in schema.names:
            raise InputError(f"{result.out}: --by needs the runs' deal dates (deal_date), which this sweep "
                             "did not record; rerun the sweep into a new folder")  # fmt: skip
        columns.append("deal_date")
    runs = pd.read_parquet(path, columns=columns)
    classes, _, _ = output_columns(schema, set(runs["outcome"].astype(str).unique()))
    unknown = [name for name in outcomes if name not in classes]
    if unknown:
        raise InputError(f"unknown outcome class {', '.join(map(repr, unknown))}; "
                         f"this sweep's classes are: {', '.join(classes)}")  # fmt: skip
    counts = runs["outcome"].isin(outcomes)
    if by is not None:
        dates = pd.to_datetime(runs["deal_date"])
        undated = sorted(set(runs.loc[counts & dates.isna(), "outcome"]))
        if undated:
            raise InputError(f"--by: runs ending in {', '.join(undated)} have no deal date; "
                             "choose outcome classes decided by a deal or a takeover")  # fmt: skip
        counts &= dates < pd.Timestamp(by)
    per_point = (
        counts.groupby(runs["point"]).agg(["size", "mean"]).rename(columns={"size": "runs", "mean": "share"})
    )
    return result.points.merge(per_point.reset_index(), on="point", how="left", validate="one_to_one")


def _prim(
    points: pd.DataFrame, parameters: list[str], peel_alpha: float, mass_min: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run EMA Workbench's PRIM (binary mode) for one box; return its trajectory and restrictions."""
    prim = _ema("prim")
    # Every parameter as a real number: EMA Workbench 3.0's pasting writes fractional limits into
    # integer columns, which pandas 3 refuses; PRIM treats whole-number parameters the same either way.
    x = points[parameters].reset_index(drop=True).astype(float)
    y = points["case"].to_numpy(dtype=int)
    with _ema_quietly():
        found = prim.Prim(x, y, peel_alpha=peel_alpha, mass_min=mass_min).find_box()
    share = points["share"].to_numpy(dtype=float)
    initial = found.box_lims[0]
    rows, limits = [], []
    for i, lims in enumerate(found.box_lims):
        inside = _inside(x, lims)
        stats = found.peeling_trajectory.iloc[i]
        rows.append({
            "box": i,
            "coverage": float(stats["coverage"]),
            "density": float(stats["density"]),
            "mean_share": float(share[inside].mean()),
            "mass": float(stats["mass"]),
            "restricted": int(stats["res_dim"]),
            "points": int(stats["n"]),
            "cases": int(stats["k"]),
        })  # fmt: skip
        qp = found.p_values[i]
        for name in parameters:
            if name not in qp:
                continue
            lower, upper = (float(v) for v in lims[name])
            qp_lower, qp_upper = (np.nan if v == -1 else float(v) for v in qp[name])
            limits.append({
                "box": i, "parameter": name, "lower": lower, "upper": upper,
                "min": float(initial[name].iloc[0]), "max": float(initial[name].iloc[1]),
                "qp_lower": qp_lower, "qp_upper": qp_upper,
            })  # fmt: skip
    columns = ["box", "parameter", "lower", "upper", "min", "max", "qp_lower", "qp_upper"]
    return pd.DataFrame(rows), pd.DataFrame(limits, columns=columns)


def _inside(x: pd.DataFrame, lims: pd.DataFrame) -> np.ndarray:
    low, high = lims.iloc[0], lims.iloc[1]
    return ((x >= low) & (x <= high)).all(axis=1).to_numpy()


@contextmanager
def _ema_quietly() -> Iterator[None]:
    """Silence the warnings EMA Workbench (3.0) raises that are about its own code, not simkit's.

    Importing it warns about optional parts that are missing (ipyparallel for its cluster
    evaluator, altair for its interactive tradeoff inspector), and `Prim` calls
    `DataFrame.drop(inplace=True)`, deprecated in pandas 3.1. Only those messages are silenced.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "ipyparallel not installed", UserWarning)
        warnings.filterwarnings("ignore", "altair based interactive inspection", ImportWarning)
        warnings.filterwarnings("ignore", "The inplace keyword in DataFrame.drop is deprecated")
        yield


def _ema(module: str) -> Any:
    """A module of EMA Workbench's `analysis` package (imported on first use: it takes seconds)."""
    with _ema_quietly():
        return import_module(f"ema_workbench.analysis.{module}")


def choose(trajectory: pd.DataFrame, density: float | None = None) -> tuple[int, str]:
    """Choose a box on the trajectory; return its number and why, in words.

    By default the box that best tells cases from the rest: the highest harmonic mean of coverage
    and density (the F1 score of "inside the box" as a classifier of cases: coverage is its recall,
    density its precision). With `density`, the box with most coverage among those at least that
    dense, or the densest if none is. Ties go to fewer restrictions, then to the earlier box.
    """
    table = trajectory.assign(f1=2 * trajectory["coverage"] * trajectory["density"]
                              / (trajectory["coverage"] + trajectory["density"]))  # fmt: skip
    if density is None:
        best = table.sort_values(["f1", "restricted", "box"], ascending=[False, True, True]).iloc[0]
        return int(best["box"]), "the best balance of coverage and density (highest harmonic mean)"
    dense = table[table["density"] >= density]
    if len(dense):
        best = dense.sort_values(["coverage", "restricted", "box"], ascending=[False, True, True]).iloc[0]
        return int(best["box"]), f"the most coverage among boxes at least {density:.0%} dense"
    best = table.sort_values(["density", "coverage", "box"], ascending=[False, False, True]).iloc[0]
    return int(best["box"]), f"no box is {density:.0%} dense; the densest"


def feature_scores(x: pd.DataFrame, y: pd.Series | np.ndarray, seed: int | None = None) -> pd.DataFrame:
    """Extra-trees feature scores (EMA Workbench) of each parameter for a per-point share, regression mode.

    Args:
        x: One column per parameter, one row per point.
        y: The per-point share.
        seed: Seed of the forest (the sweep's master seed), so the scores are reproducible.

    Returns:
        Columns `parameter` and `score` (impurity-based importances summing to 1), highest first.
    """
    scoring = _ema("feature_scoring")
    with _ema_quietly():
        scores, _ = scoring.get_ex_feature_scores(
            x.reset_index(drop=True).astype(float),
            np.asarray(y, dtype=float),
            mode=scoring.RuleInductionType.REGRESSION,
            nr_trees=FEATURE_TREES,
            max_features=max(1, round(x.shape[1] / 3)),  # EMA's default (a third), at least one
            random_state=seed,
        )
    table = scores.reset_index()
    table.columns = ["parameter", "score"]
    return table


def write(discovery: Discovery, folder: ResultFolder) -> list[str]:
    """Write boxes.parquet, boxes.json, trajectory.parquet, features.parquet and shares.parquet; the names.

    Through the result store: each file atomically and recorded in the folder's manifest.
    """
    import pyarrow as pa

    boxes = discovery.boxes.assign(chosen=discovery.boxes["box"] == discovery.chosen)
    tables = {"boxes.parquet": boxes, "trajectory.parquet": discovery.trajectory,
              "features.parquet": discovery.features, "shares.parquet": discovery.points}  # fmt: skip
    for name, table in tables.items():
        folder.write_table(name, pa.Table.from_pandas(table, preserve_index=False))
    folder.write_json("boxes.json", discovery.to_dict())
    return ["boxes.parquet", "boxes.json", "trajectory.parquet", "features.parquet", "shares.parquet"]


def _plain(value: Any) -> Any:
    """A JSON-friendly scalar (NaN -> None, numpy -> Python)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
