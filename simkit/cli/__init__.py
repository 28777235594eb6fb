"""Command-line interface: `simkit --help` lists the commands."""

# Importing a command module registers its command on the app.
from simkit.cli import (  # noqa: F401
    calibrate,
    compare,
    diff,
    discover,
    forecast,
    init,
    page,
    report,
    run,
    score,
    sensitivity,
    story,
    sweep,
    validate,
)
from simkit.cli.app import app

__all__ = ["app"]
