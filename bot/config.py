"""Configuration: a TOML file and CASEBOT_* environment variables -> a frozen, validated Config.

Owns the shape of the configuration and its validation. Nothing is read at import time:
`load_config` is called by the entry point. Must not import telegram, storage or handlers.

Errors are `ConfigError`, whose message is one line naming the file, the key and what is
expected; the CLI prints it and exits with status 2.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import time
from pathlib import Path
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.vocab import CloseThrough, DateOrder, PrivacyMode

Mode = Literal["polling", "webhook"]

ENV_PREFIX = "CASEBOT_"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///casebot.db"


class ConfigError(Exception):
    """A configuration problem, phrased as one line for the person running the bot."""


@dataclass(frozen=True)
class TelegramConfig:
    token: str = field(default="", repr=False)
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    mode: Mode = "polling"
    listen: str = "127.0.0.1"
    port: int = 8443
    webhook_url: str = ""
    secret_token: str = field(default="", repr=False)
    bot_username: str = ""
    max_messages_per_second: int = 29
    chat_message_gap_ms: int = 1050
    poll_watchdog_seconds: int = 120
    health_listen: str = "127.0.0.1"
    health_port: int = 0
    update_attempts: int = 3
    chat_window: int = 50
    max_backlog: int = 10000


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = DEFAULT_DATABASE_URL
    upgrade_on_start: bool = True
    echo: bool = False


@dataclass(frozen=True)
class DefaultsConfig:
    timezone: str = "America/Chicago"
    digest_time: time = time(7, 30)
    quiet_start: time = time(21, 0)
    quiet_end: time = time(7, 0)
    date_order: DateOrder = "MDY"
    days_off: tuple[str, ...] = ()


@dataclass(frozen=True)
class PrivacyConfig:
    push_names: PrivacyMode = "initials"
    protect_content: bool = True
    idle_lock_minutes: int = 0


@dataclass(frozen=True)
class CareConfig:
    tcm_contact_business_days: int = 2
    tcm_visit_days_moderate: int = 14
    tcm_visit_days_high: int = 7
    mrp_days: int = 30
    cadence_high_days: int = 7
    cadence_medium_days: int = 14
    cadence_low_days: int = 30
    holiday_country: str = "US"
    holiday_subdivision: str = ""
    extra_holidays: tuple[str, ...] = ()
    referral_follow_up_days: int = 14
    # Which open follow-ups and check-ins a reached contact closes: "end_of_day" (due by the
    # end of her day of the contact) or "contact_time" (due by the contact itself).
    close_follow_ups_through: str = "end_of_day"
    appointment_minutes: int = 60  # an appointment's length: the attendance check comes after
    readmission_days: int = 30  # a discharge within N days of an earlier one is a readmission


@dataclass(frozen=True)
class RemindersConfig:
    follow_up_time: time = time(9, 0)
    appointment_lead_hours: int = 2
    escalation_hours: int = 4
    urgent_in_quiet_hours: bool = True
    lease_seconds: int = 120
    poll_seconds: int = 30
    max_attempts: int = 12


@dataclass(frozen=True)
class EnrollmentConfig:
    invite_ttl_hours: int = 72


@dataclass(frozen=True)
class LimitsConfig:
    flood_messages: int = 20
    flood_window_seconds: int = 10
    flood_max_delay_seconds: int = 60
    stranger_refusal_minutes: int = 60


@dataclass(frozen=True)
class VoiceConfig:
    enabled: bool = True
    max_seconds: int = 120
    workers: int = 0  # 0: one fewer than the CPU cores, at least 1
    queue: int = 4
    model_path: str = ""  # "": the Whisper tiny.en model of the pinned model package
    beam_size: int = 1


@dataclass(frozen=True)
class AuditConfig:
    # The audit chain's HMAC key (CASEBOT_AUDIT_KEY). Never stored in the database. Required
    # with PostgreSQL; on SQLite without one, a key file beside the database is made.
    key: str = ""
    # Signed checkpoints (chain length + head hash); "": <database>.audit-checkpoints.jsonl
    # beside a SQLite file, ./casebot-audit-checkpoints.jsonl with PostgreSQL.
    checkpoint_file: str = ""
    checkpoint_minutes: int = 60


@dataclass(frozen=True)
class Config:
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    defaults: DefaultsConfig = field(default_factory=DefaultsConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    care: CareConfig = field(default_factory=CareConfig)
    reminders: RemindersConfig = field(default_factory=RemindersConfig)
    enrollment: EnrollmentConfig = field(default_factory=EnrollmentConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    voice: VoiceConfig = field(default_factory=VoiceConfig)
    audit: AuditConfig = field(default_factory=AuditConfig)
    source: str = "<defaults>"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.defaults.timezone)


_SECTIONS: dict[str, type[Any]] = {
    "telegram": TelegramConfig,
    "database": DatabaseConfig,
    "defaults": DefaultsConfig,
    "privacy": PrivacyConfig,
    "care": CareConfig,
    "reminders": RemindersConfig,
    "enrollment": EnrollmentConfig,
    "limits": LimitsConfig,
    "voice": VoiceConfig,
    "audit": AuditConfig,
}

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def load_config(path: Path | None = None, *, environ: Mapping[str, str] | None = None) -> Config:
    """Read `path` (if given and present), apply CASEBOT_<SECTION>_<KEY> overrides, validate."""
    env = os.environ if environ is None else environ
    source = str(path) if path is not None else "<defaults>"
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            with path.open("rb") as fh:
                raw = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"{source}: file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: not valid TOML ({exc})") from None
    sections: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in _SECTIONS:
            known = ", ".join(_SECTIONS)
            raise ConfigError(f"{source}: unknown section [{name}]; expected one of {known}")
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: {name} must be a table ([{name}])")
        sections[name] = dict(value)
    _apply_env(sections, env)
    built = {
        name: _build_section(source, name, cls, sections.get(name, {}))
        for name, cls in _SECTIONS.items()
    }
    config = Config(**built, source=source)
    _check_cross_field(config)
    return config


def _apply_env(sections: dict[str, Any], env: Mapping[str, str]) -> None:
    for var, value in env.items():
        if not var.startswith(ENV_PREFIX):
            continue
        rest = var[len(ENV_PREFIX) :].lower()
        for name, cls in _SECTIONS.items():
            prefix = name + "_"
            if rest.startswith(prefix):
                key = rest[len(prefix) :]
                if key in {f.name for f in fields(cls)}:
                    sections.setdefault(name, {})[key] = _EnvValue(value, var)
                break


@dataclass(frozen=True)
class _EnvValue:
    """A string from the environment, converted to the field's type on validation."""

    text: str
    var: str


