"""Executors: run a sweep's tasks in this process, in a local process pool, or on a Dask cluster.

Every executor does the same thing: take tasks, run `run_task` on them
somewhere, and hand back (task, result) pairs as tasks finish, in whatever order
they finish. The parent writes each result to disk as it arrives, so results
never travel through a shared file system (Dask workers may be on other
machines) and a crash loses at most the tasks in flight. Only a bounded window
of tasks is in flight at once, so memory does not grow with the size of the
sweep.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from simkit.scenario import Scenario
from simkit.sweep.task import Model, Task, TaskResult, run_task
from simkit.workers import context
from simkit.yamlio import InputError

if TYPE_CHECKING:
    from distributed import Client

PRELOAD = ["simkit.sweep.task"]  # imported once in the fork server (simkit/workers.py), so workers start warm
TASKS_PER_SLOT = 2  # tasks in flight per worker slot: enough to keep workers busy, few enough to lose little


class WorkerLost(RuntimeError):
    """A worker process died (killed, out of memory); finished tasks are kept and a rerun resumes."""


class Executor(Protocol):
    """Runs tasks somewhere and yields (task, result) as they finish."""

    description: str
    slots: int

    def run(self, base: Scenario, model: Model, tasks: Iterable[Task]) -> Iterator[tuple[Task, TaskResult]]:
        """Yield each task with its result as it finishes (any order)."""
        ...

    def close(self) -> None:
        """Release processes or connections this executor opened."""
        ...


class SerialExecutor:
    """Runs tasks one after the other in this process: no start-up cost, the reference for the others."""

    description = "this process"
    slots = 1

    def run(self, base: Scenario, model: Model, tasks: Iterable[Task]) -> Iterator[tuple[Task, TaskResult]]:
        """Run each task in turn."""
        for task in tasks:
            yield task, run_task(base, task, model)

    def close(self) -> None:
        """Nothing to release."""


# ---------------------------------------------------------------- local process pool
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


_base: Scenario | None = None


def _init_worker(base: Scenario) -> None:
    global _base
    _base = base
    # Ctrl-C reaches the whole process group; the parent decides what to keep, workers just finish their task
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_in_worker(task: Task, model: Model) -> TaskResult:
    return run_task(_base, task, model)


class PoolExecutor:
    """A local pool of `workers` processes (forkserver start, scenario sent once per worker)."""

    def __init__(self, workers: int):
        self.slots = workers
        self.description = f"local process pool, {workers} workers"
        self._pool: ProcessPoolExecutor | None = None

    def run(self, base: Scenario, model: Model, tasks: Iterable[Task]) -> Iterator[tuple[Task, TaskResult]]:
        """Keep a bounded window of tasks in the pool and yield results as they finish.

        Raises:
            WorkerLost: a worker process died; tasks already yielded are safe.
        """
        mp_context = context(PRELOAD)
        pending: dict[Future, Task] = {}
        todo = iter(tasks)
        window = TASKS_PER_SLOT * self.slots

        def submit_more() -> None:
            for task in todo:
                pending[self._pool.submit(_run_in_worker, task, model)] = task
                if len(pending) >= window:
                    return

        try:
            # the first submissions start the workers (the pool starts them on demand); a Ctrl-C that cut
            # a start short would leave a half-started worker printing tracebacks, so it waits until then
            with _interrupt_deferred():
                self._pool = ProcessPoolExecutor(
                    self.slots, mp_context=mp_context, initializer=_init_worker, initargs=(base,)
                )
                submit_more()
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: pending[f].start):
                    task = pending.pop(future)
                    yield task, future.result()
                submit_more()
        except BrokenProcessPool as err:
            raise WorkerLost(f"a worker process died ({err})") from None
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        """Stop the pool without waiting for queued tasks (running ones finish their current task)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


# ---------------------------------------------------------------- Dask
class DaskExecutor:
    """Tasks on a Dask distributed cluster, through a scheduler address or an existing `Client`.

    The scenario is scattered to every worker once. Dask reruns the tasks of a
    worker that dies on the other workers (up to the scheduler's
    `allowed-failures`), so a lost worker does not lose the sweep; an exception
    inside a task is retried `retries` times before it is raised here.
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

    def run(self, base: Scenario, model: Model, tasks: Iterable[Task]) -> Iterator[tuple[Task, TaskResult]]:
        """Keep a bounded window of tasks on the cluster and yield results as they finish.

        Raises:
            WorkerLost: the cluster gave up on a task whose workers kept dying.
        """
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        scattered = self.client.scatter(base, broadcast=True, hash=False)
        pending: dict[Any, Task] = {}
        todo = iter(tasks)
        window = TASKS_PER_SLOT * max(self.slots, sum(self.client.nthreads().values()))
        finished = as_completed(
            loop=self.client.loop
        )  # this client's loop: it need not be the default client

        def submit_more() -> None:
            for task in todo:
                future = self.client.submit(
                    run_task, scattered, task, model, retries=self.retries, pure=False
                )
                pending[future] = task
                finished.add(future)
                if len(pending) >= window:
                    return

        try:
            submit_more()
            for future in finished:
                task = pending.pop(future)
                result = future.result()
                future.release()
                yield task, result
                submit_more()
        except KilledWorker as err:
            raise WorkerLost(f"Dask workers kept dying on a task ({err})") from None
        finally:
            if pending:
                self.client.cancel(list(pending))
            scattered.release()

    def close(self) -> None:
        """Close the client if this executor opened it (a client passed in stays open)."""
        if self._own:
            self.client.close()


def open_executor(workers: int = 1, scheduler: str | Client | None = None) -> Executor:
    """The executor for `--workers` / `--scheduler`: Dask when a scheduler is given, else local."""
    if scheduler is not None and scheduler != "":
        return DaskExecutor(scheduler)
    if workers < 1:
        raise InputError(f"--workers must be at least 1, found {workers}")
    return SerialExecutor() if workers == 1 else PoolExecutor(workers)
