"""The Telegram channel end to end: real python-telegram-bot over HTTP against the fake Bot API (issue 6)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.attachments import AttachmentStore
from bot.channels.telegram import SECRET_HEADER, TelegramChannel, WebhookConfig, make_bot
from bot.service import Service
from bot.staff import DEFAULT_AGENCIES, Staff
from bot.store import users as users_store
from bot.store.db import Database, open_db
from rules.agencies import load_agencies
from rules.catalogue import default_catalogue
from rules.deadline import Calendar
from rules.text import fold
from tests.driver import Clock
from tests.fakes.telegram_api import FakeTelegram, FakeUser

TOKEN = "123456:TEST"
ADMIN_ID = 900


@dataclass
class Harness:
    fake: FakeTelegram
    channel: TelegramChannel
    db: Database
    stop: asyncio.Event
    task: asyncio.Task[None]


@pytest.fixture
async def tg(tmp_path: Path) -> AsyncIterator[Harness]:
    async with FakeTelegram(token=TOKEN) as fake:
        db = await open_db(f"sqlite+aiosqlite:///{tmp_path / 'smebot.db'}")
        staff = Staff(frozenset({f"telegram:{ADMIN_ID}"}), load_agencies(DEFAULT_AGENCIES), Calendar())
        service = Service(db, default_catalogue(), Clock(), staff, documents_dir=tmp_path / "documents")
        store = AttachmentStore(tmp_path / "files", 5 * 1024 * 1024, ("image/", "application/pdf"))
        bot = make_bot(TOKEN, fake.base_url)
        channel = TelegramChannel(service, db, bot, store, chat_interval=0.01)
        stop = asyncio.Event()
        task = asyncio.create_task(channel.run(stop))
        harness = Harness(fake, channel, db, stop, task)
        try:
            yield harness
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)
            await db.close()


async def say(user: FakeUser, text: str, expect: str | None = None) -> dict[str, Any]:
    await user.send_text(text)
    return await user.wait_for(expect, timeout=15)


async def press(user: FakeUser, label: str, expect: str | None = None) -> dict[str, Any]:
    wanted = fold(label)
    for n, (text, _) in enumerate(user.buttons(), 1):
        if wanted in fold(text):
            await user.press_button(n)
            return await user.wait_for(expect, timeout=15)
    raise AssertionError(f"no button {label!r} in {user.buttons()}")


async def test_a_whole_journey_with_buttons_back_edit_and_a_photo(tg: Harness) -> None:
    user = tg.fake.user(1001, "Lan", "vi")
    welcome = await say(user, "/start", "Nghị định 13/2023")
    assert welcome["reply_markup"]["inline_keyboard"]
    await press(user, "Đồng ý", "Tên doanh nghiệp")
    await say(user, "Công ty TNHH Gốm Việt", "Mã số doanh nghiệp")
    await say(user, "0100109106", "Loại hình")
    await press(user, "Công ty TNHH một thành viên", "tỉnh, thành phố")
    await say(user, "Ha Noi", "Xã, phường")
    await say(user, "/back", "tỉnh, thành phố")  # the previous question, answers kept
    await say(user, "Quảng Trị", "Xã, phường")
    await say(user, "vinh thuy", "Địa chỉ")
    await say(user, "12 Lê Lợi", "Số điện thoại")
    await say(user, "0912345678", "Email")
    await say(user, "bo qua", "Ngành")
    await press(user, "Công nghiệp", "Số lao động")
    for text, nxt in (
        ("30", "lao động nữ"),
        ("12", "doanh thu"),
        ("20 tỷ", "nguồn vốn"),
        ("10 tỷ", "bao nhiêu tháng"),
    ):
        await say(user, text, nxt)
    await press(user, "12 tháng", "51%")
    await press(user, "Có", "doanh nghiệp xã hội")
    await press(user, "Không", "đặc biệt khó khăn")
    await press(user, "Không", "sản xuất, chế biến")
    await press(user, "Có", "khởi nghiệp")
    await press(user, "Không phải", "cụm liên kết")
    await press(user, "Tham gia cụm liên kết ngành", "công nghiệp nông thôn")
    size = await press(user, "Không", "Doanh nghiệp nhỏ")
    assert "Điều 5" in size["text"]
    items = await press(user, "Tiếp tục", "Chọn các nội dung")
    consulting = next(d for t, d in user.buttons() if "III.A.2.2" in t)
    await user.press(items["message_id"], consulting)
    await user.wait_for("Đã chọn: 1")
    await press(user, "Xong", "Chi phí dự kiến")
    await say(user, "250 triệu", "báo giá")
    await press(user, "Có", "Mã tư vấn viên")
    await say(user, "TVV-0123", "cơ quan, chương trình khác")
    review = await press(user, "Chưa nhận", "Ước tính hỗ trợ")
    assert "125 triệu đồng" in review["text"]
    # edit an answer from the summary: the capital
    await press(user, "Sửa một câu trả lời", "muốn sửa")
    await press(user, "Trang sau", "muốn sửa")
    await press(user, "Tổng nguồn vốn", "Tổng nguồn vốn (trên bảng")
    again = await say(user, "12 tỷ", "Ước tính hỗ trợ")
    assert "125 triệu đồng" in again["text"]
    filed = await press(user, "Nộp hồ sơ", "Đã nộp hồ sơ")
    assert "HS-2026-000001" in filed["text"]
    document = await user.wait_for(lambda m: "document" in m, timeout=15)
    assert document["document"]["file_name"] == "HS-2026-000001.docx"
    # a photo goes to the dossier
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 64
    await user.send_photo(jpeg)
    attached = await user.wait_for("Đã đính kèm", timeout=15)
    assert "HS-2026-000001" in attached["text"]
    with sqlite3.connect(tg.db.engine.url.database or "") as conn:
        (count,) = conn.execute("SELECT count(*) FROM attachments WHERE dossier_id IS NOT NULL").fetchone()
    assert count == 1
    # every press was answered, and answered questions lose their keyboard
    assert len(user.callback_answers()) == len(tg.fake.calls("answerCallbackQuery"))
    assert tg.fake.calls("editMessageReplyMarkup")


async def test_a_stale_button_cannot_answer_twice(tg: Harness) -> None:
    user = tg.fake.user(1002)
    first = await say(user, "/start", "Nghị định 13")
    await press(user, "Đồng ý", "Tên doanh nghiệp")
    await user.press(first["message_id"], "agree", force=True)  # the old consent message, pressed again
    stale = await user.wait_for("đã được trả lời", timeout=15)
    assert stale


async def test_the_same_update_delivered_twice_is_answered_once(tg: Harness) -> None:
    user = tg.fake.user(1003)
    await say(user, "/start", "Nghị định 13")
    update_id = await user.send_text("/help")
    await user.wait_for("Các lệnh", timeout=15)
    await tg.fake.deliver_twice(update_id)
    deadline = time.monotonic() + 15
    while tg.fake.pending_updates() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not tg.fake.pending_updates()  # the copy went out to the bot
    await asyncio.sleep(1.0)
    assert sum("Các lệnh" in (m.get("text") or "") for m in user.messages()) == 1


async def test_flood_storm_waits_retry_after_and_delivers_everything(tg: Harness) -> None:
    users = [tg.fake.user(2000 + n) for n in range(5)]
    tg.fake.inject("sendMessage", 429, times=4, retry_after=1)
    started = time.monotonic()
    for user in users:
        await user.send_text("/start")
    for user in users:
        await user.wait_for("Nghị định 13", timeout=30)
    assert time.monotonic() - started >= 1.0  # the retry_after was honoured
    failed = [c for c in tg.fake.calls("sendMessage") if c.status == 429]
    assert len(failed) == 4
    for user in users:  # nothing lost, nothing doubled
        assert sum("Nghị định 13" in (m.get("text") or "") for m in user.messages()) == 1


async def test_per_chat_rate_limit(tg: Harness) -> None:
    tg.channel.sender.chat_interval = 0.5
    user = tg.fake.user(2100)
    await say(user, "/start", "Nghị định 13")
    await press(user, "Đồng ý", "Tên doanh nghiệp")
    sent = [c.at for c in tg.fake.calls("sendMessage") if c.params.get("chat_id") in (2100, "2100")]
    assert len(sent) >= 3  # the consent thanks and the first question are two messages
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert min(gaps) >= 0.45


async def test_a_user_who_blocked_the_bot_is_not_written_to_again(tg: Harness) -> None:
    user = tg.fake.user(2200)
    await say(user, "/start", "Nghị định 13")
    tg.fake.block(2200)
    before = len(tg.fake.calls("sendMessage"))
    await user.send_text("/help")
    await tg.fake.wait_for_calls("sendMessage", before + 1, timeout=15)
    await asyncio.sleep(1.0)
    with sqlite3.connect(tg.db.engine.url.database or "") as conn:
        (unreachable,) = conn.execute("SELECT unreachable FROM users WHERE external_id='2200'").fetchone()
        (failed,) = conn.execute("SELECT count(*) FROM outbox WHERE status='failed'").fetchone()
    assert unreachable == 1 and failed >= 1
    assert len([c for c in tg.fake.calls("sendMessage") if c.status == 403]) == 1  # tried once, then stopped


async def test_a_handler_error_gets_an_apology_and_the_question_again(
    tg: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 6: an error never leaves the user in silence, and the conversation state is not corrupted."""
    service = tg.channel.service
    decide = service.decide

    def failing(s: Any, channel: str, external_id: str, key: str, inp: Any, *rest: Any) -> Any:
        if inp.text == "Công ty Lỗi":
            user_id = users_store.user_snapshot(s, channel, external_id)[0].id
            users_store.save_state(s, user_id, {"corrupted": True})  # half-done work, undone with the error
            raise RuntimeError("a bug in a handler")
        return decide(s, channel, external_id, key, inp, *rest)

    monkeypatch.setattr(service, "decide", failing)
    user = tg.fake.user(2300)
    await say(user, "/start", "Nghị định 13")
    await press(user, "Đồng ý", "Tên doanh nghiệp")
    sorry = await say(user, "Công ty Lỗi", "Xin lỗi, đã có lỗi")
    assert sorry
    await user.wait_for("Tên doanh nghiệp", timeout=15)  # the question again
    await say(user, "Công ty Bền Vững", "Mã số doanh nghiệp")  # and the journey goes on
    with sqlite3.connect(tg.db.engine.url.database or "") as conn:
        rows = conn.execute("SELECT update_id, processed_at FROM processed_updates").fetchall()
        (state,) = conn.execute("SELECT state FROM conversation_states").fetchone()
    assert all(processed for _, processed in rows)  # the failed update is not retried forever
    assert json.loads(state)["answers"]["name"] == "Công ty Bền Vững"


