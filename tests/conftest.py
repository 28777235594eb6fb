"""Shared fixtures: the repository's scenarios, loaded once."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
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


@pytest.fixture(scope="session")
def waer() -> LoadedScenario:
    return load_scenario(WAER)


@pytest.fixture(scope="session")
def north_homs() -> LoadedScenario:
    return load_scenario(NORTH_HOMS)
