"""/today, /tomorrow, /overdue, /week and /calls: her task lists, sized for a phone.

A page holds at most six numbered items and at most 8 buttons: one numbered button per item
and [Prev] [Next]. A number opens that item's actions in place of the numbers ([Done] [+1h]
[Tomorrow] [Log] [Open] [Back]); [Done] or a snooze edits that item's line and brings the
numbers back, the rest of the list as it was. Showing a page remembers its numbers
(bot.services.lists) for /done N and /snooze N (handlers/tasks.py).
Thin: services do the reading and the audit, bot.render the words.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import Application, CommandHandler

from bot.app.context import CaseContext
from bot.render import queries as render
from bot.render import tasks as task_render
from bot.render.callbacks import (
    ListItem,
    ListItemAction,
    OpenPatient,
    TaskAction,
    TaskList,
    TaskListPage,
)
from bot.render.text import time_label, when_label
from bot.services import lists
from bot.services import tasks as task_service
from handlers.common import on_press

NUMBERS_PER_ROW = 6
STALE = {
    task_service.TaskOutcome.ALREADY_DONE: "Already done.",
    task_service.TaskOutcome.CANCELLED: "That task was cancelled; nothing to do.",
    task_service.TaskOutcome.NOT_YOURS: "That isn't one of your tasks.",
    task_service.TaskOutcome.MISSING: "That task no longer exists.",
}


# -- keyboards ---------------------------------------------------------------------------------


def numbers_keyboard(
    view: TaskList,
    *,
    page: int,
    first_number: int,
    task_ids: Sequence[int | None],
    has_more: bool,
) -> InlineKeyboardMarkup | None:
    """[1] [2] ... (one per item with a task) and [Prev] [Next]: at most 8 buttons."""
    numbers = [
        InlineKeyboardButton(
            str(first_number + i), callback_data=ListItem(view, first_number + i, tid).pack()
        )
        for i, tid in enumerate(task_ids)
        if tid is not None
    ]
    rows = [numbers[i : i + NUMBERS_PER_ROW] for i in range(0, len(numbers), NUMBERS_PER_ROW)]
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton("Prev", callback_data=TaskListPage(view, page - 1).pack()))
    if has_more:
        nav.append(InlineKeyboardButton("Next", callback_data=TaskListPage(view, page + 1).pack()))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows) if rows else None


def item_keyboard(
    view: TaskList, number: int, task_id: int, patient_id: int | None
) -> InlineKeyboardMarkup:
    """One item's actions: [Done n] [+1h] [Tomorrow] / [Log] [Open] [Back]."""
    first = [
        InlineKeyboardButton(
            f"Done {number}", callback_data=ListItemAction("done", view, number, task_id).pack()
        ),
        InlineKeyboardButton(
            "+1h", callback_data=ListItemAction("snooze", view, number, task_id).pack()
        ),
        InlineKeyboardButton(
            "Tomorrow", callback_data=ListItemAction("tomorrow", view, number, task_id).pack()
        ),
    ]
    second = [InlineKeyboardButton("Log", callback_data=TaskAction("log", task_id).pack())]
    if patient_id is not None:
        second.append(InlineKeyboardButton("Open", callback_data=OpenPatient(patient_id).pack()))
    second.append(
        InlineKeyboardButton(
            "Back", callback_data=ListItemAction("back", view, number, task_id).pack()
        )
    )
    return InlineKeyboardMarkup([first, second])


# -- showing a list ----------------------------------------------------------------------------


def _now(context: CaseContext) -> datetime:
    return context.services.clock.now()


