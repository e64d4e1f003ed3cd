"""lists: the numbered list each nurse saw last, for /done N and /snooze N

Revision ID: 0006_lists_last_view
Revises: 0005_inbox_pending
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0006_lists_last_view"
down_revision: str | None = "0005_inbox_pending"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "last_views",
        sa.Column("nurse_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("view", sa.String(length=16), nullable=False),
        sa.Column("first_number", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("task_ids", sa.JSON(), nullable=False),
        sa.Column("shown_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["nurse_id"], ["nurses.id"], name=op.f("fk_last_views_nurse_id_nurses")
        ),
        sa.PrimaryKeyConstraint("nurse_id", name=op.f("pk_last_views")),
    )


def downgrade() -> None:
    op.drop_table("last_views")
