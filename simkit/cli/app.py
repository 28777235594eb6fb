"""The `simkit` command: one typer app; each command lives in its own module."""

from __future__ import annotations

import functools
import shlex
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
import typer.core

from simkit.yamlio import InputError, one_line


class _Commands(typer.core.TyperGroup):
    """The command group: a usage mistake (a bad option value, an unknown option) is one line, exit 2."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except typer.TyperException as err:  # click's usage errors, as vendored by typer
            ctx = getattr(err, "ctx", None)
            if type(err).__name__ == "NoArgsIsHelpError" and ctx is not None:  # bare `simkit`: the manual
                typer.echo(ctx.get_help(), err=True)
            else:
                message = " ".join(getattr(err, "format_message", err.__str__)().split())
                where = f" (see {ctx.command_path} --help)" if ctx is not None else ""
                print(f"error: {message}{where}", file=sys.stderr)
            sys.exit(getattr(err, "exit_code", 2))
        except typer.Abort:
            print("aborted", file=sys.stderr)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=_Commands,
    name="simkit",
    help=(
        "Simulate negotiation, siege and escalation cycles (Waer, north Homs) "
        "and report outcome distributions."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        from simkit import __version__

        typer.echo(f"simkit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Simulate siege negotiation cycles (Waer, north Homs) and report outcome distributions."""


def user_errors[F: Callable[..., Any]](command: F) -> F:
    """Turn a user's mistake (bad file, bad option) into its message on stderr and exit 2, no traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InputError as err:
            print(f"error: {one_line(str(err))}", file=sys.stderr)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def command_line() -> str:
    """This invocation as a user could paste it again, for the manifests."""
    return "simkit " + " ".join(shlex.quote(arg) for arg in sys.argv[1:])


def parse_overrides(items: list[str] | None) -> dict[str, Any]:
    """`--set a.b=1 --set c=x` into {"a.b": 1, "c": "x"} (values read as YAML)."""
    from simkit.yamlio import parse_override

    return dict(parse_override(item) for item in items or [])


SET_HELP = (
    "Override a scenario value by its YAML dotted path, e.g. [bold]regime.siege_tightness=0.9[/]; repeatable."
)

# Options shared by the commands that run an ensemble into a result folder (run, compare, forecast).
PlotsOption = Annotated[
    bool, typer.Option("--plots/--no-plots", help="Write PNG figures to the result folder.")
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or tables; only errors.")]
OverwriteOption = Annotated[
    bool, typer.Option("--overwrite", help="Replace the results of a different ensemble found in --out.")
]
