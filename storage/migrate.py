"""Schema migrations through Alembic, driven from the program (no alembic.ini needed).

Owns: upgrading a database to head, reporting its revision, and autogenerating revisions for
developers. Must not import telegram, handlers or bot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from storage.db import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the database to `revision` (default: the newest)."""

    def _run(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(_run)


async def current_revision(db: Database) -> str | None:
    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)


async def autogenerate(db: Database, message: str) -> Any:
    """Write a new revision with the differences between the models and the database."""

    def _run(connection: Connection) -> Any:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        return command.revision(cfg, message=message, autogenerate=True)

    async with db.engine.begin() as conn:
        return await conn.run_sync(_run)
