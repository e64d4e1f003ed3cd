"""bot.parsing stays pure: no telegram, no storage, no database driver."""

import subprocess
import sys

FORBIDDEN = ("telegram", "storage", "sqlalchemy", "aiosqlite", "asyncpg", "handlers")


def test_parsing_imports_nothing_forbidden() -> None:
    code = (
        "import sys, bot.parsing, bot.parsing.cli;"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}];"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
