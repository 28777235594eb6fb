"""`simkit calibrate`: fit behavioural parameters to a documented trajectory, or to a case set (ABC-SMC)."""

from __future__ import annotations

import math
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from simkit.cli.app import (
    SET_HELP,
    AllowLargeOption,
    SchedulerOption,
    app,
    command_line,
    out_folder,
    parse_overrides,
    user_errors,
)
from simkit.yamlio import InputError


class Point(StrEnum):
    """Choices of --point (simkit.calibration.abc.POINTS; kept here so the CLI starts without the model)."""

    BEST = "best"
    MEDIAN = "median"


@app.command()
@user_errors
def calibrate(
    scenario: Annotated[
        Path,
        typer.Argument(
            help="Scenario YAML file with --against (e.g. scenarios/waer.yaml), or a case set "
            "(e.g. cases/library.yaml) to calibrate on all its cases at once.",
            show_default=False,
        ),
    ],
    priors: Annotated[
        Path,
        typer.Option(
            "--priors",
            "-p",
            help="Prior file, e.g. calibration/waer_priors.yaml (a case set: "
            "calibration/library_priors.yaml, behavioural parameters only).",
            show_default=False,
        ),
    ],
    budget: Annotated[
        int,
        typer.Option(
            "--budget", "-b", help="Most simulations (model runs) to spend, per fit.", show_default=False
        ),
    ],
    out: Annotated[
        str,
        typer.Option(
            "--out",
            "-o",
            help="Result folder: new, or an interrupted calibration of the same inputs to resume.",
            show_default=False,
        ),
    ],
    against: Annotated[
        Path | None,
        typer.Option(
            "--against",
            "-a",
            help="Documented trajectory YAML to fit (one scenario; a case set names its own).",
            show_default=False,
        ),
    ] = None,
    population: Annotated[int, typer.Option("--population", help="Particles per generation.")] = 200,
    workers: Annotated[int, typer.Option("--workers", "-w", help="Local worker processes.")] = 1,
    scheduler: SchedulerOption = None,
    seed: Annotated[
        int, typer.Option("--seed", "-s", help="numpy seed (reproducible with one local worker).")
    ] = 1,
    max_generations: Annotated[int, typer.Option("--max-generations", help="Most ABC-SMC generations.")] = 30,
    point: Annotated[
        Point,
        typer.Option(
            "--point",
            help="Calibrated scenario: the candidate (medians or one of the 50 heaviest particles) whose "
            "ensemble best passes the check against the record (then lowest D; over all cases of a case "
            "set), or the posterior medians.",
        ),
    ] = Point.BEST,
    point_runs: Annotated[
        int, typer.Option("--point-runs", help="Runs per candidate ensemble (per case) for --point best.")
    ] = 200,
    leave_one_out: Annotated[
        bool,
        typer.Option(
            "--leave-one-out",
            help="A case set: also fit once without each case (OUT/loo/<case>/) and score every case in "
            "sample and out of sample, as simkit score --posterior does.",
        ),
    ] = False,
    score_runs: Annotated[
        int, typer.Option("--score-runs", help="With --leave-one-out: runs per case for the scores.")
    ] = 1000,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help=SET_HELP + " A case set: every case.")
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No per-generation lines or table; only errors.")
    ] = False,
    allow_large: AllowLargeOption = False,
) -> None:
    """Calibrate the parameters named in a prior file to documented trajectories with ABC-SMC (pyabc).

    One scenario with --against: summary statistics mix dates and counts: for
    each key event, whether it happens and its days outside the documented
    window (censored at the horizon when it never happens); each documented
    quantity's distance outside its range; whether the outcome class matches.
    An adaptive p-norm distance rescales them every generation.

    A case set (cases/library.yaml) instead: the behavioural parameters are
    shared by all cases, each particle is run once on every case (each with
    its own structural parameters), and the distance is the mean over cases
    of each case's mean scaled statistic, so that no case dominates. With
    --leave-one-out, the fit is repeated without each case and every case is
    scored in sample and out of sample (table in leave_one_out.csv).

    Writes abc.db (pyabc history), posterior.parquet, posterior_summary.csv/.json,
    generations.csv, marginals.png, candidates.csv (--point best), the calibrated
    scenario(s) (`simkit run` and `simkit compare` accept them) and manifest.json
    (with each generation's wall time, simulations, acceptance, ESS and pyabc's
    overhead share). See docs/calibration.md. After Ctrl-C or a crash, the same
    command resumes from the last finished generation (abc.db).
    """
    from simkit.calibration.joint import is_caseset

    overrides = parse_overrides(set_)
    if against is None or is_caseset(scenario):
        if against is not None:
            raise InputError(
                f"--against {against}: {scenario} is a case set, which names each case's trajectory itself"
            )
        return _calibrate_cases(
            scenario, priors, budget, out, overrides, population=population, workers=workers,
            scheduler=scheduler, seed=seed, max_generations=max_generations, point=point.value,
            point_runs=point_runs, leave_one_out=leave_one_out, score_runs=score_runs, quiet=quiet,
            allow_large=allow_large,
        )  # fmt: skip
    if leave_one_out:
        raise InputError("--leave-one-out needs a case set (e.g. cases/library.yaml), not one scenario")
    from simkit.calibration.abc import calibrate as run_calibration
    from simkit.calibration.abc import check_options
    from simkit.calibration.priors import load_priors
    from simkit.calibration.trajectory import load_trajectory
    from simkit.scenario import load_scenario

    loaded = load_scenario(scenario, overrides)
    trajectory = load_trajectory(against)
    prior_file = load_priors(priors, loaded.scenario)
    check_options([loaded], budget, population, workers, seed, point.value, point_runs, allow_large)
    out = out_folder(out, Path("results") / "calibration")
    command = command_line()
    where = f"scheduler {scheduler}" if scheduler else f"{workers} worker{'s' if workers > 1 else ''}"

    def started(earlier: int) -> None:
        if not quiet:
            typer.echo(
                f"calibrating {len(prior_file.priors)} parameters of {loaded.scenario.name} "
                f"to {trajectory.case}: "
                f"budget {budget:,} simulations, population {population}, {where}"
                + (f" (resuming after {earlier} finished generations in {out})" if earlier else ""),
                err=True,
            )

    def report(g) -> None:
        if not quiet:
            typer.echo(_generation_line(g, budget), err=True)

    try:
        result = run_calibration(
            loaded,
            trajectory,
            prior_file,
            budget,
            out,
            population=population,
            workers=workers,
            scheduler=scheduler,
            seed=seed,
            max_generations=max_generations,
            progress=report,
            command=command,
            trajectory_path=against,
            priors_path=priors,
            point=point.value,
            point_runs=point_runs,
            allow_large=allow_large,
            on_start=started,
        )
    except KeyboardInterrupt:
        print(f"interrupted: {_saved(out)} saved in {out}; rerun the same command to resume", file=sys.stderr)
        raise typer.Exit(130) from None
    if not quiet:
        _print_result(result)


