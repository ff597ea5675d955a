"""A protocol-faithful fake of the Zalo Official Account Open API (v3), served over real HTTP on 127.0.0.1.

One server plays both hosts (``openapi.zalo.me`` and ``oauth.zaloapp.com``; ``fake.base_url`` is both):

- ``POST /v4/oa/access_token`` (form: ``app_id``, ``grant_type`` ``refresh_token`` or
  ``authorization_code``, ``refresh_token`` / ``code``; header ``secret_key`` = the app's secret key):
  ``{"access_token", "refresh_token", "expires_in": "90000"}``. A refresh token works **once** (a reused,
  unknown or expired one is refused with ``{"error": -14014, ...}``, the code integrations report;
  unconfirmed) and lives 3 months; an access token lives 25 h. Both lifetimes follow the fake's clock
  (:meth:`FakeZaloOA.advance`).
- ``POST /v3.0/oa/message/cs`` (header ``access_token``, JSON ``{"recipient": {"user_id"}, "message"}``):
  text of 1-2,000 characters; text with template buttons (``attachment.payload.buttons``, each ``title``,
  ``type`` such as ``oa.query.hide`` and ``payload``; at most ``max_buttons``); a file message
  (``attachment.type`` ``file``, ``payload.token`` from an upload); a media template
  (``template_type`` ``media``, one image element by ``url`` or ``attachment_id``).
  Answer ``{"error": 0, "message": "Success", "data": {"message_id", "user_id"}}``.
- ``POST /v2.0/oa/upload/file`` (multipart ``file``: PDF, DOC, DOCX up to 5 MB) -> ``data.token``;
  ``POST /v2.0/oa/upload/image`` (JPG, PNG up to 1 MB) -> ``data.attachment_id``.
- Every error is HTTP 200 with ``{"error": N, "message": ...}``: -216 invalid / -220 expired access token,
  -230 no interaction within 7 days, -232 no interaction ever, -213 the user unfollowed (unconfirmed
  whether the platform refuses it; ``refuse_unfollowed``), -201 invalid
  parameters, -32 over the quota (``quota_per_minute`` calls a minute per app, 4,000 by default).
- The interaction window per user: a message within 48 h of the user's last interaction is free, to 7 days
  it goes and is marked ``charged``, beyond it is refused (-230).
- Webhook (the URL set in the developer console: :meth:`FakeZaloOA.set_webhook`): every user action is
  POSTed as the platform's event JSON with ``X-ZEvent-Signature: mac=<sha256(app_id + body + timestamp +
  secret)>`` (``sign_with`` chooses the OA secret key or the app secret key); an event not answered 2xx is
  sent again after each of ``webhook_retry_delays``, then given up (``undelivered``). Ids are 19-digit
  strings (above 2^53), timestamps strings of milliseconds.

Tests play users through :class:`FakeOAUser` (``fake.user()``): ``follow``, ``unfollow``, ``send_text``,
``press`` (a button: its payload as text), ``send_image``, ``send_file``, ``submit_info``;
:meth:`FakeOAUser.received` is what the OA sent them. Faults: :meth:`FakeZaloOA.inject` (an error code or an
HTTP status on a path), :meth:`FakeZaloOA.expire_access_tokens` (expiry mid-journey),
:meth:`FakeZaloOA.corrupt_signatures`, :meth:`FakeZaloOA.deliver_twice`.

Run by hand: ``python -m tests.fakes.zalo_oa --port 8083 --webhook http://127.0.0.1:8080/zalo-oa
--env-file var/zalo-oa.env`` (see :func:`main`; the README's "Zalo Official Account" shows the rest).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import secrets
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

__all__ = ["FakeOAUser", "FakeZaloOA", "OAMessage", "WebhookAttempt", "main"]

JSONDict = dict[str, Any]

MAX_TEXT_LENGTH = 2000
MAX_BUTTONS = 5  # unconfirmed (see bot/channels/zalo_oa/api.py)
MAX_BUTTON_TITLE = 100
BUTTON_TYPES = frozenset({"oa.query.hide", "oa.query.show", "oa.open.url", "oa.open.phone", "oa.open.sms"})
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_BYTES = 1024 * 1024
FILE_EXTENSIONS = (".pdf", ".doc", ".docx")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
ACCESS_TTL = 25 * 3600
REFRESH_TTL = 90 * 86400
FREE_WINDOW = 48 * 3600
ALLOWED_WINDOW = 7 * 86400
SIGNATURE_HEADER = "X-ZEvent-Signature"

ERR_RATE_LIMIT = -32
ERR_INVALID_PARAMS = -201
ERR_UNFOLLOWED = -213
ERR_TOKEN_INVALID = -216
ERR_TOKEN_EXPIRED = -220
ERR_OUTSIDE_WINDOW = -230
ERR_NO_INTERACTION = -232
ERR_REFRESH_INVALID = -14014
ERR_APP_SECRET = -14002

_MESSAGES = {
    ERR_RATE_LIMIT: "Exceeded the request limit of the app",
    ERR_INVALID_PARAMS: "Parameters are invalid",
    ERR_UNFOLLOWED: "User has not followed the OA",
    ERR_TOKEN_INVALID: "Access token is invalid",
    ERR_TOKEN_EXPIRED: "Access token has expired",
    ERR_OUTSIDE_WINDOW: "User has not interacted with the OA in the last 7 days",
    ERR_NO_INTERACTION: "User has not interacted with the OA",
}


class _OAError(Exception):
    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(message or _MESSAGES.get(code, "Error"))
        self.code = code
        self.message = message or _MESSAGES.get(code, "Error")


def _big_id() -> str:
    """A 19-digit id, above 2^53 like the platform's (a float would change its last digits)."""
    return str(secrets.randbelow(10**18) + 8 * 10**18)


