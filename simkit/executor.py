"""The one executor: run tasks in this process, in a local process pool, or on a Dask cluster.

Ensembles, forecasts, the calibration's point choice and sweeps all hand their
work here the same way: a module-level function `function(shared, item)`, the
items, and one `shared` object (the scenario, a plan) that is sent once to each
worker rather than with every item. `Executor.map` yields `(item, result)` as
items finish, in any order; the caller writes each result (the parent writes
every file, so results never travel through a shared file system and a crash
loses only the tasks in flight). A bounded window of items is in flight, so
memory does not grow with the number of tasks.

Failures end in one exception a command can print as one line:

* `WorkerLost`: a worker process died (killed, out of memory; a pool's
  `BrokenProcessPool`, Dask's `KilledWorker` after its retries);
* `TaskFailed`: a task raised (a bug, or a scenario the model cannot run); the
  message names the exception and the item;
* an `InputError` raised by a task is passed through as it is.

Local workers are forked from a fork server (never from the parent, which may
run threads), which imports the model once (`PRELOAD`), ignores Ctrl-C (the
parent reports an interruption) and **dies with its parent**, as do the
workers: see `simkit._forkserver_quiet.die_with_parent`.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from functools import partial
from multiprocessing.context import BaseContext
from typing import TYPE_CHECKING, Any, Protocol

from simkit._forkserver_quiet import die_with_parent
from simkit.yamlio import InputError

if TYPE_CHECKING:
    from distributed import Client

START_METHOD = "forkserver"
PRELOAD = (
    "simkit._forkserver_quiet",  # first: deaf to Ctrl-C and bound to the parent before the heavy imports
    "simkit.executor",
    "simkit.ensemble",
    "simkit.calibration.forecast",
    "simkit.sweep.task",
)
"""Imported once in the fork server, so each worker starts warm (the imports take seconds)."""
TASKS_PER_SLOT = 2
"""Items in flight per worker slot: enough to keep workers busy, few enough to lose little."""

WAIT_SLICE = 0.2
"""Seconds of one wait for results; Ctrl-C is held back during it and raised after (at most this late)."""

LOST = "a worker process died"
"""What `WorkerLost` says when a worker of the local pool died, wherever the pool reports it."""


class ExecutionError(RuntimeError):
    """Work could not be finished; what finished before is kept by the caller."""


class WorkerLost(ExecutionError):
    """A worker process died (killed, out of memory); finished tasks are kept and a rerun resumes."""


class TaskFailed(ExecutionError):
    """A task raised an exception in a worker (its message is one line: exception type, message, item)."""


def _failed(err: BaseException, item: Any) -> TaskFailed:
    first = str(err).strip().splitlines()[0] if str(err).strip() else ""
    label = getattr(item, "name", None) or repr(item)
    if len(label) > 80:
        label = label[:77] + "..."
    return TaskFailed(f"a run failed ({type(err).__name__}{': ' + first if first else ''}; task {label})")


def _collect[R](
    result: Callable[[], R], item: Any, lost: type[BaseException] | None = None, lost_as: str = ""
) -> R:
    """The result of one task, or the one exception a command prints for its failure.

    Args:
        result: Gives the task's result or raises its exception (a finished future's `result`).
        item: The task's item, named in a `TaskFailed`.
        lost: The exception by which this executor says a worker died, if it has one.
        lost_as: What `WorkerLost` says before the exception's own text (in brackets).

    Raises:
        WorkerLost: `result` raised `lost`.
        InputError: passed through as it is.
        TaskFailed: `result` raised anything else.
    """
    try:
        return result()
    except InputError:
        raise
    except Exception as err:
        if lost is not None and isinstance(err, lost):
            raise WorkerLost(f"{lost_as} ({err})") from None
        raise _failed(err, item) from err


class Executor(Protocol):
    """Runs `function(shared, item)` for each item somewhere; yields (item, result) as they finish."""

    description: str
    slots: int

    def map[S, T, R](
        self, function: Callable[[S, T], R], items: Iterable[T], shared: S
    ) -> Iterator[tuple[T, R]]:
        """Yield each item with its result as it finishes (any order).

        Raises:
            WorkerLost: a worker died.
            TaskFailed: a task raised.
        """
        ...

    def close(self) -> None:
        """Release processes or connections this executor opened."""
        ...


class SerialExecutor:
    """Runs items one after the other in this process: no start-up cost, the reference for the others."""

    description = "this process"
    slots = 1

    def map[S, T, R](
        self, function: Callable[[S, T], R], items: Iterable[T], shared: S
    ) -> Iterator[tuple[T, R]]:
        """Run each item in turn."""
        for item in items:
            yield item, _collect(partial(function, shared, item), item)

    def close(self) -> None:
        """Nothing to release."""


# ---------------------------------------------------------------- local process pool
QUIET_TRACKER = "ignore::UserWarning:multiprocessing.resource_tracker"
"""Passed (as -W) to multiprocessing's resource tracker: after a kill -9 of simkit it would warn of
"leaked semaphore objects" it then cleans up itself, two lines of noise on the user's terminal."""


def context() -> BaseContext:
    """The multiprocessing context of every simkit pool: fork server, quiet on Ctrl-C, the model preloaded."""
    if QUIET_TRACKER not in sys.warnoptions:
        sys.warnoptions.append(QUIET_TRACKER)  # read when the tracker process is started, by its flags
    ctx = multiprocessing.get_context(START_METHOD)
    ctx.set_forkserver_preload(list(PRELOAD))
    return ctx


