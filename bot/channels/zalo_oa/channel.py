"""The Zalo Official Account in the channel-independent pipeline (:mod:`bot.pipeline`).

In: the platform posts every event to the webhook URL set in the app's developer console, on the shared
aiohttp server of ``smebot run``. The ``X-ZEvent-Signature`` is checked first (403, and nothing kept,
otherwise); the event is committed to the inbox, keyed on its message id, before the 200 (a store takes
milliseconds; the platform wants an answer within 2 s), so its redelivery of anything unanswered is safe
and a duplicate is handled once. The pipeline then handles it from the inbox.

Out: the :class:`~bot.channels.zalo_oa.send.ZaloOATransport`. Tokens: the pair lives in the database
(seeded from the settings once); a chore refreshes it ahead of expiry even when nobody writes, and a
refresh token that can no longer be used alerts the admins (once a day) instead of stopping the bot.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlparse

import aiohttp
from aiohttp import web

from bot.attachments import AttachmentStore
from bot.channels.zalo_oa.adapter import ZaloOAAdapter
from bot.channels.zalo_oa.api import MAX_BUTTONS, ZaloOAClient
from bot.channels.zalo_oa.errors import (
    OAUTH_BASE_URL,
    OPENAPI_BASE_URL,
    RATE_LIMIT_BACKOFF,
    RefreshTokenLost,
    TransientError,
)
from bot.channels.zalo_oa.send import ZaloOATransport
from bot.channels.zalo_oa.signature import SIGNATURE_HEADER, load_body, verify_signature
from bot.channels.zalo_oa.stored_tokens import DbTokenStore, seed, token_name
from bot.channels.zalo_oa.tokens import TokenManager
from bot.pipeline.broadcaster import BroadcastConfig
from bot.pipeline.delivery import Message
from bot.pipeline.run import Pipeline
from bot.pipeline.supervise import pause
from bot.service import Service
from bot.store import reach
from bot.store.db import Database

log = logging.getLogger("smebot.zalo_oa")

TOKEN_CHECK_EVERY = 300.0  # seconds between two looks at the token's expiry when nothing is sent
SIGNERS = ("oa_secret", "app_secret")


@dataclass(frozen=True)
class OAConfig:
    """One OA's connection, from the settings (see the README, Zalo Official Account)."""

    app_id: str
    app_secret: str  # the app's secret key: the token endpoint's ``secret_key``
    oa_secret: str  # the OA secret key (Webhook settings): signs the events, by default
    webhook_url: str  # the public URL set in the developer console, e.g. https://bot.example.vn/zalo-oa
    access_token: str = ""  # the first pair (seeded into the database once)
    refresh_token: str = ""
    signed_with: str = "oa_secret"  # which secret signs the events: oa_secret or app_secret (uncertain)
    api_url: str = OPENAPI_BASE_URL
    oauth_url: str = OAUTH_BASE_URL
    window_hours: float = 168.0  # how long after a user's last message the OA may still write (uncertain)
    max_buttons: int = MAX_BUTTONS
    rate_limit_backoff: float = RATE_LIMIT_BACKOFF  # seconds to wait after -32 (uncertain)
    admins: frozenset[str] = frozenset()

    @property
    def path(self) -> str:
        return urlparse(self.webhook_url).path or "/zalo-oa"

    @property
    def signing_secret(self) -> str:
        if self.signed_with not in SIGNERS:
            raise ValueError(f"SMEBOT_ZALO_OA_SIGNED_WITH is one of {', '.join(SIGNERS)}")
        return self.oa_secret if self.signed_with == "oa_secret" else self.app_secret

    def missing(self) -> list[str]:
        """The settings still to set, or set to what cannot be (their environment names)."""
        needed = {
            "SMEBOT_ZALO_OA_APP_ID": self.app_id,
            "SMEBOT_ZALO_OA_SECRET_KEY": self.app_secret,
            "SMEBOT_ZALO_OA_OA_SECRET_KEY": self.oa_secret,
            "SMEBOT_ZALO_OA_WEBHOOK_URL": self.webhook_url,
        }
        missing = [name for name, value in needed.items() if not value]
        if self.signed_with not in SIGNERS:
            missing.append(f"SMEBOT_ZALO_OA_SIGNED_WITH ({' | '.join(SIGNERS)})")
        return missing


