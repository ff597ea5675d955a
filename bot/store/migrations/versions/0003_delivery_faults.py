"""delivery faults: outbox.error and outbox.parts (per-part delivery), processed_updates.error (set aside)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("parts", sa.JSON(none_as_null=True), nullable=True))
    with op.batch_alter_table("processed_updates") as batch:
        batch.add_column(sa.Column("error", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("processed_updates") as batch:
        batch.drop_column("error")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("parts")
        batch.drop_column("error")
