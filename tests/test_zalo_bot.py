"""The Zalo Bot channel end to end (issue 17): the real ``smebot run`` process against the protocol-faithful
fake Zalo Bot API (tests/fakes/zalo_bot.py) over HTTP, on a real SQLite file; SIGKILL and restart."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import partial
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.channels.choices import chosen
from bot.channels.zalo_bot import inspect_update
from bot.channels.zalo_bot.send import reply_text
from bot.channels.zalo_bot_api import SECRET_HEADER
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_api import FakeUser as TelegramUser
from tests.fakes.zalo_bot import FakeZaloBot, FakeZaloUser, SentMessage
from tests.test_telegram import free_port

TOKEN = "3344556677889900112:fake-zalo-bot-token"
TELEGRAM_TOKEN = "123456:TEST"
CMD = [sys.executable, "-m", "bot.cli", "run"]

# the owner journey typed, as on a phone without buttons (tests/test_chat_process.py's answers)
PROFILE = [
    "1",
    "Công ty TNHH Gốm Việt",
    "0100109106",
    "1",
    "Ha Noi",
    "Hoan Kiem",
    "12 Hang Bac",
    "0912345678",
    "bo qua",
]
DECLARATION = ["cong nghiep", "8", "5", "2,5 tỷ", "5 tỷ", "12", "co", "khong", "khong", "co", "1", "1"]
CHOOSE = ["1", "1", "xong", "200 triệu", "co", "TVV-0123", "chua"]
JOURNEY = [*PROFILE, *DECLARATION, *CHOOSE, "Nop ho so"]
REF = re.compile(r"HS-\d{4}-\d{6}")


def environment(tmp_path: Path, fake: FakeZaloBot | None, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "SMEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'smebot.db'}",
        "SMEBOT_FILES_DIR": str(tmp_path / "files"),
        "SMEBOT_DOCUMENTS_DIR": str(tmp_path / "documents"),
        "SMEBOT_ZALO_BOT_CHAT_INTERVAL": "0.01",
        "SMEBOT_TELEGRAM_CHAT_INTERVAL": "0.01",
        "SMEBOT_RENDER_PROCESSES": "1",
    }
    if fake is not None:
        env |= {"SMEBOT_ZALO_BOT_TOKEN": TOKEN, "SMEBOT_ZALO_BOT_API_URL": fake.base_url}
    for name in ("SMEBOT_TELEGRAM_TOKEN", "SMEBOT_TELEGRAM_WEBHOOK_URL", "SMEBOT_ZALO_BOT_WEBHOOK_URL"):
        env.pop(name, None)
    return env | extra


@contextmanager
def smebot_run(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """``smebot run`` as an agency starts it; SIGTERM at the end (unless the test killed it)."""
    proc = subprocess.Popen(CMD, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def query(db: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:  # the tables are not there yet
        return []


def handled(db: Path, source: str, user_key: str) -> int:
    rows = query(
        db,
        "SELECT count(*) FROM processed_updates WHERE source=? AND user_key=? AND processed_at IS NOT NULL",
        source,
        user_key,
    )
    return int(rows[0][0]) if rows else 0  # type: ignore[call-overload]


def reached(db: Path, source: str, user_key: str, count: int) -> bool:
    return handled(db, source, user_key) >= count


async def until(
    predicate: Callable[[], bool],
    timeout: float = 30.0,
    what: str = "",
    context: Callable[[], str] = str,
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}{context()}"
        await asyncio.sleep(0.05)


async def type_lines(user: FakeZaloUser, db: Path, lines: list[str]) -> None:
    """The owner types each line once the previous one was handled (as a person reads, then answers)."""
    key = f"zalo:{user.user_id}"
    for line in lines:
        target = handled(db, "zalo_bot", key) + 1
        await user.send_text(line)
        await until(partial(reached, db, "zalo_bot", key, target), what=f"the answer {line!r}")


def texts(user: FakeZaloUser) -> list[str]:
    return [m.text or "" for m in user.received()]


async def wait_text(user: FakeZaloUser, needle: str, timeout: float = 30.0, after: int = 0) -> SentMessage:
    def found() -> bool:
        return any(needle in (m.text or "") for m in user.received()[after:])

    await until(found, timeout, needle, lambda: f"; the last received: {texts(user)[-2:]}")
    return next(m for m in user.received()[after:] if needle in (m.text or ""))


@asynccontextmanager
async def photo_server() -> AsyncIterator[str]:
    """Where an owner's photo is (Zalo gives the bot a URL)."""

    async def photo(request: web.Request) -> web.Response:
        return web.Response(body=b"\xff\xd8\xff\xe0" + b"\x00" * 64, content_type="image/jpeg")

    app = web.Application()
    app.router.add_get("/photo.jpg", photo)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/photo.jpg"
    finally:
        await runner.cleanup()


