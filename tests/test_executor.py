"""The local pool reports a dead worker as `WorkerLost`, whenever the death falls between its steps."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from simkit.executor import LOST, PoolExecutor, WorkerLost

DEADLINE = 60.0
"""Seconds any step below waits for another process before giving up (a failure, never a pass)."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _until(condition, what: str) -> None:
    end = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.01)


def stall_or_die(folder: Path, item: str) -> str:
    """`ok` returns at once; `stall` notes its pid and waits to be stopped; `die` kills its worker.

    `die` waits until the test says `go` (it holds the first result) and a `stall` is running, so the
    death lands while the parent holds a finished result and before it hands the pool more work.
    """
    if item == "stall":
        (folder / "stall.pid").write_text(str(os.getpid()))
        _until(lambda: False, "the pool to stop this worker")
    if item == "die":
        _until(lambda: (folder / "go").exists() and (folder / "stall.pid").exists(), "go and a stall")
        os.kill(os.getpid(), signal.SIGKILL)
    return item


def test_a_worker_dying_while_the_parent_holds_a_result_ends_in_worker_lost(tmp_path):
    # Two workers, four items in flight: ok, die, stall, ok; two more wait to be submitted. The pool is
    # marked broken before its futures are failed, so the parent's next submission meets the broken pool
    # first (concurrent.futures raises BrokenProcessPool there): that must read as WorkerLost too.
    items = ["ok", "die", "stall", "ok", "ok", "ok"]
    results = PoolExecutor(2).map(stall_or_die, items, tmp_path)
    first = next(results)
    assert first == ("ok", "ok")
    (tmp_path / "go").touch()
    _until(lambda: (tmp_path / "stall.pid").exists(), "the stall to start")
    stalled = int((tmp_path / "stall.pid").read_text())
    # the pool stops its other workers only after it has marked itself broken
    _until(lambda: not _alive(stalled), "the pool to notice the dead worker and stop the others")
    with pytest.raises(WorkerLost) as lost:
        next(results)
    assert str(lost.value).startswith(f"{LOST} (")  # one wording, whichever step of the pool saw it
