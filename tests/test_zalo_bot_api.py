"""The Zalo Bot API client against the protocol-faithful fake, over real HTTP on 127.0.0.1 (no mocks)."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.channels.zalo_bot_api import (
    EVENT_IMAGE,
    EVENT_STICKER,
    EVENT_TEXT,
    EVENT_UNSUPPORTED,
    SECRET_HEADER,
    PermanentError,
    RateLimited,
    TransientError,
    UpdateFormatError,
    ZaloBotClient,
    ZaloBotUpdate,
    check_secret_token,
    parse_update,
    webhook_secret_matches,
)
from bot.pipeline.delivery import split_text
from tests.fakes.zalo_bot import FakeZaloBot

ROOT = Path(__file__).resolve().parents[1]
SECRET = "a-webhook-secret-of-some-length"


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloBot]:
    async with FakeZaloBot() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeZaloBot) -> AsyncIterator[ZaloBotClient]:
    async with ZaloBotClient(
        fake.token, base_url=fake.base_url, request_timeout=2.0, poll_slack=2.0
    ) as client:
        yield client


# -- receiving by long polling ----------------------------------------------------------------------------


async def test_get_updates_returns_one_update_per_call_in_order(
    fake: FakeZaloBot, bot: ZaloBotClient
) -> None:
    owner = fake.user("e4ea2cd5189df1c3a88c", "Trần Thị Bình")
    await owner.send_text("Xin chào")
    await owner.send_text("Tôi cần hỗ trợ")
    first = await bot.get_updates(timeout=1)
    second = await bot.get_updates(timeout=1)
    assert first is not None and second is not None
    assert (first.event, first.text, first.sender_id, first.sender_name) == (
        EVENT_TEXT,
        "Xin chào",
        "e4ea2cd5189df1c3a88c",
        "Trần Thị Bình",
    )
    assert first.chat_id == "e4ea2cd5189df1c3a88c" and not first.is_group and first.kind == "text"
    assert second.text == "Tôi cần hỗ trợ"
    assert first.message_id != second.message_id and first.date_ms > 1_600_000_000_000
    assert fake.pending == 0


@pytest.mark.parametrize("http_status", [408, 200])
async def test_nothing_to_deliver_408_is_none_not_an_error(http_status: int) -> None:
    async with (
        FakeZaloBot(empty_http_status=http_status) as fake,
        ZaloBotClient(fake.token, base_url=fake.base_url, poll_slack=2.0) as bot,
    ):
        assert await bot.get_updates(timeout=0) is None
        # the 408 came as the envelope the platform uses, and the poll asked the platform to wait
        assert fake.calls_of("getUpdates")[0].params == {"timeout": "0"}


async def test_a_long_poll_waits_for_the_owner(fake: FakeZaloBot, bot: ZaloBotClient) -> None:
    owner = fake.user()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_until(lambda: bool(fake.calls_of("getUpdates")))
    await owner.send_text("đang chờ")
    update = await poll
    assert update is not None and update.text == "đang chờ"


async def test_image_sticker_and_unsupported_events(fake: FakeZaloBot, bot: ZaloBotClient) -> None:
    owner = fake.user()
    await owner.send_image("https://example.invalid/giay-phep.jpg", "Giấy phép kinh doanh")
    await owner.send_sticker("sticker-1")
    await owner.send_unsupported()
    image, sticker, other = [await bot.get_updates(timeout=1) for _ in range(3)]
    assert image is not None and image.event == EVENT_IMAGE and image.kind == "image"
    assert (image.photo_url, image.caption) == (
        "https://example.invalid/giay-phep.jpg",
        "Giấy phép kinh doanh",
    )
    assert sticker is not None and (sticker.event, sticker.sticker) == (EVENT_STICKER, "sticker-1")
    assert other is not None and other.event == EVENT_UNSUPPORTED and other.kind == "unsupported"


async def test_group_messages_say_so(fake: FakeZaloBot, bot: ZaloBotClient) -> None:
    await fake.user("u1").send_text("@bot giúp với", group="g-42")
    update = await bot.get_updates(timeout=1)
    assert update is not None and update.is_group and update.chat_id == "g-42" and update.sender_id == "u1"


async def test_polling_while_a_webhook_is_set_is_a_permanent_error(
    fake: FakeZaloBot, bot: ZaloBotClient
) -> None:
    await bot.set_webhook("http://127.0.0.1:9/zalo", SECRET)
    with pytest.raises(PermanentError) as info:
        await bot.get_updates(timeout=0)
    assert info.value.error_code == 409
    await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) is None


# -- parsing ---------------------------------------------------------------------------------------------

_MESSAGE = {
    "from": {"id": "9007199254740993123", "display_name": "Lê Văn Cường"},
    "chat": {"id": "9007199254740993123", "chat_type": "PRIVATE"},
    "text": "1",
    "message_id": "16f6366b3f02645a3d15",
    "date": 1766619597466,
}


def test_wrapped_and_flat_updates_parse_the_same() -> None:
    flat = {"event_name": EVENT_TEXT, "message": _MESSAGE}
    wrapped = {"ok": True, "result": flat}
    assert parse_update(flat) == parse_update(wrapped) == parse_update(json.dumps(wrapped).encode())
    assert parse_update(flat) == ZaloBotUpdate(
        event=EVENT_TEXT,
        message_id="16f6366b3f02645a3d15",
        chat_id="9007199254740993123",
        chat_type="PRIVATE",
        sender_id="9007199254740993123",
        sender_name="Lê Văn Cường",
        date_ms=1766619597466,
        text="1",
    )


def test_ids_sent_as_json_numbers_are_kept_digit_for_digit() -> None:
    body = (
        '{"event_name":"message.text.received","message":{"from":{"id":123456789012345678901},'
        '"chat":{"id":123456789012345678901,"chat_type":"PRIVATE"},"message_id":98765432109876543210,'
        '"text":"x","date":1766619597466}}'
    )
    update = parse_update(body)
    assert (update.sender_id, update.chat_id, update.message_id) == (
        "123456789012345678901",
        "123456789012345678901",
        "98765432109876543210",
    )


def test_an_update_without_event_name_is_inferred_from_its_content() -> None:
    # the getUpdates sample in the platform's documents has none, and "first_name" instead of display_name
    message = {**_MESSAGE, "from": {"id": "u", "first_name": "Nguyen Van A"}}
    update = parse_update({"ok": True, "result": {"message": message}})
    assert (update.event, update.sender_name) == (EVENT_TEXT, "Nguyen Van A")
    photo = {key: value for key, value in _MESSAGE.items() if key != "text"} | {"photo": "https://x/y.png"}
    assert parse_update({"message": photo}).event == EVENT_IMAGE


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        {"event_name": EVENT_TEXT},
        {"message": {**_MESSAGE, "from": {"display_name": "no id"}}},
        {"message": {**_MESSAGE, "chat": {"id": 1.5}}},
        {"message": {**_MESSAGE, "message_id": True}},
    ],
)
def test_malformed_updates_are_refused_with_the_raw_body(body: object) -> None:
    with pytest.raises(UpdateFormatError) as info:
        parse_update(body)  # type: ignore[arg-type]
    assert info.value.raw is not None


async def test_a_malformed_update_from_polling_raises_and_polling_goes_on(
    fake: FakeZaloBot, bot: ZaloBotClient
) -> None:
    fake.queue_update({"event_name": EVENT_TEXT, "message": {"text": "no sender"}})
    await fake.user().send_text("after")
    with pytest.raises(UpdateFormatError):
        await bot.get_updates(timeout=1)
    update = await bot.get_updates(timeout=1)
    assert update is not None and update.text == "after"


# -- sending ---------------------------------------------------------------------------------------------


async def test_a_long_reply_is_split_at_line_breaks_within_the_limit(
    fake: FakeZaloBot, bot: ZaloBotClient
) -> None:
    owner = fake.user()
    await owner.send_text("hi")
    lines = [f"{i}. Hỗ trợ tư vấn pháp lý cho doanh nghiệp nhỏ và vừa, mục {i}" for i in range(1, 120)]
    text = "\n".join(lines)
    assert len(text) > 2 * 2000
    ids = await bot.send_message(owner.user_id, text)
    received = owner.received()
    assert len(ids) == len(received) >= 3 and ids == [m.message_id for m in received]
    assert all(m.text is not None and len(m.text) <= 2000 for m in received)
    # nothing lost, every cut at a line break
    assert [line for m in received for line in (m.text or "").split("\n")] == lines


def test_split_text_cuts_a_line_longer_than_the_limit_at_a_space() -> None:
    line = " ".join(["chữ"] * 1000)
    parts = split_text(line, 2000)
    assert all(len(p) <= 2000 for p in parts) and " ".join(parts) == line
    assert split_text("x" * 4500, 2000) == ["x" * 2000, "x" * 2000, "x" * 500]
    assert split_text("  \n ", 2000) == [] and split_text("a\n\nb", 2000) == ["a\n\nb"]


async def test_a_text_over_the_limit_is_refused_by_the_platform(
    fake: FakeZaloBot, bot: ZaloBotClient
) -> None:
    owner = fake.user()
    await owner.send_text("hi")
    with pytest.raises(PermanentError) as info:
        await bot.call("sendMessage", {"chat_id": owner.user_id, "text": "x" * 2001})
    assert info.value.error_code == 400 and owner.received() == []


async def test_photo_and_chat_action(fake: FakeZaloBot, bot: ZaloBotClient) -> None:
    owner = fake.user()
    await owner.send_text("hi")
    await bot.send_chat_action(owner.user_id)
    message_id = await bot.send_photo(owner.user_id, "https://example.invalid/chart.png", "Biểu đồ")
    [photo] = owner.received()
    assert (photo.kind, photo.photo, photo.caption, photo.message_id) == (
        "photo",
        "https://example.invalid/chart.png",
        "Biểu đồ",
        message_id,
    )
    assert fake.calls_of("sendChatAction")[0].params == {"chat_id": owner.user_id, "action": "typing"}


async def test_sending_to_a_chat_that_never_wrote_is_permanent(bot: ZaloBotClient) -> None:
    with pytest.raises(PermanentError):
        await bot.send_message("nobody", "hello")


# -- errors ----------------------------------------------------------------------------------------------


async def test_429_is_rate_limited_with_the_delay(fake: FakeZaloBot, bot: ZaloBotClient) -> None:
    owner = fake.user()
    await owner.send_text("hi")
    fake.inject("sendMessage", 429, retry_after=7)
    with pytest.raises(RateLimited) as info:
        await bot.send_message(owner.user_id, "a")
    assert info.value.retry_after == 7.0 and isinstance(info.value, TransientError)
    fake.inject("sendMessage", 429)  # the platform documents no retry_after: the configured default
    with pytest.raises(RateLimited) as info:
        await bot.send_message(owner.user_id, "a")
    assert info.value.retry_after == bot.rate_limit_delay
    assert await bot.send_message(owner.user_id, "a")


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_is_transient(fake: FakeZaloBot, bot: ZaloBotClient, status: int) -> None:
    fake.inject("getMe", status)
    with pytest.raises(TransientError) as info:
        await bot.get_me()
    assert info.value.error_code == status and not isinstance(info.value, RateLimited)
    assert (await bot.get_me())["id"] == fake.bot_id


async def test_a_timeout_is_transient(fake: FakeZaloBot) -> None:
    async with ZaloBotClient(fake.token, base_url=fake.base_url, request_timeout=0.2) as bot:
        fake.delay("getMe", 1.0)
        with pytest.raises(TransientError, match="timed out"):
            await bot.get_me()


async def test_a_wrong_token_is_permanent_and_not_in_the_error(fake: FakeZaloBot) -> None:
    async with ZaloBotClient("1:wrong-secret-token", base_url=fake.base_url) as bot:
        with pytest.raises(PermanentError) as info:
            await bot.get_me()
    assert info.value.error_code == 401 and "wrong-secret-token" not in str(info.value)


async def test_an_unreachable_platform_is_transient() -> None:
    with socket.socket() as sock:  # a port nothing listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
        async with ZaloBotClient("1:t", base_url=f"http://127.0.0.1:{port}", request_timeout=1.0) as bot:
            with pytest.raises(TransientError, match="network"):
                await bot.get_me()


# -- webhook ---------------------------------------------------------------------------------------------


def test_webhook_secret_rules() -> None:
    assert check_secret_token("12345678") == "12345678"
    for bad in ("1234567", "x" * 257):
        with pytest.raises(ValueError):
            check_secret_token(bad)
    assert webhook_secret_matches(SECRET, SECRET)
    assert not webhook_secret_matches(SECRET, SECRET[:-1] + "X")
    assert not webhook_secret_matches(SECRET, None) and not webhook_secret_matches(SECRET, "")


async def test_the_platform_refuses_a_short_secret(fake: FakeZaloBot, bot: ZaloBotClient) -> None:
    with pytest.raises(PermanentError):
        await bot.call("setWebhook", {"url": "https://example.invalid/h", "secret_token": "short"})
    with pytest.raises(ValueError):
        await bot.set_webhook("https://example.invalid/h", "short")
    assert fake.webhook is None


class _Receiver:
    """A webhook endpoint as smebot will serve it: the secret checked, 403 otherwise; fails on demand."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.updates: list[ZaloBotUpdate] = []
        self.refused = 0
        self.fail_next = 0
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        if not webhook_secret_matches(self.secret, request.headers.get(SECRET_HEADER)):
            self.refused += 1
            return web.Response(status=403)
        if self.fail_next:
            self.fail_next -= 1
            return web.Response(status=500)
        self.updates.append(parse_update(await request.read()))
        return web.Response(text="ok")

    async def __aenter__(self) -> _Receiver:
        app = web.Application()
        app.router.add_post("/zalo", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


@pytest.mark.parametrize("wrapped", [False, True])
async def test_webhook_delivery_with_the_secret_wrapped_or_flat(wrapped: bool) -> None:
    async with (
        FakeZaloBot(webhook_wrapped=wrapped) as fake,
        ZaloBotClient(fake.token, base_url=fake.base_url) as bot,
        _Receiver(SECRET) as receiver,
    ):
        result = await bot.set_webhook(f"http://127.0.0.1:{receiver.port}/zalo", SECRET)
        assert result["url"].endswith("/zalo") and (await bot.get_webhook_info())["url"] == result["url"]
        owner = fake.user("owner-1")
        await owner.send_text("qua webhook")
        await fake.wait_until(lambda: len(receiver.updates) == 1)
        assert receiver.updates[0].text == "qua webhook" and receiver.refused == 0
        assert json.loads(fake.webhook_attempts[0].body).get("ok") is (True if wrapped else None)


async def test_unacknowledged_webhook_updates_are_retried_and_a_wrong_secret_is_403() -> None:
    async with (
        FakeZaloBot(webhook_max_attempts=1000) as fake,
        ZaloBotClient(fake.token, base_url=fake.base_url) as bot,
        _Receiver("another-secret-entirely") as wrong,
        _Receiver(SECRET) as right,
    ):
        await bot.set_webhook(f"http://127.0.0.1:{wrong.port}/zalo", SECRET)
        await fake.user().send_text("một")
        await fake.wait_until(lambda: wrong.refused >= 2)
        assert wrong.updates == []  # refused, so the platform keeps it and tries again
        right.fail_next = 2
        await bot.set_webhook(f"http://127.0.0.1:{right.port}/zalo", SECRET)
        await fake.wait_until(lambda: len(right.updates) == 1)
        statuses = [a.status for a in fake.webhook_attempts]
        assert statuses[-3:] == [500, 500, 200] and 403 in statuses
        assert right.updates[0].text == "một"


async def test_an_update_never_acknowledged_is_given_up_after_the_attempts() -> None:
    async with (
        FakeZaloBot(webhook_max_attempts=3) as fake,
        ZaloBotClient(fake.token, base_url=fake.base_url) as bot,
        _Receiver(SECRET) as receiver,
    ):
        receiver.fail_next = 100
        await bot.set_webhook(f"http://127.0.0.1:{receiver.port}/zalo", SECRET)
        await fake.user().send_text("mất")
        await fake.wait_until(lambda: len(fake.undelivered) == 1)
        assert [a.status for a in fake.webhook_attempts] == [500, 500, 500] and fake.pending == 0


async def test_the_same_update_delivered_twice_keeps_its_message_id(
    fake: FakeZaloBot, bot: ZaloBotClient
) -> None:
    sent = await fake.user().send_text("hai lần")
    fake.deliver_twice(sent["message"]["message_id"])
    first, second = await bot.get_updates(timeout=1), await bot.get_updates(timeout=1)
    assert first is not None and first == second


async def test_the_fake_serves_form_bodies_too(fake: FakeZaloBot) -> None:
    owner = fake.user()
    await owner.send_text("hi")
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fake.base_url}/bot{fake.token}/sendMessage", data={"chat_id": owner.user_id, "text": "form"}
        ) as response,
    ):
        body = await response.json()
    assert body["ok"] is True and owner.received()[0].text == "form"


