"""Broadcasts (issue 16): a programme announced to many owners, one row per recipient, each sent at most
once in the normal course and at least once across crashes.

A recipient row moves ``pending`` → ``sending`` (claimed: ``attempts`` + 1 and ``attempted_at`` written
and committed *before* the platform is called) → ``sent`` | ``failed`` (the platform's reason, never the
text) | ``blocked`` (the user blocked the bot: marked unreachable) | ``cancelled`` (the officer cancelled,
the person erased their data or unsubscribed meanwhile) | ``held`` (the platform may not carry it to them
now: a Zalo OA user outside the window); a failure that may pass (a 429, a time-out, a 5xx)
puts it back to ``pending`` with a ``not_before``.

**The crash bound.** A row still ``sending`` when the process dies may or may not have reached the owner:
the claim is written down before the call, the outcome only after. :func:`recover` (at start) puts such
rows back to ``pending`` and they are sent again: at least once, never lost. The broadcaster never holds
more than one claim (``batch`` rows, :data:`DEFAULT_BATCH`) whose outcome is not written down, so a kill
sends at most that many recipients a second copy; the others are sent exactly once (as long as the
platform answers: a send the platform carried out whose answer never came is retried too, as in the
outbox). One broadcaster per channel is assumed (one bot process, as Telegram's polling requires).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, insert, or_, select, update
from sqlalchemy.orm import Session

from bot.store import outbox
from bot.store.models import Broadcast, BroadcastRecipient, Subscription, User, utcnow
from bot.store.sql import Json, dialect, rowcount

DEFAULT_BATCH = 100  # recipients claimed at a time: what a crash may send twice, at most
REMAINING = ("pending", "sending")
_R = BroadcastRecipient
# a row going back to the queue stays out of it when its broadcast was cancelled meanwhile
_PENDING_UNLESS_CANCELLED = case(
    (
        select(Broadcast.status).where(Broadcast.id == _R.broadcast_id).scalar_subquery() == "cancelled",
        "cancelled",
    ),
    else_="pending",
)


@dataclass(frozen=True)
class Claimed:
    """A recipient to send to now, with what the sender needs: the chat, the text in their language."""

    recipient_id: int
    broadcast_id: int
    user_id: int
    external_id: str
    lang: str
    text: str
    attempts: int  # platform calls made for this row, this one included


@dataclass(frozen=True)
class Progress:
    """Where a broadcast stands: ``remaining`` is pending or being sent (a retry time counts as pending)."""

    broadcast_id: int
    programme_id: str
    officer_key: str
    status: str  # sending | done | cancelled
    total: int
    sent: int
    failed: int
    blocked: int
    cancelled: int
    held: int  # the platform may not carry it to them now (a Zalo OA user outside the window)
    remaining: int
    created_at: datetime
    finished_at: datetime | None

    @property
    def done(self) -> int:
        return self.total - self.remaining


Render = Callable[[Progress, str], Json]  # a report on a broadcast, in a language, as an outbox payload


def create(
    s: Session,
    *,
    programme_id: str,
    agency_id: str | None,
    officer_key: str,
    texts: dict[str, str],
    audience: dict[str, object],
    recipients: Sequence[User],
) -> int:
    """A broadcast, status ``sending``, and one pending row per recipient (channel, chat and language
    copied now); users erased or unreachable (they blocked the bot and have not written since) are left
    out, and a user listed twice gets one row. With nobody left it is ``done`` at once. Its id."""
    if "vi" not in texts:
        raise ValueError("a broadcast needs its Vietnamese text (the fallback of every language)")
    broadcast = Broadcast(
        programme_id=programme_id,
        agency_id=agency_id,
        officer_key=officer_key,
        texts=dict(texts),
        audience=dict(audience),
        status="sending",
        total=0,
    )
    s.add(broadcast)
    s.flush()
    rows, seen = [], set()
    for user in recipients:
        if user.id in seen or user.deleted_at is not None or user.unreachable:
            continue
        seen.add(user.id)
        rows.append(
            {
                "broadcast_id": broadcast.id,
                "user_id": user.id,
                "channel": user.channel,
                "external_id": user.external_id,
                "lang": user.lang or "vi",
                "status": "pending",
                "attempts": 0,
            }
        )
    if rows:
        s.execute(insert(_R), rows)
    broadcast.total = len(rows)
    if not rows:
        broadcast.status, broadcast.finished_at = "done", utcnow()
    s.flush()
    return broadcast.id


def claim_batch(s: Session, channel: str, limit: int, now: datetime | None = None) -> list[Claimed]:
    """Up to ``limit`` rows of ``channel`` that may go now (pending, their retry time passed, their
    broadcast still sending), the oldest broadcast first; each is ``sending`` with its attempt counted and
    ``attempted_at`` set when this transaction commits, before any platform call. Rows of people who
    became unreachable, erased their data or unsubscribed since the broadcast was made are closed here
    instead, never sent."""
    now = now or utcnow()
    stmt = (
        select(_R.id, _R.broadcast_id, _R.user_id, _R.external_id, _R.lang, _R.attempts)
        .join(Broadcast, Broadcast.id == _R.broadcast_id)
        .where(
            Broadcast.status == "sending",
            _R.channel == channel,
            _R.status == "pending",
            or_(_R.not_before.is_(None), _R.not_before <= now),
        )
        .order_by(_R.broadcast_id, _R.id)
        .limit(limit)
    )
    if dialect(s) == "postgresql":
        stmt = stmt.with_for_update(of=_R, skip_locked=True)
    rows = s.execute(stmt).all()
    if not rows:
        return []
    ids = [row.id for row in rows]
    closed = _unwanted(s, ids)
    for status, reason in (
        ("blocked", "unreachable"),
        ("cancelled", "erased"),
        ("cancelled", "unsubscribed"),
    ):
        gone = [i for i, why in closed.items() if why == reason]
        if gone:
            s.execute(update(_R).where(_R.id.in_(gone)).values(status=status, error=reason))
    keep = [row for row in rows if row.id not in closed]
    if keep:
        s.execute(
            update(_R)
            .where(_R.id.in_([row.id for row in keep]))
            .values(status="sending", attempts=_R.attempts + 1, attempted_at=now)
        )
    texts = _texts(s, {row.broadcast_id for row in keep})
    return [
        Claimed(
            row.id,
            row.broadcast_id,
            row.user_id,
            row.external_id,
            row.lang,
            _text_for(texts[row.broadcast_id], row.lang),
            row.attempts + 1,
        )
        for row in keep
    ]


def _unwanted(s: Session, ids: list[int]) -> dict[int, str]:
    """Rows whose person must not get the message any more, and why."""
    stmt = (
        select(_R.id, User.unreachable, User.deleted_at, Subscription.unsubscribed_at)
        .join(User, User.id == _R.user_id)
        .outerjoin(Subscription, Subscription.user_id == _R.user_id)
        .where(
            _R.id.in_(ids),
            or_(User.unreachable, User.deleted_at.is_not(None), Subscription.unsubscribed_at.is_not(None)),
        )
    )
    out: dict[int, str] = {}
    for rid, unreachable, deleted_at, _ in s.execute(stmt).all():
        out[rid] = "erased" if deleted_at is not None else "unreachable" if unreachable else "unsubscribed"
    return out


def _texts(s: Session, broadcast_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    ids = list(broadcast_ids)
    if not ids:
        return {}
    return {
        bid: texts
        for bid, texts in s.execute(select(Broadcast.id, Broadcast.texts).where(Broadcast.id.in_(ids)))
    }


def _text_for(texts: dict[str, str], lang: str) -> str:
    return texts.get(lang) or texts["vi"]


def mark_sent_many(s: Session, recipient_ids: Sequence[int], now: datetime | None = None) -> None:
    """Delivered, in one statement (the broadcaster writes down every send of the last moment at once)."""
    if recipient_ids:
        s.execute(
            update(_R)
            .where(_R.id.in_(list(recipient_ids)), _R.status == "sending")
            .values(status="sent", sent_at=now or utcnow(), error=None)
        )


def mark_retry(
    s: Session, recipient_id: int, not_before: datetime, error: str, *, counted: bool = True
) -> None:
    """Try again at ``not_before`` (a 429, a time-out, a 5xx); ``counted=False`` for a 429, which is the
    platform asking to wait, not a failed attempt toward giving up."""
    values: dict[str, object] = {
        "status": _PENDING_UNLESS_CANCELLED,
        "not_before": not_before,
        "error": error[:500],
    }
    if not counted:
        values["attempts"] = _R.attempts - 1
    s.execute(update(_R).where(_R.id == recipient_id, _R.status == "sending").values(**values))


def mark_blocked(s: Session, recipient_id: int, user_id: int, error: str) -> None:
    """The user blocked the bot: the row is ``blocked`` and the user unreachable (later broadcasts skip
    them until they write again, see bot/service.py)."""
    s.execute(update(_R).where(_R.id == recipient_id).values(status="blocked", error=error[:500]))
    s.execute(update(User).where(User.id == user_id).values(unreachable=True))


def mark_failed(s: Session, recipient_id: int, error: str) -> None:
    """Given up for good, with the platform's reason (never the text)."""
    s.execute(update(_R).where(_R.id == recipient_id).values(status="failed", error=error[:500]))


