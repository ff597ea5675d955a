"""officers and dossier routing: officers table, dossiers.agency_id

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "officers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_key", sa.String(100), nullable=False),
        sa.Column("agency_id", sa.String(64), nullable=False),
        sa.Column("added_by", sa.String(100), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officers")),
        sa.UniqueConstraint("user_key", name=op.f("uq_officers_user_key")),
    )
    with op.batch_alter_table("dossiers") as batch:
        batch.add_column(sa.Column("agency_id", sa.String(64), nullable=True))
        batch.create_index(batch.f("ix_dossiers_agency_id"), ["agency_id"])


def downgrade() -> None:
    with op.batch_alter_table("dossiers") as batch:
        batch.drop_index(batch.f("ix_dossiers_agency_id"))
        batch.drop_column("agency_id")
    op.drop_table("officers")
