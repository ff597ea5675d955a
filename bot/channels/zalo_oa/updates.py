"""OA webhook events as the inbox keeps them: keyed on ``message.msg_id`` (or event + user + timestamp for
follow, unfollow and a shared form), from the user ``zalo_oa:<id>`` (the OA-scoped id, text: never a
number), or set aside with the reason (the OA's own messages and receipts, a body that is no event)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from bot.channels.zalo_oa.events import USER_EVENTS, event_from
from bot.pipeline.adapter import Incoming
from bot.store import users as users_store

CHANNEL = "zalo_oa"  # the users' channel: their user key is zalo_oa:<the user's id for this OA>
SOURCE = "zalo_oa"  # the inbox's source
MAX_EVENT_BYTES = 64 * 1024  # an event bigger than this is not one the platform sends: set aside
PRESS = "#smebot:"  # a button's payload starts with it: a press, not something typed


def inspect_event(body: Mapping[str, Any]) -> Incoming:
    """Key an event for the inbox (never raises). The key is ``e:<msg_id>`` or ``e:<event>:<user>:<ms>``:
    never all digits, so the inbox keeps the order they arrived in."""
    size = len(json.dumps(body, default=str))
    try:
        event = event_from(body)
    except ValueError as error:
        digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
        return Incoming(f"odd:{digest[:40]}", None, f"not a user event ({error})", {"odd": True})
    key = f"e:{event.key}"
    if event.event not in USER_EVENTS:
        return Incoming(key, None, f"not a user event ({event.event})", {"event": event.event})
    user_key = users_store.user_key(CHANNEL, event.user_id)
    if size > MAX_EVENT_BYTES:
        return Incoming(key, user_key, f"oversized event ({size} bytes)", {"oversized": size})
    return Incoming(key, user_key, None, dict(body))
