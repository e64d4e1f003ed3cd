"""The one free-text entry: every typed message (and a voice note's transcript on [Save]) is
read once with her settings (her caseload's names, her shorthand, her zone and date order)
and handed to the topic that owns what it says, through a routing table.

Topic modules fill the table from their own `register()` (`add_route`); they never import each
other, and this module imports none of them. A question waiting for her typed answer (a new
time for an appointment, kept in the database) gets the message first, unless the message
reads as a new fact or a question: then the question is dropped, saying so, and the message
is handled as new (`is_new_message`, also used by every conversation step that waits for
typed text).
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram import Update
from telegram.ext import Application, ConversationHandler

from bot.app.context import CasebotApplication, CaseContext
from bot.parsing import (
    AdmissionIntent,
    AppointmentIntent,
    CancelIntent,
    ContactIntent,
    CorrectionIntent,
    DischargeIntent,
    DoubtReason,
    EdVisitIntent,
    Fact,
    MedRecIntent,
    NewPatientIntent,
    NoteIntent,
    QueryIntent,
    Reading,
    RescheduleIntent,
    TaskIntent,
    UndoIntent,
    UnknownIntent,
    doubts_of,
    is_question,
    parse,
)
from bot.parsing.careplans import (
    GoalIntent,
    ReferralIntent,
    ReferralStatusIntent,
    ResourceGivenIntent,
    ResourceQueryIntent,
)
from bot.render import inbox as render
from bot.services.ledger import MessageKey
from bot.vocab import QueryKind
from handlers.common import caseload_of, shorthand_of

ROUTES_KEY = "inbox.routes"
"""Where the routing table lives (Services.extras)."""

RECORD_FACTS = (
    ContactIntent,
    AppointmentIntent,
    DischargeIntent,
    AdmissionIntent,
    EdVisitIntent,
    MedRecIntent,
    TaskIntent,
    NoteIntent,
    NewPatientIntent,
)
"""Facts a message saves (bot.services.messages.save_message)."""
CHANGE_FACTS = (CorrectionIntent, CancelIntent, RescheduleIntent, UndoIntent)
CARE_PLAN_FACTS = (
    GoalIntent,
    ReferralIntent,
    ReferralStatusIntent,
    ResourceQueryIntent,
    ResourceGivenIntent,
)
ASKED_FACTS = (ContactIntent, AppointmentIntent, DischargeIntent, MedRecIntent)
"""Facts whose missing pieces the logging conversation asks for, one at a time."""
_PATIENT_DOUBTS = {DoubtReason.AMBIGUOUS_PATIENT, DoubtReason.UNKNOWN_PATIENT}
_OUTCOME_DOUBTS = {DoubtReason.WEAK_CUE, DoubtReason.UNKNOWN_WORD}


class Route(enum.StrEnum):
    """Who takes a message."""

    RECORDS = "records"  # facts to save: sure ones at once, unsure ones read back first
    ASK = "ask"  # one record with a piece missing: the logging conversation asks for it
    NEW_PATIENT = "new_patient"  # "new patient ..." alone: the patient flow
    QUERY = "query"  # a caseload question the query views answer
    LOOKUP = "lookup"  # a question about a name that is on no list: offered as a new patient
    QUESTION = "question"  # a question the parser did not place
    CARE_PLAN = "care_plan"  # goals, referrals, resources
    CHANGE = "change"  # a correction, cancellation, reschedule or undo by text
    ANSWER = "answer"  # the typed answer to a question waiting for it (see `waiting`)
    UNKNOWN = "unknown"  # nothing to act on


@dataclass(frozen=True)
class Inbound:
    """One message as read: its text, its ledger key and its reading."""

    text: str
    key: MessageKey
    reading: Reading
    read_at: datetime


Handler = Callable[[Update, CaseContext, Inbound], Awaitable[int | None]]
"""A route: returns the logging conversation's next state (None: the conversation ends)."""
Waiting = Callable[[Update, CaseContext], Awaitable[bool]]
"""Whether a question waits for this message as its typed answer (then ANSWER takes it)."""


@dataclass
class Routes:
    handlers: dict[Route, Handler]
    waiting: list[Waiting]


def _routes_of(app: Application) -> Routes:  # type: ignore[type-arg]
    assert isinstance(app, CasebotApplication)
    found = app.services.extras.get(ROUTES_KEY)
    if not isinstance(found, Routes):
        found = app.services.extras[ROUTES_KEY] = Routes({}, [])
    return found


def add_route(app: Application, route: Route, handler: Handler) -> None:  # type: ignore[type-arg]
    """A topic takes the messages of `route` (one handler per route)."""
    routes = _routes_of(app)
    assert route not in routes.handlers, f"{route} is routed twice"
    routes.handlers[route] = handler


def add_waiting(app: Application, check: Waiting) -> None:  # type: ignore[type-arg]
    """A topic whose question waits for a typed answer says so per message."""
    _routes_of(app).waiting.append(check)


# -- reading ---------------------------------------------------------------------------------------


async def read(context: CaseContext, text: str, *, now: datetime | None = None) -> Reading:
    """The message's facts, read with her caseload, shorthand, zone and date order."""
    nurse = context.me
    return parse(
        text,
        now=now or context.services.clock.now(),
        zone=nurse.zone,
        caseload=await caseload_of(context),
        date_order="DMY" if nurse.date_order == "DMY" else "MDY",
        shorthand=await shorthand_of(context),
    )


def _names_someone(fact: Fact) -> bool:
    return (
        getattr(fact, "patient", None) is not None
        or bool(getattr(fact, "candidates", ()))
        or bool(getattr(fact, "patient_text", None))
    )


def reads_as_new(reading: Reading, text: str) -> bool:
    """Whether a typed answer is really a new message: a question, a new patient, a record
    or change naming a patient, a task, a care-plan fact ("Fri" or "in 2 weeks" name nobody:
    they stay answers)."""
    if is_question(text):
        return True
    for fact in reading.facts:
        if isinstance(fact, QueryIntent) and fact.query == QueryKind.PATIENT:
            continue  # a bare name ("Maria Lopez") answers "which patient?"
        if isinstance(fact, QueryIntent | NewPatientIntent | TaskIntent | UndoIntent):
            return True
        if isinstance(fact, CARE_PLAN_FACTS) and _names_someone(fact):
            return True
        if isinstance(fact, RECORD_FACTS + CHANGE_FACTS) and _names_someone(fact):
            return True
    return False


async def is_new_message(context: CaseContext, text: str) -> bool:
    """`reads_as_new` for a typed answer."""
    return reads_as_new(await read(context, text[:4096]), text)


def route_of(reading: Reading, text: str) -> Route:
    """Which topic takes a message (pure)."""
    facts = reading.facts
    first = facts[0]
    if isinstance(first, QueryIntent):
        if first.patient is None and not first.candidates and first.patient_text:
            return Route.LOOKUP
        return Route.QUERY
    records = [f for f in facts if isinstance(f, RECORD_FACTS)]
    if isinstance(first, CARE_PLAN_FACTS + CHANGE_FACTS) and records:
        return Route.RECORDS  # its records are saved; the reply says what was not
    if isinstance(first, CARE_PLAN_FACTS):
        return Route.CARE_PLAN
    if isinstance(first, CHANGE_FACTS):
        return Route.CHANGE
    if not records:
        return Route.QUESTION if is_question(text) else Route.UNKNOWN
    if len(facts) == 1 and isinstance(first, NewPatientIntent):
        return Route.NEW_PATIENT
    if len(facts) == 1 and _names_only_a_stranger(first):
        return Route.LOOKUP
    if len(facts) == 1 and isinstance(first, ASKED_FACTS) and _needs_asking(first):
        return Route.ASK
    return Route.RECORDS


def _names_only_a_stranger(fact: Fact) -> bool:
    """A record about a name on no list of hers (nothing to save it on)."""
    return (
        not isinstance(fact, TaskIntent | NewPatientIntent)
        and getattr(fact, "patient", None) is None
        and not getattr(fact, "candidates", ())
        and bool(getattr(fact, "patient_text", None))
    )


