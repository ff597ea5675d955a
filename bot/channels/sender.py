"""The outbox sender: delivers queued messages through a channel's transport, within the platform's limits.

Replies reach it in memory, handed over by the channel right after the transaction that queued them
(:meth:`OutboxSender.push`); the outbox table is read only at start, every ``scan_every`` seconds and when
asked (:meth:`OutboxSender.request_scan`: notifications queued for other users, messages a crash left
behind). At most ``per_second`` messages overall (a token bucket) and one per ``chat_interval`` seconds to
one chat, oldest first, one at a time per chat so a conversation never arrives out of order.

What the platform answers decides what happens to a message:

- a flood error (429) waits the time the platform asks, a network error, a time-out or a 5xx retries with
  exponential backoff; after ``max_attempts`` failed attempts the message is given up;
- a refusal (:class:`Refused`: 400, 403 other than "blocked", 404) is not retried: the message is marked
  ``failed`` with the reason (never its text), and the user is told something went wrong when a message can
  still reach them;
- a blocked bot (403 "blocked by the user") marks the user unreachable and stops sending to them.

A failed message never holds back the ones after it. A reply in parts (its text cut to the platform's
limit, each document) is delivered part by part: each part is written down in the row's ``parts`` as it
goes, so a retry, or a restart, sends only the parts not delivered yet.

"Sent" is written in batches, one transaction for every message delivered meanwhile. Delivery is at least
once: a crash between a send and its bookkeeping sends that part again on restart, and so does a send the
platform carried out but whose answer never arrived (a time-out, a dropped connection).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import datetime as dt
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.effects import render_notification
from bot.store import repo
from bot.store.db import Database
from bot.store.models import Outbox, User
from locales import t

log = logging.getLogger("smebot.sender")

MAX_ATTEMPTS = 8  # failed attempts (429, 5xx, network) before a message is given up: about a minute


class Blocked(Exception):
    """The user blocked the bot (Telegram 403): stop sending to them."""


class Flood(Exception):
    """Too many messages (Telegram 429): wait ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class Transient(Exception):
    """A network error, a time-out or a 5xx: try again later."""


class Refused(Exception):
    """The platform refused this message for good (a 400, a 403 other than "blocked", a 404): sending it
    again would get the same answer. ``reason`` is the platform's, never the message's text; ``part`` the
    part of the reply refused (the others are still sent); ``reply_possible`` whether a message can still
    reach the user (not when the chat is gone)."""

    def __init__(self, reason: str, *, part: str | None = None, reply_possible: bool = True) -> None:
        super().__init__(reason)
        self.reason, self.part, self.reply_possible = reason, part, reply_possible


@dataclass(frozen=True)
class Message:
    outbox_id: int
    user_id: int
    chat: str
    lang: str
    payload: Mapping[str, Any]
    attempts: int
    # the parts already dealt with: part -> the platform's message id, True, or "failed: <reason>"
    done: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        if self.payload.get("kind") == "reply":
            return str(self.payload.get("text", ""))
        return render_notification(self.payload, self.lang)  # a notification, in the owner's language now


# called by a transport after each part it delivered: (part, the platform's message id, whether it was the
# last part of the message)
Progress = Callable[[str, int | None, bool], Awaitable[None]]


class Transport(Protocol):
    async def send(self, message: Message, progress: Progress) -> int | None:
        """Deliver the parts of one message not in ``message.done``, in order, calling ``progress`` after
        each; the platform's id of the message that carries the buttons, when it has one. Raises
        :class:`Flood`, :class:`Transient`, :class:`Blocked` or :class:`Refused` (with the part)."""
        ...


_SURROGATES = re.compile("[\ud800-\udfff]")


def valid_text(text: str) -> str:
    """Text every platform takes: lone surrogates (invalid in UTF-8 and UTF-16) become U+FFFD."""
    return _SURROGATES.sub("\ufffd", text)


def _units(char: str) -> int:
    """UTF-16 code units: how Telegram counts a message's length (an emoji outside the BMP counts 2)."""
    return 2 if ord(char) > 0xFFFF else 1


