"""What the two Zalo channels share: the text limit, comparing secrets in constant time, a capped
download, and reading a typed choice (neither shows a staff member's choices as buttons every time).

Zalo's limit for one text is 2,000 characters on both the Bot API and the OA API. The documents do not say
whether a "character" is a code point or a UTF-16 unit; the clients cut long replies with the pipeline's
``split_text``, which counts UTF-16 units (the stricter reading) and takes the limit as a parameter.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from types import TracebackType
from typing import Self

import aiohttp

from bot.attachments import AttachmentStore
from bot.channels.choices import chosen
from bot.store import outbox
from bot.store.db import Database
from conversations.engine import Input
from rules.text import fold

FETCH_TIMEOUT = 20.0  # seconds to download a file an owner sent (Zalo gives the bot a URL)

MAX_TEXT_LENGTH = 2000


def constant_time_equals(expected: str, received: str | None) -> bool:
    """``received == expected`` in time that does not depend on where they differ (a missing value is
    never equal)."""
    if received is None:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), received.encode("utf-8"))


class SessionOwner:
    """An HTTP session lent by the caller, or made on first use and closed with the client."""

    def __init__(self, session: aiohttp.ClientSession | None) -> None:
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session


async def fetch_capped(
    http: aiohttp.ClientSession,
    url: str,
    name_for: Callable[[str], str],
    default_mime: str,
    attachments: AttachmentStore,
) -> tuple[bytes, str]:
    """The file an owner sent, at ``url`` (its name from its type: ``name_for(mime)``): refused by the
    attachment store (too big, a type not taken) as soon as its declared or read length says so, without
    reading on."""
    timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT)
    async with http.get(url, timeout=timeout) as response:
        if response.status != 200:
            raise ValueError(f"HTTP {response.status}")
        mime = response.content_type or default_mime
        name = name_for(mime)
        attachments.check(name, mime, max(response.content_length or 1, 1))
        content = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            content += chunk
            if len(content) > attachments.max_bytes:
                attachments.check(name, mime, len(content))  # raises: too big
        return bytes(content), mime


async def typed_choice(db: Database, channel: str, external_id: str, text: str) -> Input:
    """What was typed, as the choice it stands for under the last message sent to the chat, if any
    (:func:`bot.channels.choices.chosen`: an officer's "HS-2026-000001" under /queue, "nhan xu ly" or
    "1" under a dossier), else as text."""
    if not fold(text) or text.lstrip().startswith("/"):
        return Input(text=text)  # nothing to look up
    payload = chosen(text, await db.run(outbox.last_choices, channel, external_id))
    return Input(payload=payload) if payload is not None else Input(text=text)
