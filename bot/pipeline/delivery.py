"""What the pipeline and a channel's transport agree on: one outbox message (:class:`Message`), how a
transport reports each part it delivered (:data:`Progress`), and the four ways a platform says no
(:class:`Flood`, :class:`Transient`, :class:`Blocked`, :class:`Refused`; :class:`Held`, a message the
platform may not carry now); with the helpers every channel
uses on the way out (valid text, text cut to the platform's limit) and the sender's limiter.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.effects import render_notification

MAX_ATTEMPTS = 8  # failed attempts (429, 5xx, network) before a message is given up: about a minute


class Blocked(Exception):
    """The user blocked the bot (Telegram 403): stop sending to them."""


class Flood(Exception):
    """Too many messages (Telegram 429): wait ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class Transient(Exception):
    """A network error, a time-out or a 5xx: try again later."""


class Refused(Exception):
    """The platform refused this message for good (a 400, a 403 other than "blocked", a 404): sending it
    again would get the same answer. ``reason`` is the platform's, never the message's text; ``part`` the
    part of the reply refused (the others are still sent); ``reply_possible`` whether a message can still
    reach the user (not when the chat is gone)."""

    def __init__(self, reason: str, *, part: str | None = None, reply_possible: bool = True) -> None:
        super().__init__(reason)
        self.reason, self.part, self.reply_possible = reason, part, reply_possible


class Held(Refused):
    """The platform may not carry this message now (a Zalo OA user outside the window in which the OA may
    write to them): the outbox keeps it as ``held`` with ``reason``, neither sent blind nor retried, and
    the sender's ``on_held`` tells whoever decided it. A Refused (nothing reaches the user) to code that
    does not know it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, reply_possible=False)


@dataclass(frozen=True)
class Message:
    outbox_id: int
    user_id: int
    chat: str
    lang: str
    payload: Mapping[str, Any]
    attempts: int
    # the parts already dealt with: part -> the platform's message id, True, or "failed: <reason>"
    done: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        if self.payload.get("kind") == "reply":
            return str(self.payload.get("text", ""))
        return render_notification(self.payload, self.lang)  # a notification, in the owner's language now


# called by a transport after each part it delivered: (part, the platform's message id, whether it was the
# last part of the message)
Progress = Callable[[str, int | None, bool], Awaitable[None]]


class Transport(Protocol):
    async def send(self, message: Message, progress: Progress) -> int | None:
        """Deliver the parts of one message not in ``message.done``, in order, calling ``progress`` after
        each; the platform's id of the message that carries the buttons, when it has one. Raises
        :class:`Flood`, :class:`Transient`, :class:`Blocked`, :class:`Refused` (with the part) or
        :class:`Held`."""
        ...


_SURROGATES = re.compile("[\ud800-\udfff]")


def valid_text(text: str) -> str:
    """Text every platform takes: lone surrogates (invalid in UTF-8 and UTF-16) become U+FFFD."""
    return _SURROGATES.sub("\ufffd", text)


def _units(char: str) -> int:
    """UTF-16 code units: how Telegram counts a message's length (an emoji outside the BMP counts 2)."""
    return 2 if ord(char) > 0xFFFF else 1


def split_text(text: str, limit: int) -> list[str]:
    """``text`` (made valid) in pieces of at most ``limit`` UTF-16 units, for a platform that refuses
    longer messages (Telegram 4,096, Zalo 2,000). Cut at the last line break that fits, else at the last
    space, else anywhere but inside a character; nothing is lost but the whitespace at the cuts."""
    text = valid_text(text)
    pieces: list[str] = []
    while text:
        fits, used = 0, 0
        for char in text:
            used += _units(char)
            if used > limit:
                break
            fits += 1
        if fits == len(text):
            cut = fits
        else:
            cut = text.rfind("\n", 0, fits + 1)
            if cut <= 0:
                cut = text.rfind(" ", 0, fits + 1)
            if cut <= 0:
                cut = max(fits, 1)
        piece, text = text[:cut].rstrip(), text[cut:].lstrip()
        if piece:
            pieces.append(piece)
    return pieces


class TokenBucket:
    def __init__(
        self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.capacity, self.clock = rate, burst or rate, clock
        self.tokens, self.stamp = self.capacity, clock()

    def delay(self) -> float:
        """Seconds to wait before a token is free (0 when one is)."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


def backoff(attempts: int, base: float = 0.5, cap: float = 60.0) -> float:
    return float(min(cap, base * 2 ** max(0, attempts)))
