"""What a channel adapter is to the pipeline: the one interface a platform (Telegram, Zalo Bot, Zalo OA)
implements, so that adding a channel is writing one adapter and no change here.

An adapter does three things and nothing else:

- **in**: :meth:`Adapter.inspect` keys a raw platform update for the inbox (its update id, the user it is
  from, or why it is set aside); :meth:`Adapter.read` turns a stored update into what the pipeline does
  with it: an engine :class:`Input` (:class:`Handle`), a message of the shell's own (:class:`Notice`: a
  refused file, a stale button) or nothing (:class:`Skip`, set aside with a reason or simply done);
- **out**: its :class:`~bot.pipeline.delivery.Transport` turns a rendered outbox message into platform
  calls (text cut to the platform's limit, buttons or numbered lines, documents), part by part;
- **after**: :meth:`Adapter.handled` hears of each handled input, for platform chores (Telegram refreshes
  its command menus when an officer is added).

How updates arrive (long polling, one update per call, a webhook on the shared aiohttp server) is the
adapter's own loop, which hands each batch to :meth:`bot.pipeline.inbox.Inbox.store` before it
acknowledges it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.pipeline.delivery import Transport
from bot.replies import Outcome
from bot.store.db import Database
from conversations.engine import Input


@dataclass(frozen=True)
class Incoming:
    """A raw update as the inbox keeps it: its key, its user, and why it is set aside (or None)."""

    update_id: str
    user_key: str | None
    error: str | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class Handle:
    """Hand this input from this user (the platform's id) to the engine."""

    external_id: str
    input: Input


@dataclass(frozen=True)
class Notice:
    """Answer with a message of the shell's own (a locale key), in the user's language."""

    external_id: str
    key: str
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Skip:
    """Nothing to handle: done (``reason`` None, e.g. a group chat) or set aside for ``reason``."""

    reason: str | None = None


Read = Handle | Notice | Skip


@dataclass(frozen=True)
class Desk:
    """What an adapter may consult while reading an update: the database (through store functions only)
    and, per chat, the platform's id of the last message with buttons the sender delivered."""

    db: Database
    latest_keyboard: Mapping[str, int]


class Adapter(Protocol):
    @property
    def channel(self) -> str:
        """The users' channel ("telegram"): the first half of their user key."""
        ...

    @property
    def source(self) -> str:
        """The inbox's source of this adapter's updates (its update ids are unique within it)."""
        ...

    @property
    def transport(self) -> Transport: ...

    def inspect(self, update: Mapping[str, Any]) -> Incoming:
        """Key a raw update for the inbox; never raises (what cannot be handled is set aside)."""
        ...

    async def read(self, update_id: str, payload: Mapping[str, Any], desk: Desk) -> Read:
        """A stored update as what to do with it (may call the platform: answer a press, fetch a file)."""
        ...

    async def handled(self, read: Handle, outcome: Outcome) -> None:
        """After the input was handled and its replies queued."""
        ...