@dataclass(frozen=True, slots=True)
class OAMessage:
    """A customer-service message the OA sent: ``kind`` is ``text``, ``buttons``, ``file`` or ``image``."""

    user_id: str
    message_id: str
    kind: str
    text: str | None
    buttons: tuple[tuple[str, str, str], ...] = ()  # (title, type, payload)
    file_name: str | None = None
    image: str | None = None  # url or attachment_id
    charged: bool = False  # sent between 48 h and 7 days after the user's last interaction


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    event: str
    status: int | None
    body: bytes
    signature: str


@dataclass(slots=True)
class _Upload:
    name: str
    size: int


@dataclass(slots=True)
class _Pending:
    body: bytes
    event: str
    timestamp: str
    attempts: int = 0
    corrupt: bool = False


@dataclass(slots=True)
class _UserState:
    last_interaction: float | None = None
    unfollowed: bool = False


@dataclass(slots=True)
class _Fault:
    code: int | None  # an OA error code (HTTP 200), or None for an HTTP status
    status: int
    times: int
    delay: float = 0.0


class FakeOAUser:
    """A Zalo user talking to the OA."""

    def __init__(self, fake: FakeZaloOA, user_id: str) -> None:
        self.fake = fake
        self.user_id = user_id

    async def follow(self) -> bytes:
        return self.fake._user_event(self.user_id, "follow", follower=True, source="oa_profile")

    async def unfollow(self) -> bytes:
        return self.fake._user_event(self.user_id, "unfollow", follower=True, source="oa_profile")

    async def send_text(self, text: str) -> bytes:
        return self.fake._user_event(self.user_id, "user_send_text", message={"text": text})

    async def press(self, payload: str) -> bytes:
        """Press a button: the platform sends its payload as the user's text."""
        return await self.send_text(payload)

    async def send_image(self, url: str, thumbnail: str | None = None) -> bytes:
        attachment = {"type": "image", "payload": {"url": url, "thumbnail": thumbnail or url}}
        return self.fake._user_event(self.user_id, "user_send_image", message={"attachments": [attachment]})

    async def send_file(self, url: str, name: str, size: int, kind: str = "pdf") -> bytes:
        payload = {
            "url": url,
            "name": name,
            "size": str(size),
            "type": kind,
            "checksum": secrets.token_hex(16),
        }
        attachment = {"type": "file", "payload": payload}
        return self.fake._user_event(self.user_id, "user_send_file", message={"attachments": [attachment]})

    async def submit_info(self, **info: str) -> bytes:
        """The "share information" form (name, phone, address, city, district, ward)."""
        return self.fake._user_event(self.user_id, "user_submit_info", info=info)

    def received(self) -> list[OAMessage]:
        return self.fake.messages_to(self.user_id)


