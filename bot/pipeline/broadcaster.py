"""The broadcaster of one channel: sends the rows of broadcasts (bot/store/broadcasts.py) through the
channel's own transport, within the channel's limits, after the owners' replies.

**One limiter.** The channel's overall limit is one token bucket, the :class:`OutboxSender`'s: a broadcast
send takes a token from it as a reply does, and from its own bucket too (``per_second``, 25/s by default
on Telegram, below the channel's 30/s), and it keeps the per-chat interval the sender keeps (the same
``next_for_chat``), so the platform sees one bot within its limits.

**Interactive replies always go first.** The broadcaster takes no token while the sender has a message
that could go now (:meth:`OutboxSender.has_ready`), never sends to a chat the sender is writing to or has
something queued for, and leaves one token of the shared bucket for a reply: at full rate, an owner's
answer still finds a token at once. Only the overall rate is shared; the broadcaster has its own sends
in flight (``max_in_flight``), so a slow platform call of a broadcast never holds a reply's slot.

**What the platform answers.** A 429 pauses the channel's broadcasting for its ``retry_after`` (the row
goes back, that wait not counted as an attempt); a network error, a 5xx or no answer within
``send_timeout`` retries the row after :func:`backoff`, up to ``max_attempts`` attempts, then it fails;
"blocked by the user" marks the row blocked and the user unreachable; a refusal fails the row with the
platform's reason (never the text); a message the platform may not carry now (:class:`Held`) is kept
``held``.

**Durability.** Rows are claimed ``batch`` at a time, the claim committed before any call; outcomes are
written down together every ``mark_every`` seconds. New rows are claimed only while fewer than ``batch``
claimed rows have no outcome written, so a kill leaves at most ``batch`` rows uncertain: :func:`recover`
at the next start sends them again (the documented in-flight bound, bot/store/broadcasts.py). A clean
stop writes every outcome and gives back the rows not started.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from bot.config import Settings
from bot.pipeline.broadcast_report import Reporter
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
from bot.pipeline.sender import OutboxSender
from bot.store import broadcasts
from bot.store.broadcasts import DEFAULT_BATCH, Claimed
from bot.store.db import Database

log = logging.getLogger("smebot.broadcast")


@dataclass(frozen=True)
class BroadcastConfig:
    """A channel's broadcast settings (bot/config.py: ``<channel>_broadcast_per_second``, ``broadcast_*``)."""

    per_second: float = 25.0  # broadcast messages a second, within the channel's overall limit
    batch: int = DEFAULT_BATCH  # rows claimed at a time: what a crash may send twice, at most
    send_timeout: float = 15.0  # seconds a send may take before it is tried again
    progress_every: float = 60.0  # seconds between two progress reports to the officer
    progress_percent: int = 25  # and a report each time this share more is dealt with
    max_in_flight: int = 8  # broadcast sends at once (beside the sender's own)

    @classmethod
    def of(cls, settings: Settings, channel: str) -> BroadcastConfig:
        """The settings of ``channel`` ("telegram", "zalo_bot"): its ``<channel>_broadcast_per_second``
        and ``<channel>_max_in_flight``, and the ``broadcast_*`` every channel shares."""
        return cls(
            per_second=float(getattr(settings, f"{channel}_broadcast_per_second")),
            batch=settings.broadcast_batch,
            send_timeout=settings.broadcast_send_timeout,
            progress_every=settings.broadcast_progress_every,
            progress_percent=settings.broadcast_progress_percent,
            max_in_flight=int(getattr(settings, f"{channel}_max_in_flight")),
        )


@dataclass(frozen=True)
class _Outcome:
    row: Claimed
    kind: str  # sent | retry | blocked | failed | held
    error: str = ""
    retry_at: dt.datetime | None = None
    counted: bool = True


@dataclass
class _Hold:
    """Claimed rows whose outcome is not written down yet: not started, being sent, or done."""

    hand: list[Claimed] = field(default_factory=list)  # not started, oldest first
    flying: int = 0
    outcomes: list[_Outcome] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.hand) + self.flying + len(self.outcomes)


