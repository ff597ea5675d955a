"""Worker processes that render dossier documents for the server, off its event loop.

A DOCX takes about 50 ms of CPU; in the bot's own process it would hold the GIL that long while every
other owner waits. The workers are started with the server (not on the first dossier filed) and end
with it, also when it is killed: each one watches its parent and exits when the parent is gone, so a
crash and a restart never leave orphans behind.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import pickle
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

log = logging.getLogger("smebot.render_pool")
T = TypeVar("T")

PARENT_CHECK_EVERY = 1.0  # seconds
WORKER_NICENESS = 10  # documents yield the CPU to the bot's event loop: answers first, files after


class RenderPool(Executor):
    """The worker processes. A worker that dies (killed, out of memory) breaks a process pool for good:
    every later call would fail until a restart, and no document would reach anyone. This one starts a
    new pool when it finds the old one broken, and a call that was running when it broke is run once
    more there (rendering and reading are pure: running one twice changes nothing); a call that breaks
    the new pool too fails, with the pool's error."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._lock = threading.Lock()
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("spawn"),  # no fork of a process with threads
            initializer=_start_worker,
            initargs=(os.getpid(),),
        )
        for _ in range(self.processes):  # start them now, with the modules the rendering and reports need
            pool.submit(importlib.import_module, "bot.service")
        return pool

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        outer: Future[T] = Future()

        def attempt(again: bool) -> None:
            try:
                inner = self._submit(fn, *args, **kwargs)
            except BaseException as error:  # shut down, or the new pool broke at once
                outer.set_exception(error)
                return

            def done(finished: Future[T]) -> None:
                if finished.cancelled():
                    outer.cancel()
                elif isinstance(finished.exception(), BrokenProcessPool) and again:
                    attempt(again=False)
                elif (error := finished.exception()) is not None:
                    outer.set_exception(error)
                else:
                    outer.set_result(finished.result())

            inner.add_done_callback(done)

        attempt(again=True)
        return outer

    def _submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        with self._lock:
            try:
                return self._pool.submit(fn, *args, **kwargs)
            except BrokenProcessPool:
                log.warning("a worker process died: starting the worker pool again")
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._start()
                return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            pool = self._pool
        pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def render_pool(processes: int) -> RenderPool:
    return RenderPool(processes)


def in_processes(executor: Executor | None) -> bool:
    """Whether calls given to ``executor`` run in other processes (their arguments are pickled)."""
    return isinstance(executor, (RenderPool, ProcessPoolExecutor))


def _start_worker(parent: int) -> None:
    if hasattr(os, "nice"):  # POSIX: a lower priority for the rendering, never a higher one
        os.nice(WORKER_NICENESS)
    _watch_parent(parent)


def _watch_parent(parent: int) -> None:
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_EVERY)
        os._exit(0)  # the server is gone (killed): nothing here is worth finishing

    threading.Thread(target=watch, name="smebot-parent-watch", daemon=True).start()


class _PickledOnce:
    """Stands for a large object that does not change (the catalogue, 115 KB pickled, 1.7 ms) in the
    calls sent to the workers: pickled the first time only, then the same bytes each time. Pickling
    happens on the pool's feeder thread of the bot's process, holding the GIL its event loop needs."""

    def __init__(self, obj: object) -> None:
        self.obj = obj
        self._bytes: bytes | None = None

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        if self._bytes is None:
            self._bytes = pickle.dumps(self.obj)
        return pickle.loads, (self._bytes,)  # the worker receives the object itself


_last: _PickledOnce | None = None


def for_workers(executor: Executor | None, obj: T) -> T:
    """``obj`` as an argument of a call run by ``executor``: for worker processes, pickled once for as
    long as it is the same object (the worker receives ``obj`` itself); for threads, ``obj``."""
    global _last
    if not in_processes(executor):
        return obj
    if _last is None or _last.obj is not obj:
        _last = _PickledOnce(obj)
    return _last  # type: ignore[return-value]  # unpickled as ``obj`` in the worker
