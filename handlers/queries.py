"""/caseload, /team and the answers to questions (the task lists, /today /tomorrow /overdue
/week /calls, are handlers.queries_lists'; /stats and /export handlers.queries_files').

Thin: check who asks, call bot.services.queries (one audited transaction), render with
bot.render.queries, reply. Lists page with [Prev] [Next] by editing the message; buttons carry
typed data from bot.render.callbacks (opaque ids, never names; the task lines carry the
reminders' TaskAction), and every press is checked against the pressing nurse by the service.
`answer_query` is what the free-text router calls for a parsed question;
`answer_unknown_question` lists what the bot can answer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CommandHandler

from bot import vocab
from bot.app.context import CaseContext
from bot.parsing import QueryIntent
from bot.render import labels
from bot.render import queries as render
from bot.render import tasks as task_render
from bot.render.callbacks import (
    CallbackData,
    CancelMove,
    CaseloadPage,
    LastContact,
    MovePatient,
    MoveTo,
    NotReachedPage,
    OpenPatient,
    PatientQuestion,
    RiskPage,
    TeamNurse,
    TeamNursePage,
    TeamPatient,
)
from bot.render.queries import Rendered
from bot.render.text import clip, fit
from bot.services import lists as list_service
from bot.services import queries as service
from bot.vocab import QueryKind, Refusal, Risk
from handlers import inbox
from handlers import queries_files as files
from handlers import queries_lists as lists
from handlers.common import on_press

PageTurn = Callable[[int], CallbackData]
"""The button data of a list's page n."""
PATIENT_QUESTIONS = (
    QueryKind.PATIENT,
    QueryKind.LAST_CONTACT,
    QueryKind.RISK,
    QueryKind.NEXT_APPOINTMENT,
    QueryKind.REFERRALS,
)
RISK_TITLES = {risk: f"{labels.RISK[risk]}-risk patients" for risk in Risk}
DEFAULT_NOT_REACHED_DAYS = 14
REFUSALS = {
    Refusal.NOT_FOUND: render.NOT_FOUND,
    Refusal.NOT_SUPERVISOR: render.NOT_SUPERVISOR,
    Refusal.NO_TEAM: render.NO_TEAM,
    Refusal.NOT_TEAMMATE: render.NOT_IN_TEAM,
}
PER_ROW = 5


# -- keyboards ---------------------------------------------------------------------------------


def _nav(rendered: Rendered, turn: PageTurn) -> list[InlineKeyboardButton]:
    row = []
    if rendered.page > 0:
        row.append(InlineKeyboardButton("Prev", callback_data=turn(rendered.page - 1).pack()))
    if rendered.page + 1 < rendered.pages:
        row.append(InlineKeyboardButton("Next", callback_data=turn(rendered.page + 1).pack()))
    return row


def _chunks(buttons: list[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + PER_ROW] for i in range(0, len(buttons), PER_ROW)]


def _first_number(rendered: Rendered, size: int) -> int:
    return rendered.page * size + 1


def patient_keyboard(rendered: Rendered, turn: PageTurn, *, size: int) -> InlineKeyboardMarkup:
    """[Open n] under each caseload line, then [Prev] [Next]: at most 8 buttons."""
    first = _first_number(rendered, size)
    rows = _chunks(
        [
            InlineKeyboardButton(f"Open {first + i}", callback_data=OpenPatient(pid).pack())
            for i, pid in enumerate(rendered.patient_ids)
        ]
    )
    nav = _nav(rendered, turn)
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows)


def team_keyboard(rendered: Rendered, nurse_id: int, *, size: int) -> InlineKeyboardMarkup:
    """A team nurse's caseload: [1] [2] ... (each opens [Open n] [Move n] [Back]), [Prev]
    [Next]: at most 8 buttons."""
    first = _first_number(rendered, size)
    numbers = [
        InlineKeyboardButton(
            str(first + i),
            callback_data=TeamPatient(nurse_id, rendered.page, first + i, pid).pack(),
        )
        for i, pid in enumerate(rendered.patient_ids)
    ]
    rows = [numbers[i : i + 6] for i in range(0, len(numbers), 6)]
    nav = _nav(rendered, lambda n: TeamNursePage(nurse_id, n))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows)


# -- helpers -----------------------------------------------------------------------------------


