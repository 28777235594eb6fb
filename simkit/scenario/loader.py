"""Load a scenario file, apply dotted-path overrides, validate, and fingerprint it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic

from simkit.scenario.paths import apply_overrides, override_sections
from simkit.scenario.schema import Scenario
from simkit.yamlio import (
    InputError,
    OverrideNaming,
    dump_yaml,
    format_validation_error,
    override_text,
    read_yaml,
    validate_yaml,
)


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with where it came from; the hash covers the overrides."""

    scenario: Scenario
    path: Path
    overrides: dict[str, Any]
    hash: str


def load_scenario(
    path: str | Path, overrides: Mapping[str, Any] | None = None, named: OverrideNaming = override_text
) -> LoadedScenario:
    """Read, override and validate a scenario YAML; raises InputError naming file, field and line.

    Args:
        path: the scenario file.
        overrides: {dotted path: value}, applied in order (`simkit.scenario.paths.apply_overrides`).
        named: how the overrides are named in an error about them, as the user wrote them: `--set
            PATH=VALUE` (`override_text`, the default), or the file that holds them
            (`simkit.yamlio.overrides_in`: a sweep spec, a result folder's manifest).

    Raises:
        InputError: the file, a path that names nothing, or a value the scenario does not accept.
    """
    path = Path(path)
    overrides = dict(overrides or {})
    data, lines = read_yaml(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a YAML mapping at the top level")
    places: dict[tuple[str | int, ...], str] = {}
    if overrides:  # an error in a value an override set names the override, not the file's line
        data = apply_overrides(data, overrides, origin="override", named=named, places=places)
    overridden = {place: named(dotted, overrides[dotted]) for place, dotted in places.items()}
    scenario = validate_yaml(path, Scenario, data, lines, overridden)
    return LoadedScenario(scenario, path, overrides, scenario_hash(scenario))


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the scenario's canonical JSON: equal for equal content, whatever the formatting."""
    canonical = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def with_overrides(
    scenario: Scenario,
    overrides: Mapping[str, Any],
    origin: str = "override",
    named: OverrideNaming = override_text,
) -> Scenario:
    """The same overrides as `load_scenario`'s, applied to a scenario already in memory.

    Only the sections on the overridden paths are rebuilt and validated again
    (`override_sections`: a calibration particle costs a fraction of a full
    validation); the scenario is the one a full validation of the overridden
    data gives. Overrides that fail there are applied to the whole scenario's data
    and validated in full, so a bad value is reported as `load_scenario` reports it,
    naming the override as `named` says (`--set PATH=VALUE` by default), or, for a
    problem outside the overridden nodes, the scenario by its name.

    Raises:
        PathError: a path names nothing in the scenario.
        InputError: a value the scenario does not accept (field path and reason).
    """
    if not overrides:
        return scenario
    try:
        return override_sections(scenario, overrides, origin=origin)
    except (InputError, pydantic.ValidationError, TypeError, ValueError):
        pass  # the full path below words the error (or, for a value a section cannot take alone, applies it)
    places: dict[tuple[str | int, ...], str] = {}
    data = scenario.model_dump(mode="json")
    data = apply_overrides(data, overrides, origin=origin, named=named, places=places)
    try:
        return Scenario.model_validate(data)
    except pydantic.ValidationError as err:
        overridden = {place: named(dotted, overrides[dotted]) for place, dotted in places.items()}
        message = format_validation_error(err, scenario.name, {}, data, Scenario, overridden)
        raise InputError(message) from None


def dump_scenario(scenario: Scenario, path: str | Path) -> None:
    """Write a scenario back to YAML (e.g. a calibrated one) that load_scenario accepts."""
    from simkit.store import write_bytes

    data = scenario.model_dump(mode="json", exclude_none=True)
    write_bytes(Path(path), dump_yaml(data).encode("utf-8"))
