"""A thin async client of the Zalo Bot API (bot.zaloplatforms.com), on aiohttp.

The API is shaped like Telegram's: ``{base}/bot{TOKEN}/{method}``, JSON bodies, and the envelope
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, "description": ...}``. Differences that
matter here:

- ``getUpdates`` takes only ``timeout`` (no offset) and answers **one** update per call; when there is
  nothing to deliver it answers ``error_code`` 408, which is not an error (:meth:`ZaloBotClient.get_updates`
  returns ``None``). Whether the HTTP status is 200 or 408 then is not documented: both are read.
- A webhook (``setWebhook`` with ``url`` and a ``secret_token`` of 8-256 characters) carries the secret in
  ``X-Bot-Api-Secret-Token``; :func:`webhook_secret_matches` compares it in constant time. Its body may be
  the update itself or wrapped in the envelope: :func:`parse_update` takes both.
- Ids (user, chat, message) are opaque strings and are kept as such.
- No buttons, no documents: text (``sendMessage``, at most 2,000 characters, so long replies are split at
  line breaks), photos by URL (``sendPhoto``) and ``sendChatAction``.

Errors are typed by what the caller should do: :class:`PermanentError` (the request as it is will never
succeed), :class:`TransientError` (try again later: 5xx, network, time-out) and its subclass
:class:`RateLimited` (429, with the delay to wait). The token is never put in an exception or a log line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.channels.zalo_common import MAX_TEXT_LENGTH, SessionOwner, constant_time_equals
from bot.pipeline.delivery import split_text

__all__ = [
    "ALTERNATE_BASE_URL",
    "DEFAULT_BASE_URL",
    "DEFAULT_RATE_LIMIT_DELAY",
    "EVENT_IMAGE",
    "EVENT_STICKER",
    "EVENT_TEXT",
    "EVENT_UNSUPPORTED",
    "MAX_TEXT_LENGTH",
    "NOTHING_TO_DELIVER",
    "SECRET_HEADER",
    "PermanentError",
    "RateLimited",
    "TransientError",
    "UpdateFormatError",
    "ZaloBotClient",
    "ZaloBotError",
    "ZaloBotUpdate",
    "check_secret_token",
    "parse_update",
    "webhook_secret_matches",
]

# The two hosts the platform documents; which one a bot uses is a setting (the newer first).
DEFAULT_BASE_URL = "https://bot-api.zaloplatforms.com"
ALTERNATE_BASE_URL = "https://bot-api.zapps.me"

SECRET_HEADER = "X-Bot-Api-Secret-Token"
SECRET_MIN_LENGTH = 8
SECRET_MAX_LENGTH = 256
NOTHING_TO_DELIVER = 408
# Unconfirmed: the platform documents no retry_after for its 429; this is waited when none is given.
DEFAULT_RATE_LIMIT_DELAY = 1.0
DEFAULT_POLL_TIMEOUT = 30

EVENT_TEXT = "message.text.received"
EVENT_IMAGE = "message.image.received"
EVENT_STICKER = "message.sticker.received"
EVENT_UNSUPPORTED = "message.unsupported.received"
KNOWN_EVENTS = frozenset({EVENT_TEXT, EVENT_IMAGE, EVENT_STICKER, EVENT_UNSUPPORTED})


class ZaloBotError(Exception):
    """The Bot API refused a call, or it could not be made."""

    def __init__(self, method: str, error_code: int | None, description: str) -> None:
        super().__init__(
            f"{method}: {error_code} {description}" if error_code else f"{method}: {description}"
        )
        self.method = method
        self.error_code = error_code
        self.description = description


class PermanentError(ZaloBotError):
    """The request as it is will not succeed (bad parameters, unknown chat, invalid token): do not resend."""


class TransientError(ZaloBotError):
    """The platform or the network failed (5xx, connection, time-out): the same call may succeed later."""


class RateLimited(TransientError):
    """429: wait ``retry_after`` seconds before the next call."""

    def __init__(self, method: str, description: str, retry_after: float) -> None:
        super().__init__(method, 429, description)
        self.retry_after = retry_after


class UpdateFormatError(ValueError):
    """An update without the fields every message has (``message.from.id``, ``chat.id``, ``message_id``)."""

    def __init__(self, reason: str, raw: object) -> None:
        super().__init__(reason)
        self.raw = raw


@dataclass(frozen=True, slots=True)
class ZaloBotUpdate:
    """One incoming message. Ids are the platform's strings, unchanged."""

    event: str
    message_id: str
    chat_id: str
    chat_type: str
    sender_id: str
    sender_name: str
    date_ms: int
    text: str | None = None
    photo_url: str | None = None
    caption: str | None = None
    sticker: str | None = None

    @property
    def is_group(self) -> bool:
        return self.chat_type.upper() == "GROUP"

    @property
    def kind(self) -> str:
        """``text``, ``image``, ``sticker`` or ``unsupported`` (an event this client does not know counts as
        unsupported)."""
        return {EVENT_TEXT: "text", EVENT_IMAGE: "image", EVENT_STICKER: "sticker"}.get(
            self.event, "unsupported"
        )


