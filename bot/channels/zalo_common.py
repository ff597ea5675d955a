"""What the two Zalo clients share: the text limit and comparing secrets in constant time.

Zalo's limit for one text is 2,000 characters on both the Bot API and the OA API. The documents do not say
whether a "character" is a code point or a UTF-16 unit; the clients cut long replies with the pipeline's
``split_text``, which counts UTF-16 units (the stricter reading) and takes the limit as a parameter.
"""

from __future__ import annotations

import hmac
from types import TracebackType
from typing import Self

import aiohttp

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
