"""The Telegram adapter: a stored update as what the pipeline does with it (a press, a message, a file,
or nothing), its replies through :class:`TelegramTransport`, and the command menus."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Update
from telegram.error import BadRequest, TelegramError

from bot.attachments import AttachmentStore
from bot.attachments import Refused as FileRefused
from bot.channels.telegram.api import CHANNEL, OWNER_COMMANDS, SOURCE, TEXT_LIMIT, describe
from bot.channels.telegram.send import TelegramTransport
from bot.channels.telegram.updates import inspect_update
from bot.pipeline.adapter import Desk, Handle, Incoming, Notice, Read, Skip
from bot.replies import Outcome
from bot.service import Service
from bot.store import inbox
from bot.store import officers as officers_store
from bot.store.db import Database
from conversations.engine import Input
from conversations.officer.broadcast_status import COMMANDS as BROADCAST_COMMANDS
from conversations.officer.handler import ADMIN_COMMANDS, OFFICER_COMMANDS
from locales import t

log = logging.getLogger("smebot.telegram")

MENU_COMMANDS = ("/officer_add", "/officer_remove")  # after these, the staff's command menus change


class TelegramAdapter:
    channel = CHANNEL
    source = SOURCE

    def __init__(
        self,
        bot: Bot,
        service: Service,
        db: Database,
        attachments: AttachmentStore,
        text_limit: int = TEXT_LIMIT,
    ) -> None:
        self.bot, self.service, self.db, self.attachments = bot, service, db, attachments
        self.transport = TelegramTransport(bot, service, text_limit)

    def inspect(self, update: Mapping[str, Any]) -> Incoming:
        return inspect_update(update)

    async def read(self, update_id: str, payload: Mapping[str, Any], desk: Desk) -> Read:
        update = Update.de_json(dict(payload), self.bot)
        user = update.effective_user
        if user is None or update.effective_chat is None or update.effective_chat.type != "private":
            return Skip()
        external_id = str(user.id)
        if update.callback_query is not None:
            return await self.on_press(update, external_id, update_id, desk)
        if update.message is not None:
            return await self.on_message(update, external_id, update_id)
        return Skip("unhandled update type")  # stored before allowed_updates filtered it (an older inbox)

    async def handled(self, read: Handle, outcome: Outcome) -> None:
        command = read.input.command[0] if read.input.text and read.input.command else ""
        if not outcome.duplicate and command in MENU_COMMANDS:
            try:
                await self.refresh_menus()
            except TelegramError as error:  # the next start sets them again
                log.warning("could not update the command menus: %s", describe(error))

    async def on_press(self, update: Update, external_id: str, update_id: str, desk: Desk) -> Read:
        query = update.callback_query
        assert query is not None
        try:
            await query.answer()  # every press is answered, or the phone shows a spinner
        except TelegramError as error:
            log.info("answerCallbackQuery failed: %s", error)
        message = query.message
        if message is not None:
            remembered = desk.latest_keyboard.get(external_id)
            latest, handled = await self.db.run(
                inbox.press_context, SOURCE, CHANNEL, external_id, update_id, remembered
            )
            if stale_press(latest, handled, message.message_id):
                return Notice(external_id, "telegram.stale")
            try:  # the question is answered: its buttons go, so they cannot be pressed twice
                await self.bot.edit_message_reply_markup(
                    message.chat.id, message.message_id, reply_markup=None
                )
            except TelegramError as error:  # best effort: a stale press is refused anyway
                log.info("could not remove a keyboard: %s", describe(error))
        return Handle(external_id, Input(payload=query.data or ""))

    async def on_message(self, update: Update, external_id: str, update_id: str) -> Read:
        message = update.message
        assert message is not None
        if message.document is not None or message.photo:
            if message.document is not None:
                file_id, name, mime = (
                    message.document.file_id,
                    message.document.file_name,
                    message.document.mime_type,
                )
                size = message.document.file_size or 0
            else:
                photo = max(message.photo, key=lambda p: (p.width or 0) * (p.height or 0))
                file_id, name, mime, size = (
                    photo.file_id,
                    f"photo-{photo.file_unique_id}.jpg",
                    "image/jpeg",
                    photo.file_size or 0,
                )
            name = name or f"file-{file_id[:8]}"
            mime = mime or "application/octet-stream"
            try:
                self.attachments.check(name, mime, max(size, 1))
                telegram_file = await self.bot.get_file(file_id)
                content = bytes(await telegram_file.download_as_bytearray())
                if (message.caption or "").strip().startswith("/programme_add"):  # an officer's YAML
                    info = self.attachments.keep_programme(name, content)
                else:
                    info = self.attachments.keep(name, content, mime)
            except FileRefused as refused:
                return Notice(external_id, f"file.refused.{refused.code}", refused.params)
            except TelegramError as error:  # the user is asked to send it again
                log.warning("could not fetch the file of update %s: %s", update_id, describe(error))
                return Notice(external_id, "delivery.file_unreadable")
            return Handle(external_id, Input(file=info, text=message.caption or ""))
        return Handle(external_id, Input(text=message.text or message.caption or ""))

    # --- the command menu -------------------------------------------------------------------------

    async def refresh_menus(self) -> None:
        """Owner commands for everyone (vi and en); officer and admin commands only in staff chats."""
        for lang in ("vi", "en"):
            owner = [BotCommand(c, t(f"telegram.commands.{c}", lang)) for c in OWNER_COMMANDS]
            await self.bot.set_my_commands(owner, scope=BotCommandScopeDefault(), language_code=lang)
        staff: dict[str, str] = {}
        for key in self.service.staff.admins:
            if key.startswith(f"{CHANNEL}:"):
                staff[key.split(":", 1)[1]] = "admin"
        officers = await self.db.run(officers_store.list_officers)
        for officer in officers:
            if officer.user_key.startswith(f"{CHANNEL}:"):
                staff.setdefault(officer.user_key.split(":", 1)[1], "officer")
        for chat_id, role in staff.items():
            if not chat_id.lstrip("-").isdigit():
                continue
            names = [*OWNER_COMMANDS, *sorted(c[1:] for c in (*OFFICER_COMMANDS, *BROADCAST_COMMANDS))]
            if role == "admin":
                names += sorted(c[1:] for c in ADMIN_COMMANDS)
            for lang in ("vi", "en"):
                commands = [BotCommand(c, t(f"telegram.commands.{c}", lang)) for c in names]
                try:
                    await self.bot.set_my_commands(
                        commands, scope=BotCommandScopeChat(int(chat_id)), language_code=lang
                    )
                except BadRequest as error:  # a staff member who never wrote to the bot
                    log.info("no command menu for %s: %s", chat_id, error)

    # --- running ----------------------------------------------------------------------------------


def stale_press(latest: int | None, handled: list[dict[str, Any]], message_id: int) -> bool:
    """Only the latest question's keyboard answers, and only once: a press on an older message, or a
    second press on the same one (among the user's handled updates), is stale."""
    if latest is not None and message_id != latest:
        return True
    for payload in handled:
        query = payload.get("callback_query") or {}
        if (query.get("message") or {}).get("message_id") == message_id:
            return True
    return False
