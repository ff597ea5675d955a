"""What the core reads about programme news (issue 16): an owner's subscription (:func:`news_of`), and for
the broadcast commands the subscribers and the broadcasts an officer may see (:class:`StoreNews`, read
only when one of those commands asks)."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from bot.store import broadcasts as broadcasts_store
from bot.store import subscriptions
from conversations.context import News
from conversations.officer.audience import in_area
from conversations.officer.context import BroadcastRecord, Subscriber
from conversations.owner import firm
from rules.agencies import Agency

log = logging.getLogger(__name__)


def news_of(s: Session, user_id: int) -> News | None:
    status = subscriptions.status_of(s, user_id)
    return News(*status) if status is not None else None


def subscriber(row: subscriptions.Active, agency: Agency | None) -> Subscriber | None:
    """A subscriber as the core draws an audience from: None without a saved profile (nothing to match a
    programme against yet), or outside the officer's area (left out before the profile is read)."""
    answers = row.profile
    if not answers:
        return None
    province, commune = firm.location(answers)
    if not in_area(agency, province, commune):
        return None
    try:
        profile = firm.profile_of(answers)
    except (KeyError, ValueError, TypeError):  # a profile saved before a question existed
        log.warning("subscriber %s has an incomplete profile; left out of the audience", row.user_id)
        return None
    return Subscriber(
        user_id=row.user_id,
        lang=row.lang,
        province=province,
        commune=commune,
        sector=str(answers["sector"]) if answers.get("sector") else None,
        profile=profile,
        topics=frozenset(row.topics),
    )


class StoreNews:
    """The :class:`conversations.officer.context.NewsReader` of one message's transaction."""

    def __init__(
        self, s: Session, actor: str, agency: Agency | None, subscribers: tuple[Subscriber, ...] | None = None
    ) -> None:
        self.s, self.actor, self.agency = s, actor, agency
        # read before the transaction, off the event loop (bot/prepare.py), or here when first asked
        self._subscribers: tuple[Subscriber, ...] | None = subscribers

    def subscribers(self) -> tuple[Subscriber, ...]:
        if self._subscribers is None:
            found = (subscriber(row, self.agency) for row in subscriptions.active(self.s))
            self._subscribers = tuple(sub for sub in found if sub is not None)
        return self._subscribers

    def broadcasts(self) -> tuple[BroadcastRecord, ...]:
        ids = subscriptions.broadcasts_seen_by(self.s, self.agency.id if self.agency else None, self.actor)
        out = []
        for broadcast_id, agency_id in ids:
            p = broadcasts_store.progress(self.s, broadcast_id)
            if p is None:
                continue
            out.append(
                BroadcastRecord(
                    id=p.broadcast_id,
                    programme_id=p.programme_id,
                    agency_id=agency_id,
                    officer_key=p.officer_key,
                    status=p.status,
                    created=p.created_at,
                    total=p.total,
                    sent=p.sent,
                    failed=p.failed,
                    blocked=p.blocked,
                    remaining=p.remaining,
                )
            )
        return tuple(out)
