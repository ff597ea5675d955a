"""Users and their conversation state: who writes (channel + id), the saved profile of their firm, and the
state saved after every answer (one statement, built once)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Select, bindparam, case, func, null, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.models import (
    ConversationState,
    Dossier,
    Enterprise,
    User,
    utcnow,
)
from bot.store.sql import Json, dialect, insert_for


def user_key(channel: str, external_id: str) -> str:
    """The inbox's user_key for a platform user, e.g. "telegram:12345"."""
    return f"{channel}:{external_id}"


def _user_by_identity(s: Session, channel: str, external_id: str) -> User | None:
    stmt = select(User).where(User.channel == channel, User.external_id == external_id)
    return s.scalar(stmt)


def find_user(s: Session, channel: str, external_id: str) -> User | None:
    """The user of a chat, if they ever wrote (a read: nobody is created)."""
    return _user_by_identity(s, channel, external_id)


def get_or_create_user(s: Session, channel: str, external_id: str) -> User:
    found = _user_by_identity(s, channel, external_id)
    if found is not None:
        return found
    user = User(channel=channel, external_id=external_id)
    try:
        with s.begin_nested():
            s.add(user)
    except IntegrityError:  # another session inserted the same user between our select and insert
        found = _user_by_identity(s, channel, external_id)
        if found is None:
            raise
        return found
    return user


def lock_user(s: Session, user_id: int) -> None:
    """Serialise this transaction with every other one that locks the same user, until commit."""
    if dialect(s) == "postgresql":
        s.execute(select(User.id).where(User.id == user_id).with_for_update())


def _snapshot_statement() -> Select[Any]:
    dossiers = select(func.count(Dossier.id)).where(Dossier.user_id == User.id).scalar_subquery()
    return (
        select(User, ConversationState.state, Enterprise, dossiers)
        .outerjoin(ConversationState, ConversationState.user_id == User.id)
        .outerjoin(Enterprise, Enterprise.user_id == User.id)
        .where(User.channel == bindparam("channel"), User.external_id == bindparam("external_id"))
    )


_SNAPSHOT = _snapshot_statement()  # built once: this runs for every message


def user_snapshot(
    s: Session, channel: str, external_id: str
) -> tuple[User, Json | None, Enterprise | None, int]:
    """The user (created if new), their conversation state, enterprise and dossier count: one query."""
    row = s.execute(_SNAPSHOT, {"channel": channel, "external_id": external_id}).first()
    if row is None:
        return get_or_create_user(s, channel, external_id), None, None, 0
    user, state, enterprise, count = row
    return user, state, enterprise, int(count or 0)


def load_state(s: Session, user_id: int) -> Json | None:
    stmt = select(ConversationState.state).where(ConversationState.user_id == user_id)
    return s.scalar(stmt)


_STATES = ConversationState.__table__


def _draft_started(now: Any) -> Any:
    """When the journey in progress began: kept while one is (``drafting``), begun now if none was, gone
    when none is (filed, cancelled). The reminder of an abandoned draft is keyed on it (issue 16)."""
    started = func.coalesce(_STATES.c.draft_started_at, now)
    return case((bindparam("drafting", type_=Boolean), started), else_=null())


_UPDATE_STATE = (
    update(_STATES)
    .where(_STATES.c.user_id == bindparam("uid"))
    .values(
        state=bindparam("new_state", type_=_STATES.c.state.type),
        version=_STATES.c.version + 1,
        updated_at=bindparam("now", type_=_STATES.c.updated_at.type),
        draft_started_at=_draft_started(bindparam("now", type_=_STATES.c.updated_at.type)),
    )
)


def save_state(s: Session, user_id: int, state: Json, exists: bool | None = None) -> None:
    """Store the state, version + 1. ``exists`` (known from :func:`user_snapshot`) skips the upsert.
    A state with a ``flow`` is a journey in progress: its start is kept in ``draft_started_at``."""
    now, drafting = utcnow(), state.get("flow") is not None
    if exists:
        values = {"uid": user_id, "new_state": state, "now": now, "drafting": drafting}
        s.connection().execute(_UPDATE_STATE, values)
        return
    insert = insert_for(s)(ConversationState).values(
        user_id=user_id, state=state, version=1, updated_at=now, draft_started_at=now if drafting else None
    )
    s.execute(
        insert.on_conflict_do_update(
            index_elements=[ConversationState.user_id],
            set_={
                "state": insert.excluded.state,
                "version": ConversationState.version + 1,
                "updated_at": insert.excluded.updated_at,
                "draft_started_at": _draft_started(insert.excluded.updated_at),
            },
        ),
        {"drafting": drafting},
    )


def enterprise_of(s: Session, user_id: int) -> Enterprise | None:
    return s.scalar(select(Enterprise).where(Enterprise.user_id == user_id))


def upsert_enterprise(s: Session, user_id: int, name: str, tax_code: str | None, profile: Json) -> Enterprise:
    enterprise = enterprise_of(s, user_id)
    if enterprise is None:
        enterprise = Enterprise(user_id=user_id)
        s.add(enterprise)
    enterprise.name = name
    enterprise.tax_code = tax_code
    enterprise.profile = dict(profile)
    s.flush()
    return enterprise


def _user(s: Session, user_id: int) -> User:
    user = s.get(User, user_id)
    if user is None:
        raise LookupError(f"no user {user_id}")
    return user


def user_by_key(s: Session, key: str) -> User | None:
    """The user behind a channel-qualified key ("telegram:12345"), if they ever wrote to the bot."""
    channel, _, external_id = key.partition(":")
    return _user_by_identity(s, channel, external_id) if external_id else None
