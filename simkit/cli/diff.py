"""`simkit diff`: two result folders side by side: outcome shares, their difference, transitions, timing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from simkit.cli.app import PlotsOption, QuietOption, app, command_line, user_errors

SHORT = {
    "surrender_evacuation": "surrender",
    "reconciliation": "reconcil.",
    "military_takeover": "takeover",
    "durable_ceasefire": "ceasefire",
    "stalemate": "stalemate",
}
"""Outcome names short enough for a five-column transition table at 80 columns."""


@app.command()
@user_errors
def diff(
    a: Annotated[Path, typer.Argument(help="Results folder A (the base).", show_default=False)],
    b: Annotated[Path, typer.Argument(help="Results folder B (the what-if).", show_default=False)],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Folder for diff.json, transitions.csv and the figure (default: results/diff-<A>-vs-<B>).",
        ),
    ] = None,
    plots: PlotsOption = True,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace a diff of other folders, or another result of simkit's, found in --out: the files "
            "its manifest lists go (never your own, never A or B).",
        ),
    ] = False,
    quiet: QuietOption = False,
) -> None:
    """Compare two ensembles: outcome shares, B - A with a 95% interval, and when runs end.

    With the same master seed (common random numbers) runs pair up by index: the interval is a
    paired bootstrap and a transition table shows which runs moved from which outcome to which
    (it adds up to the runs). Otherwise the interval is Newcombe's for two independent shares.
    Writes diff.json, transitions.csv (paired only) and diff_endings.png (cumulative incidence of
    each ending for both, unresolved runs censored at the horizon).

    Example: [bold]simkit diff results/waer results/waer-leverage[/]
    """
    from simkit.diff import diff as compare_ensembles
    from simkit.diff import write_diff
    from simkit.ensemble import load_ensemble

    ens_a, ens_b = load_ensemble(a), load_ensemble(b)
    result = compare_ensembles(ens_a, ens_b)
    out = out or Path("results") / f"diff-{a.name}-vs-{b.name}"
    written = write_diff(result, ens_a, ens_b, out, plots, overwrite, command_line())
    if not quiet:
        print_diff(result, ens_a.summary, ens_b.summary)
        typer.echo(f"wrote {out}/: " + ", ".join(written))


def signed_share(value: float) -> str:
    """A difference of shares with its sign, to 0.1%; one that rounds to zero reads 0.0%, never -0.0%."""
    text = f"{value:+.1%}"
    return "0.0%" if text in ("+0.0%", "-0.0%") else text


def print_diff(result, summary_a: dict, summary_b: dict) -> None:
    """Shares and differences, the transition table, and the dates of each ending in A and B."""
    from rich.console import Console
    from rich.table import Table

    console = Console(file=sys.stdout)
    console.print(f"A: {result.label_a}\nB: {result.label_b}")
    shares = Table(title=f"outcomes; B - A with {result.method}", title_justify="left")
    shares.add_column("outcome", overflow="fold")
    for column in ("A", "B", "B - A", "95% CI"):
        shares.add_column(column, justify="right", no_wrap=True)
    for row in result.shares.itertuples():
        shares.add_row(
            row.outcome,
            f"{row.share_a:.1%}",
            f"{row.share_b:.1%}",
            signed_share(row.difference),
            f"{signed_share(row.low)} to {signed_share(row.high)}",
        )
    console.print(shares)
    if result.transitions is not None:
        moves = Table(
            title=f"paired runs: outcome in A (rows) and in B (columns), {result.paired_runs} runs",
            title_justify="left",
        )
        moves.add_column("A \\ B", overflow="fold")
        for name in result.transitions.columns:
            moves.add_column(SHORT.get(name, name), justify="right", no_wrap=True)
        for name, row in result.transitions.iterrows():
            moves.add_row(SHORT.get(name, name), *(f"{n:,}" for n in row))
        console.print(moves)
    when = Table(title="when: median date of each ending (runs that reached it)", title_justify="left")
    when.add_column("ending", overflow="fold")
    for column in ("A runs", "A median", "B runs", "B median"):
        when.add_column(column, justify="right", no_wrap=True)
    ta, tb = summary_a["timing"], summary_b["timing"]
    for name in ta["endings"]:
        ra, rb = ta["endings"][name], tb["endings"][name]
        when.add_row(
            name.replace("_", " "),
            f"{ra['runs']:,}",
            ra["date_p50"] or "-",
            f"{rb['runs']:,}",
            rb["date_p50"] or "-",
        )
    when.add_row(
        "unresolved", f"{ta['unresolved']['runs']:,}", "censored", f"{tb['unresolved']['runs']:,}", "censored"
    )
    console.print(when)