@contextmanager
def _interrupt_deferred() -> Iterator[None]:
    """Hold back Ctrl-C (SIGINT) for the duration of the block, then raise it as KeyboardInterrupt.

    Only the main thread can set signal handlers; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


_shared: Any = None
"""What the pool's initializer received: the one worker-side cache of every simkit pool."""


def _init_worker(shared: Any) -> None:
    global _shared
    _shared = shared
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what to keep on Ctrl-C


def _call[T, R](function: Callable[[Any, T], R], item: T) -> R:
    return function(_shared, item)


class PoolExecutor:
    """A local pool of `workers` processes; a pool is started for each `map` and stopped after it."""

    def __init__(self, workers: int):
        self.slots = workers
        self.description = f"local process pool, {workers} workers"

    def map[S, T, R](
        self, function: Callable[[S, T], R], items: Iterable[T], shared: S
    ) -> Iterator[tuple[T, R]]:
        """Keep a bounded window of items in the pool and yield results as they finish."""
        pending: dict[Future, T] = {}
        todo = iter(items)
        pool: ProcessPoolExecutor | None = None

        def submit_more() -> None:
            for item in todo:
                # a worker that died after the results just yielded were collected: the pool refuses new
                # work before the futures in flight report it (concurrent.futures marks it broken first)
                future = _collect(partial(pool.submit, _call, function, item), item, BrokenProcessPool, LOST)
                pending[future] = item
                if len(pending) >= TASKS_PER_SLOT * self.slots:
                    return

        try:
            # the first submissions start the workers; a Ctrl-C that cut a start short would leave a
            # half-started worker printing tracebacks, so it waits until they are started
            with _interrupt_deferred():
                pool = ProcessPoolExecutor(
                    self.slots, mp_context=context(), initializer=_init_worker, initargs=(shared,)
                )
                submit_more()
            while pending:
                # `wait` holds the futures' locks while it looks at them: a Ctrl-C raised in there leaves
                # one held, and the pool's shutdown then waits on it for ever (its manager thread cancels
                # every future). So Ctrl-C is held back during each short wait and raised between them.
                with _interrupt_deferred():
                    done, _ = wait(pending, timeout=WAIT_SLICE, return_when=FIRST_COMPLETED)
                if not done:
                    continue
                for future in done:
                    item = pending.pop(future)
                    yield item, _collect(future.result, item, BrokenProcessPool, LOST)
                with _interrupt_deferred():  # submitting takes the pool's locks too
                    submit_more()
        finally:
            for future in pending:
                future.cancel()
            if pool is not None:
                # running tasks finish (at most one per worker); queued ones are cancelled
                pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        """Nothing stays open between maps."""


# ---------------------------------------------------------------- Dask
class DaskExecutor:
    """Items on a Dask distributed cluster, through a scheduler address or an existing `Client`.

    The shared object is scattered to every worker once. Dask reruns the items
    of a worker that dies on the other workers (up to the scheduler's
    `allowed-failures`), so one lost worker does not lose the work; an exception
    inside an item is retried `retries` times before it is raised here.
    """

    def __init__(self, scheduler: str | Client, retries: int = 1):
        from distributed import Client

        self._own = not isinstance(scheduler, Client)
        if self._own:
            try:
                # how long to keep trying: dask's `distributed.comm.timeouts.connect` (30 s unless configured)
                self.client = Client(scheduler, set_as_default=False)
            except (OSError, TimeoutError, ValueError) as err:
                raise InputError(f"cannot reach the Dask scheduler at {scheduler!r} ({err})") from None
        else:
            self.client = scheduler
        self.retries = retries
        self.slots = max(1, sum(self.client.nthreads().values()))
        self.description = f"Dask cluster at {self.client.scheduler.address}, {self.slots} worker threads"

    def map[S, T, R](
        self, function: Callable[[S, T], R], items: Iterable[T], shared: S
    ) -> Iterator[tuple[T, R]]:
        """Keep a bounded window of items on the cluster and yield results as they finish."""
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        # in a list, so a tuple or dict travels as one object, not element by element
        scattered = self.client.scatter([shared], broadcast=True, hash=False)[0]
        pending: dict[Any, T] = {}
        todo = iter(items)
        window = TASKS_PER_SLOT * max(self.slots, sum(self.client.nthreads().values()))
        finished = as_completed(loop=self.client.loop)  # this client's loop: it need not be the default

        def submit_more() -> None:
            for item in todo:
                future = self.client.submit(function, scattered, item, retries=self.retries, pure=False)
                pending[future] = item
                finished.add(future)
                if len(pending) >= window:
                    return

        try:
            submit_more()
            for future in finished:
                item = pending.pop(future)
                result = _collect(future.result, item, KilledWorker, "Dask workers kept dying on a task")
                future.release()
                yield item, result
                submit_more()
        finally:
            if pending:
                self.client.cancel(list(pending))
            scattered.release()

    def close(self) -> None:
        """Close the client if this executor opened it (a client passed in stays open)."""
        if self._own:
            self.client.close()


def open_executor(workers: int = 1, scheduler: str | Client | None = None) -> Executor:
    """The executor for `--workers` / `--scheduler`: Dask when a scheduler is given, else local.

    Raises:
        InputError: fewer than one worker, or an unreachable scheduler.
    """
    if scheduler is not None and scheduler != "":
        return DaskExecutor(scheduler)
    if workers < 1:
        raise InputError(f"--workers must be at least 1, found {workers}")
    return SerialExecutor() if workers == 1 else PoolExecutor(workers)


@contextmanager
def executor(workers: int = 1, scheduler: str | Client | None = None) -> Iterator[Executor]:
    """`open_executor` as a context manager: closed however the block ends."""
    opened = open_executor(workers, scheduler)
    try:
        yield opened
    finally:
        opened.close()
