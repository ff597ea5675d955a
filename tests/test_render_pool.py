"""The document workers: started with the server, at a lower CPU priority than its event loop."""

from __future__ import annotations

import copy
import os
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
