"""Worker processes that render dossier documents for the server, off its event loop.

A DOCX takes about 50 ms of CPU; in the bot's own process it would hold the GIL that long while every
other owner waits. The workers are started with the server (not on the first dossier filed) and end
with it, also when it is killed: each one watches its parent and exits when the parent is gone, so a
crash and a restart never leave orphans behind.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import pickle
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any, TypeVar

PARENT_CHECK_EVERY = 1.0  # seconds
WORKER_NICENESS = 10  # documents yield the CPU to the bot's event loop: answers first, files after


def render_pool(processes: int) -> ProcessPoolExecutor:
    pool = ProcessPoolExecutor(
        processes,
        mp_context=multiprocessing.get_context("spawn"),  # no fork of a process with threads
        initializer=_start_worker,
        initargs=(os.getpid(),),
    )
    for _ in range(processes):  # start them now, with the modules the rendering and the reports need
        pool.submit(importlib.import_module, "bot.service")
    return pool


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


T = TypeVar("T")


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
    if not isinstance(executor, ProcessPoolExecutor):
        return obj
    if _last is None or _last.obj is not obj:
        _last = _PickledOnce(obj)
    return _last  # type: ignore[return-value]  # unpickled as ``obj`` in the worker
