"""Per-user ordered dispatch: one worker per user with updates waiting, so one user's updates are
handled in order and different users' concurrently. Each update goes through the adapter (what it is)
and the service (one transaction: claim the update, run the engine, save the state and the effects,
queue the replies); the replies just queued go to the sender in memory.

An update that fails is set aside with its reason, never tried again at every start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from bot.pipeline.adapter import Adapter, Desk, Handle, Notice, Skip
from bot.pipeline.delivery import Message
from bot.pipeline.inbox import Inbox, Stored
from bot.pipeline.sender import OutboxSender
from bot.replies import Outcome
from bot.service import Service
from bot.store import inbox
from bot.store.db import Database

log = logging.getLogger("smebot.dispatcher")


class Dispatcher:
    def __init__(
        self, service: Service, db: Database, adapter: Adapter, inbox_: Inbox, sender: OutboxSender
    ) -> None:
        self.service, self.db, self.adapter, self.inbox, self.sender = service, db, adapter, inbox_, sender
        self.desk = Desk(db, sender.latest_keyboard)
        self.busy: set[str] = set()
        self.tasks: set[asyncio.Task[None]] = set()

    async def run(self, stop: asyncio.Event) -> None:
        wake = self.inbox.wake
        while not stop.is_set():
            wake.clear()  # before the work: a wake-up during it is not lost
            if not await self.dispatch_once():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=0.5)
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def dispatch_once(self) -> int:
        """Start a worker for every user with updates waiting and no worker yet; how many started."""
        await self.inbox.rescan(self.busy)
        started = 0
        for key in list(self.inbox.fresh):
            if key in self.busy:
                continue
            updates = self.inbox.take(key)
            self.busy.add(key)
            task = asyncio.create_task(self._user_queue(key, updates))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            started += 1
        return started

    async def _user_queue(self, key: str, updates: list[Stored]) -> None:
        """One user's updates, in order."""
        try:
            for row in updates:
                try:
                    await self.handle(row.update_id, row.payload)
                except Exception as error:  # set aside with its reason: never tried again at every start
                    log.exception("update %s failed; set aside", row.update_id)
                    reason = f"{type(error).__name__} while handling"
                    try:
                        await self.db.run(inbox.mark_processed, self.adapter.source, row.update_id, reason)
                    except Exception:  # the next scan takes it again
                        log.exception("could not set update %s aside", row.update_id)
        finally:
            self.busy.discard(key)
            self.inbox.wake.set()

    async def handle(self, update_id: str, payload: Mapping[str, Any]) -> None:
        source, channel = self.adapter.source, self.adapter.channel
        read = await self.adapter.read(update_id, payload, self.desk)
        if isinstance(read, Skip):
            await self.db.run(inbox.mark_processed, source, update_id, read.reason)
        elif isinstance(read, Notice):
            params = dict(read.params)
            outcome = await self.service.notice(
                channel, read.external_id, read.key, params, (source, update_id)
            )
            self.send(outcome)
        elif isinstance(read, Handle):
            outcome = await self.service.handle(
                channel, read.external_id, read.input, update=(source, update_id)
            )
            self.send(outcome)
            if outcome.notified:
                self.sender.request_scan()
            await self.adapter.handled(read, outcome)

    def send(self, outcome: Outcome) -> None:
        """Hand the replies just committed to the sender."""
        self.sender.push(
            Message(q.outbox_id, q.user_id, q.external_id, outcome.lang, q.payload, q.attempts, q.parts)
            for q in outcome.queued
        )
