"""`simkit sensitivity`: SALib sensitivity indices of a finished sobol or morris sweep."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from simkit.cli.app import app, user_errors


@app.command()
@user_errors
def sensitivity(
    folder: Annotated[
        Path,
        typer.Argument(
            help="Result folder of a finished sweep (sobol or morris design).", show_default=False
        ),
    ],
    output: Annotated[
        list[str] | None,
        typer.Option(
            "--output",
            "-y",
            help="Summary column to analyse, e.g. [bold]share_surrender_evacuation[/]; "
            "repeatable \\[default: every outcome share and attribute mean].",
        ),
    ] = None,
    rare: Annotated[
        float | None,
        typer.Option(
            "--rare",
            help="Leave out an outcome share with fewer than this share of the runs on its rarer side "
            "(too rare to estimate); 0 keeps every output \\[default: 0.1, one run in ten].",
            show_default=False,
        ),
    ] = None,
    plots: Annotated[
        bool, typer.Option("--plots/--no-plots", help="Write sensitivity.png (indices, intervals).")
    ] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table; only errors.")] = False,
) -> None:
    """Sensitivity of outcome probabilities and attributes to the swept parameters.

    A sobol design gives first-order (S1: the parameter alone) and total (ST:
    with its interactions) Sobol indices; a morris design gives mu* (mean
    absolute effect over the parameter's range) and sigma (non-linearity or
    interactions); both with bootstrap 95% intervals. Writes
    sensitivity.parquet and sensitivity.png to the folder.
    """
    import pyarrow as pa
    from rich.console import Console

    from simkit.store import claim, record, refuse_links, write_table
    from simkit.sweep.analysis import METHODS, RARE, notes, sensitivity_table
    from simkit.sweep.analysis import sensitivity as analyse
    from simkit.sweep.runner import load_sweep_result
    from simkit.yamlio import InputError

    if rare is not None and not 0 <= rare < 0.5:
        raise InputError(f"--rare must be at least 0 and below 0.5, found {rare}")
    result = load_sweep_result(folder)
    table = analyse(result, output, RARE if rare is None else rare)
    kind = table.attrs["method"]
    with claim(folder):  # the sweep's folder: locked, no links, the new files listed in its manifest
        refuse_links(folder)
        write_table(folder / "sensitivity.parquet", pa.Table.from_pandas(table, preserve_index=False))
        written = ["sensitivity.parquet"]
        if plots and len(table):
            import matplotlib

            matplotlib.use("Agg")  # files only: no window, no display needed
            from simkit.sweep.figures import plot_sensitivity, save

            written.append(save(plot_sensitivity(table), folder / "sensitivity.png").name)
        record(folder, written)
    if quiet:
        return
    manifest = result.manifest
    console = Console(file=sys.stdout)
    title = (f"{manifest['name']}: {METHODS[kind]}, {manifest['points']} points x "
             f"{manifest['replicates']} replicates, bootstrap 95% intervals")  # fmt: skip
    console.print(sensitivity_table(table, title))
    for line in notes(table):
        console.print(line, highlight=False)
    typer.echo(f"wrote {folder}/: " + ", ".join(written))
