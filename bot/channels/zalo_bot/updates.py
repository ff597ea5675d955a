"""Zalo Bot updates as the inbox keeps them: keyed on the message id (the platform's opaque string), the
user they are from (``zalo:<from.id>``), or set aside with the reason. A webhook body may be the update
itself or wrapped in the envelope (``{"ok": true, "result": {...}}``): both are kept flat."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from bot.channels.zalo_bot_api import UpdateFormatError, parse_update
from bot.pipeline.adapter import Incoming
from bot.store import users as users_store

CHANNEL = "zalo"  # the users' channel: their user key is zalo:<from.id>
SOURCE = "zalo_bot"  # the inbox's source (the OA's updates will have their own)
MAX_UPDATE_BYTES = 64 * 1024  # an update bigger than this is not one the platform sends: set aside


def unwrap(body: Mapping[str, Any]) -> dict[str, Any]:
    """The update itself, whether it came flat or wrapped in the envelope."""
    result = body.get("result")
    if "message" not in body and isinstance(result, Mapping):
        return dict(result)
    return dict(body)


def inspect_update(body: Mapping[str, Any]) -> Incoming:
    """Key an update for the inbox (never raises). The key is ``m:<message_id>``: never all digits, so the
    inbox keeps the order they arrived in (Zalo's ids are not a sequence)."""
    update = unwrap(body)
    size = len(json.dumps(update, default=str))
    try:
        parsed = parse_update(update)
    except UpdateFormatError as error:
        digest = hashlib.sha256(json.dumps(update, sort_keys=True, default=str).encode()).hexdigest()
        return Incoming(f"odd:{digest[:40]}", None, f"not a message update ({error})", {"odd": True})
    key = f"m:{parsed.message_id}"
    user_key = users_store.user_key(CHANNEL, parsed.sender_id)
    if size > MAX_UPDATE_BYTES:
        return Incoming(key, user_key, f"oversized update ({size} bytes)", {"oversized": size})
    return Incoming(key, user_key, None, update)
