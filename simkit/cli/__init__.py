"""Command-line interface: `simkit --help` lists the commands."""

# Importing a command module registers its command on the app.
from simkit.cli import calibrate, compare, discover, forecast, run, sensitivity, sweep, validate  # noqa: F401
from simkit.cli.app import app

__all__ = ["app"]
