"""`simkit report`: one self-contained HTML page for a results folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simkit.cli.app import MovedScenarioOption, ResultsArgument, app, user_errors


@app.command()
@user_errors
def report(
    results: ResultsArgument,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="The page to write (default: RESULTS/report.html).")
    ] = None,
    scenario: MovedScenarioOption = None,
) -> None:
    """Write one HTML file to send: scenario, overrides, outcomes, timing, figures, provenance.

    Figures are embedded (no file beside it is needed); where the folder holds a comparison with
    the documented record (simkit compare), that comparison too.

    Example: [bold]simkit report results/waer[/]
    """
    from simkit.html_report import build_report
    from simkit.store import write_bytes

    page = build_report(results, scenario)
    out = out or results / "report.html"
    write_bytes(out, page.encode("utf-8"))  # atomically, never through a link
    typer.echo(f"wrote {out}")
