"""The pipeline's loops (receivers, the dispatcher, the sender) run supervised: should one ever stop on
an error, it is logged loudly and started again after a growing pause."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bot.pipeline.delivery import backoff

log = logging.getLogger("smebot.pipeline")

RESTART_CAP = 30.0  # seconds between two restarts of a loop at most

Loop = Callable[[asyncio.Event], Awaitable[None]]


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds``, or less if the bot is stopping."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def supervise(name: str, loop: Loop, stop: asyncio.Event) -> None:
    """Run ``loop(stop)`` until ``stop``; if it ever ends before (an error, a bug), log it loudly and start
    it again after a growing pause."""
    failures = 0
    while not stop.is_set():
        try:
            await loop(stop)
        except asyncio.CancelledError:
            raise
        except Exception:
            failures += 1
            log.exception("the %s stopped on an error; starting it again", name)
        else:
            if stop.is_set():
                return
            failures += 1
            log.error("the %s stopped; starting it again", name)
        await pause(stop, backoff(failures - 1, 0.5, RESTART_CAP))
