"""A thin async client of the Zalo Official Account Open API (v3), on aiohttp.

Sending is the customer-service message (``POST /v3.0/oa/message/cs``, header ``access_token``): text of at
most 2,000 characters (longer replies are split at line breaks), choices as template buttons
(``oa.query.hide``: a press comes back as a ``user_send_text`` event carrying the button's payload; more
buttons than the platform takes become a numbered list answered by typing), a file by upload then a file
message, an image by a media template. The platform answers HTTP 200 with ``{"error": N, "message": ...}``:

- -216 / -220 (access token invalid / expired): the token is refreshed and the call made once more;
  refused again it raises :class:`TokenRefreshNeeded`;
- -230 / -232 (no interaction within the window): :class:`WindowClosed`, only an approved template may go
  (the officer is told);
- -32 (rate limit, 4,000 requests a minute per app): :class:`RateLimited`, back off.

Tokens (:class:`TokenManager`): an access token lives 25 h, a refresh token 3 months and is **single-use**.
The manager refreshes ahead of expiry, one refresh at a time (an :class:`asyncio.Lock` in the process and
the store's exclusive lock across processes), persists the new pair before using it, and raises
:class:`RefreshTokenLost` (an alert for the admins: re-authorise the OA) when the refresh token is missing,
expired or refused, never anything that stops the bot.

Webhook: :func:`verify_signature` checks ``X-ZEvent-Signature: mac=<hex>``, hex = SHA-256 of ``app_id + raw
body + timestamp + secret`` with the body's own ``timestamp`` (constant-time), and :func:`parse_event`
turns the body into an :class:`OAEvent` keyed on ``message.msg_id`` (or event + user + timestamp). Ids are
strings longer than 2^53 and are never read as numbers. :func:`window_at` is the interaction-window rule.

Facts the public documents leave uncertain are module constants (and parameters): the button limit and
title length, the back-off after -32, which secret signs the webhook, the upload paths and limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import aiohttp

from bot.channels.zalo_common import MAX_TEXT_LENGTH, SessionOwner, constant_time_equals
from bot.pipeline.delivery import split_text
from locales import t

__all__ = [
    "ALLOWED_WINDOW",
    "FREE_WINDOW",
    "MAX_BUTTONS",
    "SIGNATURE_HEADER",
    "Button",
    "JsonFileTokenStore",
    "MemoryTokenStore",
    "OAAttachment",
    "OAEvent",
    "PermanentError",
    "RateLimited",
    "RefreshTokenLost",
    "TokenManager",
    "TokenPair",
    "TokenRefreshNeeded",
    "TokenStore",
    "TransientError",
    "Window",
    "WindowClosed",
    "ZaloOAClient",
    "ZaloOAError",
    "parse_event",
    "signature",
    "verify_signature",
    "window_at",
]

OPENAPI_BASE_URL = "https://openapi.zalo.me"
OAUTH_BASE_URL = "https://oauth.zaloapp.com"
SEND_PATH = "/v3.0/oa/message/cs"
# Unconfirmed for v3: the upload endpoints integrations use are still the v2.0 ones.
UPLOAD_FILE_PATH = "/v2.0/oa/upload/file"
UPLOAD_IMAGE_PATH = "/v2.0/oa/upload/image"
TOKEN_PATH = "/v4/oa/access_token"
SIGNATURE_HEADER = "X-ZEvent-Signature"

ERR_TOKEN_INVALID = -216
ERR_TOKEN_EXPIRED = -220
TOKEN_ERRORS = frozenset({ERR_TOKEN_INVALID, ERR_TOKEN_EXPIRED})
ERR_OUTSIDE_WINDOW = -230
ERR_NO_INTERACTION = -232
WINDOW_ERRORS = frozenset({ERR_OUTSIDE_WINDOW, ERR_NO_INTERACTION})
ERR_RATE_LIMIT = -32
RATE_LIMIT_PER_MINUTE = 4000
# Unconfirmed: -32 says nothing of when to come back; the quota is per minute, so a minute by default.
RATE_LIMIT_BACKOFF = 60.0

# Unconfirmed: the documents and integrations disagree on the number of buttons a message may carry and on
# the length of a title; smaller is safe (an over-long list becomes a numbered one).
MAX_BUTTONS = 5
MAX_BUTTON_TITLE = 100
BUTTON_TYPE = "oa.query.hide"

ACCESS_TOKEN_TTL = timedelta(hours=25)
REFRESH_TOKEN_TTL = timedelta(days=90)
REFRESH_AHEAD = timedelta(hours=1)
FREE_WINDOW = timedelta(hours=48)
ALLOWED_WINDOW = timedelta(days=7)


# -- errors ----------------------------------------------------------------------------------------------


class ZaloOAError(Exception):
    """The OA API refused a call, or it could not be made."""

    def __init__(self, what: str, code: int | None, message: str) -> None:
        super().__init__(f"{what}: {code} {message}" if code is not None else f"{what}: {message}")
        self.what = what
        self.code = code
        self.message = message


class PermanentError(ZaloOAError):
    """The request as it is will not succeed: do not resend it."""


class TransientError(ZaloOAError):
    """The platform or the network failed: the same call may succeed later."""


class RateLimited(TransientError):
    """-32: the app's quota is spent; wait ``retry_after`` seconds."""

    def __init__(self, what: str, message: str, retry_after: float) -> None:
        super().__init__(what, ERR_RATE_LIMIT, message)
        self.retry_after = retry_after


