"""`simkit compare`: an ensemble of a scenario set beside a documented trajectory, event by event."""

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
def compare(
    scenario: Annotated[
        Path, typer.Argument(help="Scenario YAML file, e.g. scenarios/waer.yaml.", show_default=False)
    ],
    against: Annotated[
        Path,
        typer.Option(
            "--against",
            "-a",
            help="Documented trajectory YAML, e.g. calibration/waer_trajectory.yaml.",
            show_default=False,
        ),
    ],
    runs: Annotated[int, typer.Option("--runs", "-n", help="Number of stochastic runs.")] = 1000,
    out: Annotated[
        str | None,
        typer.Option("--out", "-o", help="Result folder (default: results/<scenario file name>-vs-<case>)."),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", "-s", help="Master seed; run i uses a seed derived from (seed, i).")
    ] = 1,
    workers: Annotated[int, typer.Option("--workers", "-w", help="Worker processes.")] = 1,
    set_: Annotated[list[str] | None, typer.Option("--set", help=SET_HELP)] = None,
    posterior: Annotated[
        Path | None,
        typer.Option(
            "--posterior",
            "-p",
            help="Draw each run's behavioural parameters from this posterior, as simkit forecast does "
            "(parameter uncertainty, not one point): posterior.parquet of simkit calibrate, or its "
            "result folder.",
            show_default=False,
        ),
    ] = None,
    all_parameters: Annotated[
        bool,
        typer.Option(
            "--all-parameters",
            help="With --posterior: draw every posterior parameter the scenario has, not only the "
            "behavioural ones (a posterior predictive check on the calibration case itself).",
        ),
    ] = False,
    plots: PlotsOption = True,
    quiet: QuietOption = False,
    overwrite: OverwriteOption = False,
    scheduler: SchedulerOption = None,
    allow_large: AllowLargeOption = False,
) -> None:
    """Compare simulated runs with a documented trajectory, event by event, and score the fit.

    For every documented event in the scenario's period: the documented date,
    the share of runs in which it happens, the simulated median date and 80%
    interval, and whether the documented date lies inside. The same for
    documented quantities (evacuated, released, population), the outcome class,
    and one overall distance D in [0, 1] (0 = every run on the record; defined
    in docs/calibration.md). Writes comparison.json, compare_events.csv,
    compare_quantities.csv, compare_events.png and compare_fan.png next to the
    ensemble's own files (runs.parquet, events.parquet, manifest.json).
    With --posterior, run i draws its parameters from a calibration's posterior
    (as `simkit forecast`), so the intervals carry the parameters' uncertainty.
    """
    from simkit.calibration.compare import another_place, compare_frames
    from simkit.calibration.summary_stats import Targets
    from simkit.calibration.trajectory import load_trajectory
    from simkit.manifest import scenario_label
    from simkit.report import progress_bar
    from simkit.scenario import load_scenario
    from simkit.store import claim, record, write_bytes, write_json
    from simkit.yamlio import InputError

    loaded = load_scenario(scenario, parse_overrides(set_))
    trajectory = load_trajectory(against)
    targets = Targets.build(trajectory, loaded.scenario)  # refuses a mismatched pair before running
    if another_place(trajectory.case, loaded.scenario.name, scenario.stem):
        print(f"warning: scenario {loaded.scenario.name!r} ({scenario}) is compared with the record of "
              f"another place, {trajectory.case!r} ({against})", file=sys.stderr)  # fmt: skip
    if all_parameters and posterior is None:
        raise InputError("--all-parameters needs --posterior")
    particles = None
    if posterior is not None:  # read before --out is made: a bad posterior leaves nothing behind
        from simkit.calibration.forecast import load_posterior

        particles = load_posterior(posterior)
    check_options(runs, seed, workers)
    out = out_folder(out, Path("results") / f"{scenario.stem}-vs-{trajectory.case}")
    with claim(out):  # one writer from the first run to the last table
        with keeping_runs(out, runs), progress_bar(runs, loaded.scenario.name, enabled=not quiet) as advance:
            ensemble = run_scenario(loaded, runs, seed, workers, out, advance, overwrite=overwrite,
                                    scheduler=scheduler, allow_large=allow_large, posterior=particles,
                                    all_parameters=all_parameters)  # fmt: skip
        result = compare_frames(targets, ensemble.runs, ensemble.events)
        write_json(out / "comparison.json", result.to_json())
        write_bytes(out / "compare_events.csv", result.events.to_csv(index=False).encode())
        write_bytes(out / "compare_quantities.csv", result.quantities.to_csv(index=False).encode())
        written = ["comparison.json", "compare_events.csv", "compare_quantities.csv"]
        if plots:
            from simkit.calibration.figures import write_compare_figures

            written += [
                p.name
                for p in write_compare_figures(
                    result, targets, ensemble.runs, ensemble.events, out, scenario_label(ensemble.manifest)
                )
            ]
        record(out, written)
    if not quiet:
        print_comparison(
            result,
            title=f"{scenario_label(ensemble.manifest)} vs the record of {trajectory.case}: {runs} runs"
            + (f" on draws of {', '.join(ensemble.manifest['drawn_parameters'])}" if posterior else "")
            + f", seed {seed}",
        )
        typer.echo(f"wrote {out}/: " + ", ".join(written))


