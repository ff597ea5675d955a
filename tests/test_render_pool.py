"""The document workers: started with the server, at a lower CPU priority than its event loop."""

from __future__ import annotations

import os

import pytest

from bot.render_pool import WORKER_NICENESS, render_pool


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