# -- by hand -----------------------------------------------------------------------------------------------


async def _read_until(stream: asyncio.StreamReader, needle: str, timeout: float = 10) -> str:
    seen = ""
    async with asyncio.timeout(timeout):
        while needle not in seen:
            line = await stream.readline()
            if not line:
                raise AssertionError(f"{needle!r} never printed; got {seen!r}")
            seen += line.decode()
    return seen


async def test_the_fake_runs_by_hand() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.zalo_bot",
        "--port",
        str(port),
        "--user-id",
        "owner-by-hand",
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        banner = await _read_until(process.stdout, "'help' for commands")
        token = FakeZaloBot().token
        assert f"http://127.0.0.1:{port}/bot{token}/<method>" in banner
        process.stdin.write(
            "Tôi muốn hỏi về hỗ trợ\nphoto https://example.invalid/p.jpg Giấy phép\n".encode()
        )
        await process.stdin.drain()
        async with ZaloBotClient(token, base_url=f"http://127.0.0.1:{port}", poll_slack=2.0) as bot:
            text, photo = await bot.get_updates(timeout=5), await bot.get_updates(timeout=5)
            assert text is not None and (text.sender_id, text.text) == (
                "owner-by-hand",
                "Tôi muốn hỏi về hỗ trợ",
            )
            assert photo is not None and (photo.photo_url, photo.caption) == (
                "https://example.invalid/p.jpg",
                "Giấy phép",
            )
            await bot.send_message("owner-by-hand", "Chào anh/chị!")
            assert "<bot> [text] Chào anh/chị!" in await _read_until(process.stdout, "Chào anh/chị!")
        process.stdin.write(b"quit\n")
        await process.stdin.drain()
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
