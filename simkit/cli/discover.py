"""`simkit discover`: scenario discovery (PRIM boxes, extra-trees feature scores) over a finished sweep."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from simkit.cli.app import app, command_line, user_errors

DISCOVER_IDENTITY = ("sweep_identity", "outcomes", "threshold", "by", "density", "box")
"""What makes two discoveries the same: a different one in --out is replaced only with --overwrite."""
SHOWN_BOXES = 12
"""Boxes of the peeling trajectory shown in the terminal (all of them are in trajectory.parquet)."""


@app.command()
@user_errors
def discover(
    folder: Annotated[
        Path, typer.Argument(help="Result folder of a finished sweep (any design).", show_default=False)
    ],
    outcome: Annotated[
        list[str],
        typer.Option(
            "--outcome",
            "-c",
            help="Outcome class of interest, e.g. [bold]surrender_evacuation[/]; repeat it to count runs "
            "ending in any of several classes.",
            show_default=False,
        ),
    ],
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold",
            "-t",
            help="A point is a case of interest when at least this share of its runs end in the class(es).",
        ),
    ] = 0.5,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="Count only runs whose deal was signed before this date, e.g. [bold]2017-01-01[/] "
            "(needs the runs' deal_date).",
            show_default=False,
        ),
    ] = None,
    density: Annotated[
        float | None,
        typer.Option(
            "--density",
            help="Choose the box with most coverage among those at least this dense \\[default: the box "
            "with the best balance of coverage and density].",
            show_default=False,
        ),
    ] = None,
    box: Annotated[
        int | None,
        typer.Option(
            "--box",
            help="Choose this box of the peeling trajectory instead (0 = the whole space).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output folder \\[default: FOLDER/discover-<class>[-by-<date>]]."),
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace a different discovery (other classes, threshold, --by, density or box), or another "
            "result of simkit's, found in --out: the files its manifest lists go (never your own, never the "
            "sweep: --out may not be FOLDER).",
        ),
    ] = False,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Write discover.png.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No tables; only errors.")] = False,
) -> None:
    """Under which parameter values does an ending happen? PRIM boxes over a sweep's points.

    Each design point's share of runs ending in the class(es) (before --by)
    makes it a case of interest when it reaches --threshold. PRIM (EMA
    Workbench) peels the parameter space down to a box of mostly cases: its
    coverage is the share of all cases inside it, its density the share of
    its points that are cases; each restriction has a quasi-p-value (large:
    the restriction adds little). Extra-trees feature scores say which
    parameters matter at all. Writes boxes.parquet, boxes.json,
    trajectory.parquet, features.parquet, shares.parquet, discover.png and
    manifest.json. See docs/sweeps.md.
    """
    from simkit.manifest import software
    from simkit.store import ResultFolder
    from simkit.sweep.discovery import discover as find
    from simkit.sweep.discovery import write
    from simkit.sweep.runner import load_sweep_result
    from simkit.yamlio import InputError

    if out is not None and out.resolve() == folder.resolve():
        raise InputError(f"--out {out} is the sweep FOLDER itself; choose another folder for the discovery")
    result = load_sweep_result(folder)
    found = find(result, outcome, threshold=threshold, by=by, density=density, box=box)
    if out is None:
        name = "+".join(found.outcomes) + (f"-by-{found.by.isoformat()}" if found.by else "")
        out = folder / f"discover-{name}"
    manifest = {
        "kind": "discover",
        "sweep": str(folder),
        "sweep_name": result.manifest.get("name"),
        "sweep_identity": result.manifest.get("identity"),
        "outcomes": list(found.outcomes),
        "threshold": found.threshold,
        "by": found.by.isoformat() if found.by else None,
        "density": found.density_target,
        "box": box,
        "chosen": found.chosen,
        "method": "PRIM, binary mode (ema_workbench.analysis.prim); extra-trees feature scores, "
        "regression on the share (ema_workbench.analysis.feature_scoring)",
        **software(command_line()),
    }
    with ResultFolder(out, manifest, DISCOVER_IDENTITY, overwrite) as results:
        results.save()  # first: the folder is known as this discovery while its files are written
        written = write(found, results)
        if plots:
            import matplotlib

            matplotlib.use("Agg")  # files only: no window, no display needed
            from simkit.sweep.figures import plot_discovery, save

            written.append(save(plot_discovery(found), results.path("discover.png")).name)
        results.finish()
    written.append("manifest.json")
    if not quiet:
        _print(found)
        typer.echo(f"wrote {out}/: " + ", ".join(written))


def _print(found) -> None:
    """The feature scores, the peeling trajectory (thinned) and the chosen box, each within 80 columns."""
    from rich import box as borders
    from rich.console import Console
    from rich.table import Table

    from simkit.sweep.discovery import SIGNIFICANT, case_rule

    console = Console(file=sys.stdout, width=min(Console().width, 80))
    points = found.points
    rule = case_rule(found.outcomes, found.threshold, found.by)
    console.print(f"{found.sweep.get('name')}: {int(points['case'].sum())} of {len(points)} points are "
                  f"cases of interest, {rule}.")  # fmt: skip

    def table(title: str) -> Table:
        return Table(title=title, title_justify="left", box=borders.SIMPLE_HEAD, min_width=60)

    scores = table("Feature scores: extra trees on the share (they sum to 1)")
    scores.add_column("parameter", no_wrap=True)
    scores.add_column("score", justify="right")
    for row in found.features.itertuples(index=False):
        scores.add_row(row.parameter, f"{row.score:.2f}")
    console.print(scores)
    trajectory = found.trajectory
    shown = _thin(trajectory, found.chosen)
    peel = table(f"PRIM peeling trajectory ({len(shown)} of {len(trajectory)} boxes; * chosen)")
    for name in ("box", "coverage", "density", "mean share", "points", "restricted"):
        peel.add_column(name, justify="right")
    for row in shown.itertuples(index=False):
        mark = "*" if row.box == found.chosen else ""
        peel.add_row(f"{mark}{row.box}", f"{row.coverage:.0%}", f"{row.density:.0%}", f"{row.mean_share:.0%}",
                     str(row.points), str(row.restricted))  # fmt: skip
    console.print(peel)
    stats = found.stats()
    chosen = table(
        f"Box {found.chosen}, {found.note}: coverage {stats['coverage']:.0%}, "
        f"density {stats['density']:.0%}, mean share {stats['mean_share']:.0%}, "
        f"{stats['points']} of {len(points)} points"
    )
    chosen.add_column("parameter", no_wrap=True)
    for name in ("from", "to", "of range", "p low", "p high"):
        chosen.add_column(name, justify="right")
    restrictions = found.box()
    for row in restrictions.itertuples(index=False):
        span = (row.upper - row.lower) / ((row.max - row.min) or 1.0)
        chosen.add_row(row.parameter, f"{row.lower:.3g}", f"{row.upper:.3g}", f"{span:.0%}",
                       _qp(row.qp_lower, SIGNIFICANT), _qp(row.qp_upper, SIGNIFICANT))  # fmt: skip
    console.print(chosen)
    if restrictions.empty:
        console.print("The box restricts nothing: it is the whole sampled space.")
    else:
        if (restrictions[["qp_lower", "qp_upper"]] > SIGNIFICANT).any().any():
            kept, trimmed = found.trimmed()
            outside = trimmed["mean_share_outside"]
            console.print(
                f"Without the * sides ({', '.join(kept['parameter']) or 'no restriction left'}): "
                f"coverage {trimmed['coverage']:.0%}, density {trimmed['density']:.0%}, "
                f"{trimmed['points']} points, mean share {trimmed['mean_share']:.0%}"
                + (f" inside and {outside:.0%} outside." if outside is not None else ".")
            )
    console.print(f"p: quasi-p-value of the restriction on that side (- none; * above {SIGNIFICANT}: it adds "
                  "little). --box N chooses another box.")  # fmt: skip


def _qp(value: float, significant: float) -> str:
    if value != value:  # NaN: that side is not restricted
        return "-"
    return f"{value:.1g}" + ("*" if value > significant else "")


def _thin(trajectory, chosen: int):
    """At most SHOWN_BOXES boxes of the trajectory: evenly spaced, always the first, last and chosen."""
    if len(trajectory) <= SHOWN_BOXES:
        return trajectory
    import numpy as np

    keep = set(np.linspace(0, len(trajectory) - 1, SHOWN_BOXES - 1).round().astype(int)) | {chosen}
    return trajectory[trajectory["box"].isin(keep)]
