"""`simkit validate`: check a scenario file before running it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simkit.cli.app import SET_HELP, app, parse_overrides, user_errors


@app.command()
@user_errors
def validate(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)],
    set_: Annotated[list[str] | None, typer.Option("--set", help=SET_HELP)] = None,
) -> None:
    """Check a scenario: schema, dates, and provenance of every number. Exit code 2 if invalid."""
    from simkit.html_report import scenario_parameters
    from simkit.scenario import load_scenario

    loaded = load_scenario(scenario, parse_overrides(set_))
    params = [param for _, param in scenario_parameters(loaded.scenario)]
    sourced = sum(1 for p in params if p.source)
    typer.echo(
        f"{scenario}: valid scenario {loaded.scenario.name!r}, "
        f"{loaded.scenario.start} to {loaded.scenario.end}; "
        f"{len(params)} parameters ({sourced} sourced, {len(params) - sourced} assumed); "
        f"hash {loaded.hash[:12]}"
    )
