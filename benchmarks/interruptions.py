"""The interruption matrix: Ctrl-C, SIGKILL of the parent or of a worker x run, sweep, forecast, calibrate.

For each command (2 local workers) and each interruption, the script starts the
command in a fresh folder, waits until it has saved some work (a part file; for
calibrate, a finished generation), interrupts it, then reports:

* exit: the interrupted command's exit code (-9: it was killed);
* message: its stderr in one line (a traceback counts as "TRACEBACK");
* saved: runs kept in the folder (generations for calibrate) of the total;
* redone: runs (generations) the resume had to compute again, i.e. what was lost;
* identical: whether the resumed folder's tables equal an uninterrupted run's
  (calibrate: not comparable, see docs; two pyabc workers are not reproducible anyway);
* orphans: processes of the interrupted command still running 10 s after it ended.

Usage:
    .venv/bin/python benchmarks/interruptions.py [--keep DIR]

Takes about ten minutes on a quiet two-core machine; each command is sized to run 5-15 s there.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import psutil
import pyarrow.parquet as pq
import yaml

ROOT = Path(__file__).resolve().parents[1]
SIMKIT = str(Path(sys.executable).with_name("simkit"))
WAER = ROOT / "scenarios" / "waer.yaml"
SHORT = ["--set", "horizon_days=420"]
WAIT_AFTER_EXIT = 10.0


def commands(work: Path) -> dict[str, list[str]]:
    """Each command with 2 workers, `{out}` standing for its folder."""
    spec = work / "sweep.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "name": "interruptions",
                "scenario": str(WAER),
                "overrides": {"horizon_days": 420},
                "parameters": {"mediators.russia.leverage": {"min": 0.0, "max": 0.6, "levels": 10}},
                "replicates": 120,
                "batch_size": 100,
                "seed": 2,
            }
        )
    )
    common = ["--workers", "2", "-o", "{out}", "-q"]
    return {
        "run": ["run", str(WAER), "-n", "1200", *SHORT, "--no-plots", *common],
        "sweep": ["sweep", str(spec), "--no-plots", *common],
        "forecast": [
            "forecast",
            str(WAER),
            "--posterior",
            str(ROOT / "calibration/waer/posterior.parquet"),
            "-n",
            "1200",
            *SHORT,
            "--no-plots",
            *common,
        ],
        "calibrate": [
            "calibrate",
            str(WAER),
            "--against",
            str(ROOT / "calibration/waer_trajectory.yaml"),
            "--priors",
            str(ROOT / "calibration/waer_priors.yaml"),
            "--budget",
            "1500",
            "--population",
            "40",
            "--max-generations",
            "5",
            "--point",
            "median",
            *common,
        ],
    }


def fill(args: list[str], out: Path) -> list[str]:
    return [SIMKIT, *(str(out) if a == "{out}" else a for a in args)]


def saved(kind: str, out: Path) -> int:
    """Runs (generations for calibrate) kept in a folder."""
    if kind == "calibrate":
        path = out / "generations.csv"
        return len(pd.read_csv(path)) if path.exists() else 0
    parts = sorted((out / "parts").glob("runs-*.parquet")) if (out / "parts").is_dir() else []
    if parts:
        return sum(pq.read_metadata(p).num_rows for p in parts)
    return pq.read_metadata(out / "runs.parquet").num_rows if (out / "runs.parquet").exists() else 0


def total(kind: str, out: Path) -> int:
    if kind == "calibrate":
        return len(pd.read_csv(out / "generations.csv"))
    return pq.read_metadata(out / "runs.parquet").num_rows


def tables(kind: str, out: Path) -> dict[str, pd.DataFrame]:
    names = {"run": ["runs", "events"], "forecast": ["runs", "events"], "sweep": ["runs", "summary"]}[kind]
    return {name: pd.read_parquet(out / f"{name}.parquet") for name in names}


def identical(kind: str, out: Path, reference: Path) -> str:
    if kind == "calibrate":
        return "n/a"
    mine, theirs = tables(kind, out), tables(kind, reference)
    try:
        for name in mine:
            pd.testing.assert_frame_equal(mine[name], theirs[name])
    except AssertionError:
        return "NO"
    return "yes"


def started(kind: str, out: Path) -> bool:
    if kind == "calibrate":
        return (out / "generations.csv").exists()
    return (out / "parts").is_dir() and any((out / "parts").glob("runs-*.parquet"))


def workers_of(process: psutil.Process) -> list[psutil.Process]:
    """Worker processes: those a fork server forked, or copies of the command forked by pyabc's sampler.

    The fork server itself and multiprocessing's resource tracker (children too) are not workers.
    """
    found = []
    try:
        command = process.cmdline()
        for child in process.children():
            line = " ".join(child.cmdline())
            if "multiprocessing.forkserver import main" in line:
                found += child.children()
            elif child.cmdline() == command:
                found.append(child)
    except psutil.Error:
        pass
    return found


def alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    left = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                left.append(process)
        except psutil.Error:
            pass
    return left


def one_line(stderr: str) -> str:
    if "Traceback" in stderr:
        return "TRACEBACK"
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    text = lines[-1] if lines else "(nothing)"
    if len(lines) > 1:
        text = f"[{len(lines)} lines] {text}"
    return text if len(text) <= 90 else text[:87] + "..."


def _default_sigint() -> None:
    """Ctrl-C as in a terminal, even when this script runs in the background (where SIGINT is ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt(kind: str, args: list[str], how: str, out: Path) -> dict:
    process = subprocess.Popen(
        fill(args, out),
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own process group: Ctrl-C reaches all of it, as in a terminal
        preexec_fn=_default_sigint,
    )
    deadline = time.monotonic() + 300
    while not started(kind, out):
        if process.poll() is not None or time.monotonic() > deadline:
            return {"exit": process.wait(), "message": "finished before it could be interrupted"}
        time.sleep(0.05)
    parent = psutil.Process(process.pid)
    family = parent.children(recursive=True)
    if how == "SIGINT":
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    elif how == "SIGKILL parent":
        process.kill()
    else:
        victims = workers_of(parent)
        while not victims and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)  # calibrate's pyabc workers exist only while a generation is sampled
            victims = workers_of(parent)
        if not victims:
            process.kill()
            return {"exit": process.wait(), "message": "no worker found"}
        victims[0].kill()
    try:
        _, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
        stderr = "HANG (killed after 120 s) " + stderr
    kept = saved(kind, out)
    ended = time.monotonic()
    while alive(family) and time.monotonic() - ended < WAIT_AFTER_EXIT:
        time.sleep(0.2)
    orphans = alive(family)
    for orphan in orphans:
        orphan.kill()
    return {"exit": process.returncode, "message": one_line(stderr), "saved": kept, "orphans": len(orphans)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keep", type=Path, help="Work in this folder and keep it (default: a temporary one)."
    )
    parser.add_argument("--only", nargs="*", help="Commands to measure (default: all four).")
    options = parser.parse_args()
    work = options.keep or Path(tempfile.mkdtemp(prefix="simkit-interruptions-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for kind, args in commands(work).items():
        if options.only and kind not in options.only:
            continue
        reference = work / f"{kind}-reference"
        shutil.rmtree(reference, ignore_errors=True)  # results depend on the code: never reuse a reference
        began = time.perf_counter()
        subprocess.run(fill(args, reference), check=True, stdout=subprocess.DEVNULL)
        print(f"{kind}: uninterrupted in {time.perf_counter() - began:.0f} s", file=sys.stderr)
        for how in ("SIGINT", "SIGKILL parent", "SIGKILL worker"):
            out = work / f"{kind}-{how.replace(' ', '-')}"
            shutil.rmtree(out, ignore_errors=True)
            row = {"command": kind, "interruption": how, **interrupt(kind, args, how, out)}
            if "saved" in row:
                resumed = subprocess.run(fill(args, out), capture_output=True, text=True)
                whole = total(kind, reference)
                row["saved"] = f"{row['saved']:,} of {whole:,}"
                row["redone"] = whole - int(row["saved"].split()[0].replace(",", ""))
                row["resume exit"] = resumed.returncode
                row["identical"] = identical(kind, out, reference) if resumed.returncode == 0 else "NO"
            rows.append(row)
            print(f"  {how}: {row}", file=sys.stderr)
    columns = [
        "command",
        "interruption",
        "exit",
        "saved",
        "redone",
        "resume exit",
        "identical",
        "orphans",
        "message",
    ]
    table = pd.DataFrame(rows).reindex(columns=columns)
    for column in ("exit", "redone", "resume exit", "orphans"):
        table[column] = table[column].astype("Int64")
    with pd.option_context("display.width", 250, "display.max_colwidth", 90):
        print(table.to_string(index=False))
    if options.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
