"""python-telegram-bot's networking on aiohttp: a :class:`telegram.request.BaseRequest` backend.

PTB talks to the Bot API through a ``BaseRequest`` and ships one on httpx; it documents the class as the
place to plug another HTTP library in. smebot already runs aiohttp (the webhook server), and its client
costs less CPU per call than httpx + httpcore: it writes a request's headers and body in one socket
write and parses the answer in C. Everything above the transport (the methods, the JSON, the error
mapping by HTTP status, ``RetryAfter``) stays PTB's own.

One status is translated: PTB raises a plain ``NetworkError`` (which reads as "try again") for any HTTP
status it has no class for, the 4xx ones included. A 4xx other than 401, 403, 404, 408, 409 and 429 (413
"Request Entity Too Large", 414, 415...) is the platform refusing the request as it is, so it is handed to
PTB as a 400 (``BadRequest``, with the platform's description): sending it again gets the same answer.

Timeouts follow PTB's meaning: ``connect`` bounds opening a connection, ``pool`` waiting for a free one,
``read`` waiting for the answer, ``write`` sending the request; a request that overruns raises
:class:`telegram.error.TimedOut`, any other transport failure :class:`telegram.error.NetworkError`.
"""

from __future__ import annotations

import asyncio

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# 4xx statuses PTB has its own exception for, or that may succeed when repeated (408, 429)
_PTB_CLIENT_ERRORS = frozenset({400, 401, 403, 404, 408, 409, 429})


def refusal_status(status: int) -> int:
    """The status PTB is given: a 4xx it would take for a network error becomes a 400 (see above)."""
    return 400 if 400 <= status < 500 and status not in _PTB_CLIENT_ERRORS else status


class AiohttpRequest(BaseRequest):
    """A pool of keep-alive connections to the Bot API (one :class:`aiohttp.ClientSession`)."""

    __slots__ = ("_defaults", "_pool_size", "_session")

    def __init__(
        self,
        connection_pool_size: int = 8,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._defaults = {
            "read": read_timeout,
            "write": write_timeout,
            "connect": connect_timeout,
            "pool": pool_timeout,
            "media_write": media_write_timeout,
        }
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._defaults["read"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}, auto_decompress=True
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _timeout(self, name: str, given: object) -> float | None:
        """PTB passes ``DEFAULT_NONE`` for "not given": then this request's default applies."""
        if given is BaseRequest.DEFAULT_NONE:
            return self._defaults[name]
        return None if given is None else float(given)  # type: ignore[arg-type]

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        params = request_data.json_parameters if request_data else None
        files = request_data.multipart_data if request_data else None
        data: aiohttp.FormData | dict[str, str] | None = params
        if files:  # a multipart upload: the parameters as fields beside the files
            form = aiohttp.FormData(quote_fields=False)
            for name, value in (params or {}).items():
                form.add_field(name, value)
            for name, part in files.items():
                filename, content, mime = part if len(part) == 3 else (*part, None)
                form.add_field(name, content, filename=filename, content_type=mime)
            data = form
        read = self._timeout("read", read_timeout)
        write = self._timeout("media_write" if files else "write", write_timeout)
        connect = self._timeout("connect", connect_timeout)
        pool = self._timeout("pool", pool_timeout)
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )
        # aiohttp has no write timeout of its own: the whole exchange is bounded by the sum.
        parts = (read, write, connect, pool)
        overall = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
        try:
            async with asyncio.timeout(overall):
                async with self._session.request(method, url, data=data, timeout=timeout) as response:
                    return refusal_status(response.status), await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {error}") from error