def _now(context: CaseContext) -> datetime:
    return context.services.clock.now()


async def _show(
    update: Update,
    context: CaseContext,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
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


async def _say(
    update: Update, context: CaseContext, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Always a new message (answers a pressed button first)."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text, reply_markup=markup)


def _arg_int(context: CaseContext) -> int | None:
    args = context.args or []
    if args and args[0].isdigit() and len(args[0]) <= 6:
        return int(args[0])
    return None


# -- the views ---------------------------------------------------------------------------------


async def show_caseload(
    update: Update, context: CaseContext, *, page: int = 0, risk: Risk | None = None
) -> None:
    """Her caseload (or one risk level of it), most urgent first, one page."""
    nurse = context.me
    now = _now(context)
    result = await service.caseload(context.services.db, nurse, now=now, page=page, risk=risk)
    title = RISK_TITLES[risk] if risk else "Your caseload"
    empty = (
        f"You have no active {labels.inline_label(labels.RISK, risk)}-risk patients."
        if risk
        else "You have no active patients."
    )
    rendered = render.caseload_page(
        result.rows,
        total=result.total,
        page=page,
        size=service.CASELOAD_PAGE,
        zone=nurse.zone,
        now=now,
        title=title,
        empty=empty,
    )
    turn: PageTurn = CaseloadPage if risk is None else (lambda n: RiskPage(vocab.Risk(risk), n))
    await _show(
        update,
        context,
        rendered.text,
        patient_keyboard(rendered, turn, size=service.CASELOAD_PAGE),
    )


async def show_not_reached(
    update: Update, context: CaseContext, *, days: int, page: int = 0
) -> None:
    """Her patients not reached in `days` days, longest gap first."""
    nurse = context.me
    now = _now(context)
    result = await service.not_reached(context.services.db, nurse, now=now, days=days, page=page)
    rendered = render.not_reached_page(
        result.rows,
        total=result.total,
        page=page,
        size=service.CASELOAD_PAGE,
        days=days,
        zone=nurse.zone,
        now=now,
    )
    await _show(
        update,
        context,
        rendered.text,
        patient_keyboard(rendered, lambda n: NotReachedPage(days, n), size=service.CASELOAD_PAGE),
    )


async def show_last_contact(update: Update, context: CaseContext, patient_id: int) -> None:
    """When she last reached one of her patients."""
    nurse = context.me
    now = _now(context)
    view = await service.last_contact(context.services.db, nurse, patient_id, now=now)
    if isinstance(view, Refusal):
        await _say(update, context, REFUSALS[view])
        return
    text = render.last_contact(
        view.name,
        reached_at=view.reached.occurred_at if view.reached else None,
        reached_channel=view.reached.channel if view.reached else None,
        reached_with=view.reached.with_whom if view.reached else None,
        attempt_at=view.attempt.occurred_at if view.attempt else None,
        zone=nurse.zone,
        now=now,
    )
    await _say(update, context, text)


# -- commands ----------------------------------------------------------------------------------


async def caseload_command(update: Update, context: CaseContext) -> None:
    """/caseload: her patients by need, paginated."""
    page = _arg_int(context)
    await show_caseload(update, context, page=max(0, (page or 1) - 1))


async def team_command(update: Update, context: CaseContext) -> None:
    """/team: a supervisor's view of each nurse's load."""
    view = await service.team(context.services.db, context.me, now=_now(context))
    if isinstance(view, Refusal):
        await _say(update, context, REFUSALS[view])
        return
    rendered = render.team_view(view.team_name, view.rows)
    buttons = [
        InlineKeyboardButton(f"Open {i + 1}", callback_data=TeamNurse(row.nurse_id).pack())
        for i, row in enumerate(view.rows[:40])
    ]
    text = rendered.text
    if view.unassigned:  # parked by `casebot revoke --park`: [Assign n] asks who gets her
        text = fit(text + "\n\n" + render.unassigned_section(view.unassigned, zone=context.me.zone))
        buttons += [
            InlineKeyboardButton(f"Assign {i + 1}", callback_data=MovePatient(u.patient_id).pack())
            for i, u in enumerate(view.unassigned[: render.UNASSIGNED_SHOWN])
        ]
    await _say(update, context, text, InlineKeyboardMarkup(_chunks(buttons)))


# -- buttons -----------------------------------------------------------------------------------


async def turn_caseload_page(update: Update, context: CaseContext, press: CaseloadPage) -> None:
    """Turn a page of her caseload."""
    await show_caseload(update, context, page=press.page)


async def turn_risk_page(update: Update, context: CaseContext, press: RiskPage) -> None:
    """Turn a page of one risk level of her caseload."""
    await show_caseload(update, context, page=press.page, risk=press.risk)


async def turn_not_reached_page(
    update: Update, context: CaseContext, press: NotReachedPage
) -> None:
    """Turn a page of the not-reached list."""
    await show_not_reached(update, context, days=press.days, page=press.page)


async def open_patient(update: Update, context: CaseContext, press: OpenPatient) -> None:
    """Open a patient from a list: her own card, or a supervisor's brief of a team patient."""
    access = await service.may_open(context.services.db, context.me, press.patient_id)
    if access == "own":
        from handlers.patients import reply_patient_card

        if update.callback_query is not None:
            await update.callback_query.answer()
        await reply_patient_card(update, context, press.patient_id)
    elif access == "team":
        await show_last_contact_for_supervisor(update, context, press.patient_id)
    else:
        await _say(update, context, render.NOT_FOUND)


async def show_last_contact_for_supervisor(
    update: Update, context: CaseContext, patient_id: int
) -> None:
    """A supervisor opening a teammate's patient: the team brief (audited in the service)."""
    now = _now(context)
    view = await service.team_patient(context.services.db, context.me, patient_id, now=now)
    if isinstance(view, Refusal):
        await _say(update, context, REFUSALS[view])
        return
    text = (
        render.last_contact(
            view.name,
            reached_at=view.reached.occurred_at if view.reached else None,
            reached_channel=view.reached.channel if view.reached else None,
            reached_with=view.reached.with_whom if view.reached else None,
            attempt_at=view.attempt.occurred_at if view.attempt else None,
            zone=context.me.zone,
            now=now,
        )
        .replace("You last reached", "Last reached")
        .replace("You have no", "No")
    )
    await _say(update, context, text)


async def open_team_nurse(update: Update, context: CaseContext, press: TeamNurse) -> None:
    """Open one nurse's caseload from the team view, as a new message (the team view stays;
    its page turns edit the new one)."""
    await _team_caseload(update, context, press.nurse_id, page=0, new_message=True)


async def turn_team_nurse_page(update: Update, context: CaseContext, press: TeamNursePage) -> None:
    """Turn a page of one team nurse's caseload."""
    await _team_caseload(update, context, press.nurse_id, page=press.page, new_message=False)


async def _team_caseload(
    update: Update, context: CaseContext, nurse_id: int, *, page: int, new_message: bool
) -> None:
    """One team nurse's caseload, shown to her supervisor with [Move n] buttons."""
    now = _now(context)
    view = await service.team_caseload(
        context.services.db, context.me, nurse_id, now=now, page=page
    )
    if isinstance(view, Refusal):
        await _say(update, context, REFUSALS[view])
        return
    rendered = render.caseload_page(
        view.page.rows,
        total=view.page.total,
        page=page,
        size=service.CASELOAD_PAGE,
        zone=context.me.zone,
        now=now,
        title=f"{view.nurse_name}'s caseload",
        empty=f"{view.nurse_name} has no active patients.",
    )
    markup = team_keyboard(rendered, view.nurse_id, size=service.CASELOAD_PAGE)
    if new_message:
        await _say(update, context, rendered.text, markup)
    else:
        await _show(update, context, rendered.text, markup)


async def team_patient_actions(update: Update, context: CaseContext, press: TeamPatient) -> None:
    """A number under a team nurse's caseload: that patient's [Open n] [Move n] [Back]."""
    query = update.callback_query
    assert query is not None
    if not context.me.is_supervisor:
        await _say(update, context, REFUSALS[Refusal.NOT_SUPERVISOR])
        return
    if await service.may_open(context.services.db, context.me, press.patient_id) == "no":
        await _say(update, context, render.NOT_FOUND)
        return
    await query.answer()
    n = press.number
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    f"Open {n}", callback_data=OpenPatient(press.patient_id).pack()
                ),
                InlineKeyboardButton(
                    f"Move {n}", callback_data=MovePatient(press.patient_id).pack()
                ),
                InlineKeyboardButton(
                    "Back", callback_data=TeamNursePage(press.nurse_id, press.page).pack()
                ),
            ]
        ]
    )
    with contextlib.suppress(BadRequest):  # unchanged, or too old to edit
        await query.edit_message_reply_markup(reply_markup=markup)


