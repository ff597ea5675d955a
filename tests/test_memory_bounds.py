"""Memory is bounded by bytes (issue 13, point 13): caches keyed on what owners type do not grow with it.

2,000 long messages used to grow the bot by tens of MiB (8 MiB for the 1,000 characters sent here):
``fold`` memoised every text it was given (the owner's whole message, and its folded copy), and the
offers cache was keyed on the firm's name. The test sends 2,000 different long messages through the real
service and measures, with tracemalloc, what the process holds afterwards that it did not hold before
(memory, not time).
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.service import Service
from bot.store.db import Database
from rules import text
from rules.text import FOLD_CACHE_CHARS, FOLD_CACHE_ENTRIES, fold
from tests.driver import Owner, open_service

MiB = 1024 * 1024
LONG = "Công ty TNHH Thương mại Dịch vụ Xuất nhập khẩu Đồng Nai chi nhánh Biên Hòa " * 13  # ~1,000 chars


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    served: tuple[Service, Database] = await open_service(f"sqlite+aiosqlite:///{tmp_path / 'smebot.db'}")
    yield served[0]
    await served[1].close()


@pytest.mark.slow
async def test_two_thousand_long_messages_leave_nothing_behind(service: Service) -> None:
    owner = Owner(service, "long-winded")
    await owner.send("/start")
    await owner.send("1")  # consent; the firm's name is asked: free text, any length
    for i in range(20):  # warm up: statement caches, pools, the labels' folds
        await owner.send(f"{i} {LONG}")
    owner.transcript.clear()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(2000):
            await owner.send(f"{i} {LONG}")  # each one different, as real messages are
            owner.transcript.clear()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert service._locks == {}  # the per-user locks go when the user's message is done
    sent = 2000 * len(LONG.encode())
    assert grown < 2 * MiB, f"{grown / MiB:.1f} MiB held after {sent / MiB:.1f} MiB of messages"


def test_the_fold_cache_holds_short_texts_only_and_has_a_byte_bound() -> None:
    cached = text._fold_short.cache_info().currsize
    for i in range(2000):
        assert fold(f"{i} {LONG}").startswith(f"{i} cong ty tnhh")
    assert text._fold_short.cache_info().currsize == cached  # long texts are folded, not kept
    # the worst entry: a key and a value of FOLD_CACHE_CHARS characters outside Latin-1 (4 bytes each)
    # and the cache's own link (about 100 bytes)
    widest = sys.getsizeof("😀" * FOLD_CACHE_CHARS)
    assert FOLD_CACHE_ENTRIES * (2 * widest + 100) < 4 * MiB
