"""Reminder buttons ([Done] [Snooze 1h] [Tomorrow] [Log contact]), /reminders, /done, /snooze.

/done N and /snooze N count against the numbered list she saw last (/today, /overdue, /week,
/tomorrow, /calls or /reminders; remembered per nurse by bot.services.lists).

Buttons carry a TaskAction (an action and a task id) only; every press is checked against the
pressing nurse's ownership, and a stale button answers kindly instead of failing.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import Application, CommandHandler

from bot.app.context import CaseContext
from bot.render import labels
from bot.render import tasks as task_render
from bot.render.callbacks import TaskAction
from bot.render.text import esc, time_label, when_label
from bot.services import lists, tasks
from handlers.common import is_number, on_press

REMINDERS_SHOWN = 10
BUTTON_ROWS = 4
STALE = {
    tasks.TaskOutcome.ALREADY_DONE: "Already done.",
    tasks.TaskOutcome.CANCELLED: "That task was cancelled; nothing to do.",
    tasks.TaskOutcome.NOT_YOURS: "That isn't one of your tasks.",
    tasks.TaskOutcome.MISSING: "That reminder has expired.",
}


async def task_button(update: Update, context: CaseContext, press: TaskAction) -> None:
    """Done / Snooze 1h / Tomorrow / Log contact, pressed on a reminder or a list."""
    query = update.callback_query
    assert query is not None
    task_id = press.task_id
    nurse, services = context.me, context.services
    if press.action == "log":
        await _log_contact(update, context, task_id)
        return
    if press.action == "done":
        result = await tasks.complete_task(
            services.db, services.clock, nurse_id=nurse.id, task_id=task_id, command="button"
        )
    else:
        result = await tasks.snooze_task(
            services.db,
            services.clock,
            nurse_id=nurse.id,
            task_id=task_id,
            by=timedelta(hours=1) if press.action == "snooze" else None,
            tomorrow_at=services.config.reminders.follow_up_time,
            zone=nurse.zone,
            command="button",
        )
    if result.outcome in STALE:
        await query.answer(STALE[result.outcome], show_alert=True)
        return
    if result.outcome == tasks.TaskOutcome.DONE:
        note = "✅ <b>Done</b>"
        await query.answer("Done.")
    else:
        assert result.until is not None
        note = (
            f"💤 Snoozed until {when_label(result.until, nurse.zone, has_time=False)}, "
            f"{time_label(result.until, nurse.zone)}"
        )
        await query.answer("Snoozed.")
    await _annotate(update, note)


async def _annotate(update: Update, note: str) -> None:
    """Edit the pressed message to show what happened, without its buttons."""
    query = update.callback_query
    assert query is not None
    message = query.message
    if not isinstance(message, Message) or message.text is None:
        return  # inaccessible (too old) or not a text message
    # Unchanged or too old to edit: the answer to the press already told her.
    with contextlib.suppress(BadRequest):
        await query.edit_message_text(f"{message.text_html}\n{note}")


async def _log_contact(update: Update, context: CaseContext, task_id: int) -> None:
    query = update.callback_query
    assert query is not None
    services = context.services
    patient_id = await tasks.task_patient(services.db, nurse_id=context.me.id, task_id=task_id)
    if patient_id is None:
        await query.answer(STALE[tasks.TaskOutcome.MISSING], show_alert=True)
        return
    await query.answer()
    from handlers import records

    await records.start_contact_for_patient(update, context, patient_id)


async def list_reminders(update: Update, context: CaseContext) -> None:
    """/reminders: her upcoming pushes, numbered, with buttons to act on each."""
    message = update.effective_message
    assert message is not None
    nurse, services = context.me, context.services
    upcoming = await tasks.upcoming_reminders(
        services.db, services.clock, nurse_id=nurse.id, limit=REMINDERS_SHOWN
    )
    if not upcoming:
        await message.reply_text(
            "No reminders coming up. Log a contact with a follow-up to add one."
        )
        return
    await lists.remember(
        services.db,
        nurse.id,
        view="reminders",
        task_ids=[u.task_id for u in upcoming],
        now=services.clock.now(),
    )
    lines = ["<b>Upcoming reminders</b>"]
    rows = []
    for i, item in enumerate(upcoming, 1):
        who = esc(item.patient_name) if item.patient_name else ""
        lines.append(
            f"{i}. {when_label(item.remind_at, nurse.zone)} – {labels.task_name(item.kind)} {who}"
        )
        rows.append(
            [
                InlineKeyboardButton(
                    f"{i}: Done", callback_data=TaskAction("done", item.task_id).pack()
                ),
                InlineKeyboardButton(
                    f"{i}: Snooze 1h", callback_data=TaskAction("snooze", item.task_id).pack()
                ),
            ]
        )
    lines.append("\nOr send /done N or /snooze N.")
    # Buttons for the soonest four only: at most 8 buttons a message.
    await message.reply_text(
        "\n".join(lines), reply_markup=InlineKeyboardMarkup(rows[:BUTTON_ROWS])
    )


async def done_command(update: Update, context: CaseContext) -> None:
    """/done N: mark item N of the list she saw last done."""
    await _by_number(update, context, done=True)


async def snooze_command(update: Update, context: CaseContext) -> None:
    """/snooze N: snooze item N of the list she saw last by an hour."""
    await _by_number(update, context, done=False)


async def _by_number(update: Update, context: CaseContext, *, done: bool) -> None:
    """Item N of the numbered list she saw last (/today, /calls, /reminders ...), answered
    with the patient and the task it closed or snoozed."""
    message = update.effective_message
    assert message is not None
    services, nurse = context.services, context.me
    seen = await lists.last_seen(services.db, nurse.id)
    args = context.args or []
    number = int(args[0]) if args and is_number(args[0]) and len(args[0]) <= 6 else None
    if seen is None or number is None:
        await message.reply_text(
            "Which one? Open a list (/today, /overdue, /calls, /reminders), then send "
            "/done N or /snooze N with its number."
        )
        return
    task_id = seen.task_at(number)
    if task_id is None:
        last = seen.first_number + len(seen.task_ids) - 1
        if seen.first_number <= number <= last:
            await message.reply_text(
                f"Item {number} of /{seen.view} is a patient past her contact cadence, not a "
                "task: log a contact with her and it goes."
            )
        else:
            await message.reply_text(
                f"Which one? The list you saw last (/{seen.view}) shows items "
                f"{seen.first_number}–{last}."
                if last >= seen.first_number
                else f"Which one? The list you saw last (/{seen.view}) was empty."
            )
        return
    if done:
        result = await tasks.complete_task(
            services.db, services.clock, nurse_id=nurse.id, task_id=task_id, command="done"
        )
    else:
        result = await tasks.snooze_task(
            services.db,
            services.clock,
            nurse_id=nurse.id,
            task_id=task_id,
            by=timedelta(hours=1),
            command="snooze",
        )
    if result.outcome in STALE:
        await message.reply_text(f"Item {number}: {STALE[result.outcome]}")
    elif result.outcome == tasks.TaskOutcome.DONE and result.task is not None:
        await message.reply_text(task_render.closed_reply(number, result.task, seen.view))
    elif result.until is not None and result.task is not None:
        await message.reply_text(
            task_render.snoozed_reply(number, result.task, seen.view, result.until, nurse.zone)
        )


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(on_press(TaskAction, task_button))
    app.add_handler(CommandHandler("reminders", list_reminders))
    app.add_handler(CommandHandler("done", done_command))
    app.add_handler(CommandHandler("snooze", snooze_command))
