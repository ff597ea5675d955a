"""The fake Telegram Bot API, exercised over HTTP by the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import re
import socket
import struct
import sys
import time
import zlib
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from tests.fakes.telegram_api import FakeTelegram, FakeUser, format_text, image_size

TOKEN = "123456:TEST"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN, bot_id=123456, username="smebot_test_bot") as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url) as client:
        yield client


@pytest.fixture
async def an(fake: FakeTelegram, bot: Bot) -> FakeUser:
    """A user who has already written to the bot (so the bot may message them); the update is confirmed."""
    user = fake.user(1001, first_name="An", language_code="vi")
    update_id = await user.send_text("xin chào")
    assert [u.update_id for u in await bot.get_updates()] == [update_id]
    assert await bot.get_updates(offset=update_id + 1) == ()
    return user


def bad_request(fragment: str) -> AbstractContextManager[pytest.ExceptionInfo[BadRequest]]:
    """BadRequest whose message contains ``fragment`` (PTB strips "Bad Request: " and recases the rest)."""
    return pytest.raises(BadRequest, match=re.compile(re.escape(fragment), re.IGNORECASE))


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data)] for text, data in pairs])


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def retry_after_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after  # int in PTB 22 (with a deprecation warning), timedelta later
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# -- identity & tokens --------------------------------------------------------------------------------------


async def test_get_me_returns_the_bot_user(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == 123456
    assert me.is_bot is True
    assert me.username == "smebot_test_bot"
    assert me.can_join_groups is True
    assert bot.username == "smebot_test_bot"  # set by initialize() through getMe
    assert [call.method for call in fake.calls()] == ["getMe", "getMe"]


async def test_wrong_token_is_unauthorized_and_unknown_method_not_found(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(InvalidToken, match="rejected by the server"):
        async with Bot("999:WRONG", base_url=fake.base_url) as other:
            await other.get_me()
    assert fake.calls("getMe")[-1].response == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendHologram", api_kwargs={"chat_id": 1})
    assert fake.calls("sendHologram")[0].status == 404
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.base_url}{TOKEN}/noSuchMethod") as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        async with http.post(f"{fake.base_url}not-a-token/getMe") as resp:
            assert resp.status == 404
        async with http.post(f"{fake.base_url}42:OTHER/getMe") as resp:
            assert resp.status == 401
            assert await resp.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


# -- updates by long polling ---------------------------------------------------------------------------------


async def test_user_text_arrives_as_an_update(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(1001, first_name="An", language_code="vi")
    update_id = await user.send_text("Xin chào bot")
    updates = await bot.get_updates()
    assert len(updates) == 1
    update = updates[0]
    assert isinstance(update, Update)
    assert update.update_id == update_id
    assert update.message is not None
    assert update.message.text == "Xin chào bot"
    assert update.message.from_user is not None
    assert update.message.from_user.language_code == "vi"
    assert update.message.from_user.first_name == "An"
    assert update.message.from_user.is_bot is False
    assert update.message.chat.id == 1001
    assert update.message.chat.type == "private"
    assert update.effective_user is not None and update.effective_user.id == 1001
    assert update.message.api_kwargs == {}  # nothing the library does not know


async def test_command_has_a_bot_command_entity(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(1002, first_name="Bình", language_code="en")
    await user.send_command("start ref_42")
    (update,) = await bot.get_updates()
    assert update.message is not None
    assert update.message.text == "/start ref_42"
    (entity,) = update.message.entities
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 6)
    assert update.message.from_user is not None
    assert update.message.from_user.language_code == "en"


async def test_offset_confirms_and_drops_updates_for_good(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(1001)
    first = await user.send_text("một")
    second = await user.send_text("hai")
    third = await user.send_text("ba")
    assert [u.update_id for u in await bot.get_updates()] == [first, second, third]
    assert [u.update_id for u in await bot.get_updates()] == [first, second, third]  # not confirmed yet
    assert [u.update_id for u in await bot.get_updates(offset=second)] == [second, third]
    assert [u.update_id for u in await bot.get_updates(offset=0)] == [second, third]  # first is gone
    assert [u.update_id for u in await bot.get_updates(limit=1)] == [second]
    assert await bot.get_updates(offset=third + 1) == ()
    assert await bot.get_updates() == ()
    assert fake.pending_updates() == []


async def test_negative_offset_keeps_only_the_last_updates(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(1001)
    ids = [await user.send_text(f"tin {n}") for n in range(4)]
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == [ids[-1]]
    assert [u.update_id for u in await bot.get_updates()] == [ids[-1]]


async def test_long_polling_returns_early_when_an_update_arrives(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(1001)
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=8))
    await asyncio.sleep(0.3)
    assert not poll.done()  # really waiting
    update_id = await user.send_text("đây rồi")
    updates = await asyncio.wait_for(poll, 5)
    elapsed = time.monotonic() - started
    assert [u.update_id for u in updates] == [update_id]
    assert 0.3 <= elapsed < 3
    assert fake.calls("getUpdates")[-1].params["timeout"] == 8


async def test_long_polling_waits_the_timeout_when_nothing_happens(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 3


async def test_a_second_poller_terminates_the_first_with_conflict(fake: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=8))
    await asyncio.sleep(0.2)
    async with Bot(TOKEN, base_url=fake.base_url) as second:
        assert await second.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 5)


async def test_deliver_twice_repeats_the_same_update_id(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(1001)
    update_id = await user.send_text("chỉ một lần")
    (update,) = await bot.get_updates()
    assert await bot.get_updates(offset=update_id + 1) == ()  # confirmed
    await fake.deliver_twice(update_id)
    (again,) = await bot.get_updates(offset=update_id + 1)
    assert again.update_id == update_id
    assert again.message is not None and update.message is not None
    assert again.message.message_id == update.message.message_id
    assert again.message.text == "chỉ một lần"
    assert await bot.get_updates(offset=update_id + 1) == ()  # the copy is confirmed now


# -- messages, keyboards, callbacks -------------------------------------------------------------------------


async def test_send_message_with_keyboard_then_press(fake: FakeTelegram, bot: Bot, an: FakeUser) -> None:
    sent = await bot.send_message(
        chat_id=an.chat_id,
        text="Doanh nghiệp của bạn thuộc ngành nào?",
        reply_markup=keyboard(("Công nghiệp", "sector:industry"), ("Thương mại", "sector:trade")),
        disable_notification=True,
    )
    assert sent.message_id == 2  # the user's message was 1: ids count per chat
    assert sent.from_user is not None and sent.from_user.id == 123456 and sent.from_user.is_bot
    assert sent.chat.id == an.chat_id
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[1][0].callback_data == "sector:trade"
    seen = an.last()
    assert seen["text"] == "Doanh nghiệp của bạn thuộc ngành nào?"
    assert an.buttons() == [("Công nghiệp", "sector:industry"), ("Thương mại", "sector:trade")]
    assert fake.calls("sendMessage")[0].params["disable_notification"] is True

    update_id = await an.press(sent.message_id, "sector:trade")
    (update,) = await bot.get_updates()
    assert update.update_id == update_id
    query = update.callback_query
    assert query is not None
    assert query.data == "sector:trade"
    assert query.from_user.id == an.user_id
    assert query.from_user.language_code == "vi"
    assert query.message is not None and query.message.message_id == sent.message_id
    assert query.message.chat.id == an.chat_id
    assert query.chat_instance
    with pytest.raises(ValueError, match="no button"):
        await an.press(sent.message_id, "sector:nothing")


async def test_answer_callback_query_is_recorded_once(fake: FakeTelegram, bot: Bot, an: FakeUser) -> None:
    sent = await bot.send_message(an.chat_id, "Chọn", reply_markup=keyboard(("Có", "yes"), ("Không", "no")))
    await an.press_button(1)
    (update,) = await bot.get_updates()
    assert update.callback_query is not None
    assert await update.callback_query.answer(text="Đã lưu", show_alert=True) is True
    (answer,) = an.callback_answers()
    assert answer["text"] == "Đã lưu"
    assert answer["show_alert"] is True
    assert answer["data"] == "yes"
    assert answer["message_id"] == sent.message_id
    with bad_request("query is too old"):
        await bot.answer_callback_query(update.callback_query.id)
    with bad_request("query is too old"):
        await bot.answer_callback_query("123")


async def test_edit_message_reply_markup_and_text(fake: FakeTelegram, bot: Bot, an: FakeUser) -> None:
    sent = await bot.send_message(
        an.chat_id, "Chọn quy mô", reply_markup=keyboard(("Nhỏ", "s"), ("Vừa", "m"))
    )
    edited = await bot.edit_message_reply_markup(
        chat_id=an.chat_id, message_id=sent.message_id, reply_markup=keyboard(("Nhỏ ✓", "s"))
    )
    assert not isinstance(edited, bool)
    assert edited.edit_date is not None
    assert edited.reply_markup is not None
    assert [b.text for row in edited.reply_markup.inline_keyboard for b in row] == ["Nhỏ ✓"]
    assert an.buttons(sent.message_id) == [("Nhỏ ✓", "s")]
    with bad_request("message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=an.chat_id, message_id=sent.message_id, reply_markup=keyboard(("Nhỏ ✓", "s"))
        )
    with bad_request("message to edit not found"):
        await bot.edit_message_reply_markup(chat_id=an.chat_id, message_id=999, reply_markup=None)
    with bad_request("message can't be edited"):
        await bot.edit_message_text("đổi", chat_id=an.chat_id, message_id=1)  # the user's own message

    # editMessageText without reply_markup removes the keyboard, like Telegram
    retitled = await bot.edit_message_text("Quy mô: nhỏ", chat_id=an.chat_id, message_id=sent.message_id)
    assert not isinstance(retitled, bool)
    assert retitled.text == "Quy mô: nhỏ"
    assert retitled.reply_markup is None
    assert an.messages()[-1]["text"] == "Quy mô: nhỏ"
    assert "reply_markup" not in an.messages()[-1]
    with bad_request("message is not modified"):
        await bot.edit_message_text("Quy mô: nhỏ", chat_id=an.chat_id, message_id=sent.message_id)
    assert await bot.delete_message(an.chat_id, sent.message_id) is True
    assert an.messages() == []
    with bad_request("message to delete not found"):
        await bot.delete_message(an.chat_id, sent.message_id)


async def test_validation_like_telegram(fake: FakeTelegram, bot: Bot, an: FakeUser) -> None:
    with bad_request("message text is empty"):
        await bot.send_message(an.chat_id, "   ")
    with bad_request("message is too long"):
        await bot.send_message(an.chat_id, "x" * 4097)
    assert (await bot.send_message(an.chat_id, "ư" * 4096)).text == "ư" * 4096
    with bad_request("BUTTON_DATA_INVALID"):
        await bot.send_message(an.chat_id, "Chọn", reply_markup=keyboard(("Dài", "d" * 65)))
    with bad_request("BUTTON_DATA_INVALID"):  # the limit is 64 bytes, not characters
        await bot.send_message(an.chat_id, "Chọn", reply_markup=keyboard(("Dài", "đ" * 33)))
    assert (await bot.send_message(an.chat_id, "Chọn", reply_markup=keyboard(("Vừa", "d" * 64)))).reply_markup
    with bad_request("chat not found"):
        await bot.send_message(424242, "ai đó?")
    fake.user(2002)  # exists but never wrote
    with bad_request("chat not found"):
        await bot.send_message(2002, "chào")
    assert [m["text"] for m in an.messages()] == ["ư" * 4096, "Chọn"]  # nothing else was recorded


async def test_text_is_trimmed_and_html_parsed(fake: FakeTelegram, bot: Bot, an: FakeUser) -> None:
    sent = await bot.send_message(
        an.chat_id,
        "  <b>Công ty A &amp; B</b> &lt;VN&gt; <a href='https://x.vn'>xem</a>\n",
        parse_mode="HTML",
    )
    assert sent.text == "Công ty A & B <VN> xem"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 13), ("text_link", 19, 3)]
    assert sent.entities[1].url == "https://x.vn"
    assert an.last()["source_text"].startswith("  <b>Công ty")
    assert an.last()["parse_mode"] == "HTML"
    with bad_request('can\'t parse entities: Unsupported start tag "vn"'):
        await bot.send_message(an.chat_id, "Công ty A & B <VN>", parse_mode=ParseMode.HTML)
    with bad_request('Can\'t find end tag corresponding to start tag "b"'):
        await bot.send_message(an.chat_id, "<b>đậm", parse_mode=ParseMode.HTML)
    with bad_request("Character '.' is reserved"):
        await bot.send_message(an.chat_id, "Hạn: 31.12.2026", parse_mode=ParseMode.MARKDOWN_V2)
    ok = await bot.send_message(
        an.chat_id, r"*Hạn:* 31\.12\.2026 😀 _xong_", parse_mode=ParseMode.MARKDOWN_V2
    )
    assert ok.text == "Hạn: 31.12.2026 😀 xong"
    assert [(e.type, e.offset, e.length) for e in ok.entities] == [
        ("bold", 0, 4),
        ("italic", 19, 4),
    ]  # 😀: 2 units


def test_format_text_units_and_errors() -> None:
    assert format_text("😀 <i>a</i>", "HTML") == ("😀 a", [{"offset": 3, "length": 1, "type": "italic"}])
    assert format_text("```py\nx = 1```", "MarkdownV2")[1] == [
        {"offset": 0, "length": 5, "type": "pre", "language": "py"}
    ]
    assert format_text("*a* _b_ `c`", "Markdown")[0] == "a b c"
    assert format_text("[go](https://a.vn)", "MarkdownV2")[1][0]["url"] == "https://a.vn"
    assert image_size(png(7, 3)) == (7, 3)


async def test_reply_parameters_and_reply_keyboard(fake: FakeTelegram, bot: Bot, an: FakeUser) -> None:
    sent = await bot.send_message(
        an.chat_id,
        "Gửi số điện thoại",
        reply_parameters=ReplyParameters(message_id=1),
        reply_markup=ReplyKeyboardMarkup([["Bỏ qua"]], resize_keyboard=True),
    )
    assert sent.reply_to_message is not None and sent.reply_to_message.text == "xin chào"
    assert sent.reply_markup is None  # Telegram only echoes inline keyboards
    assert an.reply_keyboard() == [["Bỏ qua"]]
    with bad_request("message to be replied not found"):
        await bot.send_message(an.chat_id, "?", reply_parameters=ReplyParameters(message_id=77))


# -- files ---------------------------------------------------------------------------------------------------


async def test_send_document_is_seen_by_the_user(fake: FakeTelegram, bot: Bot, an: FakeUser) -> None:
    content = b"%PDF-1.4 ho so de nghi ho tro\n" * 100
    sent = await bot.send_document(
        an.chat_id, document=content, filename="ho-so.pdf", caption="Hồ sơ <b>nháp</b>", parse_mode="HTML"
    )
    assert sent.document is not None
    assert sent.document.file_name == "ho-so.pdf"
    assert sent.document.mime_type == "application/pdf"
    assert sent.document.file_size == len(content)
    assert sent.caption == "Hồ sơ nháp"
    seen = an.last()
    assert seen["document"]["file_id"] == sent.document.file_id
    assert fake.file_content(seen["document"]["file_id"]) == content
    upload = fake.calls("sendDocument")[0].files["document"]
    assert (upload.filename, upload.content) == ("ho-so.pdf", content)

    again = await bot.send_document(an.chat_id, document=sent.document.file_id)  # re-send by file_id
    assert again.document is not None
    assert again.document.file_unique_id == sent.document.file_unique_id
    with bad_request("wrong file identifier"):
        await bot.send_document(an.chat_id, document="BQACnothing")
    await an.wait_for(lambda m: m["message_id"] == again.message_id, timeout=1)


async def test_user_document_downloads_through_get_file(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(1003, first_name="Chi")
    content = bytes(range(256)) * 40
    await user.send_document(content, "giay-phep.pdf", "application/pdf", caption="Giấy phép")
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.document is not None
    document = update.message.document
    assert (document.file_name, document.mime_type, document.file_size) == (
        "giay-phep.pdf",
        "application/pdf",
        len(content),
    )
    assert update.message.caption == "Giấy phép"
    file = await document.get_file()
    assert file.file_path is not None and file.file_path.startswith(f"{fake.base_file_url}{TOKEN}/documents/")
    assert file.file_size == len(content)
    assert await file.download_as_bytearray() == bytearray(content)
    with bad_request("invalid file_id"):
        await bot.get_file("nope")
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{fake.base_file_url}{TOKEN}/documents/missing.pdf") as resp,
    ):
        assert resp.status == 404


async def test_photos_both_ways(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(1004)
    image = png(40, 30)
    await user.send_photo(image, caption="Mặt tiền cửa hàng")
    (update,) = await bot.get_updates()
    assert update.message is not None
    (size,) = update.message.photo
    assert (size.width, size.height) == (40, 30)
    assert await (await size.get_file()).download_as_bytearray() == bytearray(image)
    sent = await bot.send_photo(user.chat_id, photo=png(120, 60), caption="Biểu đồ")
    assert [(p.width, p.height) for p in sent.photo] == [(120, 60)]
    with bad_request("IMAGE_PROCESS_FAILED"):
        await bot.send_photo(user.chat_id, photo=b"not an image")
    with bad_request("can't use file of type Photo as Document"):
        await bot.send_document(user.chat_id, document=sent.photo[0].file_id)


# -- commands ------------------------------------------------------------------------------------------------


async def test_commands_per_scope_and_language(fake: FakeTelegram, bot: Bot, an: FakeUser) -> None:
    scope = BotCommandScopeChat(an.chat_id)
    vi = [BotCommand("start", "Bắt đầu"), BotCommand("mydossiers", "Hồ sơ của tôi")]
    assert await bot.set_my_commands(vi, scope=scope, language_code="vi") is True
    assert await bot.set_my_commands([BotCommand("start", "Start")]) is True
    got = await bot.get_my_commands(scope=scope, language_code="vi")
    assert [(c.command, c.description) for c in got] == [
        ("start", "Bắt đầu"),
        ("mydossiers", "Hồ sơ của tôi"),
    ]
    assert await bot.get_my_commands(scope=scope, language_code="en") == ()
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert fake.commands({"type": "chat", "chat_id": an.chat_id}, "vi")[1]["command"] == "mydossiers"
    with bad_request("BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start-Now", "x")])
    with bad_request("chat not found"):
        await bot.set_my_commands(vi, scope=BotCommandScopeChat(999))
    assert await bot.delete_my_commands(scope=scope, language_code="vi") is True
    assert await bot.get_my_commands(scope=scope, language_code="vi") == ()


# -- faults --------------------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_429_raises_retry_after(fake: FakeTelegram, bot: Bot, an: FakeUser) -> None:
    fake.inject("sendMessage", 429, retry_after=7, times=2)
    for _ in range(2):
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(an.chat_id, "chào")
        assert retry_after_seconds(caught.value) == 7
    assert (await bot.send_message(an.chat_id, "chào")).text == "chào"
    statuses = [call.status for call in fake.calls("sendMessage")]
    assert statuses == [429, 429, 200]
    body = fake.calls("sendMessage")[0].response
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }
    assert [m["text"] for m in an.messages()] == ["chào"]


async def test_blocked_user_is_forbidden(fake: FakeTelegram, bot: Bot, an: FakeUser) -> None:
    sent = await bot.send_message(an.chat_id, "trước khi chặn")
    fake.block(an.user_id)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(an.chat_id, "sau khi chặn")
    with pytest.raises(Forbidden):
        await bot.send_document(an.chat_id, document=b"x", filename="a.txt")
    with pytest.raises(Forbidden):
        await bot.edit_message_text("sửa", chat_id=an.chat_id, message_id=sent.message_id)
    assert fake.calls("sendMessage")[-1].response == {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: bot was blocked by the user",
    }
    fake.unblock(an.user_id)
    assert (await bot.send_message(an.chat_id, "mở lại")).text == "mở lại"
    assert [m["text"] for m in an.messages()] == ["trước khi chặn", "mở lại"]


async def test_injected_server_errors_are_network_errors(fake: FakeTelegram, bot: Bot, an: FakeUser) -> None:
    fake.inject("sendMessage", 500)
    fake.inject("getUpdates", 502)
    with pytest.raises(NetworkError, match="Internal Server Error") as caught:
        await bot.send_message(an.chat_id, "x")
    assert not isinstance(caught.value, BadRequest | Forbidden)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.get_updates()
    fake.inject("sendMessage", 400, parameters={"migrate_to_chat_id": -100123})
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(an.chat_id, "x")
    assert migrated.value.new_chat_id == -100123
    fake.inject("downloadFile", 500)
    await an.send_document(b"abc", "a.txt", "text/plain")
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.document is not None
    file = await update.message.document.get_file()
    with pytest.raises(NetworkError):
        await file.download_as_bytearray()
    assert await file.download_as_bytearray() == bytearray(b"abc")
    assert an.messages() == []


async def test_delay_times_out_the_client(fake: FakeTelegram, bot: Bot, an: FakeUser) -> None:
    fake.delay("sendMessage", 1.5)
    with pytest.raises(TimedOut):
        await bot.send_message(an.chat_id, "mất", read_timeout=0.3)
    await fake.wait_for_calls("sendMessage", 1, timeout=5)
    assert fake.calls("sendMessage")[0].status == 499
    assert an.messages() == []  # the client gave up before Telegram acted

    fake.delay("sendMessage", 1.0, process_first=True)
    with pytest.raises(TimedOut):
        await bot.send_message(an.chat_id, "đến mà không biết", read_timeout=0.3)
    assert [m["text"] for m in an.messages()] == ["đến mà không biết"]  # sent although the bot timed out
    started = time.monotonic()
    assert (await bot.send_message(an.chat_id, "nhanh")).text == "nhanh"
    assert time.monotonic() - started < 1


async def test_calls_log_parameters_with_monotonic_times(fake: FakeTelegram, bot: Bot, an: FakeUser) -> None:
    for n in range(3):
        await bot.send_message(an.chat_id, f"tin {n}", reply_markup=keyboard(("ok", f"ok:{n}")))
    calls = fake.calls("sendmessage")
    assert [call.params["text"] for call in calls] == ["tin 0", "tin 1", "tin 2"]
    assert all(call.params["chat_id"] == an.chat_id for call in calls)
    assert calls[2].params["reply_markup"] == {"inline_keyboard": [[{"text": "ok", "callback_data": "ok:2"}]]}
    times = [call.at for call in calls]
    assert times == sorted(times) and times[0] <= time.monotonic()
    assert all(call.ok for call in calls)


async def test_form_and_json_bodies(fake: FakeTelegram, an: FakeUser) -> None:
    url = f"{fake.base_url}{TOKEN}/sendMessage"
    markup = json.dumps({"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]})
    async with aiohttp.ClientSession() as http:
        form = {"chat_id": str(an.chat_id), "text": "form", "reply_markup": markup}
        async with http.post(url, data=form) as resp:
            body = await resp.json()
            assert resp.status == 200 and body["ok"] is True
            assert body["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a"
        payload: dict[str, Any] = {"chat_id": an.chat_id, "text": "json", "reply_markup": json.loads(markup)}
        async with http.post(url, json=payload) as resp:
            assert (await resp.json())["result"]["text"] == "json"
        async with http.post(
            url, data={"chat_id": str(an.chat_id), "text": "x", "reply_markup": "{oops"}
        ) as resp:
            assert resp.status == 400
            assert (await resp.json())[
                "description"
            ] == "Bad Request: can't parse reply keyboard markup JSON object"
        async with http.get(f"{fake.base_url}{TOKEN}/getMe") as resp:
            assert (await resp.json())["result"]["username"] == "smebot_test_bot"
    assert [m["text"] for m in an.messages()] == ["form", "json"]
    assert [m["message_id"] for m in an.messages()] == [2, 3]


async def test_wait_for_sees_messages_sent_later(fake: FakeTelegram, bot: Bot, an: FakeUser) -> None:
    async def reply_later() -> None:
        await asyncio.sleep(0.2)
        await bot.send_message(an.chat_id, "Một")
        await bot.send_message(an.chat_id, "Hai: chọn ngành")

    task = asyncio.create_task(reply_later())
    assert (await an.wait_for("chọn ngành", timeout=5))["text"] == "Hai: chọn ngành"
    await task
    with pytest.raises(TimeoutError):
        await an.wait_for("Một", timeout=0.2)  # consumed: waits continue after the last match
    assert an.last()["text"] == "Hai: chọn ngành"


async def test_a_real_application_polls_and_replies(fake: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(
            update.effective_chat.id,
            "Chào <b>bạn</b>!",
            parse_mode="HTML",
            reply_markup=keyboard(("Bắt đầu", "go")),
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer("OK")
        await query.edit_message_text(f"Đã chọn: {query.data}")

    app = Application.builder().token(TOKEN).base_url(fake.base_url).base_file_url(fake.base_file_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    user = fake.user(1007, first_name="Dũng")
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            await user.send_command("start")
            greeting = await user.wait_for("Chào bạn!", timeout=10)
            assert greeting["entities"] == [{"offset": 5, "length": 3, "type": "bold"}]
            await user.press(greeting["message_id"], "go")
            await fake.wait_for_calls("editMessageText", 1, timeout=10)
            assert user.callback_answers()[0]["text"] == "OK"
            assert user.messages()[-1]["text"] == "Đã chọn: go"
            assert "reply_markup" not in user.messages()[-1]
        finally:
            await app.updater.stop()
            await app.stop()
    assert fake.calls("deleteWebhook")  # PTB's polling bootstrap
    assert fake.pending_updates() == []  # PTB confirmed everything on shutdown


# -- webhook -------------------------------------------------------------------------------------------------


async def test_webhook_delivery_with_secret_and_retries(fake: FakeTelegram, bot: Bot) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    answers = iter([500, 503])

    async def endpoint(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(status=next(answers, 200))

    app = web.Application()
    app.router.add_post("/hook", endpoint)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    await web.SockSite(runner, sock).start()
    try:
        url = f"http://127.0.0.1:{port}/hook"
        user = fake.user(1005)
        before = await user.send_text("đã có từ trước")
        assert await bot.set_webhook(url, secret_token="s3cr3t-Token_1", max_connections=5) is True
        after = await user.send_text("sau khi đặt webhook")
        deadline = time.monotonic() + 10
        while (
            len([a for a in fake.webhook_attempts() if a.status == 200]) < 2 and time.monotonic() < deadline
        ):
            await asyncio.sleep(0.05)
        assert [body["update_id"] for _, body in received] == [before, before, before, after]
        assert {secret for secret, _ in received} == {"s3cr3t-Token_1"}
        assert received[-1][1]["message"]["text"] == "sau khi đặt webhook"
        assert Update.de_json(received[-1][1], bot).message is not None
        attempts = fake.webhook_attempts()
        assert [(a.update_id, a.attempt, a.status) for a in attempts] == [
            (before, 1, 500),
            (before, 2, 503),
            (before, 3, 200),
            (after, 1, 200),
        ]
        assert attempts[1].at - attempts[0].at >= 0.15  # backoff between tries
        info = await bot.get_webhook_info()
        assert info.url == url
        assert info.pending_update_count == 0
        assert info.max_connections == 5
        assert info.last_error_message == "Wrong response from the webhook: 503 Service Unavailable"
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        assert await bot.delete_webhook() is True
        assert (await bot.get_webhook_info()).url == ""
        later = await user.send_text("lại polling")
        assert [u.update_id for u in await bot.get_updates()] == [later]
    finally:
        await runner.cleanup()


async def test_webhook_set_with_drop_pending_updates(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(1006)
    await user.send_text("cũ")
    assert await bot.set_webhook("http://127.0.0.1:9/unused", drop_pending_updates=True) is True
    assert fake.pending_updates() == []
    assert await bot.delete_webhook(drop_pending_updates=True) is True
    with bad_request("secret token"):
        await bot.set_webhook("http://127.0.0.1:9/unused", secret_token="không hợp lệ")


# -- by hand -------------------------------------------------------------------------------------------------


async def _read_until(stream: asyncio.StreamReader, needle: str, timeout: float = 10) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        line = await asyncio.wait_for(stream.readline(), max(deadline - time.monotonic(), 0.01))
        if not line:
            raise AssertionError(f"{needle!r} never printed; got {seen!r}")
        seen += line.decode()
    return seen


async def test_command_line_fake_with_prompt() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.telegram_api",
        "--port",
        str(port),
        "--user-id",
        "1001",
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        banner = await _read_until(process.stdout, "'help' for commands")
        base_url = f"http://127.0.0.1:{port}/bot"
        assert f"SMEBOT_TELEGRAM_API_URL={base_url} SMEBOT_TELEGRAM_TOKEN={TOKEN} smebot run" in banner
        process.stdin.write(b"> /start\n")
        await process.stdin.drain()
        async with Bot(TOKEN, base_url=base_url) as client:
            (update,) = await client.get_updates(timeout=5)
            assert update.message is not None and update.message.text == "/start"
            await client.send_message(
                1001, "Chào An!\nChọn:", reply_markup=keyboard(("Có", "yes"), ("Không", "no"))
            )
            shown = await _read_until(process.stdout, "[2] Không")
            assert "< [1001#2] Chào An!" in shown
            process.stdin.write(b"press 2\n")
            await process.stdin.drain()
            (pressed,) = await client.get_updates(offset=update.update_id + 1, timeout=5)
            assert pressed.callback_query is not None and pressed.callback_query.data == "no"
        process.stdin.write(b"quit\n")
        await process.stdin.drain()
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