def _needs_asking(fact: Fact) -> bool:
    """A piece the logging conversation asks for: which patient (none named, or several fit,
    or a name she has not added), how a contact went, when an appointment is, a follow-up."""
    doubts = {d.reason for d in doubts_of(fact)}
    if getattr(fact, "patient", None) is None:
        # How a contact went, when in doubt, is asked too ("How was the contact?" offers
        # "Call, no answer"); any other doubt is read back.
        settled = _PATIENT_DOUBTS | (_OUTCOME_DOUBTS if isinstance(fact, ContactIntent) else set())
        return not doubts - settled
    if isinstance(fact, ContactIntent):
        return not doubts and (fact.channel is None or fact.follow_up is None)
    if isinstance(fact, AppointmentIntent):
        return fact.at is None
    return False


# -- the entry -------------------------------------------------------------------------------------


def key_of(update: Update) -> MessageKey:
    message = update.effective_message
    assert message is not None
    return MessageKey(chat_id=message.chat_id, message_id=message.message_id)


async def on_text(update: Update, context: CaseContext) -> int:
    """Read a plain message and hand it to the topic that takes it."""
    message = update.effective_message
    assert message is not None
    text = message.text or ""
    routes = _routes_of(context.application)
    for check in routes.waiting:
        if await check(update, context):
            return await _run(update, context, Route.ANSWER, await _inbound(context, text, update))
    return await handle_as_text(update, context, text, key_of(update))


async def _inbound(context: CaseContext, text: str, update: Update) -> Inbound:
    now = context.services.clock.now()
    return Inbound(text, key_of(update), await read(context, text, now=now), now)


async def handle_as_text(update: Update, context: CaseContext, text: str, key: MessageKey) -> int:
    """Handle `text` as a typed message keyed on `key` (a voice note's transcript comes in
    here too, after she tapped [Save]); return the logging conversation's next state."""
    now = context.services.clock.now()
    reading = await read(context, text, now=now)
    inbound = Inbound(text, key, reading, now)
    return await _run(update, context, route_of(reading, text), inbound)


async def _run(update: Update, context: CaseContext, route: Route, inbound: Inbound) -> int:
    handler = _routes_of(context.application).handlers.get(route)
    if handler is None:
        handler = _routes_of(context.application).handlers[Route.UNKNOWN]
    state = await handler(update, context, inbound)
    return ConversationHandler.END if state is None else state


def unknown_fact(inbound: Inbound) -> bool:
    """Nothing in the message to act on."""
    return all(isinstance(f, UnknownIntent) for f in inbound.reading.facts)


async def dispatch(update: Update, context: CaseContext, inbound: Inbound) -> int:
    """Hand an already read message to the topic that takes it (a typed answer that turned
    out to be a new message)."""
    return await _run(update, context, route_of(inbound.reading, inbound.text), inbound)


# -- a question never swallows a record ------------------------------------------------------------


async def handle_as_new(update: Update, context: CaseContext, dropped: str) -> None:
    """Say the question waiting for typed text was dropped, then handle the message as new.
    From outside the logging conversation its questions cannot be entered, so a record with
    a piece missing is read back (nothing saved before her tap) instead of asked for."""
    message = update.effective_message
    assert message is not None
    await context.bot.send_message(message.chat_id, dropped)
    inbound = await _inbound(context, message.text or "", update)
    route = route_of(inbound.reading, inbound.text)
    await _run(update, context, Route.RECORDS if route == Route.ASK else route, inbound)


def unless_new(
    callback: Callable[[Update, CaseContext], Awaitable[int]],
    *,
    dropped: str = render.STEP_DROPPED,
) -> Callable[[Update, CaseContext], Coroutine[Any, Any, int]]:
    """A conversation step that waits for typed text, which a message reading as a new fact or
    a question does not answer: the step is dropped (saying so) and the message handled."""

    async def step(update: Update, context: CaseContext) -> int:
        message = update.effective_message
        text = (message.text or "") if message is not None else ""
        if text and await is_new_message(context, text):
            await handle_as_new(update, context, dropped)
            return ConversationHandler.END
        return await callback(update, context)

    step.__name__ = step.__qualname__ = getattr(callback, "__name__", "step")
    step.__doc__ = callback.__doc__
    return step
