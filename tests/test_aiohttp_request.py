"""PTB on the aiohttp backend (bot/channels/aiohttp_request.py), over HTTP against the fake Bot API:
every Bot API behaviour the channel relies on comes through unchanged (errors by HTTP status, uploads,
downloads), and transport failures become PTB's TimedOut / NetworkError."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.channels.aiohttp_request import AiohttpRequest
from bot.channels.telegram import make_bot, retry_seconds
from tests.fakes.telegram_api import FakeTelegram, FakeUser

TOKEN = "123456:TEST"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with make_bot(TOKEN, fake.base_url) as client:
        yield client


async def user_who_wrote(fake: FakeTelegram, user_id: int) -> FakeUser:
    """Telegram lets a bot write only to someone who wrote to it first."""
    user = fake.user(user_id)
    await user.send_text("/start")
    return user


async def test_make_bot_talks_through_aiohttp(bot: Bot) -> None:
    assert isinstance(bot.request, AiohttpRequest)
    me = await bot.get_me()
    assert me.id == 123456


async def test_a_message_with_a_keyboard_arrives_as_sent(fake: FakeTelegram, bot: Bot) -> None:
    user = await user_who_wrote(fake, 501)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Có", callback_data="yes")]])
    sent = await bot.send_message(user.chat_id, "Doanh nghiệp có trụ sở ở nông thôn?", reply_markup=markup)
    seen = user.last()
    assert seen["message_id"] == sent.message_id
    assert seen["text"] == "Doanh nghiệp có trụ sở ở nông thôn?"
    assert user.buttons() == [("Có", "yes")]


async def test_a_document_with_a_vietnamese_name_uploads_whole(fake: FakeTelegram, bot: Bot) -> None:
    user = await user_who_wrote(fake, 502)
    content = bytes(range(256)) * 300  # 75 KiB, every byte value
    sent = await bot.send_document(user.chat_id, content, filename="Hồ sơ đề nghị.docx", caption="Bản nháp")
    assert sent.document is not None
    assert sent.document.file_name == "Hồ sơ đề nghị.docx"
    assert sent.caption == "Bản nháp"
    assert fake.file_content(sent.document.file_id) == content
    upload = fake.calls("sendDocument")[0].files["document"]
    assert (upload.filename, upload.content) == ("Hồ sơ đề nghị.docx", content)


async def test_a_file_the_user_sent_downloads_through_get_file(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(503)
    content = b"%PDF-1.4 giay phep\n" * 500
    await user.send_document(content, "giay-phep.pdf", "application/pdf")
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.document is not None
    file = await bot.get_file(update.message.document.file_id)
    assert bytes(await file.download_as_bytearray()) == content


async def test_telegram_errors_keep_their_meaning(fake: FakeTelegram, bot: Bot) -> None:
    user = await user_who_wrote(fake, 504)
    fake.inject("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(user.chat_id, "x")
    assert retry_seconds(flood.value) == 7
    fake.block(504)
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(user.chat_id, "x")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999_999_999, "x")


async def test_an_answer_that_never_comes_is_timed_out(fake: FakeTelegram) -> None:
    request = AiohttpRequest(read_timeout=0.3)
    user = await user_who_wrote(fake, 505)
    async with Bot(TOKEN, base_url=fake.base_url, request=request) as bot:
        fake.delay("sendMessage", 3.0)
        with pytest.raises(TimedOut):
            await bot.send_message(user.chat_id, "x")
        sent = await bot.send_message(user.chat_id, "again")  # the pool is still usable
        assert sent.text == "again"


async def test_nobody_listening_is_a_network_error() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with AiohttpRequest() as request:
        with pytest.raises(NetworkError) as error:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    assert not isinstance(error.value, TimedOut)
    assert "aiohttp" in str(error.value)


async def test_a_request_before_initialize_is_refused() -> None:
    request = AiohttpRequest()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request("http://127.0.0.1:1/", "GET")
