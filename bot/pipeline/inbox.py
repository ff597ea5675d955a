"""In: every update is stored (insert-or-ignore on its update id) before it is acknowledged, then handed
to the dispatcher in memory; the inbox table is the durable copy, scanned at start and every few seconds
for what a crash left unhandled.

At least once in, exactly once in effect: the webhook answers 200 only after :meth:`Inbox.store`
committed, polling confirms its offset only after it; a duplicate is never stored twice, and the
transaction that handles an update claims it, so a redelivery is never answered twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from bot.pipeline.adapter import Incoming
from bot.store import inbox
from bot.store.db import Database

log = logging.getLogger("smebot.inbox")

SCAN_EVERY = 5.0  # seconds between scans of the inbox table for updates a crash left unprocessed
SCAN_LIMIT = 1000


@dataclass(frozen=True)
class Stored:
    user_key: str
    update_id: str
    payload: dict[str, Any]


class Inbox:
    def __init__(self, db: Database, source: str, inspect: Callable[[Mapping[str, Any]], Incoming]) -> None:
        self.db, self.source, self.inspect = db, source, inspect
        self.fresh: dict[str, list[Stored]] = {}  # per user key, in arrival order
        self.wake = asyncio.Event()
        self.next_scan = 0.0

    async def store(self, *updates: Mapping[str, Any]) -> int:
        """Keep the raw updates (each once), in one transaction; how many were new. Only after this
        returns may they be acknowledged."""
        inspected = [self.inspect(update) for update in updates]
        rows = [(u.update_id, u.user_key, u.payload, u.error) for u in inspected]
        new = await self.db.run(inbox.record_updates, self.source, rows)
        fresh = 0
        for update, is_new in zip(inspected, new, strict=True):
            if not is_new:  # a redelivery: stored before
                continue
            if update.error is None and update.user_key is not None:
                # handed to the dispatcher in memory; the inbox table is the durable copy
                stored = Stored(update.user_key, update.update_id, update.payload)
                self.fresh.setdefault(update.user_key, []).append(stored)
                fresh += 1
            else:  # ids only in the log: the update may carry what a person wrote
                log.warning("update %s set aside: %s", update.update_id, update.error)
        self.wake.set()
        return fresh

    async def rescan(self, busy: Collection[str]) -> None:
        """Every ``SCAN_EVERY`` seconds, add what the table holds unhandled and memory does not (a crash
        left it); a user with a worker has their own list (the service skips anything already handled)."""
        if time.monotonic() < self.next_scan:
            return
        self.next_scan = time.monotonic() + SCAN_EVERY
        rows = await self.db.run(inbox.unprocessed_updates, SCAN_LIMIT, self.source)
        for row in rows:
            key = row.user_key or f"anon:{row.update_id}"
            if key not in busy:
                known = {u.update_id for u in self.fresh.get(key, [])}
                if row.update_id not in known:
                    self.fresh.setdefault(key, []).append(Stored(key, row.update_id, row.payload))

    def take(self, key: str) -> list[Stored]:
        """A user's waiting updates, in the platform's order when its ids are numbers (Telegram's), else
        as they arrived (Zalo's opaque ids)."""
        return sorted(self.fresh.pop(key), key=_order)


def _order(update: Stored) -> int:
    """Numbered ids in their order; any other (set aside, or opaque) after them, as they came (stable)."""
    return int(update.update_id) if update.update_id.isdigit() else 1 << 62
