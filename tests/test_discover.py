"""Scenario discovery finds a planted box; `simkit discover` writes its files and refuses bad input."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from simkit.cli import app
from simkit.sweep import Sweep, discover, run_sweep
from simkit.sweep.reference import PLANTED_BOX, PLANTED_START, planted_box

WAER = Path(__file__).resolve().parents[1] / "scenarios" / "waer.yaml"
# Parameters that accept [0, 1] carry the planted model's x1..x4 through the scenario checks.
X = (
    "behaviour.weight_hardship",
    "behaviour.weight_loss",
    "behaviour.weight_detainee_tie",
    "regime.siege_tightness",
)
runner = CliRunner()


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """300 LHS points x 10 replicates of the planted model (a second, cheap model: no siege runs).

    Inside the box (x1 > 0.6, x2 < 0.4: 16% of the square) a point's runs settle with probability
    0.9, outside with 0.05; with 10 independent runs per point and a 50% threshold, practically every
    point inside is a case of interest and practically none outside.
    """
    sweep = Sweep(
        scenario=WAER,
        parameters={x: {"min": 0.0, "max": 1.0} for x in X},
        design={"type": "lhs", "points": 300},
        replicates=10,
        seeds="independent",
        batch_size=1000,
        seed=3,
    )
    return run_sweep(sweep, out=tmp_path_factory.mktemp("planted"), model=planted_box)


def restriction(found, parameter: str) -> pd.Series:
    rows = found.box()
    assert parameter in set(rows["parameter"]), f"{parameter} is not restricted:\n{rows}"
    return rows.set_index("parameter").loc[parameter]


def test_prim_recovers_a_planted_box(planted):
    found = discover(planted, "surrender_evacuation")
    stats = found.stats()
    # about 16% of the 300 points are inside the box, and they are the cases
    assert 0.10 < found.points["case"].mean() < 0.22
    assert stats["coverage"] >= 0.9 and stats["density"] >= 0.9, found.trajectory
    x1, x2 = restriction(found, X[0]), restriction(found, X[1])
    assert abs(x1["lower"] - PLANTED_BOX["x1"][0]) < 0.05 and x1["upper"] == x1["max"]
    assert abs(x2["upper"] - PLANTED_BOX["x2"][1]) < 0.05 and x2["lower"] == x2["min"]
    # both real restrictions are overwhelmingly significant; the open sides carry no test
    assert x1["qp_lower"] < 1e-6 and x2["qp_upper"] < 1e-6
    assert pd.isna(x1["qp_upper"]) and pd.isna(x2["qp_lower"])
    # inside the box, about 90% of runs settle; the whole space has about 0.16 * 0.9 + 0.84 * 0.05
    assert stats["mean_share"] > 0.8
    assert found.trajectory.loc[0, "coverage"] == 1 and found.trajectory.loc[0, "restricted"] == 0
    # dropping only restrictions that fail the test keeps this box as it is; dropping all gives the space
    kept, trimmed = found.trimmed()
    assert list(kept["parameter"]) == list(found.box()["parameter"])
    assert (trimmed["points"], trimmed["cases"]) == (stats["points"], stats["cases"])
    none, everything = found.trimmed(alpha=0.0)
    assert none.empty and everything["points"] == 300 and everything["coverage"] == 1.0
    assert everything["density"] == pytest.approx(found.points["case"].mean())
    # the two parameters that define the box matter most
    assert set(found.features["parameter"][:2]) == {X[0], X[1]}
    assert found.features["score"].sum() == pytest.approx(1.0)


def test_a_deadline_cuts_the_box_along_the_deal_date(planted):
    # deals are signed 100 + 400 x3 days after the start: before day 300 means x3 < 0.5
    found = discover(planted, "surrender_evacuation", by=PLANTED_START + dt.timedelta(days=300))
    assert abs(restriction(found, X[2])["upper"] - 0.5) < 0.06
    assert abs(restriction(found, X[0])["lower"] - PLANTED_BOX["x1"][0]) < 0.05
    assert found.stats()["density"] >= 0.9


def test_a_density_target_trades_coverage_for_density(planted):
    loose = discover(planted, "surrender_evacuation", density=0.3)
    tight = discover(planted, "surrender_evacuation", density=1.0)
    assert loose.stats()["density"] >= 0.3 and tight.stats()["density"] == 1.0
    assert loose.stats()["coverage"] >= tight.stats()["coverage"]


def test_the_command_writes_readable_files(planted, tmp_path):
    out = tmp_path / "found"
    result = runner.invoke(app, ["discover", str(planted.out), "--outcome", "surrender_evacuation",
                                 "--threshold", "0.5", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    *tables, wrote = result.stdout.rstrip("\n").split("\n")
    assert max(len(line) for line in tables) <= 80
    assert wrote.startswith(f"wrote {out}/")
    boxes = pd.read_parquet(out / "boxes.parquet")
    trajectory = pd.read_parquet(out / "trajectory.parquet")
    summary = json.loads((out / "boxes.json").read_text())
    chosen = summary["chosen"]["box"]
    assert trajectory.loc[trajectory["chosen"], "box"].tolist() == [chosen]
    assert boxes.loc[boxes["chosen"], "parameter"].tolist() == [
        r["parameter"] for r in summary["restrictions"]
    ]
    assert summary["chosen"]["coverage"] == pytest.approx(trajectory.loc[chosen, "coverage"])
    features = pd.read_parquet(out / "features.parquet")
    assert list(features.columns) == ["parameter", "score"] and set(features["parameter"]) == set(X)
    shares = pd.read_parquet(out / "shares.parquet")
    assert len(shares) == 300
    # the written limits describe exactly the box's points and cases
    inside = pd.Series(True, index=shares.index)
    for limit in summary["restrictions"]:
        inside &= shares[limit["parameter"]].between(limit["lower"], limit["upper"])
    assert (
        inside.sum() == summary["chosen"]["points"]
        and shares["case"][inside].sum() == summary["chosen"]["cases"]
    )
    assert summary["chosen"]["mean_share"] == pytest.approx(shares["share"][inside].mean())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "discover" and manifest["command"].startswith("simkit ")
    assert manifest["packages"]["ema_workbench"] != "not installed"
    assert (out / "discover.png").stat().st_size > 10_000
    # the default folder is inside the sweep's
    again = runner.invoke(
        app, ["discover", str(planted.out), "-c", "surrender_evacuation", "-q", "--no-plots"]
    )
    assert again.exit_code == 0 and again.stdout == ""
    assert (planted.out / "discover-surrender_evacuation" / "boxes.json").exists()


def test_another_discovery_in_the_folder_needs_overwrite(planted, tmp_path):
    out = tmp_path / "found"
    first = ["discover", str(planted.out), "-c", "surrender_evacuation", "-o", str(out), "-q", "--no-plots"]
    assert runner.invoke(app, first).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["written_by"] == "simkit" and manifest["finished"]
    assert manifest["files"] == sorted(p.name for p in out.iterdir())  # what it wrote, nothing else
    assert runner.invoke(app, first).exit_code == 0  # the same discovery again: replaced in place
    other = [*first, "--threshold", "0.8"]
    refused = runner.invoke(app, other)
    assert refused.exit_code == 2, refused.output
    assert refused.stderr.startswith("error: ") and refused.stderr.count("\n") == 1, refused.stderr
    assert "holds other results" in refused.stderr and "--overwrite" in refused.stderr
    assert json.loads((out / "manifest.json").read_text())["threshold"] == 0.5  # untouched
    assert runner.invoke(app, [*other, "--overwrite"]).exit_code == 0
    assert json.loads((out / "manifest.json").read_text())["threshold"] == 0.8
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("a user's file")
    foreign = runner.invoke(app, [*first[:-4], "-o", str(mine), "--overwrite"])
    assert foreign.exit_code == 2 and "holds no simkit results" in foreign.stderr, foreign.output
    assert (mine / "notes.txt").read_text() == "a user's file"


def test_the_output_folder_cannot_be_the_sweep_itself(planted, tmp_path):
    sweep = tmp_path / "sweep"
    shutil.copytree(planted.out, sweep, ignore=shutil.ignore_patterns("discover-*"))
    before = {p.relative_to(sweep): p.read_bytes() for p in sweep.rglob("*") if p.is_file()}
    for out in (str(sweep), f"{sweep}/."):  # however it is spelled
        args = ["discover", str(sweep), "-c", "surrender_evacuation", "-o", out, "--overwrite", "-q"]
        refused = runner.invoke(app, args)
        assert refused.exit_code == 2, refused.output
        assert refused.stderr.startswith("error: ") and refused.stderr.count("\n") == 1, refused.stderr
        assert "is the sweep FOLDER itself" in refused.stderr
    assert {p.relative_to(sweep): p.read_bytes() for p in sweep.rglob("*") if p.is_file()} == before


def without_deal_dates(planted, tmp_path) -> Path:
    """A copy of the sweep as a simkit that did not record deal dates would have written it."""
    old = tmp_path / "old"
    shutil.copytree(planted.out, old, ignore=shutil.ignore_patterns("discover-*"))
    runs = pq.read_table(old / "runs.parquet")
    pq.write_table(runs.drop(["deal_date"]), old / "runs.parquet")
    return old


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--outcome", "surender"], "unknown outcome class 'surender'; this sweep's classes are: "),
        (
            ["--outcome", "surrender_evacuation", "--threshold", "1.5"],
            "--threshold must be a share between 0",
        ),
        (
            ["--outcome", "surrender_evacuation", "--threshold", "-0.1"],
            "--threshold must be a share between 0",
        ),
        (["--outcome", "surrender_evacuation", "--by", "May 2017"], "--by: expected a date like"),
        (["--outcome", "stalemate", "--by", "2017-01-01"], "runs ending in stalemate have no deal date"),
        (
            ["--outcome", "surrender_evacuation", "--box", "999"],
            "--box 999: the peeling trajectory has boxes",
        ),
        (["--outcome", "military_takeover"], "no case of interest among the 300 points"),
        (["--outcome", "surrender_evacuation", "--outcome", "stalemate"], "every one of the 300 points"),
    ],
)
def test_bad_input_exits_2_with_one_line(planted, args, message):
    result = runner.invoke(app, ["discover", str(planted.out), *args])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr


def test_folders_without_results_exit_2_with_one_line(planted, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    unfinished = tmp_path / "unfinished"
    shutil.copytree(planted.out, unfinished, ignore=shutil.ignore_patterns("discover-*"))
    (unfinished / "summary.parquet").unlink()
    manifest = json.loads((unfinished / "manifest.json").read_text())
    del manifest["finished"]
    (unfinished / "manifest.json").write_text(json.dumps(manifest))
    cases = [
        (empty, "no manifest.json here; is it a sweep result folder?"),
        (unfinished, "the sweep is not finished"),
        (without_deal_dates(planted, tmp_path), "--by needs the runs' deal dates (deal_date)"),
    ]
    for folder, message in cases:
        result = runner.invoke(
            app, ["discover", str(folder), "-c", "surrender_evacuation", "--by", "2017-01-01"]
        )
        assert result.exit_code == 2, result.output
        assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert "rerun the sweep" in result.stderr