def _build_section(source: str, name: str, cls: type[Any], values: dict[str, Any]) -> Any:
    known = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(
                f"{source}: unknown key {name}.{key}; expected one of {', '.join(known)}"
            )
        where = value.var if isinstance(value, _EnvValue) else f"{source}: {name}.{key}"
        kwargs[key] = _convert(where, known[key].type, value)
    return cls(**kwargs)


def _convert(where: str, annotation: Any, value: Any) -> Any:
    from_env = isinstance(value, _EnvValue)
    text = value.text if isinstance(value, _EnvValue) else None
    kind = str(annotation)
    if kind == "bool":
        if from_env:
            assert text is not None
            if text.lower() in {"1", "true", "yes", "on"}:
                return True
            if text.lower() in {"0", "false", "no", "off"}:
                return False
        elif isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true or false, got {_show(value)}")
    if kind == "int":
        if from_env:
            assert text is not None
            try:
                return int(text)
            except ValueError:
                pass
        elif isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected a whole number, got {_show(value)}")
    if kind == "time":
        raw = text if from_env else value
        if isinstance(raw, time):
            return raw
        if isinstance(raw, str) and (m := _HHMM.match(raw.strip())):
            return time(int(m.group(1)), int(m.group(2)))
        raise ConfigError(f'{where}: expected a time as "HH:MM" (24-hour), got {_show(value)}')
    if kind.startswith("tuple"):
        if from_env:
            assert text is not None
            return tuple(part.strip() for part in text.split(",") if part.strip())
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise ConfigError(f"{where}: expected a list of strings, got {_show(value)}")
    choices = _literal_choices(kind)
    raw = text if from_env else value
    if not isinstance(raw, str):
        raise ConfigError(f"{where}: expected a string, got {_show(value)}")
    if choices and raw not in choices:
        raise ConfigError(f"{where}: expected one of {' | '.join(choices)}, got {raw!r}")
    return raw


_LITERALS: dict[str, tuple[str, ...]] = {
    "Mode": get_args(Mode),
    "DateOrder": get_args(DateOrder),
    "PrivacyMode": get_args(PrivacyMode),
}


def _literal_choices(kind: str) -> tuple[str, ...]:
    return _LITERALS.get(kind, ())


def _show(value: Any) -> str:
    if isinstance(value, _EnvValue):
        return repr(value.text)
    return f"{type(value).__name__} {value!r}"


