"""A protocol-faithful fake of the Telegram Bot API, served over real HTTP on 127.0.0.1.

The bot under test talks to it exactly as it talks to ``api.telegram.org``: python-telegram-bot only needs
``Bot(token, base_url=fake.base_url, base_file_url=fake.base_file_url)``. Requests may be JSON,
form-urlencoded or multipart (files); answers use Telegram's envelope and HTTP statuses
(``{"ok": true, "result": ...}``, or ``{"ok": false, "error_code": N, "description": ...}`` with status N).

Tests play the user through :class:`FakeUser` (``fake.user(42)``): every ``send_*``/``press`` queues an
``Update`` that the bot receives by long polling (``getUpdates``) or, once ``setWebhook`` is called, by a
POST from the fake to the webhook URL. Everything the bot sends is recorded per chat.

Faults for resilience tests: :meth:`FakeTelegram.inject` (HTTP errors, 429 with ``retry_after``),
:meth:`FakeTelegram.delay` (slow answers / client time-outs), :meth:`FakeTelegram.drop` (the connection
closed without an answer, before or after the call was carried out), :meth:`FakeTelegram.block` (403),
:meth:`FakeTelegram.deliver_twice` (duplicate updates), :meth:`FakeTelegram.chaos` (random faults on every
method, seeded, in the shares asked: 429s with a ``retry_after``, calls that hang past the client's
time-out), :meth:`FakeTelegram.inject_update` / :meth:`FakeTelegram.odd_update` (updates Telegram
would not send: a float or boolean ``update_id``, a ``from`` without an id, an oversized one, a type the bot
did not ask for). ``getUpdates`` and the webhook honour ``allowed_updates`` as Telegram does (the last list
given is kept), unless an update is injected with ``force=True``. :meth:`FakeTelegram.calls` is the log of
every API call with its parameters and a monotonic timestamp.

Formatting is validated like Telegram does it: ``parse_mode`` HTML, MarkdownV2 and Markdown are parsed into
plain text plus entities (offsets in UTF-16 code units), and malformed markup is a 400 "can't parse
entities". Leading and trailing whitespace is trimmed, as Telegram does.

Run by hand: ``python -m tests.fakes.telegram_api --port 8081`` (see :func:`main`).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import copy
import hashlib
import json
import mimetypes
import random
import re
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

__all__ = [
    "CHAOS_EXTRA_KINDS",
    "CHAOS_KINDS",
    "ApiCall",
    "ChaosFault",
    "FakeTelegram",
    "FakeUser",
    "Upload",
    "WebhookAttempt",
    "main",
]

JSONDict = dict[str, Any]
Listener = Callable[[str, JSONDict], None]
MessageMatch = str | Callable[[JSONDict], bool] | None

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_INLINE_BUTTONS = 100
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
MAX_COMMANDS = 100

TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_BOT_COMMAND_IN_TEXT_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
_INT_RE = re.compile(r"[+-]?\d+")
_FLOAT_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)")

ERR_UNAUTHORIZED = "Unauthorized"
ERR_NOT_FOUND = "Not Found"
ERR_CHAT_NOT_FOUND = "Bad Request: chat not found"
ERR_CHAT_ID_EMPTY = "Bad Request: chat_id is empty"
ERR_BLOCKED = "Forbidden: bot was blocked by the user"
ERR_TEXT_EMPTY = "Bad Request: message text is empty"
ERR_TEXT_TOO_LONG = "Bad Request: message is too long"
ERR_CAPTION_TOO_LONG = "Bad Request: message caption is too long"
ERR_BUTTON_DATA = "Bad Request: BUTTON_DATA_INVALID"
ERR_TEXT_BUTTONS = "Bad Request: text buttons are unallowed in the inline keyboard"
ERR_MARKUP_TOO_LONG = "Bad Request: reply markup is too long"
ERR_MARKUP_JSON = "Bad Request: can't parse reply keyboard markup JSON object"
ERR_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
ERR_EDIT_NOT_FOUND = "Bad Request: message to edit not found"
ERR_CANT_EDIT = "Bad Request: message can't be edited"
ERR_NO_TEXT_TO_EDIT = "Bad Request: there is no text in the message to edit"
ERR_NO_CAPTION_TO_EDIT = "Bad Request: there is no caption in the message to edit"
ERR_DELETE_NOT_FOUND = "Bad Request: message to delete not found"
ERR_MESSAGE_ID_EMPTY = "Bad Request: message identifier is not specified"
ERR_REPLY_NOT_FOUND = "Bad Request: message to be replied not found"
ERR_QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
ERR_ANSWER_TOO_LONG = "Bad Request: MESSAGE_TOO_LONG"
ERR_INVALID_FILE_ID = "Bad Request: invalid file_id"
ERR_WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"
ERR_URL_CONTENT = "Bad Request: failed to get HTTP URL content"
ERR_FILE_EMPTY = "Bad Request: file must be non-empty"
ERR_FILE_TOO_BIG = "Bad Request: file is too big"
ERR_IMAGE_FAILED = "Bad Request: IMAGE_PROCESS_FAILED"
ERR_PHOTO_DIMENSIONS = "Bad Request: PHOTO_INVALID_DIMENSIONS"
ERR_TOO_LARGE = "Request Entity Too Large"
ERR_COMMAND_INVALID = "Bad Request: BOT_COMMAND_INVALID"
ERR_COMMAND_DESCRIPTION = "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"
ERR_TOO_MANY_COMMANDS = "Bad Request: too many commands specified"
ERR_CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
    "webhook first"
)
ERR_CONFLICT_POLLING = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
ERR_WEBHOOK_URL = "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
ERR_SECRET = "Bad Request: secret token contains unallowed characters"
ERR_PARSE_MODE = "Bad Request: unsupported parse_mode"

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: ERR_UNAUTHORIZED,
    403: "Forbidden",
    404: ERR_NOT_FOUND,
    409: "Conflict",
    413: ERR_TOO_LARGE,
    500: "Internal Server Error",
    502: "Bad Gateway",
}

# Parameters that arrive JSON-serialised in form bodies, and the scalar ones worth typing.
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "commands",
        "scope",
        "entities",
        "caption_entities",
        "reply_parameters",
        "link_preview_options",
        "allowed_updates",
        "media",
        "menu_button",
        "rights",
    }
)
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "cache_time",
        "max_connections",
        "message_thread_id",
        "from_chat_id",
        "reply_to_message_id",
        "user_id",
    }
)
_FLOAT_FIELDS = frozenset({"timeout"})
_BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "disable_content_type_detection",
        "has_spoiler",
        "show_caption_above_media",
        "allow_paid_broadcast",
    }
)
_JSON_FIELD_ERRORS = {
    "reply_markup": ERR_MARKUP_JSON,
    "entities": "Bad Request: can't parse entities JSON object",
    "caption_entities": "Bad Request: can't parse caption entities JSON object",
    "commands": "Bad Request: can't parse commands JSON object",
    "scope": "Bad Request: can't parse BotCommandScope JSON object",
}

_SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)

# ---------------------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------------------


class _ApiError(Exception):
    """An error answered to the client with Telegram's envelope."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def envelope(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad(description: str) -> _ApiError:
    return _ApiError(400, description)


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


