"""A protocol-faithful fake of the Zalo Bot API (bot.zaloplatforms.com), served over real HTTP on 127.0.0.1.

What it speaks, as the platform's documents and open-source integrations describe it:

- ``{base}/bot{TOKEN}/{method}``, GET or POST, parameters as JSON, form (urlencoded or multipart) or query
  string; answers ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, "description": ...}``.
- ``getUpdates`` (``timeout`` in seconds, often sent as a string) waits for and returns **one** update;
  with nothing to deliver it answers ``error_code`` 408 "Request timeout" (HTTP status 408, or 200 with
  ``empty_http_status=200``: the documents do not say which). An update taken by ``getUpdates`` is gone
  (there is no offset). ``getUpdates`` while a webhook is set is refused (409).
- ``setWebhook`` (``url``, ``secret_token`` of 8-256 characters) / ``deleteWebhook`` / ``getWebhookInfo``.
  With a webhook set, every update is POSTed to it with ``X-Bot-Api-Secret-Token``; an update not answered
  2xx is sent again after ``webhook_retry_delay`` (at most ``webhook_max_attempts`` times). The body is the
  update itself, or wrapped in the envelope with ``webhook_wrapped=True`` (both seen in integrations).
- Events ``message.text.received``, ``message.image.received`` (``photo`` URL and ``caption``),
  ``message.sticker.received``, ``message.unsupported.received``; ``message`` has ``from {id,
  display_name}``, ``chat {id, chat_type}``, ``text``, ``message_id``, ``date`` (ms). Ids are hex strings.
- ``sendMessage`` (``chat_id``, ``text`` of 1-2,000 characters), ``sendPhoto`` (``photo`` URL, optional
  ``caption``), ``sendSticker``, ``sendChatAction`` (``typing``, ``upload_photo``), ``getMe``. Sending to a
  chat that never wrote to the bot is refused (400), as the platform allows only replies to users who did.

Tests play owners through :class:`FakeZaloUser` (``fake.user("owner")``): ``send_text``, ``send_image``,
``send_sticker``, ``send_unsupported``, in a private chat or a group; :meth:`FakeZaloUser.received` is what
the bot sent to that chat. Faults: :meth:`FakeZaloBot.inject` (any status, 429 with an optional
``retry_after``), :meth:`FakeZaloBot.delay` (a slow answer: client time-outs),
:meth:`FakeZaloBot.deliver_twice`.
:attr:`FakeZaloBot.calls` logs every API call.

Run by hand: ``python -m tests.fakes.zalo_bot --port 8082`` (see :func:`main`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

__all__ = ["ApiCall", "FakeZaloBot", "FakeZaloUser", "SentMessage", "WebhookAttempt", "main"]

JSONDict = dict[str, Any]

MAX_TEXT_LENGTH = 2000
SECRET_MIN_LENGTH = 8
SECRET_MAX_LENGTH = 256
MAX_POLL_TIMEOUT = 60.0
CHAT_ACTIONS = frozenset({"typing", "upload_photo"})
SECRET_HEADER = "X-Bot-Api-Secret-Token"

EVENT_TEXT = "message.text.received"
EVENT_IMAGE = "message.image.received"
EVENT_STICKER = "message.sticker.received"
EVENT_UNSUPPORTED = "message.unsupported.received"

ERR_UNAUTHORIZED = "Unauthorized"
ERR_NOT_FOUND = "Not Found"
ERR_TIMEOUT = "Request timeout"
ERR_CONFLICT = "Conflict: webhook is active, use deleteWebhook before getUpdates"
ERR_CHAT = "Bad Request: chat_id is missing or the user has not messaged the bot"
ERR_TEXT = f"Bad Request: text must have 1 to {MAX_TEXT_LENGTH} characters"
ERR_CAPTION = f"Bad Request: caption must have 1 to {MAX_TEXT_LENGTH} characters"
ERR_PHOTO = "Bad Request: photo must be an http(s) URL"
ERR_URL = "Bad Request: url must be an HTTPS URL"
ERR_SECRET = f"Bad Request: secret_token must have {SECRET_MIN_LENGTH} to {SECRET_MAX_LENGTH} characters"
ERR_ACTION = "Bad Request: action must be typing or upload_photo"
ERR_STICKER = "Bad Request: sticker is required"

_DESCRIPTIONS = {
    400: "Bad Request",
    401: ERR_UNAUTHORIZED,
    403: "Forbidden",
    404: ERR_NOT_FOUND,
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def envelope(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _now_ms() -> int:
    return int(time.time() * 1000)


def _hex_id() -> str:
    return secrets.token_hex(10)


@dataclass(frozen=True, slots=True)
class ApiCall:
    method: str
    params: JSONDict
    at: float


@dataclass(frozen=True, slots=True)
class SentMessage:
    """Something the bot sent: ``kind`` is ``text``, ``photo`` or ``sticker``."""

    chat_id: str
    message_id: str
    kind: str
    text: str | None = None
    photo: str | None = None
    caption: str | None = None
    sticker: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    message_id: str
    status: int | None  # None: no answer (time-out or connection error)
    secret: str | None
    body: bytes


@dataclass(slots=True)
class _Fault:
    status: int
    description: str
    parameters: JSONDict | None
    times: int


@dataclass(slots=True)
class _Delay:
    seconds: float
    times: int


@dataclass(slots=True)
class _Webhook:
    url: str
    secret: str
    updated_at: int


@dataclass(slots=True)
class _Pending:
    update: JSONDict
    attempts: int = 0
    not_before: float = field(default=0.0)


class FakeZaloUser:
    """An owner on Zalo. Everything they send reaches the bot as one update."""

    def __init__(self, fake: FakeZaloBot, user_id: str, display_name: str) -> None:
        self.fake = fake
        self.user_id = user_id
        self.display_name = display_name

    def _message(self, chat_id: str | None, chat_type: str, **content: Any) -> JSONDict:
        message: JSONDict = {
            "from": {"id": self.user_id, "display_name": self.display_name, "is_bot": False},
            "chat": {"id": chat_id or self.user_id, "chat_type": chat_type},
            "message_id": _hex_id(),
            "date": _now_ms(),
        }
        message.update({k: v for k, v in content.items() if v is not None})
        return message

    async def _send(self, event: str, chat_id: str | None, chat_type: str, **content: Any) -> JSONDict:
        update = {"event_name": event, "message": self._message(chat_id, chat_type, **content)}
        self.fake.queue_update(update)
        return update

    async def send_text(self, text: str, *, group: str | None = None) -> JSONDict:
        """A text message, in the private chat or in the group ``group`` (then ``chat_type`` GROUP)."""
        return await self._send(EVENT_TEXT, group, "GROUP" if group else "PRIVATE", text=text)

    async def send_image(self, url: str, caption: str | None = None, *, group: str | None = None) -> JSONDict:
        return await self._send(
            EVENT_IMAGE, group, "GROUP" if group else "PRIVATE", photo=url, caption=caption
        )

    async def send_sticker(self, sticker: str = "0e078a2fb66a5f34067b") -> JSONDict:
        return await self._send(EVENT_STICKER, None, "PRIVATE", sticker=sticker)

    async def send_unsupported(self) -> JSONDict:
        """A message the Bot API does not forward the content of (a voice note, a file, a location...)."""
        return await self._send(EVENT_UNSUPPORTED, None, "PRIVATE")

    def received(self, chat_id: str | None = None) -> list[SentMessage]:
        """What the bot sent to this user's private chat (or to ``chat_id``), oldest first."""
        return self.fake.sent_to(chat_id or self.user_id)

    async def wait_for(
        self, count: int, timeout: float = 5.0, chat_id: str | None = None
    ) -> list[SentMessage]:
        """Wait until the bot has sent at least ``count`` messages to this chat."""
        return await self.fake.wait_for_sent(chat_id or self.user_id, count, timeout)


