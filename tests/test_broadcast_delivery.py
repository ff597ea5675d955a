"""Issue 16, broadcasts: durable delivery (bot/store/broadcasts.py) and the broadcaster
(bot/pipeline/broadcaster.py) that sends it through a channel's transport within the channel's limits,
the owners' replies first.

The store on a SQLite file and, with SMEBOT_TEST_POSTGRES_URL set, on PostgreSQL; the broadcaster with
real python-telegram-bot against the fake Bot API (tests/fakes/telegram_api.py). The 10,000-recipient
crash test is in tests/test_broadcast_crash.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.attachments import AttachmentStore
from bot.channels.telegram import TelegramChannel, TelegramTransport, make_bot
from bot.pipeline.broadcaster import BroadcastConfig, Broadcaster
from bot.pipeline.delivery import Message, TokenBucket
from bot.pipeline.sender import OutboxSender
from bot.service import Service
from bot.staff import Staff
from bot.store import broadcasts
from bot.store.db import Database, open_db
from bot.store.models import BroadcastRecipient, Outbox, Subscription, User, utcnow
from conversations.engine import Input
from rules.catalogue import default_catalogue
from tests.driver import Clock
from tests.fakes.telegram_api import FakeTelegram

TOKEN = "123456:TEST"
OFFICER = "telegram:999"
TEXTS = {
    "vi": "Chương trình mới: hỗ trợ chuyển đổi số. Gõ /unsubscribe để dừng nhận tin.",
    "en": "A new programme: digital transformation support. Type /unsubscribe to stop these messages.",
}


# --- helpers --------------------------------------------------------------------------------------


def make_users(s: Session, ids: list[int], *, lang: Callable[[int], str] = lambda i: "vi") -> list[User]:
    """Telegram users ``ids`` (created in one statement), in that order."""
    s.execute(insert(User), [{"channel": "telegram", "external_id": str(i), "lang": lang(i)} for i in ids])
    found = {u.external_id: u for u in s.scalars(select(User).where(User.channel == "telegram"))}
    return [found[str(i)] for i in ids]


def new_broadcast(s: Session, ids: list[int], programme: str = "qt-2026-digital") -> int:
    users = list(s.scalars(select(User).where(User.external_id.in_([str(i) for i in ids]))))
    users.sort(key=lambda u: ids.index(int(u.external_id)))
    return broadcasts.create(
        s,
        programme_id=programme,
        agency_id="so-cong-thuong-quang-tri",
        officer_key=OFFICER,
        texts=TEXTS,
        audience={"province": "quang-tri"},
        recipients=users,
    )


def recipient_rows(s: Session, broadcast_id: int) -> dict[str, BroadcastRecipient]:
    stmt = select(BroadcastRecipient).where(BroadcastRecipient.broadcast_id == broadcast_id)
    return {r.external_id: r for r in s.scalars(stmt)}


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = await open_db(db_url)
    yield database
    await database.close()


# --- the store ------------------------------------------------------------------------------------


async def test_create_copies_each_recipient_once_and_leaves_out_who_cannot_be_written_to(
    db: Database,
) -> None:
    def work(s: Session) -> int:
        users = make_users(s, [1, 2, 3, 4, 5], lang=lambda i: "en" if i == 2 else "vi")
        users[2].unreachable = True  # blocked the bot and has not written since
        users[3].deleted_at = utcnow()  # erased their data
        s.flush()
        return broadcasts.create(
            s,
            programme_id="qt-2026-digital",
            agency_id=None,
            officer_key=OFFICER,
            texts=TEXTS,
            audience={},
            recipients=[users[0], users[1], users[0], users[2], users[3], users[4]],
        )

    broadcast_id = await db.run(work)
    rows = await db.run(recipient_rows, broadcast_id)
    assert sorted(rows) == ["1", "2", "5"]
    assert (rows["2"].channel, rows["2"].lang, rows["2"].status) == ("telegram", "en", "pending")
    p = await db.run(broadcasts.progress, broadcast_id)
    assert p is not None
    assert (p.status, p.total, p.remaining, p.sent) == ("sending", 3, 3, 0)

    def twice(s: Session) -> None:  # the unique (broadcast, user) key holds in the database itself
        row = rows["1"]
        s.execute(
            insert(BroadcastRecipient).values(
                broadcast_id=broadcast_id, user_id=row.user_id, channel="telegram", external_id="1", lang="vi"
            )
        )

    with pytest.raises(IntegrityError):
        await db.run(twice)


async def test_a_broadcast_to_nobody_is_done_at_once(db: Database) -> None:
    broadcast_id = await db.run(lambda s: new_broadcast(s, []))
    p = await db.run(broadcasts.progress, broadcast_id)
    assert p is not None and (p.status, p.total) == ("done", 0)


async def test_claim_commits_the_attempt_oldest_broadcast_first_in_the_owner_language(db: Database) -> None:
    def setup(s: Session) -> tuple[int, int]:
        make_users(s, [1, 2, 3], lang=lambda i: {1: "vi", 2: "en", 3: "fr"}[i])
        return new_broadcast(s, [3, 1]), new_broadcast(s, [2])

    first, second = await db.run(setup)
    claimed = await db.run(broadcasts.claim_batch, "telegram", 2)
    assert [(c.broadcast_id, c.external_id) for c in claimed] == [(first, "3"), (first, "1")]
    assert claimed[0].text == TEXTS["vi"]  # no French text: Vietnamese
    assert all(c.attempts == 1 for c in claimed)
    rows = await db.run(recipient_rows, first)  # read in another transaction: it was committed
    assert {r.status for r in rows.values()} == {"sending"}
    assert all(r.attempts == 1 and r.attempted_at is not None for r in rows.values())
    nothing_else_on_zalo = await db.run(broadcasts.claim_batch, "zalo_bot", 10)
    assert nothing_else_on_zalo == []
    rest = await db.run(broadcasts.claim_batch, "telegram", 10)
    assert [(c.broadcast_id, c.external_id, c.text) for c in rest] == [(second, "2", TEXTS["en"])]
    assert await db.run(broadcasts.claim_batch, "telegram", 10) == []  # all claimed


async def test_outcomes_progress_retry_time_and_finish(db: Database) -> None:
    broadcast_id = await db.run(
        lambda s: (make_users(s, [1, 2, 3, 4, 5]), new_broadcast(s, [1, 2, 3, 4, 5]))[1]
    )
    claimed = {c.external_id: c for c in await db.run(broadcasts.claim_batch, "telegram", 10)}
    later = utcnow() + dt.timedelta(hours=1)
    await db.run(
        lambda s: broadcasts.record(
            s,
            sent=[claimed["1"].recipient_id, claimed["2"].recipient_id],
            retries=[(claimed["3"].recipient_id, later, "retry after 5s", False)],
            blocked=[
                (
                    claimed["4"].recipient_id,
                    claimed["4"].user_id,
                    "403 Forbidden: bot was blocked by the user",
                )
            ],
            failed=[(claimed["5"].recipient_id, "400 Bad Request: chat not found")],
        )
    )
    p = await db.run(broadcasts.progress, broadcast_id)
    assert p is not None
    assert (p.sent, p.failed, p.blocked, p.remaining, p.total) == (2, 1, 1, 1, 5)
    rows = await db.run(recipient_rows, broadcast_id)
    assert rows["3"].attempts == 0  # a 429 is not an attempt toward giving up
    assert rows["5"].error == "400 Bad Request: chat not found"
    blocked_user = await db.run(lambda s: s.get(User, claimed["4"].user_id).unreachable)
    assert blocked_user is True
    assert await db.run(broadcasts.claim_batch, "telegram", 10) == []  # "3" waits for its retry time
    assert await db.run(broadcasts.finish, broadcast_id) is None  # not while "3" is left
    again = await db.run(broadcasts.claim_batch, "telegram", 10, later + dt.timedelta(seconds=1))
    assert [c.external_id for c in again] == ["3"]
    await db.run(broadcasts.mark_sent_many, [again[0].recipient_id])
    final = await db.run(broadcasts.finish, broadcast_id)
    assert final is not None and (final.status, final.sent, final.remaining) == ("done", 3, 0)
    assert final.finished_at is not None
    assert await db.run(broadcasts.finish, broadcast_id) is None  # once


async def test_recover_puts_the_in_flight_claim_back_and_release_does_not_count_it(db: Database) -> None:
    broadcast_id = await db.run(lambda s: (make_users(s, [1, 2, 3]), new_broadcast(s, [1, 2, 3]))[1])
    first = await db.run(broadcasts.claim_batch, "telegram", 2)
    assert await db.run(broadcasts.recover, "zalo_bot") == 0  # another channel's rows are not touched
    assert await db.run(broadcasts.recover, "telegram") == 2  # a crash: sent again (at least once)
    again = await db.run(broadcasts.claim_batch, "telegram", 10)
    assert sorted(c.external_id for c in again) == ["1", "2", "3"]
    assert {c.external_id: c.attempts for c in again} == {"1": 2, "2": 2, "3": 1}
    await db.run(broadcasts.release, [c.recipient_id for c in again])  # a clean stop before sending
    rows = await db.run(recipient_rows, broadcast_id)
    assert {k: (r.status, r.attempts) for k, r in rows.items()} == {
        "1": ("pending", 1),
        "2": ("pending", 1),
        "3": ("pending", 0),
    }
    assert [c.external_id for c in first] == ["1", "2"]


async def test_cancel_stops_what_is_pending_and_a_retry_in_flight_stays_out(db: Database) -> None:
    broadcast_id = await db.run(lambda s: (make_users(s, [1, 2, 3, 4]), new_broadcast(s, [1, 2, 3, 4]))[1])
    claimed = await db.run(broadcasts.claim_batch, "telegram", 2)  # 1 and 2 in flight
    p = await db.run(broadcasts.cancel, broadcast_id)
    assert p is not None and (p.status, p.cancelled, p.remaining) == ("cancelled", 2, 2)
    assert await db.run(broadcasts.cancel, broadcast_id) is None  # not sending any more
    await db.run(broadcasts.mark_sent_many, [claimed[0].recipient_id])  # the send in flight went through
    await db.run(broadcasts.mark_retry, claimed[1].recipient_id, utcnow(), "502 Bad Gateway")
    assert await db.run(broadcasts.claim_batch, "telegram", 10) == []
    p = await db.run(broadcasts.progress, broadcast_id)
    assert p is not None and (p.sent, p.cancelled, p.remaining) == (1, 3, 0)


async def test_people_who_left_since_the_broadcast_was_made_are_not_sent_it(db: Database) -> None:
    def setup(s: Session) -> int:
        users = make_users(s, [1, 2, 3, 4])
        broadcast_id = new_broadcast(s, [1, 2, 3, 4])
        users[0].unreachable = True  # blocked the bot during an earlier broadcast
        users[1].deleted_at = utcnow()  # /deleteme
        s.add(Subscription(user_id=users[2].id, topics={}, consent_version="1", unsubscribed_at=utcnow()))
        return broadcast_id

    broadcast_id = await db.run(setup)
    claimed = await db.run(broadcasts.claim_batch, "telegram", 10)
    assert [c.external_id for c in claimed] == ["4"]
    rows = await db.run(recipient_rows, broadcast_id)
    assert {k: (r.status, r.error) for k, r in rows.items() if k != "4"} == {
        "1": ("blocked", "unreachable"),
        "2": ("cancelled", "erased"),
        "3": ("cancelled", "unsubscribed"),
    }


# --- the broadcaster against the fake Bot API -----------------------------------------------------


def officer_outbox(s: Session) -> list[tuple[str, str]]:
    stmt = select(Outbox.dedup_key, Outbox.payload).where(Outbox.external_id == OFFICER.split(":")[1])
    return [(key, payload["text"]) for key, payload in s.execute(stmt).all()]


class Frozen:
    """A clock that moves only when told: the token buckets' refills are decided by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def pieces(fake: FakeTelegram, tmp_path: Path) -> tuple[Database, Service, TelegramTransport]:
    db = await open_db(f"sqlite+aiosqlite:///{tmp_path / 'smebot.db'}")
    service = Service(db, default_catalogue(), Clock(), Staff(), documents_dir=tmp_path / "documents")
    bot = make_bot(TOKEN, fake.base_url)
    await bot.initialize()
    return db, service, TelegramTransport(bot, service)


