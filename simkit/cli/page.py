"""`simkit app`: the interactive page (one run day by day, knobs, ensembles) on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from simkit.cli.app import app, user_errors


@app.command("app")
@user_errors
def app_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=True)] = Path(
        "scenarios/waer.yaml"
    ),
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1.")] = 8765,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the run and master seed of ensembles.")] = 1,
    workers: Annotated[int, typer.Option("--workers", "-w", help="Worker processes for ensembles.")] = 2,
) -> None:
    """Open a scenario in a local page: play a run day by day, turn its knobs, compare ensembles.

    The page runs on this machine only (127.0.0.1) and needs no internet. Stop it with Ctrl-C
    (or SIGTERM / SIGHUP: the page's server stops with it and frees the port). How to read it:
    docs/app.md.

    Example: [bold]simkit app scenarios/waer.yaml --port 8765[/]
    """
    from simkit.scenario import load_scenario
    from simkit.yamlio import InputError

    load_scenario(scenario)  # a bad file fails here, in one line, not in the page
    if not 1 <= port <= 65535:
        raise InputError(f"--port must be between 1 and 65535, found {port}")
    if workers < 1:
        raise InputError(f"--workers must be at least 1, found {workers}")
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds it
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise InputError(f"port {port} on 127.0.0.1 is in use; choose another with --port") from None
    page = Path(__file__).resolve().parent.parent / "app" / "page.py"
    env = {
        **os.environ,
        "SIMKIT_APP_SCENARIO": str(scenario.resolve()),
        "SIMKIT_APP_SEED": str(seed),
        "SIMKIT_APP_WORKERS": str(workers),
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",  # no calls home from a local page
    }
    command = [sys.executable, "-m", "solara", "run", str(page), "--host", "127.0.0.1",
               "--port", str(port), "--production", "--no-open", "--no-check-version"]  # fmt: skip
    typer.echo(f"simkit app: {scenario} at http://127.0.0.1:{port}/ (Ctrl-C to stop)", err=False)
    stopping = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    server = subprocess.Popen(command, env=env)
    try:
        server.wait()
    except (KeyboardInterrupt, _Stopped):
        pass
    finally:
        _end(server)
        for sig, handler in stopping.items():
            signal.signal(sig, handler)


class _Stopped(Exception):
    """`simkit app` was asked to stop (SIGTERM or SIGHUP): its server goes with it."""


def _stop(signum: int, frame: object) -> None:
    raise _Stopped(signal.Signals(signum).name)


def _end(server: subprocess.Popen) -> None:
    """Stop the page's server (terminate, then kill if it does not go within 10 s) and reap it."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