async def test_officer_commands_over_telegram(tg: Harness) -> None:
    admin = tg.fake.user(ADMIN_ID, "Admin")
    added = await say(admin, "/officer_add telegram:901 so-cong-thuong-quang-tri", "Đã thêm cán bộ")
    assert "telegram:901" in added["text"]
    officer = tg.fake.user(901, "Minh")
    queue = await say(officer, "/queue", "Không có hồ sơ")
    assert queue
    menus = tg.fake.calls("setMyCommands")
    assert any("scope" in c.params and "901" in str(c.params["scope"]) for c in menus)
    owner = tg.fake.user(902)
    await say(owner, "/start", "Nghị định 13")
    await press(owner, "Đồng ý", "Tên doanh nghiệp")
    assert await say(owner, "/queue", "không biết lệnh này")  # the same answer as a typo


async def test_webhook_secret_is_checked_and_the_update_stored_before_200(
    tg: Harness, tmp_path: Path
) -> None:
    app = tg.channel.webhook_app("/telegram", "s3cret")
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    sender = {"id": 3001, "is_bot": False, "first_name": "An"}
    chat = {"id": 3001, "type": "private"}
    update = {
        "update_id": 777,
        "message": {"message_id": 1, "date": 0, "chat": chat, "from": sender, "text": "/start"},
    }
    url = f"http://127.0.0.1:{port}/telegram"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=update) as none:
                assert none.status == 403
            async with http.post(url, json=update, headers={SECRET_HEADER: "wrong"}) as wrong:
                assert wrong.status == 403
            async with http.post(url, json=update, headers={SECRET_HEADER: "s3cret"}) as right:
                assert right.status == 200
            with sqlite3.connect(tg.db.engine.url.database or "") as conn:
                rows = conn.execute("SELECT count(*) FROM processed_updates WHERE update_id='777'").fetchone()
            assert rows == (1,)  # stored before the 200
            async with http.post(url, json=update, headers={SECRET_HEADER: "s3cret"}) as again:
                assert again.status == 200
    finally:
        await runner.cleanup()
    database = tg.db.engine.url.database or ""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with sqlite3.connect(database) as conn:
            (done,) = conn.execute(
                "SELECT processed_at IS NOT NULL FROM processed_updates WHERE update_id='777'"
            ).fetchone()
        if done:
            break
        await asyncio.sleep(0.05)
    with sqlite3.connect(database) as conn:
        replies = conn.execute(
            "SELECT count(*) FROM outbox WHERE dedup_key LIKE 'reply:telegram:777:%'"
        ).fetchone()
    assert done and replies == (1,)  # delivered twice, handled once