class _Signal:
    """Wake every current waiter; a waiter re-checks its condition after waking."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float | None) -> None:
        event = self._event
        if timeout is not None and timeout <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


# ---------------------------------------------------------------------------------------------------------
# Formatting: parse_mode -> (plain text, entities), as Telegram does it
# ---------------------------------------------------------------------------------------------------------


class _TextBuilder:
    def __init__(self) -> None:
        self._parts: list[str] = []
        self.pos = 0  # UTF-16 code units

    def add(self, text: str) -> None:
        self._parts.append(text)
        self.pos += _utf16_len(text)

    def text(self) -> str:
        return "".join(self._parts)


def _parse_error(message: str) -> _ApiError:
    return _bad(f"Bad Request: can't parse entities: {message}")


def _entity(kind: str, start: int, end: int, **extra: Any) -> JSONDict | None:
    if end <= start:
        return None
    entity: JSONDict = {"offset": start, "length": end - start, "type": kind}
    entity.update({key: value for key, value in extra.items() if value})
    return entity


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|#\d{1,7}|#[xX][0-9a-fA-F]{1,6});")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _html_unescape(text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _HTML_NAMED:
            return _HTML_NAMED[name]
        code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        return chr(code) if 0 < code <= 0x10FFFF else match.group(0)

    return _HTML_ENTITY_RE.sub(repl, text)


@dataclass
class _OpenTag:
    name: str
    start: int
    byte_begin: int
    attrs: dict[str, str] = field(default_factory=dict)
    language: str = ""


def _parse_html(text: str) -> tuple[str, list[JSONDict]]:
    out = _TextBuilder()
    stack: list[_OpenTag] = []
    entities: list[JSONDict] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "&":
            match = _HTML_ENTITY_RE.match(text, i)
            if match:
                out.add(_html_unescape(match.group(0)))
                i = match.end()
            else:
                out.add("&")
                i += 1
            continue
        if char != "<":
            j = i
            while j < n and text[j] not in "<&":
                j += 1
            out.add(text[i:j])
            i = j
            continue
        begin = i
        i += 1
        if i < n and text[i] == "/":
            close = text.find(">", i)
            if close == -1:
                raise _parse_error(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
            name = text[i + 1 : close].strip().lower()
            if not stack:
                raise _parse_error(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
            top = stack.pop()
            if name != top.name:
                raise _parse_error(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                    f'expected "</{top.name}>", found "</{name}>"'
                )
            _close_html_tag(top, stack, out.pos, entities)
            i = close + 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        if j >= n:
            raise _parse_error(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        name = text[i:j].lower()
        if name not in _HTML_TAGS:
            raise _parse_error(f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, begin)}')
        attrs, i = _parse_html_attrs(text, j, name, begin)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _parse_error(
                f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, begin)}'
            )
        stack.append(_OpenTag(name, out.pos, _byte_offset(text, begin), attrs))
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return out.text(), entities


def _parse_html_attrs(text: str, i: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    attrs: dict[str, str] = {}
    n = len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise _parse_error(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        if text[i] == ">":
            return attrs, i + 1
        j = i
        while j < n and (text[j].isalnum() or text[j] in "-_"):
            j += 1
        if j == i:
            raise _parse_error(
                f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(text, begin)}'
            )
        name = text[i:j].lower()
        i = j
        while i < n and text[i].isspace():
            i += 1
        value = ""
        if i < n and text[i] == "=":
            i += 1
            while i < n and text[i].isspace():
                i += 1
            if i < n and text[i] in "\"'":
                quote = text[i]
                end = text.find(quote, i + 1)
                if end == -1:
                    raise _parse_error(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
                value = text[i + 1 : end]
                i = end + 1
            else:
                j = i
                while j < n and not text[j].isspace() and text[j] != ">":
                    j += 1
                value = text[i:j]
                i = j
        attrs[name] = _html_unescape(value)


def _close_html_tag(tag: _OpenTag, stack: list[_OpenTag], end: int, entities: list[JSONDict]) -> None:
    kind = _HTML_TAGS[tag.name]
    entity: JSONDict | None
    if kind == "code" and stack and stack[-1].name == "pre":
        language = tag.attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1].language = language.removeprefix("language-")
            return
    if kind == "text_link":
        entity = (
            _entity("text_link", tag.start, end, url=tag.attrs.get("href", ""))
            if tag.attrs.get("href")
            else None
        )
    elif kind == "pre":
        entity = _entity("pre", tag.start, end, language=tag.language)
    elif kind == "blockquote":
        expandable = "expandable" in tag.attrs
        entity = _entity("expandable_blockquote" if expandable else "blockquote", tag.start, end)
    elif kind == "custom_emoji":
        entity = _entity("custom_emoji", tag.start, end, custom_emoji_id=tag.attrs.get("emoji-id", ""))
    else:
        entity = _entity(kind, tag.start, end)
    if entity is not None:
        entities.append(entity)


_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
    "code": "Code",
    "pre": "Pre",
}


def _parse_markdown_v2(text: str) -> tuple[str, list[JSONDict]]:
    out = _TextBuilder()
    stack: list[_OpenTag] = []
    entities: list[JSONDict] = []
    quote_start: int | None = None
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        top = stack[-1] if stack else None
        if top is not None and top.name in ("code", "pre"):
            if char == "\\" and i + 1 < n and text[i + 1] in "`\\":
                out.add(text[i + 1])
                i += 2
            elif top.name == "code" and char == "`":
                stack.pop()
                _append(entities, _entity("code", top.start, out.pos))
                i += 1
            elif top.name == "pre" and text.startswith("```", i):
                stack.pop()
                _append(entities, _entity("pre", top.start, out.pos, language=top.language))
                i += 3
            else:
                out.add(char)
                i += 1
            continue
        if char == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.add(text[i + 1])
            i += 2
            continue
        if char == ">" and (i == 0 or text[i - 1] == "\n"):
            if quote_start is None:
                quote_start = out.pos
            i += 1
            continue
        if char == "\n":
            if quote_start is not None and not text.startswith(">", i + 1):
                _append(entities, _entity("blockquote", quote_start, out.pos))
                quote_start = None
            out.add(char)
            i += 1
            continue
        if char not in _MD2_RESERVED:
            out.add(char)
            i += 1
            continue
        if top is not None:
            width = _md2_closing_width(text, i, top.name, stack)
            if width:
                stack.pop()
                i += width
                if top.name in ("text_link", "custom_emoji"):
                    i = _md2_close_link(text, i, top, out.pos, entities)
                else:
                    _append(entities, _entity(top.name, top.start, out.pos))
                continue
        byte_begin = _byte_offset(text, i)
        if char == "_" and text.startswith("__", i) and not any(t.name == "underline" for t in stack):
            stack.append(_OpenTag("underline", out.pos, byte_begin))
            i += 2
        elif char == "_":
            stack.append(_OpenTag("italic", out.pos, byte_begin))
            i += 1
        elif char == "*":
            stack.append(_OpenTag("bold", out.pos, byte_begin))
            i += 1
        elif char == "~":
            stack.append(_OpenTag("strikethrough", out.pos, byte_begin))
            i += 1
        elif char == "|" and text.startswith("||", i):
            stack.append(_OpenTag("spoiler", out.pos, byte_begin))
            i += 2
        elif char == "[":
            stack.append(_OpenTag("text_link", out.pos, byte_begin))
            i += 1
        elif char == "!" and text.startswith("![", i):
            stack.append(_OpenTag("custom_emoji", out.pos, byte_begin))
            i += 2
        elif char == "`" and text.startswith("```", i):
            i += 3
            newline = text.find("\n", i)
            language = ""
            if newline != -1 and re.fullmatch(r"[^\s`]*", text[i:newline]):
                language = text[i:newline]
                i = newline + 1
            stack.append(_OpenTag("pre", out.pos, byte_begin, language=language))
        elif char == "`":
            stack.append(_OpenTag("code", out.pos, byte_begin))
            i += 1
        else:
            raise _parse_error(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
    if stack:
        top = stack[-1]
        raise _parse_error(f"Can't find end of {_MD2_NAMES[top.name]} entity at byte offset {top.byte_begin}")
    if quote_start is not None:
        _append(entities, _entity("blockquote", quote_start, out.pos))
    return out.text(), entities


def _md2_closing_width(text: str, i: int, kind: str, stack: list[_OpenTag]) -> int:
    char = text[i]
    if kind == "bold" and char == "*":
        return 1
    if kind == "italic" and char == "_":
        underline_below = any(t.name == "underline" for t in stack[:-1])
        return 1 if not text.startswith("__", i) or underline_below else 0
    if kind == "underline" and text.startswith("__", i):
        return 2
    if kind == "strikethrough" and char == "~":
        return 1
    if kind == "spoiler" and text.startswith("||", i):
        return 2
    if kind in ("text_link", "custom_emoji") and char == "]":
        return 1
    return 0


def _md2_close_link(text: str, i: int, top: _OpenTag, end: int, entities: list[JSONDict]) -> int:
    url = ""
    if i < len(text) and text[i] == "(":
        j = i + 1
        chars: list[str] = []
        while j < len(text) and text[j] != ")":
            if text[j] == "\\" and j + 1 < len(text) and text[j + 1] in ")\\":
                chars.append(text[j + 1])
                j += 2
            else:
                chars.append(text[j])
                j += 1
        if j >= len(text):
            raise _parse_error(f"Can't find end of a URL at byte offset {_byte_offset(text, i)}")
        url = "".join(chars)
        i = j + 1
    if top.name == "custom_emoji":
        if not url.startswith("tg://emoji?id="):
            raise _parse_error("Custom emoji entity must contain a tg://emoji URL")
        _append(entities, _entity("custom_emoji", top.start, end, custom_emoji_id=url.split("=", 1)[1]))
    elif url:
        _append(entities, _entity("text_link", top.start, end, url=url))
    return i


def _parse_markdown_v1(text: str) -> tuple[str, list[JSONDict]]:
    out = _TextBuilder()
    entities: list[JSONDict] = []
    kinds = {"_": "italic", "*": "bold", "`": "code"}
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        if char not in "_*`[":
            out.add(char)
            i += 1
            continue
        error = _parse_error(f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}")
        start = out.pos
        if char == "[":
            close = text.find("]", i + 1)
            if close == -1:
                raise error
            out.add(text[i + 1 : close])
            i = close + 1
            if i < n and text[i] == "(":
                paren = text.find(")", i + 1)
                if paren == -1:
                    raise error
                _append(entities, _entity("text_link", start, out.pos, url=text[i + 1 : paren]))
                i = paren + 1
            continue
        if text.startswith("```", i):
            close = text.find("```", i + 3)
            if close == -1:
                raise error
            inner = text[i + 3 : close]
            language = ""
            first, newline, rest = inner.partition("\n")
            if newline and first and not any(c.isspace() for c in first):
                language, inner = first, rest
            out.add(inner)
            _append(entities, _entity("pre", start, out.pos, language=language))
            i = close + 3
            continue
        close = text.find(char, i + 1)
        if close == -1:
            raise error
        out.add(text[i + 1 : close])
        _append(entities, _entity(kinds[char], start, out.pos))
        i = close + 1
    return out.text(), entities


def _append(entities: list[JSONDict], entity: JSONDict | None) -> None:
    if entity is not None:
        entities.append(entity)


def _strip_with_entities(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Trim leading/trailing whitespace like Telegram, shifting and clipping the entities."""
    stripped = text.strip()
    shift = _utf16_len(text[: len(text) - len(text.lstrip())])
    total = _utf16_len(stripped)
    result: list[JSONDict] = []
    for entity in entities:
        start = max(int(entity["offset"]) - shift, 0)
        end = min(int(entity["offset"]) + int(entity["length"]) - shift, total)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    result.sort(key=lambda e: (e["offset"], -e["length"]))
    return stripped, result


def format_text(source: str, parse_mode: str | None, entities: object = None) -> tuple[str, list[JSONDict]]:
    """Turn what a bot sends (text + parse_mode or explicit entities) into what Telegram stores.

    Raises the same 400 errors as Telegram for malformed markup.
    """
    if entities is not None:
        if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
            raise _bad("Bad Request: can't parse entities JSON object")
        return _strip_with_entities(source, [dict(e) for e in entities])
    mode = (parse_mode or "").strip().lower()
    if mode == "":
        return _strip_with_entities(source, [])
    parsers: dict[str, Callable[[str], tuple[str, list[JSONDict]]]] = {
        "html": _parse_html,
        "markdownv2": _parse_markdown_v2,
        "markdown": _parse_markdown_v1,
    }
    if mode not in parsers:
        raise _bad(ERR_PARSE_MODE)
    plain, found = parsers[mode](source)
    return _strip_with_entities(plain, found)


