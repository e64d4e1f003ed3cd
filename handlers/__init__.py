"""Telegram-facing handlers, one module per topic; `register_all` adds them in order."""

from __future__ import annotations

from telegram.ext import Application

from handlers import (
    access,
    attendance,
    careplans,
    changes,
    digest,
    errors,
    flood,
    help,
    lock,
    patients,
    queries,
    readback,
    records,
    saved,
    settings,
    tasks,
    voice,
)


def register_all(app: Application) -> None:  # type: ignore[type-arg]
    """Add every handler. Order matters: PTB tries groups in ascending order."""
    # 1. The access gate, in group -100: strangers, groups and revoked nurses stop here.
    access.register(app)
    # Flood control (group -95): a flooding nurse is slowed, in order, never silently dropped.
    flood.register(app)
    # The idle lock (group -90): after idle minutes, patient data needs her PIN.
    lock.register(app)
    # The attendance check's buttons and its wait for a new time (group -20): before every
    # conversation, so a pending question elsewhere never swallows a press or the answer.
    attendance.register(app)
    # 2. Conversations before plain commands, so a conversation's /cancel wins.
    settings.register(app)
    # Reminder buttons ("tk:" callbacks) before any conversation, so an open conversation's
    # button handlers never swallow a press on a reminder.
    tasks.register(app)
    # Caseload views: /caseload /today /overdue /week /team /stats /export and their buttons.
    queries.register(app)
    # [Show all] under a cut digest.
    digest.register(app)
    # Patients: /patient, /newpatient, the card's edit conversation and buttons.
    patients.register(app)
    # Care plans, referrals, community resources: /plan /referrals /resources and their flows.
    careplans.register(app)
    # The inbox's other topics: saving a message's facts (sure at once, unsure read back with
    # [Save] [Fix] [Cancel]) and changes by text and by button ([Change time] [Cancel appt]).
    # Topics add their routes to the inbox (handlers.inbox) from their own register().
    readback.register(app)
    changes.register(app)
    # Edited, forwarded and media messages (never logged), before the free-text entry; the
    # buttons under a saved record and under an attended? check.
    saved.register(app)
    # Logging: after every other conversation (their typed answers win) and
    # before help's plain /cancel; its free-text entry point (handlers.inbox.on_text) is the
    # catch-all for plain text.
    # A voice note's [Save] enters its conversation too.
    records.register(app, entries=voice.entry_points())
    # Voice notes: transcribed, read back, and handed to logging only on [Save] (its entry
    # point above); the voice message and the [Fix] [Cancel] buttons.
    voice.register(app)
    # 3. Plain commands and the catch-alls.
    help.register(app)
    # 4. The single error handler.
    errors.register(app)