async def test_an_owner_files_a_dossier_over_the_zalo_bot(tmp_path: Path) -> None:
    db = tmp_path / "smebot.db"
    async with FakeZaloBot(token=TOKEN) as fake, photo_server() as photo:
        owner = fake.user("e4ea2cd5189df1c3a88c", "Nguyễn Văn An")
        with smebot_run(environment(tmp_path, fake)):
            await owner.send_text("Xin chào")
            await wait_text(owner, "Bạn có đồng ý không?")
            first = texts(owner)
            assert "trợ lý tự động" in first[0]  # the platform's terms: said before anything else
            assert "1. Đồng ý" in first[1]  # choices as numbered lines: no buttons on the Zalo Bot
            await type_lines(owner, db, JOURNEY)
            filed = await wait_text(owner, "Đã nộp hồ sơ")
            ref = REF.search(filed.text or "")
            assert ref is not None
            note = await wait_text(owner, "Zalo Bot không gửi được tệp")  # the dossier: from the agency
            assert ref.group() in (note.text or "")
            before = len(owner.received())
            await owner.send_image(photo, "Giấy phép kinh doanh")
            attached = await wait_text(owner, "Đã đính kèm", after=before)
            assert ref.group() in (attached.text or "")
        assert all(len(m.text or "") <= 2000 for m in fake.sent)
        assert not fake.calls_of("sendDocument")
        assert sum("trợ lý tự động" in t for t in texts(owner)) == 1  # once, on the first contact
    rows = query(
        db, "SELECT d.ref, u.channel, u.external_id FROM dossiers d JOIN users u ON u.id = d.user_id"
    )
    assert rows == [(ref.group(), "zalo", "e4ea2cd5189df1c3a88c")]
    (count,) = query(db, "SELECT count(*) FROM attachments WHERE dossier_id IS NOT NULL")[0]
    assert count == 1


async def test_the_same_zalo_event_delivered_twice_is_handled_once(tmp_path: Path) -> None:
    db = tmp_path / "smebot.db"
    async with FakeZaloBot(token=TOKEN) as fake:
        owner = fake.user("a1b2c3d4e5f6a7b8c9d0")
        with smebot_run(environment(tmp_path, fake)):
            await owner.send_text("/start")
            await wait_text(owner, "Bạn có đồng ý không?")
            before = len(owner.received())
            update = await owner.send_text("/help")
            await owner.wait_for(before + 1, timeout=30)
            help_text = owner.received()[before].text
            fake.deliver_twice(update["message"]["message_id"])
            await until(lambda: fake.pending == 0, what="the copy to be taken")
            await until(lambda: handled(db, "zalo_bot", f"zalo:{owner.user_id}") == 2, what="handling")
            await asyncio.sleep(1.0)  # had the copy been handled, its answer would be out by now
            helps = [t for t in texts(owner) if t == help_text]
        assert len(helps) == 1
    assert query(db, "SELECT count(*) FROM processed_updates WHERE source='zalo_bot'") == [(2,)]


