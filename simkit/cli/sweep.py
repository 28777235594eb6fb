"""`simkit sweep`: run a parameter sweep from a spec, locally or on a Dask cluster, resumably."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from simkit.cli.app import AllowLargeOption, SchedulerOption, app, command_line, out_folder, user_errors

SHOWN_POINTS = 20


@app.command()
@user_errors
def sweep(
    spec: Annotated[
        Path,
        typer.Argument(help="Sweep spec YAML, e.g. sweeps/waer_leverage_siege.yaml.", show_default=False),
    ],
    workers: Annotated[
        int, typer.Option("--workers", "-w", help="Local worker processes (ignored with --scheduler).")
    ] = 1,
    out: Annotated[
        str | None, typer.Option("--out", "-o", help="Result folder \\[default: results/<sweep name>].")
    ] = None,
    scheduler: SchedulerOption = None,
    plots: Annotated[
        bool, typer.Option("--plots/--no-plots", help="Write heat maps (2-parameter grids).")
    ] = True,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar or table; only errors.")
    ] = False,
    allow_large: AllowLargeOption = False,
) -> None:
    """Run every design point of a sweep spec, replicates times, and summarize each point.

    Writes to the result folder: points.parquet (one row per design point),
    runs.parquet (one row per run, with its point and replicate),
    summary.parquet (per point: outcome shares with 95% CIs, attribute
    means and quantiles), manifest.json (spec, scenario hash, seed rule,
    versions, command) and, for a grid over two parameters, heatmaps.png.

    Work is saved task by task: after Ctrl-C or a crash, the same command
    resumes and runs only what is missing. Results do not depend on --workers
    or on --scheduler. See docs/sweeps.md.
    """
    from simkit.store import claim, inside, record
    from simkit.sweep.progress import sweep_progress
    from simkit.sweep.runner import SweepInterrupted, check_size, run_sweep
    from simkit.sweep.spec import load_sweep, point_count, prepare

    loaded = load_sweep(spec)
    prepared = prepare(loaded, spec)
    check_size(prepared, allow_large)
    out = out_folder(out, inside("results", loaded.label, "the sweep's name"))
    total = point_count(prepared) * loaded.replicates
    command = command_line()
    with claim(out):  # one writer from the first run to the heat maps
        try:
            with sweep_progress(total, loaded.label, enabled=not quiet) as advance:
                result = run_sweep(
                    spec, out, workers=workers, scheduler=scheduler or None, progress=advance,
                    command=command, allow_large=allow_large,
                )  # fmt: skip
        except SweepInterrupted as err:
            print(str(err), file=sys.stderr)
            raise typer.Exit(130) from None
        except KeyboardInterrupt:  # before any run started (loading, drawing points): nothing to keep
            print("interrupted before any run started", file=sys.stderr)
            raise typer.Exit(130) from None
        written = ["points.parquet", "runs.parquet", "summary.parquet", "manifest.json"]
        if plots and result.manifest["design"]["type"] == "grid" and len(result.parameters) == 2:
            import matplotlib

            matplotlib.use("Agg")  # files only: no window, no display needed
            from simkit.sweep.figures import plot_heatmaps, save

            figure = plot_heatmaps(result.summary, base=result.manifest.get("base"))
            written.append(save(figure, out / "heatmaps.png").name)
            record(out, written[-1:])
    if not quiet:
        _print_points(result)
        typer.echo(f"wrote {out}/: " + ", ".join(written))


def _print_points(result) -> None:
    """The first points with their outcome shares; classes that never occur are left out to fit a terminal."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    summary = result.summary
    manifest = result.manifest
    shares = [c for c in summary.columns if c.startswith("share_") and not c.endswith(("_lo", "_hi"))]
    shares = [c for c in shares if summary[c].max() > 0]
    means = [c for c in ("released_share_mean",) if c in summary.columns]
    title = (
        f"{manifest['name']}: {manifest['points']} points x {manifest['replicates']} replicates "
        f"({manifest['design']['type']} design, seed {manifest['master_seed']}, "
        f"{manifest['seeds']} random numbers); share of runs ending in each outcome"
    )
    # Fits 80 columns (pipes, logs, CI): headers break at dots and underscores (folded only if a
    # word is still too long), numbers are never cut.
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, collapse_padding=True,
                  pad_edge=False, show_edge=False)  # fmt: skip
    table.add_column("point", justify="right", no_wrap=True)
    headers = [name.replace(".", ".\n").replace("_", "_\n") for name in result.parameters]
    headers += [column.removeprefix("share_").replace("_", "\n") for column in shares]
    headers += [column.removesuffix("_mean").replace("_", "\n") + "\n(mean)" for column in means]
    for header in headers:
        table.add_column(header, justify="right", overflow="fold", min_width=5)
    for _, row in summary.head(SHOWN_POINTS).iterrows():
        cells = [str(int(row["point"]))]
        cells += [f"{row[p]:.4g}" for p in result.parameters]
        cells += [f"{row[c]:.0%}" for c in shares]
        cells += [f"{row[c]:.1%}" for c in means]
        table.add_row(*cells)
    console = Console(file=sys.stdout)
    console.print(table)
    if len(summary) > SHOWN_POINTS:
        console.print(f"... and {len(summary) - SHOWN_POINTS} more points in summary.parquet")
