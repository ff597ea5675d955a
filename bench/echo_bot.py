"""A bare python-telegram-bot echo bot: the baseline of bench/telegram.py (run as its own process).

PTB as it comes (its default networking, httpx); with ``BENCH_ECHO_BACKEND=aiohttp`` on the aiohttp
backend smebot itself uses, set up as smebot sets it up, for the stricter comparison.
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.channels.telegram import make_requests


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None and update.effective_message.text:
        await update.effective_message.reply_text(update.effective_message.text)


def main() -> None:
    base = os.environ["SMEBOT_TELEGRAM_API_URL"].rstrip("/").removesuffix("/bot")
    builder = Application.builder().token(os.environ["SMEBOT_TELEGRAM_TOKEN"]).base_url(f"{base}/bot")
    if os.environ.get("BENCH_ECHO_BACKEND") == "aiohttp":
        calls, updates = make_requests()
        builder = builder.request(calls).get_updates_request(updates)
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(poll_interval=0.0, timeout=10, close_loop=False)


if __name__ == "__main__":
    main()