def _detect_commands(text: str) -> list[JSONDict]:
    """Telegram marks ``/command`` (optionally ``@botname``) in user text as bot_command entities."""
    entities = []
    for match in _BOT_COMMAND_IN_TEXT_RE.finditer(text):
        offset = _utf16_len(text[: match.start()])
        entities.append({"offset": offset, "length": _utf16_len(match.group(0)), "type": "bot_command"})
    return entities


# ---------------------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------------------

_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, JPEG, GIF or WebP image, or None when it is not one."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xD8, 0x01, 0xFF) or 0xD0 <= marker <= 0xD7:
                i += 2 if marker != 0xFF else 1
                continue
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            if marker in _JPEG_SOF:
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(width), int(height)
            i += 2 + int(length)
        return None
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return int(width) & 0x3FFF, int(height) & 0x3FFF
    return None


# ---------------------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    content: bytes


@dataclass
class ApiCall:
    """One request to the Bot API as the fake saw it (``status`` is 0 while it is being answered)."""

    method: str
    params: JSONDict
    at: float
    files: dict[str, Upload] = field(default_factory=dict)
    status: int = 0
    response: JSONDict | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass(frozen=True)
class WebhookAttempt:
    """One POST of an update to the webhook (``status`` None when the connection failed)."""

    update_id: int
    url: str
    attempt: int
    status: int | None
    error: str | None
    at: float


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    content: bytes
    kind: str  # "document" | "photo"
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0
    file_path: str | None = None


@dataclass
class _StoredMessage:
    chat_id: int
    data: JSONDict
    from_bot: bool
    parse_mode: str | None = None
    source_text: str | None = None
    reply_keyboard: JSONDict | None = None
    deleted: bool = False


@dataclass
class _QueuedUpdate:
    data: JSONDict
    duplicate: bool = False
    delivered: bool = False
    seq: int | None = None  # the real id when ``data`` carries an odd one (a float, a boolean)
    force: bool = False  # delivered whatever allowed_updates says

    @property
    def update_id(self) -> int:
        return self.seq if self.seq is not None else int(self.data["update_id"])

    @property
    def kind(self) -> str:
        return next((k for k in self.data if k != "update_id"), "")


@dataclass
class _CallbackQueryState:
    query_id: str
    user_id: int
    message_id: int
    data: str
    answered: bool = False


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class _Fault:
    status: int
    description: str
    parameters: JSONDict | None
    times: int


@dataclass
class _Delay:
    seconds: float
    times: int
    process_first: bool


@dataclass
class _Drop:
    times: int
    after: bool


@dataclass(frozen=True)
class ChaosFault:
    """A fault :meth:`FakeTelegram.chaos` injected: the method, what (``"429"``, ``"drop"``...), the chat."""

    method: str
    kind: str
    chat_id: int | None
    at: float


# What chaos may do to a call: an HTTP status, "drop" (no answer, nothing done) or "drop_after" (no
# answer, but the call was carried out: the client cannot tell it from a time-out).
CHAOS_KINDS = ("400", "403", "409", "429", "500", "502", "503", "drop", "drop_after")
# Only when a menu names them: "hang" (no answer for ``hang`` seconds, beyond the client's time-out; the
# call is carried out after that only if the client still waits, so a client that gave up changed nothing).
CHAOS_EXTRA_KINDS = ("hang",)
_CHAOS_DESCRIPTIONS = {
    400: "Bad Request: chaos: refused",
    403: "Forbidden: user is deactivated",
    409: ERR_CONFLICT_POLLING,
    503: "Service Unavailable",
}
_DROPPED = -1  # the status _run gives for a call whose connection is dropped


@dataclass
class _Result:
    """A successful result with the optional envelope ``description`` Telegram sometimes adds."""

    value: Any
    description: str | None = None


# ---------------------------------------------------------------------------------------------------------
# The user side
# ---------------------------------------------------------------------------------------------------------


