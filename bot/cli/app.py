"""``smebot chat`` (the terminal chat, the main job), ``smebot run`` (the Telegram bot), ``smebot db``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import Any

from telegram.error import InvalidToken, NetworkError

from bot import logs
from bot.app import open_app
from bot.channels.console import chat
from bot.channels.telegram import DEFAULT_API, TelegramChannel, WebhookConfig, make_bot
from bot.cli.parser import UsageError
from bot.config import load_settings
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
            documents = settings.documents_dir
            return await chat(app.service, args.user, app.attachments, sys.stdin, sys.stdout, documents)
        finally:
            await app.close()

    return asyncio.run(main())


def run_telegram(args: argparse.Namespace) -> int:
    settings = load_settings()
    # no personal data in the log: exceptions by type, ids not text (bot/logs.py)
    logs.configure(logging.INFO, "%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not settings.telegram_token:
        raise UsageError(t("cli.error.no_token", args.lang))
    webhook_url = args.webhook_url or settings.telegram_webhook_url
    webhook = (
        WebhookConfig.make(
            webhook_url, args.listen or settings.telegram_webhook_listen, settings.telegram_webhook_secret
        )
        if webhook_url
        else None
    )

    async def main() -> int:
        app = await open_app(settings, render_processes=settings.render_processes)
        bot = make_bot(settings.telegram_token, settings.telegram_api_url)
        channel = TelegramChannel(
            app.service,
            app.db,
            bot,
            app.attachments,
            per_second=settings.telegram_messages_per_second,
            chat_interval=settings.telegram_chat_interval,
            max_in_flight=settings.telegram_max_in_flight,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            await channel.run(stop, webhook)
        except InvalidToken as error:  # at start (getMe); PTB's own message would print the token
            raise UsageError(t("cli.error.bad_token", args.lang)) from error
        except NetworkError as error:  # at start: once running, polling and sending retry by themselves
            url = settings.telegram_api_url or DEFAULT_API
            raise UsageError(t("cli.error.no_api", args.lang, url=url, error=error.message)) from error
        finally:
            await app.close()
        return 0

    return asyncio.run(main())


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

    p = sub.add_parser("run", help="the Telegram bot (long polling, or a webhook with --webhook-url)")
    p.add_argument("--webhook-url", help="public HTTPS URL Telegram posts updates to")
    p.add_argument("--listen", help="host:port of the webhook server (default 127.0.0.1:8080)")
    p.set_defaults(func=run_telegram)

    p = sub.add_parser("db", help="database maintenance")
    p.add_argument("action", choices=["upgrade"])
    p.set_defaults(func=run_db)
