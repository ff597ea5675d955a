"""The outbox sender: delivers queued messages through a channel's transport, within the platform's limits.

Replies reach it in memory, handed over by the channel right after the transaction that queued them
(:meth:`OutboxSender.push`); the outbox table is read only at start, every ``scan_every`` seconds and when
asked (:meth:`OutboxSender.request_scan`: notifications queued for other users, messages a crash left
behind). At most ``per_second`` messages overall (a token bucket) and one per ``chat_interval`` seconds to
one chat, oldest first, one at a time per chat so a conversation never arrives out of order. A flood
error waits the time the platform asks; a network error retries with exponential backoff; a blocked bot
marks the user unreachable and stops sending to them. "Sent" is written in batches, one transaction for
every message delivered meanwhile. Delivery is at least once: a crash between a send and its
bookkeeping sends that message again on restart.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
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
        max_in_flight: int = 8,
        scan_every: float = 1.0,
        mark_every: float = 0.05,
        on_sent: Callable[[Message, int | None], Awaitable[None]] | None = None,
    ) -> None:
        self.db, self.channel, self.transport = db, channel, transport
        self.bucket = TokenBucket(per_second)
        self.chat_interval = chat_interval
        # Sends at once: enough to keep ~30 messages/s going at Telegram's round trip (0.1-0.3 s); more
        # only adds idle connections that the HTTP pool checks on every request.
        self.max_in_flight = max_in_flight
        self.scan_every = scan_every
        self.mark_every = mark_every  # "sent" is written at most this often, for all delivered meanwhile
        self.on_sent = on_sent
        self.queues: dict[str, list[Message]] = {}  # per chat, oldest first
        self.claimed: set[int] = set()  # queued here, being sent, or sent and not yet marked
        self.next_for_chat: dict[str, float] = {}
        self.busy: set[str] = set()  # chats with a send in flight
        self.latest_keyboard: dict[str, int] = {}  # chat -> message id of the last message with buttons
        self.wake = asyncio.Event()
        self._scan_wanted = True
        self._next_scan = 0.0
        self._scanning = False
        self._released_in_scan: set[int] = set()  # ids done while a scan was reading the table
        self._marks: list[tuple[Message, int | None]] = []
        self._marks_waiting = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    # --- what to send -----------------------------------------------------------------------------

    def push(self, messages: Iterable[Message]) -> None:
        """Messages just committed to the outbox: send them without reading them back."""
        for message in messages:
            if message.outbox_id in self.claimed or message.outbox_id in self._released_in_scan:
                continue
            self.claimed.add(message.outbox_id)
            bisect.insort(self.queues.setdefault(message.chat, []), message, key=_oldest_first)
        self.wake.set()

    def request_scan(self) -> None:
        """Read the outbox table at the next turn (something was queued that was not pushed)."""
        self._scan_wanted = True
        self.wake.set()

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

    # --- the loop ---------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        marker = asyncio.create_task(self._mark_loop())
        try:
            while not stop.is_set():
                self.wake.clear()  # before the work: a wake-up during it is not lost
                if not await self.turn():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), timeout=self._idle_wait())
            await asyncio.gather(*self._tasks, return_exceptions=True)
        finally:
            marker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await marker
            await self.flush_marks()  # what was delivered is written down before we go

    def _idle_wait(self) -> float:
        """Seconds until something may be sent (a chat's interval over and a token free) or the next
        scan; a finished send or a push wakes the loop sooner."""
        now = time.monotonic()
        wait = self._next_scan - now
        if len(self.busy) < self.max_in_flight:
            chats = [self.next_for_chat.get(c, 0.0) - now for c in self.queues if c not in self.busy]
            if chats:
                wait = min(wait, max(min(chats), self.bucket.delay()))
        return max(0.001, min(wait, 0.2))

    async def turn(self) -> int:
        """Read the table if it is time, then start every send that may go now; the number started."""
        if self._scan_wanted or time.monotonic() >= self._next_scan:
            self._scan_wanted = False
            self._next_scan = time.monotonic() + self.scan_every
            self._scanning = True
            try:
                due = await self.db.run(self._due, 500)
                # A row read as pending may have been sent and written down while the query ran.
                self.push(due)
            finally:
                self._scanning = False
                self._released_in_scan.clear()
        return self._start_sends()

    async def drain_once(self) -> int:
        """One turn that reads the table first (tests and tools)."""
        self._scan_wanted = True
        return await self.turn()

    def _start_sends(self) -> int:
        started = 0
        now = time.monotonic()
        waiting = [(q[0].outbox_id, chat) for chat, q in self.queues.items() if chat not in self.busy]
        for _, chat in sorted(waiting):  # the oldest message first, across chats
            if len(self.busy) >= self.max_in_flight:
                break
            if self.next_for_chat.get(chat, 0.0) > now:
                continue
            if self.bucket.delay() > 0:
                break
            self.bucket.take()
            queue = self.queues[chat]
            message = queue.pop(0)
            if not queue:
                del self.queues[chat]
            self.busy.add(chat)
            task = asyncio.create_task(self._send(message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
        return started

    async def _send(self, message: Message) -> None:
        chat = message.chat
        try:
            self.next_for_chat[chat] = time.monotonic() + self.chat_interval
            try:
                message_id = await self.transport.send(message)
            except Flood as flood:
                await self._again(message, flood.retry_after)
                return
            except Blocked:
                await self.db.run(self._blocked, message)
                self._forget_chat(message)
                return
            except Transient as error:
                log.warning("sending outbox %s failed (%s), retrying", message.outbox_id, error)
                await self._again(message, backoff(message.attempts))
                return
            except Exception:  # a bug or a refused message: give up on this one, not on the chat
                log.exception("sending outbox %s failed for good", message.outbox_id)
                await self.db.run(self._failed, message)
                self._release([message])
                return
            if message.payload.get("buttons") and message_id is not None:
                self.latest_keyboard[chat] = message_id
            self._marks.append((message, message_id))
            self._marks_waiting.set()
            if self.on_sent is not None:
                await self.on_sent(message, message_id)
        finally:
            self.busy.discard(chat)
            self.wake.set()

    async def _again(self, message: Message, seconds: float) -> None:
        """Try this message again in ``seconds``, before anything newer to the same chat."""
        self.next_for_chat[message.chat] = time.monotonic() + seconds
        retry = replace(message, attempts=message.attempts + 1)
        bisect.insort(self.queues.setdefault(message.chat, []), retry, key=_oldest_first)
        await self.db.run(self._retry, message, seconds)

    def _forget_chat(self, message: Message) -> None:
        self._release([message, *self.queues.pop(message.chat, [])])

    def _release(self, messages: Iterable[Message]) -> None:
        """Their outcome is in the table: a later scan may see them (and will not pick them)."""
        for message in messages:
            self.claimed.discard(message.outbox_id)
            if self._scanning:
                self._released_in_scan.add(message.outbox_id)

    # --- bookkeeping --------------------------------------------------------------------------------

    async def _mark_loop(self) -> None:
        while True:
            await self._marks_waiting.wait()
            await asyncio.sleep(self.mark_every)  # let a batch gather
            self._marks_waiting.clear()
            try:
                await self.flush_marks()
            except Exception:  # the database is away: keep them and try again shortly
                log.exception("could not record %d sent messages", len(self._marks))
                self._marks_waiting.set()
                await asyncio.sleep(0.5)

    async def flush_marks(self) -> None:
        """Write down, in one transaction, every message delivered since the last time."""
        batch, self._marks = self._marks, []
        if not batch:
            return
        try:
            await self.db.run(self._sent, batch)
        except BaseException:
            self._marks[:0] = batch
            raise
        self._release(message for message, _ in batch)

    def _sent(self, s: Session, batch: list[tuple[Message, int | None]]) -> None:
        repo.mark_sent_many(
            s,
            [
                (m.outbox_id, {**m.payload, "message_id": mid} if mid is not None else None)
                for m, mid in batch
            ],
        )

    def _retry(self, s: Session, message: Message, seconds: float) -> None:
        repo.mark_failed(s, message.outbox_id, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds))

    def _failed(self, s: Session, message: Message) -> None:
        repo.mark_failed(s, message.outbox_id, None)

    def _blocked(self, s: Session, message: Message) -> None:
        """403: the user blocked the bot. Mark them unreachable and give up on what is queued for them."""
        user = s.get(User, message.user_id)
        if user is not None:
            user.unreachable = True
        for row in repo.pending_for_user(s, message.user_id):
            repo.mark_failed(s, row.id, None)
        repo.mark_failed(s, message.outbox_id, None)


def _oldest_first(message: Message) -> int:
    return message.outbox_id
