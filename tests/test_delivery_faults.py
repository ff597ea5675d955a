"""Issue 13, points 1-3: delivery never blocks on one message.

The bot (real python-telegram-bot, the real sender, a real SQLite file) talks over HTTP to the fake Bot
API, which is made to answer 400/403/404, 429, 5xx, to drop connections or to answer too late.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from telegram import Bot

from bot.attachments import AttachmentStore
from bot.channels.aiohttp_request import AiohttpRequest
from bot.channels.telegram import TelegramChannel, api_urls, make_bot
from bot.pipeline.delivery import split_text, valid_text
from bot.service import Service
from bot.staff import Staff
from bot.store import outbox
from bot.store import users as users_store
from bot.store.db import Database, open_db
from bot.store.models import Outbox
from locales import t
from rules.catalogue import default_catalogue
from tests.driver import Clock
from tests.fakes.telegram_api import FakeTelegram, FakeUser

TOKEN = "123456:TEST"
WELCOME = "Nghị định 13"
SORRY = t("delivery.failed", "vi")


@dataclass
class Bed:
    fake: FakeTelegram
    channel: TelegramChannel
    db: Database
    path: Path

    def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.path) as conn:
            return conn.execute(sql, args).fetchall()


async def start(fake: FakeTelegram, tmp_path: Path, bot: Bot | None = None) -> tuple[Bed, asyncio.Event, Any]:
    path = tmp_path / "smebot.db"
    db = await open_db(f"sqlite+aiosqlite:///{path}")
    service = Service(db, default_catalogue(), Clock(), Staff(), documents_dir=tmp_path / "documents")
    store = AttachmentStore(tmp_path / "files", 1 << 20, ("image/", "application/pdf"))
    channel = TelegramChannel(service, db, bot or make_bot(TOKEN, fake.base_url), store, chat_interval=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(channel.run(stop))
    return Bed(fake, channel, db, path), stop, task


@pytest.fixture
async def bed(tmp_path: Path) -> AsyncIterator[Bed]:
    async with FakeTelegram(token=TOKEN) as fake:
        harness, stop, task = await start(fake, tmp_path)
        try:
            yield harness
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)
            await harness.db.close()


async def settled(bed: Bed, update_id: int | None = None, timeout: float = 20.0) -> None:
    """Wait until ``update_id`` (if given) is handled and no outbox row is pending."""
    deadline = asyncio.get_running_loop().time() + timeout
    query = "SELECT 1 FROM processed_updates WHERE update_id=? AND processed_at IS NOT NULL"
    while update_id is not None and not bed.rows(query, str(update_id)):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"update {update_id} not handled")
        await asyncio.sleep(0.05)
    while bed.rows("SELECT id FROM outbox WHERE status='pending'"):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"outbox still pending: {bed.rows('SELECT * FROM outbox')}")
        await asyncio.sleep(0.05)
    await bed.channel.sender.flush_marks()


def texts(user: FakeUser) -> list[str]:
    return [m.get("text") or "" for m in user.messages()]


async def queue(bed: Bed, external_id: str, payload: dict[str, Any]) -> int:
    """Put a reply in the outbox as the service does, and tell the sender."""

    def work(s: Any) -> int:
        user = users_store.get_or_create_user(s, "telegram", external_id)
        s.flush()
        outbox_id = outbox.enqueue(s, user, {"kind": "reply", "buttons": [], "documents": [], **payload})
        assert outbox_id is not None
        return outbox_id

    outbox_id = await bed.db.run(work)
    bed.channel.sender.request_scan()
    return outbox_id


# --- 1. permanent errors fail the message, transient ones are retried and capped ---------------------


@pytest.mark.parametrize(
    ("status", "description", "told", "recorded"),
    [
        (400, "Bad Request: message is too long", True, "400 Message is too long"),
        (403, "Forbidden: user is deactivated", False, "403 Forbidden: user is deactivated"),
        (404, "Not Found", False, "404 "),
        (413, "Request Entity Too Large", True, "400 Request Entity Too Large"),  # a 4xx PTB has no class for
    ],
)
async def test_a_refused_message_fails_once_and_the_next_ones_go(
    bed: Bed, caplog: pytest.LogCaptureFixture, status: int, description: str, told: bool, recorded: str
) -> None:
    caplog.set_level(logging.INFO)
    user = bed.fake.user(3100)
    bed.fake.inject("sendMessage", status, description=description)
    update_id = await user.send_text("/start")
    await settled(bed, update_id)
    (row,) = bed.rows(
        "SELECT id, status, error FROM outbox WHERE dedup_key LIKE ?", f"reply:telegram:{update_id}:%"
    )
    assert row[1] == "failed" and row[2].startswith(recorded)  # recorded, with the platform's reason
    refused = [c for c in bed.fake.calls("sendMessage") if c.status == status]
    assert len(refused) == 1  # not retried
    assert (SORRY in texts(user)) is told  # told, where a message can still reach them
    logged = [
        r.getMessage()
        for r in caplog.records
        if r.name == "smebot.sender" and "failed for good" in r.getMessage()
    ]
    assert logged and f"outbox {row[0]}" in logged[0] and str(update_id) in logged[0]
    assert not any(WELCOME in r.getMessage() for r in caplog.records)  # ids, never the text
    # the chat is not held back: the next message is answered
    await user.send_text("/help")
    assert await user.wait_for("/start", timeout=15)
    assert bed.rows("SELECT unreachable FROM users WHERE external_id='3100'") == [(0,)]


async def test_transient_errors_are_retried_then_given_up_after_the_cap(bed: Bed) -> None:
    bed.channel.sender.max_attempts = 3
    user = bed.fake.user(3200)
    bed.fake.inject("sendMessage", 502, times=1)
    bed.fake.inject("sendMessage", 500, times=1)
    bed.fake.drop("sendMessage", times=1)  # no answer at all
    update_id = await user.send_text("/start")
    await settled(bed, update_id)
    (row,) = bed.rows(
        "SELECT status, attempts, error FROM outbox WHERE dedup_key LIKE ?", f"reply:telegram:{update_id}:%"
    )
    assert row[0] == "failed" and row[1] == 3 and "gave up after 3 attempts" in row[2]
    assert texts(user) == [SORRY]  # the notice went through once the platform was back
    await user.send_text("/help")
    assert await user.wait_for("/start", timeout=15)


async def test_transient_errors_below_the_cap_deliver_once(bed: Bed) -> None:
    user = bed.fake.user(3300)
    bed.fake.inject("sendMessage", 503, times=2)
    bed.fake.inject("sendMessage", 429, retry_after=1)
    await user.send_text("/start")
    await user.wait_for(WELCOME, timeout=20)
    await settled(bed)
    assert sum(WELCOME in x for x in texts(user)) == 1
    assert bed.rows("SELECT status FROM outbox") == [("sent",)]


async def test_a_send_that_times_out_is_retried(tmp_path: Path) -> None:
    """A client time-out (the fake answers after the bot stopped waiting) is a transient error."""
    async with FakeTelegram(token=TOKEN) as fake:
        base, files = api_urls(fake.base_url)
        short = AiohttpRequest(read_timeout=0.5, write_timeout=0.5, connect_timeout=0.5)
        bot = Bot(
            TOKEN,
            base_url=base,
            base_file_url=files,
            request=short,
            get_updates_request=AiohttpRequest(read_timeout=40),
        )
        harness, stop, task = await start(fake, tmp_path, bot)
        try:
            user = fake.user(3400)
            fake.delay("sendMessage", 2.0)  # carried out only if the client still waits: it does not
            await user.send_text("/start")
            await user.wait_for(WELCOME, timeout=20)
            await settled(harness)
            assert sum(WELCOME in x for x in texts(user)) == 1
            (row,) = harness.rows("SELECT status, attempts FROM outbox")
            assert row == ("sent", 2)  # one time-out, then delivered
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)
            await harness.db.close()


# --- 2. never send what the platform refuses -------------------------------------------------------


def test_split_text_cuts_at_line_breaks_within_the_limit() -> None:
    lines = [f"Dòng {n}: " + "chữ " * 30 for n in range(200)]
    text = "\n".join(lines)
    pieces = split_text(text, 4096)
    assert len(pieces) > 1 and all(len(p) <= 4096 for p in pieces)
    assert all(p.startswith("Dòng ") for p in pieces)  # every cut at a line break
    assert "\n".join(pieces).split() == text.split()  # nothing lost
    assert split_text("short", 2000) == ["short"]
    assert split_text("", 10) == []


def test_split_text_falls_back_to_spaces_then_characters_and_counts_utf16() -> None:
    assert split_text("aaaa bbbb cccc", 9) == ["aaaa bbbb", "cccc"]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    emoji = "😀" * 5  # two UTF-16 units each, as Telegram counts them
    assert split_text(emoji, 4) == ["😀😀", "😀😀", "😀"]


def test_lone_surrogates_are_replaced() -> None:
    assert valid_text("a\ud800b\udfffc") == "a\ufffdb\ufffdc"
    assert split_text("x\udc80y", 10) == ["x\ufffdy"]
    ("".join(split_text("x\udc80y", 10))).encode("utf-8")  # encodes: no surrogate left


async def test_a_long_reply_arrives_whole_in_pieces_and_invalid_unicode_is_mended(bed: Bed) -> None:
    user = bed.fake.user(3500)
    await user.send_text("/start")
    await user.wait_for(WELCOME, timeout=15)
    long = "\n".join(
        f"{n}. Chi phí tư vấn {n} triệu đồng, hỗ trợ 50%" for n in range(400)
    )  # > 14,000 characters
    await queue(bed, "3500", {"text": long + "\nhết \ud800"})
    await settled(bed)
    got = texts(user)[1:]
    assert len(got) >= 4 and all(len(x) <= 4096 for x in got)
    assert "\n".join(got).split() == (long + "\nhết \ufffd").split()
    assert not [c for c in bed.fake.calls("sendMessage") if c.status != 200]  # none refused
    assert bed.rows("SELECT status FROM outbox ORDER BY id DESC LIMIT 1") == [("sent",)]


# --- 3. the parts of one reply are delivered once each ---------------------------------------------


async def test_a_failed_document_does_not_send_the_text_again(bed: Bed, tmp_path: Path) -> None:
    user = bed.fake.user(3600)
    await user.send_text("/start")
    await user.wait_for(WELCOME, timeout=15)
    docs = []
    for n in (1, 2):
        path = tmp_path / f"ho-so-{n}.pdf"
        path.write_bytes(b"%PDF-1.4 " + bytes([n]) * 100)
        docs.append({"path": str(path), "filename": path.name, "mime": "application/pdf"})
    bed.fake.inject("sendDocument", 502, times=1)
    bed.fake.inject("sendDocument", 429, retry_after=1)
    bed.fake.drop("sendDocument", after=True)  # sent, but the bot cannot know: it sends it again
    outbox_id = await queue(bed, "3600", {"text": "Đã nộp hồ sơ HS-2026-000001", "documents": docs})
    await settled(bed)
    assert sum("Đã nộp hồ sơ" in x for x in texts(user)) == 1  # the text went once
    names = [m["document"]["file_name"] for m in user.messages() if "document" in m]
    # the first document: 502, 429, then carried out without an answer (the at-least-once window: once
    # more), then acknowledged; the second one once
    assert names == ["ho-so-1.pdf", "ho-so-1.pdf", "ho-so-2.pdf"]
    (row,) = bed.rows("SELECT status, parts FROM outbox WHERE id=?", outbox_id)
    assert row[0] == "sent" and "text:0" in row[1] and "doc:0:0" in row[1]


async def test_a_refused_document_fails_alone(bed: Bed, tmp_path: Path) -> None:
    user = bed.fake.user(3700)
    await user.send_text("/start")
    await user.wait_for(WELCOME, timeout=15)
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(b"%PDF-1.4 good")
    bad.write_bytes(b"%PDF-1.4 bad")
    docs = [{"path": str(p), "filename": p.name, "mime": "application/pdf"} for p in (bad, good)]
    bed.fake.inject("sendDocument", 400, description="Bad Request: file is too big")
    outbox_id = await queue(bed, "3700", {"text": "Hai tệp", "documents": docs})
    await settled(bed)
    names = [m["document"]["file_name"] for m in user.messages() if "document" in m]
    assert names == ["good.pdf"]  # the other part still went
    (row,) = bed.rows("SELECT status, error FROM outbox WHERE id=?", outbox_id)
    assert row[0] == "failed" and "file is too big" in row[1].lower()
    assert texts(user).count("Hai tệp") == 1 and SORRY in texts(user)


async def test_an_erased_message_stays_erased_whatever_its_send_became(bed: Bed) -> None:
    """An erasure while a message is being sent: the send's outcome never brings the row back."""

    def queue_erase_then_outcomes(s: Any) -> int:  # one transaction: the sender never sees the row
        user = users_store.get_or_create_user(s, "telegram", "3800")
        s.flush()
        outbox_id = outbox.enqueue(s, user, {"kind": "reply", "text": "Nội dung riêng", "buttons": []})
        assert outbox_id is not None
        s.execute(update(Outbox).where(Outbox.id == outbox_id).values(payload={}, status=outbox.ERASED))
        outbox.mark_parts(s, outbox_id, {"text:0": 11})
        outbox.mark_failed(s, outbox_id, None, "400 Bad Request")
        return outbox_id

    outbox_id = await bed.db.run(queue_erase_then_outcomes)
    assert bed.rows("SELECT status, payload, parts, error FROM outbox WHERE id=?", outbox_id) == [
        ("erased", "{}", None, None)
    ]
