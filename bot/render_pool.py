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
import threading
import time
from concurrent.futures import ProcessPoolExecutor

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
