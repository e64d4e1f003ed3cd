"""send started: a per-send "attempted" mark on deliveries

Revision ID: 0009_send_started
Revises: 0008_trust

- deliveries.send_started_at: set in a short write just before the Bot API call, cleared by
  each claim. A claim whose lease ran out is sent again marked "(repeat)" only when its dead
  claimer had set it; one it never tried to send goes out as a first delivery.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0009_send_started"
down_revision: str | None = "0008_trust"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(
            sa.Column("send_started_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("send_started_at")