def check_secret_token(secret: str) -> str:
    """``secret`` if the platform accepts it as a webhook secret (8-256 characters), else ValueError."""
    if not SECRET_MIN_LENGTH <= len(secret) <= SECRET_MAX_LENGTH:
        raise ValueError(f"a webhook secret has {SECRET_MIN_LENGTH}-{SECRET_MAX_LENGTH} characters")
    return secret


def webhook_secret_matches(expected: str, received: str | None) -> bool:
    """Whether a webhook request's ``X-Bot-Api-Secret-Token`` is the one given to ``setWebhook``
    (constant-time; answer 403 when it is not)."""
    return constant_time_equals(expected, received)


def _id(value: object, name: str, raw: object) -> str:
    # ids are strings; a number (never expected) is kept digit for digit, a float or bool is refused
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise UpdateFormatError(f"{name} is missing or not an id", raw)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def parse_update(body: Mapping[str, Any] | bytes | str) -> ZaloBotUpdate:
    """The update in a ``getUpdates`` result or a webhook body, wrapped (``{"ok": true, "result": {...}}``)
    or flat. Raises :class:`UpdateFormatError` when it is not a message update."""
    raw: object = body
    if isinstance(body, bytes | str):
        try:
            raw = json.loads(body, parse_int=str, parse_float=str)
        except ValueError as exc:
            raise UpdateFormatError("not JSON", body) from exc
    if not isinstance(raw, Mapping):
        raise UpdateFormatError("not a JSON object", raw)
    update: Mapping[str, Any] = raw
    if "result" in update and isinstance(update.get("result"), Mapping):
        update = update["result"]
    message = update.get("message")
    if not isinstance(message, Mapping):
        raise UpdateFormatError("no message", raw)
    sender = message.get("from")
    chat = message.get("chat")
    if not isinstance(sender, Mapping) or not isinstance(chat, Mapping):
        raise UpdateFormatError("no from or chat", raw)
    event = update.get("event_name")
    if not isinstance(event, str) or not event:
        # the getUpdates sample in the platform's documents has no event_name: infer it from the content
        event = (
            EVENT_IMAGE if message.get("photo") else EVENT_STICKER if message.get("sticker") else EVENT_TEXT
        )
        if message.get("text") is None and event == EVENT_TEXT:
            event = EVENT_UNSUPPORTED
    name = sender.get("display_name") or sender.get("name") or sender.get("first_name") or ""
    date = message.get("date")
    try:
        date_ms = int(date) if isinstance(date, int | str) and not isinstance(date, bool) else 0
    except ValueError:
        date_ms = 0
    chat_type = chat.get("chat_type")
    return ZaloBotUpdate(
        event=event,
        message_id=_id(message.get("message_id"), "message.message_id", raw),
        chat_id=_id(chat.get("id"), "message.chat.id", raw),
        chat_type=chat_type if isinstance(chat_type, str) and chat_type else "PRIVATE",
        sender_id=_id(sender.get("id"), "message.from.id", raw),
        sender_name=name if isinstance(name, str) else "",
        date_ms=date_ms,
        text=_text(message.get("text")),
        photo_url=_text(message.get("photo")) or _text(message.get("photo_url")),
        caption=_text(message.get("caption")),
        sticker=_text(message.get("sticker")),
    )


