"""`simkit calibrate`: fit a scenario's behavioural parameters to a documented trajectory (ABC-SMC)."""

from __future__ import annotations

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


class Point(StrEnum):
    """Choices of --point (simkit.calibration.abc.POINTS; kept here so the CLI starts without the model)."""

    BEST = "best"
    MEDIAN = "median"


@app.command()
@user_errors
def calibrate(
    scenario: Annotated[
        Path, typer.Argument(help="Scenario YAML file, e.g. scenarios/waer.yaml.", show_default=False)
    ],
    against: Annotated[
        Path, typer.Option("--against", "-a", help="Documented trajectory YAML to fit.", show_default=False)
    ],
    priors: Annotated[
        Path,
        typer.Option(
            "--priors", "-p", help="Prior file, e.g. calibration/waer_priors.yaml.", show_default=False
        ),
    ],
    budget: Annotated[
        int, typer.Option("--budget", "-b", help="Most simulations to spend.", show_default=False)
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
            "ensemble best passes the check against the record (then lowest D), or the posterior medians.",
        ),
    ] = Point.BEST,
    point_runs: Annotated[
        int, typer.Option("--point-runs", help="Runs per candidate ensemble for --point best.")
    ] = 200,
    set_: Annotated[list[str] | None, typer.Option("--set", help=SET_HELP)] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No per-generation lines or table; only errors.")
    ] = False,
    allow_large: AllowLargeOption = False,
) -> None:
    """Calibrate the parameters named in a prior file to a documented trajectory with ABC-SMC (pyabc).

    Summary statistics mix dates and counts: for each key event, whether it
    happens and its days outside the documented window (censored at the
    horizon when it never happens); each documented quantity's distance outside
    its range; whether the outcome class matches. An adaptive p-norm distance
    rescales them every generation. Writes abc.db (pyabc history),
    posterior.parquet, posterior_summary.csv/.json, generations.csv,
    marginals.png, candidates.csv (--point best), <scenario>_calibrated.yaml
    (`simkit run` and `simkit compare` accept it) and manifest.json. See
    docs/calibration.md. After Ctrl-C or a crash, the same command resumes from
    the last finished generation (abc.db).
    """
    from simkit.calibration.abc import calibrate as run_calibration
    from simkit.calibration.abc import check_options
    from simkit.calibration.priors import load_priors
    from simkit.calibration.trajectory import load_trajectory
    from simkit.scenario import load_scenario

    loaded = load_scenario(scenario, parse_overrides(set_))
    trajectory = load_trajectory(against)
    prior_file = load_priors(priors, loaded.scenario)
    check_options(loaded, budget, population, workers, seed, point.value, point_runs, allow_large)
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
            typer.echo(
                f"generation {g.t}: epsilon {g.epsilon:.3g}, accepted {g.accepted}/{g.simulations:,} "
                f"({g.acceptance_rate:.1%}), ESS {g.ess:.0f}, {g.wall_time_s:.1f} s; "
                f"{g.total_simulations:,} of {budget:,} simulations",
                err=True,
            )

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


def _saved(out: Path) -> str:
    """Finished generations of an interrupted calibration (its generations.csv)."""
    try:
        lines = (out / "generations.csv").read_text().strip().splitlines()
    except OSError:
        lines = []
    count = max(0, len(lines) - 1)
    return f"{count} finished generation{'s are' if count != 1 else ' is'}"


def _print_result(result) -> None:
    """The posterior table and the files written."""
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"posterior after {len(result.generations)} generations, "
        f"{result.total_simulations:,} simulations, "
        f"{result.wall_time_s:.0f} s ({result.stop_reason})",
        title_justify="left",
    )
    for column in ("parameter", "scenario", "prior", "median", "80% interval"):
        table.add_column(column, justify="left" if column in ("parameter", "prior") else "right")
    for row in result.summary.itertuples():
        table.add_row(
            row.parameter,
            f"{row.scenario_value:.3g}",
            row.prior,
            f"{row.median:.3g}",
            f"{row.q10:.3g} - {row.q90:.3g}",
        )
    Console(file=sys.stdout).print(table)
    typer.echo(
        f"wrote {result.out}/: abc.db, posterior.parquet, posterior_summary.csv, posterior_summary.json, "
        f"generations.csv, marginals.png, {result.calibrated_scenario.name}, manifest.json"
    )