async def ask_move(update: Update, context: CaseContext, press: MovePatient) -> None:
    """Ask a supervisor which team nurse gets the patient."""
    options = await service.move_options(
        context.services.db, context.me, press.patient_id, now=_now(context)
    )
    if isinstance(options, Refusal):
        await _say(update, context, REFUSALS[options])
        return
    if not options.teammates:
        await _say(update, context, render.NO_TEAMMATES)
        return
    rows = [
        [InlineKeyboardButton(clip(name, 40), callback_data=MoveTo(options.patient_id, nid).pack())]
        for nid, name in options.teammates[:30]
    ]
    rows.append([InlineKeyboardButton("Cancel", callback_data=CancelMove().pack())])
    await _say(
        update,
        context,
        render.move_question(options.patient_name, options.from_name),
        InlineKeyboardMarkup(rows),
    )


async def move_to(update: Update, context: CaseContext, press: MoveTo) -> None:
    """Reassign the patient and tell both nurses."""
    me = context.me
    moved = await service.reassign(
        context.services.db, me, press.patient_id, press.nurse_id, now=_now(context)
    )
    if isinstance(moved, Refusal):
        await _say(update, context, REFUSALS[moved])
        return
    await _show(
        update,
        context,
        render.moved_for_supervisor(moved.name, moved.from_name, moved.to_name, moved.tasks_moved),
    )
    by = me.display_name
    if moved.from_chat_id is not None and moved.from_nurse_id != me.id:
        label = render.pushed_label(moved.name, moved.initials, moved.code, moved.from_privacy)
        with contextlib.suppress(TelegramError):  # she blocked the bot: the move stands
            await context.bot.send_message(
                moved.from_chat_id, render.moved_away(label, moved.to_name, by)
            )
    if moved.to_chat_id is not None and moved.to_nurse_id != me.id:
        label = render.pushed_label(moved.name, moved.initials, moved.code, moved.to_privacy)
        with contextlib.suppress(TelegramError):  # she blocked the bot: the move stands
            await context.bot.send_message(
                moved.to_chat_id, render.moved_in(label, moved.from_name, by, moved.tasks_moved)
            )