class TokenRefreshNeeded(ZaloOAError):
    """-216 / -220: the access token is invalid or expired (raised when a fresh one was refused too)."""


class WindowClosed(ZaloOAError):
    """-230 / -232: the recipient has not interacted within the window; only an approved template may go."""


class RefreshTokenLost(ZaloOAError):
    """No usable refresh token (missing, expired or refused): an admin must authorise the OA again.
    An alert for the admins, not a crash: the OA channel waits until then."""


# -- the interaction window --------------------------------------------------------------------------------


class Window(StrEnum):
    FREE = "free"  # within 48 h of the user's last interaction: customer-service messages, free
    ALLOWED = "allowed"  # up to 7 days: still allowed (charged)
    TEMPLATE_ONLY = "template_only"  # beyond, or no interaction at all: approved templates only


def window_at(
    last_interaction: datetime | None,
    now: datetime,
    *,
    free: timedelta = FREE_WINDOW,
    allowed: timedelta = ALLOWED_WINDOW,
) -> Window:
    """Which messages may go to a user whose last interaction with the OA was ``last_interaction``."""
    if last_interaction is None:
        return Window.TEMPLATE_ONLY
    elapsed = now - last_interaction
    if elapsed <= free:
        return Window.FREE
    if elapsed <= allowed:
        return Window.ALLOWED
    return Window.TEMPLATE_ONLY


# -- tokens ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    access_expires_at: float  # epoch seconds
    refresh_expires_at: float

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TokenPair:
        data = json.loads(text)
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=str(data["refresh_token"]),
            access_expires_at=float(data["access_expires_at"]),
            refresh_expires_at=float(data["refresh_expires_at"]),
        )


class TokenStore(Protocol):
    """Where the current pair lives. ``exclusive()`` is held around a refresh: it must exclude every other
    process refreshing with the same store (a file lock, a database row lock...)."""

    async def load(self) -> TokenPair | None: ...

    async def save(self, pair: TokenPair) -> None: ...

    def exclusive(self) -> contextlib.AbstractAsyncContextManager[None]: ...


class MemoryTokenStore:
    """The pair in memory: one process only (tests, a single-process run)."""

    def __init__(self, pair: TokenPair | None = None) -> None:
        self._pair = pair
        self._lock = asyncio.Lock()
        self.saves = 0

    async def load(self) -> TokenPair | None:
        return self._pair

    async def save(self, pair: TokenPair) -> None:
        self._pair = pair
        self.saves += 1

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        async with self._lock:
            yield


class JsonFileTokenStore:
    """The pair in a JSON file, written atomically (a temporary file, fsync, rename), and refreshes
    serialised across processes by ``flock`` on ``<file>.lock``."""

    def __init__(self, path: Path | str, *, lock_poll: float = 0.02) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.lock_poll = lock_poll

    async def load(self) -> TokenPair | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return TokenPair.from_json(text)
        except (ValueError, KeyError, TypeError):
            return None

    async def save(self, pair: TokenPair) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, pair.to_json().encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:  # non-blocking attempts: waiting never blocks the event loop and can be cancelled
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(self.lock_poll)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


