"""Same runs before and after a change meant to keep results: runs, events and series tables, exactly.

Runs `simkit run scenarios/<name>.yaml --runs 30 --seed 7 --workers 1 --series` for all six
scenarios with this checkout's code and scenarios, and with the code and scenarios of another git
ref (extracted with `git archive` into a temporary folder, its code put first on PYTHONPATH, with
this checkout's virtual environment; each side runs its own scenario files, so a change that adds a
required scenario key can still be compared), then compares `runs.parquet`, `events.parquet` and
`series.parquet` of each pair with `pandas.testing.assert_frame_equal` (exact: no tolerance). Same
(scenario, master seed, run index), same run. Prints a line per scenario and exits non-zero on a
difference. After merging a speed-only branch into a model-changing one, compare the merge against
the model-changing branch.

Usage:
    .venv/bin/python benchmarks/results_equivalence.py --against main [--runs 30] [--seed 7]
    .venv/bin/python benchmarks/results_equivalence.py --compare DIR_A DIR_B   # two earlier outputs
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pandas as pd
from pandas.testing import assert_frame_equal

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("waer", "north_homs", "old_homs", "daraya", "moadamiya", "east_aleppo")
TABLES = ("runs", "events", "series")


def run_all(out: Path, runs: int, seed: int, tree: Path = ROOT) -> None:
    """`simkit run` every scenario into `out/<name>` with the code and scenarios of `tree` (this checkout)."""
    env = dict(os.environ)
    # under -P nothing puts this checkout on the path: name it, or the venv's installed simkit would run
    env["PYTHONPATH"] = str(tree) + os.pathsep + env.get("PYTHONPATH", "")
    for name in SCENARIOS:
        scenario = tree / "scenarios" / f"{name}.yaml"
        # -P: the working directory (this checkout) is not put first on the path, so PYTHONPATH's code runs
        command = [sys.executable, "-P", "-c", "from simkit.cli import app; app()", "run", str(scenario),
                   "--runs", str(runs), "--seed", str(seed), "--workers", "1", "--series",
                   "--out", str(out / name), "--no-plots", "--quiet"]  # fmt: skip
        subprocess.run(command, cwd=ROOT, env=env, check=True)


def extract(ref: str, into: Path) -> Path:
    """The `simkit` package and `scenarios/` of git `ref`, extracted under `into`; returns `into`."""
    command = ["git", "archive", ref, "simkit", "scenarios"]
    archive = subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


def compare(a: Path, b: Path) -> int:
    """Compare every scenario's tables in folders `a` and `b`; returns the number of tables that differ."""
    differ = 0
    for name in SCENARIOS:
        verdicts = []
        for table in TABLES:
            try:
                file = f"{table}.parquet"
                left, right = pd.read_parquet(a / name / file), pd.read_parquet(b / name / file)
                assert_frame_equal(left, right, check_exact=True)  # floats too: no tolerance
                verdicts.append(f"{table} equal")
            except AssertionError as error:
                differ += 1
                verdicts.append(f"{table} DIFFER ({str(error).splitlines()[0]})")
        print(f"  {name:<12} " + ", ".join(verdicts))
    return differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REF", help="git ref whose code to compare this checkout with")
    parser.add_argument("--compare", nargs=2, metavar="DIR", type=Path, help="compare two earlier outputs")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.compare:
        sys.exit(1 if compare(*args.compare) else 0)
    if not args.against:
        parser.error("give --against REF or --compare DIR_A DIR_B")
    with tempfile.TemporaryDirectory(prefix="simkit-equiv-") as tmp:
        base = Path(tmp)
        tree = extract(args.against, base / "tree")
        run_all(base / "ref", args.runs, args.seed, tree)
        run_all(base / "here", args.runs, args.seed)
        print(f"{args.against} against this checkout, {args.runs} runs per scenario, seed {args.seed}:")
        sys.exit(1 if compare(base / "ref", base / "here") else 0)


if __name__ == "__main__":
    main()
