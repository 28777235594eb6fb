"""Joint calibration on a case set, and leave-one-case-out cross-validation (docs/calibration.md).

`simkit calibrate cases/library.yaml --priors calibration/library_priors.yaml`
fits the behavioural parameters (`simkit.calibration.forecast.BEHAVIOURAL`; a
prior file may name only those) to every case of a case set at once: each
particle is run once on every case, each case with its own scenario (its
structural parameters, its dated events) at the particle's behavioural values,
and one distance weighs the cases alike (`simkit.calibration.distance`). The
ABC-SMC loop, its budget, resume and outputs are those of a single-trajectory
calibration (`simkit.calibration.abc.fit`); the calibrated point is the
candidate that passes most of the predictive checks over all cases.

With `leave_one_out`, the same fit is repeated once per case without that case
(`<out>/loo/<case>/`, each a calibration folder of the result store, resumable
on its own), and each case is scored by `simkit score`'s machinery
(`simkit.scoring.evaluate`) twice on posterior draws: on the joint posterior
(in sample, `<out>/in_sample/`) and on the posterior fitted without it (out of
sample, `<out>/out_of_sample/`). `leave_one_out.csv` sets the two side by side.
A rerun of the same command reads finished fits and scored cases back and does
only what is missing.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simkit.calibration.abc import CalibrationResult, CaseInput, Generation, fit
from simkit.calibration.priors import PriorFile, load_priors
from simkit.calibration.trajectory import load_trajectory
from simkit.scenario import LoadedScenario
from simkit.scoring.caseset import LoadedCaseSet, load_caseset
from simkit.store import record, write_bytes, write_json
from simkit.yamlio import InputError, line_of, read_yaml

__all__ = [
    "JointInputs",
    "JointResult",
    "calibrate_cases",
    "is_caseset",
    "leave_one_out_table",
    "load_joint",
]

LOO_FOLDER = "loo"
IN_SAMPLE = "in_sample"
OUT_OF_SAMPLE = "out_of_sample"
TABLE = "leave_one_out"


@dataclass(frozen=True)
class JointInputs:
    """A case set ready to calibrate: its file, each case's scenario (with --set) and trajectory, the priors.

    Attributes:
        caseset: the validated case set.
        scenarios: each case's loaded scenario, by case id.
        cases: each case as a calibration input, in the case set's order.
        priors: the prior file, checked against every case's scenario; behavioural parameters only.
        overrides: the --set overrides applied to every case.
    """

    caseset: LoadedCaseSet
    scenarios: dict[str, LoadedScenario]
    cases: tuple[CaseInput, ...]
    priors: PriorFile
    overrides: dict[str, Any]


@dataclass
class JointResult:
    """What `calibrate_cases` wrote and found.

    Attributes:
        full: the calibration on every case.
        folds: for each case, the calibration without it (leave-one-out only).
        table: in-sample beside out-of-sample scores per case (leave-one-out only).
        scores: the in-sample and out-of-sample score tables and details, for printing.
    """

    full: CalibrationResult
    folds: dict[str, CalibrationResult]
    table: pd.DataFrame | None = None
    scores: dict[str, tuple[pd.DataFrame, list[dict]]] | None = None


def is_caseset(path: str | Path) -> bool:
    """Whether a YAML file is a case set (a mapping with `cases:`) rather than a scenario.

    Raises:
        InputError: a file that cannot be read as YAML.
    """
    data, _ = read_yaml(Path(path))
    return isinstance(data, dict) and "cases" in data


def load_joint(
    path: str | Path,
    priors_path: str | Path,
    overrides: Mapping[str, Any],
    behavioural: Sequence[str] | None = None,
) -> JointInputs:
    """Read a case set, each case's scenario and trajectory, and a prior file of behavioural parameters.

    Args:
        path: the case set YAML.
        priors_path: the prior file; each prior must be behavioural and a parameter of every case.
        overrides: --set overrides, applied to every case.
        behavioural: the parameters a joint calibration may share (default
            `simkit.calibration.forecast.BEHAVIOURAL`).

    Raises:
        InputError: one line naming the file (and the case, the line and the field) that is wrong.
    """
    from simkit.calibration.forecast import BEHAVIOURAL
    from simkit.scoring.evaluate import load_cases

    behavioural = tuple(BEHAVIOURAL if behavioural is None else behavioural)
    path = Path(path)
    if not is_caseset(path):
        raise InputError(
            f"{path}: not a case set (no `cases:` at the top level); to calibrate one scenario, "
            "give its documented trajectory with --against"
        )
    caseset = load_caseset(path)
    scenarios = load_cases(caseset, overrides)
    cases = tuple(
        CaseInput(
            case.id,
            scenarios[case.id],
            load_trajectory(caseset.resolve(case.trajectory)),
            caseset.resolve(case.trajectory),
        )
        for case in caseset.caseset.cases
    )
    priors = _behavioural_priors(Path(priors_path), cases, behavioural)
    return JointInputs(caseset, scenarios, cases, priors, dict(overrides))


def _behavioural_priors(path: Path, cases: Sequence[CaseInput], behavioural: Sequence[str]) -> PriorFile:
    """The prior file, valid for every case's scenario, naming behavioural parameters only."""
    priors = load_priors(path)
    for case in cases:
        try:
            load_priors(path, case.loaded.scenario)
        except InputError as err:
            raise InputError(f"case {case.id}: {err}") from None
    _, lines = read_yaml(path)
    for i, prior in enumerate(priors.priors):
        if prior.path not in behavioural:
            line = line_of(lines, ("priors", i, "path"))
            raise InputError(
                f"{path}{f':{line}' if line else ''}: priors.{i}.path: {prior.path} is not behavioural; "
                "a joint "
                "calibration shares only how the actors behave (simkit.calibration.forecast.BEHAVIOURAL: "
                f"{', '.join(behavioural)}); every other parameter stays each case's own"
            )
    return priors