async def cancel_move(update: Update, context: CaseContext, press: CancelMove) -> None:
    """Drop a pending choice."""
    await _show(update, context, "Cancelled. Nothing was changed.")


async def last_contact_button(update: Update, context: CaseContext, press: LastContact) -> None:
    """Answer 'when did I last reach' for the patient she picked."""
    await show_last_contact(update, context, press.patient_id)


# -- the free-text router's entry points -------------------------------------------------------


async def answer_query(update: Update, context: CaseContext, intent: QueryIntent) -> None:
    """Answer a question the parser read ("who is overdue?", "who do I need to call",
    "anything for tmrw", "when is Tom's next appt", "show Maria", ...)."""
    kind = intent.query
    if kind == QueryKind.CALL_LIST or (intent.calls and kind in (QueryKind.TODAY, None)):
        await lists.show_calls(update, context)
    elif kind == QueryKind.OVERDUE:
        await lists.show_overdue(update, context)
    elif kind == QueryKind.TODAY:
        await lists.show_today(update, context)
    elif kind == QueryKind.TOMORROW:
        await lists.show_tomorrow(update, context)
    elif kind == QueryKind.WEEK:
        await lists.show_week(update, context)
    elif kind == QueryKind.CASELOAD:
        risk = intent.risk
        await show_caseload(update, context, risk=risk)
    elif kind == QueryKind.NOT_CONTACTED:
        await show_not_reached(update, context, days=intent.days or DEFAULT_NOT_REACHED_DAYS)
    elif kind in PATIENT_QUESTIONS:
        await _about_patient(update, context, intent)
    else:
        await answer_unknown_question(update, context)