def _generation_line(g, budget: int) -> str:
    overhead = "" if math.isnan(g.overhead_share) else f", overhead {g.overhead_share:.0%}"
    return (
        f"generation {g.t}: epsilon {g.epsilon:.3g}, "
        f"accepted {g.accepted}/{g.evaluations or g.simulations:,} "
        f"({g.acceptance_rate:.1%}), ESS {g.ess:.0f}, {g.wall_time_s:.1f} s{overhead}; "
        f"{g.total_simulations:,} of {budget:,} simulations"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _calibrate_cases(
    path: Path,
    priors: Path,
    budget: int,
    out: str,
    overrides: dict,
    *,
    population: int,
    workers: int,
    scheduler: str | None,
    seed: int,
    max_generations: int,
    point: str,
    point_runs: int,
    leave_one_out: bool,
    score_runs: int,
    quiet: bool,
    allow_large: bool,
) -> None:
    """`simkit calibrate CASESET`: the joint calibration (and with --leave-one-out, the folds and scores)."""
    from contextlib import contextmanager

    from simkit.calibration.abc import check_options
    from simkit.calibration.joint import calibrate_cases, load_joint
    from simkit.limits import check_count
    from simkit.report import progress_bar

    inputs = load_joint(path, priors, overrides)
    scenarios = [case.loaded for case in inputs.cases]
    check_options(scenarios, budget, population, workers, seed, point, point_runs, allow_large)
    if leave_one_out:
        if len(inputs.cases) < 2:
            raise InputError(f"--leave-one-out needs at least two cases; {path} has one")
        check_count(score_runs, "--score-runs")
    out = out_folder(out, Path("results") / "calibration")
    where = f"scheduler {scheduler}" if scheduler else f"{workers} worker{'s' if workers > 1 else ''}"
    ids = [case.id for case in inputs.cases]

    def started(label: str, earlier: int) -> None:
        if not quiet:
            cases = ids if label == "all cases" else [i for i in ids if f"without {i}" != label]
            typer.echo(
                f"[{label}] calibrating {_count(len(inputs.priors.priors), 'shared parameter')} on "
                f"{_count(len(cases), 'case')} ({', '.join(cases)}): budget {budget:,} simulations, "
                f"population {population}, {where}"
                + (f" (resuming after {earlier} finished generations)" if earlier else ""),
                err=True,
            )

    def report(label: str, g) -> None:
        if not quiet:
            typer.echo(f"[{label}] {_generation_line(g, budget)}", err=True)

    @contextmanager
    def scoring(label: str, name: str):
        with progress_bar(score_runs, f"{label}: {name}", enabled=not quiet) as advance:
            yield advance

    try:
        result = calibrate_cases(
            inputs, budget, out, leave_one_out=leave_one_out, score_runs=score_runs, seed=seed,
            workers=workers, command=command_line(), priors_path=priors, started=started, progress=report,
            scoring=scoring, population=population, scheduler=scheduler, max_generations=max_generations,
            point=point, point_runs=point_runs, allow_large=allow_large,
        )  # fmt: skip
    except KeyboardInterrupt:
        print(
            f"interrupted: the finished generations and fits are saved in {out}; rerun the same command "
            "to resume",
            file=sys.stderr,
        )
        raise typer.Exit(130) from None
    if not quiet:
        _print_result(result.full, cases=len(ids))
    if result.table is not None:
        _report_leave_one_out(result, inputs.caseset.caseset.name, score_runs, out, quiet)


def _report_leave_one_out(result, name: str, score_runs: int, out: Path, quiet: bool) -> None:
    """`simkit score`'s tables in sample and out of sample, the in/out table and each fit's ESS.

    Printed (unless quiet) and always saved as OUT/leave_one_out.txt, the text to report.
    """
    import io

    from rich.console import Console

    from simkit.calibration.joint import TABLE, fit_ess
    from simkit.scoring.report import print_leave_one_out, print_scores
    from simkit.store import record, write_bytes

    console = Console(file=io.StringIO() if quiet else sys.stdout, record=True, width=80)
    runs = f"{score_runs} runs per case"
    for side, label in (("in", "IN SAMPLE: posterior fitted on all cases"),
                        ("out", "OUT OF SAMPLE: fitted without the case")):  # fmt: skip
        table, details = result.scores[side]
        print_scores(table, details, f"{name}, {runs}\n{label}", console)
    print_leave_one_out(result.table, f"leave one case out: {name}, {runs}", console)
    pooled = result.table.set_index("case").loc["pooled"]
    cases = len(result.table) - 1
    console.print(
        f"documented class the likeliest: {pooled['likeliest_in']:.0f} of {cases} in sample, "
        f"{pooled['likeliest_out']:.0f} of {cases} out of sample",
        highlight=False,
    )
    full = result.full
    ess = [f"all cases {fit_ess(full):.0f} of {len(full.posterior)}"]
    ess += [f"without {case} {fit_ess(f):.0f} of {len(f.posterior)}" for case, f in result.folds.items()]
    console.print("posterior ESS: " + "; ".join(ess), highlight=False)
    write_bytes(out / f"{TABLE}.txt", console.export_text().encode())
    record(out, [f"{TABLE}.txt"])
    if not quiet:
        typer.echo(
            f"wrote {out}/: leave_one_out.txt (these tables), leave_one_out.csv, leave_one_out.json, "
            "loo/<case>/ (a calibration without each case), in_sample/ and out_of_sample/ (simkit score's "
            "files)"
        )


def _saved(out: Path) -> str:
    """Finished generations of an interrupted calibration (its generations.csv)."""
    try:
        lines = (out / "generations.csv").read_text().strip().splitlines()
    except OSError:
        lines = []
    count = max(0, len(lines) - 1)
    return f"{count} finished generation{'s are' if count != 1 else ' is'}"


def _print_result(result, cases: int = 1) -> None:
    """The posterior table and the files written."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from simkit.report import DottedPath

    table = Table(
        title=f"posterior{f' on {cases} cases' if cases > 1 else ''} "
        f"after {len(result.generations)} generations, "
        f"{result.total_simulations:,} simulations, "
        f"{result.wall_time_s:.0f} s ({result.stop_reason})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    # Fits 80 columns (logs, CI): a long parameter path wraps after a dot; numbers are never cut.
    table.add_column("parameter")
    table.add_column("scenario", justify="right", no_wrap=True)
    table.add_column("prior", no_wrap=True)
    table.add_column("median", justify="right", no_wrap=True)
    table.add_column("80% interval", justify="right", no_wrap=True)
    for row in result.summary.itertuples():
        table.add_row(
            DottedPath(row.parameter),
            "varies" if math.isnan(row.scenario_value) else f"{row.scenario_value:.3g}",
            row.prior,
            f"{row.median:.3g}",
            f"{row.q10:.3g}–{row.q90:.3g}",  # noqa: RUF001 (an en dash: a range, not a minus)
        )
    Console(file=sys.stdout).print(table)
    if not math.isnan(result.overhead_share):
        typer.echo(
            f"pyabc's overhead: {result.overhead_share:.0%} of the workers' time (manifest.json: overhead)"
        )
    scenarios = ", ".join(path.name for path in result.calibrated_scenarios.values())
    typer.echo(
        f"wrote {result.out}/: abc.db, posterior.parquet, posterior_summary.csv, posterior_summary.json, "
        f"generations.csv, marginals.png, {scenarios + ', ' if scenarios else ''}manifest.json"
    )