def broadcast_texts(fake: FakeTelegram) -> list[tuple[int, str]]:
    """(chat, text) of every sendMessage the fake carried out, in order."""
    out = []
    for call in fake.calls("sendMessage"):
        if call.status == 200:
            out.append((int(call.params["chat_id"]), str(call.params.get("text"))))
    return out


async def test_a_reply_queued_while_a_broadcast_runs_goes_before_further_broadcast_rows(
    tmp_path: Path,
) -> None:
    async with FakeTelegram(token=TOKEN) as fake:
        for i in [*range(1, 21), 500]:
            fake.user(i).has_written = True
        db, _, transport = await pieces(fake, tmp_path)
        try:
            await db.run(
                lambda s: (make_users(s, [*range(1, 21), 500, 999]), new_broadcast(s, list(range(1, 21))))
            )
            clock = Frozen()
            sender = OutboxSender(db, "telegram", transport, per_second=30, chat_interval=0)
            sender.bucket = TokenBucket(30, clock=clock)  # 30 tokens, refilled only when the test says
            config = BroadcastConfig(per_second=30, max_in_flight=4)
            broadcaster = Broadcaster(db, "telegram", transport, sender, config, check_every=3600)
            broadcaster.bucket = TokenBucket(30, clock=clock)
            broadcaster.reporter.clock = clock
            assert await broadcaster.turn() == 4  # claimed, four sends started
            await asyncio.gather(*broadcaster._tasks)
            reply = Message(
                10**6, 0, "500", "vi", {"kind": "reply", "text": "Trả lời chủ doanh nghiệp", "buttons": []}, 0
            )
            sender.push([reply])
            assert sender.has_ready()
            assert await broadcaster.turn() == 0  # a reply could go: the broadcast takes no token
            assert sender._start_sends() == 1
            await asyncio.gather(*sender._tasks)
            assert not sender.has_ready()
            assert await broadcaster.turn() == 4
            await asyncio.gather(*broadcaster._tasks)
            chats = [chat for chat, _ in broadcast_texts(fake)]  # four at once arrive in any order
            assert (set(chats[:4]), chats[4], set(chats[5:])) == ({1, 2, 3, 4}, 500, {5, 6, 7, 8})
            # the reserve: with one token left in the channel's bucket, a broadcast leaves it for a reply
            sender.bucket.tokens = 1.5
            assert await broadcaster.turn() == 0
            clock.now += 1.0  # a second later the bucket is full again
            assert await broadcaster.turn() == 4
            await asyncio.gather(*broadcaster._tasks)
            await broadcaster.flush()
            p = await db.run(broadcasts.progress, 1)
            assert p is not None and (p.sent, p.remaining) == (12, 8)
            # progress to the officer: 60 % done since the pace was first seen, past the 25 % and 50 % steps
            await broadcaster.reporter.check()
            [(key, text)] = await db.run(officer_outbox)
            assert key == "broadcast:1:progress:60"
            clock.now += 61  # the interval is over, but a report of the same figures is not queued twice
            await broadcaster.reporter.check()
            assert len(await db.run(officer_outbox)) == 1
            assert "12/20" in text and "Đã gửi: 12" in text and "còn lại: 8" in text
        finally:
            await transport.bot.shutdown()
            await db.close()


