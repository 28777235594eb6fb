"""What every result folder's manifest says about how it was made: command, Python, package versions, time.

One place, so ensembles, sweeps, calibrations and forecasts record the same facts the same way.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from simkit.yamlio import override_value

PACKAGES = (
    "simkit", "mesa", "numpy", "scipy", "pandas", "pyarrow", "pydantic",
    "SALib", "dask", "distributed", "pyabc", "ema_workbench", "scikit-learn", "scoringrules",
)  # fmt: skip


def software(command: str | None = None) -> dict:
    """The command line (as given, or this process's argv), Python and package versions, start time."""
    return {
        "command": command or " ".join(sys.argv),
        "python": sys.version.split()[0],
        "packages": {name: _version(name) for name in PACKAGES},
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def scenario_label(manifest: Mapping[str, Any]) -> str:
    """`Waer` or `Waer with regime.implementation=0.5, ...`: the scenario as run, for headers and titles."""
    name = manifest.get("scenario_name") or Path(str(manifest.get("scenario", "?"))).stem
    overrides = manifest.get("overrides") or {}
    if not overrides:
        return name
    return f"{name} with " + ", ".join(f"{key}={override_value(value)}" for key, value in overrides.items())


def scenario_of(
    manifest: Mapping[str, Any], folder: str | Path, scenario_file: str | Path | None = None
) -> Any:
    """The scenario a result folder was run with: its file (or `scenario_file`) with the manifest's overrides.

    Args:
        manifest: the folder's manifest.
        folder: the result folder, named (its manifest.json) in an error about a stored override.
        scenario_file: the scenario YAML, if it is no longer where the manifest says.

    Raises:
        InputError: the file is no longer there, or it no longer takes the stored overrides.
    """
    from simkit.scenario import load_scenario
    from simkit.yamlio import InputError, overrides_in

    path = Path(scenario_file or manifest["scenario"])
    if not path.exists():
        raise InputError(f"{path}: scenario file not found; pass it with --scenario")
    named = overrides_in(Path(folder) / "manifest.json")
    return load_scenario(path, manifest.get("overrides") or {}, named=named).scenario
