"""`simkit forecast`: an ensemble whose runs draw behavioural parameters from a calibration's posterior."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from simkit.cli.app import (
    SET_HELP,
    AllowLargeOption,
    OverwriteOption,
    PlotsOption,
    QuietOption,
    SchedulerOption,
    app,
    check_options,
    keeping_runs,
    out_folder,
    parse_overrides,
    run_scenario,
    user_errors,
)


@app.command()
@user_errors
def forecast(
    scenario: Annotated[
        Path, typer.Argument(help="Scenario YAML file, e.g. scenarios/north_homs.yaml.", show_default=False)
    ],
    posterior: Annotated[
        Path,
        typer.Option(
            "--posterior",
            "-p",
            help="posterior.parquet of simkit calibrate, or its result folder (e.g. that of "
            "simkit calibrate cases/library.yaml: the behavioural parameters shared by every case).",
            show_default=False,
        ),
    ],
    runs: Annotated[
        int, typer.Option("--runs", "-n", help="Number of runs (one particle drawn per run).")
    ] = 1000,
    seed: Annotated[
        int,
        typer.Option("--seed", "-s", help="Master seed; run i's particle and seed derive from (seed, i)."),
    ] = 1,
    workers: Annotated[int, typer.Option("--workers", "-w", help="Worker processes.")] = 1,
    out: Annotated[
        str | None,
        typer.Option("--out", "-o", help="Result folder (default: results/<scenario file name>_forecast)."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help=SET_HELP + " A parameter set here is held fixed, not drawn."),
    ] = None,
    all_parameters: Annotated[
        bool,
        typer.Option(
            "--all-parameters",
            help="Draw every posterior parameter the scenario has, not only the behavioural ones.",
        ),
    ] = False,
    by: Annotated[
        list[str] | None,
        typer.Option(
            "--by",
            help="A date (YYYY-MM-DD; repeat for several): the share of runs ending in surrender with "
            "evacuation and in a settlement in place with the deal signed by then. Default: the horizon's "
            "last day.",
        ),
    ] = None,
    plots: PlotsOption = True,
    overwrite: OverwriteOption = False,
    quiet: QuietOption = False,
    scheduler: SchedulerOption = None,
    allow_large: AllowLargeOption = False,
) -> None:
    """Forecast with parameter uncertainty: run i draws one posterior particle by its weight.

    Of each drawn particle, the behavioural parameters (how the regime, the
    mediator, the committee and residents act; docs/forecast.md) that the
    scenario has replace the scenario's values; everything else (population,
    food, factions, detainee list, dated events) stays as the scenario says.
    Reports the same outcome shares and attribute quantiles as `simkit run`,
    plus the drawn parameters. Writes runs.parquet (one row per run, with the
    particle and the drawn values), events.parquet, summary.json, manifest.json
    and figures. The result does not depend on --workers or --scheduler; an
    interrupted forecast resumes, like `simkit run`, when the same command is run again.
    """
    from simkit.calibration.forecast import forecast_summary, load_posterior
    from simkit.report import print_summary, progress_bar
    from simkit.scenario import load_scenario
    from simkit.store import claim, record, write_json

    loaded = load_scenario(scenario, parse_overrides(set_))
    particles = load_posterior(posterior)
    dates = _dates(by, loaded.scenario)
    check_options(runs, seed, workers)
    out = out_folder(out, Path("results") / f"{scenario.stem}_forecast")
    label = f"{loaded.scenario.name} (posterior draws)"
    with claim(out):  # one writer from the first run to the last figure
        with keeping_runs(out, runs), progress_bar(runs, label, enabled=not quiet) as advance:
            ensemble = run_scenario(loaded, runs, seed, workers, out, advance, overwrite=overwrite,
                                    scheduler=scheduler, allow_large=allow_large, posterior=particles,
                                    all_parameters=all_parameters)  # fmt: skip
        figures = []
        if plots:
            from simkit.plots import write_figures

            figures = write_figures(ensemble, out)
            record(out, [f.name for f in figures])
        report = forecast_summary(ensemble.runs, dates)
        write_json(out / "forecast.json", report)
        record(out, ["forecast.json"])
    if quiet:
        return
    from simkit.manifest import scenario_label

    title = f"{scenario_label(ensemble.manifest)}: {runs} runs on posterior draws, seed {seed}"
    print_summary(ensemble.summary, title=title)
    _print_drawn(ensemble, particles)
    _print_forecast(report)
    written = ["runs.parquet", "events.parquet", "summary.json", "forecast.json", "manifest.json"]
    typer.echo(f"wrote {out}/: " + ", ".join(written + [f.name for f in figures]))


def _print_drawn(ensemble, posterior) -> None:
    """The drawn parameters over the runs: median and 80% interval, and what was not drawn."""
    from rich.console import Console
    from rich.table import Table

    manifest = ensemble.manifest
    runs = ensemble.runs
    table = Table(
        title=f"parameters drawn from {posterior.path} ({runs['particle'].nunique()} distinct particles of "
        f"{len(posterior.weights)}, ESS {posterior.ess:.0f})",
        title_justify="left",
    )
    for column in ("parameter", "p10", "p50", "p90"):
        table.add_column(column, justify="left" if column == "parameter" else "right")
    for path in manifest["drawn_parameters"]:
        q = runs[path].quantile([0.1, 0.5, 0.9])
        table.add_row(path, *(f"{v:.3g}" for v in q))
    console = Console(file=sys.stdout)
    console.print(table)
    for path, reason in manifest["not_drawn"].items():
        console.print(f"not drawn: {path}: {reason}", highlight=False)


def _dates(by: list[str] | None, scenario) -> list:
    """The --by dates, or the horizon's last day; a date not YYYY-MM-DD or outside the period is an error."""
    import datetime as dt

    from simkit.yamlio import InputError

    if not by:
        return [scenario.end]
    dates = []
    for text in by:
        try:
            dates.append(dt.date.fromisoformat(text))
        except ValueError:
            raise InputError(f"--by {text}: not a date (expected YYYY-MM-DD, e.g. 2018-06-30)") from None
        if not scenario.start <= dates[-1] <= scenario.end:
            raise InputError(
                f"--by {text} is outside the scenario's period ({scenario.start} to {scenario.end}); "
                "give a date within it"
            )
    return dates


def _print_forecast(report: dict) -> None:
    """Endings by each date (share, 95% interval, share of the spread due to chance), deal dates, evacuees."""
    from rich.console import Console
    from rich.table import Table

    from simkit.calibration.forecast import forecast_tables

    console = Console(file=sys.stdout)
    by, deal, evacuated = forecast_tables(report)
    titles = (
        f"endings with the deal signed by each date ({report['runs']} runs, {report['particles_drawn']} "
        "particles); chance = share of the spread from run to run at fixed parameters, parameters = the "
        "share due to the parameters drawn",
        "deal dates of the runs ending so (p10, median, p90)",
    )
    for frame, title in zip((by, deal), titles, strict=True):
        table = Table(title=title, title_justify="left")
        for column in frame.columns:
            table.add_column(column, justify="left" if column in ("by", "ending") else "right")
        for row in frame.itertuples(index=False):
            table.add_row(*row)
        console.print(table)
    if evacuated:
        console.print(evacuated, highlight=False)
