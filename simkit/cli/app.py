"""The `simkit` command: one typer app; each command lives in its own module."""

from __future__ import annotations

import functools
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
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


def _folding_help() -> None:
    """Option help that folds a long path or example at narrow widths rather than ending it in `…`.

    typer renders each option's help as rich Text without an overflow of its own, so a token longer
    than the help column (`calibration/waer_trajectory.yaml` at 80 columns) would be cut. Setting
    the Text's overflow to "fold" keeps every character: the token continues on the next line.
    """
    import typer.rich_utils as rich_utils
    from rich.text import Text

    original = rich_utils._get_parameter_help
    if getattr(original, "folds", False):
        return

    @functools.wraps(original)
    def folding(*args: Any, **kwargs: Any) -> Any:
        columns = original(*args, **kwargs)
        for item in columns.renderables:
            if isinstance(item, Text):
                item.overflow = "fold"
        return columns

    folding.folds = True  # type: ignore[attr-defined]
    rich_utils._get_parameter_help = folding


_folding_help()

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
    """Turn a user's mistake (bad file, bad option) into its message on stderr and exit 2, no traceback.

    Work that could not finish (a worker died, a run raised in a worker: `simkit.executor.ExecutionError`)
    is one line too, with exit code 1.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from simkit.executor import ExecutionError

        try:
            return command(*args, **kwargs)
        except InputError as err:
            print(f"error: {one_line(str(err))}", file=sys.stderr)
            raise typer.Exit(2) from None
        except ExecutionError as err:
            print(f"error: {err}", file=sys.stderr)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def keeping_runs(out: Path, runs: int) -> Iterator[None]:
    """Around an ensemble written to `out`: Ctrl-C or a dead worker end in one line saying what is saved.

    Exit codes: 130 after Ctrl-C, 1 after a worker died or a run failed; rerunning the same command resumes.
    """
    from simkit.executor import ExecutionError

    try:
        yield
    except KeyboardInterrupt:
        print(f"interrupted: {_saved(out, runs)}", file=sys.stderr)
        raise typer.Exit(130) from None
    except ExecutionError as err:
        print(f"error: {err}; {_saved(out, runs)}", file=sys.stderr)
        raise typer.Exit(1) from None


def _saved(out: Path, runs: int) -> str:
    from simkit.ensemble import saved_runs

    try:
        saved = saved_runs(out)
    except Exception:  # a half-written folder must not turn the message into a traceback
        saved = 0
    return f"{saved:,} of {runs:,} runs are saved in {out}; rerun the same command to resume"


def check_options(runs: int, seed: int, workers: int) -> None:
    """--runs, --seed and --workers of a command that runs ensembles, checked before its folder is made.

    Raises:
        InputError: fewer than one run or worker, or a seed outside 0..2^63-1 (`simkit.limits`).
    """
    from simkit.limits import check_count, check_seed

    check_count(runs, "--runs")
    check_count(workers, "--workers")
    check_seed(seed)


def out_folder(out: str | None, default: Path) -> Path:
    """The --out of a command (its default when not given), checked before anything runs (`simkit.store`)."""
    from simkit.store import check_out

    return check_out(default if out is None else out)


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
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        envvar="DASK_SCHEDULER_ADDRESS",
        show_envvar=True,
        help="Dask scheduler address, e.g. [bold]tcp://10.0.0.5:8786[/]: run on that cluster instead of "
        "--workers local processes. Results are the same.",
    ),
]
AllowLargeOption = Annotated[
    bool,
    typer.Option(
        "--allow-large",
        help="Run a job over simkit's work-size limit (runs x days x households above 10^12) deliberately.",
    ),
]

# Arguments shared by the commands that read a result folder back (story, report).
ResultsArgument = Annotated[
    Path, typer.Argument(help="Results folder of simkit run, compare or forecast.", show_default=False)
]
MovedScenarioOption = Annotated[
    Path | None,
    typer.Option("--scenario", help="The scenario YAML, if it is no longer where the manifest says."),
]


def run_scenario(
    loaded: Any,
    runs: int,
    seed: int,
    workers: int,
    out: Path,
    progress: Callable[[int], None],
    *,
    overwrite: bool,
    scheduler: str | None,
    allow_large: bool,
    series: bool = False,
    posterior: Any = None,
    all_parameters: bool = False,
) -> Any:
    """The ensemble of run, compare and forecast: run i on seed (seed, i), and on a posterior draw if given.

    Args:
        loaded: The scenario (`simkit.scenario.LoadedScenario`), with its overrides.
        runs: Number of runs.
        seed: Master seed.
        workers: Local worker processes.
        out: Result folder (resumable).
        progress: Called with the number of runs just finished.
        overwrite: Replace another simkit result in `out` (--overwrite).
        scheduler: A Dask scheduler address, or None for local workers (--scheduler).
        allow_large: Go past the work-size limit (--allow-large).
        series: Also keep daily series (plain ensembles only).
        posterior: A loaded posterior (`simkit.calibration.forecast.load_posterior`): run i draws one
            particle and takes its behavioural parameters.
        all_parameters: With a posterior, take every parameter it has, not only the behavioural ones.
    """
    options = {"progress": progress, "command": command_line(), "overwrite": overwrite,
               "scheduler": scheduler or None, "allow_large": allow_large}  # fmt: skip
    if posterior is None:
        from simkit.ensemble import run_ensemble

        return run_ensemble(loaded, runs, seed, workers, out, series, **options)
    from simkit.calibration.forecast import BEHAVIOURAL, run_forecast

    drawn = posterior.parameters if all_parameters else BEHAVIOURAL
    return run_forecast(loaded, posterior, runs, seed, workers, out, parameters=drawn, **options)