async def run_channel(
    fake: FakeTelegram, tmp_path: Path, config: BroadcastConfig
) -> tuple[TelegramChannel, Database, Service, asyncio.Event, asyncio.Task[None]]:
    db = await open_db(f"sqlite+aiosqlite:///{tmp_path / 'smebot.db'}")
    service = Service(db, default_catalogue(), Clock(), Staff(), documents_dir=tmp_path / "documents")
    files = AttachmentStore(tmp_path / "files", 1 << 20, ("image/", "application/pdf"))
    channel = TelegramChannel(
        service,
        db,
        make_bot(TOKEN, fake.base_url),
        files,
        per_second=1000,
        chat_interval=0,
        broadcasts=config,
    )
    stop = asyncio.Event()
    return channel, db, service, stop, asyncio.create_task(channel.run(stop))


async def until(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Poll ``check`` (sync or async) until it gives something true; its value."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still not true after {timeout} s")
        await asyncio.sleep(0.05)


def en_officer(i: int) -> str:
    return "en" if i == 999 else "vi"


def finished(broadcast_id: int) -> Callable[[dict[str, Any]], bool]:
    """The officer's final report of a broadcast (English)."""
    return lambda m: f"#{broadcast_id} " in (m.get("text") or "") and "finished in" in (m.get("text") or "")


