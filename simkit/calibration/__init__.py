"""Calibration: documented trajectories to compare simulated runs against."""

from simkit.calibration.trajectory import (
    Event,
    Outcome,
    OutcomeClass,
    Quantity,
    Range,
    Trajectory,
    Window,
    dump_trajectory,
    load_trajectory,
)

__all__ = [
    "Event",
    "Outcome",
    "OutcomeClass",
    "Quantity",
    "Range",
    "Trajectory",
    "Window",
    "dump_trajectory",
    "load_trajectory",
]