class TokenManager(SessionOwner):
    """The OA's current access token, refreshed ahead of expiry, one refresh at a time."""

    def __init__(
        self,
        store: TokenStore,
        *,
        app_id: str,
        app_secret: str,
        oauth_base_url: str = OAUTH_BASE_URL,
        session: aiohttp.ClientSession | None = None,
        refresh_ahead: timedelta = REFRESH_AHEAD,
        clock: Callable[[], float] = time.time,
        request_timeout: float = 10.0,
    ) -> None:
        self.store = store
        self.app_id = app_id
        self._app_secret = app_secret
        self.oauth_base_url = oauth_base_url.rstrip("/")
        super().__init__(session)
        self.refresh_ahead = refresh_ahead.total_seconds()
        self.clock = clock
        self.request_timeout = request_timeout
        self._pair: TokenPair | None = None
        self._lock = asyncio.Lock()
        self._refused: str | None = None  # a refresh token the endpoint refused: not offered again
        self.refreshes = 0  # refreshes this manager made (the others found one made already)

    def _due(self, pair: TokenPair) -> bool:
        return pair.access_expires_at - self.refresh_ahead <= self.clock()

    async def access_token(self) -> str:
        """A token to call the API with: the current one, or a new one when it expires within
        ``refresh_ahead``."""
        pair = self._pair or await self.store.load()
        if pair is None:
            raise RefreshTokenLost("token", None, "no token pair stored: authorise the OA")
        self._pair = pair
        if self._due(pair):
            pair = await self.refresh(stale=pair.access_token)
        return pair.access_token

    async def refresh(self, stale: str | None = None) -> TokenPair:
        """Exchange the refresh token for a new pair, unless the stored access token is already another
        than ``stale`` and not due (another task or process refreshed meanwhile)."""
        async with self._lock, self.store.exclusive():
            pair = await self.store.load()
            if pair is None:
                raise RefreshTokenLost("token", None, "no token pair stored: authorise the OA")
            if pair.access_token != stale and not self._due(pair):
                self._pair = pair
                return pair
            if pair.refresh_expires_at <= self.clock():
                raise RefreshTokenLost("token", None, "the refresh token has expired: authorise the OA")
            if pair.refresh_token == self._refused:
                raise RefreshTokenLost("token", None, "the refresh token was refused: authorise the OA")
            try:
                new = await self._exchange(
                    {"grant_type": "refresh_token", "refresh_token": pair.refresh_token}
                )
            except RefreshTokenLost:
                self._refused = pair.refresh_token
                raise
            await self.store.save(
                new
            )  # before it is used: a crash now leaves the new pair, not the spent one
            self._pair = new
            self.refreshes += 1
            return new

    async def authorize(self, code: str, code_verifier: str | None = None) -> TokenPair:
        """The first pair, from the authorisation code the OA admin's consent gave (single-use)."""
        params = {"grant_type": "authorization_code", "code": code}
        if code_verifier:
            params["code_verifier"] = code_verifier
        async with self._lock, self.store.exclusive():
            new = await self._exchange(params)
            await self.store.save(new)
            self._pair = new
            return new

    async def _exchange(self, params: Mapping[str, str]) -> TokenPair:
        url = f"{self.oauth_base_url}{TOKEN_PATH}"
        try:
            async with self._client().post(
                url,
                data={**params, "app_id": self.app_id},
                headers={"secret_key": self._app_secret},
                timeout=aiohttp.ClientTimeout(total=self.request_timeout),
            ) as response:
                status = response.status
                body = await response.read()
        except TimeoutError as exc:
            raise TransientError("token", None, "timed out") from exc
        except aiohttp.ClientError as exc:
            raise TransientError("token", None, f"network error: {type(exc).__name__}") from exc
        if status >= 500:
            raise TransientError("token", status, f"HTTP {status}")
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise TransientError("token", status, "not JSON") from exc
        if not isinstance(data, dict) or not data.get("access_token") or not data.get("refresh_token"):
            code = _as_int(data.get("error"), 0) or None if isinstance(data, dict) else None
            message = (
                str(data.get("message") or data.get("error_reason") or "") if isinstance(data, dict) else ""
            )
            raise RefreshTokenLost("token", code, message or "the token endpoint refused the grant")
        now = self.clock()
        access_ttl = _as_int(data.get("expires_in"), 0) or int(ACCESS_TOKEN_TTL.total_seconds())
        refresh_ttl = _as_int(data.get("refresh_token_expires_in"), 0) or int(
            REFRESH_TOKEN_TTL.total_seconds()
        )
        return TokenPair(
            str(data["access_token"]), str(data["refresh_token"]), now + access_ttl, now + refresh_ttl
        )


# -- sending ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Button:
    """A choice: ``title`` shown, ``payload`` sent back as the text of a ``user_send_text`` event."""

    title: str
    payload: str