def db_rows(tmp_path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "smebot.db") as conn:
        return conn.execute(sql, args).fetchall()


async def test_429_timeouts_and_blocked_users_each_reachable_owner_once_and_the_officer_told(
    tmp_path: Path,
) -> None:
    ids = list(range(1, 41))
    async with FakeTelegram(token=TOKEN) as fake:
        for i in [*ids, 999]:
            fake.user(i).has_written = True
        for i in (7, 21):
            fake.block(i)
        fake.inject("sendMessage", 429, retry_after=1, times=2)
        fake.inject("sendMessage", 502)
        config = BroadcastConfig(per_second=200, send_timeout=0.5, max_in_flight=4)
        _channel, db, _, stop, task = await run_channel(fake, tmp_path, config)
        try:

            def setup(s: Session) -> int:
                make_users(s, [*ids, 999], lang=lambda i: "en" if i % 2 else "vi")
                return new_broadcast(s, ids)

            broadcast_id = await db.run(setup)
            await until(lambda: len([c for c in fake.calls("sendMessage") if c.status]) >= 3)
            fake.delay("sendMessage", 3.0, times=2)  # longer than the broadcast's time-out: not carried out
            officer = fake.user(999)
            report = await officer.wait_for("finished in", timeout=60)
            # the two calls that hung were given up by the bot (its time-out) before the fake carried them out
            await until(lambda: len([c for c in fake.calls("sendMessage") if c.status == 499]) == 2)
            sent = broadcast_texts(fake)
            for i in ids:
                got = [text for chat, text in sent if chat == i]
                expected = [] if i in (7, 21) else [TEXTS["en" if i % 2 else "vi"]]
                assert got == expected, i
            assert "Sent: 38 · failed: 0 · blocked the bot: 2" in report["text"]
            p = await db.run(broadcasts.progress, broadcast_id)
            assert p is not None and (p.status, p.sent, p.blocked, p.remaining) == ("done", 38, 2, 0)
            blocked = db_rows(tmp_path, "SELECT external_id, unreachable FROM users WHERE unreachable")
            assert sorted(blocked) == [("21", 1), ("7", 1)]
            statuses = db_rows(
                tmp_path, "SELECT status, count(*) FROM broadcast_recipients GROUP BY status ORDER BY status"
            )
            assert statuses == [("blocked", 2), ("sent", 38)]
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)
            await db.close()


