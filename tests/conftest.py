"""Shared fixtures: the repository's scenarios, loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from simkit.scenario import LoadedScenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
WAER = ROOT / "scenarios" / "waer.yaml"
NORTH_HOMS = ROOT / "scenarios" / "north_homs.yaml"


@pytest.fixture(scope="session")
def waer() -> LoadedScenario:
    return load_scenario(WAER)


@pytest.fixture(scope="session")
def north_homs() -> LoadedScenario:
    return load_scenario(NORTH_HOMS)