def calibrate_cases(
    inputs: JointInputs,
    budget: int,
    out: str | Path,
    *,
    leave_one_out: bool = False,
    score_runs: int = 1000,
    seed: int = 1,
    workers: int = 1,
    command: str | None = None,
    priors_path: str | Path | None = None,
    started: Callable[[str, int], None] | None = None,
    progress: Callable[[str, Generation], None] | None = None,
    scoring: Callable[[str, str], AbstractContextManager[Callable[[int], None]]] | None = None,
    **options: Any,
) -> JointResult:
    """Calibrate on every case at once; with `leave_one_out`, also once without each case, and score both.

    Args:
        inputs: `load_joint`.
        budget: most model runs per fit (a particle runs every case of its fit once).
        out: the result folder of the joint calibration; folds go to `out/loo/<case>/`.
        leave_one_out: fit once without each case and score in and out of sample.
        score_runs: runs per case for the scores (each run draws a posterior particle).
        seed: numpy seed of the fits and master seed of the scores.
        workers: local processes.
        command: the command line, recorded in the manifests.
        priors_path: the prior file, recorded in the manifests.
        started: called at each fit's start with its label ("all cases", "without <case>") and the
            generations an interrupted run of it had finished.
        progress: called after each generation with the fit's label.
        scoring: given (label, case name), a context manager yielding the progress callback of that case's
            scoring runs.
        **options: more keyword options of `simkit.calibration.abc.fit` (population, point, ...).

    Raises:
        InputError: bad options or folders.
    """
    out = Path(out)
    caseset = inputs.caseset
    common = {
        "case_set": str(caseset.path),
        "case_set_sha256": caseset.hash,
    }

    def one_fit(cases: Sequence[CaseInput], folder: Path, label: str, held_out: str | None, **extra):
        settings = {"seed": seed, "manifest_extra": {**common, "held_out": held_out}, **options, **extra}
        return fit(
            cases, inputs.priors, budget, folder, joint=True, workers=workers, command=command,
            priors_path=priors_path, reuse_finished=True,
            on_start=(lambda earlier: started(label, earlier)) if started else None,
            progress=(lambda g: progress(label, g)) if progress else None, **settings,
        )  # fmt: skip

    full = one_fit(inputs.cases, out, "all cases", None)
    if not leave_one_out:
        return JointResult(full, {})
    folds = {}
    for case in inputs.cases:
        extra = {**common, "held_out": case.id, "master_seed": seed, "fold_seed_rule": FOLD_SEED_RULE}
        folds[case.id] = one_fit(
            [c for c in inputs.cases if c.id != case.id], out / LOO_FOLDER / case.id, f"without {case.id}",
            case.id, point=None, seed=fold_seed(seed, case.id), manifest_extra=extra,
        )  # fmt: skip
    scores = _score(inputs, full, folds, out, score_runs, seed, workers, command, scoring)
    table = leave_one_out_table(scores["in"][0], scores["in"][1], scores["out"][0], scores["out"][1])
    table["ess_in"] = [fit_ess(full) if c in folds else math.nan for c in table["case"]]
    table["ess_out"] = [fit_ess(folds[c]) if c in folds else math.nan for c in table["case"]]
    fits = {"all cases": _fit_record(full, out, seed)} | {
        case: _fit_record(result, out, fold_seed(seed, case)) for case, result in folds.items()
    }
    write_bytes(out / f"{TABLE}.csv", table.to_csv(index=False).encode())
    write_json(out / f"{TABLE}.json", {
        "cases": _records(table), "fits": fits, "in_sample": IN_SAMPLE, "out_of_sample": OUT_OF_SAMPLE,
        "scoring": f"{score_runs} runs per case, master seed {seed} in and out of sample (common random "
                   "numbers: run i of a case has the same seed on either side)",
        "fold_seed_rule": FOLD_SEED_RULE,
    })  # fmt: skip
    record(out, [f"{TABLE}.csv", f"{TABLE}.json"])
    return JointResult(full, folds, table, scores)


