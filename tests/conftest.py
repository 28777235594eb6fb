"""Shared fixtures: the repository's scenarios, loaded once."""

from __future__ import annotations

import shutil
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


@pytest.fixture(scope="session")
def waer() -> LoadedScenario:
    return load_scenario(WAER)


@pytest.fixture(scope="session")
def north_homs() -> LoadedScenario:
    return load_scenario(NORTH_HOMS)
