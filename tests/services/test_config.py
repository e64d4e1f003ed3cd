"""Configuration: defaults, the example file, environment overrides, and clear errors."""

from __future__ import annotations

import subprocess
import sys
from datetime import time
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_example_file_loads_and_matches_defaults() -> None:
    config = load_config(ROOT / "config.example.toml", environ={})
    assert config.telegram.mode == "polling"
    assert config.database.url == "sqlite+aiosqlite:///casebot.db"
    assert config.defaults.digest_time == time(7, 30)
    assert config.privacy.push_names == "initials"
    assert config.care.cadence_high_days == 7


def test_every_key_in_the_example_is_commented() -> None:
    lines = (ROOT / "config.example.toml").read_text().splitlines()
    for i, line in enumerate(lines):
        if "=" in line and not line.lstrip().startswith("#"):
            assert lines[i - 1].lstrip().startswith("#"), f"key without a comment: {line}"


def test_every_config_key_is_in_the_example_with_its_default() -> None:
    import tomllib
    from dataclasses import fields

    from bot.config import _SECTIONS, Config

    example = tomllib.loads((ROOT / "config.example.toml").read_text())
    defaults = Config()
    for section, cls in _SECTIONS.items():
        for item in fields(cls):
            assert item.name in example.get(section, {}), f"{section}.{item.name} undocumented"
    loaded = load_config(ROOT / "config.example.toml", environ={})
    assert loaded.telegram == defaults.telegram
    assert loaded.limits == defaults.limits


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[defaults]\ntimezone = "America/Chicago"\n')
    env = {
        "CASEBOT_DEFAULTS_TIMEZONE": "America/Denver",
        "CASEBOT_TELEGRAM_TOKEN": "123:secret-token-value",
        "CASEBOT_CARE_MRP_DAYS": "31",
        "CASEBOT_PRIVACY_PROTECT_CONTENT": "false",
        "CASEBOT_DEFAULTS_DIGEST_TIME": "06:15",
    }
    config = load_config(path, environ=env)
    assert config.defaults.timezone == "America/Denver"
    assert config.telegram.token == "123:secret-token-value"
    assert config.care.mrp_days == 31
    assert config.privacy.protect_content is False
    assert config.defaults.digest_time == time(6, 15)
    assert "secret-token-value" not in repr(config)


@pytest.mark.parametrize(
    ("toml", "env", "expected"),
    [
        ("[telegram]\ntokn = 'x'\n", {}, "unknown key telegram.tokn"),
        ("[telegarm]\n", {}, "unknown section [telegarm]"),
        ("[telegram]\nport = 'eighty'\n", {}, "telegram.port: expected a whole number"),
        ("[database]\nupgrade_on_start = 'yes'\n", {}, "expected true or false"),
        ("[defaults]\ntimezone = 'Mars/Olympus'\n", {}, "unknown time zone 'Mars/Olympus'"),
        ("[defaults]\ndigest_time = '25:00'\n", {}, 'expected a time as "HH:MM"'),
        ("[defaults]\ndate_order = 'YMD'\n", {}, "expected one of MDY | DMY"),
        ("[privacy]\npush_names = 'nicknames'\n", {}, "expected one of full | initials | code"),
        ("[telegram]\nmode = 'webhook'\n", {}, "telegram.webhook_url"),
        ("[database]\nurl = 'mysql://x'\n", {}, "database.url: expected"),
        ("[care]\nholiday_country = 'XX'\n", {}, "unknown holiday calendar"),
        ("", {"CASEBOT_CARE_MRP_DAYS": "thirty"}, "CASEBOT_CARE_MRP_DAYS: expected a whole"),
        ("not toml [", {}, "not valid TOML"),
    ],
)
def test_bad_config_names_file_key_and_expectation(
    tmp_path: Path, toml: str, env: dict[str, str], expected: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=expected.replace("[", r"\[").replace("|", r"\|")) as err:
        load_config(path, environ=env)
    message = str(err.value)
    assert "\n" not in message
    if not env:
        assert str(path) in message


def _casebot(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.app.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **(env or {})},
        check=False,
    )


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[telegram]\nunknown_key = 1\n", "unknown key telegram.unknown_key"),
        ("[telegram]\nport = 'x'\n", "telegram.port: expected a whole number"),
        ("[defaults]\ntimezone = 'Nowhere/Town'\n", "unknown time zone"),
        (
            "[database]\nurl = 'postgresql+asyncpg://nobody@127.0.0.1:1/none'\n",
            "database.url: cannot connect to postgresql+asyncpg://nobody@127.0.0.1:1/none",
        ),
    ],
)
def test_cli_exits_2_with_one_clear_line(tmp_path: Path, toml: str, expected: str) -> None:
    (tmp_path / "config.toml").write_text(toml)
    result = _casebot("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "config.toml" in result.stderr


def test_cli_help_lists_the_commands(tmp_path: Path) -> None:
    result = _casebot("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("run", "chat", "db", "invite", "revoke", "nurses", "audit", "parse"):
        assert command in result.stdout


def test_cli_invite_prints_code_and_link(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[telegram]\nbot_username = "ncm_bot"\n')
    result = _casebot("invite", "--role", "supervisor", "--team", "North", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    code = result.stdout.split("code:")[1].split()[0]
    assert len(code) >= 22  # >= 128 bits, URL-safe
    assert f"https://t.me/ncm_bot?start={code}" in result.stdout
    nurses = _casebot("nurses", cwd=tmp_path)
    assert nurses.returncode == 0
    verify = _casebot("audit", "verify", cwd=tmp_path)
    assert verify.returncode == 0
    assert "audit chain ok: 1 events" in verify.stdout


def test_cli_audit_export_with_a_bad_date_is_one_clear_line(tmp_path: Path) -> None:
    result = _casebot("audit", "export", "--since", "last tuesday", cwd=tmp_path)
    assert result.returncode == 2
    assert "expected a date as YYYY-MM-DD" in result.stderr
    assert "Traceback" not in result.stderr
