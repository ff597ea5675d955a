"""Webhook events as the bot keeps them: :func:`parse_event` turns a (verified) body into an
:class:`OAEvent`, keyed for the inbox on ``message.msg_id`` (or event + user + timestamp where there is
none: follow, unfollow, a shared form), so a redelivery has the same key. Ids are strings longer than 2^53
and are never read as numbers: the body is parsed with numbers kept as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.channels.zalo_oa.signature import load_body

# what a user does that the bot acts on; the OA's own messages and the receipts are not for it
USER_EVENTS = frozenset(
    {"user_send_text", "user_send_image", "user_send_file", "follow", "unfollow", "user_submit_info"}
)


@dataclass(frozen=True, slots=True)
class OAAttachment:
    kind: str  # image, file, sticker, gif, audio, video, location, ...
    url: str | None = None
    name: str | None = None
    size: str | None = None
    thumbnail: str | None = None


@dataclass(frozen=True, slots=True)
class OAEvent:
    """One webhook event. ``key`` identifies it for the inbox (a redelivery has the same key)."""

    key: str
    event: str
    user_id: str  # the user's id for this OA (sender, or follower for follow/unfollow)
    app_id: str
    oa_id: str
    timestamp_ms: str
    msg_id: str | None = None
    text: str | None = None
    attachments: tuple[OAAttachment, ...] = ()
    info: Mapping[str, str] = field(default_factory=dict)  # user_submit_info: name, phone, address...


def _opt(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _who(node: object) -> str | None:
    return _opt(node.get("id")) if isinstance(node, Mapping) else None


_RECEIPTS = frozenset({"user_received_message", "user_seen_message"})


def parse_event(raw_body: bytes) -> OAEvent:
    """The event in a (verified) webhook body. ValueError when it has no event name, user or timestamp."""
    data = load_body(raw_body)
    if data is None:
        raise ValueError("not a JSON object")
    return event_from(data)


def event_from(data: Mapping[str, Any]) -> OAEvent:
    """The event in a body already parsed (with numbers kept as text), e.g. as the inbox keeps it."""
    event = _opt(data.get("event_name"))
    timestamp = _opt(data.get("timestamp"))
    # the OA's own messages and their receipts come from the OA, to the user
    from_oa = event is not None and (event.startswith("oa_send_") or event in _RECEIPTS)
    user = _who(data.get("follower")) if event in ("follow", "unfollow") else None
    user = user or _who(data.get("recipient" if from_oa else "sender")) or _opt(data.get("user_id_by_app"))
    if event is None or timestamp is None or user is None:
        raise ValueError("an OA event has event_name, a user and a timestamp")
    message = data.get("message") if isinstance(data.get("message"), Mapping) else {}
    assert isinstance(message, Mapping)
    attachments: list[OAAttachment] = []
    for item in message.get("attachments") or ():
        if isinstance(item, Mapping):
            payload = item.get("payload") if isinstance(item.get("payload"), Mapping) else {}
            assert isinstance(payload, Mapping)
            attachments.append(
                OAAttachment(
                    kind=_opt(item.get("type")) or "unknown",
                    url=_opt(payload.get("url")),
                    name=_opt(payload.get("name")),
                    size=_opt(payload.get("size")),
                    thumbnail=_opt(payload.get("thumbnail")),
                )
            )
    info_node = data.get("info")
    info = {str(k): str(v) for k, v in info_node.items()} if isinstance(info_node, Mapping) else {}
    msg_id = _opt(message.get("msg_id"))
    oa_id = _opt(data.get("oa_id")) or _who(data.get("sender" if from_oa else "recipient"))
    return OAEvent(
        key=msg_id or f"{event}:{user}:{timestamp}",
        event=event,
        user_id=user,
        app_id=_opt(data.get("app_id")) or "",
        oa_id=oa_id or "",
        timestamp_ms=timestamp,
        msg_id=msg_id,
        text=_opt(message.get("text")),
        attachments=tuple(attachments),
        info=info,
    )