async def _about_patient(update: Update, context: CaseContext, intent: QueryIntent) -> None:
    patient = intent.patient
    if patient is not None and patient.id is not None:
        if intent.query == QueryKind.LAST_CONTACT:
            await show_last_contact(update, context, patient.id)
        elif intent.query in (QueryKind.NEXT_APPOINTMENT, QueryKind.REFERRALS):
            await show_patient_answer(update, context, patient.id, intent.query)
        else:
            from handlers.patients import reply_patient_card

            await reply_patient_card(update, context, patient.id)
        return
    if intent.candidates:
        rows = [
            [InlineKeyboardButton(clip(ref.name, 40), callback_data=_pick(intent, ref.id))]
            for ref in intent.candidates[:8]
            if ref.id is not None
        ]
        await _say(
            update, context, render.which_patient(intent.patient_text), InlineKeyboardMarkup(rows)
        )
        return
    await _say(update, context, render.no_such_patient(intent.patient_text))


def _pick(intent: QueryIntent, patient_id: int) -> str:
    """The button data of a candidate: the answer the question asked for."""
    if intent.query == QueryKind.LAST_CONTACT:
        return LastContact(patient_id).pack()
    if intent.query == QueryKind.NEXT_APPOINTMENT:
        return PatientQuestion("next_appointment", patient_id).pack()
    if intent.query == QueryKind.REFERRALS:
        return PatientQuestion("referrals", patient_id).pack()
    return OpenPatient(patient_id).pack()


async def show_patient_answer(
    update: Update, context: CaseContext, patient_id: int, what: QueryKind
) -> None:
    """Her patient's next appointment, or open referrals."""
    nurse = context.me
    now = _now(context)
    answer = await list_service.about_patient(
        context.services.db, nurse, patient_id, now=now, what=what.value
    )
    if isinstance(answer, Refusal):
        await _say(update, context, REFUSALS[answer])
        return
    if what == QueryKind.NEXT_APPOINTMENT:
        text = task_render.next_appointment(
            answer.name, answer.next_appointment, nurse.zone, now=now
        )
    else:
        text = task_render.open_referrals(answer.name, answer.referrals)
    await _say(update, context, text)


async def patient_question_button(
    update: Update, context: CaseContext, press: PatientQuestion
) -> None:
    """A candidate of "when is Tom's next appt" / "does Ana have open referrals"."""
    await show_patient_answer(update, context, press.patient_id, QueryKind(press.question))


async def answer_unknown_question(update: Update, context: CaseContext) -> None:
    """A question the bot cannot answer: say what it can."""
    await _say(update, context, render.QUERY_HELP)


BUTTONS = (
    on_press(CaseloadPage, turn_caseload_page),
    on_press(RiskPage, turn_risk_page),
    on_press(NotReachedPage, turn_not_reached_page),
    on_press(OpenPatient, open_patient),
    on_press(LastContact, last_contact_button),
    on_press(PatientQuestion, patient_question_button),
    on_press(TeamNurse, open_team_nurse),
    on_press(TeamNursePage, turn_team_nurse_page),
    on_press(TeamPatient, team_patient_actions),
    on_press(MovePatient, ask_move),
    on_press(MoveTo, move_to),
    on_press(CancelMove, cancel_move),
)
"""Every button of the caseload views, one handler per family."""


def register(app: Application, group: int = 0) -> None:  # type: ignore[type-arg]
    """Commands and the caseload views' buttons; no conversation. Must come before help's
    catch-all for unknown commands (same group, added earlier, or an earlier group)."""
    for name, callback in (
        ("caseload", caseload_command),
        ("team", team_command),
    ):
        app.add_handler(CommandHandler(name, callback), group=group)
    for button in BUTTONS:
        app.add_handler(button, group=group)
    lists.register(app, group=group)
    files.register(app, group=group)
    inbox.add_route(app, inbox.Route.QUERY, _query_route)
    inbox.add_route(app, inbox.Route.QUESTION, _question_route)


async def _query_route(update: Update, context: CaseContext, inbound: inbox.Inbound) -> None:
    """The inbox's QUERY route: a question the parser read."""
    assert isinstance(inbound.reading.first, QueryIntent)
    await answer_query(update, context, inbound.reading.first)


async def _question_route(update: Update, context: CaseContext, inbound: inbox.Inbound) -> None:
    """The inbox's QUESTION route: a question the parser did not place."""
    await answer_unknown_question(update, context)