def _check_cross_field(config: Config) -> None:
    src = config.source
    try:
        ZoneInfo(config.defaults.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{src}: defaults.timezone: unknown time zone {config.defaults.timezone!r}; "
            'expected an IANA name such as "America/Chicago"'
        ) from None
    tg = config.telegram
    if tg.mode == "webhook":
        if not tg.webhook_url.startswith("https://"):
            raise ConfigError(
                f"{src}: telegram.webhook_url: webhook mode needs the public https:// URL"
            )
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", tg.secret_token):
            raise ConfigError(
                f"{src}: telegram.secret_token: webhook mode needs a secret of 16-256 "
                "characters A-Z a-z 0-9 _ -"
            )
    if tg.max_messages_per_second <= 0 or tg.chat_message_gap_ms < 0:
        raise ConfigError(
            f"{src}: telegram.max_messages_per_second / chat_message_gap_ms: expected positive "
            "numbers"
        )
    if not 1 <= tg.port <= 65535:
        raise ConfigError(f"{src}: telegram.port: expected 1-65535, got {tg.port}")
    if not 0 <= tg.health_port <= 65535:
        raise ConfigError(
            f"{src}: telegram.health_port: expected 0 (off) or 1-65535, got {tg.health_port}"
        )
    if tg.mode == "webhook" and tg.health_port == tg.port:
        raise ConfigError(
            f"{src}: telegram.health_port: the webhook port already serves /healthz; "
            "choose another port or 0"
        )
    for name in ("poll_watchdog_seconds", "update_attempts", "chat_window", "max_backlog"):
        if getattr(tg, name) <= 0:
            raise ConfigError(f"{src}: telegram.{name}: expected a positive number")
    if tg.max_backlog < tg.chat_window:
        raise ConfigError(
            f"{src}: telegram.max_backlog: expected at least telegram.chat_window "
            f"({tg.chat_window}), got {tg.max_backlog}"
        )
    if not tg.base_url.startswith(("http://", "https://")):
        raise ConfigError(f"{src}: telegram.base_url: expected an http(s):// URL")
    if not config.database.url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigError(
            f"{src}: database.url: expected sqlite+aiosqlite:///FILE or "
            "postgresql+asyncpg://USER@HOST/DB"
        )
    care = config.care
    for name in (
        "tcm_contact_business_days",
        "tcm_visit_days_moderate",
        "tcm_visit_days_high",
        "mrp_days",
        "cadence_high_days",
        "cadence_medium_days",
        "cadence_low_days",
        "referral_follow_up_days",
        "readmission_days",
    ):
        if getattr(care, name) <= 0:
            raise ConfigError(f"{src}: care.{name}: expected a positive number of days")
    if not 1 <= care.appointment_minutes <= 24 * 60:
        raise ConfigError(f"{src}: care.appointment_minutes: expected 1-1440 minutes")
    through = [c.value for c in CloseThrough]
    if care.close_follow_ups_through not in through:
        raise ConfigError(
            f"{src}: care.close_follow_ups_through: expected one of {' | '.join(through)}, "
            f"got {care.close_follow_ups_through!r}"
        )
    try:
        import holidays

        holidays.country_holidays(care.holiday_country, subdiv=care.holiday_subdivision or None)
    except (NotImplementedError, KeyError, ValueError):
        raise ConfigError(
            f"{src}: care.holiday_country/holiday_subdivision: unknown holiday calendar "
            f'{care.holiday_country!r}/{care.holiday_subdivision!r}; expected e.g. "US"'
        ) from None
    for day in care.extra_holidays:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
            raise ConfigError(
                f'{src}: care.extra_holidays: expected dates as "YYYY-MM-DD", got {day!r}'
            )
    weekdays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
    for day in config.defaults.days_off:
        if day.lower()[:3] not in weekdays:
            raise ConfigError(
                f'{src}: defaults.days_off: expected weekday names like "sat", got {day!r}'
            )
    rem = config.reminders
    for name in (
        "appointment_lead_hours",
        "escalation_hours",
        "lease_seconds",
        "poll_seconds",
        "max_attempts",
    ):
        if getattr(rem, name) <= 0:
            raise ConfigError(f"{src}: reminders.{name}: expected a positive number")
    if config.enrollment.invite_ttl_hours <= 0:
        raise ConfigError(f"{src}: enrollment.invite_ttl_hours: expected a positive number")
    for name in (
        "flood_messages",
        "flood_window_seconds",
        "flood_max_delay_seconds",
        "stranger_refusal_minutes",
    ):
        if getattr(config.limits, name) <= 0:
            raise ConfigError(f"{src}: limits.{name}: expected a positive number")
    if config.privacy.idle_lock_minutes < 0:
        raise ConfigError(f"{src}: privacy.idle_lock_minutes: expected 0 (off) or more minutes")
    _check_voice(config)


def _check_voice(config: Config) -> None:
    src, voice = config.source, config.voice
    if not 1 <= voice.max_seconds <= 600:
        raise ConfigError(f"{src}: voice.max_seconds: expected 1-600 seconds")
    if voice.workers < 0 or voice.queue < 0:
        raise ConfigError(f"{src}: voice.workers / voice.queue: expected 0 or more")
    if not 1 <= voice.beam_size <= 10:
        raise ConfigError(f"{src}: voice.beam_size: expected 1-10")


def with_database(config: Config, url: str) -> Config:
    """The same configuration pointed at another database (tests, the CLI's --database)."""
    return replace(config, database=replace(config.database, url=url))
