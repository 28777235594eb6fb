"""`simkit run`: an ensemble of one scenario, its outcome table and its result folder."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from simkit.cli.app import (
    SET_HELP,
    OverwriteOption,
    PlotsOption,
    QuietOption,
    app,
    command_line,
    parse_overrides,
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
        Path | None,
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
) -> None:
    """Run an ensemble and report outcome shares (95% CIs) and attribute quantiles.

    Writes runs.parquet (one row per run), events.parquet (dated event log),
    summary.json, manifest.json (scenario hash, seed, versions, command) and
    figures to the result folder. Rerunning the same command resumes an
    interrupted ensemble; the results do not depend on --workers.
    """
    from simkit.ensemble import run_ensemble, saved_runs
    from simkit.report import print_summary, progress_bar
    from simkit.scenario import load_scenario

    loaded = load_scenario(scenario, parse_overrides(set_))
    out = out or Path("results") / scenario.stem
    command = command_line()
    try:
        with progress_bar(runs, f"{loaded.scenario.name}", enabled=not quiet) as advance:
            ensemble = run_ensemble(
                loaded, runs, seed, workers, out, series, advance, command, overwrite=overwrite
            )
    except KeyboardInterrupt:
        saved = saved_runs(out)
        print(f"interrupted: {saved} of {runs} runs are saved in {out}; rerun the same command to resume",
              file=sys.stderr)  # fmt: skip
        raise typer.Exit(130) from None
    figures = []
    if plots:
        from simkit.plots import write_figures

        figures = write_figures(ensemble, out)
    if not quiet:
        from simkit.manifest import scenario_label

        title = f"{scenario_label(ensemble.manifest)}: {runs} runs, seed {seed}"
        print_summary(ensemble.summary, title=title)
        written = ["runs.parquet", "events.parquet", "summary.json", "manifest.json"]
        written += ["series.parquet"] if series else []
        typer.echo(f"wrote {out}/: " + ", ".join(written + [f.name for f in figures]))
