"""simkit diff: differences of shares with intervals, paired transitions that add up, clear headers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simkit.cli import app
from simkit.diff import diff, newcombe_interval
from simkit.ensemble import load_ensemble, run_ensemble
from simkit.model import OUTCOMES
from simkit.scenario import load_scenario
from tests.conftest import WAER

runner = CliRunner()


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("diff")
    run_ensemble(load_scenario(WAER), runs=30, seed=4, out=root / "base")
    run_ensemble(load_scenario(WAER, {"regime.siege_tightness": 0.6}), runs=30, seed=4, out=root / "loose")
    run_ensemble(load_scenario(WAER), runs=30, seed=9, out=root / "other_seed")
    return root


def test_newcombe_interval_matches_the_published_example():
    # Newcombe (1998), Stat Med 17:873, Table II: 56/70 vs 48/80, method 10: 0.0524 to 0.3339.
    low, high = newcombe_interval(48, 80, 56, 70)
    assert low == pytest.approx(0.0524, abs=5e-4) and high == pytest.approx(0.3339, abs=5e-4)


def test_paired_transitions_add_up_to_the_runs_and_to_each_side(folders):
    a, b = load_ensemble(folders / "base"), load_ensemble(folders / "loose")
    result = diff(a, b)
    assert result.paired_runs == 30 and "paired bootstrap" in result.method
    table = result.transitions
    assert table.to_numpy().sum() == 30
    assert table.sum(axis=1).to_dict() == {o: int((a.runs["outcome"] == o).sum()) for o in OUTCOMES}
    assert table.sum(axis=0).to_dict() == {o: int((b.runs["outcome"] == o).sum()) for o in OUTCOMES}
    for row in result.shares.itertuples():
        assert row.low <= row.difference <= row.high
    assert result.label_b == "Waer with regime.siege_tightness=0.6 (30 runs, seed 4)"


def test_an_ensemble_against_itself_moves_nothing(folders):
    a = load_ensemble(folders / "base")
    result = diff(a, a)
    assert (result.transitions.to_numpy().diagonal().sum()) == 30
    assert (result.shares["difference"] == 0).all() and (result.shares["low"] == 0).all()


def test_different_seeds_are_not_paired(folders):
    result = diff(load_ensemble(folders / "base"), load_ensemble(folders / "other_seed"))
    assert result.paired_runs == 0 and result.transitions is None and "Newcombe" in result.method


def test_diff_command(folders, tmp_path):
    out = tmp_path / "d"
    result = runner.invoke(app, ["diff", str(folders / "base"), str(folders / "loose"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "A: Waer (30 runs, seed 4)" in result.output
    assert "B: Waer with regime.siege_tightness=0.6" in result.output
    saved = json.loads((out / "diff.json").read_text())
    assert sum(sum(row.values()) for row in saved["transitions"].values()) == 30
    assert (out / "diff_endings.png").stat().st_size > 0
    result = runner.invoke(app, ["diff", str(folders / "base"), str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and result.output.startswith("error: ")


def test_differences_that_round_to_zero_never_read_minus_zero(folders, tmp_path):
    from simkit.cli.diff import signed_share

    assert [signed_share(v) for v in (-0.0004, -0.0, 0.0, 0.0004)] == ["0.0%"] * 4
    assert signed_share(-0.012) == "-1.2%" and signed_share(0.012) == "+1.2%"
    base = str(folders / "base")
    result = runner.invoke(app, ["diff", base, base, "-o", str(tmp_path / "d"), "--no-plots"])
    assert result.exit_code == 0, result.output
    assert "-0.0%" not in result.output and "+0.0%" not in result.output


def test_diff_writes_its_folder_through_the_result_store(folders, tmp_path):
    base, loose, other = (str(folders / name) for name in ("base", "loose", "other_seed"))
    out = tmp_path / "d"
    assert runner.invoke(app, ["diff", base, loose, "-o", str(out), "-q"]).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "diff" and manifest["written_by"] == "simkit"
    assert manifest["a"] == base and manifest["b"] == loose and manifest["a_results"]["master_seed"] == 4
    assert "finished" in manifest and "command" in manifest and "packages" in manifest
    assert sorted(manifest["files"]) == sorted(p.name for p in out.iterdir())  # no lock, nothing unlisted
    # the same results again rewrite it, however their folders are named; other results are refused
    # (one line) and leave it as it was
    assert runner.invoke(app, ["diff", base, loose, "-o", str(out), "-q"]).exit_code == 0
    renamed = os.path.relpath(folders / "base", Path.cwd())
    assert renamed != base
    assert runner.invoke(app, ["diff", renamed, loose, "-o", str(out), "-q"]).exit_code == 0
    before = (out / "diff.json").read_text()
    result = runner.invoke(app, ["diff", base, other, "-o", str(out), "-q"])
    assert result.exit_code == 2 and result.stderr.startswith("error: ") and "--overwrite" in result.stderr
    assert len(result.stderr.splitlines()) == 1 and (out / "diff.json").read_text() == before
    # --overwrite replaces it, and removes what the unpaired diff does not write
    assert runner.invoke(app, ["diff", base, other, "-o", str(out), "-q", "--overwrite"]).exit_code == 0
    assert json.loads((out / "manifest.json").read_text())["b"] == other
    assert not (out / "transitions.csv").exists()


def test_diff_refuses_to_write_into_a_compared_folder_or_a_folder_of_someone_elses(folders, tmp_path):
    base, loose = str(folders / "base"), str(folders / "loose")
    kept = sorted(p.name for p in (folders / "base").iterdir())
    for args in (["-o", base], ["-o", base, "--overwrite"]):
        result = runner.invoke(app, ["diff", base, loose, *args, "-q"])
        assert result.exit_code == 2 and "is folder A itself" in result.stderr, result.output
    assert sorted(p.name for p in (folders / "base").iterdir()) == kept
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["diff", base, loose, "-o", str(mine), "-q"])
    assert result.exit_code == 2 and "holds no simkit results" in result.stderr
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
