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
    plots: Annotated[
        bool, typer.Option("--plots/--no-plots", help="Write sensitivity.png (bar charts).")
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
    from rich.table import Table

    from simkit.store import claim, record, refuse_links, write_table
    from simkit.sweep.analysis import METHODS, columns_of
    from simkit.sweep.analysis import sensitivity as analyse
    from simkit.sweep.figures import label
    from simkit.sweep.runner import load_sweep_result

    result = load_sweep_result(folder)
    table = analyse(result, output)
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
    shown = Table(title=f"{manifest['name']}: {METHODS[kind]}, {manifest['points']} points x "
                        f"{manifest['replicates']} replicates", title_justify="left")  # fmt: skip
    shown.add_column("output", no_wrap=True)
    shown.add_column("parameter", overflow="fold")
    first, _, second, _ = columns_of(kind)
    for column in (first, second) if kind == "sobol" else (first, "sigma"):
        shown.add_column(column.replace("_star", "*"), justify="right")
    rank = "ST" if kind == "sobol" else "mu_star"
    for output_name, part in table.groupby("output", sort=False):
        for i, (_, row) in enumerate(part.sort_values(rank, ascending=False).iterrows()):
            if kind == "sobol":
                cells = [f"{row['S1']:.2f} ± {row['S1_conf']:.2f}", f"{row['ST']:.2f} ± {row['ST_conf']:.2f}"]
            else:
                cells = [f"{row['mu_star']:.3g} ± {row['mu_star_conf']:.2g}", f"{row['sigma']:.3g}"]
            shown.add_row(label(output_name) if i == 0 else "", row["parameter"], *cells,
                          end_section=i == len(part) - 1)  # fmt: skip
    console = Console(file=sys.stdout)
    console.print(shown)
    if table.attrs["constant"]:
        console.print(
            "constant over the design (no indices): " + ", ".join(map(label, table.attrs["constant"]))
        )
    typer.echo(f"wrote {folder}/: " + ", ".join(written))