def split_text(text: str, limit: int) -> list[str]:
    """``text`` (made valid) in pieces of at most ``limit`` UTF-16 units, for a platform that refuses
    longer messages (Telegram 4,096, Zalo 2,000). Cut at the last line break that fits, else at the last
    space, else anywhere but inside a character; nothing is lost but the whitespace at the cuts."""
    text = valid_text(text)
    pieces: list[str] = []
    while text:
        fits, used = 0, 0
        for char in text:
            used += _units(char)
            if used > limit:
                break
            fits += 1
        if fits == len(text):
            cut = fits
        else:
            cut = text.rfind("\n", 0, fits + 1)
            if cut <= 0:
                cut = text.rfind(" ", 0, fits + 1)
            if cut <= 0:
                cut = max(fits, 1)
        piece, text = text[:cut].rstrip(), text[cut:].lstrip()
        if piece:
            pieces.append(piece)
    return pieces


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
        max_attempts: int = MAX_ATTEMPTS,
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
        self.max_attempts = max_attempts
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
            Message(o.id, o.user_id, o.external_id, lang, o.payload, o.attempts, o.parts or {})
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
            await self._deliver(message)
        except Exception:  # the bookkeeping failed (the database is away): a later scan takes it again
            log.exception("sending outbox %s: could not record the outcome", message.outbox_id)
            self._release([message])
        finally:
            self.busy.discard(chat)
            self.wake.set()

    async def _deliver(self, message: Message) -> None:
        done = dict(message.done)

        async def progress(part: str, message_id: int | None, last: bool) -> None:
            done[part] = message_id if message_id is not None else True
            if not last:  # written before the next part goes: a retry never sends this one again
                try:
                    await self.db.run(repo.mark_parts, message.outbox_id, dict(done))
                except Exception:  # at worst this part goes twice, after a crash: at least once
                    log.exception("could not record a part of outbox %s", message.outbox_id)

        refused: list[Refused] = []
        message_id: int | None = None
        while True:
            try:
                message_id = await self.transport.send(replace(message, done=done), progress)
            except Refused as refusal:
                if refusal.part is None or refusal.part in done:
                    refused.append(refusal)
                    break
                done[refusal.part] = f"failed: {refusal.reason}"
                if not refusal.reply_possible:  # the chat is gone: the other parts would be refused too
                    refused.append(refusal)
                    break
                continue  # the other parts still go
            except Flood as flood:
                await self._again(replace(message, done=done), flood.retry_after, str(flood))
                return
            except Blocked as blocked:
                await self.db.run(self._blocked, message, f"403 {blocked}")
                self._forget_chat(message)
                return
            except Transient as error:
                await self._again(replace(message, done=done), backoff(message.attempts), str(error))
                return
            except Exception as error:  # a bug: give up on this message, not on the chat
                log.exception("sending outbox %s failed for good", message.outbox_id)
                refused.append(Refused(f"internal error: {type(error).__name__}"))
                break
            break
        failed = [str(v)[len("failed: ") :] for v in done.values() if str(v).startswith("failed: ")]
        if refused or failed:
            reasons = [*failed, *(r.reason for r in refused if r.part is None or r.part not in done)]
            reply = all(r.reply_possible for r in refused)
            await self._give_up(replace(message, done=done), "; ".join(reasons), reply)
            return
        if message.payload.get("buttons") and message_id is not None:
            self.latest_keyboard[message.chat] = message_id
        self._marks.append((message, message_id))
        self._marks_waiting.set()
        if self.on_sent is not None:
            await self.on_sent(message, message_id)

    async def _again(self, message: Message, seconds: float, reason: str) -> None:
        """Try this message again in ``seconds``, before anything newer to the same chat; after
        ``max_attempts`` failed attempts, give it up."""
        if message.attempts + 1 >= self.max_attempts:
            await self._give_up(message, f"gave up after {message.attempts + 1} attempts: {reason}", True)
            return
        log.warning("sending outbox %s failed (%s), retrying in %.1f s", message.outbox_id, reason, seconds)
        await self.db.run(self._retry, message, seconds, reason)  # first: if it fails, a scan retries it
        self.next_for_chat[message.chat] = time.monotonic() + seconds
        retry = replace(message, attempts=message.attempts + 1)
        bisect.insort(self.queues.setdefault(message.chat, []), retry, key=_oldest_first)

    async def _give_up(self, message: Message, reason: str, reply_possible: bool) -> None:
        """The message failed for good: recorded with the reason, the user told if a message can still
        reach them (not for a notice of this kind: no chain of failures), and the chat goes on."""
        notice = await self.db.run(self._failed, message, reason, reply_possible)
        self._release([message])
        if notice is not None:
            self.push([notice])

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

    def _retry(self, s: Session, message: Message, seconds: float, reason: str) -> None:
        retry_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
        repo.mark_failed(s, message.outbox_id, retry_at, reason, dict(message.done) or None)

    def _failed(self, s: Session, message: Message, reason: str, reply_possible: bool) -> Message | None:
        """Mark it failed; queue the notice to the user, if one is to be sent (returned, to be pushed)."""
        repo.mark_failed(s, message.outbox_id, None, reason, dict(message.done) or None)
        row = s.get(Outbox, message.outbox_id)
        user = s.get(User, message.user_id)
        # ids only: the reason is the platform's, the text of the message is not logged
        log.warning(
            "outbox %s (%s) to user %s failed for good: %s",
            message.outbox_id,
            row.dedup_key if row is not None else "?",
            message.user_id,
            reason,
        )
        if row is None or row.status == repo.ERASED or user is None or user.deleted_at is not None:
            return None  # erased meanwhile: nothing more is written to them
        if not reply_possible or message.payload.get("failure_notice") or user.unreachable:
            return None
        payload = {
            "kind": "reply",
            "text": t("delivery.failed", message.lang),
            "buttons": [],
            "documents": [],
            "failure_notice": True,
        }
        outbox_id = repo.enqueue(s, user, payload, dedup_key=f"failed:{message.outbox_id}")
        if outbox_id is None:
            return None
        return Message(outbox_id, user.id, user.external_id, message.lang, payload, 0)

    def _blocked(self, s: Session, message: Message, reason: str) -> None:
        """403: the user blocked the bot. Mark them unreachable and give up on what is queued for them."""
        user = s.get(User, message.user_id)
        if user is not None:
            user.unreachable = True
        for row in repo.pending_for_user(s, message.user_id):
            repo.mark_failed(s, row.id, None, reason)
        repo.mark_failed(s, message.outbox_id, None, reason)
        log.info(
            "user %s blocked the bot: outbox %s and what was queued given up",
            message.user_id,
            message.outbox_id,
        )


def _oldest_first(message: Message) -> int:
    return message.outbox_id
