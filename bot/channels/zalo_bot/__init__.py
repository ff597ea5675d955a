"""The Zalo Bot (token-based Bot API): the adapter (updates in, text replies out) and the channel that runs
it in the pipeline, by long polling or on the shared webhook server."""

from bot.channels.zalo_bot.adapter import ZaloBotAdapter
from bot.channels.zalo_bot.channel import ZaloBotChannel, ZaloWebhook
from bot.channels.zalo_bot.send import ZaloBotTransport, reply_text
from bot.channels.zalo_bot.updates import CHANNEL, SOURCE, inspect_update, unwrap

__all__ = [
    "CHANNEL",
    "SOURCE",
    "ZaloBotAdapter",
    "ZaloBotChannel",
    "ZaloBotTransport",
    "ZaloWebhook",
    "inspect_update",
    "reply_text",
    "unwrap",
]
