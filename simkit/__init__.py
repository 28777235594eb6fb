"""simkit: agent-based simulation of local ceasefire and surrender negotiations under siege.

The notebook API in a few names: `load_scenario` (with dotted-path overrides),
`simulate` (one run), `run_ensemble` (many, optionally to a results folder) and
`load_ensemble` (read a folder back). The CLI calls the same functions.
Names are imported on first use, so `simkit --help` does not load the model stack.
"""

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_API = {
    "Ensemble": "simkit.ensemble",
    "load_ensemble": "simkit.ensemble",
    "run_ensemble": "simkit.ensemble",
    "load_scenario": "simkit.scenario",
    "with_overrides": "simkit.scenario",
    "run_seed": "simkit.single_run",
    "simulate": "simkit.single_run",
}
__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(_API[name]), name)
    raise AttributeError(f"module 'simkit' has no attribute {name!r}")
