"""Telegram's Bot API through python-telegram-bot on aiohttp: the constants, the Bot, and the API's errors
as the pipeline's kinds of failure."""

from __future__ import annotations

import datetime as dt
import os
import warnings

os.environ.setdefault("PTB_TIMEDELTA", "1")  # PTB 22: durations as timedelta, the future default
from telegram import Bot
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

from bot.channels.aiohttp_request import AiohttpRequest
from bot.pipeline.delivery import Blocked, Flood, Refused, Transient

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
    "subscribe",
    "topics",
    "unsubscribe",
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


def integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def describe(error: BaseException) -> str:
    """An error as the log shows it: its kind and the platform's words, without the token."""
    name = type(error).__name__
    text = error.message if isinstance(error, TelegramError) else str(error)
    return f"{name}: {text}"[:300] if text else name


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