async def test_cancel_mid_way_and_a_clean_stop_resumes_where_it_stopped(tmp_path: Path) -> None:
    ids = list(range(1, 61))
    async with FakeTelegram(token=TOKEN) as fake:
        for i in [*ids, 999]:
            fake.user(i).has_written = True
        config = BroadcastConfig(per_second=20, max_in_flight=2, batch=10)
        channel, db, _, stop, task = await run_channel(fake, tmp_path, config)
        try:
            await db.run(lambda s: (make_users(s, [*ids, 999], lang=en_officer), new_broadcast(s, ids[:30])))
            await until(lambda: len(broadcast_texts(fake)) >= 5)
            stop.set()  # a clean stop: what was claimed and not sent is given back
            await asyncio.wait_for(task, 20)
            assert db_rows(tmp_path, "SELECT count(*) FROM broadcast_recipients WHERE status='sending'") == [
                (0,)
            ]
            sent_before = len(broadcast_texts(fake))
            stop = asyncio.Event()
            bot = make_bot(TOKEN, fake.base_url)
            again = TelegramChannel(
                channel.service,
                db,
                bot,
                channel.attachments,
                per_second=1000,
                chat_interval=0,
                broadcasts=config,
            )
            task = asyncio.create_task(again.run(stop))
            await fake.user(999).wait_for("finished in", timeout=60)
            chats = [chat for chat, _ in broadcast_texts(fake) if chat != 999]
            assert sorted(chats) == ids[:30]  # resumed: every one once
            assert len(chats) > sent_before

            second = await db.run(lambda s: new_broadcast(s, ids[30:]))
            await until(lambda: len([c for c, _ in broadcast_texts(fake) if c > 30 and c != 999]) >= 3)
            cancelled = await db.run(broadcasts.cancel, second)
            assert cancelled is not None and cancelled.status == "cancelled"
            await until(
                lambda: not db_rows(tmp_path, "SELECT id FROM broadcast_recipients WHERE status='sending'")
            )
            later = [c for c, _ in broadcast_texts(fake) if c > 30 and c != 999]
            p = await db.run(broadcasts.progress, second)
            assert p is not None and p.remaining == 0 and p.sent == len(later) and p.sent + p.cancelled == 30
            assert len(later) < 30
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)
            await db.close()


