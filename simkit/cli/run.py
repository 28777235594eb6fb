"""`simkit run`: an ensemble of one scenario, its outcome table and its result folder."""

from __future__ import annotations

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
def run(
    scenario: Annotated[
        Path, typer.Argument(help="Scenario YAML file, e.g. scenarios/waer.yaml.", show_default=False)
    ],
    runs: Annotated[int, typer.Option("--runs", "-n", help="Number of stochastic runs.")] = 1000,
    seed: Annotated[
        int, typer.Option("--seed", "-s", help="Master seed; run i uses a seed derived from (seed, i).")
    ] = 1,
    workers: Annotated[int, typer.Option("--workers", "-w", help="Worker processes.")] = 1,
    out: Annotated[
        str | None,
        typer.Option(
            "--out", "-o", help="Result folder (default: results/<scenario file name without .yaml>)."
        ),
    ] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help=SET_HELP)] = None,
    series: Annotated[
        bool, typer.Option("--series", help="Also write daily series (series.parquet, fan chart).")
    ] = False,
    plots: PlotsOption = True,
    quiet: QuietOption = False,
    overwrite: OverwriteOption = False,
    scheduler: SchedulerOption = None,
    allow_large: AllowLargeOption = False,
) -> None:
    """Run an ensemble and report outcome shares (95% CIs) and attribute quantiles.

    Writes runs.parquet (one row per run), events.parquet (dated event log),
    summary.json, manifest.json (scenario hash, seed, versions, command) and
    figures to the result folder. Rerunning the same command resumes an
    interrupted ensemble (also after a worker died); the results do not depend
    on --workers or --scheduler. Only simkit's own files in the folder are ever
    replaced (README: Results).
    """
    from simkit.report import print_summary, progress_bar
    from simkit.scenario import load_scenario
    from simkit.store import claim, record

    loaded = load_scenario(scenario, parse_overrides(set_))
    check_options(runs, seed, workers)
    out = out_folder(out, Path("results") / scenario.stem)
    with claim(out):  # one writer from the first run to the last figure
        with keeping_runs(out, runs), progress_bar(runs, loaded.scenario.name, enabled=not quiet) as advance:
            ensemble = run_scenario(loaded, runs, seed, workers, out, advance, overwrite=overwrite,
                                    scheduler=scheduler, allow_large=allow_large, series=series)  # fmt: skip
        figures = []
        if plots:
            from simkit.plots import write_figures

            figures = write_figures(ensemble, out)
            record(out, [f.name for f in figures])
    if not quiet:
        from simkit.manifest import scenario_label

        title = f"{scenario_label(ensemble.manifest)}: {runs} runs, seed {seed}"
        print_summary(ensemble.summary, title=title)
        written = ["runs.parquet", "events.parquet", "summary.json", "manifest.json"]
        written += ["series.parquet"] if series else []
        typer.echo(f"wrote {out}/: " + ", ".join(written + [f.name for f in figures]))