async def _show(
    update: Update, context: CaseContext, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Edit the pressed message for a page turn; send a new message otherwise."""
    query = update.callback_query
    if query is not None and query.message is not None:
        await query.answer()
        try:
            await query.edit_message_text(text, reply_markup=markup)
        except BadRequest as exc:  # the same page pressed twice: nothing to change
            if "not modified" not in str(exc).lower():
                raise
        return
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text, reply_markup=markup)


async def _show_list(
    update: Update,
    context: CaseContext,
    view: lists.ListView,
    *,
    which: TaskList,
    title: str,
    empty: str,
    tasks_title: str,
) -> None:
    nurse = context.me
    appts = view.appointments
    rendered = render.task_list(
        view.tasks.rows,
        total=view.tasks.total,
        page=view.page,
        size=lists.TASK_PAGE,
        zone=nurse.zone,
        now=_now(context),
        title=title,
        empty=empty,
        appointments=appts.rows if appts else (),
        appointments_total=appts.total if appts else 0,
        tasks_title=tasks_title,
    )
    markup = numbers_keyboard(
        which,
        page=view.page,
        first_number=view.first_number,
        task_ids=[t.id for t in view.tasks.rows],
        has_more=view.page + 1 < rendered.pages,
    )
    await _show(update, context, rendered.text, markup)


async def show_today(update: Update, context: CaseContext, *, page: int = 0) -> None:
    """Appointments and tasks due today, in her zone."""
    now = _now(context)
    view = await lists.today(context.services.db, context.me, now=now, page=page)
    await _show_list(
        update,
        context,
        view,
        which="today",
        title=render.today_title(now, context.me.zone),
        empty="Nothing scheduled and no tasks due today.",
        tasks_title="Due today",
    )


async def show_tomorrow(update: Update, context: CaseContext, *, page: int = 0) -> None:
    """Appointments and tasks due tomorrow, in her zone."""
    now = _now(context)
    view = await lists.tomorrow(context.services.db, context.me, now=now, page=page)
    day = now + timedelta(days=1)
    await _show_list(
        update,
        context,
        view,
        which="tomorrow",
        title=render.today_title(day, context.me.zone).replace("Today", "Tomorrow", 1),
        empty="Nothing scheduled and no tasks due tomorrow.",
        tasks_title="Due tomorrow",
    )


async def show_overdue(update: Update, context: CaseContext, *, page: int = 0) -> None:
    """Her overdue tasks, oldest first."""
    view = await lists.overdue(context.services.db, context.me, now=_now(context), page=page)
    await _show_list(
        update,
        context,
        view,
        which="overdue",
        title="Overdue",
        empty="Nothing is overdue. 🎉",
        tasks_title="Overdue tasks, oldest first",
    )


async def show_week(update: Update, context: CaseContext, *, page: int = 0) -> None:
    """Appointments and deadlines in the next 7 days."""
    now = _now(context)
    view = await lists.week(context.services.db, context.me, now=now, page=page)
    await _show_list(
        update,
        context,
        view,
        which="week",
        title=render.week_title(now, context.me.zone, view.end),
        empty="Nothing scheduled and no deadlines in the next 7 days.",
        tasks_title="Deadlines",
    )


async def show_calls(update: Update, context: CaseContext, *, page: int = 0) -> None:
    """Whom to call, soonest deadline first."""
    services, nurse, now = context.services, context.me, _now(context)
    result = await lists.calls(services.db, nurse, services.config, now=now, page=page)
    pages = render.pages_of(result.total, lists.TASK_PAGE)
    text = task_render.call_list(
        result.items,
        total=result.total,
        page=result.page,
        pages=pages,
        first_number=result.first_number,
        zone=nurse.zone,
        now=now,
    )
    markup = numbers_keyboard(
        "calls",
        page=result.page,
        first_number=result.first_number,
        task_ids=[i.task_id for i in result.items],
        has_more=result.page + 1 < pages,
    )
    await _show(update, context, text, markup)


SHOW: dict[TaskList, Callable[..., Awaitable[None]]] = {
    "today": show_today,
    "tomorrow": show_tomorrow,
    "overdue": show_overdue,
    "week": show_week,
    "calls": show_calls,
}


# -- commands ----------------------------------------------------------------------------------


async def today_command(update: Update, context: CaseContext) -> None:
    """/today: appointments and tasks due today."""
    await show_today(update, context)


async def tomorrow_command(update: Update, context: CaseContext) -> None:
    """/tomorrow: appointments and tasks due tomorrow."""
    await show_tomorrow(update, context)


async def overdue_command(update: Update, context: CaseContext) -> None:
    """/overdue: overdue tasks, oldest first."""
    await show_overdue(update, context)


async def week_command(update: Update, context: CaseContext) -> None:
    """/week: appointments and deadlines in the next 7 days."""
    await show_week(update, context)


async def calls_command(update: Update, context: CaseContext) -> None:
    """/calls: whom to call, soonest deadline first."""
    await show_calls(update, context)


# -- buttons -----------------------------------------------------------------------------------


async def turn_page(update: Update, context: CaseContext, press: TaskListPage) -> None:
    """Turn a page of a task list."""
    show = SHOW[press.view]
    await show(update, context, page=press.page)


async def open_item(update: Update, context: CaseContext, press: ListItem) -> None:
    """A number under a list: that item's actions in place of the numbers."""
    query = update.callback_query
    assert query is not None
    found = await task_service.open_task(
        context.services.db, nurse_id=context.me.id, task_id=press.task_id
    )
    if isinstance(found, task_service.TaskOutcome):
        await query.answer(STALE[found], show_alert=True)
        return
    await query.answer()
    markup = item_keyboard(press.view, press.number, press.task_id, found.patient_id)
    with contextlib.suppress(BadRequest):  # unchanged, or too old to edit
        await query.edit_message_reply_markup(reply_markup=markup)


async def act_on_item(update: Update, context: CaseContext, press: ListItemAction) -> None:
    """[Done] [+1h] [Tomorrow] [Back] of one item: edit its line, bring the numbers back (from
    the list she saw last; a list seen before another is shown afresh). One answer a press."""
    query = update.callback_query
    assert query is not None
    services, nurse = context.services, context.me
    if press.action == "done":
        result = await task_service.complete_task(
            services.db, services.clock, nurse_id=nurse.id, task_id=press.task_id, command="list"
        )
    elif press.action in ("snooze", "tomorrow"):
        result = await task_service.snooze_task(
            services.db,
            services.clock,
            nurse_id=nurse.id,
            task_id=press.task_id,
            by=timedelta(hours=1) if press.action == "snooze" else None,
            tomorrow_at=services.config.reminders.follow_up_time,
            zone=nurse.zone,
            command="list",
        )
    else:
        result = None
    if result is not None and result.outcome in STALE:
        await query.answer(STALE[result.outcome], show_alert=True)
        return
    message = query.message
    seen = await lists.last_seen(services.db, nurse.id)
    if (
        not isinstance(message, Message)
        or message.text is None
        or seen is None
        or seen.view != press.view
        or seen.number_of(press.task_id) != press.number
    ):
        await SHOW[press.view](update, context)  # answers the press
        return
    note = None
    if result is not None and result.outcome == task_service.TaskOutcome.DONE:
        await query.answer("Done.")
        note = "✅ done"
    elif result is not None and result.until is not None:
        await query.answer("Snoozed.")
        day = when_label(result.until, nurse.zone, has_time=False)
        note = f"💤 until {day} {time_label(result.until, nurse.zone)}"
    else:
        await query.answer()
    markup = numbers_keyboard(
        press.view,
        page=(seen.first_number - 1) // lists.TASK_PAGE,
        first_number=seen.first_number,
        task_ids=list(seen.task_ids),
        has_more=seen.has_more,
    )
    text = message.text_html
    if note is not None:
        text = task_render.mark_line(text, press.number, note)
    with contextlib.suppress(BadRequest):  # unchanged, or too old to edit
        await query.edit_message_text(text, reply_markup=markup)


BUTTONS = (
    on_press(TaskListPage, turn_page),
    on_press(ListItem, open_item),
    on_press(ListItemAction, act_on_item),
)


def register(app: Application, group: int = 0) -> None:  # type: ignore[type-arg]
    """The list commands and their buttons."""
    for name, callback in (
        ("today", today_command),
        ("tomorrow", tomorrow_command),
        ("overdue", overdue_command),
        ("week", week_command),
        ("calls", calls_command),
    ):
        app.add_handler(CommandHandler(name, callback), group=group)
    for button in BUTTONS:
        app.add_handler(button, group=group)
