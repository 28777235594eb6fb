"""Parameter sweeps: designs, executors (local pool or Dask), resumable results, sensitivity, discovery.

The notebook API in a few names, the same functions the CLI calls:

    from simkit.sweep import discover, load_sweep, run_sweep, sensitivity
    result = run_sweep(load_sweep("sweeps/waer_leverage_siege.yaml"), out="results/sweep", workers=2)
    result.summary          # one row per point: parameters, outcome shares (95% CI), attribute quantiles
    sensitivity(result)     # SALib indices (sobol or morris designs)
    discover(result, "surrender_evacuation")  # PRIM boxes and feature scores (any design)

Names are imported on first use, so worker processes and `simkit --help` stay light.
"""

from importlib import import_module
from typing import Any

_API = {
    "Sweep": "simkit.sweep.spec",
    "Range": "simkit.sweep.spec",
    "Design": "simkit.sweep.spec",
    "load_sweep": "simkit.sweep.spec",
    "run_sweep": "simkit.sweep.runner",
    "load_sweep_result": "simkit.sweep.runner",
    "SweepResult": "simkit.sweep.runner",
    "SweepInterrupted": "simkit.sweep.runner",
    "WorkerLost": "simkit.executor",
    "TaskFailed": "simkit.executor",
    "sensitivity": "simkit.sweep.analysis",
    "discover": "simkit.sweep.discovery",
    "Discovery": "simkit.sweep.discovery",
    "plot_discovery": "simkit.sweep.figures",
    "plot_heatmap": "simkit.sweep.figures",
    "plot_heatmaps": "simkit.sweep.figures",
    "plot_sensitivity": "simkit.sweep.figures",
    "simkit_model": "simkit.sweep.task",
}
__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(_API[name]), name)
    raise AttributeError(f"module 'simkit.sweep' has no attribute {name!r}")
