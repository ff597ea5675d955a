"""Telegram on python-telegram-bot: long polling or a webhook, through one inbox, one dispatcher and the
outbox sender.

At least once in, exactly once in effect: every update is stored (insert-or-ignore on its update_id)
before it is acknowledged (the webhook answers 200 only after the commit; polling confirms the offset
only after storing). The dispatcher handles stored updates, one user's in order and different users'
concurrently; handling an update, saving the state, queueing the replies and marking the update done are
one transaction, so a duplicate or a crash never answers twice or loses an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import logging
import os
import secrets
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from aiohttp import web

os.environ.setdefault("PTB_TIMEDELTA", "1")  # PTB 22: durations as timedelta, the future default
from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.warnings import PTBUserWarning

from bot.attachments import AttachmentStore, Refused
from bot.channels.aiohttp_request import AiohttpRequest
from bot.channels.sender import Blocked, Flood, Message, OutboxSender, Transient
from bot.effects import DossierDocuments
from bot.service import Queued, Service
from bot.store import repo
from bot.store.db import Database
from bot.store.models import Outbox, ProcessedUpdate
from conversations.engine import Input
from conversations.officer.handler import ADMIN_COMMANDS, OFFICER_COMMANDS
from locales import t

log = logging.getLogger("smebot.telegram")

CHANNEL = "telegram"
SOURCE = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CALLBACK_LIMIT = 64  # bytes of callback_data Telegram accepts
LABEL_LIMIT = 60
OWNER_COMMANDS = (
    "start",
    "mydossiers",
    "withdraw",
    "back",
    "cancel",
    "restart",
    "lang",
    "mydata",
    "deleteme",
    "help",
)
DEFAULT_API = "https://api.telegram.org"
ALLOWED_UPDATES = ["message", "callback_query"]
POLL_TIMEOUT = 20  # seconds a long poll waits for an update

# getUpdates and sendMessage go through Bot.do_api_request, for the raw JSON: the poller stores updates as
# Telegram sent them (see poll), and the sender needs only the new message's id, not a parsed Message
# (parsing it was a twentieth of the bot's CPU). PTB warns that Bot.get_updates and Bot.send_message
# exist, which is known here.
warnings.filterwarnings(
    "ignore", message=r"Please use 'Bot\.(getUpdates|sendMessage)'", category=PTBUserWarning
)


def api_urls(api_url: str | None) -> tuple[str, str]:
    """SMEBOT_TELEGRAM_API_URL (Telegram's, a self-hosted Bot API server, the fake) -> PTB's two URLs."""
    base = (api_url or DEFAULT_API).rstrip("/")
    if base.endswith("/bot"):
        base = base[: -len("/bot")]
    return f"{base}/bot", f"{base}/file/bot"


def make_requests() -> tuple[AiohttpRequest, AiohttpRequest]:
    """PTB's two transports: one for the API calls (sends run in parallel), one for the long poll."""
    calls = AiohttpRequest(
        connection_pool_size=64, read_timeout=15.0, write_timeout=15.0, connect_timeout=5.0
    )
    return calls, AiohttpRequest(connection_pool_size=2, read_timeout=40.0)


def make_bot(token: str, api_url: str | None = None) -> Bot:
    base_url, base_file_url = api_urls(api_url)
    request, updates = make_requests()
    return Bot(
        token, base_url=base_url, base_file_url=base_file_url, request=request, get_updates_request=updates
    )


def retry_seconds(error: RetryAfter) -> float:
    """PTB 22 gives ``retry_after`` as int or timedelta (and warns about the int): seconds either way."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wait = error.retry_after
    return wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)


def sender_of(update: Mapping[str, Any]) -> str | None:
    for kind in ("message", "edited_message", "callback_query"):
        part = update.get(kind)
        if isinstance(part, dict) and isinstance(part.get("from"), dict):
            return str(part["from"]["id"])
    return None


def keyboard(buttons: list[list[str]]) -> InlineKeyboardMarkup | None:
    """One button a row; the page buttons side by side. Every callback fits Telegram's 64 bytes."""
    if not buttons:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    nav: list[InlineKeyboardButton] = []
    for payload, label in buttons:
        if len(payload.encode()) > CALLBACK_LIMIT:
            raise ValueError(f"callback data over {CALLBACK_LIMIT} bytes: {payload!r}")
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
    return f"{text}\n\n{listed}"[:4096]


class TelegramTransport:
    def __init__(self, bot: Bot, service: Service) -> None:
        self.bot = bot
        self.service = service

    async def send(self, message: Message) -> int | None:
        chat = int(message.chat)
        payload = message.payload
        try:
            sent_id: int | None = None
            text = message.text
            if text or payload.get("buttons"):
                markup = keyboard([list(b) for b in payload.get("buttons") or []])
                params = {"chat_id": chat, "text": message_text(payload, text), "reply_markup": markup}
                sent = await self.bot.do_api_request("sendMessage", api_kwargs=params)
                sent_id = int(sent["message_id"])
            for document in payload.get("documents") or []:
                if "dossier" in document:  # rendered now, after the commit that filed it
                    request = DossierDocuments(document["dossier"], document.get("lang", message.lang))
                    for rendered in await self.service.materialize((request,)):
                        await self.bot.send_document(chat, rendered.content, filename=rendered.filename)
                    continue
                path = Path(document["path"])
                with path.open("rb") as handle:
                    await self.bot.send_document(chat, handle, filename=document["filename"])
            return sent_id
        except RetryAfter as error:
            raise Flood(retry_seconds(error)) from error
        except Forbidden as error:
            raise Blocked(str(error)) from error
        except (TimedOut, NetworkError) as error:
            raise Transient(str(error)) from error


SHUTDOWN_GRACE = 10.0  # seconds the dispatcher and the sender get to finish on SIGTERM
SCAN_EVERY = 5.0  # seconds between scans of the inbox table for updates a crash left unprocessed


@dataclass(frozen=True)
class Stored:
    user_key: str
    update_id: str
    payload: dict[str, Any]


@dataclass
class TelegramChannel:
    service: Service
    db: Database
    bot: Bot
    attachments: AttachmentStore
    per_second: float = 30.0  # Telegram: about 30 messages a second overall
    chat_interval: float = 1.0  # and about one a second to one chat
    max_in_flight: int = 8  # sends at once (see OutboxSender)

    def __post_init__(self) -> None:
        self.wake = asyncio.Event()
        self.fresh: dict[str, list[Stored]] = {}
        self.next_scan = 0.0
        self.busy: set[str] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        transport = TelegramTransport(self.bot, self.service)
        self.sender = OutboxSender(
            self.db,
            CHANNEL,
            transport,
            per_second=self.per_second,
            chat_interval=self.chat_interval,
            max_in_flight=self.max_in_flight,
        )
        self.webhook_secret = ""

    # --- in: the inbox ----------------------------------------------------------------------------

    async def store(self, *updates: Mapping[str, Any]) -> int:
        """Keep the raw updates (each once), in one transaction; how many were new. Only after this
        returns may they be acknowledged."""

        def insert(s: Session) -> list[Stored]:
            new = []
            for update in updates:
                sender = sender_of(update)
                key = repo.user_key(CHANNEL, sender) if sender else f"anon:{update['update_id']}"
                if repo.record_update(s, SOURCE, str(update["update_id"]), key, dict(update)):
                    new.append(Stored(key, str(update["update_id"]), dict(update)))
            return new

        fresh = await self.db.run(insert)
        for stored in fresh:  # handed to the dispatcher in memory; the inbox table is the durable copy
            self.fresh.setdefault(stored.user_key, []).append(stored)
        self.wake.set()
        return len(fresh)

    async def poll(self, stop: asyncio.Event) -> None:
        """Long polling through the same inbox: the offset is confirmed only after the updates are stored.

        The updates are taken as the JSON Telegram sent (as the webhook receives them), so the inbox
        keeps them exactly and they are parsed once, when handled.
        """
        webhook_deleted = False  # getUpdates is refused while a webhook is set
        offset: int | None = None
        while not stop.is_set():
            try:
                if not webhook_deleted:
                    webhook_deleted = await self.bot.delete_webhook()
                updates = await self.raw_updates(offset)
            except RetryAfter as error:
                await asyncio.sleep(retry_seconds(error))
                continue
            except (TimedOut, NetworkError) as error:
                log.warning("polling failed (retrying): %s", error)
                await asyncio.sleep(1.0)
                continue
            if updates:
                await self.store(*updates)
                offset = int(updates[-1]["update_id"]) + 1

    async def raw_updates(self, offset: int | None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"timeout": POLL_TIMEOUT, "allowed_updates": ALLOWED_UPDATES}
        if offset is not None:
            params["offset"] = offset
        result = await self.bot.do_api_request(
            "getUpdates", api_kwargs=params, read_timeout=POLL_TIMEOUT + 10
        )
        return [u for u in result if isinstance(u, dict) and "update_id" in u]

    def webhook_app(self, path: str, secret: str) -> web.Application:
        self.webhook_secret = secret

        async def receive(request: web.Request) -> web.Response:
            given = request.headers.get(SECRET_HEADER, "")
            if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
                return web.Response(status=403, text="forbidden")
            try:
                update = await request.json()
                int(update["update_id"])
            except (ValueError, KeyError, TypeError):
                return web.Response(status=400, text="not an update")
            await self.store(update)  # committed before the 200: Telegram retries anything else
            return web.Response(text="ok")

        async def health(request: web.Request) -> web.Response:
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_post(path, receive)
        app.router.add_get("/healthz", health)
        return app

    # --- the dispatcher ---------------------------------------------------------------------------

    async def dispatch(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.wake.clear()  # before the work: a wake-up during it is not lost
            started = await self.dispatch_once()
            if not started:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=0.5)
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def dispatch_once(self) -> int:
        """Start a worker for every user with updates waiting and no worker yet.

        New updates come from :meth:`store` in memory; the inbox table is scanned at start and every few
        seconds, for what a crash left unprocessed (the service skips anything already handled).
        """
        if time.monotonic() >= self.next_scan:
            self.next_scan = time.monotonic() + SCAN_EVERY
            rows: list[ProcessedUpdate] = await self.db.run(lambda s: repo.unprocessed_updates(s, 1000))
            for row in rows:
                key = row.user_key or f"anon:{row.update_id}"
                if row.source == SOURCE and key not in self.busy:  # a busy worker has its own list
                    known = {u.update_id for u in self.fresh.get(key, [])}
                    if row.update_id not in known:
                        self.fresh.setdefault(key, []).append(Stored(key, row.update_id, row.payload))
        started = 0
        for key in list(self.fresh):
            if key in self.busy:
                continue
            updates = sorted(self.fresh.pop(key), key=lambda u: int(u.update_id))
            self.busy.add(key)
            task = asyncio.create_task(self._user_queue(key, updates))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            started += 1
        return started

    async def _user_queue(self, key: str, updates: list[Stored]) -> None:
        """One user's updates, in order."""
        try:
            for row in updates:
                try:
                    await self.handle(row.update_id, row.payload)
                except Exception:
                    log.exception("update %s of %s failed", row.update_id, key)
                    await self.db.run(lambda s, u=row.update_id: repo.mark_processed(s, SOURCE, u))
        finally:
            self.busy.discard(key)
            self.wake.set()

    def send(self, queued: list[Queued], lang: str) -> None:
        """Hand the replies just committed to the sender."""
        self.sender.push(Message(q.outbox_id, q.user_id, q.external_id, lang, q.payload, 0) for q in queued)

    async def handle(self, update_id: str, payload: Mapping[str, Any]) -> None:
        update = Update.de_json(dict(payload), self.bot)
        user = update.effective_user
        if user is None or update.effective_chat is None or update.effective_chat.type != "private":
            await self.db.run(lambda s: repo.mark_processed(s, SOURCE, update_id))
            return
        external_id = str(user.id)
        inp: Input | None = None
        if update.callback_query is not None:
            inp = await self.on_press(update, external_id, update_id)
        elif update.message is not None:
            inp = await self.on_message(update, external_id, update_id)
        if inp is None:
            return
        outcome = await self.service.handle(CHANNEL, external_id, inp, update=(SOURCE, update_id))
        self.send(outcome.queued, outcome.lang)
        if outcome.notified:
            self.sender.request_scan()
        if not outcome.duplicate and update.message and update.message.text:
            command = inp.command[0] if inp.command else ""
            if command in ("/officer_add", "/officer_remove"):
                await self.refresh_menus()

    async def on_press(self, update: Update, external_id: str, update_id: str) -> Input | None:
        query = update.callback_query
        assert query is not None
        try:
            await query.answer()  # every press is answered, or the phone shows a spinner
        except TelegramError as error:
            log.info("answerCallbackQuery failed: %s", error)
        message = query.message
        if message is not None:
            if await self.db.run(self._stale_press, external_id, message.message_id, update_id):
                await self.service_notice(external_id, "telegram.stale", update_id)
                return None
            try:  # the question is answered: its buttons go, so they cannot be pressed twice
                await self.bot.edit_message_reply_markup(
                    message.chat.id, message.message_id, reply_markup=None
                )
            except (BadRequest, Forbidden) as error:
                log.info("could not remove a keyboard: %s", error)
        return Input(payload=query.data or "")

    def _stale_press(self, s: Session, external_id: str, message_id: int, update_id: str) -> bool:
        """Only the latest question's keyboard answers, and only once (one read for both checks)."""
        latest = self.sender.latest_keyboard.get(external_id) or self._latest_keyboard(s, external_id)
        if latest is not None and message_id != latest:
            return True
        return self._pressed_before(s, external_id, message_id, update_id)

    def _pressed_before(self, s: Session, external_id: str, message_id: int, update_id: str) -> bool:
        """A keyboard answers one question: a second press on the same message is stale."""
        stmt = (
            select(ProcessedUpdate.payload)
            .where(
                ProcessedUpdate.source == SOURCE,
                ProcessedUpdate.user_key == repo.user_key(CHANNEL, external_id),
                ProcessedUpdate.processed_at.is_not(None),
                ProcessedUpdate.update_id != update_id,
            )
            .order_by(ProcessedUpdate.received_at.desc())
            .limit(50)
        )
        for payload in s.scalars(stmt):
            query = payload.get("callback_query") or {}
            if (query.get("message") or {}).get("message_id") == message_id:
                return True
        return False

    def _latest_keyboard(self, s: Session, external_id: str) -> int | None:
        stmt = (
            select(Outbox.payload)
            .where(Outbox.channel == CHANNEL, Outbox.external_id == external_id, Outbox.status == "sent")
            .order_by(Outbox.id.desc())
            .limit(20)
        )
        for payload in s.scalars(stmt):
            if payload.get("buttons") and payload.get("message_id") is not None:
                return int(payload["message_id"])
        return None

    async def on_message(self, update: Update, external_id: str, update_id: str) -> Input | None:
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
                info = self.attachments.keep(name, content, mime)
            except Refused as refused:
                await self.service_notice(
                    external_id, f"file.refused.{refused.code}", update_id, refused.params
                )
                return None
            return Input(file=info, text=message.caption or "")
        return Input(text=message.text or message.caption or "")

    async def service_notice(
        self, external_id: str, key: str, update_id: str, params: Mapping[str, object] | None = None
    ) -> None:
        outcome = await self.service.notice(
            CHANNEL, external_id, key, dict(params or {}), (SOURCE, update_id)
        )
        self.send(outcome.queued, outcome.lang)

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
        officers = await self.db.run(repo.list_officers)
        for officer in officers:
            if officer.user_key.startswith(f"{CHANNEL}:"):
                staff.setdefault(officer.user_key.split(":", 1)[1], "officer")
        for chat_id, role in staff.items():
            if not chat_id.lstrip("-").isdigit():
                continue
            names = [*OWNER_COMMANDS, *sorted(c[1:] for c in OFFICER_COMMANDS)]
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

    async def run(self, stop: asyncio.Event, webhook: WebhookConfig | None = None) -> None:
        async with self.bot:
            await self.refresh_menus()
            # The dispatcher and the sender see `stop` and finish what they hold (the sender writes down
            # what it delivered); the receiver is simply cancelled: what it had not stored, Telegram resends.
            workers = [asyncio.create_task(self.dispatch(stop)), asyncio.create_task(self.sender.run(stop))]
            receiver: asyncio.Task[None] | None = None
            runner: web.AppRunner | None = None
            try:
                if webhook is None:
                    receiver = asyncio.create_task(self.poll(stop))
                else:
                    runner = web.AppRunner(self.webhook_app(webhook.path, webhook.secret))
                    await runner.setup()
                    await web.TCPSite(runner, webhook.host, webhook.port).start()
                    await self.bot.set_webhook(
                        webhook.url,
                        secret_token=webhook.secret,
                        allowed_updates=ALLOWED_UPDATES,
                    )
                await stop.wait()
            finally:
                stop.set()
                if receiver is not None:
                    receiver.cancel()
                    await asyncio.gather(receiver, return_exceptions=True)
                if runner is not None:
                    await runner.cleanup()
                _, late = await asyncio.wait(workers, timeout=SHUTDOWN_GRACE)
                for worker in late:
                    worker.cancel()
                await asyncio.gather(*workers, return_exceptions=True)


@dataclass(frozen=True)
class WebhookConfig:
    url: str  # the public URL Telegram posts to, e.g. https://bot.example.vn/telegram
    host: str = "127.0.0.1"
    port: int = 8080
    secret: str = ""

    @property
    def path(self) -> str:
        return urlparse(self.url).path or "/telegram"

    @classmethod
    def make(cls, url: str, listen: str, secret: str | None) -> WebhookConfig:
        host, _, port = listen.rpartition(":")
        return cls(url, host or "127.0.0.1", int(port or 8080), secret or secrets.token_urlsafe(32))