async def test_sigkill_and_restart_resume_a_zalo_journey(tmp_path: Path) -> None:
    db = tmp_path / "smebot.db"
    async with FakeZaloBot(token=TOKEN) as fake:
        owner = fake.user("0f1e2d3c4b5a69788796")
        env = environment(tmp_path, fake)
        with smebot_run(env) as proc:
            await owner.send_text("Xin chào")
            await wait_text(owner, "Bạn có đồng ý không?")
            await type_lines(owner, db, PROFILE[:2])  # agreed, the firm's name
            await wait_text(owner, "Mã số doanh nghiệp")
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            assert proc.returncode == -signal.SIGKILL
        # the owner writes a moment later (the platform has seen the dead poll go; an update handed to a
        # poller in the instant it dies is lost: getUpdates has no offset, see the README)
        await asyncio.sleep(2.0)
        before = len(owner.received())
        await owner.send_text("0100109106")  # written while the bot is down
        with smebot_run(env):
            await wait_text(owner, "Loại hình", 60, after=before)  # resumed at the next question
    (state,) = query(db, "SELECT state FROM conversation_states")[0]
    answers = json.loads(str(state))["answers"]
    assert (answers["name"], answers["tax_code"]) == ("Công ty TNHH Gốm Việt", "0100109106")


async def test_a_group_gets_only_a_pointer_and_a_sticker_a_request_for_text(tmp_path: Path) -> None:
    db = tmp_path / "smebot.db"
    async with FakeZaloBot(token=TOKEN) as fake:
        owner = fake.user("99887766554433221100")
        with smebot_run(environment(tmp_path, fake)):
            await owner.send_text("@smebot cho hỏi hỗ trợ doanh nghiệp", group="g-4455")
            await fake.wait_for_sent("g-4455", 1, timeout=30)
            await owner.send_sticker()
            await wait_text(owner, "chỉ đọc được tin nhắn chữ")
            await asyncio.sleep(0.5)
        group = fake.sent_to("g-4455")
        assert len(group) == 1 and "tin nhắn riêng" in (group[0].text or "")
    # the group message started no conversation
    assert query(db, "SELECT count(*) FROM conversation_states") == [(0,)]


async def test_a_zalo_webhook_with_a_bad_secret_is_refused_with_no_state_change_on_the_shared_server(
    tmp_path: Path,
) -> None:
    db = tmp_path / "smebot.db"
    port = free_port()
    url = f"http://127.0.0.1:{port}/zalo"
    secret = "zalo-webhook-secret-123"
    env = environment(
        tmp_path,
        None,
        SMEBOT_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
        SMEBOT_ZALO_BOT_WEBHOOK_URL=url,
        SMEBOT_ZALO_BOT_WEBHOOK_SECRET=secret,
    )
    async with FakeZaloBot(token=TOKEN) as fake, FakeTelegram(token=TELEGRAM_TOKEN) as telegram:
        env |= {"SMEBOT_ZALO_BOT_TOKEN": TOKEN, "SMEBOT_ZALO_BOT_API_URL": fake.base_url}
        env |= {  # Telegram's webhook on the same server
            "SMEBOT_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
            "SMEBOT_TELEGRAM_API_URL": telegram.base_url,
            "SMEBOT_TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
        }
        owner = fake.user("1234abcd5678ef901234")
        message = {
            "from": {"id": owner.user_id, "display_name": "An"},
            "chat": {"id": owner.user_id, "chat_type": "PRIVATE"},
            "message_id": "forged0001",
            "date": 0,
            "text": "/start",
        }
        forged = {"event_name": "message.text.received", "message": message}
        with smebot_run(env):
            await fake.wait_until(lambda: fake.webhook is not None, timeout=30)
            assert fake.webhook == (url, secret)
            async with aiohttp.ClientSession() as http:
                for headers in ({}, {SECRET_HEADER: "wrong-secret-000"}, {SECRET_HEADER: secret[:-1]}):
                    async with http.post(url, json=forged, headers=headers) as refused:
                        assert refused.status == 403
                await asyncio.sleep(0.5)
                assert query(db, "SELECT count(*) FROM processed_updates") == [(0,)]
                assert query(db, "SELECT count(*) FROM users") == [(0,)]
                async with http.get(f"http://127.0.0.1:{port}/healthz") as health:
                    assert health.status == 200
            # the platform's own deliveries, flat then wrapped in the envelope, are taken
            await owner.send_text("Xin chào")
            await wait_text(owner, "Bạn có đồng ý không?")
            fake.webhook_wrapped = True
            before = len(owner.received())
            await owner.send_text("1")
            await wait_text(owner, "Tên doanh nghiệp", after=before)
            lan = telegram.user(7001, "Lan")  # Telegram, through its route on the one server
            await lan.send_text("/start")
            assert await lan.wait_for("Nghị định 13", timeout=30)
        assert not fake.calls_of("getUpdates")  # no polling in webhook mode
        assert not telegram.calls("getUpdates")
        assert [a.status for a in telegram.webhook_attempts()] == [200]
        assert all(a.status == 200 for a in fake.webhook_attempts)
    assert not fake.sent_to("forged0001")
    assert query(db, "SELECT count(*) FROM processed_updates WHERE update_id='m:forged0001'") == [(0,)]


