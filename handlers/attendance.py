"""The "Did she attend?" check's buttons: [Attended] records attendance, [No-show] creates the
follow-up, [Rescheduled] asks for the new day and time and moves the appointment with its
reminders and check (bot.services.appointments.set_attendance).

One small conversation, in a group before the logging conversation: the check's presses stop
there (ApplicationHandlerStop), and while it waits for the new time, a message that reads as
a new record or question is not taken as the answer: the wait is dropped with one line and the
message goes on to the inbox (the later groups) as a new one.
"""

from __future__ import annotations

import enum

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.app.context import CaseContext
from bot.parsing import (
    AppointmentIntent,
    ContactIntent,
    DateReader,
    DischargeIntent,
    MedRecIntent,
    NewPatientIntent,
    QueryIntent,
    When,
    parse,
)
from bot.render import messages
from bot.render import records as render
from bot.render.callbacks import Attendance
from bot.render.reminders import render_rescheduled
from bot.services import appointments
from bot.vocab import AppointmentStatus, Refusal
from handlers.common import audit_if_not_hers, caseload_of, quiet_conversation, shorthand_of

GROUP = -20
"""After the access gate, flood control and the lock; before every conversation (group 0)."""
PENDING = "attendance_reschedule"
WAIT = 15 * 60
ASK_NEW_TIME = (
    "When is it now? Send the new day and time, e.g. <i>Fri 10am</i> (or /cancel to leave it)."
)
ASK_AGAIN = "I couldn't read a day in that. Send the new day and time, e.g. <i>Fri 10am</i>."
DROPPED = "I've left the reschedule; here is your new message."
LEFT = "Left as it was: the appointment is not moved."


class Step(enum.IntEnum):
    NEW_TIME = 1


async def _say(update: Update, context: CaseContext, text: str) -> None:
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text)


async def answer_check(update: Update, context: CaseContext) -> int:
    """[Attended] [No-show]: saved now; [Rescheduled]: ask for the new time. A malformed or
    forged press is answered once, here, and goes no further."""
    query = update.callback_query
    assert query is not None
    press = Attendance.unpack(query.data)
    if press is None:
        await query.answer(messages.BUTTON_GONE, show_alert=True)
        raise ApplicationHandlerStop(None)
    await audit_if_not_hers(context, Attendance, press)  # a forged check id leaves a trace
    status = AppointmentStatus(press.status)
    if status == AppointmentStatus.RESCHEDULED:
        await query.answer()
        if context.user_data is not None:
            context.user_data[PENDING] = press.task_id
        await _say(update, context, ASK_NEW_TIME)
        raise ApplicationHandlerStop(Step.NEW_TIME)
    await _set(update, context, press.task_id, status, None)
    raise ApplicationHandlerStop(ConversationHandler.END)


async def _set(
    update: Update,
    context: CaseContext,
    task_id: int,
    status: AppointmentStatus,
    new_at: When | None,
) -> None:
    services = context.services
    result = await appointments.set_attendance(
        services.db,
        services.clock,
        nurse=context.me,
        task_id=task_id,
        status=status,
        config=services.config,
        new_at=new_at,
    )
    query = update.callback_query
    if query is not None:
        await query.answer()
    if isinstance(result, Refusal):
        await _say(update, context, render.refusal(result))
        return
    now = services.clock.now()
    if result.moved_to is not None:
        text = render_rescheduled(result.patient_name, result.moved_to, context.me.zone)
    else:
        text = render.attendance_set(result, context.me.zone, now)
    await _say(update, context, text)


async def new_time(update: Update, context: CaseContext) -> int:
    """The new day and time of a rescheduled appointment; a new record or question is not
    an answer (the wait is dropped and the message goes on to the inbox)."""
    message = update.effective_message
    assert message is not None
    text = message.text or ""
    task_id = (context.user_data or {}).pop(PENDING, None)
    if task_id is None:
        return ConversationHandler.END
    if await _reads_as_new(context, text):
        await _say(update, context, DROPPED)
        return ConversationHandler.END  # not stopped: the later groups handle the message
    when = _read_when(context, text)
    if when is None:
        if context.user_data is not None:
            context.user_data[PENDING] = task_id
        await _say(update, context, ASK_AGAIN)
        raise ApplicationHandlerStop(Step.NEW_TIME)
    await _set(update, context, task_id, AppointmentStatus.RESCHEDULED, when)
    raise ApplicationHandlerStop(ConversationHandler.END)


async def leave(update: Update, context: CaseContext) -> int:
    """/cancel while the new time is awaited."""
    if context.user_data is not None:
        context.user_data.pop(PENDING, None)
    await _say(update, context, LEFT)
    raise ApplicationHandlerStop(ConversationHandler.END)


async def timed_out(update: Update, context: CaseContext) -> None:
    """The wait ran out: forget it quietly (the check can be answered again)."""
    if context.user_data is not None:
        context.user_data.pop(PENDING, None)


def _read_when(context: CaseContext, text: str) -> When | None:
    nurse = context.me
    reader = DateReader(
        now=context.services.clock.now(),
        zone=nurse.zone,
        date_order="DMY" if nurse.date_order == "DMY" else "MDY",
    )
    for fragment in reader.fragments(text[:200]):
        when = reader.resolve(fragment, "future")
        if when is not None:
            return when
    return None


async def _reads_as_new(context: CaseContext, text: str) -> bool:
    """A record naming a patient, a new patient, or a question: not a time."""
    nurse = context.me
    intent = parse(
        text,
        now=context.services.clock.now(),
        zone=nurse.zone,
        caseload=await caseload_of(context),
        date_order="DMY" if nurse.date_order == "DMY" else "MDY",
        shorthand=await shorthand_of(context),
    ).first
    if isinstance(intent, QueryIntent | NewPatientIntent):
        return True
    return isinstance(
        intent, ContactIntent | AppointmentIntent | DischargeIntent | MedRecIntent
    ) and (intent.patient is not None or bool(intent.candidates) or bool(intent.patient_text))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """The check's buttons and the wait for a new time, in GROUP."""
    text = filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE
    check = CallbackQueryHandler(answer_check, pattern=Attendance.pattern())
    app.add_handler(
        quiet_conversation(
            entry_points=[check],
            states={
                Step.NEW_TIME: [MessageHandler(text, new_time)],
                ConversationHandler.TIMEOUT: [TypeHandler(Update, timed_out)],
            },
            fallbacks=[CommandHandler("cancel", leave), check],
            conversation_timeout=WAIT,
            name="attendance",
        ),
        group=GROUP,
    )
