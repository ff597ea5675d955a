"""programme news and broadcasts, reminders, platform tokens; when a user last wrote, when a draft began

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _created(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(_when("last_seen_at"))
    with op.batch_alter_table("conversation_states") as batch:
        batch.add_column(_when("draft_started_at"))
    op.create_table(
        "subscriptions",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("topics", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("consent_version", sa.String(32), nullable=False),
        _created("subscribed_at"),
        _when("unsubscribed_at"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_subscriptions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_subscriptions")),
    )
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.String(64), nullable=False),
        sa.Column("agency_id", sa.String(64), nullable=True),
        sa.Column("officer_key", sa.String(100), nullable=False),
        sa.Column("texts", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("audience", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _created("created_at"),
        _when("finished_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    op.create_table(
        "broadcast_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("lang", sa.String(2), nullable=False),
        sa.Column("status", sa.String(16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _when("attempted_at"),
        _when("not_before"),
        _when("sent_at"),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_broadcast_recipients_broadcast_id_broadcasts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_broadcast_recipients_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcast_recipients")),
        sa.UniqueConstraint(
            "broadcast_id", "user_id", name=op.f("uq_broadcast_recipients_broadcast_id_user_id")
        ),
    )
    op.create_index(
        op.f("ix_broadcast_recipients_broadcast_id_status"),
        "broadcast_recipients",
        ["broadcast_id", "status"],
    )
    op.create_index(op.f("ix_broadcast_recipients_user_id"), "broadcast_recipients", ["user_id"])
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _when("due_at", nullable=False),
        _when("sent_at"),
        _created("created_at"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reminders_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint("key", name=op.f("uq_reminders_key")),
    )
    op.create_index(op.f("ix_reminders_due_at"), "reminders", ["due_at"])
    op.create_index(op.f("ix_reminders_user_id"), "reminders", ["user_id"])
    op.create_table(
        "platform_tokens",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        _when("access_expires_at", nullable=False),
        _when("refresh_expires_at"),
        sa.Column("version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _when("lease_until"),
        _created("updated_at"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_platform_tokens")),
    )


def downgrade() -> None:
    op.drop_table("platform_tokens")
    op.drop_index(op.f("ix_reminders_user_id"), table_name="reminders")
    op.drop_index(op.f("ix_reminders_due_at"), table_name="reminders")
    op.drop_table("reminders")
    op.drop_index(op.f("ix_broadcast_recipients_user_id"), table_name="broadcast_recipients")
    op.drop_index(op.f("ix_broadcast_recipients_broadcast_id_status"), table_name="broadcast_recipients")
    op.drop_table("broadcast_recipients")
    op.drop_table("broadcasts")
    op.drop_table("subscriptions")
    with op.batch_alter_table("conversation_states") as batch:
        batch.drop_column("draft_started_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("last_seen_at")