async def test_owners_on_telegram_and_zalo_file_into_one_queue_and_the_officer_hears_on_telegram(
    tmp_path: Path,
) -> None:
    db = tmp_path / "smebot.db"
    async with FakeZaloBot(token=TOKEN) as zalo, FakeTelegram(token=TELEGRAM_TOKEN) as telegram:
        env = environment(
            tmp_path,
            zalo,
            SMEBOT_TELEGRAM_TOKEN=TELEGRAM_TOKEN,
            SMEBOT_TELEGRAM_API_URL=telegram.base_url,
            SMEBOT_ADMIN_IDS="telegram:900",
        )
        with smebot_run(env):
            admin = telegram.user(900, "Admin")
            await admin.send_text("/officer_add telegram:901 so-tai-chinh-ha-noi")
            await admin.wait_for("Đã thêm cán bộ", timeout=30)
            officer = telegram.user(901, "Minh")
            zalo_owner = zalo.user("aa00bb11cc22dd33ee44")
            await zalo_owner.send_text("Xin chào")
            await wait_text(zalo_owner, "Bạn có đồng ý không?")
            await type_lines(zalo_owner, db, JOURNEY)
            zalo_ref = REF.search((await wait_text(zalo_owner, "Đã nộp hồ sơ")).text or "")
            telegram_owner = telegram.user(902, "Lan")
            await telegram_type(telegram_owner, db, ["/start", *journey_with_tax("0101243150")])
            filed = await telegram_owner.wait_for("Đã nộp hồ sơ", timeout=30)
            telegram_ref = REF.search(filed["text"])
            assert zalo_ref is not None and telegram_ref is not None
            await officer.send_text("/queue")
            queue = await officer.wait_for(zalo_ref.group(), timeout=30)
            assert telegram_ref.group() in queue["text"]  # one queue, both channels
            await type_lines(zalo_owner, db, ["Tôi đã có báo giá mới, gửi anh chị xem."])
            heard = await officer.wait_for("chủ doanh nghiệp nhắn", timeout=30)  # on their own channel
            assert zalo_ref.group() in heard["text"]
    rows = query(db, "SELECT u.channel FROM dossiers d JOIN users u ON u.id = d.user_id ORDER BY d.id")
    assert rows == [("zalo",), ("telegram",)]