class FakeZaloOA:
    """The fake OA Open API and OAuth server. Use as ``async with FakeZaloOA() as fake:``."""

    def __init__(
        self,
        *,
        app_id: str = "3158297446413652112",
        app_secret: str = "fake-app-secret-key",
        oa_id: str = "4410987654321098765",
        oa_secret: str = "fake-oa-secret-key",
        host: str = "127.0.0.1",
        port: int = 0,
        quota_per_minute: int = 4000,
        max_buttons: int = MAX_BUTTONS,
        sign_with: str = "oa_secret",
        webhook_retry_delays: Sequence[float] = (0.05, 0.05, 0.05, 0.05, 0.05),
        webhook_timeout: float = 2.0,
        refuse_unfollowed: bool = True,
    ) -> None:
        if sign_with not in ("oa_secret", "app_secret"):
            raise ValueError("sign_with is oa_secret or app_secret")
        self.app_id = app_id
        self.app_secret = app_secret
        self.oa_id = oa_id
        self.oa_secret = oa_secret
        self.host = host
        self._requested_port = port
        self.port = 0
        self.base_url = ""
        self.quota_per_minute = quota_per_minute
        self.max_buttons = max_buttons
        self.sign_with = sign_with
        self.webhook_retry_delays = tuple(webhook_retry_delays)
        self.webhook_timeout = webhook_timeout
        self.refuse_unfollowed = refuse_unfollowed

        self._offset = 0.0
        self._access: dict[str, float] = {}  # token -> expires at
        self._refresh: dict[str, float] = {}  # unused refresh token -> expires at
        self._spent_refresh: set[str] = set()
        self._codes: set[str] = set()
        self.refusals: list[str] = []  # refresh tokens refused (reused, unknown, expired)
        self._users: dict[str, _UserState] = {}
        self._user_objects: dict[str, FakeOAUser] = {}
        self._sent: list[OAMessage] = []
        self._uploads: dict[str, _Upload] = {}
        self._images: set[str] = set()
        self._calls: deque[float] = deque()
        self.calls: list[tuple[str, JSONDict]] = []  # (path, parameters) of every API call
        self.events: list[bytes] = []  # every event body the platform produced, in order
        self.webhook_url: str | None = None
        self.webhook_attempts: list[WebhookAttempt] = []
        self.undelivered: list[bytes] = []
        self._pending: list[_Pending] = []
        self._corrupt_next = 0
        self._faults: dict[str, list[_Fault]] = {}
        self._listeners: list[Callable[[str, JSONDict], None]] = []
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_FILE_BYTES + 1024 * 1024)
        app.router.add_post("/v4/oa/access_token", self._token_endpoint)
        app.router.add_post("/v3.0/oa/message/cs", self._send_endpoint)
        app.router.add_post("/v2.0/oa/upload/file", self._upload_file_endpoint)
        app.router.add_post("/v2.0/oa/upload/image", self._upload_image_endpoint)
        app.router.add_route("*", r"/{tail:.*}", self._other)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        self.port = int(sock.getsockname()[1])
        await web.SockSite(self._runner, sock).start()
        self.base_url = f"http://{self.host}:{self.port}"
        self._session = aiohttp.ClientSession()
        self._webhook_task = asyncio.create_task(self._webhook_worker(), name="fake-zalo-oa-webhook")

    async def stop(self) -> None:
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- the clock, tokens and users --------------------------------------------------------------------

    def now(self) -> float:
        """The fake's clock (epoch seconds): real time plus everything :meth:`advance` added."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward: token lifetimes, windows and the quota minute follow it."""
        self._offset += seconds

    def issue_tokens(self) -> tuple[str, str, int]:
        """A new (access token, refresh token, expires_in) as the OA admin's consent gives it."""
        access, refresh = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
        self._access[access] = self.now() + ACCESS_TTL
        self._refresh[refresh] = self.now() + REFRESH_TTL
        return access, refresh, ACCESS_TTL

    def authorization_code(self) -> str:
        """A single-use code, as the OAuth redirect gives it after the admin's consent."""
        code = secrets.token_urlsafe(32)
        self._codes.add(code)
        return code

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is now expired (-220): an expiry in the middle of a journey."""
        for token in self._access:
            self._access[token] = self.now() - 1

    @property
    def refresh_count(self) -> int:
        return len(self._spent_refresh)

    def user(self, user_id: str | None = None) -> FakeOAUser:
        uid = user_id or _big_id()
        if uid not in self._user_objects:
            self._user_objects[uid] = FakeOAUser(self, uid)
            self._users.setdefault(uid, _UserState())
        return self._user_objects[uid]

    def messages_to(self, user_id: str) -> list[OAMessage]:
        return [m for m in self._sent if m.user_id == user_id]

    @property
    def sent(self) -> list[OAMessage]:
        return list(self._sent)

    def set_webhook(self, url: str | None) -> None:
        """The webhook URL of the app's settings (set in the developer console, not by the API)."""
        self.webhook_url = url
        self._wake()

    def inject(
        self, path: str, *, error: int | None = None, status: int = 200, times: int = 1, delay: float = 0.0
    ) -> None:
        """The next ``times`` calls to ``path`` (``/v3.0/oa/message/cs``, ``/v4/oa/access_token``...) answer
        ``{"error": error}`` (HTTP 200), or HTTP ``status`` when no error is given, after ``delay`` s."""
        self._faults.setdefault(path, []).append(_Fault(error, status, times, delay))

    def corrupt_signatures(self, times: int = 1) -> None:
        """The next ``times`` events are delivered with a wrong signature (every retry of them too)."""
        self._corrupt_next += times

    def deliver_twice(self, body: bytes) -> None:
        """Queue an event already produced once more, byte for byte (an unsure delivery repeated)."""
        data = json.loads(body)
        self._pending.append(_Pending(body, str(data.get("event_name")), str(data.get("timestamp"))))
        self._wake()

    def add_listener(self, listener: Callable[[str, JSONDict], None]) -> None:
        self._listeners.append(listener)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    def _wake(self) -> None:
        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()

        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().create_task(notify())

    def _emit(self, event: str, data: JSONDict) -> None:
        for listener in self._listeners:
            listener(event, data)

    def _user_event(
        self,
        user_id: str,
        event: str,
        *,
        message: JSONDict | None = None,
        follower: bool = False,
        info: dict[str, str] | None = None,
        source: str | None = None,
    ) -> bytes:
        state = self._users.setdefault(user_id, _UserState())
        now = self.now()
        timestamp = str(int(now * 1000))
        body: JSONDict = {"app_id": self.app_id, "user_id_by_app": _big_id(), "event_name": event}
        if follower:
            body.update({"oa_id": self.oa_id, "follower": {"id": user_id}, "source": source})
        else:
            body.update({"sender": {"id": user_id}, "recipient": {"id": self.oa_id}})
        if message is not None:
            body["message"] = {"msg_id": secrets.token_hex(16), **message}
        if info is not None:
            body["info"] = info
        body["timestamp"] = timestamp
        if event == "unfollow":
            state.unfollowed = True
        else:  # following, writing, sharing information: all interactions (the window starts again)
            state.unfollowed = False
            state.last_interaction = now
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.events.append(raw)
        corrupt = self._corrupt_next > 0
        self._corrupt_next = max(0, self._corrupt_next - 1)
        self._pending.append(_Pending(raw, event, timestamp, corrupt=corrupt))
        self._emit("event", body)
        self._wake()
        return raw

    # -- HTTP ---------------------------------------------------------------------------------------------

    async def _other(self, request: web.Request) -> web.Response:
        return web.json_response({"error": 404, "message": "Not found"}, status=404)

    async def _fault(self, path: str) -> web.Response | None:
        faults = self._faults.get(path)
        if not faults:
            return None
        fault = faults[0]
        fault.times -= 1
        if fault.times <= 0:
            faults.pop(0)
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.code is not None:
            return web.json_response({"error": fault.code, "message": _MESSAGES.get(fault.code, "Error")})
        if fault.status != 200:
            return web.Response(
                status=fault.status,
                text=f"<html><body>{fault.status}</body></html>",
                content_type="text/html",
            )
        return None

    def _check_api(self, request: web.Request) -> None:
        """Quota first (it counts every call), then the access token."""
        now = self.now()
        while self._calls and self._calls[0] <= now - 60:
            self._calls.popleft()
        if len(self._calls) >= self.quota_per_minute:
            raise _OAError(ERR_RATE_LIMIT)
        self._calls.append(now)
        token = request.headers.get("access_token")
        if not token or token not in self._access:
            raise _OAError(ERR_TOKEN_INVALID)
        if self._access[token] <= now:
            raise _OAError(ERR_TOKEN_EXPIRED)

    async def _token_endpoint(self, request: web.Request) -> web.Response:
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        self.calls.append((request.path, form))
        fault = await self._fault(request.path)
        if fault is not None:
            return fault
        if form.get("app_id") != self.app_id or request.headers.get("secret_key") != self.app_secret:
            return web.json_response(
                {"error": ERR_APP_SECRET, "error_name": "Invalid app", "message": "Invalid app"}
            )
        grant = form.get("grant_type")
        if grant == "refresh_token":
            token = form.get("refresh_token", "")
            expires = self._refresh.pop(token, None)
            if expires is None or expires <= self.now():
                self.refusals.append(token)
                return web.json_response(
                    {
                        "error": ERR_REFRESH_INVALID,
                        "error_name": "Invalid parameter",
                        "error_reason": "Invalid refresh token",
                        "message": "Invalid refresh token",
                    }
                )
            self._spent_refresh.add(token)
        elif grant == "authorization_code":
            code = form.get("code", "")
            if code not in self._codes:
                return web.json_response({"error": -14019, "message": "Invalid authorization code"})
            self._codes.discard(code)
        else:
            return web.json_response({"error": -14003, "message": "Invalid grant_type"})
        access, refresh, ttl = self.issue_tokens()
        self._emit("token", {"grant": grant})
        self._wake()
        return web.json_response({"access_token": access, "refresh_token": refresh, "expires_in": str(ttl)})

    async def _send_endpoint(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        self.calls.append((request.path, body if isinstance(body, dict) else {}))
        fault = await self._fault(request.path)
        if fault is not None:
            return fault
        try:
            self._check_api(request)
            message = self._accept_message(body)
        except _OAError as exc:
            return web.json_response({"error": exc.code, "message": exc.message})
        self._sent.append(message)
        shown = {"user_id": message.user_id, "kind": message.kind, "text": message.text}
        self._emit("sent", {**shown, "buttons": [title for title, _, _ in message.buttons]})
        self._wake()
        return web.json_response(
            {
                "error": 0,
                "message": "Success",
                "data": {"message_id": message.message_id, "user_id": message.user_id},
            }
        )

    def _accept_message(self, body: object) -> OAMessage:
        if not isinstance(body, dict):
            raise _OAError(ERR_INVALID_PARAMS, "Body is not a JSON object")
        recipient = body.get("recipient")
        user_id = recipient.get("user_id") if isinstance(recipient, dict) else None
        message = body.get("message")
        if not isinstance(user_id, str) or not isinstance(message, dict):
            raise _OAError(ERR_INVALID_PARAMS, "recipient.user_id (a string) and message are required")
        state = self._users.get(user_id)
        if state is None or state.last_interaction is None:
            raise _OAError(ERR_NO_INTERACTION)
        if self.refuse_unfollowed and state.unfollowed:
            raise _OAError(ERR_UNFOLLOWED)
        elapsed = self.now() - state.last_interaction
        if elapsed > ALLOWED_WINDOW:
            raise _OAError(ERR_OUTSIDE_WINDOW)
        charged = elapsed > FREE_WINDOW
        text = message.get("text")
        if text is not None and (not isinstance(text, str) or not 1 <= len(text) <= MAX_TEXT_LENGTH):
            raise _OAError(ERR_INVALID_PARAMS, f"text must have 1 to {MAX_TEXT_LENGTH} characters")
        attachment = message.get("attachment")
        message_id = secrets.token_hex(16)
        if attachment is None:
            if text is None:
                raise _OAError(ERR_INVALID_PARAMS, "message has no text and no attachment")
            return OAMessage(user_id, message_id, "text", text, charged=charged)
        if not isinstance(attachment, dict) or not isinstance(attachment.get("payload"), dict):
            raise _OAError(ERR_INVALID_PARAMS, "attachment.payload is required")
        payload = attachment["payload"]
        kind = attachment.get("type")
        if kind == "file":
            upload = self._uploads.get(str(payload.get("token")))
            if upload is None:
                raise _OAError(ERR_INVALID_PARAMS, "unknown file token")
            return OAMessage(user_id, message_id, "file", text, file_name=upload.name, charged=charged)
        if kind != "template":
            raise _OAError(ERR_INVALID_PARAMS, "attachment.type is template or file")
        if payload.get("template_type") == "media":
            elements = payload.get("elements")
            if not isinstance(elements, list) or len(elements) != 1 or not isinstance(elements[0], dict):
                raise _OAError(ERR_INVALID_PARAMS, "a media template has one element")
            element = elements[0]
            image = element.get("url") or element.get("attachment_id")
            if element.get("media_type") != "image" or not isinstance(image, str) or not image:
                raise _OAError(
                    ERR_INVALID_PARAMS, "an image element has media_type image and a url or attachment_id"
                )
            if "attachment_id" in element and element["attachment_id"] not in self._images:
                raise _OAError(ERR_INVALID_PARAMS, "unknown attachment_id")
            return OAMessage(user_id, message_id, "image", text, image=image, charged=charged)
        buttons = payload.get("buttons")
        if text is None or not isinstance(buttons, list) or not 1 <= len(buttons) <= self.max_buttons:
            raise _OAError(
                ERR_INVALID_PARAMS, f"a button message has text and 1 to {self.max_buttons} buttons"
            )
        parsed: list[tuple[str, str, str]] = []
        for button in buttons:
            if not isinstance(button, dict):
                raise _OAError(ERR_INVALID_PARAMS, "a button is an object")
            title, kind_, value = button.get("title"), button.get("type"), button.get("payload")
            if (
                not isinstance(title, str)
                or not 1 <= len(title) <= MAX_BUTTON_TITLE
                or kind_ not in BUTTON_TYPES
            ):
                raise _OAError(ERR_INVALID_PARAMS, "a button has a title and a known type")
            if not isinstance(value, str | dict) or not value:
                raise _OAError(ERR_INVALID_PARAMS, "a button has a payload")
            parsed.append((title, str(kind_), value if isinstance(value, str) else json.dumps(value)))
        return OAMessage(user_id, message_id, "buttons", text, buttons=tuple(parsed), charged=charged)

    async def _upload(self, request: web.Request, extensions: tuple[str, ...], limit: int) -> tuple[str, int]:
        form = await request.post()
        file = form.get("file")
        self.calls.append((request.path, {"file": getattr(file, "filename", None)}))
        if not isinstance(file, web.FileField):
            raise _OAError(ERR_INVALID_PARAMS, "a multipart field 'file' is required")
        content = file.file.read()
        if not file.filename.lower().endswith(extensions):
            raise _OAError(ERR_INVALID_PARAMS, f"the file type is not supported ({', '.join(extensions)})")
        if not 0 < len(content) <= limit:
            raise _OAError(ERR_INVALID_PARAMS, f"the file must have 1 to {limit} bytes")
        return file.filename, len(content)

    async def _upload_file_endpoint(self, request: web.Request) -> web.Response:
        fault = await self._fault(request.path)
        if fault is not None:
            return fault
        try:
            self._check_api(request)
            name, size = await self._upload(request, FILE_EXTENSIONS, MAX_FILE_BYTES)
        except _OAError as exc:
            return web.json_response({"error": exc.code, "message": exc.message})
        token = secrets.token_urlsafe(24)
        self._uploads[token] = _Upload(name, size)
        return web.json_response({"error": 0, "message": "Success", "data": {"token": token}})

    async def _upload_image_endpoint(self, request: web.Request) -> web.Response:
        fault = await self._fault(request.path)
        if fault is not None:
            return fault
        try:
            self._check_api(request)
            await self._upload(request, IMAGE_EXTENSIONS, MAX_IMAGE_BYTES)
        except _OAError as exc:
            return web.json_response({"error": exc.code, "message": exc.message})
        attachment_id = secrets.token_urlsafe(24)
        self._images.add(attachment_id)
        return web.json_response({"error": 0, "message": "Success", "data": {"attachment_id": attachment_id}})

    # -- webhook delivery ---------------------------------------------------------------------------------

    def sign(self, body: bytes, timestamp: str) -> str:
        secret = self.oa_secret if self.sign_with == "oa_secret" else self.app_secret
        digest = hashlib.sha256(self.app_id.encode() + body + timestamp.encode() + secret.encode())
        return f"mac={digest.hexdigest()}"

    async def _webhook_worker(self) -> None:
        while True:
            async with self._changed:
                await self._changed.wait_for(lambda: self.webhook_url is not None and bool(self._pending))
            url = self.webhook_url
            item = self._pending[0]
            if url is None:
                continue
            if await self._post(url, item):
                self._pending.remove(item)
                self._wake()
                continue
            if item.attempts > len(self.webhook_retry_delays):
                self._pending.remove(item)
                self.undelivered.append(item.body)
                self._wake()
                continue
            await asyncio.sleep(self.webhook_retry_delays[item.attempts - 1])

    async def _post(self, url: str, item: _Pending) -> bool:
        assert self._session is not None
        mac = self.sign(item.body, item.timestamp)
        if item.corrupt:
            mac = "mac=" + hashlib.sha256(b"not the body" + item.body).hexdigest()
        item.attempts += 1
        status: int | None = None
        try:
            async with self._session.post(
                url,
                data=item.body,
                headers={"Content-Type": "application/json", SIGNATURE_HEADER: mac},
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as response:
                status = response.status
                await response.read()
        except (aiohttp.ClientError, TimeoutError):
            status = None
        self.webhook_attempts.append(WebhookAttempt(item.event, status, item.body, mac))
        self._wake()
        return status is not None and 200 <= status < 300


# -------------------------------------------------------------------------------------------------------
# By hand
# -------------------------------------------------------------------------------------------------------

_HELP = """lines you type are the user's actions (delivered to --webhook, signed):
  any text          user_send_text (">text" for text that looks like a command here)
  press N           press button N of the last message with buttons (its payload as text)
  follow / unfollow follow or unfollow the OA
  image URL         user_send_image
  file URL NAME     user_send_file
  info NAME PHONE   user_submit_info
  wait HOURS        move the fake's clock forward (token expiry, windows)
  quit"""


def _start_stdin_reader(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, daemon=True).start()


def _button(user: FakeOAUser, n: int) -> str | None:
    """The payload of button ``n`` (from 1) of the last message with buttons the user received."""
    for message in reversed(user.received()):
        if message.buttons:
            return message.buttons[n - 1][2] if 0 < n <= len(message.buttons) else None
    return None


async def _interact(fake: FakeZaloOA, user: FakeOAUser, lines: asyncio.Queue[str | None]) -> None:
    while True:
        line = await lines.get()
        if line is None:
            print("(stdin closed; still serving, Ctrl-C to stop)", flush=True)
            await asyncio.Event().wait()
            return
        text = line.strip()
        word, _, rest = text.partition(" ")
        if not text:
            continue
        if text.startswith(">"):
            await user.send_text(text[1:].strip())
        elif text == "follow":
            await user.follow()
        elif text == "unfollow":
            await user.unfollow()
        elif word == "press" and rest.isdigit():
            pressed = _button(user, int(rest))
            if pressed is None:
                print("(no such button in the last message with buttons)", flush=True)
            else:
                await user.press(pressed)
        elif word == "image" and rest:
            await user.send_image(rest.strip())
        elif word == "file" and rest:
            url, _, name = rest.partition(" ")
            await user.send_file(url, name or "tai-lieu.pdf", 1024)
        elif word == "info" and rest:
            name, _, phone = rest.rpartition(" ")
            await user.submit_info(name=name or phone, phone=phone)
        elif word == "wait" and rest.replace(".", "", 1).isdigit():
            fake.advance(float(rest) * 3600)
            print(f"(clock moved {rest} h)", flush=True)
        elif text in ("help", "?"):
            print(_HELP, flush=True)
        elif text in ("quit", "exit"):
            return
        else:
            await user.send_text(text)


async def _serve(args: argparse.Namespace) -> None:
    # by hand the bot may start after the fake: an event is tried again for about two minutes, as the
    # platform does, not the tests' quarter of a second
    retries = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
    async with FakeZaloOA(host=args.host, port=args.port, webhook_retry_delays=retries) as fake:
        access, refresh, _ = fake.issue_tokens()
        fake.set_webhook(args.webhook)
        user = fake.user(args.user_id)
        print(f"fake Zalo OA API and OAuth at {fake.base_url}", flush=True)
        print(
            f"app id {fake.app_id}, app secret {fake.app_secret}, OA id {fake.oa_id}, "
            f"OA secret {fake.oa_secret}\naccess token {access}\nrefresh token {refresh}",
            flush=True,
        )
        print(
            f"events go to {args.webhook or '(no webhook: --webhook URL)'}; you are user {user.user_id}",
            flush=True,
        )

        def show(event: str, data: JSONDict) -> None:
            if event == "sent":
                print(f"<OA> [{data['kind']}] {data.get('text') or ''}", flush=True)
                for n, title in enumerate(data.get("buttons") or (), start=1):
                    print(f"     [button {n}: {title}]  (type: press {n})", flush=True)

        fake.add_listener(show)
        if args.env_file:
            _write_env(args.env_file, fake, access, refresh, args.webhook)
            print(f"smebot's settings for this fake are in {args.env_file}", flush=True)
        if args.no_prompt:
            await asyncio.Event().wait()
            return
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        _start_stdin_reader(asyncio.get_running_loop(), lines)
        await _interact(fake, user, lines)


def _write_env(path: str, fake: FakeZaloOA, access: str, refresh: str, webhook: str | None) -> None:
    """The settings ``smebot run`` needs to talk to this fake, as a ``.env`` file (``set -a; . FILE``)."""
    url = webhook or "http://127.0.0.1:8080/zalo-oa"
    listen = url.split("//", 1)[-1].split("/", 1)[0]
    lines = {
        "SMEBOT_ZALO_OA_APP_ID": fake.app_id,
        "SMEBOT_ZALO_OA_SECRET_KEY": fake.app_secret,
        "SMEBOT_ZALO_OA_OA_SECRET_KEY": fake.oa_secret,
        "SMEBOT_ZALO_OA_ACCESS_TOKEN": access,
        "SMEBOT_ZALO_OA_REFRESH_TOKEN": refresh,
        "SMEBOT_ZALO_OA_WEBHOOK_URL": url,
        "SMEBOT_ZALO_OA_API_URL": fake.base_url,
        "SMEBOT_ZALO_OA_OAUTH_URL": fake.base_url,
        "SMEBOT_WEBHOOK_LISTEN": listen,
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(f"{name}={value}\n" for name, value in lines.items()), encoding="utf-8")


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.zalo_oa", description="Run the fake Zalo OA API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8083)
    parser.add_argument("--webhook", default=None, help="where events are POSTed (the app's webhook URL)")
    parser.add_argument("--user-id", default="8123456789012345678")
    parser.add_argument("--no-prompt", action="store_true", help="only serve; do not read stdin")
    parser.add_argument("--env-file", help="write smebot's SMEBOT_ZALO_OA_* settings for this fake here")
    args = parser.parse_args(list(argv) if argv is not None else None)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
