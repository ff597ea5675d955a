"""Telegram: the adapter (updates in, replies out, menus) and the channel that runs it in the pipeline."""

from bot.channels.telegram.adapter import TelegramAdapter
from bot.channels.telegram.api import (
    ALLOWED_UPDATES,
    CALLBACK_LIMIT,
    DEFAULT_API,
    SECRET_HEADER,
    TEXT_LIMIT,
    api_urls,
    make_bot,
    make_requests,
    retry_seconds,
)
from bot.channels.telegram.channel import TelegramChannel, WebhookConfig
from bot.channels.telegram.send import TelegramTransport, keyboard, message_text
from bot.channels.telegram.updates import inspect_update, next_offset, sender_of

__all__ = [
    "ALLOWED_UPDATES",
    "CALLBACK_LIMIT",
    "DEFAULT_API",
    "SECRET_HEADER",
    "TEXT_LIMIT",
    "TelegramAdapter",
    "TelegramChannel",
    "TelegramTransport",
    "WebhookConfig",
    "api_urls",
    "inspect_update",
    "keyboard",
    "make_bot",
    "make_requests",
    "message_text",
    "next_offset",
    "retry_seconds",
    "sender_of",
]
