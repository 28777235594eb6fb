"""The command line as a user meets it: outputs, files, exit codes, one-line errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simkit.cli import app
from tests.conftest import CHILD_TIMEOUT, ROOT, WAER

runner = CliRunner()


def test_run_writes_results_and_prints_the_table(tmp_path):
    out = tmp_path / "waer"
    result = runner.invoke(
        app, ["run", str(WAER), "--runs", "40", "--seed", "2", "--out", str(out), "--series"]
    )
    assert result.exit_code == 0, result.output
    assert "surrender_evacuation" in result.output and "95% CI" in result.output
    for name in ("runs.parquet", "events.parquet", "summary.json", "manifest.json", "series.parquet",
                 "outcomes.png", "timeline.png", "series.png"):  # fmt: skip
        assert (out / name).stat().st_size > 0, name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"].startswith("simkit ") and manifest["master_seed"] == 2


def test_set_overrides_reach_the_scenario(tmp_path):
    out = tmp_path / "e"
    result = runner.invoke(app, ["run", str(WAER), "-n", "5", "-o", str(out), "--no-plots", "-q",
                                 "--set", "regime.siege_tightness=0.4"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert json.loads((out / "manifest.json").read_text())["overrides"] == {"regime.siege_tightness": 0.4}


def test_validate_reports_provenance_counts():
    result = runner.invoke(app, ["validate", str(WAER)])
    assert result.exit_code == 0
    assert "valid scenario 'Waer'" in result.output and "sourced" in result.output


def test_user_mistakes_exit_2_with_one_message(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(WAER.read_text().replace("siege_tightness: {value: 0.9", "siege_tightness: {value: high"))
    for args in (["validate", str(bad)], ["run", str(bad), "-n", "3", "-o", str(tmp_path / "x")],
                 ["run", str(WAER), "-n", "3", "--set", "regime.nope=1", "-o", str(tmp_path / "y")],
                 ["run", str(WAER), "-n", "3", "--set", "novalue", "-o", str(tmp_path / "z")]):  # fmt: skip
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
        assert result.output.startswith("error: ")


def test_installed_entry_point_prints_no_traceback(tmp_path):
    simkit = [str(Path(sys.executable).with_name("simkit"))]
    missing = tmp_path / "absent.yaml"
    command = [*simkit, "validate", str(missing)]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=CHILD_TIMEOUT)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "cannot read file" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_reads_like_a_manual():
    result = runner.invoke(app, ["run", "--help"])
    assert result.exit_code == 0
    for option in ("--runs", "--seed", "--workers", "--out", "--set", "--series"):
        assert option in result.output


@pytest.mark.parametrize(
    "command", [["run"], ["compare", "--against", str(ROOT / "calibration" / "waer_trajectory.yaml")]]
)
def test_a_folder_of_another_ensemble_needs_overwrite(tmp_path, command):
    out = str(tmp_path / "e")
    first = [command[0], str(WAER), *command[1:], "-n", "5", "-o", out, "-q", "--no-plots"]
    assert runner.invoke(app, first).exit_code == 0
    refused = runner.invoke(app, [*first, "-s", "9"])
    assert refused.exit_code == 2 and "add --overwrite" in refused.output
    replaced = runner.invoke(app, [*first, "-s", "9", "--overwrite"])
    assert replaced.exit_code == 0, replaced.output
    assert json.loads((tmp_path / "e" / "manifest.json").read_text())["master_seed"] == 9


def test_version_and_headers_name_the_overrides(tmp_path):
    from simkit import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"simkit {__version__}"
    out = tmp_path / "o"
    result = runner.invoke(app, ["run", str(WAER), "-n", "8", "-o", str(out), "--no-plots",
                                 "--set", "regime.lethality=0.5"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Waer with regime.lethality=0.5: 8 runs, seed 1")
    assert "partial_release" not in result.output
    assert "unresolved at the horizon" in result.output


def test_every_help_reads_at_80_columns():
    """Pipes, logs and CI are 80 columns wide: no option help, example or path is cut with '…'."""
    import typer.main

    commands = sorted(typer.main.get_command(app).commands)
    assert {"run", "compare", "calibrate", "sensitivity"} <= set(commands)
    for command in [[], *([name] for name in commands)]:
        result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "80"})
        assert result.exit_code == 0, command
        assert "…" not in result.output, command
        assert max(map(len, result.output.splitlines())) <= 80, command
    compare = runner.invoke(app, ["compare", "--help"], env={"COLUMNS": "80"}).output
    # the example path is whole once the panel's borders and padding are taken out
    assert "calibration/waer_trajectory.yaml" in "".join(
        line.split("│")[-2].strip() for line in compare.splitlines() if line.count("│") >= 2
    )


def test_the_horizon_shown_is_the_scenarios_last_day_not_the_last_deal(tmp_path):
    """With every run ended before it, the horizon printed and in summary.json is still the scenario's end."""
    import datetime as dt

    from simkit.scenario import load_scenario

    out = tmp_path / "w"
    # a short horizon that every run outlives would leave runs unresolved; a long one ends them all
    result = runner.invoke(app, ["run", str(WAER), "-n", "6", "-o", str(out), "--no-plots",
                                 "--set", "horizon_days=2000"])  # fmt: skip
    assert result.exit_code == 0, result.output
    end = load_scenario(WAER, {"horizon_days": 2000}).scenario.end
    assert end == load_scenario(WAER).scenario.start + dt.timedelta(days=1999)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["timing"]["unresolved"]["censored_at"] == end.isoformat()
    assert f"unresolved at the horizon ({end.isoformat()})" in result.output
    assert json.loads((out / "manifest.json").read_text())["end"] == end.isoformat()


@pytest.mark.parametrize(
    "options",
    [["--runs", "-5"], ["--runs", "0"], ["--workers", "0"], ["--seed", "-1"]],
)
def test_a_bad_option_leaves_no_folder_behind(tmp_path, options):
    out = tmp_path / "x"
    result = runner.invoke(app, ["run", str(WAER), *options, "-o", str(out), "-q"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert not out.exists()


def test_a_finished_folder_holds_only_what_its_manifest_lists(tmp_path):
    out = tmp_path / "w"
    result = runner.invoke(app, ["run", str(WAER), "-n", "3", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    files = json.loads((out / "manifest.json").read_text())["files"]
    assert sorted(p.name for p in out.iterdir()) == sorted(files)
