"""Fuzz every kind of user input through the real CLI and print how each case ended, per kind.

    .venv/bin/python benchmarks/fuzz_inputs.py --per-kind 150 --seed 1
    # or in parallel, one process per kind, then one table:
    .venv/bin/python benchmarks/fuzz_inputs.py --kinds priors --log /tmp/priors.log   # ... per kind
    .venv/bin/python benchmarks/fuzz_inputs.py --tally /tmp/*.log

Verdicts: clean (exit 2, one `error:` line), accepted (exit 0), traceback (an
exception escaped), unclear (another exit code, or a message that is not one
line), hang (no answer within --timeout). The mutations are in tests/fuzzing.py;
the same engine runs, smaller, in tests/test_fuzz_inputs.py.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzzing import KINDS, VERDICTS, fuzz


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=150, help="cases per input kind")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a case counts as a hang")
    parser.add_argument("--kinds", nargs="*", default=list(KINDS), choices=KINDS)
    parser.add_argument("--show", type=int, default=5, help="failures to print per kind")
    parser.add_argument("--log", type=Path, help="also append one tab-separated line per case to this file")
    parser.add_argument("--tally", type=Path, nargs="*", help="only print the table of these logs")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # a fuzzed run may warn (e.g. numpy overflow); verdicts are what count

    rows: list[tuple[str, str, float, str]] = []
    start = time.perf_counter()
    if args.tally:
        for log in args.tally:
            for line in log.read_text(encoding="utf-8").splitlines():
                kind, verdict, seconds, detail = line.split("\t", 3)
                rows.append((kind, verdict, float(seconds), detail))
    else:
        with tempfile.TemporaryDirectory(prefix="simkit-fuzz-") as tmp:
            for case, outcome in fuzz(tuple(args.kinds), args.per_kind, args.seed, Path(tmp), args.timeout):
                detail = f"{case.mutation} -> {outcome.message}".replace("\t", " ").replace("\n", " ")
                rows.append((case.kind, outcome.verdict, outcome.seconds, detail))
                if args.log:
                    with args.log.open("a", encoding="utf-8") as log:
                        log.write(f"{case.kind}\t{outcome.verdict}\t{outcome.seconds:.2f}\t{detail}\n")
    print_table(rows, args.show)
    if not args.tally:
        seconds = time.perf_counter() - start
        print(f"\n{len(rows)} inputs in {seconds:.0f} s (seed {args.seed}, timeout {args.timeout:.0f} s)")


def print_table(rows: list[tuple[str, str, float, str]], show: int) -> None:
    kinds = [kind for kind in KINDS if any(row[0] == kind for row in rows)]
    counts = {kind: collections.Counter(row[1] for row in rows if row[0] == kind) for kind in kinds}
    print(f"{'kind':<12}" + "".join(f"{v:>11}" for v in VERDICTS) + f"{'inputs':>9}{'slowest s':>11}")
    for kind in kinds:
        slowest = max(row[2] for row in rows if row[0] == kind)
        cells = "".join(f"{counts[kind][v]:>11}" for v in VERDICTS)
        print(f"{kind:<12}{cells}{sum(counts[kind].values()):>9}{slowest:>11.1f}")
    total = collections.Counter(row[1] for row in rows)
    print(f"{'all':<12}" + "".join(f"{total[v]:>11}" for v in VERDICTS) + f"{len(rows):>9}")
    for kind in kinds:
        failed = [
            f"{row[1]}: {row[3]}" for row in rows if row[0] == kind and row[1] not in ("clean", "accepted")
        ]
        if failed:
            print(f"\n{kind}: {len(failed)} failures")
            for line in failed[:show]:
                print(f"  {line[:300]}")


if __name__ == "__main__":
    main()
