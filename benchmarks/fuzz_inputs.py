"""Fuzz every kind of user input through the real CLI and print how each case ended, per kind.

    .venv/bin/python benchmarks/fuzz_inputs.py --per-kind 150 --seed 1

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
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # a fuzzed run may warn (e.g. numpy overflow); verdicts are what count

    counts: dict[str, collections.Counter] = {kind: collections.Counter() for kind in args.kinds}
    slowest: dict[str, float] = collections.defaultdict(float)
    failures: dict[str, list[str]] = collections.defaultdict(list)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="simkit-fuzz-") as tmp:
        for case, outcome in fuzz(tuple(args.kinds), args.per_kind, args.seed, Path(tmp), args.timeout):
            counts[case.kind][outcome.verdict] += 1
            slowest[case.kind] = max(slowest[case.kind], outcome.seconds)
            if outcome.verdict not in ("clean", "accepted"):
                failures[case.kind].append(f"{outcome.verdict}: {case.mutation} -> {outcome.message}")
    total = time.perf_counter() - start

    print(f"{'kind':<12}" + "".join(f"{v:>11}" for v in VERDICTS) + f"{'inputs':>9}{'slowest s':>11}")
    grand: collections.Counter = collections.Counter()
    for kind in args.kinds:
        grand.update(counts[kind])
        row = "".join(f"{counts[kind][v]:>11}" for v in VERDICTS)
        print(f"{kind:<12}{row}{sum(counts[kind].values()):>9}{slowest[kind]:>11.1f}")
    print(f"{'all':<12}" + "".join(f"{grand[v]:>11}" for v in VERDICTS) + f"{sum(grand.values()):>9}")
    print(f"\n{sum(grand.values())} inputs in {total:.0f} s (seed {args.seed}, timeout {args.timeout:.0f} s)")
    for kind, lines in failures.items():
        print(f"\n{kind}: {len(lines)} failures")
        for line in lines[: args.show]:
            print(f"  {line}")


if __name__ == "__main__":
    main()
