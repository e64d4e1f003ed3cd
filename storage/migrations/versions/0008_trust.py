"""trust: patients parked when their nurse is revoked

Revision ID: 0008_trust
Revises: 0006_lists_last_view

- patients.unassigned_since / unassigned_from_id: `casebot revoke --park` hands a revoked
  nurse's patients to the team's supervisor as "unassigned" (shown in /team until she
  reassigns them).

The audit chain needs no schema change: events written before the chain was keyed keep their
unkeyed SHA-256 hashes and verify as a legacy prefix; every event after them is HMAC-keyed
(storage/audit.py, docs/reliability.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0008_trust"
down_revision: str | None = "0006_lists_last_view"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.add_column(
            sa.Column("unassigned_since", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column(
                "unassigned_from_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        batch.create_foreign_key(
            op.f("fk_patients_unassigned_from_id_nurses"),
            "nurses",
            ["unassigned_from_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.drop_constraint(op.f("fk_patients_unassigned_from_id_nurses"), type_="foreignkey")
        batch.drop_column("unassigned_from_id")
        batch.drop_column("unassigned_since")