async def test_an_officer_reviews_over_the_zalo_bot(tmp_path: Path) -> None:
    """Issue 17: the officer's side over the Zalo Bot too: an admin adds an officer, who works the queue
    with typed commands (no buttons there), asks for a document, approves; the owner hears each decision
    on Zalo, and the review is recorded like on any channel."""
    db = tmp_path / "smebot.db"
    async with FakeZaloBot(token=TOKEN) as fake:
        with smebot_run(environment(tmp_path, fake, SMEBOT_ADMIN_IDS="zalo:ad00000000000000001")):
            admin = fake.user("ad00000000000000001", "Quản trị")
            officer = fake.user("0f00000000000000002", "Minh")
            owner = fake.user("aa00bb11cc22dd33ee55", "Lan")
            await owner.send_text("Xin chào")
            await wait_text(owner, "Bạn có đồng ý không?")
            await type_lines(owner, db, JOURNEY)
            ref = REF.search((await wait_text(owner, "Đã nộp hồ sơ")).text or "")
            assert ref is not None
            await type_lines(admin, db, ["/officer_add zalo:0f00000000000000002 so-tai-chinh-ha-noi"])
            await wait_text(admin, "Đã thêm cán bộ")
            await type_lines(officer, db, ["/queue"])
            queue = await wait_text(officer, "Hồ sơ đang chờ")
            assert ref.group() in (queue.text or "")  # the choices listed under it (no buttons here)
            # a choice's label typed back stands for it: the dossier's code opens it, as /dossier would
            before = len(officer.received())
            await type_lines(officer, db, [ref.group().lower()])
            shown = await wait_text(officer, "Tổng ngân sách nhà nước hỗ trợ", after=before)
            assert "Nhận xử lý" in (shown.text or "")
            # the dossier's Word form cannot be sent here: where the officer opens it (not the owner's note)
            where = await wait_text(officer, "Zalo Bot không gửi được tệp", after=before)
            assert f"/dossier {ref.group()}" in (where.text or "") and "bộ phận một cửa" not in (
                where.text or ""
            )
            await type_lines(officer, db, ["nhan xu ly"])  # the button's label, typed without diacritics
            await wait_text(officer, f"Đã nhận xử lý hồ sơ {ref.group()}", after=before)
            # a staff member's choices are numbered by the channel, and the number typed opens the first
            before = len(officer.received())
            await type_lines(officer, db, ["/queue"])
            await wait_text(officer, f"1. {ref.group()}", after=before)
            await type_lines(officer, db, ["1"])
            shown = await wait_text(officer, "Tổng ngân sách nhà nước hỗ trợ", after=before)
            assert "1. Chấp thuận toàn bộ" in (shown.text or "")
            before = len(owner.received())
            await type_lines(officer, db, [f"/ask {ref.group()} Vui long gui bao gia co dong dau"])
            await wait_text(officer, "Đã gửi yêu cầu bổ sung")
            asked = await wait_text(owner, "bao gia", after=before)
            assert ref.group() in (asked.text or "")
            await type_lines(owner, db, ["xong"])  # the owner says it is sent: back to the officer
            await wait_text(officer, "chủ doanh nghiệp")
            before = len(owner.received())
            await type_lines(officer, db, [f"/approve {ref.group()} dong y"])
            await wait_text(officer, "Đã chấp thuận hồ sơ")
            await wait_text(owner, "được chấp thuận", after=before)
        assert not fake.calls_of("sendDocument")
    actions = [a for (a,) in query(db, "SELECT action FROM events ORDER BY id")]
    assert [a for a in actions if a in ("claim", "ask", "approve")] == ["claim", "ask", "approve"]
    assert query(db, "SELECT status FROM dossiers") == [("approved",)]


def journey_with_tax(tax_code: str) -> list[str]:
    return [tax_code if line == "0100109106" else line for line in JOURNEY]


async def telegram_type(user: TelegramUser, db: Path, lines: list[str]) -> None:
    key = f"telegram:{user.user_id}"
    for line in lines:
        target = handled(db, "telegram", key) + 1
        await user.send_text(line)
        await until(partial(reached, db, "telegram", key, target), what=f"the answer {line!r}")


# --- the adapter's pure parts ---------------------------------------------------------------------------


def test_choices_are_numbered_lines_and_updates_are_keyed_on_the_message() -> None:
    payload = {"buttons": [["agree", "1. Đồng ý"], ["_page:1", "Trang sau ▶"]]}
    assert reply_text(payload, "Bạn có đồng ý không?") == "Bạn có đồng ý không?\n\n1. Đồng ý\nTrang sau ▶"
    # a staff member's choices (commands, not numbered by the conversation) are numbered by the channel
    staff = {"buttons": [["/dossier HS-2026-000001", "HS-2026-000001"], ["/queue p2", "Trang sau ▶"]]}
    assert reply_text(staff, "Hồ sơ đang chờ") == "Hồ sơ đang chờ\n\n1. HS-2026-000001\n2. Trang sau ▶"
    owner = {"buttons": [["skip", "Bỏ qua"]]}  # an owner's question may wait for a number: not numbered
    assert reply_text(owner, "Số lao động?") == "Số lao động?\n\nBỏ qua"
    message = {"from": {"id": "u1"}, "chat": {"id": "u1", "chat_type": "PRIVATE"}, "message_id": "123"}
    flat = {"event_name": "message.text.received", "message": {**message, "text": "hi"}}
    wrapped = {"ok": True, "result": flat}
    assert inspect_update(flat) == inspect_update(wrapped)
    incoming = inspect_update(flat)
    assert (incoming.update_id, incoming.user_key, incoming.error) == ("m:123", "zalo:u1", None)
    odd = inspect_update({"ok": True, "result": {"event_name": "message.text.received"}})
    assert odd.error is not None and odd.user_key is None


