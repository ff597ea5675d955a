"""Out to Telegram: a rendered outbox message as Bot API calls (text cut to 4,096, buttons as an inline
keyboard on the last piece, then each document), part by part."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from pathlib import Path
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.channels.telegram.api import CALLBACK_LIMIT, LABEL_LIMIT, TEXT_LIMIT, integer, refusal
from bot.effects import deferred_from_json
from bot.pipeline.delivery import Message, Progress, Refused, split_text, valid_text
from bot.replies import delivered
from bot.service import Service


def keyboard(buttons: list[list[str]]) -> InlineKeyboardMarkup | None:
    """One button a row; the page buttons side by side. Every callback fits Telegram's 64 bytes."""
    if not buttons:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    nav: list[InlineKeyboardButton] = []
    for payload, label in buttons:
        if len(payload.encode()) > CALLBACK_LIMIT:
            raise ValueError(f"callback data over {CALLBACK_LIMIT} bytes: {payload!r}")
        label = valid_text(label)
        text = label if len(label) <= LABEL_LIMIT else label[: LABEL_LIMIT - 1] + "…"
        button = InlineKeyboardButton(text, callback_data=payload)
        if payload.startswith("_page:"):
            nav.append(button)
        else:
            rows.append([button])
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows)


def message_text(payload: Mapping[str, Any], text: str) -> str:
    """Long button labels are cut on a phone: list the choices in full in the message too."""
    buttons = payload.get("buttons") or []
    long_labels = [label for _, label in buttons if len(label) > LABEL_LIMIT]
    if not long_labels:
        return text or "…"
    listed = "\n".join(label for payload_, label in buttons if not payload_.startswith("_"))
    return f"{text}\n\n{listed}"


class TelegramTransport:
    """Sends one outbox message: its text cut to ``text_limit`` (the buttons on the last piece), then each
    document; every part on its own, so a retry sends only what did not go."""

    def __init__(self, bot: Bot, service: Service, text_limit: int = TEXT_LIMIT) -> None:
        self.bot = bot
        self.service = service
        self.text_limit = text_limit

    async def _call(self, part: str, call: Awaitable[Any]) -> Any:
        try:
            return await call
        except TelegramError as error:
            raise refusal(error, part) from error

    async def send(self, message: Message, progress: Progress) -> int | None:
        chat = int(message.chat)
        payload = message.payload
        done = message.done
        documents = payload.get("documents") or []
        sent_id: int | None = None
        text = message.text
        chunks = (
            split_text(message_text(payload, text), self.text_limit) if text or payload.get("buttons") else []
        )
        if not chunks and payload.get("buttons"):
            chunks = ["…"]
        for i, chunk in enumerate(chunks):
            part, last_chunk = f"text:{i}", i == len(chunks) - 1
            if part in done:
                if last_chunk and integer(done[part]):
                    sent_id = int(done[part])
                continue
            params: dict[str, Any] = {"chat_id": chat, "text": chunk}
            if last_chunk:
                params["reply_markup"] = keyboard([list(b) for b in payload.get("buttons") or []])
            sent = await self._call(part, self.bot.do_api_request("sendMessage", api_kwargs=params))
            message_id = int(sent["message_id"])
            if last_chunk:
                sent_id = message_id
            await progress(part, message_id, last_chunk and not documents)
        for d, document in enumerate(documents):
            last_document = d == len(documents) - 1
            request = deferred_from_json(document, message.lang)
            if request is not None:  # a dossier's documents, a chart, an export: rendered after the commit
                rendered = await self.service.materialize((request,))
                for j, file in enumerate(rendered):
                    part = f"doc:{d}:{j}"
                    if part in done:
                        continue
                    name = valid_text(file.filename)
                    await self._call(part, self.bot.send_document(chat, file.content, filename=name))
                    await progress(part, None, last_document and j == len(rendered) - 1)
                continue
            part = f"doc:{d}:0"
            if part in done:
                continue
            try:
                content = Path(document["path"]).read_bytes()
            except OSError as error:
                raise Refused(f"file unreadable: {type(error).__name__}", part=part) from error
            name = valid_text(str(document["filename"]))
            await self._call(part, self.bot.send_document(chat, content, filename=name))
            await progress(part, None, last_document)
            delivered(document)  # recorded as sent: its spool file (a /mydata export, a plan) goes
        return sent_id
