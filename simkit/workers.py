"""Worker processes for ensembles, sweeps and forecasts: one start method, warm workers, quiet on Ctrl-C.

Every local pool is made here, so they all start the same explicit way: workers
fork from a clean fork server (never from the parent, which may run threads, e.g.
the progress bar), the server first makes itself deaf to Ctrl-C (the parent
reports an interruption in one line) and then imports the model once, so each
worker starts warm instead of spending seconds on imports.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext
from typing import Any

START_METHOD = "forkserver"
QUIET = "simkit._forkserver_quiet"


def context(preload: Sequence[str]) -> BaseContext:
    """The multiprocessing context of every simkit pool: fork server, quiet on Ctrl-C, `preload` imported."""
    ctx = multiprocessing.get_context(START_METHOD)
    ctx.set_forkserver_preload([QUIET, *preload])
    return ctx


def in_order[T, R](
    function: Callable[[T], R],
    items: Sequence[T],
    workers: int,
    preload: Sequence[str],
    initializer: Callable[..., Any],
    initargs: tuple = (),
) -> Iterator[R]:
    """Yield function(item) for each item, in the items' order.

    With one worker (or one item) it runs here, without a pool. Otherwise all
    items are submitted to a pool of at most `workers` processes; if the caller
    stops (an exception, Ctrl-C), what has not started is cancelled.
    """
    if workers == 1 or len(items) <= 1:
        initializer(*initargs)
        for item in items:
            yield function(item)
        return
    with ProcessPoolExecutor(
        min(workers, len(items)), mp_context=context(preload), initializer=initializer, initargs=initargs
    ) as pool:
        futures = [pool.submit(function, item) for item in items]
        try:
            for future in futures:
                yield future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise
