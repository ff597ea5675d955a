"""The outbox sender: drains queued messages through a channel's transport, within the platform's limits.

At most ``per_second`` messages overall (a token bucket) and one message per ``chat_interval`` seconds to
one chat, oldest first, one at a time per chat so a conversation never arrives out of order. A flood
error waits the time the platform asks; a network error retries with exponential backoff; a blocked bot
marks the user unreachable and stops sending to them. Delivery is at least once: a crash between the
send and its bookkeeping sends that message again on restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.effects import render_notification
from bot.store import repo
from bot.store.db import Database
from bot.store.models import Outbox, User

log = logging.getLogger("smebot.sender")


class Blocked(Exception):
    """The user blocked the bot (Telegram 403): stop sending to them."""


class Flood(Exception):
    """Too many messages (Telegram 429): wait ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class Transient(Exception):
    """A network error or a 5xx: try again later."""


@dataclass(frozen=True)
class Message:
    outbox_id: int
    user_id: int
    chat: str
    lang: str
    payload: Mapping[str, Any]
    attempts: int

    @property
    def text(self) -> str:
        if self.payload.get("kind") == "reply":
            return str(self.payload.get("text", ""))
        return render_notification(self.payload, self.lang)  # a notification, in the owner's language now


class Transport(Protocol):
    async def send(self, message: Message) -> int | None:
        """Deliver one message; the platform's message id when it has one."""
        ...


class TokenBucket:
    def __init__(
        self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.capacity, self.clock = rate, burst or rate, clock
        self.tokens, self.stamp = self.capacity, clock()

    def delay(self) -> float:
        """Seconds to wait before a token is free (0 when one is)."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


def backoff(attempts: int, base: float = 0.5, cap: float = 60.0) -> float:
    return float(min(cap, base * 2 ** max(0, attempts)))


class OutboxSender:
    def __init__(
        self,
        db: Database,
        channel: str,
        transport: Transport,
        *,
        per_second: float = 30.0,
        chat_interval: float = 1.0,
        on_sent: Callable[[Message, int | None], Awaitable[None]] | None = None,
    ) -> None:
        self.db, self.channel, self.transport = db, channel, transport
        self.bucket = TokenBucket(per_second)
        self.chat_interval = chat_interval
        self.on_sent = on_sent
        self.next_for_chat: dict[str, float] = {}
        self.busy: set[str] = set()
        self.wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    def _due(self, s: Session, limit: int) -> list[Message]:
        stmt = (
            select(Outbox, User.lang)
            .join(User, User.id == Outbox.user_id)
            .where(Outbox.channel == self.channel, *repo.due())
            .order_by(Outbox.id)
            .limit(limit)
        )
        return [
            Message(o.id, o.user_id, o.external_id, lang, o.payload, o.attempts)
            for o, lang in s.execute(stmt).all()
        ]

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.wake.clear()  # before the work: a wake-up during it is not lost
            sent = await self.drain_once()
            if not sent:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=0.2)
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def drain_once(self) -> int:
        """Start sending every message that may go now; the number started."""
        due = await self.db.run(self._due, 500)
        started = 0
        seen: set[str] = set()
        for message in due:
            if message.chat in seen or message.chat in self.busy:
                continue  # one at a time per chat, in order
            seen.add(message.chat)
            if self.next_for_chat.get(message.chat, 0.0) > time.monotonic():
                continue
            wait = self.bucket.delay()
            if wait > 0:
                break
            self.bucket.take()
            self.busy.add(message.chat)
            task = asyncio.create_task(self._send(message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
        if not started and self._tasks:
            await asyncio.wait(self._tasks, timeout=0.05)
        return started

    async def _send(self, message: Message) -> None:
        try:
            self.next_for_chat[message.chat] = time.monotonic() + self.chat_interval
            try:
                message_id = await self.transport.send(message)
            except Flood as flood:
                self.next_for_chat[message.chat] = time.monotonic() + flood.retry_after
                await self.db.run(self._retry, message, flood.retry_after)
                return
            except Blocked:
                await self.db.run(self._blocked, message)
                return
            except Transient as error:
                log.warning("sending outbox %s failed (%s), retrying", message.outbox_id, error)
                await self.db.run(self._retry, message, backoff(message.attempts))
                return
            await self.db.run(self._sent, message, message_id)
            if self.on_sent is not None:
                await self.on_sent(message, message_id)
        finally:
            self.busy.discard(message.chat)
            self.wake.set()

    def _sent(self, s: Session, message: Message, message_id: int | None) -> None:
        payload = {**message.payload, "message_id": message_id} if message_id is not None else None
        repo.mark_sent(s, message.outbox_id, payload)

    def _retry(self, s: Session, message: Message, seconds: float) -> None:
        repo.mark_failed(s, message.outbox_id, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds))

    def _blocked(self, s: Session, message: Message) -> None:
        """403: the user blocked the bot. Mark them unreachable and give up on what is queued for them."""
        user = s.get(User, message.user_id)
        if user is not None:
            user.unreachable = True
        for row in repo.pending_for_user(s, message.user_id):
            repo.mark_failed(s, row.id, None)
        repo.mark_failed(s, message.outbox_id, None)
