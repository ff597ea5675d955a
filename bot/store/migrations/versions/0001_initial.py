"""initial schema: users, enterprises, conversation states, dossiers, attachments, audit, outbox, inbox

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# frozen copies of the column types: a migration never imports the current models
JSON = sa.JSON(none_as_null=True)
MONEY = sa.BigInteger()


def timestamp(name: str, *, nullable: bool = False, now: bool = False) -> sa.Column[datetime]:
    default = sa.func.now() if now else None
    return sa.Column(name, sa.DateTime(timezone=True), server_default=default, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("lang", sa.String(2), server_default="vi", nullable=False),
        sa.Column("role", sa.String(16), server_default="owner", nullable=False),
        sa.Column("display_name", sa.String(255), nullable=True),
        timestamp("consent_at", nullable=True),
        sa.Column("consent_version", sa.String(32), nullable=True),
        sa.Column("unreachable", sa.Boolean(), server_default=sa.false(), nullable=False),
        timestamp("created_at", now=True),
        timestamp("deleted_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("channel", "external_id", name="uq_users_channel_external_id"),
    )
    op.create_table(
        "enterprises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("tax_code", sa.String(20), nullable=True),
        sa.Column("profile", JSON, nullable=False),
        timestamp("updated_at", now=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_enterprises_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_enterprises"),
        sa.UniqueConstraint("user_id", name="uq_enterprises_user_id"),
    )
    op.create_table(
        "conversation_states",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", JSON, nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        timestamp("updated_at", now=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_conversation_states_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_conversation_states"),
    )
    op.create_table(
        "dossier_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name="pk_dossier_counters"),
    )
    op.create_table(
        "dossiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("size", sa.String(8), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("total_state_vnd", MONEY, nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        timestamp("created_at", now=True),
        timestamp("updated_at", now=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_dossiers_user_id_users"),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name="fk_dossiers_enterprise_id_enterprises",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_dossiers"),
        sa.UniqueConstraint("ref", name="uq_dossiers_ref"),
    )
    op.create_index("ix_dossiers_status", "dossiers", ["status"])
    op.create_index("ix_dossiers_user_id_status", "dossiers", ["user_id", "status"])
    op.create_table(
        "dossier_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("programme_id", sa.String(64), nullable=False),
        sa.Column("cost_vnd", MONEY, nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("state_vnd", MONEY, nullable=False),
        sa.Column("enterprise_vnd", MONEY, nullable=False),
        sa.Column("approved_vnd", MONEY, nullable=True),
        sa.Column("data", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossiers.id"], name="fk_dossier_items_dossier_id_dossiers", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_dossier_items"),
    )
    op.create_index("ix_dossier_items_dossier_id", "dossier_items", ["dossier_id"])
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("mime", sa.String(127), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        timestamp("created_at", now=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_attachments_user_id_users"),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossiers.id"], name="fk_attachments_dossier_id_dossiers", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_attachments"),
    )
    op.create_index("ix_attachments_dossier_id", "attachments", ["dossier_id"])
    op.create_index("ix_attachments_user_id", "attachments", ["user_id"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        timestamp("at", now=True),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=True),
        sa.Column("before", JSON, nullable=True),
        sa.Column("after", JSON, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossiers.id"], name="fk_events_dossier_id_dossiers", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_dossier_id", "events", ["dossier_id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        timestamp("not_before", nullable=True),
        timestamp("created_at", now=True),
        timestamp("sent_at", nullable=True),
        sa.Column("dedup_key", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_outbox_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("dedup_key", name="uq_outbox_dedup_key"),
    )
    op.create_index("ix_outbox_status_not_before", "outbox", ["status", "not_before"])
    op.create_index("ix_outbox_user_id", "outbox", ["user_id"])
    op.create_table(
        "processed_updates",
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("update_id", sa.String(64), nullable=False),
        sa.Column("user_key", sa.String(100), nullable=True),
        sa.Column("payload", JSON, nullable=False),
        timestamp("received_at", now=True),
        timestamp("processed_at", nullable=True),
        sa.PrimaryKeyConstraint("source", "update_id", name="pk_processed_updates"),
    )
    op.create_index(
        "ix_processed_updates_processed_at_received_at", "processed_updates", ["processed_at", "received_at"]
    )
    op.create_index("ix_processed_updates_user_key", "processed_updates", ["user_key"])


def downgrade() -> None:
    for table in (
        "processed_updates",
        "outbox",
        "events",
        "attachments",
        "dossier_items",
        "dossiers",
        "dossier_counters",
        "conversation_states",
        "enterprises",
        "users",
    ):
        op.drop_table(table)  # a table's indexes go with it