class ZaloBotClient(SessionOwner):
    """One bot's calls. Use as ``async with ZaloBotClient(token, base_url=...) as bot:``; a session given
    by the caller is used and left open."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        session: aiohttp.ClientSession | None = None,
        request_timeout: float = 10.0,
        poll_slack: float = 5.0,
        rate_limit_delay: float = DEFAULT_RATE_LIMIT_DELAY,
        max_text_length: int = MAX_TEXT_LENGTH,
    ) -> None:
        if not token or "/" in token:
            raise ValueError("a Zalo bot token is the text the Bot Creator gave, without '/'")
        self._token = token
        self.base_url = base_url.rstrip("/")
        super().__init__(session)
        self.request_timeout = request_timeout
        self.poll_slack = poll_slack
        self.rate_limit_delay = rate_limit_delay
        self.max_text_length = max_text_length

    async def call(
        self, method: str, params: Mapping[str, Any] | None = None, *, timeout: float | None = None
    ) -> Any:
        """POST ``method`` with a JSON body and return its ``result`` (typed errors otherwise)."""
        url = f"{self.base_url}/bot{self._token}/{method}"
        limit = aiohttp.ClientTimeout(total=timeout if timeout is not None else self.request_timeout)
        try:
            async with self._client().post(url, json=dict(params or {}), timeout=limit) as response:
                status = response.status
                body = await response.read()
        except TimeoutError as exc:
            raise TransientError(method, None, "timed out") from exc
        except aiohttp.ClientError as exc:
            raise TransientError(method, None, f"network error: {type(exc).__name__}") from exc
        try:
            envelope = json.loads(body, parse_int=str, parse_float=str) if body else None
        except ValueError:
            envelope = None
        if not isinstance(envelope, dict) or "ok" not in envelope:
            if status >= 500 or status == 429:
                raise TransientError(method, status, f"HTTP {status} without an envelope")
            raise PermanentError(method, status, f"HTTP {status}: not a Bot API answer")
        if envelope["ok"] is True:
            return envelope.get("result")
        code = _as_int(envelope.get("error_code"), status if status >= 400 else 400)
        description = str(envelope.get("description") or "")
        if code == 429 or status == 429:
            parameters = envelope.get("parameters")
            retry = parameters.get("retry_after") if isinstance(parameters, dict) else None
            delay = _as_float(retry, self.rate_limit_delay)
            raise RateLimited(method, description, delay)
        if code >= 500 or code == NOTHING_TO_DELIVER:
            raise TransientError(method, code, description)
        raise PermanentError(method, code, description)

    # -- receiving ----------------------------------------------------------------------------------------

    async def get_updates(self, timeout: int = DEFAULT_POLL_TIMEOUT) -> ZaloBotUpdate | None:
        """Wait up to ``timeout`` seconds for the next update; ``None`` when there was none (408).

        A malformed update raises :class:`UpdateFormatError` (it has been taken off the platform's queue:
        log it and poll again)."""
        try:
            result = await self.call(
                "getUpdates", {"timeout": str(timeout)}, timeout=timeout + self.poll_slack
            )
        except TransientError as exc:
            if exc.error_code == NOTHING_TO_DELIVER:
                return None
            raise
        if result is None or result == {}:
            return None
        return parse_update({"result": result} if isinstance(result, Mapping) else result)

    async def set_webhook(self, url: str, secret_token: str) -> Any:
        return await self.call("setWebhook", {"url": url, "secret_token": check_secret_token(secret_token)})

    async def delete_webhook(self) -> Any:
        return await self.call("deleteWebhook")

    async def get_webhook_info(self) -> Any:
        return await self.call("getWebhookInfo")

    async def get_me(self) -> Any:
        return await self.call("getMe")

    # -- sending ------------------------------------------------------------------------------------------

    async def send_message(self, chat_id: str, text: str) -> list[str]:
        """Send ``text``, split at line breaks into parts the platform accepts; the parts' message ids.

        A failure on a later part raises after the earlier ones were sent (the caller records what went)."""
        ids: list[str] = []
        for part in split_text(text, self.max_text_length):
            result = await self.call("sendMessage", {"chat_id": chat_id, "text": part})
            ids.append(_message_id(result))
        return ids

    async def send_photo(self, chat_id: str, photo_url: str, caption: str | None = None) -> str:
        params: dict[str, Any] = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            if len(caption) > self.max_text_length:
                raise ValueError(f"a caption has at most {self.max_text_length} characters")
            params["caption"] = caption
        return _message_id(await self.call("sendPhoto", params))

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        await self.call("sendChatAction", {"chat_id": chat_id, "action": action})


def _message_id(result: object) -> str:
    if isinstance(result, Mapping):
        value = result.get("message_id")
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
    return ""


def _as_int(value: object, default: int) -> int:
    try:
        return int(value) if isinstance(value, int | str) and not isinstance(value, bool) else default
    except ValueError:
        return default


def _as_float(value: object, default: float) -> float:
    try:
        return (
            float(value) if isinstance(value, int | float | str) and not isinstance(value, bool) else default
        )
    except ValueError:
        return default