def record(
    s: Session,
    *,
    sent: Sequence[int] = (),
    retries: Sequence[tuple[int, datetime, str, bool]] = (),
    blocked: Sequence[tuple[int, int, str]] = (),
    failed: Sequence[tuple[int, str]] = (),
    held: Sequence[tuple[int, str]] = (),
) -> None:
    """The outcomes of many sends in one transaction: ``sent`` recipient ids; ``retries`` (id, not
    before, error, counted); ``blocked`` (id, user id, error); ``failed`` and ``held`` (id, reason)."""
    mark_sent_many(s, sent)
    for recipient_id, not_before, error, counted in retries:
        mark_retry(s, recipient_id, not_before, error, counted=counted)
    for recipient_id, user_id, error in blocked:
        mark_blocked(s, recipient_id, user_id, error)
    for recipient_id, error in failed:
        mark_failed(s, recipient_id, error)
    for recipient_id, reason in held:
        s.execute(update(_R).where(_R.id == recipient_id).values(status="held", error=reason[:500]))


def release(s: Session, recipient_ids: Sequence[int]) -> None:
    """Claimed but not sent (a clean stop): back to ``pending``, the attempt not counted."""
    if recipient_ids:
        s.execute(
            update(_R)
            .where(_R.id.in_(list(recipient_ids)), _R.status == "sending")
            .values(status=_PENDING_UNLESS_CANCELLED, attempts=_R.attempts - 1)
        )


