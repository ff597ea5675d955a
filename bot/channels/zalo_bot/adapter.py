"""The Zalo Bot adapter: a stored update as what the pipeline does with it. Text goes to the engine; an
image (its URL and caption) is fetched, with a size cap, and kept like any file an owner sends; a sticker
or a message the Bot API does not forward the content of gets a kind request for text. A group chat is
answered only with a pointer to a private chat. A user's first message is preceded by the notice that
they talk to an automated assistant (the platform's terms)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import aiohttp

from bot.attachments import AttachmentStore
from bot.attachments import Refused as FileRefused
from bot.channels.zalo_bot.send import ZaloBotTransport
from bot.channels.zalo_bot.updates import CHANNEL, SOURCE, inspect_update
from bot.channels.zalo_bot_api import (
    UpdateFormatError,
    ZaloBotClient,
    ZaloBotError,
    ZaloBotUpdate,
    parse_update,
)
from bot.channels.zalo_common import fetch_capped, typed_choice
from bot.pipeline.adapter import Desk, Handle, Incoming, Notice, Read, Skip
from bot.replies import Outcome
from bot.store import users as users_store
from bot.store.db import Database
from conversations.engine import Input
from locales import t

log = logging.getLogger("smebot.zalo_bot")

DEFAULT_LANG = "vi"  # a group, or a user the bot does not know yet: Vietnamese


class ZaloBotAdapter:
    channel = CHANNEL
    source = SOURCE

    def __init__(
        self,
        client: ZaloBotClient,
        db: Database,
        attachments: AttachmentStore,
        http: aiohttp.ClientSession,
    ) -> None:
        self.client, self.db, self.attachments, self.http = client, db, attachments, http
        self.transport = ZaloBotTransport(client)

    def inspect(self, update: Mapping[str, Any]) -> Incoming:
        return inspect_update(update)

    async def read(self, update_id: str, payload: Mapping[str, Any], desk: Desk) -> Read:
        try:
            update = parse_update(payload)
        except UpdateFormatError as error:  # stored before a stricter check: set aside
            return Skip(f"not a message update ({error})")
        if update.is_group:
            await self.say(update.chat_id, t("zalo.group_pointer", DEFAULT_LANG))
            return Skip()
        external_id = update.sender_id
        if await self.db.run(users_store.user_by_key, users_store.user_key(CHANNEL, external_id)) is None:
            await self.say(update.chat_id, t("zalo.automated", DEFAULT_LANG))
        if update.kind == "text":
            return Handle(external_id, await typed_choice(self.db, CHANNEL, external_id, update.text or ""))
        if update.kind == "image" and update.photo_url:
            return await self.on_image(update, external_id, update_id)
        return Notice(external_id, "zalo.text_only")

    async def on_image(self, update: ZaloBotUpdate, external_id: str, update_id: str) -> Read:
        url = update.photo_url or ""
        name = f"photo-{update.message_id[:16]}.jpg"
        try:
            content, mime = await self.fetch(url)
            info = self.attachments.keep(name, content, mime)
        except FileRefused as refused:
            return Notice(external_id, f"file.refused.{refused.code}", refused.params)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            log.warning("could not fetch the photo of update %s: %s", update_id, type(error).__name__)
            return Notice(external_id, "zalo.image_unreadable")
        return Handle(external_id, Input(file=info, text=update.caption or ""))

    async def fetch(self, url: str) -> tuple[bytes, str]:
        """The photo at ``url``, refused (as too big) past the attachments' size cap without reading on."""

        def photo(mime: str) -> str:
            return f"photo.{mime.rsplit('/', 1)[-1]}"

        return await fetch_capped(self.http, url, photo, "image/jpeg", self.attachments)

    async def say(self, chat_id: str, text: str) -> None:
        """A message of the channel's own, outside the outbox (a group pointer, the first-contact notice):
        best effort, at most once more after a crash."""
        try:
            await self.client.send_message(chat_id, text)
        except ZaloBotError as error:
            log.warning("could not send a notice: %s", type(error).__name__)

    async def handled(self, read: Handle, outcome: Outcome) -> None:
        return None
