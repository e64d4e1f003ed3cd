"""inbox pending: a message read back (or a question) waiting for her tap, across restarts

Revision ID: 0005_inbox_pending
Revises: 0004_records_facts

- pending_readings: one row per (chat id, message id, kind) with the text as read, when it
  was read, the slots she fixed (ids and codes only), when it expires and when it closed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0005_inbox_pending"
down_revision: str | None = "0004_records_facts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_readings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("nurse_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("read_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["nurse_id"], ["nurses.id"], name=op.f("fk_pending_readings_nurse_id_nurses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_readings")),
        sa.UniqueConstraint(
            "chat_id",
            "message_id",
            "kind",
            name=op.f("uq_pending_readings_chat_id_message_id_kind"),
        ),  # fmt: skip
    )
    with op.batch_alter_table("pending_readings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pending_readings_nurse_id_chat_id_closed_at"),
            ["nurse_id", "chat_id", "closed_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("pending_readings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_readings_nurse_id_chat_id_closed_at"))
    op.drop_table("pending_readings")
