"""Real bot processes for end-to-end tests: `python -m bot.app.cli run` against the fake Telegram
served over HTTP on loopback, with stderr collected so a test can see which one leads."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class BotProcess:
    proc: subprocess.Popen[bytes]
    log: list[str] = field(default_factory=list)

    async def pump(self) -> None:
        """Collect stderr lines until the process ends (run as a task)."""
        assert self.proc.stderr is not None
        loop = asyncio.get_running_loop()
        try:
            while True:
                line = await loop.run_in_executor(None, self.proc.stderr.readline)
                if not line:
                    return
                self.log.append(line.decode(errors="replace").rstrip())
        finally:
            self.proc.stderr.close()

    @property
    def leads(self) -> bool:
        return any("handling updates" in line for line in self.log)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def start_bot(env: dict[str, str], cwd: Path) -> BotProcess:
    full_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        **env,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.app.cli", "run"],
        cwd=cwd,
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return BotProcess(proc)


@asynccontextmanager
async def pg_database(base_url: str) -> AsyncIterator[str]:
    """A fresh PostgreSQL database (not a schema: separate processes connect by URL)."""
    name = f"casebot_t_{uuid.uuid4().hex[:10]}"
    admin_dsn = make_url(base_url).set(drivername="postgresql").render_as_string(
        hide_password=False
    )
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
