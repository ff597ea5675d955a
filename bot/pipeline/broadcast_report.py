"""What the officer who sent a broadcast hears while it goes: a progress report every ``every`` seconds
or each time another ``percent`` of the recipients is dealt with, and a final report when nothing is left
to send. Both go through the outbox to the officer's own chat (any channel), so they are delivered like a
reply, before broadcast rows, and never twice: a progress report is keyed on the percentage it shows
(``broadcast:<id>:progress:<percent>``), the final one on the broadcast (``broadcast:<id>:done``) and is
queued in the transaction that marks the broadcast done.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bot.store import broadcasts
from bot.store.broadcasts import Progress
from bot.store.db import Database
from locales import t

log = logging.getLogger("smebot.broadcast")


@dataclass
class _Watch:
    """What this process has seen of one broadcast: for the pace (time left) and the next report."""

    since: float  # monotonic time first seen
    done_then: int  # recipients dealt with then
    reported_at: float
    reported_step: int  # how many ``percent`` steps the last report had passed


def duration(seconds: float, lang: str) -> str:
    """A time as an officer reads it: seconds under 90 s, minutes under 90 min, else hours and minutes."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return t("broadcast.delivery.seconds", lang, n=max(1, math.ceil(seconds)))
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return t("broadcast.delivery.minutes", lang, n=minutes)
    return t("broadcast.delivery.hours", lang, h=minutes // 60, m=minutes % 60)


def _payload(text: str) -> dict[str, Any]:
    return {"kind": "reply", "text": text, "buttons": [], "documents": []}


def _figures(p: Progress) -> dict[str, Any]:
    return {
        "id": p.broadcast_id,
        "programme": p.programme_id,
        "total": p.total,
        "done": p.done,
        "sent": p.sent,
        "failed": p.failed,
        "blocked": p.blocked,
        "cancelled": p.cancelled + p.held,  # left out: cancelled, erased, unsubscribed, or out of reach
        "remaining": p.remaining,
        "percent": p.done * 100 // p.total if p.total else 100,
    }


def progress_text(p: Progress, lang: str, seconds_left: float) -> dict[str, Any]:
    """The progress report, in ``lang``, as an outbox payload."""
    left = duration(seconds_left, lang)
    return _payload(t("broadcast.delivery.progress", lang, left=left, **_figures(p)))


def final_text(p: Progress, lang: str) -> dict[str, Any]:
    """The final report, in ``lang``, as an outbox payload."""
    took = (p.finished_at - p.created_at).total_seconds() if p.finished_at is not None else 0.0
    return _payload(t("broadcast.delivery.done", lang, took=duration(took, lang), **_figures(p)))


class Reporter:
    """Watches the broadcasts a channel's broadcaster sends: reports progress, finishes them."""

    def __init__(
        self,
        db: Database,
        *,
        every: float,
        percent: int,
        per_second: float,
        queued: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db, self.every, self.percent, self.per_second = db, every, max(1, percent), per_second
        self.queued = queued  # a report was queued: the sender should look at the outbox
        self.clock = clock
        self.watched: dict[int, _Watch] = {}

    def watch(self, broadcast_ids: Iterable[int]) -> None:
        for broadcast_id in broadcast_ids:
            self.watched.setdefault(broadcast_id, _Watch(self.clock(), -1, self.clock(), -1))

    async def check(self) -> None:
        """For every watched broadcast: finish it (and report) when nothing is left, else report progress
        when it is time. A broadcast finished or cancelled is no longer watched."""
        for broadcast_id in list(self.watched):
            try:
                await self._check(broadcast_id)
            except Exception:  # the database is away: the next check tries again
                log.exception("could not check broadcast %s", broadcast_id)

    async def _check(self, broadcast_id: int) -> None:
        watch = self.watched[broadcast_id]
        p = await self.db.run(broadcasts.progress, broadcast_id)
        if p is None or p.status != "sending":
            del self.watched[broadcast_id]
            return
        if p.remaining == 0:
            final, report = await self.db.run(broadcasts.finish_and_report, broadcast_id, final_text)
            del self.watched[broadcast_id]
            if final is not None:
                log.info(
                    "broadcast %s done: %d sent, %d failed, %d blocked, %d skipped",
                    broadcast_id,
                    final.sent,
                    final.failed,
                    final.blocked,
                    final.cancelled,
                )
            if report is not None:
                self.queued()
            return
        now = self.clock()
        step = (p.done * 100 // p.total) // self.percent if p.total else 0
        if watch.done_then < 0:  # first look in this process: the pace counts from here
            watch.done_then, watch.reported_step = p.done, step
            return
        if step <= watch.reported_step and now - watch.reported_at < self.every:
            return
        watch.reported_at, watch.reported_step = now, step
        elapsed = now - watch.since
        pace = (p.done - watch.done_then) / elapsed if elapsed >= 1 else 0.0
        left = p.remaining / (pace if pace > 0 else self.per_second)
        key = f"broadcast:{broadcast_id}:progress:{_figures(p)['percent']}"
        render = functools.partial(progress_text, seconds_left=left)
        if await self.db.run(broadcasts.report, p, render, key) is not None:
            self.queued()