class FakeUser:
    """A Telegram user in a private chat with the bot. Obtain it with :meth:`FakeTelegram.user`."""

    def __init__(
        self,
        fake: FakeTelegram,
        user_id: int,
        first_name: str,
        language_code: str | None,
        last_name: str | None,
        username: str | None,
    ) -> None:
        self._fake = fake
        self.user_id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.last_name = last_name
        self.username = username
        self.has_written = False
        self.blocked = False
        self._bot_message_ids: list[int] = []
        self._answers: list[JSONDict] = []
        self._cursor = 0
        self._reply_keyboard: JSONDict | None = None

    @property
    def chat_id(self) -> int:
        return self.user_id

    def as_user(self) -> JSONDict:
        """The ``User`` object Telegram puts in ``from``."""
        user: JSONDict = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def as_chat(self) -> JSONDict:
        """The private ``Chat`` object of this user."""
        chat: JSONDict = {"id": self.user_id, "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        chat["type"] = "private"
        return chat

    # -- sending ------------------------------------------------------------------------------------------

    async def send_text(self, text: str, *, reply_to: int | None = None) -> int:
        """The user writes ``text``; returns the update_id. ``/commands`` get bot_command entities."""
        fields: JSONDict = {"text": text}
        entities = _detect_commands(text)
        if entities:
            fields["entities"] = entities
        return await self._send_message(fields, reply_to=reply_to)

    async def send_command(self, command: str, *, reply_to: int | None = None) -> int:
        """``send_text`` for a command: ``"start"`` and ``"/start payload"`` both work."""
        text = command if command.startswith("/") else f"/{command}"
        return await self.send_text(text, reply_to=reply_to)

    async def send_photo(self, content: bytes, caption: str | None = None) -> int:
        """The user sends a photo; its bytes are downloadable through getFile."""
        width, height = image_size(content) or (0, 0)
        stored = self._fake._store_file(content, "photo", width=width, height=height, mime_type="image/jpeg")
        fields: JSONDict = {"photo": [self._fake._photo_size(stored)]}
        if caption:
            fields["caption"] = caption
        return await self._send_message(fields)

    async def send_document(
        self, content: bytes, file_name: str, mime_type: str, caption: str | None = None
    ) -> int:
        """The user sends a file; its bytes are downloadable through getFile."""
        stored = self._fake._store_file(content, "document", file_name=file_name, mime_type=mime_type)
        fields: JSONDict = {"document": self._fake._document(stored)}
        if caption:
            fields["caption"] = caption
        return await self._send_message(fields)

    async def send_raw(self, fields: JSONDict) -> int:
        """A message with arbitrary extra fields (``contact``, ``location``...) merged into it."""
        return await self._send_message(copy.deepcopy(fields))

    async def press(self, message_id: int, data: str, *, force: bool = False) -> int:
        """Press the inline button carrying ``data`` under the bot's message ``message_id``.

        The button must currently be displayed (``force=True`` skips that check, as for stale clients).
        """
        stored = self._fake._messages.get((self.chat_id, message_id))
        if stored is None or stored.deleted or not stored.from_bot:
            raise ValueError(f"chat {self.chat_id} has no bot message {message_id}")
        datas = [d for _, d in _buttons_of(stored.data)]
        if not force and data not in datas:
            raise ValueError(f"message {message_id} shows no button with callback_data {data!r}: {datas}")
        return await self._fake._callback_query(self, stored, data)

    async def press_button(self, n: int = 1, message_id: int | None = None) -> int:
        """Press the ``n``-th (1-based, rows flattened) button of a message, by default the last one that
        has an inline keyboard."""
        target = message_id if message_id is not None else self._last_with_keyboard()
        buttons = self.buttons(target)
        if not 1 <= n <= len(buttons):
            raise ValueError(f"message {target} has {len(buttons)} buttons, not {n}")
        data = buttons[n - 1][1]
        if data is None:
            raise ValueError(f"button {n} of message {target} is not a callback button")
        return await self.press(target, data)

    async def _send_message(self, fields: JSONDict, *, reply_to: int | None = None) -> int:
        self.has_written = True
        return await self._fake._user_message(self, fields, reply_to)

    # -- what the user sees ---------------------------------------------------------------------------------

    def messages(self) -> list[JSONDict]:
        """Every message the bot sent to this chat and did not delete, in order, in its current state.

        Each is the Telegram ``Message`` dict plus ``parse_mode`` and ``source_text`` (what the bot sent
        before Telegram parsed it) and, when a reply keyboard came with it, ``reply_keyboard``.
        """
        views = []
        for message_id in self._bot_message_ids:
            stored = self._fake._messages[(self.chat_id, message_id)]
            if not stored.deleted:
                views.append(self._fake._view(stored))
        return views

    def last(self) -> JSONDict:
        """The bot's latest message to this user (LookupError when there is none)."""
        messages = self.messages()
        if not messages:
            raise LookupError(f"the bot sent nothing to {self.user_id}")
        return messages[-1]

    def buttons(self, message_id: int | None = None) -> list[tuple[str, str | None]]:
        """(text, callback_data) of the inline buttons of a message (default: the latest with a keyboard)."""
        target = message_id if message_id is not None else self._last_with_keyboard()
        stored = self._fake._messages.get((self.chat_id, target))
        return [] if stored is None or stored.deleted else _buttons_of(stored.data)

    def reply_keyboard(self) -> list[list[str]] | None:
        """The labels of the reply keyboard currently shown, or None."""
        if self._reply_keyboard is None:
            return None
        rows = self._reply_keyboard.get("keyboard") or []
        return [[b["text"] if isinstance(b, dict) else str(b) for b in row] for row in rows]

    def callback_answers(self) -> list[JSONDict]:
        """The bot's answers to this user's button presses, in order."""
        return copy.deepcopy(self._answers)

    async def wait_for(self, match: MessageMatch = None, timeout: float = 10.0) -> JSONDict:
        """Wait for the next bot message that matches (a substring of its text/caption, or a predicate).

        Works like expect: messages are consumed in order, each wait starts after the previous match, and
        messages that arrived before the call count. None matches any next message.
        """
        deadline = time.monotonic() + timeout
        while True:
            for index in range(self._cursor, len(self._bot_message_ids)):
                stored = self._fake._messages[(self.chat_id, self._bot_message_ids[index])]
                if stored.deleted:
                    continue
                view = self._fake._view(stored)
                if _matches(view, match):
                    self._cursor = index + 1
                    return view
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [m.get("text") or m.get("caption") for m in self.messages()[-5:]]
                raise TimeoutError(
                    f"no bot message matching {match!r} for {self.user_id} in {timeout}s; last: {seen}"
                )
            await self._fake._bot_signal.wait(remaining)

    def _last_with_keyboard(self) -> int:
        for message in reversed(self.messages()):
            if _buttons_of(message):
                return int(message["message_id"])
        raise LookupError(f"no bot message with an inline keyboard in chat {self.chat_id}")


def _buttons_of(message: JSONDict) -> list[tuple[str, str | None]]:
    markup = message.get("reply_markup") or {}
    return [
        (str(button.get("text", "")), button.get("callback_data"))
        for row in markup.get("inline_keyboard") or []
        for button in row
    ]


def _matches(message: JSONDict, match: MessageMatch) -> bool:
    if match is None:
        return True
    if isinstance(match, str):
        document = message.get("document") or {}
        haystacks = [message.get("text"), message.get("caption"), document.get("file_name")]
        return any(isinstance(h, str) and match in h for h in haystacks)
    return bool(match(message))


# ---------------------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------------------


class FakeTelegram:
    """The fake Bot API server. Use as ``async with FakeTelegram() as fake:``."""

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_id: int | None = None,
        username: str = "smebot_test_bot",
        *,
        first_name: str = "SME Bot",
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_retry_delay: float = 0.2,
        webhook_max_attempts: int = 20,
        webhook_timeout: float = 10.0,
        first_update_id: int = 1,
    ) -> None:
        if not TOKEN_RE.fullmatch(token):
            raise ValueError(f"a bot token looks like '<digits>:<text>', not {token!r}")
        self.token = token
        self.bot_id = bot_id if bot_id is not None else int(token.split(":", 1)[0])
        self.username = username
        self.first_name = first_name
        self.host = host
        self._requested_port = port
        self.port = 0
        self.base_url = ""
        self.base_file_url = ""
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_max_attempts = webhook_max_attempts
        self.webhook_timeout = webhook_timeout

        self._users: dict[int, FakeUser] = {}
        self._messages: dict[tuple[int, int], _StoredMessage] = {}
        self._next_message_id: dict[int, int] = {}
        self._updates: dict[int, JSONDict] = {}
        self._pending: list[_QueuedUpdate] = []
        self._next_update_id = first_update_id
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._file_seq = 0
        self._queries: dict[str, _CallbackQueryState] = {}
        self._query_seq = 0
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._webhook: _Webhook | None = None
        self._webhook_attempts: list[WebhookAttempt] = []
        self._calls: list[ApiCall] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._delays: dict[str, list[_Delay]] = {}
        self._drops: dict[str, list[_Drop]] = {}
        self._chaos: tuple[random.Random, float, dict[str, tuple[str, ...]], dict[str, float]] | None = None
        self._chaos_decks: dict[tuple[str, ...], list[str]] = {}
        self.chaos_log: list[ChaosFault] = []
        self._chaos_retry_after, self._chaos_hang = 1, 30.0
        self._allowed_updates: list[str] | None = None  # as Telegram keeps it from the last getUpdates
        self.filtered: list[JSONDict] = []  # updates dropped because of allowed_updates
        self._listeners: list[Listener] = []
        self._poll_generation = 0

        self._updates_signal = _Signal()
        self._bot_signal = _Signal()
        self._calls_signal = _Signal()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None

        self._handlers: dict[str, tuple[str, Callable[[ApiCall], Any]]] = {}
        for name, handler in [
            ("getMe", self._m_get_me),
            ("getUpdates", self._m_get_updates),
            ("setWebhook", self._m_set_webhook),
            ("deleteWebhook", self._m_delete_webhook),
            ("getWebhookInfo", self._m_get_webhook_info),
            ("sendMessage", self._m_send_message),
            ("editMessageText", self._m_edit_message_text),
            ("editMessageReplyMarkup", self._m_edit_message_reply_markup),
            ("editMessageCaption", self._m_edit_message_caption),
            ("deleteMessage", self._m_delete_message),
            ("answerCallbackQuery", self._m_answer_callback_query),
            ("sendDocument", self._m_send_document),
            ("sendPhoto", self._m_send_photo),
            ("sendChatAction", self._m_send_chat_action),
            ("getFile", self._m_get_file),
            ("setMyCommands", self._m_set_my_commands),
            ("getMyCommands", self._m_get_my_commands),
            ("deleteMyCommands", self._m_delete_my_commands),
            ("setMyDescription", self._m_accept),
            ("setMyShortDescription", self._m_accept),
            ("setMyName", self._m_accept),
            ("setChatMenuButton", self._m_accept),
        ]:
            self._handlers[name.lower()] = (name, handler)

    # -- lifecycle ------------------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Bind 127.0.0.1 (a free port unless one was given) and start answering."""
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", r"/bot{token:[^/]*}/{method:[^/]*}", self._handle_api)
        app.router.add_route("GET", r"/file/bot{token:[^/]*}/{path:.+}", self._handle_file)
        app.router.add_route("*", r"/{tail:.*}", self._handle_other)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=False, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        self.port = int(sock.getsockname()[1])
        await web.SockSite(self._runner, sock).start()
        self.base_url = f"http://{self.host}:{self.port}/bot"
        self.base_file_url = f"http://{self.host}:{self.port}/file/bot"
        self._session = aiohttp.ClientSession()
        self._webhook_task = asyncio.create_task(self._webhook_worker(), name="fake-telegram-webhook")

    async def stop(self) -> None:
        """Answer waiting long polls, stop delivering, close the server."""
        self._closing.set()
        self._updates_signal.notify()
        self._bot_signal.notify()
        self._calls_signal.notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- the user side ---------------------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "An",
        language_code: str | None = "vi",
        *,
        last_name: str | None = None,
        username: str | None = None,
    ) -> FakeUser:
        """The user ``user_id`` (created on first use; later calls return the same object)."""
        if user_id not in self._users:
            if user_id == self.bot_id or user_id <= 0:
                raise ValueError(f"{user_id} cannot be a user id")
            self._users[user_id] = FakeUser(self, user_id, first_name, language_code, last_name, username)
        return self._users[user_id]

    async def deliver_twice(self, update_id: int) -> None:
        """Queue update ``update_id`` once more, unchanged (same update_id), as Telegram does when it is not
        sure the bot got it. The copy is delivered even if the bot has already confirmed past it."""
        if update_id not in self._updates:
            raise ValueError(f"no update {update_id}")
        self._pending.append(
            _QueuedUpdate(copy.deepcopy(self._updates[update_id]), duplicate=True, seq=update_id)
        )
        self._updates_signal.notify()

    def inject(
        self,
        method: str,
        status: int,
        *,
        times: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        parameters: JSONDict | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with HTTP ``status`` and Telegram's envelope.

        429 adds ``parameters.retry_after`` (default 1 s); ``parameters`` adds others
        (``migrate_to_chat_id``).
        ``method`` may also be ``"downloadFile"`` for file downloads.
        """
        params = dict(parameters or {})
        if status == 429:
            params.setdefault("retry_after", retry_after if retry_after is not None else 1)
        elif retry_after is not None:
            params["retry_after"] = retry_after
        if description is None:
            if status == 429:
                description = f"Too Many Requests: retry after {params['retry_after']}"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(status) or _phrase(status)
        fault = _Fault(status, description, params or None, times)
        self._faults.setdefault(method.lower(), []).append(fault)

    def delay(self, method: str, seconds: float, times: int = 1, *, process_first: bool = False) -> None:
        """Make the next ``times`` calls of ``method`` hang ``seconds`` before answering.

        By default the call is carried out after the wait, and only if the client still waits (a client
        time-out means nothing happened). ``process_first=True`` carries it out at once and only delays the
        answer: the bot times out although Telegram did send the message.
        """
        self._delays.setdefault(method.lower(), []).append(_Delay(seconds, times, process_first))

    def drop(self, method: str, times: int = 1, *, after: bool = False) -> None:
        """Close the connection of the next ``times`` calls of ``method`` without answering (a network
        failure). ``after=True`` carries the call out first: the client cannot tell whether it happened,
        exactly as when its answer times out."""
        self._drops.setdefault(method.lower(), []).append(_Drop(times, after))

    def chaos(
        self,
        seed: int,
        rate: float,
        menu: dict[str, tuple[str, ...]] | None = None,
        *,
        retry_after: int = 1,
        hang: float = 30.0,
        rates: dict[str, float] | None = None,
    ) -> None:
        """From now on, each call of a method in ``menu`` fails with probability ``rate`` in one of the ways
        listed for it (see :data:`CHAOS_KINDS` and :data:`CHAOS_EXTRA_KINDS`; ``"*"`` is every other
        method; a kind listed twice is chosen twice as often, and each comes once in every round of the
        list). Seeded: the same calls get the same faults. A 429 asks for ``retry_after`` seconds; a
        "hang" lasts ``hang`` seconds. ``rates`` overrides ``rate`` for some methods (one called rarely
        still meets faults). Each fault is recorded in :attr:`chaos_log`. :meth:`calm` stops it."""
        table = {k.lower(): v for k, v in (menu or {"*": CHAOS_KINDS}).items()}
        for kinds in table.values():
            unknown = set(kinds) - set(CHAOS_KINDS) - set(CHAOS_EXTRA_KINDS)
            if unknown:
                raise ValueError(f"unknown chaos kinds {sorted(unknown)}")
        per_method = {k.lower(): v for k, v in (rates or {}).items()}
        self._chaos = (random.Random(seed), rate, table, per_method)
        self._chaos_decks = {}
        self._chaos_retry_after, self._chaos_hang = retry_after, hang

    def calm(self) -> None:
        """No more chaos."""
        self._chaos = None

    def inject_update(self, fields: JSONDict, *, update_id: object = None, force: bool = False) -> int:
        """Queue an arbitrary update (``fields`` beside ``update_id``), as a misbehaving server or proxy
        could: ``update_id`` given is what the JSON carries (a float, a boolean...), the real id (for
        offsets) is the next one. ``force=True`` delivers it whatever ``allowed_updates`` says. Returns the
        real id."""
        return self._enqueue(copy.deepcopy(fields), odd_id=update_id, force=force)

    def odd_update(self, user_id: int, kind: str, *, force: bool = True) -> int:
        """An update Telegram would not send, from user ``user_id``: ``"float_id"``, ``"bool_id"``,
        ``"from_without_id"``, ``"edited_message"``, ``"oversized"`` (a 100 kB text). Returns its real id."""
        user = self.user(user_id)
        message: JSONDict = {
            "message_id": self._new_message_id(user.chat_id),
            "from": user.as_user(),
            "chat": user.as_chat(),
            "date": int(time.time()),
            "text": "odd",
        }
        if kind == "float_id":
            return self.inject_update({"message": message}, update_id=self._next_update_id + 0.5, force=force)
        if kind == "bool_id":
            return self.inject_update({"message": message}, update_id=True, force=force)
        if kind == "from_without_id":
            message["from"] = {k: v for k, v in message["from"].items() if k != "id"}
            return self.inject_update({"message": message}, force=force)
        if kind == "edited_message":
            message["edit_date"] = message["date"]
            return self.inject_update({"edited_message": message}, force=force)
        if kind == "oversized":
            message["text"] = "x" * 100_000
            return self.inject_update({"message": message}, force=force)
        raise ValueError(f"unknown odd update {kind!r}")

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends and edits to that chat get 403."""
        self.user(user_id).blocked = True

    def unblock(self, user_id: int) -> None:
        self.user(user_id).blocked = False

    # -- observation -----------------------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[ApiCall]:
        """The API calls received so far (optionally of one method, case-insensitive), in order."""
        if method is None:
            return list(self._calls)
        wanted = method.lower()
        return [call for call in self._calls if call.method.lower() == wanted]

    async def wait_for_calls(self, method: str, count: int = 1, timeout: float = 10.0) -> list[ApiCall]:
        """Wait until ``method`` was called at least ``count`` times and has been answered; returns them."""
        deadline = time.monotonic() + timeout
        while True:
            calls = self.calls(method)
            if len(calls) >= count and all(call.status for call in calls[:count]):
                return calls
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{method} called {len(calls)} times, expected {count} within {timeout}s")
            await self._calls_signal.wait(min(remaining, 0.05))

    def update(self, update_id: int) -> JSONDict:
        """The Update ``update_id`` as it was queued."""
        return copy.deepcopy(self._updates[update_id])

    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by getUpdates (or not yet accepted by the webhook), in order."""
        return [copy.deepcopy(entry.data) for entry in self._pending]

    def webhook_attempts(self) -> list[WebhookAttempt]:
        return list(self._webhook_attempts)

    def webhook_url(self) -> str | None:
        return self._webhook.url if self._webhook else None

    def file_content(self, file_id: str) -> bytes:
        """The bytes stored under ``file_id`` (sent by the bot or by a user)."""
        return self._files[file_id].content

    def message(self, chat_id: int, message_id: int) -> JSONDict:
        """Any stored message (the user's or the bot's), in its current state."""
        return self._view(self._messages[(chat_id, message_id)])

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """The commands stored by setMyCommands for this scope and language."""
        return copy.deepcopy(self._commands.get((self._scope_key(scope), language_code), []))

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(event, data)`` for "message", "edit", "delete" (bot message views) and "answer"."""
        self._listeners.append(listener)

    # -- HTTP ------------------------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        raw_method = request.match_info["method"]
        known = self._handlers.get(raw_method.lower())
        call = ApiCall(method=known[0] if known else raw_method, params={}, at=time.monotonic())
        try:
            call.params, call.files = await _read_params(request)
        except _ApiError as exc:
            self._calls.append(call)
            return self._finish(call, exc.status, exc.envelope())
        self._calls.append(call)
        self._calls_signal.notify()
        if token != self.token:
            if TOKEN_RE.fullmatch(token):
                return self._finish(call, 401, _ApiError(401, ERR_UNAUTHORIZED).envelope())
            return self._finish(call, 404, _ApiError(404, ERR_NOT_FOUND).envelope())
        if known is None:
            return self._finish(call, 404, _ApiError(404, ERR_NOT_FOUND).envelope())
        status, body = await self._run(call, request, known[1])
        if status == _DROPPED:
            return self._drop_connection(call, request)
        return self._finish(call, status, body)

    def _drop_connection(self, call: ApiCall, request: web.Request) -> web.Response:
        """No answer at all: the connection is closed under the client."""
        call.status = 599
        call.response = {"ok": False, "description": "connection dropped"}
        self._calls_signal.notify()
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=599)

    def _chaos_fault(self, call: ApiCall) -> str | None:
        if self._chaos is None:
            return None
        rng, rate, table, rates = self._chaos
        kinds = table.get(call.method.lower(), table.get("*"))
        if not kinds or rng.random() >= rates.get(call.method.lower(), rate):
            return None
        # dealt from a shuffled deck of the kinds, refilled when empty: random order, yet every kind
        # comes once in each len(kinds) faults (a short storm still meets them all)
        deck = self._chaos_decks.setdefault(kinds, [])
        if not deck:
            deck.extend(kinds)
            rng.shuffle(deck)
        kind = deck.pop()
        chat = call.params.get("chat_id")
        chat_id = _as_int(chat, 0) if chat is not None else None
        self.chaos_log.append(ChaosFault(call.method, kind, chat_id, time.monotonic()))
        return kind

    async def _run(
        self, call: ApiCall, request: web.Request, handler: Callable[[ApiCall], Any]
    ) -> tuple[int, JSONDict]:
        key = call.method.lower()
        delay = _take(self._delays, key)
        fault = _take(self._faults, key)
        drop = _take(self._drops, key) if fault is None else None  # one fault a call, in the order given
        chaos = self._chaos_fault(call) if fault is None and drop is None else None
        if chaos == "drop" or chaos == "drop_after":
            drop = _Drop(1, chaos == "drop_after")
        elif chaos == "hang":
            delay = _Delay(self._chaos_hang, 1, False)
        elif chaos is not None:
            status = int(chaos)
            params = {"retry_after": self._chaos_retry_after} if status == 429 else None
            description = (
                f"Too Many Requests: retry after {self._chaos_retry_after}"
                if status == 429
                else _CHAOS_DESCRIPTIONS.get(status) or _DEFAULT_DESCRIPTIONS.get(status) or _phrase(status)
            )
            fault = _Fault(status, description, params, 1)
        if delay is not None and not delay.process_first:
            await self._sleep(delay.seconds)
            if request.transport is None or request.transport.is_closing():
                return 499, {"ok": False, "error_code": 499, "description": "client closed the request"}
        if fault is not None:
            return fault.status, _ApiError(fault.status, fault.description, fault.parameters).envelope()
        if drop is not None and not drop.after:
            return _DROPPED, {}
        try:
            result = await handler(call)
        except _ApiError as exc:
            status, body = exc.status, exc.envelope()
        else:
            if not isinstance(result, _Result):
                result = _Result(result)
            status, body = 200, {"ok": True, "result": result.value}
            if result.description:
                body["description"] = result.description
        if delay is not None and delay.process_first:
            await self._sleep(delay.seconds)
        if drop is not None:
            return _DROPPED, {}
        return status, body

    def _finish(self, call: ApiCall, status: int, body: JSONDict) -> web.Response:
        call.status = status
        call.response = body
        self._calls_signal.notify()
        return web.json_response(body, status=status, dumps=_dumps)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        call = ApiCall(
            method="downloadFile", params={"file_path": request.match_info["path"]}, at=time.monotonic()
        )
        self._calls.append(call)
        self._calls_signal.notify()
        if request.match_info["token"] != self.token:
            return self._finish(call, 404, _ApiError(404, ERR_NOT_FOUND).envelope())
        status, body = await self._run(call, request, self._m_download)
        if status != 200:
            return self._finish(call, status, body)
        stored: _StoredFile = body["result"]
        call.status = 200
        call.response = {"ok": True, "result": {"file_size": len(stored.content)}}
        self._calls_signal.notify()
        return web.Response(body=stored.content, content_type="application/octet-stream")

    async def _handle_other(self, request: web.Request) -> web.Response:
        return web.json_response(_ApiError(404, ERR_NOT_FOUND).envelope(), status=404, dumps=_dumps)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    # -- methods: bot & updates ------------------------------------------------------------------------------

    def _bot_user(self) -> JSONDict:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.first_name, "username": self.username}

    async def _m_get_me(self, call: ApiCall) -> JSONDict:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_accept(self, call: ApiCall) -> bool:
        return True

    async def _m_get_updates(self, call: ApiCall) -> list[JSONDict]:
        p = call.params
        if self._webhook is not None:
            raise _ApiError(409, ERR_CONFLICT_WEBHOOK)
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_signal.notify()  # an older long poll ends with 409
        offset = _as_int(p.get("offset"), 0)
        limit = min(max(_as_int(p.get("limit"), 100), 1), 100)
        timeout = max(_as_float(p.get("timeout"), 0.0), 0.0)
        if isinstance(p.get("allowed_updates"), list):  # kept until another list is given, as Telegram does
            self._allowed_updates = [str(k) for k in p["allowed_updates"]] or None
        self._confirm(offset)
        deadline = time.monotonic() + timeout
        while True:
            self._filter(self._allowed_updates)
            batch = self._pending[:limit]
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0 or self._closing.is_set():
                for entry in batch:
                    entry.delivered = True
                return [copy.deepcopy(entry.data) for entry in batch]
            await self._updates_signal.wait(remaining)
            if generation != self._poll_generation:
                raise _ApiError(409, ERR_CONFLICT_POLLING)
            if self._webhook is not None:
                raise _ApiError(409, ERR_CONFLICT_WEBHOOK)

    def _filter(self, allowed: list[str] | None) -> None:
        """Drop the pending updates of types the bot did not ask for (unless forced through)."""
        if not allowed:
            return
        keep = []
        for entry in self._pending:
            if entry.kind in allowed or entry.force:
                keep.append(entry)
            else:
                self.filtered.append(copy.deepcopy(entry.data))
        self._pending = keep

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._pending = [
                e for e in self._pending if e.update_id >= offset or (e.duplicate and not e.delivered)
            ]
        elif offset < 0:
            self._pending = self._pending[offset:]

    async def _m_set_webhook(self, call: ApiCall) -> _Result:
        p = call.params
        url = str(p.get("url") or "")
        if url == "":
            self._webhook = None
            if p.get("drop_pending_updates"):
                self._pending.clear()
            self._updates_signal.notify()
            return _Result(True, "Webhook is already deleted")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _bad(ERR_WEBHOOK_URL)
        secret = p.get("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(str(secret)):
            raise _bad(ERR_SECRET)
        allowed = p.get("allowed_updates")
        self._webhook = _Webhook(
            url=url,
            secret_token=str(secret) if secret else None,
            max_connections=min(max(_as_int(p.get("max_connections"), 40), 1), 100),
            allowed_updates=list(allowed) if isinstance(allowed, list) else None,
        )
        if p.get("drop_pending_updates"):
            self._pending.clear()
        self._updates_signal.notify()
        return _Result(True, "Webhook was set")

    async def _m_delete_webhook(self, call: ApiCall) -> _Result:
        was_set = self._webhook is not None
        self._webhook = None
        if call.params.get("drop_pending_updates"):
            self._pending.clear()
        self._updates_signal.notify()
        return _Result(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    async def _m_get_webhook_info(self, call: ApiCall) -> JSONDict:
        info: JSONDict = {
            "url": self._webhook.url if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        hook = self._webhook
        if hook is not None:
            info["max_connections"] = hook.max_connections
            info["ip_address"] = "127.0.0.1"
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
            if hook.allowed_updates is not None:
                info["allowed_updates"] = hook.allowed_updates
        return info

    # -- methods: messages -----------------------------------------------------------------------------------

    def _chat(self, p: JSONDict, *, sending: bool = True) -> FakeUser:
        chat_id = p.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad(ERR_CHAT_ID_EMPTY)
        user = self._users.get(chat_id) if isinstance(chat_id, int) else None
        if user is None or not user.has_written:
            raise _bad(ERR_CHAT_NOT_FOUND)
        if sending and user.blocked:
            raise _ApiError(403, ERR_BLOCKED)
        return user

    def _stored(self, user: FakeUser, p: JSONDict, not_found: str) -> _StoredMessage:
        if p.get("message_id") in (None, ""):
            raise _bad(ERR_MESSAGE_ID_EMPTY)
        message_id = p.get("message_id")
        stored = self._messages.get((user.chat_id, message_id)) if isinstance(message_id, int) else None
        if stored is None or stored.deleted:
            raise _bad(not_found)
        return stored

    def _reply_markup(self, raw: object) -> tuple[JSONDict | None, JSONDict | None]:
        """(inline markup to put in the Message, other reply markup for the user's keyboard)."""
        if raw is None or raw == "":
            return None, None
        if not isinstance(raw, dict):
            raise _bad(ERR_MARKUP_JSON)
        if "inline_keyboard" in raw:
            rows = raw["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad(ERR_MARKUP_JSON)
            if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
                raise _bad(ERR_MARKUP_TOO_LONG)
            clean_rows: list[list[JSONDict]] = []
            for row in rows:
                clean_row = []
                for button in row:
                    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                        raise _bad(ERR_MARKUP_JSON)
                    if "callback_data" in button:
                        data = button["callback_data"]
                        size = len(str(data).encode("utf-8"))
                        if not isinstance(data, str) or not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                            raise _bad(ERR_BUTTON_DATA)
                    elif len(button) == 1:
                        raise _bad(ERR_TEXT_BUTTONS)
                    clean_row.append(dict(button))
                if clean_row:
                    clean_rows.append(clean_row)
            return ({"inline_keyboard": clean_rows} if clean_rows else None), None
        if "keyboard" in raw or "remove_keyboard" in raw or "force_reply" in raw:
            return None, dict(raw)
        raise _bad(ERR_MARKUP_JSON)

    def _reply_to(self, user: FakeUser, p: JSONDict) -> JSONDict | None:
        params = p.get("reply_parameters")
        message_id = p.get("reply_to_message_id")
        allow = bool(p.get("allow_sending_without_reply"))
        if isinstance(params, dict):
            message_id = params.get("message_id")
            allow = allow or bool(params.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        stored = self._messages.get((user.chat_id, _as_int(message_id, 0)))
        if stored is None or stored.deleted:
            if allow:
                return None
            raise _bad(ERR_REPLY_NOT_FOUND)
        replied = copy.deepcopy(stored.data)
        replied.pop("reply_to_message", None)
        return replied

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _bot_message(
        self,
        user: FakeUser,
        p: JSONDict,
        content: JSONDict,
        *,
        source: str | None,
    ) -> JSONDict:
        inline, other = self._reply_markup(p.get("reply_markup"))
        reply = self._reply_to(user, p)
        data: JSONDict = {
            "message_id": self._new_message_id(user.chat_id),
            "from": self._bot_user(),
            "chat": user.as_chat(),
            "date": int(time.time()),
        }
        if reply is not None:
            data["reply_to_message"] = reply
        data.update(content)
        if inline is not None:
            data["reply_markup"] = inline
        stored = _StoredMessage(
            chat_id=user.chat_id,
            data=data,
            from_bot=True,
            parse_mode=p.get("parse_mode"),
            source_text=source,
            reply_keyboard=other,
        )
        self._messages[(user.chat_id, data["message_id"])] = stored
        user._bot_message_ids.append(data["message_id"])
        if other is not None:
            user._reply_keyboard = other if "keyboard" in other else None
        self._bot_signal.notify()
        self._emit("message", self._view(stored))
        return copy.deepcopy(data)

    def _text_content(self, p: JSONDict) -> tuple[JSONDict, str]:
        raw = p.get("text")
        source = "" if raw is None else str(raw)
        if source.strip() == "":
            raise _bad(ERR_TEXT_EMPTY)
        text, entities = format_text(source, p.get("parse_mode"), p.get("entities"))
        if text == "":
            raise _bad(ERR_TEXT_EMPTY)
        if len(text) > MAX_TEXT_LENGTH:
            raise _bad(ERR_TEXT_TOO_LONG)
        content: JSONDict = {"text": text}
        if entities:
            content["entities"] = entities
        return content, source

    def _caption_content(self, p: JSONDict) -> tuple[JSONDict, str | None]:
        raw = p.get("caption")
        if raw is None or str(raw) == "":
            return {}, None
        caption, entities = format_text(str(raw), p.get("parse_mode"), p.get("caption_entities"))
        if len(caption) > MAX_CAPTION_LENGTH:
            raise _bad(ERR_CAPTION_TOO_LONG)
        content: JSONDict = {}
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
        return content, str(raw)

    async def _m_send_message(self, call: ApiCall) -> JSONDict:
        user = self._chat(call.params)
        content, source = self._text_content(call.params)
        return self._bot_message(user, call.params, content, source=source)

    async def _m_send_chat_action(self, call: ApiCall) -> bool:
        self._chat(call.params)
        if not call.params.get("action"):
            raise _bad("Bad Request: wrong parameter action in request")
        return True

    def _edit(self, stored: _StoredMessage, changes: JSONDict, markup: JSONDict | None) -> JSONDict:
        current = {key: stored.data.get(key) for key in changes}
        if current == changes and stored.data.get("reply_markup") == markup:
            raise _bad(ERR_NOT_MODIFIED)
        for key, value in changes.items():
            if value is None:
                stored.data.pop(key, None)
            else:
                stored.data[key] = value
        if markup is None:
            stored.data.pop("reply_markup", None)
        else:
            stored.data["reply_markup"] = markup
        stored.data["edit_date"] = int(time.time())
        self._bot_signal.notify()
        self._emit("edit", self._view(stored))
        return copy.deepcopy(stored.data)

    def _editable(self, call: ApiCall) -> _StoredMessage:
        if call.params.get("inline_message_id"):
            raise _bad(ERR_EDIT_NOT_FOUND)
        user = self._chat(call.params)
        stored = self._stored(user, call.params, ERR_EDIT_NOT_FOUND)
        if not stored.from_bot:
            raise _bad(ERR_CANT_EDIT)
        return stored

    async def _m_edit_message_text(self, call: ApiCall) -> JSONDict:
        stored = self._editable(call)
        if "text" not in stored.data:
            raise _bad(ERR_NO_TEXT_TO_EDIT)
        content, source = self._text_content(call.params)
        inline, _ = self._reply_markup(call.params.get("reply_markup"))
        result = self._edit(stored, {"text": content["text"], "entities": content.get("entities")}, inline)
        stored.parse_mode = call.params.get("parse_mode")
        stored.source_text = source
        return result

    async def _m_edit_message_caption(self, call: ApiCall) -> JSONDict:
        stored = self._editable(call)
        if not any(key in stored.data for key in ("document", "photo")):
            raise _bad(ERR_NO_CAPTION_TO_EDIT)
        content, source = self._caption_content(call.params)
        inline, _ = self._reply_markup(call.params.get("reply_markup"))
        changes = {"caption": content.get("caption"), "caption_entities": content.get("caption_entities")}
        result = self._edit(stored, changes, inline)
        stored.parse_mode = call.params.get("parse_mode")
        stored.source_text = source
        return result

    async def _m_edit_message_reply_markup(self, call: ApiCall) -> JSONDict:
        stored = self._editable(call)
        inline, _ = self._reply_markup(call.params.get("reply_markup"))
        return self._edit(stored, {}, inline)

    async def _m_delete_message(self, call: ApiCall) -> bool:
        user = self._chat(call.params, sending=False)
        stored = self._stored(user, call.params, ERR_DELETE_NOT_FOUND)
        stored.deleted = True
        self._bot_signal.notify()
        self._emit("delete", self._view(stored))
        return True

    async def _m_answer_callback_query(self, call: ApiCall) -> bool:
        p = call.params
        query_id = str(p.get("callback_query_id") or "")
        state = self._queries.get(query_id)
        if state is None or state.answered:
            raise _bad(ERR_QUERY_TOO_OLD)
        text = p.get("text")
        if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad(ERR_ANSWER_TOO_LONG)
        state.answered = True
        answer: JSONDict = {
            "callback_query_id": query_id,
            "message_id": state.message_id,
            "data": state.data,
            "text": None if text is None else str(text),
            "show_alert": bool(p.get("show_alert")),
            "url": p.get("url"),
            "cache_time": p.get("cache_time"),
        }
        self._users[state.user_id]._answers.append(answer)
        self._bot_signal.notify()
        self._emit("answer", copy.deepcopy(answer))
        return True

    # -- methods: files --------------------------------------------------------------------------------------

    def _store_file(
        self,
        content: bytes,
        kind: str,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int = 0,
        height: int = 0,
    ) -> _StoredFile:
        self._file_seq += 1
        prefix = "AgAC" if kind == "photo" else "BQAC"
        digest = hashlib.sha256(f"{self.bot_id}:{kind}:{self._file_seq}".encode()).digest()
        file_id = f"{prefix}{_b64(digest[:24])}"
        unique = f"AQAD{_b64(hashlib.sha256(content).digest()[:9])}"
        stored = _StoredFile(file_id, unique, content, kind, file_name, mime_type, width, height)
        self._files[file_id] = stored
        return stored

    def _document(self, stored: _StoredFile) -> JSONDict:
        document: JSONDict = {}
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        document.update(
            file_id=stored.file_id, file_unique_id=stored.file_unique_id, file_size=len(stored.content)
        )
        return document

    def _photo_size(self, stored: _StoredFile) -> JSONDict:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "width": stored.width,
            "height": stored.height,
        }

    def _input_file(self, call: ApiCall, name: str, kind: str) -> _StoredFile | Upload:
        upload = call.files.get(name)
        if upload is not None:
            return upload
        value = call.params.get(name)
        if value is None or value == "":
            raise _bad(f"Bad Request: there is no {name} in the request")
        value = str(value)
        if value.startswith("attach://"):
            attached = call.files.get(value.removeprefix("attach://"))
            if attached is None:
                raise _bad(f"Bad Request: there is no {name} in the request")
            return attached
        if value in self._files:
            stored = self._files[value]
            if stored.kind != kind:
                raise _bad(f"Bad Request: can't use file of type {stored.kind.title()} as {kind.title()}")
            return stored
        if value.startswith(("http://", "https://")):
            raise _bad(ERR_URL_CONTENT)
        raise _bad(ERR_WRONG_FILE)

    async def _m_send_document(self, call: ApiCall) -> JSONDict:
        user = self._chat(call.params)
        source = self._input_file(call, "document", "document")
        caption, caption_source = self._caption_content(call.params)
        if isinstance(source, Upload):
            if not source.content:
                raise _bad(ERR_FILE_EMPTY)
            file_name = source.filename or "document"
            mime = source.content_type
            if not mime or mime == "application/octet-stream":
                mime = mimetypes.guess_type(file_name, strict=False)[0] or mime
            source = self._store_file(source.content, "document", file_name=file_name, mime_type=mime)
        content = {"document": self._document(source), **caption}
        return self._bot_message(user, call.params, content, source=caption_source)

    async def _m_send_photo(self, call: ApiCall) -> JSONDict:
        user = self._chat(call.params)
        source = self._input_file(call, "photo", "photo")
        caption, caption_source = self._caption_content(call.params)
        if isinstance(source, Upload):
            if not source.content:
                raise _bad(ERR_FILE_EMPTY)
            if len(source.content) > MAX_PHOTO_BYTES:
                raise _ApiError(413, ERR_TOO_LARGE)
            size = image_size(source.content)
            if size is None:
                raise _bad(ERR_IMAGE_FAILED)
            width, height = size
            if (
                width <= 0
                or height <= 0
                or width + height > 10000
                or max(width, height) > 20 * min(width, height)
            ):
                raise _bad(ERR_PHOTO_DIMENSIONS)
            source = self._store_file(
                source.content, "photo", mime_type="image/jpeg", width=width, height=height
            )
        content = {"photo": [self._photo_size(source)], **caption}
        return self._bot_message(user, call.params, content, source=caption_source)

    async def _m_get_file(self, call: ApiCall) -> JSONDict:
        file_id = str(call.params.get("file_id") or "")
        stored = self._files.get(file_id)
        if stored is None:
            raise _bad(ERR_INVALID_FILE_ID)
        if len(stored.content) > MAX_DOWNLOAD_BYTES:
            raise _bad(ERR_FILE_TOO_BIG)
        if stored.file_path is None:
            if stored.kind == "photo":
                stored.file_path = f"photos/file_{len(self._files_by_path)}.jpg"
            else:
                suffix = Path(stored.file_name or "").suffix
                if not suffix and stored.mime_type:
                    suffix = mimetypes.guess_extension(stored.mime_type) or ""
                stored.file_path = f"documents/file_{len(self._files_by_path)}{suffix}"
            self._files_by_path[stored.file_path] = stored
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    async def _m_download(self, call: ApiCall) -> _StoredFile:
        stored = self._files_by_path.get(str(call.params["file_path"]))
        if stored is None:
            raise _ApiError(404, ERR_NOT_FOUND)
        return stored

    # -- methods: commands -----------------------------------------------------------------------------------

    def _scope_key(self, scope: object) -> str:
        if scope is None or scope == "":
            scope = {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in _SCOPE_TYPES:
            raise _bad("Bad Request: can't parse BotCommandScope JSON object")
        clean: JSONDict = {"type": scope["type"]}
        if scope["type"] in ("chat", "chat_administrators", "chat_member"):
            chat_id = _as_int(scope.get("chat_id"), 0)
            user = self._users.get(chat_id)
            if user is None or not user.has_written:
                raise _bad(ERR_CHAT_NOT_FOUND)
            clean["chat_id"] = chat_id
        if scope["type"] == "chat_member":
            clean["user_id"] = _as_int(scope.get("user_id"), 0)
        return json.dumps(clean, sort_keys=True)

    async def _m_set_my_commands(self, call: ApiCall) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list):
            raise _bad("Bad Request: can't parse commands JSON object")
        if len(commands) > MAX_COMMANDS:
            raise _bad(ERR_TOO_MANY_COMMANDS)
        clean = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad("Bad Request: can't parse commands JSON object")
            name = str(command.get("command", "")).strip()
            description = str(command.get("description", "")).strip()
            if not _COMMAND_RE.fullmatch(name):
                raise _bad(ERR_COMMAND_INVALID)
            if not 1 <= len(description) <= 256:
                raise _bad(ERR_COMMAND_DESCRIPTION)
            clean.append({"command": name, "description": description})
        key = (self._scope_key(call.params.get("scope")), str(call.params.get("language_code") or ""))
        if clean:
            self._commands[key] = clean
        else:
            self._commands.pop(key, None)
        return True

    async def _m_get_my_commands(self, call: ApiCall) -> list[JSONDict]:
        key = (self._scope_key(call.params.get("scope")), str(call.params.get("language_code") or ""))
        return copy.deepcopy(self._commands.get(key, []))

    async def _m_delete_my_commands(self, call: ApiCall) -> bool:
        key = (self._scope_key(call.params.get("scope")), str(call.params.get("language_code") or ""))
        self._commands.pop(key, None)
        return True

    # -- the user side, internals ----------------------------------------------------------------------------

    def _enqueue(self, body: JSONDict, *, odd_id: object = None, force: bool = False) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        update = {"update_id": update_id if odd_id is None else odd_id, **body}
        self._updates[update_id] = update
        seq = update_id if odd_id is not None else None
        self._pending.append(_QueuedUpdate(copy.deepcopy(update), seq=seq, force=force))
        self._updates_signal.notify()
        return update_id

    async def _user_message(self, user: FakeUser, fields: JSONDict, reply_to: int | None) -> int:
        data: JSONDict = {
            "message_id": self._new_message_id(user.chat_id),
            "from": user.as_user(),
            "chat": user.as_chat(),
            "date": int(time.time()),
        }
        if reply_to is not None:
            replied = self._messages.get((user.chat_id, reply_to))
            if replied is None:
                raise ValueError(f"chat {user.chat_id} has no message {reply_to}")
            data["reply_to_message"] = {k: v for k, v in replied.data.items() if k != "reply_to_message"}
        data.update(fields)
        self._messages[(user.chat_id, data["message_id"])] = _StoredMessage(
            user.chat_id, data, from_bot=False
        )
        return self._enqueue({"message": copy.deepcopy(data)})

    async def _callback_query(self, user: FakeUser, stored: _StoredMessage, data: str) -> int:
        self._query_seq += 1
        query_id = str((self.bot_id % 10_000_000) * 1_000_000_000_000 + self._query_seq * 7919 + user.user_id)
        self._queries[query_id] = _CallbackQueryState(query_id, user.user_id, stored.data["message_id"], data)
        instance = int.from_bytes(hashlib.sha256(f"{self.bot_id}:{user.chat_id}".encode()).digest()[:7])
        query: JSONDict = {
            "id": query_id,
            "from": user.as_user(),
            "message": copy.deepcopy(stored.data),
            "chat_instance": str(-instance),
            "data": data,
        }
        return self._enqueue({"callback_query": query})

    def _view(self, stored: _StoredMessage) -> JSONDict:
        view = copy.deepcopy(stored.data)
        if stored.from_bot:
            view["parse_mode"] = stored.parse_mode
            view["source_text"] = stored.source_text
            if stored.reply_keyboard is not None:
                view["reply_keyboard"] = copy.deepcopy(stored.reply_keyboard)
        return view

    def _emit(self, event: str, data: JSONDict) -> None:
        for listener in list(self._listeners):
            listener(event, data)

    # -- webhook delivery ------------------------------------------------------------------------------------

    async def _webhook_worker(self) -> None:
        while not self._closing.is_set():
            if self._webhook is None or not self._pending:
                await self._updates_signal.wait(1.0)
                continue
            self._filter(self._webhook.allowed_updates)
            if not self._pending:
                continue
            entry = self._pending[0]
            await self._deliver(entry)

    async def _deliver(self, entry: _QueuedUpdate) -> None:
        body = _dumps(entry.data).encode("utf-8")
        for attempt in range(1, self.webhook_max_attempts + 1):
            hook = self._webhook
            if hook is None or self._closing.is_set() or entry not in self._pending:
                return
            headers = {"Content-Type": "application/json"}
            if hook.secret_token:
                headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
            status: int | None = None
            error: str | None = None
            assert self._session is not None
            try:
                timeout = aiohttp.ClientTimeout(total=self.webhook_timeout)
                async with self._session.post(hook.url, data=body, headers=headers, timeout=timeout) as resp:
                    status = resp.status
                    await resp.read()
                    if not 200 <= status < 300:
                        error = f"Wrong response from the webhook: {status} {resp.reason or _phrase(status)}"
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                error = (
                    "Connection timed out" if isinstance(exc, TimeoutError) else f"Connection failed: {exc}"
                )
            self._webhook_attempts.append(
                WebhookAttempt(entry.update_id, hook.url, attempt, status, error, time.monotonic())
            )
            if error is None:
                entry.delivered = True
                with contextlib.suppress(ValueError):
                    self._pending.remove(entry)
                self._updates_signal.notify()
                return
            hook.last_error_date = int(time.time())
            hook.last_error_message = error
            await self._sleep(self.webhook_retry_delay)
        with contextlib.suppress(ValueError):
            self._pending.remove(entry)  # given up, as Telegram eventually does


# ---------------------------------------------------------------------------------------------------------
# Request decoding
# ---------------------------------------------------------------------------------------------------------


async def _read_params(request: web.Request) -> tuple[JSONDict, dict[str, Upload]]:
    values: JSONDict = dict(request.query)
    files: dict[str, Upload] = {}
    content_type = request.content_type
    try:
        if content_type == "application/json":
            raw = await request.read()
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError as exc:
                    raise _bad("Bad Request: can't parse JSON request body") from exc
                if not isinstance(body, dict):
                    raise _bad("Bad Request: can't parse JSON request body")
                values.update(body)
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = Upload(value.filename, value.content_type, value.file.read())
                else:
                    values[key] = value
        else:
            await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise _ApiError(413, ERR_TOO_LARGE) from exc
    return _normalise(values), files


def _normalise(values: JSONDict) -> JSONDict:
    """Type the parameters that come as strings in forms (and JSON-encoded in JSON bodies, sometimes)."""
    result: JSONDict = {}
    for key, value in values.items():
        if key in _JSON_FIELDS and isinstance(value, str):
            if value == "":
                result[key] = None
                continue
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise _bad(
                    _JSON_FIELD_ERRORS.get(key, f"Bad Request: can't parse {key} JSON object")
                ) from exc
        elif key in _INT_FIELDS and isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
            value = int(value)
        elif key in _FLOAT_FIELDS and isinstance(value, str) and _FLOAT_RE.fullmatch(value.strip()):
            number = float(value)
            value = int(number) if number.is_integer() else number
        elif key in _BOOL_FIELDS and isinstance(value, str):
            value = value.strip().lower() in ("true", "1", "yes", "on")
        result[key] = value
    return result


def _as_int(value: object, default: int) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
        return int(value)
    return default


def _as_float(value: object, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and _FLOAT_RE.fullmatch(value.strip()):
        return float(value)
    return default


def _take(table: dict[str, list[Any]], key: str) -> Any:
    queue = table.get(key)
    if not queue:
        return None
    item = queue[0]
    item.times -= 1
    if item.times <= 0:
        queue.pop(0)
    return item


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


# ---------------------------------------------------------------------------------------------------------
# By hand: python -m tests.fakes.telegram_api
# ---------------------------------------------------------------------------------------------------------

_HELP = """\
type a line to send it as the user; also:
  > TEXT          send TEXT literally (even if it looks like a command below)
  press N         press the N-th button of the latest message that has buttons
  doc PATH        send the file at PATH as a document
  photo PATH      send the image at PATH as a photo
  user ID         act as another user from now on
  help | quit"""


def _describe(event: str, message: JSONDict) -> list[str]:
    if event == "answer":
        text = message.get("text") or ""
        return [f"  (button answer{' ALERT' if message.get('show_alert') else ''}: {text})"]
    chat = (message.get("chat") or {}).get("id")
    mark = {"message": "<", "edit": "<~", "delete": "<x"}.get(event, "<?")
    head = f"{mark} [{chat}#{message.get('message_id')}]"
    if event == "delete":
        return [f"{head} (deleted)"]
    lines: list[str] = []
    if "document" in message:
        document = message["document"]
        lines.append(f"{head} (document {document.get('file_name')}, {document.get('file_size')} bytes)")
    elif "photo" in message:
        lines.append(f"{head} (photo)")
    body = str(message.get("text") or message.get("caption") or "")
    for line in body.splitlines():
        lines.append(f"{head if not lines else ' ' * len(head)} {line}")
    if not lines:
        lines.append(head)
    buttons = _buttons_of(message)
    if buttons:
        lines.append("    " + "  ".join(f"[{i}] {text}" for i, (text, _) in enumerate(buttons, start=1)))
    keyboard = message.get("reply_keyboard") or {}
    for row in keyboard.get("keyboard") or []:
        lines.append("    keyboard: " + " | ".join(b["text"] if isinstance(b, dict) else str(b) for b in row))
    return lines


def _start_stdin_reader(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    def read() -> None:
        try:
            for line in sys.stdin:
                loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\r\n"))
        finally:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, name="fake-telegram-stdin", daemon=True).start()


async def _interact(fake: FakeTelegram, user: FakeUser, lines: asyncio.Queue[str | None]) -> None:
    while True:
        line = await lines.get()
        if line is None:
            print("(stdin closed; still serving, Ctrl-C to stop)", flush=True)
            await asyncio.Event().wait()
            return
        stripped = line.strip()
        word, _, rest = stripped.partition(" ")
        try:
            if not stripped:
                continue
            if stripped.startswith(">"):
                await user.send_text(stripped[1:].strip())
            elif word == "press" and rest.strip().isdigit():
                await user.press_button(int(rest))
            elif word in ("doc", "photo") and rest.strip():
                path = Path(rest.strip()).expanduser()
                content = path.read_bytes()
                if word == "photo":
                    await user.send_photo(content)
                else:
                    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    await user.send_document(content, path.name, mime)
            elif word == "user" and rest.strip().isdigit():
                user = fake.user(int(rest))
                print(f"(now user {user.user_id})", flush=True)
            elif stripped in ("help", "?"):
                print(_HELP, flush=True)
            elif stripped in ("quit", "exit"):
                return
            else:
                await user.send_text(stripped)
        except (ValueError, LookupError, OSError) as exc:
            print(f"(!) {exc}", flush=True)


async def _serve(args: argparse.Namespace) -> None:
    async with FakeTelegram(token=args.token, username=args.username, host=args.host, port=args.port) as fake:
        user = fake.user(args.user_id, first_name=args.first_name, language_code=args.language)
        print(f"fake Telegram Bot API at {fake.base_url} (files: {fake.base_file_url})", flush=True)
        print(
            f"start the bot against it:\n  SMEBOT_TELEGRAM_API_URL={fake.base_url} "
            f"SMEBOT_TELEGRAM_TOKEN={fake.token} smebot run",
            flush=True,
        )

        def show(event: str, data: JSONDict) -> None:
            print("\n".join(_describe(event, data)), flush=True)

        fake.add_listener(show)
        if args.no_prompt:
            await asyncio.Event().wait()
            return
        print(
            f"you are user {user.user_id} ({user.first_name}, {user.language_code}); 'help' for commands",
            flush=True,
        )
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        _start_stdin_reader(asyncio.get_running_loop(), lines)
        await _interact(fake, user, lines)


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.telegram_api", description="Run the fake Telegram Bot API by hand."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST")
    parser.add_argument("--username", default="smebot_test_bot")
    parser.add_argument("--user-id", type=int, default=1001)
    parser.add_argument("--first-name", default="An")
    parser.add_argument("--language", default="vi")
    parser.add_argument("--no-prompt", action="store_true", help="only serve; do not read stdin")
    args = parser.parse_args(list(argv) if argv is not None else None)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