class Broadcaster:
    def __init__(
        self,
        db: Database,
        channel: str,
        transport: Transport,
        sender: OutboxSender,
        config: BroadcastConfig | None = None,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        claim_every: float = 1.0,
        mark_every: float = 0.05,
        check_every: float = 1.0,
    ) -> None:
        self.db, self.channel, self.transport, self.sender = db, channel, transport, sender
        self.config = config or BroadcastConfig()
        # a quarter of a second's worth at once at most: an even pace, yet a pause of the loop (a busy
        # machine, a long transaction) is made up for instead of lost
        self.bucket = TokenBucket(self.config.per_second, max(1.0, self.config.per_second / 4))
        self.shared = sender.bucket  # the channel's overall limit, the sender's
        self.max_attempts, self.claim_every = max_attempts, claim_every
        self.mark_every, self.check_every = mark_every, check_every
        self.reporter = Reporter(
            db,
            every=self.config.progress_every,
            percent=self.config.progress_percent,
            per_second=self.config.per_second,
            queued=sender.request_scan,
        )
        self.hold = _Hold()
        self.parts: dict[int, dict[str, Any]] = {}  # the parts delivered of a row sent in parts
        self.paused_until = 0.0  # a 429: the channel's broadcasting waits until then
        self.next_claim = 0.0
        self.next_check = 0.0
        self.wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    # --- the loop ---------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Recover what a crash left claimed, then send until ``stop``; then finish the sends in flight,
        write every outcome down and give back the rows not started."""
        await self.flush()  # outcomes a failed run could not write (restarted by supervise): first
        recovered = await self.db.run(broadcasts.recover, self.channel)
        if recovered:
            log.warning(
                "%d broadcast rows of %s were being sent at a crash: sending them again",
                recovered,
                self.channel,
            )
        self.reporter.watch(await self.db.run(broadcasts.sending, self.channel))
        marker = asyncio.create_task(self._mark_loop())
        try:
            while not stop.is_set():
                self.wake.clear()
                if not await self.turn():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), timeout=self._idle_wait())
        finally:
            await asyncio.gather(*self._tasks, return_exceptions=True)
            marker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await marker
            await self.flush()
            unsent, self.hold.hand = self.hold.hand, []
            if unsent:
                await self.db.run(broadcasts.release, [row.recipient_id for row in unsent])

    async def turn(self) -> int:
        """Claim more rows if few are held, report when it is time, start every send that may go now."""
        now = time.monotonic()
        if now >= self.next_check:
            self.next_check = now + self.check_every
            await self.reporter.check()
        config, hold = self.config, self.hold
        wanted = config.batch - hold.count  # never more than ``batch`` rows claimed without an outcome
        # topped up before the hand runs dry, by a quarter of a batch at least (fewer transactions)
        if (
            len(hold.hand) < config.max_in_flight
            and wanted > 0
            and (wanted >= config.batch // 4 or not hold.hand)
            and now >= self.next_claim
        ):
            rows = await self.db.run(broadcasts.claim_batch, self.channel, wanted)
            hold.hand.extend(rows)
            self.reporter.watch({row.broadcast_id for row in rows})
            # fewer than asked: nothing more is due now; look again in a while
            self.next_claim = now + self.claim_every if len(rows) < wanted else 0.0
            if len(rows) < wanted:
                self.next_check = min(self.next_check, now)  # a broadcast may have just ended
        return self._start_sends()

    def _start_sends(self) -> int:
        started = 0
        now = time.monotonic()
        if now < self.paused_until:
            return 0
        sender = self.sender
        while self.hold.hand and self.hold.flying < self.config.max_in_flight:
            if sender.has_ready() or not self._token_free():  # the owners' replies first
                break
            row = next((r for r in self.hold.hand if self._chat_free(r.external_id, now)), None)
            if row is None:
                break
            self.hold.hand.remove(row)
            self.bucket.take()
            self.shared.take()
            sender.next_for_chat[row.external_id] = now + sender.chat_interval
            self.hold.flying += 1
            task = asyncio.create_task(self._send(row))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
        return started

    def _token_free(self) -> bool:
        """A token in the broadcast bucket, and one beyond a reply's reserve in the channel's."""
        if self.bucket.delay() > 0 or self.shared.delay() > 0:
            return False
        return self.shared.tokens >= 1 + self._reserve()

    def _reserve(self) -> float:
        return 1.0 if self.shared.capacity >= 2 else 0.0

    def _chat_free(self, chat: str, now: float) -> bool:
        sender = self.sender
        return (
            chat not in sender.busy
            and chat not in sender.queues
            and sender.next_for_chat.get(chat, 0.0) <= now
        )

    def _idle_wait(self) -> float:
        """Until a send may go (a token, the end of a pause), a claim or a check is due; a finished send
        or a written outcome wakes the loop sooner."""
        now = time.monotonic()
        wait = self.next_check - now
        if not self.hold.hand:
            wait = min(wait, self.next_claim - now)
        elif now < self.paused_until:
            wait = min(wait, self.paused_until - now)
        elif self.hold.flying < self.config.max_in_flight:
            shared = (1 + self._reserve() - self.shared.tokens) / self.shared.rate
            wait = min(wait, max(self.bucket.delay(), shared), 0.05)
        return min(max(wait, 0.001), 0.2)

    # --- one send ---------------------------------------------------------------------------------

    async def _send(self, row: Claimed) -> None:
        try:
            outcome = await self._deliver(row)
        except Exception as error:  # a bug: give up on this row, not on the broadcast
            log.exception("broadcast row %s: sending failed", row.recipient_id)
            outcome = _Outcome(row, "failed", f"internal error: {type(error).__name__}")
        if outcome.kind != "retry":
            self.parts.pop(row.recipient_id, None)
        self.hold.outcomes.append(outcome)
        self.hold.flying -= 1
        self.wake.set()

    async def _deliver(self, row: Claimed) -> _Outcome:
        done = self.parts.setdefault(row.recipient_id, {})

        async def progress(part: str, message_id: int | None, last: bool) -> None:
            done[part] = message_id if message_id is not None else True

        payload = {"kind": "reply", "text": row.text, "buttons": [], "documents": []}
        message = Message(
            row.recipient_id, row.user_id, row.external_id, row.lang, payload, row.attempts, done
        )
        try:
            async with asyncio.timeout(self.config.send_timeout):
                await self.transport.send(message, progress)
        except Flood as flood:
            self._pause(flood.retry_after)
            return self._retry(row, flood.retry_after, str(flood), counted=False)
        except Blocked as blocked:
            return _Outcome(row, "blocked", f"403 {blocked}")
        except Held as held:  # the platform may not carry it to them now (a Zalo OA user outside the window)
            return _Outcome(row, "held", held.reason)
        except Refused as refusal:
            return _Outcome(row, "failed", refusal.reason)
        except Transient as error:
            return self._retry(row, backoff(row.attempts - 1), str(error))
        except TimeoutError:
            return self._retry(row, backoff(row.attempts - 1), f"no answer in {self.config.send_timeout:g} s")
        return _Outcome(row, "sent")

    def _retry(self, row: Claimed, seconds: float, reason: str, *, counted: bool = True) -> _Outcome:
        if counted and row.attempts >= self.max_attempts:
            return _Outcome(row, "failed", f"gave up after {row.attempts} attempts: {reason}")
        retry_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
        return _Outcome(row, "retry", reason, retry_at, counted)

    def _pause(self, seconds: float) -> None:
        """A 429: no broadcast send on this channel for ``seconds`` (the replies keep their own pace)."""
        until = time.monotonic() + seconds
        if until > self.paused_until:
            if self.paused_until < time.monotonic():
                log.warning("%s asked to slow down: broadcasting waits %.1f s", self.channel, seconds)
            self.paused_until = until

    # --- bookkeeping --------------------------------------------------------------------------------

    async def _mark_loop(self) -> None:
        while True:
            await asyncio.sleep(self.mark_every)
            try:
                await self.flush()
            except Exception:  # the database is away: the outcomes are kept and tried again
                log.exception("could not record %d broadcast outcomes", len(self.hold.outcomes))
                await asyncio.sleep(0.5)

    async def flush(self) -> None:
        """Write down, in one transaction, every outcome since the last time; only then may more rows
        be claimed in their place."""
        batch, self.hold.outcomes = self.hold.outcomes, []
        if not batch:
            return
        try:
            await self.db.run(
                functools.partial(
                    broadcasts.record,
                    sent=[o.row.recipient_id for o in batch if o.kind == "sent"],
                    retries=[
                        (o.row.recipient_id, o.retry_at, o.error, o.counted)
                        for o in batch
                        if o.kind == "retry" and o.retry_at is not None
                    ],
                    blocked=[
                        (o.row.recipient_id, o.row.user_id, o.error) for o in batch if o.kind == "blocked"
                    ],
                    failed=[(o.row.recipient_id, o.error) for o in batch if o.kind == "failed"],
                    held=[(o.row.recipient_id, o.error) for o in batch if o.kind == "held"],
                )
            )
        except BaseException:
            self.hold.outcomes[:0] = batch
            raise
        if any(o.kind == "retry" for o in batch):
            self.next_claim = min(self.next_claim, time.monotonic() + self.claim_every)
        self.wake.set()