class ZaloOAChannel:
    def __init__(
        self,
        service: Service,
        db: Database,
        config: OAConfig,
        attachments: AttachmentStore,
        *,
        per_second: float = 20.0,
        chat_interval: float = 1.0,
        max_in_flight: int = 4,
        broadcasts: BroadcastConfig | None = None,
    ) -> None:
        self.service, self.db, self.config = service, db, config
        self.token_name = token_name(config.app_id)
        self.tokens = TokenManager(
            DbTokenStore(db, self.token_name),
            app_id=config.app_id,
            app_secret=config.app_secret,
            oauth_base_url=config.oauth_url,
        )
        self.client = ZaloOAClient(
            self.tokens,
            base_url=config.api_url,
            max_buttons=config.max_buttons,
            rate_limit_backoff=config.rate_limit_backoff,
        )
        self.http = aiohttp.ClientSession()  # the files owners send (the client keeps its own)
        self.transport = ZaloOATransport(
            self.client,
            db,
            service,
            window=dt.timedelta(hours=config.window_hours),
            on_token_lost=self.alert_token_lost,
            max_buttons=config.max_buttons,
        )
        self.adapter = ZaloOAAdapter(self.client, db, attachments, self.http, self.transport)
        self.pipeline = Pipeline(
            service,
            db,
            self.adapter,
            per_second=per_second,
            chat_interval=chat_interval,
            max_in_flight=max_in_flight,
            broadcasts=broadcasts,
        )
        self.pipeline.sender.on_held = self.report_held

    def add_webhook(self, app: web.Application) -> None:
        """This channel's webhook route on the shared aiohttp application."""
        secret = self.config.signing_secret

        async def receive(request: web.Request) -> web.Response:
            raw = await request.read()
            header = request.headers.get(SIGNATURE_HEADER)
            if not verify_signature(raw, header, app_id=self.config.app_id, secret=secret):
                return web.Response(status=403, text="forbidden")
            body = load_body(raw)
            if body is None:
                return web.Response(status=400, text="not an event")
            try:  # committed before the 200: the platform sends again anything else
                await self.pipeline.inbox.store(body)
            except Exception:
                log.exception("could not store a webhook event")
                return web.Response(status=503, text="try again")
            return web.json_response({"error": 0})

        app.router.add_post(self.config.path, receive)

    async def start(self) -> str:
        """The settings' token pair into the database (once); RefreshTokenLost when there is none at all."""
        seeded = await seed(
            self.db, self.token_name, self.config.access_token, self.config.refresh_token, time.time()
        )
        if seeded == "missing":
            raise RefreshTokenLost("token", None, "no token pair: set the OA's first pair")
        log.info("Zalo OA %s: token pair %s", self.config.app_id, seeded)
        return seeded

    async def report_held(self, message: Message, reason: str) -> None:
        """Whoever decided a held message (the officer, else the admins) hears of it, once."""
        await self.db.run(reach.report_held, message.outbox_id, reason, self.config.admins)

    async def alert_token_lost(self) -> None:
        """The admins hear of it once a day (each on their own channel), and the log says it every time."""
        day = dt.datetime.now(dt.UTC).date().isoformat()
        payload = {"key": "zalo_oa.token_lost", "params": {}, "held_report": True}
        dedup = f"oa-token-lost:{self.config.app_id}:{day}"
        told = await self.db.run(reach.alert_admins, self.config.admins, payload, dedup)
        log.error("the Zalo OA's refresh token cannot be used: %d admins alerted", len(told))

    async def keep_tokens(self, stop: asyncio.Event) -> None:
        """Refresh the pair ahead of expiry even while nothing is sent (an idle OA keeps a live pair)."""
        while not stop.is_set():
            try:
                await self.tokens.access_token()
            except RefreshTokenLost:
                await self.alert_token_lost()
            except TransientError as error:
                log.warning("could not refresh the Zalo OA's token now: %s", error.message)
            await pause(stop, TOKEN_CHECK_EVERY)

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``: the pipeline, with the token chore beside it; the shared server, which the caller
        runs with :meth:`add_webhook`'s route, receives the events."""
        try:
            await self.start()
            await self.pipeline.run(stop, chores=[self.keep_tokens(stop)])
        finally:
            await self.http.close()
            await self.client.close()
