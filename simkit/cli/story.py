"""`simkit story`: one run of a results folder told as a dated chronicle, with the state at each turn."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simkit.cli.app import MovedScenarioOption, ResultsArgument, app, user_errors


@app.command()
@user_errors
def story(
    results: ResultsArgument,
    run: Annotated[int, typer.Option("--run", "-r", help="Run index (as in runs.parquet).")] = 0,
    format_: Annotated[
        str, typer.Option("--format", "-f", help="[bold]md[/] (Markdown) or [bold]html[/] (one page).")
    ] = "md",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file instead of printing it.")
    ] = None,
    scenario: MovedScenarioOption = None,
) -> None:
    """Tell one run: who did what and why, day by day, with food, hardship, pressure, trust and force.

    The run is re-simulated from its scenario and seed (runs are reproducible) to recover the state
    behind each event, and the replay is checked against events.parquet. What every event type's
    count and detail mean: docs/events.md.

    Example: [bold]simkit story results/waer --run 42 --format html --out run42.html[/]
    """
    from simkit.store import write_bytes
    from simkit.story import story_of, to_html, to_markdown
    from simkit.yamlio import InputError

    if format_ not in ("md", "html"):
        raise InputError(f"--format must be md or html, found {format_!r}")
    told = story_of(results, run, scenario)
    text = to_html(told) if format_ == "html" else to_markdown(told)
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_bytes(out, text.encode("utf-8"))  # atomically, never through a link
        typer.echo(f"wrote {out}")
