"""Running a sweep: the tables, the seed rule, and the same results whatever the number of workers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simkit.ensemble import run_ensemble
from simkit.model import OUTCOMES
from simkit.scenario import load_scenario
from simkit.single_run import run_seed
from simkit.summary import share_interval
from simkit.sweep import Sweep, load_sweep_result, run_sweep
from simkit.yamlio import InputError

WAER = Path(__file__).resolve().parents[1] / "scenarios" / "waer.yaml"
REPLICATES = 6


def small(**changes) -> Sweep:
    """2 x 2 grid, 6 replicates, tasks of 5 runs: tasks straddle points, which the runner must handle."""
    spec = {
        "scenario": WAER,
        "parameters": {
            "mediators.russia.leverage": {"values": [0.0, 0.6]},
            "regime.siege_tightness": {"values": [0.5, 0.95]},
        },
        "replicates": REPLICATES,
        "seed": 7,
        "batch_size": 5,
    }
    return Sweep(**{**spec, **changes})


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    return run_sweep(small(), out=tmp_path_factory.mktemp("serial"))


def test_tables_have_one_row_per_point_and_per_run(serial):
    points, runs, summary = serial.points, serial.runs, serial.summary
    assert list(points.columns) == ["point", "mediators.russia.leverage", "regime.siege_tightness"]
    assert len(points) == 4 and len(runs) == 4 * REPLICATES and len(summary) == 4
    assert list(runs["run"]) == list(range(len(runs)))
    assert (runs["point"] == runs["run"] // REPLICATES).all()
    assert (runs["replicate"] == runs["run"] % REPLICATES).all()
    assert set(OUTCOMES) >= set(runs["outcome"])
    pd.testing.assert_frame_equal(summary[points.columns], points)
    assert (summary["runs"] == REPLICATES).all()
    for name in ("runs.parquet", "points.parquet", "summary.parquet", "manifest.json"):
        assert (serial.out / name).exists()
    assert not (serial.out / "parts").exists()


def test_summary_shares_are_those_of_the_runs_with_wilson_intervals(serial):
    runs, summary = serial.runs, serial.summary
    shares = summary[[f"share_{name}" for name in OUTCOMES]]
    assert np.allclose(shares.sum(axis=1), 1.0)
    for _, row in summary.iterrows():
        mine = runs[runs["point"] == row["point"]]
        for name in OUTCOMES:
            k = int((mine["outcome"] == name).sum())
            assert row[f"share_{name}"] == k / len(mine)
            interval = [row[f"share_{name}_lo"], row[f"share_{name}_hi"]]
            assert np.allclose(interval, share_interval(k, len(mine)))
        assert row["released_share_mean"] == pytest.approx(mine["released_share"].mean())
        assert row["killed_p50"] == pytest.approx(mine["killed"].quantile(0.5))


def test_common_random_numbers_replicate_r_has_the_same_seed_at_every_point(serial):
    runs = serial.runs
    for replicate, seeds in runs.groupby("replicate")["seed"]:
        assert set(seeds) == {run_seed(7, replicate)}
    assert "common random numbers" in serial.manifest["seed_rule"]


def test_a_point_is_exactly_simkit_run_with_its_overrides(serial):
    """The seed rule makes every point reproducible with `simkit run --set ... --seed S -n R`."""
    point = serial.points.iloc[3]
    overrides = {name: point[name].item() for name in serial.parameters}
    ensemble = run_ensemble(load_scenario(WAER, overrides), runs=REPLICATES, seed=7)
    mine = serial.runs[serial.runs["point"] == 3].reset_index(drop=True)
    theirs = ensemble.runs
    for column in ("seed", "outcome", "outcome_day", "released", "evacuated", "killed"):
        assert list(mine[column]) == list(theirs[column]), column


def test_independent_seeds_differ_between_points(tmp_path):
    result = run_sweep(small(seeds="independent"), out=tmp_path / "x")
    assert result.runs.groupby("replicate")["seed"].nunique().eq(4).all()
    assert "SeedSequence([master_seed, p, r])" in result.manifest["seed_rule"]


def test_two_workers_give_the_same_tables_as_one(serial, tmp_path):
    pooled = run_sweep(small(), out=tmp_path / "pool", workers=2)
    assert pooled.manifest["last_session"]["executor"] == "local process pool, 2 workers"
    pd.testing.assert_frame_equal(pooled.runs, serial.runs)
    pd.testing.assert_frame_equal(pooled.summary, serial.summary)
    pd.testing.assert_frame_equal(pooled.points, serial.points)


def test_manifest_records_what_reproduces_the_sweep(serial):
    manifest = json.loads((serial.out / "manifest.json").read_text())
    assert manifest["kind"] == "sweep"
    assert manifest["scenario_hash"] == load_scenario(WAER).hash
    assert manifest["master_seed"] == 7 and manifest["replicates"] == REPLICATES and manifest["runs"] == 24
    assert manifest["model"] == "simkit.sweep.task:simkit_model"
    assert manifest["spec"]["parameters"]["mediators.russia.leverage"] == {"values": [0.0, 0.6]}
    assert {"mesa", "SALib", "dask"} <= set(manifest["packages"])
    assert "finished" in manifest


def test_load_sweep_result_reads_a_finished_folder_back(serial):
    again = load_sweep_result(serial.out)
    pd.testing.assert_frame_equal(again.summary, serial.summary)
    with pytest.raises(InputError, match=r"no manifest\.json"):
        load_sweep_result(serial.out / "parts")
