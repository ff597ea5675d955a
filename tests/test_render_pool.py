"""The document workers: started with the server, at a lower CPU priority than its event loop."""

from __future__ import annotations

import copy
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.render_pool import WORKER_NICENESS, for_workers, render_pool
from rules.catalogue import Catalogue, default_catalogue


@pytest.mark.skipif(not hasattr(os, "nice"), reason="process priorities are POSIX")
def test_a_worker_renders_at_a_lower_priority_than_the_server() -> None:
    pool = render_pool(1)
    try:
        worker_niceness = pool.submit(os.nice, 0).result(timeout=60)
        worker_pid = pool.submit(os.getpid).result(timeout=60)
    finally:
        pool.shutdown()
    assert worker_pid != os.getpid()
    assert worker_niceness == min(os.nice(0) + WORKER_NICENESS, 19)


def test_the_catalogue_is_pickled_once_for_the_workers_not_at_every_export() -> None:
    catalogue = default_catalogue()
    pool = render_pool(1)
    try:
        sent = for_workers(pool, catalogue)
        first = pool.submit(_items, sent).result(timeout=60)
        pickled = sent._bytes  # type: ignore[attr-defined]
        again = for_workers(pool, catalogue)
        assert again is sent and pool.submit(_items, again).result(timeout=60) == first
        assert again._bytes is pickled  # type: ignore[attr-defined]  # the same bytes, not pickled anew
    finally:
        pool.shutdown()
    assert first == sorted(catalogue.items)  # the worker received the catalogue itself
    assert for_workers(pool, copy.copy(catalogue)) is not sent  # another catalogue: pickled anew
    with ThreadPoolExecutor(1) as threads:
        assert for_workers(threads, catalogue) is catalogue  # threads share it: nothing to pickle


def _items(catalogue: Catalogue) -> list[str]:
    return sorted(catalogue.items)


def test_a_worker_killed_mid_render_is_replaced_and_the_render_done_again() -> None:
    """A worker SIGKILLed (the kernel's out-of-memory killer, an operator) breaks a process pool for
    good; this one starts a new pool, runs the interrupted call once more, and takes new calls."""
    pool = render_pool(1)
    try:
        first = pool.submit(os.getpid).result(timeout=60)
        interrupted = pool.submit(_slow_pid, 3.0)
        time.sleep(1.0)  # the worker is in the middle of it
        os.kill(first, signal.SIGKILL)
        again = interrupted.result(timeout=60)  # done again, by a worker of the new pool
        assert again != first
        assert pool.submit(os.getpid).result(timeout=60) == again  # later calls go to the new pool
        os.kill(again, signal.SIGKILL)
        time.sleep(0.5)
        assert pool.submit(os.getpid).result(timeout=60) not in (first, again)  # broken between calls
    finally:
        pool.shutdown()


def _slow_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()
