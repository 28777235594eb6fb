"""Mutated inputs of every kind, through the real CLI: exit 0, or exit 2 with one `error:` line.

Never a traceback or a hang (tests/fuzzing.py says how inputs are mutated and how a case is judged).
"""

from __future__ import annotations

import pytest

from tests.fuzzing import KINDS, fuzz


def _failures(tmp_path, per_kind: int, seed: int) -> tuple[int, list[str]]:
    seen, failures = 0, []
    for case, outcome in fuzz(KINDS, per_kind, seed, tmp_path, timeout=120.0):
        seen += 1
        if outcome.verdict not in ("clean", "accepted"):
            failures.append(f"{case.kind} ({case.mutation}): {outcome.verdict}: {outcome.message}")
    return seen, failures


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # a fuzzed run may overflow numpy's exp; verdicts count
def test_mutated_inputs_end_in_a_result_or_one_clear_line(tmp_path):
    seen, failures = _failures(tmp_path, per_kind=20, seed=13)
    assert seen == 20 * len(KINDS)
    assert not failures, "\n".join(failures)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_many_mutated_inputs_end_in_a_result_or_one_clear_line(tmp_path):
    seen, failures = _failures(tmp_path, per_kind=200, seed=2026)
    assert seen == 200 * len(KINDS)
    assert not failures, "\n".join(failures)