def recover(s: Session, channel: str) -> int:
    """At start: rows of ``channel`` left ``sending`` by a crash (the last claim, at most ``batch`` rows)
    go back to ``pending`` and will be sent again (at least once; see the module's crash bound). The
    number of rows recovered."""
    return rowcount(
        s,
        update(_R)
        .where(_R.channel == channel, _R.status == "sending")
        .values(status=_PENDING_UNLESS_CANCELLED, not_before=None),
    )


def progress(s: Session, broadcast_id: int) -> Progress | None:
    """Counts by outcome, from the rows (one indexed query)."""
    broadcast = s.get(Broadcast, broadcast_id)
    if broadcast is None:
        return None
    stmt = select(_R.status, func.count()).where(_R.broadcast_id == broadcast_id).group_by(_R.status)
    counts: dict[str, int] = {status: int(n) for status, n in s.execute(stmt).all()}
    return Progress(
        broadcast.id,
        broadcast.programme_id,
        broadcast.officer_key,
        broadcast.status,
        broadcast.total,
        counts.get("sent", 0),
        counts.get("failed", 0),
        counts.get("blocked", 0),
        counts.get("cancelled", 0),
        counts.get("held", 0),
        sum(counts.get(status, 0) for status in REMAINING),
        broadcast.created_at,
        broadcast.finished_at,
    )


def cancel(s: Session, broadcast_id: int) -> Progress | None:
    """Stop a broadcast: its pending rows are ``cancelled`` (those being sent this instant still finish)
    and it is ``cancelled``. Its progress after that; None when it was not sending."""
    found = s.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status == "sending")
        .values(status="cancelled", finished_at=utcnow())
        .returning(Broadcast.id)
    ).first()
    if found is None:
        return None
    s.execute(
        update(_R)
        .where(_R.broadcast_id == broadcast_id, _R.status == "pending")
        .values(status="cancelled", error="cancelled by the officer")
    )
    return progress(s, broadcast_id)


def finish(s: Session, broadcast_id: int) -> Progress | None:
    """``done`` (with ``finished_at``) when nothing is pending or being sent any more; its final
    progress then, None when it still has rows to send or was already finished or cancelled."""
    remaining = s.scalar(
        select(func.count()).where(_R.broadcast_id == broadcast_id, _R.status.in_(REMAINING))
    )
    if remaining:
        return None
    finished = s.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status == "sending")
        .values(status="done", finished_at=utcnow())
        .returning(Broadcast.id)
    ).first()
    return progress(s, broadcast_id) if finished is not None else None


def sending(s: Session, channel: str | None = None) -> list[int]:
    """The broadcasts still sending (with rows on ``channel``, when given), oldest first."""
    stmt = select(Broadcast.id).where(Broadcast.status == "sending").order_by(Broadcast.id)
    if channel is not None:
        has_rows = select(_R.id).where(and_(_R.broadcast_id == Broadcast.id, _R.channel == channel)).exists()
        stmt = stmt.where(has_rows)
    return list(s.scalars(stmt))


def report(s: Session, p: Progress, render: Render, dedup_key: str) -> int | None:
    """Queue a message about ``p`` to the officer who sent it, ``render(p, their language)``, once per
    ``dedup_key``; its outbox id if queued now (None: already queued, or the officer is gone)."""
    officer = officer_user(s, p.officer_key)
    if officer is None:
        return None
    return outbox.enqueue(s, officer, render(p, officer.lang), dedup_key=dedup_key)


def finish_and_report(s: Session, broadcast_id: int, render: Render) -> tuple[Progress | None, int | None]:
    """:func:`finish` and, in the same transaction, the final report to the officer (keyed
    ``broadcast:<id>:done``): (the final progress, the report's outbox id), each None if not done now."""
    p = finish(s, broadcast_id)
    if p is None:
        return None, None
    return p, report(s, p, render, f"broadcast:{broadcast_id}:done")


def officer_user(s: Session, officer_key: str) -> User | None:
    """The officer who sent a broadcast ("channel:external_id", as bot.store.users.user_key): the reports
    go to them."""
    channel, _, external_id = officer_key.partition(":")
    stmt = select(User).where(User.channel == channel, User.external_id == external_id)
    user = s.scalar(stmt)
    return user if user is not None and user.deleted_at is None else None
