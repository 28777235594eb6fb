"""Shared fixtures: the repository's scenarios, loaded once."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from simkit.scenario import LoadedScenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
WAER = ROOT / "scenarios" / "waer.yaml"

# Browser tests (simkit report, simkit app) drive Debian's Chromium with Playwright; .ci/run installs it.
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
BROWSER_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NORTH_HOMS = ROOT / "scenarios" / "north_homs.yaml"
CHILD_TIMEOUT = 120
"""Seconds a test waits for a child process (a `simkit` command) before it kills it and fails."""


def kill_group(process: subprocess.Popen) -> None:
    """Kill a child started with `start_new_session=True` and everything in its process group, then reap it.

    A test calls it whatever happened (a no-op once the child and its workers are gone), so a child that
    hangs (a sweep ignoring Ctrl-C, say) makes its test fail instead of `Popen.__exit__` waiting for ever.
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def wait_for_parts(
    out: Path, process: subprocess.Popen, timeout: float = CHILD_TIMEOUT, interval: float = 0.05
) -> None:
    """Wait until a child writing into `out` (`simkit run`, `simkit sweep`) has saved a part file of runs.

    Fails the test clearly, never returns silently: when the child ends first (with its stderr) or when no
    part file appeared within `timeout` seconds (the caller then kills the child: `kill_group`).
    """
    deadline = time.monotonic() + timeout
    while not list((out / "parts").glob("runs-*.parquet")):
        assert process.poll() is None, process.stderr.read() if process.stderr else process.returncode
        assert time.monotonic() < deadline, f"no part file appeared in {out}/parts within {timeout} s"
        time.sleep(interval)


@pytest.fixture(scope="session")
def waer() -> LoadedScenario:
    return load_scenario(WAER)


@pytest.fixture(scope="session")
def north_homs() -> LoadedScenario:
    return load_scenario(NORTH_HOMS)