async def test_webhook_mode_against_the_fake(tmp_path: Path) -> None:
    async with FakeTelegram(token=TOKEN) as fake:
        db = await open_db(f"sqlite+aiosqlite:///{tmp_path / 'smebot.db'}")
        service = Service(db, default_catalogue(), Clock(), Staff(), documents_dir=tmp_path / "documents")
        store = AttachmentStore(tmp_path / "files", 1 << 20, ("image/",))
        channel = TelegramChannel(service, db, make_bot(TOKEN, fake.base_url), store, chat_interval=0.01)
        port = free_port()
        config = WebhookConfig(f"http://127.0.0.1:{port}/telegram", "127.0.0.1", port, "webhook-secret")
        stop = asyncio.Event()
        task = asyncio.create_task(channel.run(stop, config))
        try:
            user = fake.user(5001)
            await fake.wait_for_calls("setWebhook", 1, timeout=15)
            await user.send_text("/start")
            assert await user.wait_for("Nghị định 13", timeout=15)
            attempts = fake.webhook_attempts()
            assert attempts and attempts[-1].status == 200
            assert not fake.calls("getUpdates")  # no polling in webhook mode
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)
            await db.close()


def test_webhook_config_from_url() -> None:
    config = WebhookConfig.make("https://bot.example.vn/tg/hook", "0.0.0.0:8443", None)
    assert (config.path, config.host, config.port) == ("/tg/hook", "0.0.0.0", 8443)
    assert len(config.secret) >= 32


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc; empty elsewhere)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_sigkill_and_restart_resume_the_journey(tmp_path: Path) -> None:
    async with FakeTelegram(token=TOKEN) as fake:
        env = {
            **os.environ,
            "SMEBOT_TELEGRAM_TOKEN": TOKEN,
            "SMEBOT_TELEGRAM_API_URL": fake.base_url,
            "SMEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'smebot.db'}",
            "SMEBOT_FILES_DIR": str(tmp_path / "files"),
            "SMEBOT_DOCUMENTS_DIR": str(tmp_path / "documents"),
        }
        cmd = [sys.executable, "-m", "bot.cli", "run"]
        user = fake.user(4001)
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            await say(user, "/start", "Nghị định 13")
            await press(user, "Đồng ý", "Tên doanh nghiệp")
            await say(user, "Công ty Bền Vững", "Mã số doanh nghiệp")
            workers = children(proc.pid)  # the document renderers (bot/render_pool.py)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        if Path("/proc").is_dir():  # the renderers end with the killed server: no orphans
            assert workers
            deadline = time.monotonic() + 10
            while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
        await user.send_text("0100109106")  # written while the bot is down
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            nxt = await user.wait_for("Loại hình", timeout=30)  # resumed at the next question
            assert nxt
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        with sqlite3.connect(tmp_path / "smebot.db") as conn:
            (state,) = conn.execute("SELECT state FROM conversation_states").fetchone()
        answers = json.loads(state)["answers"]
        assert (answers["name"], answers["tax_code"]) == ("Công ty Bền Vững", "0100109106")


