"""Who can be reached, and who is told when someone cannot (issue 17, the Zalo OA).

An OA may write to a user freely only within a window counted from their last interaction
(``users.last_seen_at``); beyond it a notification, a reminder or a broadcast is held, not sent blind,
and the person whose decision it was hears of it: the officer named in the message (``officer_key``, a
broadcast's sender), else the officer who last acted on the dossier it is about, else the admins. A user
who unfollows the OA is unreachable until they write again. And the admins hear of a platform token that
can no longer be refreshed: an alert, never a crash.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store import dossiers as dossiers_store
from bot.store import outbox
from bot.store import users as users_store
from bot.store.models import Event, Outbox, User

Json = dict[str, Any]
HELD_KEY = "zalo_oa.held"  # the locale key of the report to an officer


def last_seen(s: Session, user_id: int) -> datetime | None:
    """When the user last wrote (the start of their window)."""
    return s.scalar(select(User.last_seen_at).where(User.id == user_id))


def mark_unreachable(s: Session, channel: str, external_id: str) -> bool:
    """They left (an OA unfollow): nothing more is sent to them until they write again (the service sets
    them reachable on their next message). False when the bot never knew them."""
    user = users_store.user_by_key(s, users_store.user_key(channel, external_id))
    if user is None:
        return False
    user.unreachable = True
    return True


def _who_decided(s: Session, payload: Mapping[str, Any], owner_key: str) -> str | None:
    """The officer behind a message: named in it, or the last one who acted on its dossier."""
    named = payload.get("officer_key")
    if isinstance(named, str) and named:
        return named
    ref = dict(payload.get("params") or {}).get("ref")
    dossier = dossiers_store.dossier_by_ref(s, str(ref)) if ref else None
    if dossier is None:
        return None
    actor = s.scalar(
        select(Event.actor)
        .where(Event.dossier_id == dossier.id, Event.actor != owner_key)
        .order_by(Event.id.desc())
        .limit(1)
    )
    return str(actor) if actor else None


def report_held(s: Session, outbox_id: int, reason: str, admins: Iterable[str]) -> list[str]:
    """Tell whoever decided a held message (or the admins) that it could not go and why; once per message
    and person (a retry or a restart reports nothing twice). A held report is not reported again (no
    chain). The user keys told."""
    row = s.get(Outbox, outbox_id)
    user = s.get(User, row.user_id) if row is not None else None
    if row is None or user is None or row.payload.get("held_report"):
        return []
    owner_key = users_store.user_key(user.channel, user.external_id)
    decided = _who_decided(s, row.payload, owner_key)
    told = [decided] if decided else sorted(set(admins))
    params = dict(row.payload.get("params") or {})
    payload = {
        "key": HELD_KEY,
        "params": {
            "who": user.display_name or owner_key,
            "user_key": owner_key,
            "ref": str(params.get("ref") or "—"),
            "reason": reason,
        },
        "held_report": True,
    }
    reported = []
    for key in told:
        if _enqueue_to(s, key, payload, f"held:{outbox_id}:{key}"):
            reported.append(key)
    return reported


def alert_admins(s: Session, admins: Iterable[str], payload: Json, dedup_key: str) -> list[str]:
    """A message to every admin (their own channel), once per ``dedup_key`` and admin."""
    return [key for key in sorted(set(admins)) if _enqueue_to(s, key, payload, f"{dedup_key}:{key}")]


def _enqueue_to(s: Session, key: str, payload: Json, dedup_key: str) -> bool:
    channel, _, external_id = key.partition(":")
    if not external_id:
        return False
    person = users_store.get_or_create_user(s, channel, external_id)
    if person.deleted_at is not None:
        return False
    outbox.enqueue(s, person, payload, dedup_key=dedup_key[:200])
    return True
