"""The Zalo Bot in the channel-independent pipeline (:mod:`bot.pipeline`), through the
:class:`ZaloBotAdapter`: long polling with ``getUpdates``, or a webhook route on the shared aiohttp server.

Polling: ``getUpdates`` hands over **one** update per call and has no offset, so taking it is the
acknowledgement; the update is stored in the inbox at once, and a 408 means nothing to deliver (not an
error). Every other failure is retried with backoff, said once in the log and once when polling resumes.
Webhook: the ``X-Bot-Api-Secret-Token`` header is compared in constant time (403 otherwise) and the update
is committed to the inbox before the 200, so the platform's redelivery of anything unanswered is safe.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import aiohttp
from aiohttp import web

from bot.attachments import AttachmentStore
from bot.channels.zalo_bot.adapter import ZaloBotAdapter
from bot.channels.zalo_bot_api import (
    NOTHING_TO_DELIVER,
    SECRET_HEADER,
    PermanentError,
    RateLimited,
    TransientError,
    ZaloBotClient,
    ZaloBotError,
    webhook_secret_matches,
)
from bot.pipeline.broadcaster import BroadcastConfig
from bot.pipeline.delivery import backoff
from bot.pipeline.run import Pipeline
from bot.pipeline.sender import OutboxSender
from bot.pipeline.supervise import pause
from bot.service import Service
from bot.store.db import Database

log = logging.getLogger("smebot.zalo_bot")

POLL_TIMEOUT = 20  # seconds one getUpdates waits for an update
POLL_BACKOFF_CAP = 30.0  # seconds between two polls at most while the platform cannot be polled
START_ATTEMPTS = 4  # getMe at start: a refused token stops at once, a blip is tried again
CONFLICT = 409  # getUpdates while a webhook is set


@dataclass(frozen=True)
class ZaloWebhook:
    url: str  # the public URL the platform posts to, e.g. https://bot.example.vn/zalo
    secret: str

    @property
    def path(self) -> str:
        return urlparse(self.url).path or "/zalo"

    @classmethod
    def make(cls, url: str, secret: str | None) -> ZaloWebhook:
        return cls(url, secret or secrets.token_urlsafe(32))


class ZaloBotChannel:
    def __init__(
        self,
        service: Service,
        db: Database,
        client: ZaloBotClient,
        attachments: AttachmentStore,
        *,
        per_second: float = 10.0,
        chat_interval: float = 1.0,
        max_in_flight: int = 4,
        broadcasts: BroadcastConfig | None = None,
    ) -> None:
        self.service, self.db, self.client, self.attachments = service, db, client, attachments
        self.http = aiohttp.ClientSession()  # the photos owners send (the client keeps its own)
        self.adapter = ZaloBotAdapter(client, db, attachments, self.http)
        self.pipeline = Pipeline(
            service,
            db,
            self.adapter,
            per_second=per_second,
            chat_interval=chat_interval,
            max_in_flight=max_in_flight,
            broadcasts=broadcasts,
        )

    @property
    def sender(self) -> OutboxSender:
        return self.pipeline.sender

    async def store(self, *updates: Mapping[str, Any]) -> int:
        """Keep the raw updates (each once) in the inbox; only after this returns may they be acknowledged."""
        return await self.pipeline.inbox.store(*updates)

    # --- in -----------------------------------------------------------------------------------------

    async def poll(self, stop: asyncio.Event) -> None:
        """getUpdates, one update a call, each stored at once; errors retried with backoff."""
        failures, trouble = 0, None
        while not stop.is_set():
            try:
                result = await self.client.call(
                    "getUpdates", {"timeout": str(POLL_TIMEOUT)}, timeout=POLL_TIMEOUT + 10
                )
            except TransientError as error:
                if error.error_code == NOTHING_TO_DELIVER:
                    result = None
                else:
                    failures += 1
                    wait = (
                        error.retry_after
                        if isinstance(error, RateLimited)
                        else backoff(failures - 1, 0.25, POLL_BACKOFF_CAP)
                    )
                    if str(error) != trouble:
                        log.error("cannot poll: %s (trying again, next in %.1f s)", error, wait)
                        trouble = str(error)
                    await pause(stop, wait)
                    continue
            except PermanentError as error:
                failures += 1
                if error.error_code == CONFLICT:  # a webhook is set: polling was asked for, so it goes
                    log.warning("a webhook was set; deleting it to poll")
                    try:
                        await self.client.delete_webhook()
                    except ZaloBotError as again:
                        log.error("cannot delete the webhook: %s", again)
                elif str(error) != trouble:
                    log.error("cannot poll: %s (trying again)", error)
                    trouble = str(error)
                await pause(stop, backoff(failures - 1, 0.25, POLL_BACKOFF_CAP))
                continue
            if trouble is not None:
                log.warning("polling resumed after %d failed attempts", failures)
            failures, trouble = 0, None
            updates = result if isinstance(result, list) else [result] if isinstance(result, dict) else []
            if updates:
                await self.store(*[u for u in updates if isinstance(u, dict)])

    def add_webhook(self, app: web.Application, path: str, secret: str) -> None:
        """This channel's webhook route on the shared aiohttp application."""

        async def receive(request: web.Request) -> web.Response:
            if not webhook_secret_matches(secret, request.headers.get(SECRET_HEADER)):
                return web.Response(status=403, text="forbidden")
            try:
                update = json.loads(await request.read(), parse_int=str, parse_float=str)
            except ValueError:  # not JSON, not UTF-8
                return web.Response(status=400, text="not an update")
            if not isinstance(update, dict):
                return web.Response(status=400, text="not an update")
            try:  # committed before the 200: the platform sends again anything else
                await self.store(update)
            except Exception:
                log.exception("could not store a webhook update")
                return web.Response(status=503, text="try again")
            return web.Response(text="ok")

        app.router.add_post(path, receive)

    async def keep_webhook(self, stop: asyncio.Event, webhook: ZaloWebhook) -> None:
        """setWebhook, tried again until the platform takes it."""
        failures = 0
        while not stop.is_set():
            try:
                await self.client.set_webhook(webhook.url, webhook.secret)
                if failures:
                    log.warning("webhook set after %d failed attempts", failures)
                return
            except (ZaloBotError, ValueError) as error:
                failures += 1
                log.error("cannot set the webhook: %s (trying again)", error)
                await pause(stop, backoff(failures, 1.0, POLL_BACKOFF_CAP))

    # --- running ----------------------------------------------------------------------------------

    async def start_bot(self) -> None:
        """getMe: a refused token (401, 404) stops at once, a blip is tried again a few times."""
        for attempt in range(START_ATTEMPTS):
            try:
                await self.client.get_me()
                return
            except PermanentError:
                raise
            except TransientError as error:
                if attempt == START_ATTEMPTS - 1:
                    raise
                log.warning("the Zalo Bot API did not answer getMe (%s); trying again", error)
                await asyncio.sleep(error.retry_after if isinstance(error, RateLimited) else backoff(attempt))

    async def run(self, stop: asyncio.Event, webhook: ZaloWebhook | None = None) -> None:
        """Until ``stop``: polling, or (``webhook``) keeping the webhook set while the shared server, which
        the caller runs with :meth:`add_webhook`'s route, receives the updates."""
        try:
            await self.start_bot()
            if webhook is None:
                await self.pipeline.run(stop, {"polling": self.poll})
            else:
                await self.pipeline.run(stop, chores=[self.keep_webhook(stop, webhook)])
        finally:
            await self.http.close()
            await self.client.close()
