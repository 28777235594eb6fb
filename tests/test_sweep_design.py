"""Designs put points where they promise: full grids, each LHS stratum hit once, SALib's sizes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.sweep import Sweep
from simkit.sweep.design import make_points
from simkit.sweep.spec import point_count, prepare

WAER = Path(__file__).resolve().parents[1] / "scenarios" / "waer.yaml"
BOX = {
    "mediators.russia.leverage": {"min": 0.0, "max": 0.6},
    "regime.siege_tightness": {"min": 0.5, "max": 1.0},
    "residents.Waer.population": {"min": 30000, "max": 70000},  # a whole-number parameter
}


def points_of(design: dict | str, parameters: dict | None = None, seed: int = 1):
    sweep = Sweep(scenario=WAER, parameters=parameters or BOX, design=design, replicates=1, seed=seed)
    prepared = prepare(sweep)
    points = make_points(prepared)
    assert len(points) == point_count(prepared)
    assert list(points["point"]) == list(range(len(points)))
    return points


def test_grid_is_the_full_product_first_parameter_slowest():
    points = points_of(
        "grid",
        {
            "mediators.russia.leverage": {"min": 0.0, "max": 0.6, "levels": 4},
            "regime.siege_tightness": {"values": [0.5, 0.9]},
        },
    )
    # 0.2, not 0.19999…
    assert list(points["mediators.russia.leverage"]) == [0.0, 0.0, 0.2, 0.2, 0.4, 0.4, 0.6, 0.6]
    assert list(points["regime.siege_tightness"]) == [0.5, 0.9] * 4


@settings(max_examples=20, deadline=None)
@given(n=st.integers(min_value=2, max_value=60), seed=st.integers(min_value=0, max_value=2**31))
def test_lhs_hits_every_stratum_of_every_parameter_once(n, seed):
    parameters = {k: v for k, v in BOX.items() if k != "residents.Waer.population"}
    points = points_of({"type": "lhs", "points": n}, parameters, seed)
    for name, spec in parameters.items():
        unit = (points[name] - spec["min"]) / (spec["max"] - spec["min"])
        strata = np.floor(unit * n).clip(0, n - 1).astype(int)
        assert sorted(strata) == list(range(n))


def test_sampled_designs_stay_in_the_box_and_round_whole_numbers():
    designs = (
        {"type": "lhs", "points": 16},
        {"type": "sobol", "n": 8},
        {"type": "morris", "trajectories": 4},
    )
    for design in designs:
        points = points_of(design)
        for name, spec in BOX.items():
            assert points[name].between(spec["min"], spec["max"]).all(), (design, name)
        assert points["residents.Waer.population"].dtype == np.int64


def test_salib_design_sizes():
    assert len(points_of({"type": "sobol", "n": 16})) == 16 * (3 + 2)
    assert len(points_of({"type": "sobol", "n": 16, "second_order": True})) == 16 * (2 * 3 + 2)
    morris = points_of({"type": "morris", "trajectories": 5, "levels": 4})
    assert len(morris) == 5 * (3 + 1)
    # each Morris step moves exactly one parameter
    steps = np.diff(morris[list(BOX)].to_numpy(dtype=float).reshape(5, 4, 3), axis=1)
    assert ((steps != 0).sum(axis=2) == 1).all()


def test_points_are_a_function_of_the_spec_and_seed():
    design = {"type": "sobol", "n": 8}
    assert points_of(design, seed=3).equals(points_of(design, seed=3))
    assert not points_of(design, seed=3).equals(points_of(design, seed=4))
