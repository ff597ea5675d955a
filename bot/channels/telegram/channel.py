"""Telegram on python-telegram-bot: long polling or a webhook, into the channel-independent pipeline
(:mod:`bot.pipeline`: inbox, per-user dispatch, one transaction, outbox, sender) through the
:class:`TelegramAdapter`.

At least once in, exactly once in effect: every update is stored before it is acknowledged (the webhook
answers 200 only after the commit; polling confirms the offset only after storing). Nothing stops
intake: polling retries every error with backoff and says in the log when it cannot poll and when it
resumes; the receiver, the dispatcher and the sender are supervised and restarted if they ever stop.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from aiohttp import web
from telegram import Bot
from telegram.error import InvalidToken, RetryAfter, TelegramError

from bot.attachments import AttachmentStore
from bot.channels.telegram.adapter import TelegramAdapter
from bot.channels.telegram.api import (
    ALLOWED_UPDATES,
    POLL_BACKOFF_CAP,
    POLL_TIMEOUT,
    SECRET_HEADER,
    START_ATTEMPTS,
    describe,
    integer,
    retry_seconds,
)
from bot.channels.telegram.updates import next_offset
from bot.pipeline.broadcaster import BroadcastConfig
from bot.pipeline.delivery import backoff
from bot.pipeline.run import Pipeline
from bot.pipeline.sender import OutboxSender
from bot.pipeline.supervise import pause
from bot.service import Service
from bot.store.db import Database

log = logging.getLogger("smebot.telegram")


@dataclass
class TelegramChannel:
    service: Service
    db: Database
    bot: Bot
    attachments: AttachmentStore
    per_second: float = 30.0  # Telegram: about 30 messages a second overall
    chat_interval: float = 1.0  # and about one a second to one chat
    max_in_flight: int = 8  # sends at once (see OutboxSender)
    broadcasts: BroadcastConfig | None = None  # the broadcaster's settings; None: no broadcaster

    def __post_init__(self) -> None:
        self.adapter = TelegramAdapter(self.bot, self.service, self.db, self.attachments)
        self.pipeline = Pipeline(
            self.service,
            self.db,
            self.adapter,
            per_second=self.per_second,
            chat_interval=self.chat_interval,
            max_in_flight=self.max_in_flight,
            broadcasts=self.broadcasts,
        )
        self.webhook_secret = ""

    @property
    def sender(self) -> OutboxSender:
        return self.pipeline.sender

    async def store(self, *updates: Mapping[str, Any]) -> int:
        """Keep the raw updates (each once) in the inbox; only after this returns may they be acknowledged."""
        return await self.pipeline.inbox.store(*updates)

    async def refresh_menus(self) -> None:
        await self.adapter.refresh_menus()

    # --- in: polling and the webhook --------------------------------------------------------------

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
                await pause(stop, wait)
                continue
            if trouble is not None:
                log.warning("polling resumed after %d failed attempts", failures)
                trouble, failures = None, 0
            if updates:
                confirmed = next_offset(updates, offset)
                if confirmed == offset:  # nothing in this batch can confirm it: do not spin on it
                    log.warning("getUpdates gave %d updates without a usable update_id", len(updates))
                    await pause(stop, 1.0)
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
        """The webhook server's application: this channel's route and /healthz."""

        async def health(request: web.Request) -> web.Response:
            return web.Response(text="ok")

        app = web.Application()
        self.add_webhook(app, path, secret)
        app.router.add_get("/healthz", health)
        return app

    def add_webhook(self, app: web.Application, path: str, secret: str) -> None:
        """This channel's webhook route on an aiohttp application (one server may host every channel's)."""
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
            if not isinstance(update, dict) or not integer(update.get("update_id")):
                return web.Response(status=400, text="not an update")
            try:  # committed before the 200: Telegram retries anything else
                await self.store(update)
            except Exception:
                log.exception("could not store update %s", update["update_id"])
                return web.Response(status=503, text="try again")
            return web.Response(text="ok")

        app.router.add_post(path, receive)

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
                await pause(stop, backoff(failures, 1.0, 60.0))

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
                await pause(stop, backoff(failures, 1.0, POLL_BACKOFF_CAP))

    async def run(
        self, stop: asyncio.Event, webhook: WebhookConfig | None = None, shared: bool = False
    ) -> None:
        """``shared``: the caller serves this channel's route (:meth:`add_webhook`) beside other channels'."""
        await self.start_bot()
        try:
            chores = [self.keep_menus(stop)]
            receivers = {}
            runner: web.AppRunner | None = None
            if webhook is None:
                receivers["polling"] = self.poll
            elif shared:
                chores.append(self.keep_webhook(stop, webhook))
            else:
                runner = web.AppRunner(self.webhook_app(webhook.path, webhook.secret))
                await runner.setup()
                await web.TCPSite(runner, webhook.host, webhook.port).start()
                chores.append(self.keep_webhook(stop, webhook))
            await self.pipeline.run(stop, receivers, chores, runner.cleanup if runner is not None else None)
        finally:
            await self.bot.shutdown()


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
