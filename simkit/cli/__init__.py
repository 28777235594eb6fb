"""Command-line interface: `simkit --help` lists the commands."""

from simkit.cli import calibrate, compare, forecast, run, validate  # noqa: F401  (registers the commands)
from simkit.cli import sensitivity, sweep  # noqa: F401  (sweep commands, simkit.sweep)
from simkit.cli.app import app

__all__ = ["app"]