class FakeZaloBot:
    """The fake Zalo Bot API. Use as ``async with FakeZaloBot() as fake:``; ``fake.base_url`` is the
    ``{base}`` of ``{base}/bot{TOKEN}/{method}``."""

    def __init__(
        self,
        token: str = "3344556677889900112:fake-zalo-bot-token",
        *,
        bot_id: str = "1459232241454765289",
        account_name: str = "bot.smebot",
        host: str = "127.0.0.1",
        port: int = 0,
        empty_http_status: int = 408,
        webhook_wrapped: bool = False,
        webhook_retry_delay: float = 0.05,
        webhook_max_attempts: int = 10,
        webhook_timeout: float = 2.0,
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.account_name = account_name
        self.host = host
        self._requested_port = port
        self.port = 0
        self.base_url = ""
        self.empty_http_status = empty_http_status
        self.webhook_wrapped = webhook_wrapped
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_max_attempts = webhook_max_attempts
        self.webhook_timeout = webhook_timeout

        self.calls: list[ApiCall] = []
        self.webhook_attempts: list[WebhookAttempt] = []
        self.undelivered: list[JSONDict] = []  # webhook updates given up after webhook_max_attempts
        self._users: dict[str, FakeZaloUser] = {}
        self._known_chats: set[str] = set()
        self._sent: list[SentMessage] = []
        self._pending: list[_Pending] = []
        self._updates_by_message: dict[str, JSONDict] = {}
        self._webhook: _Webhook | None = None
        self._faults: dict[str, list[_Fault]] = {}
        self._delays: dict[str, list[_Delay]] = {}
        self._listeners: list[Callable[[str, JSONDict], None]] = []
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._handlers: dict[str, Callable[[JSONDict], Any]] = {
            "getme": self._m_get_me,
            "getupdates": self._m_get_updates,
            "setwebhook": self._m_set_webhook,
            "deletewebhook": self._m_delete_webhook,
            "getwebhookinfo": self._m_get_webhook_info,
            "sendmessage": self._m_send_message,
            "sendphoto": self._m_send_photo,
            "sendsticker": self._m_send_sticker,
            "sendchataction": self._m_send_chat_action,
        }

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", r"/bot{token:[^/]*}/{method:[^/]*}", self._handle)
        app.router.add_route("*", r"/{tail:.*}", self._handle_other)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        self.port = int(sock.getsockname()[1])
        await web.SockSite(self._runner, sock).start()
        self.base_url = f"http://{self.host}:{self.port}"
        self._session = aiohttp.ClientSession()
        self._webhook_task = asyncio.create_task(self._webhook_worker(), name="fake-zalo-bot-webhook")

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

    # -- the user side and test controls ------------------------------------------------------------------

    def user(self, user_id: str | None = None, display_name: str = "Nguyễn Văn An") -> FakeZaloUser:
        """The owner ``user_id`` (a 20-hex-digit id like the platform's when not given)."""
        uid = user_id or _hex_id()
        if uid not in self._users:
            self._users[uid] = FakeZaloUser(self, uid, display_name)
        return self._users[uid]

    def queue_update(self, update: JSONDict) -> None:
        """Queue ``update`` as the platform would (for updates the user side cannot make, e.g. malformed)."""
        message = update.get("message")
        if isinstance(message, dict):
            chat = message.get("chat")
            if isinstance(chat, dict) and isinstance(chat.get("id"), str):
                self._known_chats.add(chat["id"])
            if isinstance(message.get("message_id"), str):
                self._updates_by_message[message["message_id"]] = update
        self._pending.append(_Pending(update))
        self._emit("update", update)
        self._wake()

    def deliver_twice(self, message_id: str) -> None:
        """Queue the update of ``message_id`` once more, unchanged (at-least-once delivery)."""
        self._pending.append(_Pending(json.loads(json.dumps(self._updates_by_message[message_id]))))
        self._wake()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def inject(
        self,
        method: str,
        status: int,
        *,
        times: int = 1,
        description: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` fail with ``error_code`` ``status`` (also the HTTP
        status); 429 carries ``parameters.retry_after`` only when given (the platform documents none)."""
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        text = description or _DESCRIPTIONS.get(status, f"Error {status}")
        self._faults.setdefault(method.lower(), []).append(_Fault(status, text, parameters, times))

    def delay(self, method: str, seconds: float, *, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer only after ``seconds`` (a client time-out)."""
        self._delays.setdefault(method.lower(), []).append(_Delay(seconds, times))

    def sent_to(self, chat_id: str) -> list[SentMessage]:
        return [m for m in self._sent if m.chat_id == chat_id]

    @property
    def sent(self) -> list[SentMessage]:
        return list(self._sent)

    def calls_of(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    @property
    def webhook(self) -> tuple[str, str] | None:
        return (self._webhook.url, self._webhook.secret) if self._webhook else None

    async def wait_for_sent(self, chat_id: str, count: int, timeout: float = 5.0) -> list[SentMessage]:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.sent_to(chat_id)) >= count)
        return self.sent_to(chat_id)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    def add_listener(self, listener: Callable[[str, JSONDict], None]) -> None:
        self._listeners.append(listener)

    def _emit(self, event: str, data: JSONDict) -> None:
        for listener in self._listeners:
            listener(event, data)

    def _wake(self) -> None:
        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()

        # a task: the user side may call this outside a coroutine holding the condition
        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().create_task(notify())

    # -- HTTP ---------------------------------------------------------------------------------------------

    async def _handle_other(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": False, "error_code": 404, "description": ERR_NOT_FOUND}, status=404)

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            if request.match_info["token"] != self.token:
                raise _ApiError(401, ERR_UNAUTHORIZED)
            handler = self._handlers.get(method.lower())
            if handler is None:
                raise _ApiError(404, ERR_NOT_FOUND)
            params = await _read_params(request)
            self.calls.append(ApiCall(method, params, time.monotonic()))
            self._wake()
            await self._maybe_delay(method)
            self._maybe_fail(method)
            result = await handler(params)
        except _ApiError as exc:
            status = exc.status
            if status == 408:
                status = self.empty_http_status
            return web.json_response(exc.envelope(), status=status)
        if result is _NO_RESULT:
            return web.json_response({"ok": True})
        return web.json_response({"ok": True, "result": result})

    async def _maybe_delay(self, method: str) -> None:
        delays = self._delays.get(method.lower())
        if delays:
            delays[0].times -= 1
            seconds = delays[0].seconds
            if delays[0].times <= 0:
                delays.pop(0)
            await asyncio.sleep(seconds)

    def _maybe_fail(self, method: str) -> None:
        faults = self._faults.get(method.lower())
        if faults:
            fault = faults[0]
            fault.times -= 1
            if fault.times <= 0:
                faults.pop(0)
            raise _ApiError(fault.status, fault.description, fault.parameters)

    # -- methods ------------------------------------------------------------------------------------------

    async def _m_get_me(self, params: JSONDict) -> JSONDict:
        return {
            "id": self.bot_id,
            "account_name": self.account_name,
            "account_type": "BASIC",
            "can_join_groups": True,
        }

    async def _m_get_updates(self, params: JSONDict) -> JSONDict:
        if self._webhook is not None:
            raise _ApiError(409, ERR_CONFLICT)
        timeout = min(max(_as_float(params.get("timeout"), 30.0), 0.0), MAX_POLL_TIMEOUT)
        if not self._pending:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout), self._changed:
                    await self._changed.wait_for(lambda: bool(self._pending) or self._webhook is not None)
        if not self._pending or self._webhook is not None:
            raise _ApiError(408, ERR_TIMEOUT)
        update = self._pending.pop(0).update
        self._emit("delivered", update)
        return update

    async def _m_set_webhook(self, params: JSONDict) -> JSONDict:
        url = str(params.get("url") or "")
        parts = urlsplit(url)
        local = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if not parts.netloc or (parts.scheme != "https" and not (local and parts.scheme == "http")):
            raise _ApiError(400, ERR_URL)
        secret = params.get("secret_token")
        if not isinstance(secret, str) or not SECRET_MIN_LENGTH <= len(secret) <= SECRET_MAX_LENGTH:
            raise _ApiError(400, ERR_SECRET)
        self._webhook = _Webhook(url, secret, _now_ms())
        self._wake()
        return {"url": url, "updated_at": self._webhook.updated_at}

    async def _m_delete_webhook(self, params: JSONDict) -> JSONDict:
        self._webhook = None
        return {"url": "", "updated_at": _now_ms()}

    async def _m_get_webhook_info(self, params: JSONDict) -> JSONDict:
        hook = self._webhook
        return {"url": hook.url if hook else "", "updated_at": hook.updated_at if hook else 0}

    def _chat(self, params: JSONDict) -> str:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, str) or chat_id not in self._known_chats:
            raise _ApiError(400, ERR_CHAT)
        return chat_id

    def _record(self, message: SentMessage) -> JSONDict:
        self._sent.append(message)
        self._emit("sent", {"chat_id": message.chat_id, "kind": message.kind, "text": message.text})
        self._wake()
        return {"message_id": message.message_id, "date": _now_ms()}

    async def _m_send_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat(params)
        text = params.get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= MAX_TEXT_LENGTH:
            raise _ApiError(400, ERR_TEXT)
        return self._record(SentMessage(chat_id, _hex_id(), "text", text=text))

    async def _m_send_photo(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat(params)
        photo = params.get("photo")
        if not isinstance(photo, str) or urlsplit(photo).scheme not in ("http", "https"):
            raise _ApiError(400, ERR_PHOTO)
        caption = params.get("caption")
        if caption is not None and (not isinstance(caption, str) or not 1 <= len(caption) <= MAX_TEXT_LENGTH):
            raise _ApiError(400, ERR_CAPTION)
        return self._record(SentMessage(chat_id, _hex_id(), "photo", photo=photo, caption=caption))

    async def _m_send_sticker(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat(params)
        sticker = params.get("sticker")
        if not isinstance(sticker, str) or not sticker:
            raise _ApiError(400, ERR_STICKER)
        return self._record(SentMessage(chat_id, _hex_id(), "sticker", sticker=sticker))

    async def _m_send_chat_action(self, params: JSONDict) -> object:
        self._chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise _ApiError(400, ERR_ACTION)
        return _NO_RESULT

    # -- webhook delivery ---------------------------------------------------------------------------------

    async def _webhook_worker(self) -> None:
        while True:
            async with self._changed:
                await self._changed.wait_for(lambda: self._webhook is not None and bool(self._pending))
            item = self._pending[0]
            wait = item.not_before - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            hook = self._webhook
            if hook is None or item not in self._pending:
                continue
            if await self._post(hook, item.update):
                self._pending.remove(item)
                self._emit("delivered", item.update)
                self._wake()
                continue
            item.attempts += 1
            item.not_before = time.monotonic() + self.webhook_retry_delay
            if item.attempts >= self.webhook_max_attempts:
                self._pending.remove(item)
                self.undelivered.append(item.update)
                self._wake()

    async def _post(self, hook: _Webhook, update: JSONDict) -> bool:
        assert self._session is not None
        body = json.dumps({"ok": True, "result": update} if self.webhook_wrapped else update).encode()
        message = update.get("message") or {}
        message_id = str(message.get("message_id", "")) if isinstance(message, dict) else ""
        status: int | None = None
        try:
            async with self._session.post(
                hook.url,
                data=body,
                headers={"Content-Type": "application/json", SECRET_HEADER: hook.secret},
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as response:
                status = response.status
                await response.read()
        except (aiohttp.ClientError, TimeoutError):
            status = None
        self.webhook_attempts.append(WebhookAttempt(message_id, status, hook.secret, body))
        self._wake()
        return status is not None and 200 <= status < 300


_NO_RESULT = object()


async def _read_params(request: web.Request) -> JSONDict:
    params: JSONDict = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError as exc:
                raise _ApiError(400, "Bad Request: can't parse JSON body") from exc
            if not isinstance(body, dict):
                raise _ApiError(400, "Bad Request: the body is not a JSON object")
            params.update(body)
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def _as_float(value: object, default: float) -> float:
    try:
        return (
            float(value) if isinstance(value, int | float | str) and not isinstance(value, bool) else default
        )
    except ValueError:
        return default


# -------------------------------------------------------------------------------------------------------
# By hand
# -------------------------------------------------------------------------------------------------------

_HELP = """lines you type go to the bot as the owner:
  any text          a text message (">text" to send text that looks like a command here)
  photo URL [cap]   an image with an optional caption
  sticker           a sticker
  other             an unsupported message (voice, file...)
  group ID text     a text in the group ID (chat_type GROUP)
  user ID           act as another owner
  quit"""


def _start_stdin_reader(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, daemon=True).start()


async def _interact(fake: FakeZaloBot, user: FakeZaloUser, lines: asyncio.Queue[str | None]) -> None:
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
        elif word == "photo" and rest:
            url, _, caption = rest.partition(" ")
            await user.send_image(url, caption or None)
        elif text == "sticker":
            await user.send_sticker()
        elif text == "other":
            await user.send_unsupported()
        elif word == "group" and rest:
            group, _, said = rest.partition(" ")
            await user.send_text(said, group=group)
        elif word == "user" and rest:
            user = fake.user(rest.strip())
            print(f"(now owner {user.user_id})", flush=True)
        elif text in ("help", "?"):
            print(_HELP, flush=True)
        elif text in ("quit", "exit"):
            return
        else:
            await user.send_text(text)


async def _serve(args: argparse.Namespace) -> None:
    async with FakeZaloBot(token=args.token, host=args.host, port=args.port) as fake:
        user = fake.user(args.user_id, args.name)
        print(f"fake Zalo Bot API at {fake.base_url} (token {fake.token})", flush=True)
        print(
            f"the bot's calls go to {fake.base_url}/bot{fake.token}/<method>; you are owner {user.user_id} "
            "('help' for commands)",
            flush=True,
        )

        def show(event: str, data: JSONDict) -> None:
            if event == "sent":
                print(f"<bot> [{data['kind']}] {data.get('text') or ''}", flush=True)

        fake.add_listener(show)
        if args.no_prompt:
            await asyncio.Event().wait()
            return
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        _start_stdin_reader(asyncio.get_running_loop(), lines)
        await _interact(fake, user, lines)


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.zalo_bot", description="Run the fake Zalo Bot API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--token", default="3344556677889900112:fake-zalo-bot-token")
    parser.add_argument("--user-id", default="e4ea2cd5189df1c3a88c")
    parser.add_argument("--name", default="Nguyễn Văn An")
    parser.add_argument("--no-prompt", action="store_true", help="only serve; do not read stdin")
    args = parser.parse_args(list(argv) if argv is not None else None)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