@pytest.mark.parametrize("body", [{"message": "x"}, {"result": []}])
def test_what_is_not_a_message_is_set_aside(body: dict[str, object]) -> None:
    assert inspect_update(body).error is not None


async def run_until_exit(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``smebot run`` to its exit (in a thread: the fake answers on this loop)."""
    return await asyncio.to_thread(
        subprocess.run, CMD, env=env, capture_output=True, text=True, timeout=60, check=False
    )


async def test_a_token_the_zalo_bot_api_refuses_gets_a_clear_message(tmp_path: Path) -> None:
    async with FakeZaloBot(token=TOKEN) as fake:
        wrong = "1111111111111111111:not-the-token"
        done = await run_until_exit(environment(tmp_path, fake, SMEBOT_ZALO_BOT_TOKEN=wrong))
    assert done.returncode == 2
    assert "Zalo Bot API không chấp nhận token trong SMEBOT_ZALO_BOT_TOKEN" in done.stderr
    assert "Traceback" not in done.stderr and wrong not in done.stderr


async def test_an_unreachable_zalo_bot_api_gets_a_clear_message(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = environment(tmp_path, None, SMEBOT_ZALO_BOT_TOKEN=TOKEN, SMEBOT_ZALO_BOT_API_URL=url)
    done = await run_until_exit(env)
    assert done.returncode == 2
    assert f"không kết nối được Zalo Bot API tại {url}" in done.stderr
    assert "Traceback" not in done.stderr and TOKEN not in done.stderr


async def test_with_no_channel_configured_the_existing_message(tmp_path: Path) -> None:
    done = await run_until_exit(environment(tmp_path, None))
    assert done.returncode == 2
    assert "SMEBOT_TELEGRAM_TOKEN" in done.stderr and "Traceback" not in done.stderr


async def test_a_429_storm_is_waited_out_and_a_file_reply_becomes_a_message(tmp_path: Path) -> None:
    async with FakeZaloBot(token=TOKEN) as fake:
        owner = fake.user("5a5a5a5a5a5a5a5a5a5a")
        with smebot_run(environment(tmp_path, fake)):
            fake.inject("sendMessage", 429, times=3, retry_after=1)
            await owner.send_text("Xin chào")
            await wait_text(owner, "Bạn có đồng ý không?")
            await owner.send_text("1")
            await wait_text(owner, "Tên doanh nghiệp")
            before = len(owner.received())
            await owner.send_text("/mydata")  # on Telegram, a JSON file: here, a message saying so
            note = await wait_text(owner, "Zalo Bot không gửi được tệp «", after=before)
            assert ".json" in (note.text or "")
        refused = [c for c in fake.calls_of("sendMessage") if c.params.get("chat_id") == owner.user_id]
        assert len(refused) == len(owner.received()) + 3  # each 429 tried again, nothing doubled
        assert sum("Bạn có đồng ý không?" in t for t in texts(owner)) == 1


def test_a_typed_label_or_the_channels_number_stands_for_the_choice() -> None:
    staff = [("/dossier HS-2026-000001", "HS-2026-000001"), ("/claim HS-2026-000001 @v1", "Nhận xử lý")]
    assert chosen("hs-2026-000001", staff) == "/dossier HS-2026-000001"
    assert chosen("nhan xu ly", staff) == "/claim HS-2026-000001 @v1"
    assert chosen("2", staff) == "/claim HS-2026-000001 @v1"
    assert chosen("3", staff) is None and chosen("/queue", staff) is None
    assert chosen("2", staff, numbers=False) is None  # the terminal did not number them
    owner = [("skip", "Bỏ qua")]
    assert chosen("1", owner) is None  # an owner's "1" is an answer (one employee), not a choice
    assert chosen("bo qua", owner) == "skip"
