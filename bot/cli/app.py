"""``smebot chat`` (the terminal chat, the main job), ``smebot run`` (every configured channel: Telegram,
the Zalo Bot, the Zalo OA), ``smebot db``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Coroutine
from dataclasses import replace
from typing import Any

from aiohttp import web
from telegram.error import InvalidToken, NetworkError

from bot import logs
from bot.app import open_app
from bot.channels.console import chat
from bot.channels.telegram import DEFAULT_API, TelegramChannel, WebhookConfig, make_bot
from bot.channels.zalo_bot import ZaloBotChannel, ZaloWebhook
from bot.channels.zalo_bot_api import PermanentError, TransientError, ZaloBotClient
from bot.channels.zalo_oa import RefreshTokenLost
from bot.channels.zalo_oa.channel import OAConfig, ZaloOAChannel
from bot.cli.parser import UsageError
from bot.config import Settings, load_settings
from bot.pipeline.broadcaster import BroadcastConfig
from bot.pipeline.supervise import supervise
from bot.reminders import from_settings
from locales import t


def run_chat(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if args.db:
        overrides["database_url"] = f"sqlite+aiosqlite:///{args.db}"
    settings = load_settings(**overrides)
    logs.configure(logging.WARNING, "%(levelname)s %(name)s: %(message)s")

    async def main() -> int:
        app = await open_app(settings)
        try:
            if settings.reminder_interval > 0:  # what is due now is queued, shown with the first reply
                await from_settings(app.db, app.service.staff.calendar, settings).scan()
            documents = settings.documents_dir
            return await chat(app.service, args.user, app.attachments, sys.stdin, sys.stdout, documents)
        finally:
            await app.close()

    return asyncio.run(main())


def run_bots(args: argparse.Namespace) -> int:
    """Every channel whose settings are present (Telegram, the Zalo Bot), in one process; their webhooks
    (when set) on one aiohttp server, polling otherwise."""
    settings = load_settings()
    # no personal data in the log: exceptions by type, ids not text (bot/logs.py)
    logs.configure(logging.INFO, "%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not settings.telegram_token and not settings.zalo_bot_token and not settings.zalo_oa_app_id:
        raise UsageError(t("cli.error.no_token", args.lang))
    oa_config = _oa_config(settings) if settings.zalo_oa_app_id else None
    if oa_config is not None and oa_config.missing():
        raise UsageError(t("zalo_oa.incomplete", args.lang, missing=", ".join(oa_config.missing())))
    listen = args.listen or settings.webhook_listen or settings.telegram_webhook_listen
    webhook_url = args.webhook_url or settings.telegram_webhook_url
    webhook = (
        WebhookConfig.make(webhook_url, listen, settings.telegram_webhook_secret)
        if webhook_url and settings.telegram_token
        else None
    )
    zalo_webhook = (
        ZaloWebhook.make(settings.zalo_bot_webhook_url, settings.zalo_bot_webhook_secret or None)
        if settings.zalo_bot_webhook_url and settings.zalo_bot_token
        else None
    )

    async def main() -> int:
        app = await open_app(settings, render_processes=settings.render_processes)
        runs: list[Coroutine[Any, Any, None]] = []
        server = web.Application()
        stop = asyncio.Event()
        if settings.telegram_token:
            bot = make_bot(settings.telegram_token, settings.telegram_api_url)
            channel = TelegramChannel(
                app.service,
                app.db,
                bot,
                app.attachments,
                per_second=settings.telegram_messages_per_second,
                chat_interval=settings.telegram_chat_interval,
                max_in_flight=settings.telegram_max_in_flight,
                broadcasts=BroadcastConfig.of(settings, "telegram"),
            )
            if webhook is not None:
                channel.add_webhook(server, webhook.path, webhook.secret)
            runs.append(channel.run(stop, webhook, shared=True))
        if settings.zalo_bot_token:
            client = ZaloBotClient(settings.zalo_bot_token, base_url=settings.zalo_bot_api_url)
            zalo = ZaloBotChannel(
                app.service,
                app.db,
                client,
                app.attachments,
                per_second=settings.zalo_bot_messages_per_second,
                chat_interval=settings.zalo_bot_chat_interval,
                max_in_flight=settings.zalo_bot_max_in_flight,
                broadcasts=BroadcastConfig.of(settings, "zalo_bot"),
            )
            if zalo_webhook is not None:
                zalo.add_webhook(server, zalo_webhook.path, zalo_webhook.secret)
            runs.append(zalo.run(stop, zalo_webhook))
        if oa_config is not None:  # the OA has no polling: its events come to the shared server
            oa = ZaloOAChannel(
                app.service,
                app.db,
                replace(oa_config, admins=app.service.staff.admins),
                app.attachments,
                per_second=settings.zalo_oa_messages_per_second,
                chat_interval=settings.zalo_oa_chat_interval,
                max_in_flight=settings.zalo_oa_max_in_flight,
                broadcasts=BroadcastConfig.of(settings, "zalo_oa"),
            )
            oa.add_webhook(server)
            runs.append(oa.run(stop))
        if settings.reminder_interval > 0:  # scheduled in the database, beside the channels (issue 16)
            reminders = from_settings(app.db, app.service.staff.calendar, settings)
            runs.append(supervise("reminders", reminders.run, stop))
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        runner: web.AppRunner | None = None
        try:
            if webhook is not None or zalo_webhook is not None or oa_config is not None:  # one server
                server.router.add_get("/healthz", _health)
                runner = web.AppRunner(server)
                await runner.setup()
                host, _, port = listen.rpartition(":")
                await web.TCPSite(runner, host or "127.0.0.1", int(port or 8080)).start()
            await _all_until_one_fails(runs, stop)
        except InvalidToken as error:  # at start (getMe); PTB's own message would print the token
            raise UsageError(t("cli.error.bad_token", args.lang)) from error
        except NetworkError as error:  # at start: once running, polling and sending retry by themselves
            url = settings.telegram_api_url or DEFAULT_API
            raise UsageError(t("cli.error.no_api", args.lang, url=url, error=error.message)) from error
        except PermanentError as error:  # the Zalo Bot's getMe at start: the token was refused
            raise UsageError(t("zalo.bad_token", args.lang)) from error
        except RefreshTokenLost as error:  # the Zalo OA at start: no token pair at all
            raise UsageError(t("zalo_oa.no_tokens", args.lang)) from error
        except TransientError as error:  # the Zalo Bot API could not be reached at start
            url = settings.zalo_bot_api_url
            raise UsageError(t("zalo.no_api", args.lang, url=url, error=error.description)) from error
        finally:
            if runner is not None:
                await runner.cleanup()
            await app.close()
        return 0

    return asyncio.run(main())


def _oa_config(settings: Settings) -> OAConfig:
    """The Zalo OA's connection from the settings (the admins are the service's, added at start)."""
    return OAConfig(
        app_id=settings.zalo_oa_app_id,
        app_secret=settings.zalo_oa_secret_key,
        oa_secret=settings.zalo_oa_oa_secret_key,
        webhook_url=settings.zalo_oa_webhook_url,
        access_token=settings.zalo_oa_access_token,
        refresh_token=settings.zalo_oa_refresh_token,
        signed_with=settings.zalo_oa_signed_with,
        api_url=settings.zalo_oa_api_url,
        oauth_url=settings.zalo_oa_oauth_url,
        window_hours=settings.zalo_oa_window_hours,
        max_buttons=settings.zalo_oa_max_buttons,
        rate_limit_backoff=settings.zalo_oa_rate_limit_backoff,
    )


async def _health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _all_until_one_fails(runs: list[Coroutine[Any, Any, None]], stop: asyncio.Event) -> None:
    """Run the channels side by side until ``stop``; if one fails (at start: a refused token), the others
    are stopped and its error raised."""
    tasks = [asyncio.create_task(run) for run in runs]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            error = task.exception()
            if error is not None:
                stop.set()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise error
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


def run_db(args: argparse.Namespace) -> int:
    settings = load_settings()

    async def main() -> int:
        app = await open_app(settings)  # migrations run on open
        await app.close()
        print(f"database ready: {settings.database_url}")
        return 0

    return asyncio.run(main())


def add_app_commands(sub: Any) -> None:
    p = sub.add_parser("chat", help="the terminal chat (owner journey)")
    p.add_argument("--user", default="local", help="act as this user (several owners on one database)")
    p.add_argument("--db", help="SQLite file (default: SMEBOT_DATABASE_URL or smebot.db)")
    p.set_defaults(func=run_chat)

    p = sub.add_parser(
        "run", help="every configured channel: Telegram, the Zalo Bot (polling, or webhooks on one server)"
    )
    p.add_argument("--webhook-url", help="public HTTPS URL Telegram posts updates to")
    p.add_argument("--listen", help="host:port of the webhook server (default 127.0.0.1:8080)")
    p.set_defaults(func=run_bots)

    p = sub.add_parser("db", help="database maintenance")
    p.add_argument("action", choices=["upgrade"])
    p.set_defaults(func=run_db)
