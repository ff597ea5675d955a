"""Out to the Zalo OA: a rendered outbox message as customer-service messages, part by part.

Before anything goes, the recipient's window: counted from their last message (``users.last_seen_at``),
a message beyond it (7 days by default, a setting) is **held** (:class:`Held`), not sent blind. The
outbox sender keeps it as ``held`` and the channel tells whoever decided it (the officer, else the
admins); the broadcaster keeps the recipient's row ``held`` and counts it in the officer's report. The
platform's own -230/-232 is taken the same way (its clock is the judge).

Text goes in pieces of at most 2,000 characters; choices as ``oa.query.hide`` buttons on the last piece
(the payload marked with :data:`PRESS`, so a press is told from typing), or, more than the platform takes,
as the numbered labels to type. Documents: PDF and Word by upload then a file message, images by upload
then a media template; what Zalo does not carry becomes a note saying so (a dossier's HTML copy beside its
DOCX is simply not sent). Errors: -216/-220 were refreshed and retried by the client; -32 waits
(:class:`Flood`); -213 (unfollowed) is :class:`Blocked`; a lost refresh token alerts the admins and waits.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.channels.zalo_bot.send import reply_text
from bot.channels.zalo_common import MAX_TEXT_LENGTH
from bot.channels.zalo_oa.api import BUTTON_TYPE, MAX_BUTTON_TITLE, MAX_BUTTONS, ZaloOAClient
from bot.channels.zalo_oa.errors import (
    PermanentError,
    RateLimited,
    RefreshTokenLost,
    TokenRefreshNeeded,
    TransientError,
    Unfollowed,
    WindowClosed,
)
from bot.channels.zalo_oa.updates import PRESS
from bot.channels.zalo_oa.windows import ALLOWED_WINDOW, FREE_WINDOW, Window, window_at
from bot.effects import Document, deferred_from_json
from bot.pipeline.delivery import Blocked, Flood, Held, Message, Progress, Refused, Transient, split_text
from bot.replies import delivered
from bot.service import Service
from bot.store import reach
from bot.store.db import Database
from locales import t

log = logging.getLogger("smebot.zalo_oa")

TOKEN_WAIT = 600.0  # seconds between two tries while the OA has no usable token (an admin is alerted)
FILE_TYPES = (".pdf", ".doc", ".docx")
IMAGE_TYPES = (".jpg", ".jpeg", ".png")
MAX_FILE_BYTES = 5 * 1024 * 1024  # the platform's limits for an upload
MAX_IMAGE_BYTES = 1024 * 1024
SEEN_CACHE = 10_000  # users whose last message this process remembers (the oldest forgotten first)

Alert = Callable[[], Awaitable[None]]


def buttons_fit(buttons: Sequence[Sequence[str]], max_buttons: int = MAX_BUTTONS) -> bool:
    """Whether the choices go as buttons (else as numbered lines to type)."""
    return 0 < len(buttons) <= max_buttons and all(
        0 < len(label) <= MAX_BUTTON_TITLE and payload for payload, label in buttons
    )


def piece(text: str, buttons: Sequence[Sequence[str]] = ()) -> dict[str, Any]:
    """One customer-service message: text, with the buttons when there are."""
    if not buttons:
        return {"text": text}
    payload = {"buttons": [{"title": b[1], "type": BUTTON_TYPE, "payload": PRESS + b[0]} for b in buttons]}
    return {"text": text, "attachment": {"type": "template", "payload": payload}}


class ZaloOATransport:
    """Sends one outbox message, part by part (each piece of text, then each document), so a retry sends
    only what did not go."""

    def __init__(
        self,
        client: ZaloOAClient,
        db: Database,
        service: Service,
        *,
        window: dt.timedelta = ALLOWED_WINDOW,
        on_token_lost: Alert | None = None,
        max_buttons: int = MAX_BUTTONS,
        text_limit: int = MAX_TEXT_LENGTH,
    ) -> None:
        self.client, self.db, self.service = client, db, service
        self.window, self.on_token_lost = window, on_token_lost
        self.max_buttons, self.text_limit = max_buttons, text_limit
        self.last_seen: dict[str, dt.datetime] = {}  # chat -> when this process last read a message of theirs

    def seen(self, chat: str, at: dt.datetime | None = None) -> None:
        """The user wrote (the adapter read their event; the service writes ``last_seen_at`` as it handles
        it, a moment later): a reply to them need not read the database to know the window is open."""
        self.last_seen.pop(chat, None)  # to the end: the oldest is forgotten first
        self.last_seen[chat] = at or dt.datetime.now(dt.UTC)
        if len(self.last_seen) > SEEN_CACHE:
            del self.last_seen[next(iter(self.last_seen))]

    async def window_open(self, message: Message) -> bool:
        now = dt.datetime.now(dt.UTC)
        free = min(FREE_WINDOW, self.window)
        remembered = self.last_seen.get(message.chat)
        if remembered is not None and window_at(remembered, now, free=free, allowed=self.window) is not (
            Window.TEMPLATE_ONLY
        ):
            return True
        seen = await self.db.run(reach.last_seen, message.user_id)
        return window_at(seen, now, free=free, allowed=self.window) is not Window.TEMPLATE_ONLY

    async def send(self, message: Message, progress: Progress) -> int | None:
        if not await self.window_open(message):
            await self.hold(message, "outside the window: no message from them within the window")
        payload, done = message.payload, message.done
        documents = payload.get("documents") or []
        buttons = [list(b) for b in payload.get("buttons") or []]
        with_buttons = buttons_fit(buttons, self.max_buttons)
        text = message.text if with_buttons else reply_text(payload, message.text)
        chunks = split_text(text, self.text_limit) or (["…"] if with_buttons else [])
        for i, chunk in enumerate(chunks):
            part, last = f"text:{i}", i == len(chunks) - 1
            if part in done:
                continue
            body = piece(chunk, buttons if last and with_buttons else ())
            await self._call(message, part, self.client.send_message(message.chat, body))
            await progress(part, None, last and not documents)
        for d, document in enumerate(documents):
            await self._document(message, progress, d, document, d == len(documents) - 1)
        return None

    async def _document(
        self, message: Message, progress: Progress, d: int, document: Mapping[str, Any], last: bool
    ) -> None:
        request = deferred_from_json(dict(document), message.lang)
        rendered = request is not None
        if request is not None:  # a dossier's documents, a chart, an export: rendered after the commit
            files = await self.service.materialize((request,))
        else:
            try:
                files = [Document(str(document["filename"]), Path(document["path"]).read_bytes(), "")]
            except OSError as error:
                raise Refused(f"file unreadable: {type(error).__name__}", part=f"doc:{d}:0") from error
        carried = [f for f in files if _kind(f) is not None]
        # a copy in another format (a dossier's HTML beside its DOCX) is not sent; alone, it gets a note
        files = carried or files
        for j, file in enumerate(files):
            part = f"doc:{d}:{j}"
            if part in message.done:
                continue
            await self._call(message, part, self._file(message, file))
            await progress(part, None, last and j == len(files) - 1)
        if not rendered:
            delivered(document)  # recorded as sent: its spool file (a /mydata export, a plan) goes

    async def _file(self, message: Message, file: Document) -> str:
        kind = _kind(file)
        if kind == "file":
            return await self.client.send_file(message.chat, file.content, file.filename, _mime(file))
        if kind == "image":
            attachment = await self.client.upload_image(file.content, file.filename, _mime(file))
            return await self.client.send_image(message.chat, attachment_id=attachment)
        note = t("zalo_oa.file_not_sent", message.lang, name=file.filename)
        return await self.client.send_message(message.chat, piece(note[: self.text_limit]))

    async def _call(self, message: Message, part: str, call: Awaitable[str]) -> str:
        """One platform call, its failure as the pipeline reads it."""
        try:
            return await call
        except WindowClosed as error:
            await self.hold(message, f"{error.code} {error.message}"[:200])
        except RateLimited as error:
            raise Flood(error.retry_after) from error
        except RefreshTokenLost as error:
            log.error("the Zalo OA has no usable token (%s): admins alerted; messages wait", error.message)
            if self.on_token_lost is not None:
                await self.on_token_lost()
            raise Flood(TOKEN_WAIT) from error
        except (TransientError, TokenRefreshNeeded) as error:
            raise Transient(str(error)) from error
        except Unfollowed as error:  # they left the OA: nothing reaches them until they write again
            raise Blocked(f"{error.code} {error.message}") from error
        except PermanentError as error:
            raise Refused(f"{error.code} {error.message}"[:200], part=part) from error
        raise AssertionError("unreachable")

    async def hold(self, message: Message, reason: str) -> None:
        """Not sent blind: the sender keeps it as held and its ``on_held`` tells whoever decided it."""
        raise Held(reason)


def _kind(file: Document) -> str | None:
    name = file.filename.lower()
    if name.endswith(FILE_TYPES) and 0 < len(file.content) <= MAX_FILE_BYTES:
        return "file"
    if name.endswith(IMAGE_TYPES) and 0 < len(file.content) <= MAX_IMAGE_BYTES:
        return "image"
    return None


def _mime(file: Document) -> str:
    name = file.filename.lower()
    if name.endswith(".pdf"):
        return "application/pdf"
    if name.endswith(".doc"):
        return "application/msword"
    if name.endswith(".docx"):
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return "image/png" if name.endswith(".png") else "image/jpeg"
