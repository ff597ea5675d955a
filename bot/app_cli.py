"""``smebot chat`` (the terminal chat, the main job) and ``smebot db upgrade``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any

from bot.app import open_app
from bot.channels.console import chat
from bot.config import load_settings


def run_chat(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if args.db:
        overrides["database_url"] = f"sqlite+aiosqlite:///{args.db}"
    settings = load_settings(**overrides)
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )

    async def main() -> int:
        app = await open_app(settings)
        try:
            documents = settings.documents_dir
            return await chat(app.service, args.user, app.attachments, sys.stdin, sys.stdout, documents)
        finally:
            await app.close()

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

    p = sub.add_parser("db", help="database maintenance")
    p.add_argument("action", choices=["upgrade"])
    p.set_defaults(func=run_db)
