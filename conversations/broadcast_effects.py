"""The effects of programme news (issue 16), members of :data:`conversations.effects.Effect`: an owner's
subscription (a consent of its own, Decree 13/2023, never bundled with the dossier's), and the
broadcasts an officer starts or stops."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conversations.messages import Msg


@dataclass(frozen=True)
class Subscribe:
    """The owner agreed to programme news: kinds of support (``topics``; empty: every kind). Their region
    is the one of their saved profile, read when a broadcast is composed."""

    version: str  # of the news consent text they agreed to
    topics: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChooseTopics:
    """The kinds of support a subscriber wants to hear about (empty: every kind)."""

    topics: tuple[str, ...]


@dataclass(frozen=True)
class Unsubscribe:
    """No more news: the row stays, with when they stopped (the consent's record)."""


@dataclass(frozen=True)
class StartBroadcast:
    """One message per recipient, in their language: the rows are written now, the sender delivers them.
    ``done`` is what the officer reads, with the new broadcast's ``id`` added by the shell."""

    programme_id: str
    agency_id: str | None
    texts: Mapping[str, str]  # language -> the whole message, with how to stop
    audience: Mapping[str, Any]  # the filters the officer chose, as stored with the broadcast
    user_ids: tuple[int, ...]
    done: Msg = field(default_factory=lambda: Msg("news.bc.started"))


@dataclass(frozen=True)
class CancelBroadcast:
    """Stop a broadcast: the rows not sent yet are not sent; audited."""

    broadcast_id: int
    done: Msg = field(default_factory=lambda: Msg("news.bc.cancelled"))