class ZaloOAClient(SessionOwner):
    """One OA's customer-service messages."""

    def __init__(
        self,
        tokens: TokenManager,
        *,
        base_url: str = OPENAPI_BASE_URL,
        session: aiohttp.ClientSession | None = None,
        request_timeout: float = 10.0,
        max_buttons: int = MAX_BUTTONS,
        max_button_title: int = MAX_BUTTON_TITLE,
        max_text_length: int = MAX_TEXT_LENGTH,
        rate_limit_backoff: float = RATE_LIMIT_BACKOFF,
    ) -> None:
        self.tokens = tokens
        self.base_url = base_url.rstrip("/")
        super().__init__(session)
        self.request_timeout = request_timeout
        self.max_buttons = max_buttons
        self.max_button_title = max_button_title
        self.max_text_length = max_text_length
        self.rate_limit_backoff = rate_limit_backoff

    async def close(self) -> None:
        await super().close()
        await self.tokens.close()

    async def call(
        self, path: str, make_body: Callable[[], dict[str, Any] | aiohttp.FormData]
    ) -> dict[str, Any]:
        """POST to ``path`` with the current access token; on -216/-220 refresh it and try once more.
        ``make_body`` builds the body afresh for each attempt (a multipart body is read once)."""
        token = await self.tokens.access_token()
        try:
            return await self._post(path, token, make_body())
        except TokenRefreshNeeded:
            await self.tokens.refresh(stale=token)
        return await self._post(path, await self.tokens.access_token(), make_body())

    async def _post(self, path: str, token: str, body: dict[str, Any] | aiohttp.FormData) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"json": body} if isinstance(body, dict) else {"data": body}
        try:
            async with self._client().post(
                f"{self.base_url}{path}",
                headers={"access_token": token},
                timeout=aiohttp.ClientTimeout(total=self.request_timeout),
                **kwargs,
            ) as response:
                status = response.status
                raw = await response.read()
        except TimeoutError as exc:
            raise TransientError(path, None, "timed out") from exc
        except aiohttp.ClientError as exc:
            raise TransientError(path, None, f"network error: {type(exc).__name__}") from exc
        if status >= 500 or status == 429:  # a gateway's answer, whatever its body
            raise TransientError(path, status, f"HTTP {status}")
        try:
            data = json.loads(raw, parse_int=str, parse_float=str)
        except ValueError:
            data = None
        if not isinstance(data, dict) or "error" not in data:
            raise PermanentError(path, status, f"HTTP {status}: not an OA API answer")
        code = _as_int(data.get("error"), -1)
        message = str(data.get("message") or "")
        if code == 0:
            result = data.get("data")
            return result if isinstance(result, dict) else {}
        if code in TOKEN_ERRORS:
            raise TokenRefreshNeeded(path, code, message)
        if code in WINDOW_ERRORS:
            raise WindowClosed(path, code, message)
        if code == ERR_RATE_LIMIT:
            raise RateLimited(path, message, self.rate_limit_backoff)
        raise PermanentError(path, code, message)

    async def _send(self, user_id: str, message: dict[str, Any]) -> str:
        data = await self.call(SEND_PATH, lambda: {"recipient": {"user_id": user_id}, "message": message})
        return _text_id(data.get("message_id"))

    async def send_text(self, user_id: str, text: str) -> list[str]:
        """Send ``text``, split at line breaks into parts of at most 2,000 characters; their ids."""
        return [await self._send(user_id, {"text": part}) for part in split_text(text, self.max_text_length)]

    async def send_buttons(
        self, user_id: str, text: str, buttons: Sequence[Button], lang: str = "vi"
    ) -> list[str]:
        """``text`` with ``buttons`` (``oa.query.hide``); more buttons than the platform takes, or a title it
        would refuse, and the choices go as a numbered list the user answers by typing."""
        if not buttons:
            return await self.send_text(user_id, text)
        fits = len(buttons) <= self.max_buttons and all(
            0 < len(b.title) <= self.max_button_title and b.payload for b in buttons
        )
        if not fits:
            return await self.send_text(user_id, numbered_choices(text, buttons, lang))
        parts = split_text(text, self.max_text_length) or [""]
        ids = [await self._send(user_id, {"text": part}) for part in parts[:-1]]
        template = {
            "type": "template",
            "payload": {
                "buttons": [{"title": b.title, "type": BUTTON_TYPE, "payload": b.payload} for b in buttons]
            },
        }
        ids.append(await self._send(user_id, {"text": parts[-1], "attachment": template}))
        return ids

    async def upload_file(self, content: bytes, filename: str, mime: str = "application/pdf") -> str:
        """Upload a document (PDF, DOC, DOCX); the token a file message refers to."""

        def form() -> aiohttp.FormData:
            body = aiohttp.FormData()
            body.add_field("file", content, filename=filename, content_type=mime)
            return body

        data = await self.call(UPLOAD_FILE_PATH, form)
        token = _text_id(data.get("token"))
        if not token:
            raise PermanentError(UPLOAD_FILE_PATH, None, "no file token in the answer")
        return token

    async def send_file(
        self, user_id: str, content: bytes, filename: str, mime: str = "application/pdf"
    ) -> str:
        token = await self.upload_file(content, filename, mime)
        return await self._send(user_id, {"attachment": {"type": "file", "payload": {"token": token}}})

    async def upload_image(self, content: bytes, filename: str, mime: str = "image/png") -> str:
        def form() -> aiohttp.FormData:
            body = aiohttp.FormData()
            body.add_field("file", content, filename=filename, content_type=mime)
            return body

        data = await self.call(UPLOAD_IMAGE_PATH, form)
        attachment = _text_id(data.get("attachment_id"))
        if not attachment:
            raise PermanentError(UPLOAD_IMAGE_PATH, None, "no attachment_id in the answer")
        return attachment

    async def send_image(
        self,
        user_id: str,
        *,
        url: str | None = None,
        attachment_id: str | None = None,
        text: str | None = None,
    ) -> str:
        """An image by URL or by an uploaded ``attachment_id``, as a media template."""
        if (url is None) == (attachment_id is None):
            raise ValueError("give an image url or an attachment_id")
        element: dict[str, str] = {"media_type": "image"}
        element.update({"url": url} if url else {"attachment_id": attachment_id or ""})
        message: dict[str, Any] = {
            "attachment": {"type": "template", "payload": {"template_type": "media", "elements": [element]}}
        }
        if text:
            message["text"] = text
        return await self._send(user_id, message)


