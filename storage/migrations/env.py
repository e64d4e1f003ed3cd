"""Alembic environment: runs migrations on a connection handed in by storage.migrate.

The application drives Alembic programmatically (casebot db upgrade, upgrade at start), so the
connection arrives in config.attributes; no URL is read here.
"""

from __future__ import annotations

from alembic import context

from storage.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `casebot db upgrade` (storage.migrate)")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported; use casebot db upgrade")
run_migrations_online()
