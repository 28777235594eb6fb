"""The result store: nothing a user owns is deleted, overwritten or written through; one writer at a time.

Each data-loss case of issue 13 is reproduced here through the command a user types
(`simkit run`, `simkit sweep`) and shown fixed: the user's file survives, the folder
is refused with one line, nothing is written outside the folder.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from simkit.cli import app
from simkit.ensemble import BATCH_SIZE, run_ensemble
from simkit.store import inside
from simkit.yamlio import InputError
from tests.conftest import WAER

runner = CliRunner()
SHORT = ["--set", "horizon_days=420"]  # a shorter Waer: these tests are about files, not outcomes


def run(out: Path | str, *extra: str, runs: int = 6):
    return runner.invoke(
        app, ["run", str(WAER), "-n", str(runs), "-o", str(out), "-q", "--no-plots", *SHORT, *extra]
    )


def one_line_error(result, *phrases: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr


class Interrupt(Exception):
    pass


def interrupted_ensemble(loaded, out: Path, runs: int = 3 * BATCH_SIZE) -> None:
    """Leave an unfinished ensemble in `out`: the first batch saved as parts."""

    def stop(n: int) -> None:
        raise Interrupt

    with pytest.raises(Interrupt):
        run_ensemble(loaded, runs, seed=4, out=out, progress=stop)


@pytest.fixture(scope="module")
def short_waer():
    from simkit.scenario import load_scenario

    return load_scenario(WAER, {"horizon_days": 420})


def test_a_users_file_in_parts_survives_the_merge(short_waer, tmp_path):
    out = tmp_path / "e"
    interrupted_ensemble(short_waer, out)
    thesis = out / "parts" / "thesis.txt"
    thesis.write_text("four years of work")
    resumed = run_ensemble(short_waer, 3 * BATCH_SIZE, seed=4, out=out)
    assert len(resumed.runs) == 3 * BATCH_SIZE
    assert thesis.read_text() == "four years of work"
    assert sorted(p.name for p in (out / "parts").iterdir()) == ["thesis.txt"]  # simkit's parts are gone


def test_a_folder_that_is_not_simkits_is_refused_and_left_alone(tmp_path):
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "thesis.txt").write_text("mine")
    (tmp_path / "summary.json").write_text('{"mine": true}')
    for extra in ([], ["--overwrite"]):
        one_line_error(run(tmp_path, *extra), "is not empty and holds no simkit results")
    assert (tmp_path / "parts" / "thesis.txt").read_text() == "mine"
    assert (tmp_path / "summary.json").read_text() == '{"mine": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parts", "summary.json"]  # not even a lock file


def test_a_manifest_simkit_did_not_write_is_refused_even_with_overwrite(tmp_path):
    (tmp_path / "manifest.json").write_text('{"experiment": "my own"}')
    one_line_error(run(tmp_path, "--overwrite"), "holds a manifest.json that simkit did not write")
    assert json.loads((tmp_path / "manifest.json").read_text()) == {"experiment": "my own"}


def test_overwrite_removes_only_what_simkit_wrote(tmp_path):
    out = tmp_path / "e"
    assert run(out, "-s", "1").exit_code == 0
    (out / "notes.txt").write_text("mine")
    (out / "parts").mkdir()
    (out / "parts" / "thesis.txt").write_text("mine too")
    refused = run(out, "-s", "2")
    one_line_error(refused, "holds results of a different ensemble", "master_seed: 1 there, 2 here")
    replaced = run(out, "-s", "2", "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert json.loads((out / "manifest.json").read_text())["master_seed"] == 2
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "parts" / "thesis.txt").read_text() == "mine too"


def test_a_symlinked_summary_is_not_followed(tmp_path):
    out = tmp_path / "e"
    assert run(out).exit_code == 0
    target = tmp_path / "precious.json"
    target.write_text("precious")
    (out / "summary.json").unlink()
    (out / "summary.json").symlink_to(target)
    for extra in ([], ["-s", "2", "--overwrite"]):
        one_line_error(run(out, *extra), "summary.json is a symbolic link")
    assert target.read_text() == "precious"


def test_a_symlinked_parts_folder_receives_nothing(short_waer, tmp_path):
    out = tmp_path / "e"
    interrupted_ensemble(short_waer, out)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for part in (out / "parts").iterdir():
        part.unlink()
    (out / "parts").rmdir()
    (out / "parts").symlink_to(elsewhere)
    with pytest.raises(InputError, match="parts is a symbolic link"):
        run_ensemble(short_waer, 3 * BATCH_SIZE, seed=4, out=out)
    assert list(elsewhere.iterdir()) == []


def test_out_must_be_a_folder_simkit_can_write(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    one_line_error(run(""), "--out is empty")
    assert list(tmp_path.iterdir()) == []  # nothing written into the current folder
    (tmp_path / "a_file").write_text("x")
    one_line_error(run(tmp_path / "a_file"), "is a file, not a folder")
    one_line_error(run("/proc/x"), "/proc/x: cannot create this folder")


def test_a_sweep_name_cannot_leave_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    base = {
        "scenario": str(WAER),
        "parameters": {"mediators.russia.leverage": {"values": [0.1, 0.2]}},
        "replicates": 2,
        "overrides": {"horizon_days": 420},
    }
    for name in ("../../x", "/tmp/simkit-escape", ".."):
        spec = tmp_path / "spec.yaml"
        spec.write_text(yaml.safe_dump({**base, "name": name}))
        result = runner.invoke(app, ["sweep", str(spec), "-q", "--no-plots"])
        one_line_error(result, "must be a plain relative name")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml", "work"]
    assert not Path("/tmp/simkit-escape").exists()
    assert inside("results", "waer_grid") == Path("results/waer_grid")


HOLD = """
import sys
from simkit.store import hold
with hold(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_second_writer_gets_one_clear_line(tmp_path):
    out = tmp_path / "e"
    assert run(out).exit_code == 0
    before = pd.read_parquet(out / "runs.parquet")
    with subprocess.Popen(
        [sys.executable, "-c", HOLD, str(out)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as holder:
        assert holder.stdout.readline().strip() == "held"
        second = run(out, "-s", "2", "--overwrite")
        one_line_error(second, "is being written by another simkit process", f"pid {holder.pid}")
        holder.stdin.close()
    pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet"), before)  # untouched
    assert run(out, "-s", "2", "--overwrite").exit_code == 0  # the lock went with its holder


def test_the_manifest_lists_what_simkit_wrote(tmp_path):
    out = tmp_path / "e"
    result = runner.invoke(app, ["run", str(WAER), "-n", "4", "-o", str(out), "-q", *SHORT])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["written_by"] == "simkit" and manifest["kind"] == "ensemble"
    on_disk = sorted(p.name for p in out.iterdir())
    assert manifest["files"] == on_disk  # figures included, nothing else (the lock file went with the lock)


def test_finishing_a_folder_stamps_the_time_and_writes_the_manifest(tmp_path):
    import datetime as dt

    from simkit.store import ResultFolder

    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with ResultFolder(tmp_path / "f", {"kind": "test"}, ()) as folder:
        folder.start()
        assert "finished" not in json.loads((tmp_path / "f" / "manifest.json").read_text())
        folder.finish()
    manifest = json.loads((tmp_path / "f" / "manifest.json").read_text())
    finished = dt.datetime.fromisoformat(manifest["finished"])
    assert before <= finished <= dt.datetime.now(dt.UTC) and finished.tzinfo is not None


@pytest.mark.parametrize("name", ["", ".", "../x", "a/../../b", "/abs"])
def test_names_that_leave_their_base_are_refused(name):
    with pytest.raises(InputError, match="must be a plain relative name"):
        inside("results", name)


def test_figures_and_scenarios_are_written_atomically_never_through_a_link(tmp_path, waer):
    """A PNG or a dumped scenario replaces a link planted at its name; the link's target is untouched."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from simkit.scenario import load_scenario
    from simkit.scenario.loader import dump_scenario
    from simkit.store import write_figure

    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    for name in ("figure.png", "scenario.yaml"):
        (tmp_path / name).symlink_to(victim)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    write_figure(tmp_path / "figure.png", fig)
    dump_scenario(waer.scenario, tmp_path / "scenario.yaml")
    assert victim.read_text() == "keep me\n"
    png = tmp_path / "figure.png"
    assert not png.is_symlink() and png.read_bytes()[:4] == b"\x89PNG"
    assert load_scenario(tmp_path / "scenario.yaml").hash == waer.hash
    assert not plt.get_fignums()  # the figure was closed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figure.png", "scenario.yaml", "victim.txt"]