FOLD_SEED_RULE = (
    "the fit without case c uses numpy seed "
    "SeedSequence([master seed, crc32(c)]).generate_state(1, uint32)[0]"
)
"""How each leave-one-out fold's seed derives from --seed (its own draws, whatever the order of the cases)."""


def fold_seed(seed: int, case: str) -> int:
    """The numpy seed of the fit without `case`, from the master seed and the case id (`FOLD_SEED_RULE`)."""
    state = np.random.SeedSequence([seed, zlib.crc32(case.encode())]).generate_state(1, np.uint32)
    return int(state[0])


def fit_ess(result: CalibrationResult) -> float:
    """Kish effective sample size of a fit's final posterior weights."""
    weights = result.posterior["weight"].to_numpy(dtype=float)
    return float(weights.sum() ** 2 / np.sum(weights**2))


def _fit_record(result: CalibrationResult, out: Path, seed: int) -> dict[str, Any]:
    """One fit for leave_one_out.json: where, its seed, and how far it got."""
    last = result.generations[-1] if result.generations else None
    return {
        "folder": result.out.relative_to(out).as_posix() if result.out != out else ".",
        "seed": seed,
        "particles": len(result.posterior),
        "ess": round(fit_ess(result), 1),
        "generations": len(result.generations),
        "epsilon": last.epsilon if last else None,
        "acceptance_rate": last.acceptance_rate if last else None,
        "simulations": result.total_simulations,
        "stop_reason": result.stop_reason,
    }


def _records(table: pd.DataFrame) -> list[dict]:
    """The table's rows for JSON (NaN as null)."""
    return json.loads(table.to_json(orient="records"))


