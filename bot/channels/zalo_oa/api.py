"""A thin async client of the Zalo Official Account Open API (v3), on aiohttp.

Sending is the customer-service message (``POST /v3.0/oa/message/cs``, header ``access_token``): text of at
most 2,000 characters (longer replies are split with the pipeline's ``split_text``), choices as template
buttons (``oa.query.hide``: a press comes back as a ``user_send_text`` event carrying the button's payload;
more buttons than the platform takes become a numbered list answered by typing), a file by upload then a
file message, an image by a media template. The platform answers HTTP 200 with ``{"error": N}``; the
client turns each code family into its exception (:mod:`bot.channels.zalo_oa.errors`), and on -216 / -220
refreshes the token and makes the call once more.

Facts the public documents leave uncertain are constants (and parameters): the button limit and title
length, the back-off after -32, the upload paths.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.channels.zalo_common import MAX_TEXT_LENGTH, SessionOwner
from bot.channels.zalo_oa.errors import (
    ERR_RATE_LIMIT,
    ERR_UNFOLLOWED,
    OPENAPI_BASE_URL,
    RATE_LIMIT_BACKOFF,
    SEND_PATH,
    TOKEN_ERRORS,
    UPLOAD_FILE_PATH,
    UPLOAD_IMAGE_PATH,
    WINDOW_ERRORS,
    PermanentError,
    RateLimited,
    TokenRefreshNeeded,
    TransientError,
    Unfollowed,
    WindowClosed,
    as_int,
    text_id,
)
from bot.channels.zalo_oa.tokens import TokenManager
from bot.pipeline.delivery import split_text
from locales import t

# Unconfirmed: the documents and integrations disagree on the number of buttons a message may carry and on
# the length of a title; smaller is safe (an over-long list becomes a numbered one).
MAX_BUTTONS = 5
MAX_BUTTON_TITLE = 100
BUTTON_TYPE = "oa.query.hide"


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
        code = as_int(data.get("error"), -1)
        message = str(data.get("message") or "")
        if code == 0:
            result = data.get("data")
            return result if isinstance(result, dict) else {}
        if code in TOKEN_ERRORS:
            raise TokenRefreshNeeded(path, code, message)
        if code in WINDOW_ERRORS:
            raise WindowClosed(path, code, message)
        if code == ERR_UNFOLLOWED:
            raise Unfollowed(path, code, message)
        if code == ERR_RATE_LIMIT:
            raise RateLimited(path, message, self.rate_limit_backoff)
        raise PermanentError(path, code, message)

    async def send_message(self, user_id: str, message: dict[str, Any]) -> str:
        """One customer-service message as the platform takes it (text ≤ 2,000, an attachment); its id."""
        data = await self.call(SEND_PATH, lambda: {"recipient": {"user_id": user_id}, "message": message})
        return text_id(data.get("message_id"))

    async def send_text(self, user_id: str, text: str) -> list[str]:
        """Send ``text``, split at line breaks into parts of at most 2,000 characters; their ids."""
        return [
            await self.send_message(user_id, {"text": part})
            for part in split_text(text, self.max_text_length)
        ]

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
        ids = [await self.send_message(user_id, {"text": part}) for part in parts[:-1]]
        template = {
            "type": "template",
            "payload": {
                "buttons": [{"title": b.title, "type": BUTTON_TYPE, "payload": b.payload} for b in buttons]
            },
        }
        ids.append(await self.send_message(user_id, {"text": parts[-1], "attachment": template}))
        return ids

    async def upload_file(self, content: bytes, filename: str, mime: str = "application/pdf") -> str:
        """Upload a document (PDF, DOC, DOCX); the token a file message refers to."""

        data = await self.call(UPLOAD_FILE_PATH, file_form(content, filename, mime))
        token = text_id(data.get("token"))
        if not token:
            raise PermanentError(UPLOAD_FILE_PATH, None, "no file token in the answer")
        return token

    async def send_file(
        self, user_id: str, content: bytes, filename: str, mime: str = "application/pdf"
    ) -> str:
        token = await self.upload_file(content, filename, mime)
        return await self.send_message(user_id, {"attachment": {"type": "file", "payload": {"token": token}}})

    async def upload_image(self, content: bytes, filename: str, mime: str = "image/png") -> str:
        data = await self.call(UPLOAD_IMAGE_PATH, file_form(content, filename, mime))
        attachment = text_id(data.get("attachment_id"))
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
        return await self.send_message(user_id, message)


def numbered_choices(text: str, buttons: Sequence[Button], lang: str = "vi") -> str:
    """The choices as numbered lines under ``text``, with how to answer (the conversation reads numbers)."""
    lines = [t("nav.numbered", lang, n=i, label=b.title) for i, b in enumerate(buttons, start=1)]
    return "\n".join([text, *lines, t("zalo.type_number", lang)])


def file_form(content: bytes, filename: str, mime: str) -> Callable[[], aiohttp.FormData]:
    """The multipart body of an upload, built anew for each attempt (a FormData is read once)."""

    def form() -> aiohttp.FormData:
        body = aiohttp.FormData()
        body.add_field("file", content, filename=filename, content_type=mime)
        return body

    return form