async def run_until_exit(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``smebot run`` as a user starts it, to its exit (in a thread: the fake answers on this loop)."""
    full = {
        **os.environ,
        "SMEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'smebot.db'}",
        "SMEBOT_FILES_DIR": str(tmp_path / "files"),
        **env,
    }
    cmd = [sys.executable, "-m", "bot.cli", "run"]
    return await asyncio.to_thread(
        subprocess.run, cmd, env=full, capture_output=True, text=True, timeout=60, check=False
    )


async def test_a_token_telegram_refuses_gets_a_clear_message(tmp_path: Path) -> None:
    async with FakeTelegram(token=TOKEN) as fake:
        wrong = "654321:WRONG"
        done = await run_until_exit(
            {"SMEBOT_TELEGRAM_TOKEN": wrong, "SMEBOT_TELEGRAM_API_URL": fake.base_url}, tmp_path
        )
    assert done.returncode == 2
    assert "Telegram không chấp nhận token trong SMEBOT_TELEGRAM_TOKEN" in done.stderr
    assert "@BotFather" in done.stderr
    assert "Traceback" not in done.stderr and wrong not in done.stderr


async def test_an_unreachable_bot_api_gets_a_clear_message(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    done = await run_until_exit({"SMEBOT_TELEGRAM_TOKEN": TOKEN, "SMEBOT_TELEGRAM_API_URL": url}, tmp_path)
    assert done.returncode == 2
    assert f"không kết nối được Telegram Bot API tại {url}" in done.stderr
    assert "Traceback" not in done.stderr and TOKEN not in done.stderr
