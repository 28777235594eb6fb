"""`simkit init`: a commented template scenario for a new place, valid as written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from simkit.cli.app import app, user_errors

WAER = Path("scenarios/waer.yaml")
"""The default --like: here, or else the repository's copy beside the simkit package."""


@app.command()
@user_errors
def init(
    name: Annotated[
        str, typer.Argument(help="The new scenario's name, e.g. [bold]Rastan[/].", show_default=False)
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="File to write \\[default: scenarios/<name>.yaml]; never replaced."),
    ] = None,
    like: Annotated[
        Path | None,
        typer.Option(
            "--like",
            help="Scenario whose numbers fill the template \\[default: scenarios/waer.yaml].",
        ),
    ] = None,
) -> None:
    """Write a commented template scenario for a new place, to fill in and check.

    Every key of the schema is there with its meaning as a comment (all of
    them: docs/scenarios.md); every number is --like's value with `assumed:
    "placeholder from ..."`, to be replaced by the value for the new place
    and its source or reason. One committee, one armed faction and one
    resident group are named after the place; the events list is empty,
    with a commented example of each event type. An existing file is never
    overwritten. Check the file with simkit validate.

    Example: [bold]simkit init Rastan[/] (writes scenarios/rastan.yaml)
    """
    from simkit.scenario import load_scenario
    from simkit.scenario.authoring import template
    from simkit.store import write_new_bytes
    from simkit.yamlio import InputError

    name = " ".join(name.split())
    if not name or len(name) > 100 or any(ch in name for ch in "/\\\"'") or not name.isprintable():
        raise InputError(f"a scenario name is 1 to 100 printable characters, no / \\ or quotes: {name!r}")
    if out is None:
        out = Path("scenarios") / (re.sub(r"[^\w-]+", "_", name.lower()).strip("_") + ".yaml")
    if out.exists() or out.is_symlink():
        raise InputError(f"{out} already exists; simkit does not overwrite it (choose another name or --out)")
    if like is None:
        like = WAER if WAER.exists() else Path(__file__).resolve().parents[2] / WAER
        if not like.exists():
            raise InputError("no scenario to take the template's numbers from; give one with --like FILE")
    source = load_scenario(like).scenario
    out.parent.mkdir(parents=True, exist_ok=True)
    write_new_bytes(out, template(name, source, like.name).encode())
    typer.echo(f"wrote {out}: fill it in, then check it with `simkit validate {out}` (docs/scenarios.md)")
