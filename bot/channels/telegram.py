"""Telegram on python-telegram-bot: long polling or a webhook, through one inbox, one dispatcher and the
outbox sender.

At least once in, exactly once in effect: every update is stored (insert-or-ignore on its update_id)
before it is acknowledged (the webhook answers 200 only after the commit; polling confirms the offset
only after storing). The dispatcher handles stored updates, one user's in order and different users'
concurrently; handling an update, saving the state, queueing the replies and marking the update done are
one transaction, so a duplicate or a crash never answers twice or loses an answer.

Nothing stops intake: an update the bot cannot handle (an odd ``update_id``, a sender without an id, a
type it does not handle) is stored set aside, with the reason, and never handled; polling retries every
error with backoff and says in the log when it cannot poll and when it resumes; the receiver, the
dispatcher and the sender are supervised and restarted if they ever stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import math
import os
import secrets
import time
import warnings
from collections.abc import Awaitable, Callable, Mapping
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
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBUserWarning

from bot.attachments import AttachmentStore
from bot.attachments import Refused as FileRefused
from bot.channels.aiohttp_request import AiohttpRequest
from bot.channels.sender import (
    Blocked,
    Flood,
    Message,
    OutboxSender,
    Progress,
    Refused,
    Transient,
    backoff,
    split_text,
    valid_text,
)
from bot.effects import DossierDocuments
from bot.service import Queued, Service, delivered
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
ALLOWED_UPDATES = ["message", "callback_query"]  # the update types the bot handles; Telegram filters the rest
POLL_TIMEOUT = 20  # seconds a long poll waits for an update
TEXT_LIMIT = 4096  # characters (UTF-16 units) in one Telegram message; longer replies go in several
MAX_UPDATE_BYTES = 64 * 1024  # an update bigger than this is not one Telegram sends: set aside
START_ATTEMPTS = 4  # getMe at start: a refused token stops at once, a blip is tried again (0.5, 1, 2 s)
POLL_BACKOFF_CAP = 30.0  # seconds between two polls at most while Telegram cannot be polled

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


def _integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def sender_of(update: Mapping[str, Any]) -> str | None:
    """The id of the user an update is from, if it has a proper one."""
    for kind in ("message", "edited_message", "callback_query"):
        part = update.get(kind)
        if isinstance(part, dict) and isinstance(part.get("from"), dict):
            sender = part["from"].get("id")
            return str(sender) if _integer(sender) else None
    return None


@dataclass(frozen=True)
class Inspected:
    """An incoming update as the inbox keeps it: its key, its user, and why it is set aside (or None)."""

    update_id: str
    user_key: str | None
    error: str | None
    payload: dict[str, Any]


def inspect_update(update: Mapping[str, Any], size: int | None = None) -> Inspected:
    """Decide whether an update can be handled; if not, why (it is then stored set aside, never handled).

    An ``update_id`` that is not an integer (a float, a boolean) keys the update by a digest of its content,
    so a copy of it is still recognised. ``size`` is its length in bytes when known (the webhook's body).
    """
    raw_id = update.get("update_id")
    error: str | None = None
    if _integer(raw_id):
        key = str(raw_id)
    else:
        digest = hashlib.sha256(json.dumps(update, sort_keys=True, default=str).encode()).hexdigest()
        key = f"odd:{digest[:40]}"
        error = f"update_id is not an integer ({type(raw_id).__name__})"
    kinds = [k for k in update if k != "update_id"]
    kind = kinds[0] if len(kinds) == 1 else None
    sender = sender_of(update)
    user_key = repo.user_key(CHANNEL, sender) if sender else None
    payload = dict(update)
    if error is None and kind not in ALLOWED_UPDATES:
        error = f"unhandled update type {kind or '+'.join(kinds) or 'none'}"
    if error is None and sender is None:
        error = f"{kind} without a sender id"
    size = size if size is not None else len(json.dumps(update, default=str))
    if size > MAX_UPDATE_BYTES:
        error = f"oversized update ({size} bytes)"
        payload = {"update_id": raw_id if _integer(raw_id) else str(raw_id), "oversized": size}
    return Inspected(key, user_key, error, payload)


def next_offset(updates: list[dict[str, Any]], offset: int | None) -> int | None:
    """The getUpdates offset that confirms ``updates``: past the highest usable id among them (a float id
    counts by its integer part; a boolean or missing one cannot confirm anything)."""
    ids = [
        int(u["update_id"])
        for u in updates
        if _integer(u.get("update_id"))
        or (isinstance(u.get("update_id"), float) and math.isfinite(u["update_id"]))
    ]
    if not ids:
        return offset
    return max(max(ids) + 1, offset or 0)


def describe(error: BaseException) -> str:
    """An error as the log shows it: its kind and the platform's words, without the token."""
    name = type(error).__name__
    text = error.message if isinstance(error, TelegramError) else str(error)
    return f"{name}: {text}"[:300] if text else name


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


def refusal(error: TelegramError, part: str) -> Exception:
    """A Bot API error as the sender's kind of failure (PTB's BadRequest is a NetworkError: it is tested
    first, and Forbidden is a 403 whatever its words)."""
    if isinstance(error, RetryAfter):
        return Flood(retry_seconds(error))
    if isinstance(error, Forbidden):
        if "blocked by the user" in error.message.lower():
            return Blocked(error.message)
        return Refused(f"403 {error.message}", part=part, reply_possible=False)
    if isinstance(error, EndPointNotFound):
        return Refused(f"404 {error.message}", part=part, reply_possible=False)
    if isinstance(error, InvalidToken):  # PTB's name for a 401 or a 404
        return Refused(f"401/404 {error.message}", part=part, reply_possible=False)
    if isinstance(error, ChatMigrated):  # a group became a supergroup: not a private chat
        return Refused(f"400 chat migrated to {error.new_chat_id}", part=part, reply_possible=False)
    if isinstance(error, BadRequest):
        words = error.message.lower()
        gone = any(w in words for w in ("chat not found", "user not found", "peer_id_invalid", "deactivated"))
        return Refused(f"400 {error.message}", part=part, reply_possible=not gone)
    return Transient(describe(error))  # TimedOut, NetworkError (5xx, connection), Conflict, a bad answer


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
                if last_chunk and _integer(done[part]):
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
            if "dossier" in document:  # rendered now, after the commit that filed it
                request = DossierDocuments(document["dossier"], document.get("lang", message.lang))
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

        inspected = [inspect_update(update) for update in updates]

        def insert(s: Session) -> list[Stored]:
            new = []
            for update in inspected:
                stored = repo.record_update(
                    s, SOURCE, update.update_id, update.user_key, update.payload, update.error
                )
                if stored and update.error is None and update.user_key is not None:
                    new.append(Stored(update.user_key, update.update_id, update.payload))
                elif stored:  # ids only in the log: the update may carry what a person wrote
                    log.warning("update %s set aside: %s", update.update_id, update.error)
            return new

        fresh = await self.db.run(insert)
        for stored in fresh:  # handed to the dispatcher in memory; the inbox table is the durable copy
            self.fresh.setdefault(stored.user_key, []).append(stored)
        self.wake.set()
        return len(fresh)

    async def poll(self, stop: asyncio.Event) -> None:
        """Long polling through the same inbox: the offset is confirmed only after the updates are stored.

        The updates are taken as the JSON Telegram sent (as the webhook receives them), so the inbox
        keeps them exactly and they are parsed once, when handled. Every error is retried, with the wait
        Telegram asks for (429) or a growing one; the log says once when polling stops working (and why,
        again if the reason changes) and once when it works again.
        """
        webhook_deleted = False  # getUpdates is refused while a webhook is set
        offset: int | None = None
        failures = 0
        trouble: str | None = None  # the reason last logged, while polling does not work
        while not stop.is_set():
            try:
                if not webhook_deleted:
                    webhook_deleted = await self.bot.delete_webhook()
                updates = await self.raw_updates(offset)
                if updates:
                    await self.store(*updates)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # 409, 429, 5xx, time-outs, the network, the database: all retried
                failures += 1
                wait = (
                    retry_seconds(error)
                    if isinstance(error, RetryAfter)
                    else backoff(failures - 1, 0.25, POLL_BACKOFF_CAP)
                )
                reason = describe(error)
                if reason != trouble:
                    log.error("cannot poll: %s (trying again, next in %.1f s)", reason, wait)
                    trouble = reason
                await _sleep(stop, wait)
                continue
            if trouble is not None:
                log.warning("polling resumed after %d failed attempts", failures)
                trouble, failures = None, 0
            if updates:
                confirmed = next_offset(updates, offset)
                if confirmed == offset:  # nothing in this batch can confirm it: do not spin on it
                    log.warning("getUpdates gave %d updates without a usable update_id", len(updates))
                    await _sleep(stop, 1.0)
                offset = confirmed

    async def raw_updates(self, offset: int | None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"timeout": POLL_TIMEOUT, "allowed_updates": ALLOWED_UPDATES}
        if offset is not None:
            params["offset"] = offset
        result = await self.bot.do_api_request(
            "getUpdates", api_kwargs=params, read_timeout=POLL_TIMEOUT + 10
        )
        if not isinstance(result, list):
            raise TelegramError("getUpdates answered something that is not a list")
        return [u for u in result if isinstance(u, dict) and "update_id" in u]

    def webhook_app(self, path: str, secret: str) -> web.Application:
        self.webhook_secret = secret

        async def receive(request: web.Request) -> web.Response:
            given = request.headers.get(SECRET_HEADER, "")
            if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
                return web.Response(status=403, text="forbidden")
            try:
                body = await request.read()
                update = json.loads(body)
            except ValueError:  # not JSON, not UTF-8
                return web.Response(status=400, text="not an update")
            if not isinstance(update, dict) or not _integer(update.get("update_id")):
                return web.Response(status=400, text="not an update")
            try:  # committed before the 200: Telegram retries anything else
                await self.store(update)
            except Exception:
                log.exception("could not store update %s", update["update_id"])
                return web.Response(status=503, text="try again")
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
            updates = sorted(self.fresh.pop(key), key=_update_order)
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
                except Exception as error:  # set aside with its reason: never tried again at every start
                    log.exception("update %s failed; set aside", row.update_id)
                    reason = f"{type(error).__name__} while handling"
                    try:
                        await self.db.run(
                            lambda s, u=row.update_id, r=reason: repo.mark_processed(s, SOURCE, u, r)
                        )
                    except Exception:  # the next scan takes it again
                        log.exception("could not set update %s aside", row.update_id)
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
        else:  # stored before allowed_updates filtered it (an older inbox): set aside
            reason = "unhandled update type"
            await self.db.run(lambda s: repo.mark_processed(s, SOURCE, update_id, reason))
            return
        if inp is None:
            return
        outcome = await self.service.handle(CHANNEL, external_id, inp, update=(SOURCE, update_id))
        self.send(outcome.queued, outcome.lang)
        if outcome.notified:
            self.sender.request_scan()
        if not outcome.duplicate and update.message and update.message.text:
            command = inp.command[0] if inp.command else ""
            if command in ("/officer_add", "/officer_remove"):
                try:
                    await self.refresh_menus()
                except TelegramError as error:  # the next start sets them again
                    log.warning("could not update the command menus: %s", describe(error))

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
            except TelegramError as error:  # best effort: a stale press is refused anyway
                log.info("could not remove a keyboard: %s", describe(error))
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
            except FileRefused as refused:
                await self.service_notice(
                    external_id, f"file.refused.{refused.code}", update_id, refused.params
                )
                return None
            except TelegramError as error:  # the user is asked to send it again
                log.warning("could not fetch the file of update %s: %s", update_id, describe(error))
                await self.service_notice(external_id, "delivery.file_unreadable", update_id)
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

    async def start_bot(self) -> None:
        """getMe, as PTB's initialize does: a refused token stops at once (InvalidToken), a blip on the way
        (5xx, 429, a time-out) is tried again a few times before giving up."""
        for attempt in range(START_ATTEMPTS):
            try:
                await self.bot.initialize()
                return
            except InvalidToken:
                await self.bot.shutdown()
                raise
            except TelegramError as error:
                if attempt == START_ATTEMPTS - 1:
                    await self.bot.shutdown()
                    raise
                wait = retry_seconds(error) if isinstance(error, RetryAfter) else backoff(attempt)
                log.warning("Telegram did not answer getMe (%s); trying again", describe(error))
                await asyncio.sleep(wait)

    async def keep_menus(self, stop: asyncio.Event) -> None:
        """The command menus, set at start and tried again until Telegram takes them."""
        failures = 0
        while not stop.is_set():
            try:
                await self.refresh_menus()
                return
            except TelegramError as error:
                failures += 1
                log.warning("could not set the command menus (%s); trying again", describe(error))
                await _sleep(stop, backoff(failures, 1.0, 60.0))

    async def keep_webhook(self, stop: asyncio.Event, webhook: WebhookConfig) -> None:
        """setWebhook, tried again until Telegram takes it."""
        failures = 0
        while not stop.is_set():
            try:
                await self.bot.set_webhook(
                    webhook.url, secret_token=webhook.secret, allowed_updates=ALLOWED_UPDATES
                )
                if failures:
                    log.warning("webhook set after %d failed attempts", failures)
                return
            except TelegramError as error:
                failures += 1
                log.error("cannot set the webhook: %s (trying again)", describe(error))
                await _sleep(stop, backoff(failures, 1.0, POLL_BACKOFF_CAP))

    async def run(self, stop: asyncio.Event, webhook: WebhookConfig | None = None) -> None:
        await self.start_bot()
        try:
            # The dispatcher and the sender see `stop` and finish what they hold (the sender writes down
            # what it delivered); the receiver is simply cancelled: what it had not stored, Telegram resends.
            # Each runs supervised: should one ever stop on an error, it is logged and started again.
            workers = [
                asyncio.create_task(supervise("dispatcher", self.dispatch, stop)),
                asyncio.create_task(supervise("sender", self.sender.run, stop)),
            ]
            helpers = [asyncio.create_task(self.keep_menus(stop))]
            runner: web.AppRunner | None = None
            try:
                if webhook is None:
                    helpers.append(asyncio.create_task(supervise("polling", self.poll, stop)))
                else:
                    runner = web.AppRunner(self.webhook_app(webhook.path, webhook.secret))
                    await runner.setup()
                    await web.TCPSite(runner, webhook.host, webhook.port).start()
                    helpers.append(asyncio.create_task(self.keep_webhook(stop, webhook)))
                await stop.wait()
            finally:
                stop.set()
                for helper in helpers:
                    helper.cancel()
                await asyncio.gather(*helpers, return_exceptions=True)
                if runner is not None:
                    await runner.cleanup()
                _, late = await asyncio.wait(workers, timeout=SHUTDOWN_GRACE)
                for worker in late:
                    worker.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
        finally:
            await self.bot.shutdown()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds``, or less if the bot is stopping."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def supervise(name: str, loop: Callable[[asyncio.Event], Awaitable[None]], stop: asyncio.Event) -> None:
    """Run ``loop(stop)`` until ``stop``; if it ever ends before (an error, a bug), log it loudly and start
    it again after a growing pause."""
    failures = 0
    while not stop.is_set():
        try:
            await loop(stop)
        except asyncio.CancelledError:
            raise
        except Exception:
            failures += 1
            log.exception("the %s stopped on an error; starting it again", name)
        else:
            if stop.is_set():
                return
            failures += 1
            log.error("the %s stopped; starting it again", name)
        await _sleep(stop, backoff(failures - 1, 0.5, POLL_BACKOFF_CAP))


def _update_order(update: Stored) -> tuple[int, str]:
    """Updates in the order Telegram numbered them (an odd id, which is never handled, last)."""
    return (int(update.update_id), "") if update.update_id.isdigit() else (1 << 62, update.update_id)


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