def _score(
    inputs: JointInputs,
    full: CalibrationResult,
    folds: Mapping[str, CalibrationResult],
    out: Path,
    runs: int,
    seed: int,
    workers: int,
    command: str | None,
    scoring: Callable[[str, str], AbstractContextManager[Callable[[int], None]]] | None,
) -> dict[str, tuple[pd.DataFrame, list[dict]]]:
    """`simkit score --posterior` on every case: the joint posterior (in sample), each fold's (out)."""
    from simkit.calibration.forecast import load_posterior
    from simkit.scoring.evaluate import manifest, run_cases, score_cases, score_folder, write_scores

    caseset, scenarios = inputs.caseset, inputs.scenarios
    cases = caseset.caseset.cases
    progress = (lambda label: lambda case, name: scoring(label, name)) if scoring else (lambda label: None)

    posterior = load_posterior(full.out / "posterior.parquet")
    info = manifest(caseset, scenarios, runs, seed, inputs.overrides, posterior, command)
    with score_folder(out / IN_SAMPLE, info) as folder:
        folder.save()  # first: the folder is known as this score while its cases run
        inside = run_cases(caseset, scenarios, runs, seed, workers, folder.out, posterior=posterior,
                           progress=progress("in sample"), command=command)  # fmt: skip
        table_in, details_in = score_cases(cases, inside)
        write_scores(folder, table_in, details_in)
        folder.finish()

    without = {case.id: load_posterior(folds[case.id].out / "posterior.parquet") for case in cases}
    info = manifest(caseset, scenarios, runs, seed, inputs.overrides, None, command)
    info |= {"posterior": "leave one case out: each case on the posterior fitted without it",
             "posteriors": {key: {"path": str(fold.path), "sha256": fold.hash}
                            for key, fold in without.items()}}  # fmt: skip
    outside = {}
    with score_folder(out / OUT_OF_SAMPLE, info) as folder:
        folder.save()
        for case in cases:
            alone = replace(caseset, caseset=caseset.caseset.model_copy(update={"cases": [case]}))
            forecast = run_cases(alone, scenarios, runs, seed, workers, folder.out,
                                 posterior=without[case.id], progress=progress("out of sample"),
                                 command=command)  # fmt: skip
            outside[case.id] = forecast[case.id]
        table_out, details_out = score_cases(cases, outside)
        write_scores(folder, table_out, details_out)
        folder.finish()
    return {"in": (table_in, details_in), "out": (table_out, details_out)}


COLUMNS = (
    "case", "p_documented_in", "p_documented_out", "likeliest_in", "likeliest_out", "brier_in", "brier_out",
    "brier_skill_in", "brier_skill_out", "crps_deal_days_in", "crps_deal_days_out", "crps_skill_in",
    "crps_skill_out",
)  # fmt: skip
"""The leave-one-out table: per case (and pooled), in sample beside out of sample (`calibrate_cases` adds
`ess_in` and `ess_out`, the effective sample sizes of the posteriors each case was scored on)."""


def leave_one_out_table(
    table_in: pd.DataFrame, details_in: list[dict], table_out: pd.DataFrame, details_out: list[dict]
) -> pd.DataFrame:
    """Per case and pooled, in sample (`_in`) and out of sample (`_out`): the scores of `leave_one_out`.

    p(documented), whether the documented class is the likeliest (1/0), the Brier score and its skill
    against the base rate, the CRPS of the deal date and its skill against the library's siege-to-deal
    durations.

    The pooled row's p(documented) is the mean over cases, its `likeliest` the number of cases whose
    documented class is the likeliest; its scores and skills are `score_cases`' pooled rows (skill of the
    mean scores).
    """
    p_in = {d["id"]: d["p_documented"] for d in details_in}
    p_out = {d["id"]: d["p_documented"] for d in details_out}
    likeliest = {
        side: {d["id"]: float(d["most_likely"] == d["documented"]["outcome"]) for d in details}
        for side, details in (("in", details_in), ("out", details_out))
    }
    rows = []
    for case in [*p_in, "pooled"]:
        row: dict[str, Any] = {"case": case}
        for side, table, p in (("in", table_in, p_in), ("out", table_out, p_out)):
            brier = _score_row(table, case, "brier", "base_rate")
            crps = _score_row(table, case, "crps_deal_days", "durations")
            row[f"p_documented_{side}"] = sum(p.values()) / len(p) if case == "pooled" else p[case]
            hits = likeliest[side]
            row[f"likeliest_{side}"] = sum(hits.values()) if case == "pooled" else hits[case]
            row[f"brier_{side}"] = brier["model"] if brier is not None else float("nan")
            row[f"brier_skill_{side}"] = brier["skill"] if brier is not None else float("nan")
            row[f"crps_deal_days_{side}"] = crps["model"] if crps is not None else float("nan")
            row[f"crps_skill_{side}"] = crps["skill"] if crps is not None else float("nan")
        rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _score_row(table: pd.DataFrame, case: str, metric: str, baseline: str) -> pd.Series | None:
    rows = table[(table["case"] == case) & (table["metric"] == metric) & (table["baseline"] == baseline)]
    return rows.iloc[0] if len(rows) else None
