"""Scenario files: schema, provenance, loading and overrides."""

from simkit.scenario.loader import LoadedScenario, dump_scenario, load_scenario, scenario_hash, with_overrides
from simkit.scenario.provenance import Param
from simkit.scenario.schema import Scenario

__all__ = [
    "LoadedScenario",
    "Param",
    "Scenario",
    "dump_scenario",
    "load_scenario",
    "scenario_hash",
    "with_overrides",
]