async def test_an_owner_who_blocked_the_bot_is_left_out_until_they_write_again(tmp_path: Path) -> None:
    async with FakeTelegram(token=TOKEN) as fake:
        for i in (1, 2, 999):
            fake.user(i).has_written = True
        fake.block(2)
        config = BroadcastConfig(per_second=100)
        _channel, db, service, stop, task = await run_channel(fake, tmp_path, config)
        try:
            first = await db.run(
                lambda s: (make_users(s, [1, 2, 999], lang=en_officer), new_broadcast(s, [1, 2]))[1]
            )
            await fake.user(999).wait_for(finished(first), timeout=30)
            second = await db.run(lambda s: new_broadcast(s, [1, 2]))
            p = await db.run(broadcasts.progress, second)
            assert p is not None and p.total == 1  # 2 is unreachable: not among the recipients
            fake.unblock(2)
            await service.handle("telegram", "2", Input(text="/help"))  # they write: reachable again
            third = await db.run(lambda s: new_broadcast(s, [1, 2]))
            await fake.user(999).wait_for(finished(third), timeout=30)
            to_2 = [text for chat, text in broadcast_texts(fake) if chat == 2]
            assert (
                to_2.count(TEXTS["vi"]) == 1
            )  # the third only (the first was refused, the second left 2 out)
            p = await db.run(broadcasts.progress, third)
            assert p is not None and (p.total, p.sent) == (2, 2)
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)
            await db.close()
