"""The outbox sender, the same for every channel: delivers queued messages through a channel's
transport, within the platform's limits.

Replies reach it in memory, handed over by the dispatcher right after the transaction that queued them
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
- a blocked bot (403 "blocked by the user") marks the user unreachable and stops sending to them;
- a message the platform may not carry now (:class:`Held`: a Zalo OA user outside the window) is kept as
  ``held`` with the reason, neither sent nor retried.

A failed message never holds back the ones after it. A reply in parts (its text cut to the platform's
limit, each document) is delivered part by part: each part is written down in the row's ``parts`` as it
goes, so a retry, or a restart, sends only the parts not delivered yet.

"Sent" is written in batches, one transaction for every message delivered meanwhile. Delivery is at least
once: a crash between a send and its bookkeeping sends that part again on restart, and so does a send the
platform carried out but whose answer never arrived (a time-out, a dropped connection).
"""

import asyncio
import bisect
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any

from bot.pipeline.delivery import (
    MAX_ATTEMPTS,
    Blocked,
    Flood,
    Held,
    Message,
    Refused,
    TokenBucket,
    Transient,
    Transport,
    backoff,
)
from bot.store import outbox
from bot.store.db import Database
from locales import t

log = logging.getLogger("smebot.sender")


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
        on_held: Callable[[Message, str], Awaitable[None]] | None = None,
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
        self.on_held = on_held  # a message held (Held): who decided it hears of it
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

    def has_ready(self) -> bool:
        """Whether a queued message could go now but for the overall limit (its chat free and past its
        interval): a broadcast (bot/pipeline/broadcaster.py) takes no token while one does."""
        now = time.monotonic()
        return any(c not in self.busy and self.next_for_chat.get(c, 0.0) <= now for c in self.queues)

    def request_scan(self) -> None:
        """Read the outbox table at the next turn (something was queued that was not pushed)."""
        self._scan_wanted = True
        self.wake.set()

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
                due = [
                    Message(d.outbox_id, d.user_id, d.external_id, d.lang, d.payload, d.attempts, d.parts)
                    for d in await self.db.run(outbox.due_messages, self.channel, 500)
                ]
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
                    await self.db.run(outbox.mark_parts, message.outbox_id, dict(done))
                except Exception:  # at worst this part goes twice, after a crash: at least once
                    log.exception("could not record a part of outbox %s", message.outbox_id)

        refused: list[Refused] = []
        message_id: int | None = None
        while True:
            try:
                message_id = await self.transport.send(replace(message, done=done), progress)
            except Held as held:  # not sent blind, not retried: whoever decided it told, then kept so
                if self.on_held is not None:  # first: a crash before the hold reports it again, once
                    await self.on_held(message, held.reason)
                await self.db.run(outbox.hold, message.outbox_id, held.reason, dict(done) or None)
                log.info("outbox %s to user %s held: %s", message.outbox_id, message.user_id, held.reason)
                self._release([message])
                return
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
                await self.db.run(outbox.block, message.outbox_id, message.user_id, f"403 {blocked}")
                log.info(
                    "user %s blocked the bot: outbox %s and what was queued given up",
                    message.user_id,
                    message.outbox_id,
                )
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
        retry_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
        parts = dict(message.done) or None
        # first: if it fails, a scan retries it
        await self.db.run(outbox.mark_failed, message.outbox_id, retry_at, reason, parts)
        self.next_for_chat[message.chat] = time.monotonic() + seconds
        retry = replace(message, attempts=message.attempts + 1)
        bisect.insort(self.queues.setdefault(message.chat, []), retry, key=_oldest_first)

    async def _give_up(self, message: Message, reason: str, reply_possible: bool) -> None:
        """The message failed for good: recorded with the reason, the user told if a message can still
        reach them (not for a notice of this kind: no chain of failures), and the chat goes on."""
        notice = self._notice(message, reply_possible)
        parts = dict(message.done) or None
        dedup, notice_id = await self.db.run(
            outbox.give_up, message.outbox_id, message.user_id, reason, parts, notice
        )
        # ids only: the reason is the platform's, the text of the message is not logged
        log.warning(
            "outbox %s (%s) to user %s failed for good: %s", message.outbox_id, dedup, message.user_id, reason
        )
        self._release([message])
        if notice is not None and notice_id is not None:
            self.push([Message(notice_id, message.user_id, message.chat, message.lang, notice, 0)])

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
            sent = [
                (m.outbox_id, {**m.payload, "message_id": i} if i is not None else None) for m, i in batch
            ]
            await self.db.run(outbox.mark_sent_many, sent)
        except BaseException:
            self._marks[:0] = batch
            raise
        self._release(message for message, _ in batch)

    def _notice(self, message: Message, reply_possible: bool) -> dict[str, Any] | None:
        """The message telling the user something went wrong; none when it cannot reach them, nor for such
        a notice itself (no chain of failures)."""
        if not reply_possible or message.payload.get("failure_notice"):
            return None
        text = t("delivery.failed", message.lang)
        return {"kind": "reply", "text": text, "buttons": [], "documents": [], "failure_notice": True}


def _oldest_first(message: Message) -> int:
    return message.outbox_id
