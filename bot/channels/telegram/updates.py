"""Telegram updates as the inbox keeps them: keyed on their update_id, the user they are from, or set
aside with the reason; and the getUpdates offset that confirms a batch."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

from bot.channels.telegram.api import ALLOWED_UPDATES, CHANNEL, MAX_UPDATE_BYTES, integer
from bot.pipeline.adapter import Incoming
from bot.store import users as users_store


def sender_of(update: Mapping[str, Any]) -> str | None:
    """The id of the user an update is from, if it has a proper one."""
    for kind in ("message", "edited_message", "callback_query"):
        part = update.get(kind)
        if isinstance(part, dict) and isinstance(part.get("from"), dict):
            sender = part["from"].get("id")
            return str(sender) if integer(sender) else None
    return None


def inspect_update(update: Mapping[str, Any], size: int | None = None) -> Incoming:
    """Decide whether an update can be handled; if not, why (it is then stored set aside, never handled).

    An ``update_id`` that is not an integer (a float, a boolean) keys the update by a digest of its content,
    so a copy of it is still recognised. ``size`` is its length in bytes when known (the webhook's body).
    """
    raw_id = update.get("update_id")
    error: str | None = None
    if integer(raw_id):
        key = str(raw_id)
    else:
        digest = hashlib.sha256(json.dumps(update, sort_keys=True, default=str).encode()).hexdigest()
        key = f"odd:{digest[:40]}"
        error = f"update_id is not an integer ({type(raw_id).__name__})"
    kinds = [k for k in update if k != "update_id"]
    kind = kinds[0] if len(kinds) == 1 else None
    sender = sender_of(update)
    user_key = users_store.user_key(CHANNEL, sender) if sender else None
    payload = dict(update)
    if error is None and kind not in ALLOWED_UPDATES:
        error = f"unhandled update type {kind or '+'.join(kinds) or 'none'}"
    if error is None and sender is None:
        error = f"{kind} without a sender id"
    size = size if size is not None else len(json.dumps(update, default=str))
    if size > MAX_UPDATE_BYTES:
        error = f"oversized update ({size} bytes)"
        payload = {"update_id": raw_id if integer(raw_id) else str(raw_id), "oversized": size}
    return Incoming(key, user_key, error, payload)


def next_offset(updates: list[dict[str, Any]], offset: int | None) -> int | None:
    """The getUpdates offset that confirms ``updates``: past the highest usable id among them (a float id
    counts by its integer part; a boolean or missing one cannot confirm anything)."""
    ids = [
        int(u["update_id"])
        for u in updates
        if integer(u.get("update_id"))
        or (isinstance(u.get("update_id"), float) and math.isfinite(u["update_id"]))
    ]
    if not ids:
        return offset
    return max(max(ids) + 1, offset or 0)