def print_comparison(result, title: str) -> None:
    """The comparison as three tables (events, quantities, outcome) and the distance."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    # Fits 80 columns (pipes, logs, CI): ids and single dates are never cut; a date range or an
    # interval wraps onto a second line at its dash.
    console = Console(file=sys.stdout)
    compact = {"box": box.SIMPLE_HEAD, "pad_edge": False, "collapse_padding": True, "show_edge": False}
    events = Table(title=title, title_justify="left", **compact)
    events.add_column("event", no_wrap=True)
    events.add_column("documented")
    events.add_column("happens", justify="right", no_wrap=True)
    events.add_column("sim median", justify="right", no_wrap=True)
    events.add_column("sim 80% interval", justify="right")
    events.add_column("inside", justify="right", no_wrap=True)
    for row in result.events.itertuples():
        documented = (
            str(row.documented_from)
            if row.documented_from == row.documented_to
            else f"{row.documented_from} – {row.documented_to}"  # noqa: RUF001 (a range)
        )
        inside = "—" if row.inside_80 is None else ("yes" if row.inside_80 else "[red]no[/]")
        interval = "—" if row.p10 is None else f"{row.p10} – {row.p90}"  # noqa: RUF001
        name = f"[bold]{row.id}[/]" if row.key else row.id
        events.add_row(
            name, documented, f"{row.share_happened:.0%}", str(row.median or "—"), interval, inside
        )
    console.print(events)
    quantities = Table(title="quantities", title_justify="left", **compact)
    quantities.add_column("quantity", no_wrap=True)
    quantities.add_column("documented", justify="right")
    quantities.add_column("sim median", justify="right", no_wrap=True)
    quantities.add_column("sim 80% interval", justify="right")
    quantities.add_column("runs in range", justify="right")
    quantities.add_column("overlap", justify="right", no_wrap=True)
    for row in result.quantities.itertuples():
        fmt = "{:.3f}" if row.quantity.endswith("_share") else "{:,.0f}"
        low = fmt.format(row.documented_low)
        open_ended = row.documented_high is None or row.documented_high != row.documented_high
        quantities.add_row(
            row.quantity,
            f"≥ {low}" if open_ended else f"{low} – {fmt.format(row.documented_high)}",  # noqa: RUF001
            fmt.format(row.median),
            f"{fmt.format(row.p10)} – {fmt.format(row.p90)}",  # noqa: RUF001
            f"{row.share_in_range:.0%}",
            "yes" if row.overlaps_80 else "[red]no[/]",
        )
    console.print(quantities)
    outcome = result.outcome or {}
    shares = ", ".join(f"{k} {v:.0%}" for k, v in outcome.get("shares", {}).items() if v)
    if outcome.get("documented"):
        verdict = (
            "the most likely"
            if outcome["documented_is_most_likely"]
            else f"not the most likely ({outcome['most_likely']} is)"
        )
        console.print(
            f"outcome: documented {outcome['documented']} in {outcome['share']:.0%} of runs, "
            f"{verdict}; {shares}"
        )
    else:
        console.print(f"outcome: the case is open; simulated {shares}")
    parts = result.parts
    detail = ", ".join(
        f"{k} {parts[k]:.3f}" for k in ("dates", "quantities", "outcome") if parts[k] is not None
    )
    console.print(
        f"distance D = {result.distance:.3f} ({detail}; 0 = every run on the record, 1 = none near it)"
    )
