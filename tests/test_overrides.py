"""Overrides applied in memory (sections on the path rebuilt) give the scenario a full validation gives."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pydantic
import pytest

from simkit.calibration.abc import SimulationModel
from simkit.calibration.priors import load_priors
from simkit.scenario import Scenario, load_scenario, scenario_hash, with_overrides
from simkit.scenario.paths import OverridePlan, apply_overrides, whole_number
from simkit.yamlio import InputError

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def fully_validated(scenario: Scenario, overrides: dict, origin: str = "override") -> Scenario:
    """The reference: the whole scenario's data overridden, then validated in full."""
    data = apply_overrides(scenario.model_dump(mode="json"), overrides, origin=origin)
    return Scenario.model_validate(data)


def error_of(function, *args) -> str:
    with pytest.raises((InputError, pydantic.ValidationError)) as info:
        function(*args)
    return str(info.value)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_prior_draws_give_the_fully_validated_scenario(path):
    scenario = load_scenario(path).scenario
    priors = load_priors(ROOT / "calibration" / "library_priors.yaml", scenario).priors
    generator = np.random.default_rng(7)
    for _ in range(10):
        values = {}
        for prior in priors:
            low, high = prior.support()
            value = float(generator.uniform(low, high))
            values[prior.path] = whole_number(value) if prior.path.endswith("_days") else value
        fast = with_overrides(scenario, values, origin="abc particle")
        reference = fully_validated(scenario, values, origin="abc particle")
        assert fast == reference
        assert scenario_hash(fast) == scenario_hash(reference)
        assert fast.model_dump() == reference.model_dump()


def test_overrides_by_name_position_and_into_lists_match(waer):
    scenario = waer.scenario
    group = scenario.residents[0].locality
    overrides = {
        f"residents.{group}.population": 30_000,
        "factions.Waer rebels.veto.value": 0.2,
        "committees.-1.concession_rate": 0.01,
        "packages.truce.first_release_days": 3,
        "horizon_days": scenario.horizon_days.value + 10,
        "regime.siege_tightness": {"value": 0.7, "source": "test: a whole parameter given"},
        "description": "changed",
    }
    assert with_overrides(scenario, overrides) == fully_validated(scenario, overrides)


def test_values_valid_only_together_are_applied(waer):
    truce = waer.scenario.packages.truce
    later = truce.release_due_days.value + 30
    overrides = {"packages.truce.first_release_days": later, "packages.truce.release_due_days": later + 5}
    changed = with_overrides(waer.scenario, overrides)
    assert changed.packages.truce.first_release_days.value == later
    assert changed == fully_validated(waer.scenario, overrides)


@pytest.mark.parametrize(
    "overrides",
    [
        {"regime.siege_tightness": 1.5},  # a field's range
        {"packages.truce.first_release_days": 10_000},  # a section's cross-field check (and a range)
        {"behaviour.family_per_fighter": 1e6},  # the scenario's own check (fighters and families)
        {"regime.lethalty": 0.1},  # no such field
        {"factions.HTS.veto": 0.1},  # no such item
    ],
)
def test_bad_values_are_reported_as_load_scenario_reports_them(waer, overrides):
    # the same words as `simkit run --set ...`; a problem outside the overridden nodes names the
    # scenario by its name where load_scenario names its file (and line)
    message = error_of(with_overrides, waer.scenario, overrides)
    from_file = error_of(load_scenario, waer.path, overrides)
    assert message == re.sub(rf"^{re.escape(str(waer.path))}(:\d+)?", "Waer", from_file)
    assert message.startswith(("--set ", "Waer (with --set ")), message


def test_a_calibrations_particles_reuse_its_paths_and_give_the_fully_validated_scenarios(waer):
    scenario = waer.scenario
    priors = load_priors(ROOT / "calibration" / "library_priors.yaml", scenario).priors
    model = SimulationModel(scenario, targets=None, whole=frozenset())  # scenario_at reads no targets
    generator = np.random.default_rng(3)
    for particle in range(5):  # the same paths each time: resolved once, values new
        values = {prior.path: float(generator.uniform(*prior.support())) for prior in priors}
        built = model.scenario_at(values, origin=f"particle {particle}")
        assert built == fully_validated(scenario, values, origin=f"particle {particle}")
    bad = {**values, "regime.implementation": 1.5}  # a field's range, on a path the plan already knows
    message = error_of(model.scenario_at, bad)
    assert message == error_of(with_overrides, scenario, bad, "abc particle")
    assert "regime.implementation" in message and "\n" not in message


def test_a_path_set_no_plan_fits_is_tried_once_and_each_particle_gets_the_set_error(waer, monkeypatch):
    import simkit.calibration.abc as abc

    built = []

    def counted(*args, **kwargs):
        built.append(args[1])
        return OverridePlan(*args, **kwargs)

    monkeypatch.setattr(abc, "OverridePlan", counted)
    model = SimulationModel(waer.scenario, targets=None, whole=frozenset())
    bad = {"regime.no_such_field": 1.0}
    expected = error_of(with_overrides, waer.scenario, bad, "abc particle")
    for _ in range(3):  # every particle is refused as --set refuses it; the plan is not rebuilt each time
        assert error_of(model.scenario_at, bad) == expected
    assert built == [("regime.no_such_field",)]
