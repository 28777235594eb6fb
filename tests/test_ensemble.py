"""Ensembles: reproducible run by run from (scenario, master seed, index), whatever the workers; resumable."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from simkit.ensemble import BATCH_SIZE, load_ensemble, run_ensemble
from simkit.single_run import run_seed, simulate
from simkit.summary import share_interval
from simkit.yamlio import InputError


def test_same_seed_same_run(waer):
    first, second = simulate(waer.scenario, 12345), simulate(waer.scenario, 12345)
    assert first.run == second.run and first.events == second.events


def test_different_seeds_differ(waer):
    runs = [simulate(waer.scenario, run_seed(1, i)).events for i in range(10)]
    assert len({tuple(events) for events in runs}) > 1


def test_run_seed_depends_only_on_master_seed_and_index():
    assert run_seed(7, 3) == run_seed(7, 3)
    assert len({run_seed(7, i) for i in range(1000)}) == 1000
    assert run_seed(7, 3) != run_seed(8, 3)


def test_one_and_two_workers_write_identical_tables(waer, tmp_path):
    runs = BATCH_SIZE * 2 + 37  # a partial last batch too
    one = run_ensemble(waer, runs, seed=5, workers=1, out=tmp_path / "one")
    two = run_ensemble(waer, runs, seed=5, workers=2, out=tmp_path / "two")
    pd.testing.assert_frame_equal(one.runs, two.runs)
    pd.testing.assert_frame_equal(one.events, two.events)
    assert list(one.runs["run"]) == list(range(runs))
    assert one.summary == two.summary


def test_run_i_is_reproducible_alone(waer, tmp_path):
    ensemble = run_ensemble(waer, 150, seed=9, out=tmp_path / "e")
    row = ensemble.runs.iloc[123]
    alone = simulate(waer.scenario, run_seed(9, 123), 123).run
    assert row["seed"] == alone["seed"] and row["outcome"] == alone["outcome"]
    assert row["outcome_day"] == alone["outcome_day"] and row["released"] == alone["released"]


def test_in_memory_equals_on_disk(waer, tmp_path):
    disk = run_ensemble(waer, 120, seed=2, out=tmp_path / "e")
    memory = run_ensemble(waer, 120, seed=2)
    pd.testing.assert_frame_equal(disk.runs, memory.runs)
    pd.testing.assert_frame_equal(disk.events, memory.events)


def test_interrupted_ensemble_resumes_to_the_same_result(waer, tmp_path):
    full = run_ensemble(waer, 3 * BATCH_SIZE, seed=4, out=tmp_path / "full")
    out = tmp_path / "interrupted"
    progress: list[int] = []

    class Interrupt(Exception):
        pass

    def stop_after_first_batch(n: int) -> None:
        progress.append(n)
        raise Interrupt

    with pytest.raises(Interrupt):
        run_ensemble(waer, 3 * BATCH_SIZE, seed=4, out=out, progress=stop_after_first_batch)
    kept = sorted(p.name for p in (out / "parts").glob("runs-*.parquet"))
    assert kept == [f"runs-{0:08d}-{BATCH_SIZE:08d}.parquet"]

    done: list[int] = []
    resumed = run_ensemble(waer, 3 * BATCH_SIZE, seed=4, out=out, progress=done.append)
    assert done[0] == BATCH_SIZE  # the finished batch is counted, not redone
    pd.testing.assert_frame_equal(resumed.runs, full.runs)
    pd.testing.assert_frame_equal(resumed.events, full.events)
    assert not (out / "parts").exists()


def test_finished_folder_is_not_recomputed(waer, tmp_path):
    run_ensemble(waer, 50, seed=1, out=tmp_path / "e")
    before = (tmp_path / "e" / "runs.parquet").stat().st_mtime_ns
    again = run_ensemble(waer, 50, seed=1, out=tmp_path / "e")
    assert (tmp_path / "e" / "runs.parquet").stat().st_mtime_ns == before
    assert len(again.runs) == 50


def test_folder_of_another_ensemble_is_refused_unless_overwritten(waer, tmp_path):
    run_ensemble(waer, 20, seed=1, out=tmp_path / "e")
    with pytest.raises(InputError, match="holds results of a different ensemble"):
        run_ensemble(waer, 20, seed=2, out=tmp_path / "e")
    (tmp_path / "e" / "notes.txt").write_text("mine")
    replaced = run_ensemble(waer, 20, seed=2, out=tmp_path / "e", overwrite=True)
    assert replaced.manifest["master_seed"] == 2
    assert (tmp_path / "e" / "notes.txt").read_text() == "mine"  # only simkit's own files are replaced


def test_result_files_and_their_structure(waer, tmp_path):
    out = tmp_path / "e"
    run_ensemble(waer, 60, seed=3, out=out, series=True)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["runs"] == 60
    assert set(summary["outcomes"]) == {
        "surrender_evacuation", "reconciliation", "military_takeover", "durable_ceasefire", "stalemate"
    }  # fmt: skip
    assert sum(o["share"] for o in summary["outcomes"].values()) == pytest.approx(1.0)
    for stats in summary["outcomes"].values():
        lo, hi = stats["ci95"]
        assert 0 <= lo <= stats["share"] <= hi <= 1
    assert {"p10", "p50", "p90"} == set(summary["attributes"]["released"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario_hash"] == waer.hash and manifest["master_seed"] == 3 and manifest["runs"] == 60
    assert manifest["packages"]["mesa"].startswith("3.5") and "command" in manifest
    loaded = load_ensemble(out)
    assert len(loaded.runs) == 60 and loaded.series is not None
    assert set(loaded.series["run"]) == set(range(60))
    assert loaded.events.groupby("run")["day"].apply(lambda d: d.is_monotonic_increasing).all()


def test_bad_arguments(waer, tmp_path):
    with pytest.raises(InputError, match="--runs must be at least 1"):
        run_ensemble(waer, 0, seed=1)
    with pytest.raises(InputError, match="--workers must be at least 1"):
        run_ensemble(waer, 10, seed=1, workers=0, out=tmp_path / "e")


def test_top_level_api_names_are_the_functions_even_after_submodule_imports():
    import simkit
    import simkit.ensemble  # imports the single-run module under the package, as workers do
    from simkit import load_scenario, run_ensemble, run_seed, simulate

    assert callable(simulate) and simulate.__name__ == "simulate"
    assert callable(run_seed) and callable(run_ensemble) and callable(load_scenario)
    assert simkit.simulate is simulate


@pytest.mark.parametrize("trials", [1, 7, 300, 10_000])
def test_outcome_share_intervals_are_wilson_intervals(trials):
    from scipy.stats import binomtest

    for successes in sorted({0, 1, trials // 3, trials - 1, trials}):
        ci = binomtest(successes, trials).proportion_ci(confidence_level=0.95, method="wilson")
        assert share_interval(successes, trials) == pytest.approx((ci.low, ci.high), rel=1e-12, abs=1e-15)


def test_an_outcome_share_interval_by_hand():
    # no successes in 10 runs: the upper end is z² / (n + z²) with z = 1.96 (Wilson 1927)
    assert share_interval(0, 10)[1] == pytest.approx(1.96**2 / (10 + 1.96**2), rel=1e-3)
    assert share_interval(0, 0) == (0.0, 1.0)