def numbered_choices(text: str, buttons: Sequence[Button], lang: str = "vi") -> str:
    """The choices as numbered lines under ``text``, with how to answer (the conversation reads numbers)."""
    lines = [t("nav.numbered", lang, n=i, label=b.title) for i, b in enumerate(buttons, start=1)]
    return "\n".join([text, *lines, t("zalo.type_number", lang)])


# -- webhook ---------------------------------------------------------------------------------------------


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


def signature(app_id: str, raw_body: bytes, timestamp: str, secret: str) -> str:
    """The hex SHA-256 of ``app_id + raw body + timestamp + secret`` the platform puts after ``mac=``."""
    digest = hashlib.sha256()
    digest.update(app_id.encode("utf-8"))
    digest.update(raw_body)
    digest.update(timestamp.encode("utf-8"))
    digest.update(secret.encode("utf-8"))
    return digest.hexdigest()


def _load(raw_body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(raw_body, parse_int=str, parse_float=str)  # ids and timestamps stay text
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def verify_signature(raw_body: bytes, header: str | None, *, app_id: str, secret: str) -> bool:
    """Whether ``X-ZEvent-Signature`` (``mac=<hex>``) signs ``raw_body`` (constant-time).

    ``app_id`` is the id the platform puts first: the app's id as issue 17 reads the documents (one
    integration uses the OA's id instead: pass that one if the platform's answers say so); ``secret`` is the
    OA secret key or the app secret key, whichever the deployment's settings name."""
    if not header:
        return False
    data = _load(raw_body)
    if data is None:
        return False
    timestamp = data.get("timestamp")
    if not isinstance(timestamp, str) or not timestamp:
        return False
    received = header.strip()
    if received.lower().startswith("mac="):
        received = received[4:]
    return constant_time_equals(signature(app_id, raw_body, timestamp, secret), received.lower())


def _opt(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _who(node: object) -> str | None:
    return _opt(node.get("id")) if isinstance(node, Mapping) else None


_RECEIPTS = frozenset({"user_received_message", "user_seen_message"})


def parse_event(raw_body: bytes) -> OAEvent:
    """The event in a (verified) webhook body. ValueError when it has no event name, user or timestamp."""
    data = _load(raw_body)
    if data is None:
        raise ValueError("not a JSON object")
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


def _as_int(value: object, default: int) -> int:
    try:
        return int(value) if isinstance(value, int | str) and not isinstance(value, bool) else default
    except ValueError:
        return default


def _text_id(value: object) -> str:
    return value if isinstance(value, str) else str(value) if isinstance(value, int) else ""
