"""The Zalo OA adapter: a stored webhook event as what the pipeline does with it.

- ``user_send_text``: to the engine; a button's payload (it arrives as the user's text, marked with
  :data:`PRESS`) as a press;
- ``user_send_image`` / ``user_send_file``: the file at the URL the platform gives is fetched, with the
  attachments' size cap, and kept like any file an owner sends;
- ``follow``: ``/start`` (the greeting and the consent, or the question in progress for someone back);
- ``unfollow``: the user is marked unreachable (nothing is sent to them until they write again);
- ``user_submit_info``: thanked, and nothing kept (the conversation asks for what the dossier needs).

A user's first contact is preceded by the notice that they talk to an automated assistant (the platform's
terms), as on the Zalo Bot.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import aiohttp

from bot.attachments import AttachmentStore
from bot.attachments import Refused as FileRefused
from bot.channels.zalo_common import fetch_capped, typed_choice
from bot.channels.zalo_oa.api import ZaloOAClient
from bot.channels.zalo_oa.errors import ZaloOAError
from bot.channels.zalo_oa.events import OAAttachment, OAEvent, event_from
from bot.channels.zalo_oa.send import ZaloOATransport
from bot.channels.zalo_oa.updates import CHANNEL, PRESS, SOURCE, inspect_event
from bot.pipeline.adapter import Desk, Handle, Incoming, Notice, Read, Skip
from bot.replies import Outcome
from bot.store import reach
from bot.store import users as users_store
from bot.store.db import Database
from conversations.engine import Input
from locales import t

log = logging.getLogger("smebot.zalo_oa")

DEFAULT_LANG = "vi"  # a user the bot does not know yet: Vietnamese
FILE_EVENTS = {"user_send_image": "image", "user_send_file": "file"}


class ZaloOAAdapter:
    channel = CHANNEL
    source = SOURCE

    def __init__(
        self,
        client: ZaloOAClient,
        db: Database,
        attachments: AttachmentStore,
        http: aiohttp.ClientSession,
        transport: ZaloOATransport,
    ) -> None:
        self.client, self.db, self.attachments, self.http = client, db, attachments, http
        self.transport = transport

    def inspect(self, update: Mapping[str, Any]) -> Incoming:
        return inspect_event(update)

    async def read(self, update_id: str, payload: Mapping[str, Any], desk: Desk) -> Read:
        try:
            event = event_from(payload)
        except ValueError as error:  # stored before a stricter check: set aside
            return Skip(f"not a user event ({error})")
        external_id = event.user_id
        if event.event == "unfollow":
            await self.db.run(reach.mark_unreachable, CHANNEL, external_id)
            return Skip()
        if await self.first_contact(external_id):
            await self.say(external_id, t("zalo.automated", DEFAULT_LANG))
        self.transport.seen(external_id)  # an interaction: the window opens again
        if event.event == "follow":
            return Handle(external_id, Input(text="/start"))
        if event.event == "user_submit_info":
            return Notice(external_id, "zalo_oa.info_received")
        if event.event in FILE_EVENTS:
            return await self.on_file(event, FILE_EVENTS[event.event], update_id)
        text = event.text or ""
        if text.startswith(PRESS):
            return Handle(external_id, Input(payload=text[len(PRESS) :]))
        if not text:
            return Notice(external_id, "zalo_oa.unsupported")
        return Handle(external_id, await typed_choice(self.db, CHANNEL, external_id, text))

    async def first_contact(self, external_id: str) -> bool:
        """Whether the bot has never met this user (one this process heard from lately it has)."""
        if external_id in self.transport.last_seen:
            return False
        key = users_store.user_key(CHANNEL, external_id)
        return await self.db.run(users_store.user_by_key, key) is None

    async def on_file(self, event: OAEvent, kind: str, update_id: str) -> Read:
        attachment = next((a for a in event.attachments if a.url), None)
        if attachment is None or attachment.url is None:
            return Notice(event.user_id, "zalo_oa.unsupported")
        name = _file_name(attachment, kind, event.key)
        try:
            content, mime = await self.fetch(attachment.url, name)
            info = self.attachments.keep(name, content, mime)
        except FileRefused as refused:
            return Notice(event.user_id, f"file.refused.{refused.code}", refused.params)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            log.warning("could not fetch the file of event %s: %s", update_id, type(error).__name__)
            return Notice(event.user_id, "zalo_oa.file_unreadable")
        return Handle(event.user_id, Input(file=info, text=event.text or ""))

    async def fetch(self, url: str, name: str) -> tuple[bytes, str]:
        """The file at ``url``, refused (as too big) past the attachments' size cap without reading on."""
        return await fetch_capped(
            self.http, url, lambda _mime: name, "application/octet-stream", self.attachments
        )

    async def say(self, user_id: str, text: str) -> None:
        """A message of the channel's own, outside the outbox (the first-contact notice): best effort, at
        most once more after a crash."""
        try:
            await self.client.send_text(user_id, text)
        except ZaloOAError as error:
            log.warning("could not send a notice: %s", type(error).__name__)

    async def handled(self, read: Handle, outcome: Outcome) -> None:
        return None


def _file_name(attachment: OAAttachment, kind: str, key: str) -> str:
    """The name the owner's file had, or one made up for a photo (the platform gives only its URL)."""
    if attachment.name:
        return attachment.name
    return f"photo-{key[:16]}.jpg" if kind == "image" else f"file-{key[:16]}"
