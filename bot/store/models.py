"""The tables of smebot, as SQLAlchemy 2 typed declarative models.

Money is BigInteger VND (up to 10^15 fits easily). Every timestamp is timezone-aware UTC, on SQLite too
(SQLite stores naive text; `UTCDateTime` gives it back with `tzinfo=UTC`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from rules.dossier import FINAL, OPEN

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# the statuses of a dossier that an officer still has to act on, and the final ones (rules/dossier.py)
OPEN_STATUSES = OPEN
CLOSED_STATUSES = FINAL


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """DateTime(timezone=True) that refuses naive datetimes and always returns aware UTC ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: use an aware one, e.g. datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Json = JSON(none_as_null=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: Json}


def created_column() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), default=utcnow, server_default=func.now())


def updated_column() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, server_default=func.now())


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(2), default="vi", server_default="vi")
    role: Mapped[str] = mapped_column(String(16), default="owner", server_default="owner")
    display_name: Mapped[str | None] = mapped_column(String(255))
    consent_at: Mapped[datetime | None]
    consent_version: Mapped[str | None] = mapped_column(String(32))
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # when they last wrote to the bot: the Zalo OA's free-message window is counted from it (issue 17), and
    # reminders of abandoned drafts (issue 16)
    last_seen_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_column()
    deleted_at: Mapped[datetime | None]


class Enterprise(Base):
    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    tax_code: Mapped[str | None] = mapped_column(String(20))
    profile: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = updated_column()


class ConversationState(Base):
    __tablename__ = "conversation_states"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    updated_at: Mapped[datetime] = updated_column()
    # when the journey now in progress began (None: no journey in progress): names the draft, so an
    # abandoned one is reminded of once however often its owner comes back to it (issue 16)
    draft_started_at: Mapped[datetime | None]


class DossierCounter(Base):
    __tablename__ = "dossier_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


class Dossier(Base):
    __tablename__ = "dossiers"
    __table_args__ = (Index(None, "user_id", "status"), Index(None, "status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(20), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16))
    size: Mapped[str] = mapped_column(String(8))
    agency_id: Mapped[str | None] = mapped_column(String(64), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    total_state_vnd: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()

    items: Mapped[list[DossierItem]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="DossierItem.id", lazy="raise"
    )
    attachments: Mapped[list[Attachment]] = relationship(order_by="Attachment.id", lazy="raise")


class DossierItem(Base):
    __tablename__ = "dossier_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(32))
    programme_id: Mapped[str] = mapped_column(String(64))
    cost_vnd: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    state_vnd: Mapped[int] = mapped_column(BigInteger)
    enterprise_vnd: Mapped[int] = mapped_column(BigInteger)
    approved_vnd: Mapped[int | None] = mapped_column(BigInteger)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id", ondelete="SET NULL"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    mime: Mapped[str] = mapped_column(String(127))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(1024))
    created_at: Mapped[datetime] = created_column()


class Event(Base):
    """The audit trail: who did what to which dossier, with the values before and after."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = created_column()
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id", ondelete="SET NULL"), index=True)
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    note: Mapped[str | None] = mapped_column(Text)


class Outbox(Base):
    """Messages the bot starts itself, drained by the rate-limited sender."""

    __tablename__ = "outbox"
    __table_args__ = (Index(None, "status", "not_before"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    not_before: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_column()
    sent_at: Mapped[datetime | None]
    dedup_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # the last failed attempt's reason, in the platform's words (never the message's text); for a row with
    # status "failed", why it was given up
    error: Mapped[str | None] = mapped_column(Text)
    # the parts of a reply already dealt with ("text:0", "doc:0:1"): a message id, true, or "failed";
    # a retry sends only the others (see bot/pipeline/sender.py)
    parts: Mapped[dict[str, Any] | None]


class ProcessedUpdate(Base):
    """The inbox: every platform update, stored once, before it is acknowledged."""

    __tablename__ = "processed_updates"
    __table_args__ = (Index(None, "processed_at", "received_at"), Index(None, "user_key"))

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    update_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_key: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[datetime] = created_column()
    processed_at: Mapped[datetime | None]
    # set when the update was set aside instead of handled (an odd or unsupported update): why
    error: Mapped[str | None] = mapped_column(Text)


class Officer(Base):
    """A user who reviews the dossiers of one agency (admins come from SMEBOT_ADMIN_IDS)."""

    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_key: Mapped[str] = mapped_column(String(100), unique=True)
    agency_id: Mapped[str] = mapped_column(String(64))
    added_by: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[datetime] = created_column()


class StoredProgramme(Base):
    """A programme an officer sent (issue 16): one row per version, its YAML as sent, its status
    (draft | published | closed), the agency that added it, who and when."""

    __tablename__ = "programmes"
    __table_args__ = (UniqueConstraint("programme_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    yaml_text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    agency_id: Mapped[str | None] = mapped_column(String(64))
    added_by: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[datetime] = created_column()
    changed_by: Mapped[str | None] = mapped_column(String(100))
    changed_at: Mapped[datetime | None]


class Subscription(Base):
    """An owner's consent to programme news (issue 16; Decree 13/2023: a consent of its own, separate from
    the dossier's), with the kinds of support they want to hear about. Unsubscribing keeps the row (when
    and that they did) and stops every broadcast to them."""

    __tablename__ = "subscriptions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # kinds of support (content groups, e.g. "consulting", "digital"); empty means every kind
    topics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    consent_version: Mapped[str] = mapped_column(String(32))
    subscribed_at: Mapped[datetime] = created_column()
    unsubscribed_at: Mapped[datetime | None]


class Broadcast(Base):
    """A programme announced to the owners it fits (issue 16): the texts per language, the audience as the
    officer narrowed it, who sent it and its progress. One :class:`BroadcastRecipient` row per owner."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[str] = mapped_column(String(64))
    agency_id: Mapped[str | None] = mapped_column(String(64))
    officer_key: Mapped[str] = mapped_column(String(100))  # who sent it: progress and the report go there
    texts: Mapped[dict[str, Any]]  # language -> text
    audience: Mapped[dict[str, Any]]  # the filters chosen (region, sizes, sectors, flags)
    status: Mapped[str] = mapped_column(String(16))  # sending | done | cancelled
    total: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = created_column()
    finished_at: Mapped[datetime | None]


class BroadcastRecipient(Base):
    """One owner of one broadcast, sent at most once: ``pending`` → ``sending`` (the attempt written down
    before the platform call) → ``sent`` | ``failed`` | ``blocked`` | ``held`` | ``cancelled``."""

    __tablename__ = "broadcast_recipients"
    __table_args__ = (UniqueConstraint("broadcast_id", "user_id"), Index(None, "broadcast_id", "status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    attempted_at: Mapped[datetime | None]  # written before each platform call
    not_before: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)  # the platform's reason, never the text


class Reminder(Base):
    """A message the bot starts on its own (issue 16: officers' deadlines, unanswered requests, abandoned
    drafts), at most once: its ``key`` is unique ("due:<officer>:<date>", "request:<event id>", ...)."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_column()


class PlatformToken(Base):
    """A platform's access and refresh tokens (the Zalo Official Account's, issue 17), persisted before they
    are used: a refresh token is single-use. ``version`` lets one process at a time write a refreshed pair
    (compare-and-set); ``lease_until`` tells the others a refresh is under way."""

    __tablename__ = "platform_tokens"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. "zalo_oa:<app id>"
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    access_expires_at: Mapped[datetime]
    refresh_expires_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    lease_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = updated_column()
