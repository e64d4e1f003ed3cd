"""Saving what a message says: every fact of it in one transaction, or a read-back first.

The inbox's RECORDS route. Sure facts are saved at once (bot.services.messages.save_message)
and listed, each with its absolute dates, under one [Undo] that takes the whole message back.
When any fact is unsure (an unknown word, a weekday that disagrees with the date, a name that
fits several patients ...) the whole message is read back with [Save] [Fix] [Cancel] and
nothing is saved until she taps. The reading waits in the database (bot.services.pending),
so a restart loses nothing; [Save] reads the text again as of when it came and applies her
fixes; the message's ledger key makes a second tap save nothing. [Fix] changes one slot with
buttons (the patient among the candidates, reached or not, how, which day); a fix where the
parser met a word it did not know offers to remember the word for her. Button data carries
ids and codes only.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rapidfuzz import fuzz, process
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler

from bot import care
from bot.app.context import CaseContext
from bot.parsing import (
    AdmissionIntent,
    AppointmentIntent,
    ContactIntent,
    DischargeIntent,
    DoubtReason,
    EdVisitIntent,
    Fact,
    MedRecIntent,
    NewPatientIntent,
    PatientRef,
    TaskIntent,
    When,
    doubts_of,
)
from bot.render import inbox as render
from bot.render import records as records_render
from bot.render.callbacks import (
    FixMenu,
    FixPick,
    FixSlot,
    LearnTerm,
    MessageUndo,
    ReadBack,
    namespace_pattern,
)
from bot.services import messages, pending, shorthand, undo
from bot.services.ledger import MessageKey
from bot.services.messages import RecordFact
from bot.vocab import Outcome, Refusal
from handlers import inbox, keyboards
from handlers.common import caseload_of, on_press

READBACK = "readback"
TERM = "term"
MEANINGS = {Outcome.ATTEMPTED: "no answer", Outcome.REACHED: "reached"}
"""What a learned word means, as the parser reads it, by the outcome she chose."""


async def _say(update: Update, context: CaseContext, text: str, markup: Any = None) -> None:
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text, reply_markup=markup)


def _record_facts(facts: tuple[Fact, ...]) -> list[RecordFact]:
    return [f for f in facts if isinstance(f, inbox.RECORD_FACTS)]


def _blocked(facts: list[RecordFact]) -> list[str]:
    """What stops a save: a fact with no patient she can pick, an appointment with no date."""
    added = {f.name.casefold() for f in facts if isinstance(f, NewPatientIntent)}
    problems = []
    for fact in facts:
        if isinstance(fact, NewPatientIntent):
            continue
        if isinstance(fact, AppointmentIntent) and fact.at is None:
            problems.append(render.NO_APPOINTMENT_DATE)
        if fact.patient is not None or fact.candidates:
            continue
        if isinstance(fact, TaskIntent) and not fact.patient_text:
            continue
        written = fact.patient_text
        if written and written.casefold() not in added and len(added) != 1:
            problems.append(render.cannot_save_unknown(written))
        elif not written and len(added) != 1:
            problems.append(render.NO_PATIENT)
    return problems


def _unpicked(facts: list[RecordFact]) -> tuple[int, tuple[PatientRef, ...]] | None:
    """The first fact whose patient is one of several: she picks before anything is saved."""
    for i, fact in enumerate(facts):
        if isinstance(fact, NewPatientIntent) or fact.patient is not None:
            continue
        if fact.candidates:
            return i, fact.candidates
    return None


def _guessing(facts: list[RecordFact]) -> bool:
    """A slot save_message would fill by guessing: which patient, how a contact went."""
    return any(
        (getattr(f, "candidates", ()) and getattr(f, "patient", None) is None)
        or (isinstance(f, ContactIntent) and f.channel is None)
        for f in facts
    )


# -- the RECORDS route -----------------------------------------------------------------------------


async def records_route(update: Update, context: CaseContext, inbound: inbox.Inbound) -> None:
    """Save a message's facts now when all are sure, or read them back first."""
    facts = _record_facts(inbound.reading.facts)
    others = [
        str(f.kind)
        for f in inbound.reading.facts
        if not isinstance(f, inbox.RECORD_FACTS) and str(f.kind) != "unknown"
    ]
    if others:  # said first: the rest of the reply is about what is saved
        await _say(update, context, render.left_out(others))
    if inbound.reading.sure and not _guessing(facts) and not _blocked(facts):
        await _save(update, context, inbound.key, facts)
        return
    services = context.services
    held = await pending.hold(
        services.db, services.clock, nurse=context.me, key=inbound.key, kind=READBACK,
        text=inbound.text[:4096], read_at=inbound.read_at,
    )  # fmt: skip
    await _read_back(update, context, held, facts)


async def _save(
    update: Update, context: CaseContext, key: MessageKey, facts: list[RecordFact]
) -> bool:
    """Save every fact in one transaction and list them; True when saved (or saved before)."""
    services = context.services
    nurse = context.me
    result = await messages.save_message(
        services.db, services.config, services.clock, nurse=nurse, key=key, facts=facts
    )
    if isinstance(result, Refusal):
        await _say(update, context, records_render.refusal(result))
        return False
    now = services.clock.now()
    if result.duplicate:
        await _say(update, context, records_render.duplicate())
        return True
    if len(result.results) == 1:
        markup = keyboards.saved(result.results[0], message_id=key.message_id)
    else:
        undo_all = MessageUndo(key.message_id).pack()
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(records_render.UNDO, callback_data=undo_all)]]
        )
    await _say(update, context, render.saved(result.results, nurse.zone, now), markup)
    return True


async def _read_back(
    update: Update,
    context: CaseContext,
    held: pending.Pending,
    facts: list[RecordFact],
    *,
    edit: bool = False,
) -> None:
    blocked = _blocked(facts)
    now = context.services.clock.now()
    text = render.read_back(facts, context.me.zone, now, blocked=blocked)
    rows: list[list[InlineKeyboardButton]] = []
    unpicked = _unpicked(facts)
    if unpicked is not None:  # no [Save] before she says which patient: her buttons first
        index, candidates = unpicked
        text += "\n" + render.which_patient_first(len(facts) > 1, index)
        rows.extend(
            [_button(ref.name[:60], FixPick(held.id, index, "patient", ref.id))]
            for ref in candidates[:6]
            if ref.id is not None
        )
    row = []
    if not blocked and unpicked is None:
        row.append(_button(render.SAVE, ReadBack("save", held.id)))
    if _slots(facts):
        row.append(_button(render.FIX, ReadBack("fix", held.id)))
    row.append(_button(render.CANCEL, ReadBack("cancel", held.id)))
    markup = InlineKeyboardMarkup([*rows, row])
    query = update.callback_query
    if edit and query is not None:
        await query.edit_message_text(text, reply_markup=markup)
    else:
        await _say(update, context, text, markup)


def _button(label: str, data: Any) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data.pack())


# -- the reading again, with her fixes ---------------------------------------------------------


async def _facts_of(context: CaseContext, held: pending.Pending) -> list[RecordFact]:
    """The held message read as it was read then, with the slots she fixed."""
    reading = await inbox.read(context, held.text, now=held.read_at)
    facts = _record_facts(reading.facts)
    refs = {r.id: r for r in (await caseload_of(context)).refs}
    fixes: dict[str, dict[str, int]] = held.payload.get("fixes", {})
    for index, fix in fixes.items():
        i = int(index)
        if i < len(facts):
            facts[i] = _apply(facts[i], fix, refs, context)
    return facts


def _apply(
    fact: RecordFact, fix: dict[str, int], refs: dict[int | None, PatientRef], context: CaseContext
) -> RecordFact:
    settled = {
        "patient": {DoubtReason.AMBIGUOUS_PATIENT, DoubtReason.GUESSED_PATIENT},
        "outcome": {DoubtReason.WEAK_CUE, DoubtReason.UNKNOWN_WORD},
        "channel": {DoubtReason.WEAK_CUE, DoubtReason.UNKNOWN_WORD},
        "date": {DoubtReason.DATE_CONFLICT, DoubtReason.AMBIGUOUS_WEEKDAY},
    }
    changes: dict[str, Any] = {}
    if "patient" in fix and not isinstance(fact, NewPatientIntent):
        ref = refs.get(fix["patient"]) or next(
            (c for c in fact.candidates if c.id == fix["patient"]), None
        )
        if ref is not None:
            changes.update(patient=ref, candidates=())
    if isinstance(fact, ContactIntent):
        if "outcome" in fix:
            changes["outcome"] = Outcome.REACHED if fix["outcome"] else Outcome.ATTEMPTED
        if "channel" in fix and fix["channel"] < len(render.FIX_CHANNELS):
            changes["channel"] = render.FIX_CHANNELS[fix["channel"]]
    if "date" in fix:
        options = _date_options(fact)
        if fix["date"] < len(options):
            changes.update(_dated(fact, options[fix["date"]], context))
    if not isinstance(fact, NewPatientIntent):
        gone = set().union(*(settled[slot] for slot in fix if slot in settled))
        changes["doubts"] = tuple(d for d in fact.doubts if d.reason not in gone)
    return replace(fact, **changes) if changes else fact


def _date_options(fact: Fact) -> tuple[When, ...]:
    for doubt in doubts_of(fact):
        if doubt.options:
            return doubt.options
    return ()


def _dated(fact: RecordFact, when: When, context: CaseContext) -> dict[str, Any]:
    day = care.local_date(when.at, context.me.zone)
    if isinstance(fact, AppointmentIntent):
        return {"at": when}
    if isinstance(fact, ContactIntent):
        return {"follow_up": when} if fact.follow_up is not None else {"occurred_at": when}
    if isinstance(fact, TaskIntent):
        return {"due": when}
    if isinstance(fact, DischargeIntent):
        return {"discharged": day}
    if isinstance(fact, AdmissionIntent | EdVisitIntent):
        return {"on": day}
    if isinstance(fact, MedRecIntent):
        return {"reconciled_on": day}
    return {}


def _guessed(fact: RecordFact) -> bool:
    """Her patient matched only by a close spelling or a first name ('james garcia')."""
    return any(d.reason == DoubtReason.GUESSED_PATIENT for d in fact.doubts)


async def _near_names(context: CaseContext, fact: RecordFact) -> list[tuple[str, int]]:
    """The guessed patient and her other patients whose names are nearest what she wrote."""
    refs = [r for r in (await caseload_of(context)).refs if r.id is not None]
    guess: PatientRef | None = getattr(fact, "patient", None)
    written = getattr(fact, "patient_text", None) or (guess.name if guess else "")
    ranked = process.extract(written, [r.name for r in refs], scorer=fuzz.WRatio, limit=8)
    picked = [refs[index] for _name, _score, index in ranked]
    if guess is not None and guess in refs:
        picked = [guess, *[r for r in picked if r != guess]]
    return [(r.name, r.id) for r in picked[:7] if r.id is not None]


def _slots(facts: list[RecordFact]) -> list[tuple[int, FixSlot]]:
    """The slots [Fix] offers, fact by fact."""
    found: list[tuple[int, FixSlot]] = []
    for i, fact in enumerate(facts[:10]):
        if isinstance(fact, NewPatientIntent):
            continue
        if fact.candidates or _guessed(fact):
            found.append((i, "patient"))
        if isinstance(fact, ContactIntent):
            found.extend([(i, "outcome"), (i, "channel")])
        if _date_options(fact):
            found.append((i, "date"))
    return found[:8]


# -- the buttons -------------------------------------------------------------------------------


async def _held(update: Update, context: CaseContext, pending_id: int) -> pending.Pending | None:
    """The pressed reading, still open; said so when it closed."""
    query = update.callback_query
    assert query is not None
    services = context.services
    held = await pending.get(services.db, services.clock, nurse=context.me, pending_id=pending_id)
    if isinstance(held, Refusal):
        await query.answer(render.CLOSED, show_alert=True)
        return None
    await query.answer()
    return held


async def save_button(update: Update, context: CaseContext, press: ReadBack) -> None:
    """[Save]: save the reading as she sees it (once, however often she taps)."""
    held = await _held(update, context, press.pending_id)
    if held is None:
        return
    query = update.callback_query
    assert query is not None
    facts = await _facts_of(context, held)
    if _blocked(facts) or _unpicked(facts) is not None:
        await _read_back(update, context, held, facts)
        return
    await query.edit_message_reply_markup(None)
    if await _save(update, context, held.key, facts):
        services = context.services
        await pending.close(
            services.db, services.clock, nurse=context.me, pending_id=held.id, how="saved"
        )


async def cancel_button(update: Update, context: CaseContext, press: ReadBack) -> None:
    """[Cancel]: drop the reading; nothing is saved."""
    held = await _held(update, context, press.pending_id)
    if held is None:
        return
    services = context.services
    await pending.close(
        services.db, services.clock, nurse=context.me, pending_id=held.id, how="cancelled"
    )
    query = update.callback_query
    assert query is not None
    await query.edit_message_reply_markup(None)
    await _say(update, context, render.CANCELLED)


async def fix_button(update: Update, context: CaseContext, press: ReadBack) -> None:
    """[Fix]: which part to change."""
    held = await _held(update, context, press.pending_id)
    if held is None:
        return
    facts = await _facts_of(context, held)
    slots = _slots(facts)
    many = len(facts) > 1
    buttons = [
        _button(render.slot_button(slot, i, many), FixMenu(held.id, i, slot)) for i, slot in slots
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    now = context.services.clock.now()
    query = update.callback_query
    assert query is not None
    await query.edit_message_text(
        render.fix_menu_text(facts, context.me.zone, now), reply_markup=InlineKeyboardMarkup(rows)
    )


async def fix_menu(update: Update, context: CaseContext, press: FixMenu) -> None:
    """One slot's choices."""
    held = await _held(update, context, press.pending_id)
    if held is None:
        return
    facts = await _facts_of(context, held)
    if press.fact >= len(facts):
        return
    fact = facts[press.fact]
    choices: list[tuple[str, int]] = []
    if press.slot == "patient":
        choices = [(c.name, c.id) for c in getattr(fact, "candidates", ()) if c.id is not None]
        if not choices:
            choices = await _near_names(context, fact)
    elif press.slot == "outcome":
        choices = [(render.REACHED, 1), (render.NOT_REACHED, 0)]
    elif press.slot == "channel":
        choices = [(render.channel_button(c), i) for i, c in enumerate(render.FIX_CHANNELS)]
    elif press.slot == "date":
        now = context.services.clock.now()
        options = _date_options(fact)
        choices = [(render.date_option(w, context.me.zone, now), i) for i, w in enumerate(options)]
    buttons = [
        _button(label[:60], FixPick(held.id, press.fact, press.slot, value))
        for label, value in choices[:8]
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    query = update.callback_query
    assert query is not None
    await query.edit_message_text(
        render.SLOT_QUESTION[press.slot], reply_markup=InlineKeyboardMarkup(rows)
    )


async def fix_pick(update: Update, context: CaseContext, press: FixPick) -> None:
    """Keep her choice and read the message back again (still nothing saved)."""
    held = await _held(update, context, press.pending_id)
    if held is None:
        return
    services = context.services
    payload = dict(held.payload)
    fixes = {k: dict(v) for k, v in payload.get("fixes", {}).items()}
    fixes.setdefault(str(press.fact), {})[press.slot] = press.value
    payload["fixes"] = fixes
    before = await _facts_of(context, held)
    updated = await pending.update_payload(
        services.db, services.clock, nurse=context.me, pending_id=held.id, payload=payload
    )
    if isinstance(updated, Refusal):
        return
    facts = await _facts_of(context, updated)
    await _read_back(update, context, updated, facts, edit=True)
    if press.slot == "outcome" and press.fact < len(before):
        await _offer_term(update, context, updated, before[press.fact], press.value)


async def _offer_term(
    update: Update, context: CaseContext, held: pending.Pending, fact: Fact, value: int
) -> None:
    """After she fixed how a contact went where a word was unknown: offer to learn it."""
    words = [d.detail for d in doubts_of(fact) if d.reason == DoubtReason.UNKNOWN_WORD]
    if not words or not words[0].strip():
        return
    meaning = MEANINGS[Outcome.REACHED if value else Outcome.ATTEMPTED]
    term = shorthand.clean_term(words[0])
    if shorthand.refused(term, meaning):
        return
    services = context.services
    offer = await pending.hold(
        services.db, services.clock, nurse=context.me, key=held.key, kind=TERM, text="",
        payload={"term": term, "meaning": meaning},
    )  # fmt: skip
    markup = InlineKeyboardMarkup(
        [
            [
                _button(render.YES, LearnTerm("yes", offer.id)),
                _button(render.NO, LearnTerm("no", offer.id)),
            ]
        ]
    )
    await _say(update, context, render.learn_offer(term, meaning), markup)


async def learn_button(update: Update, context: CaseContext, press: LearnTerm) -> None:
    """[Yes] learns her word (never a medication, dose or Do Not Use one); [No] does not."""
    held = await _held(update, context, press.pending_id)
    if held is None:
        return
    services = context.services
    nurse = context.me
    if not await pending.close(
        services.db, services.clock, nurse=nurse, pending_id=held.id, how=press.answer
    ):
        return
    query = update.callback_query
    assert query is not None
    await query.edit_message_reply_markup(None)
    if press.answer == "no":
        await _say(update, context, render.NOT_LEARNED)
        return
    term, meaning = str(held.payload.get("term", "")), str(held.payload.get("meaning", ""))
    added = await shorthand.add_term(
        services.db, services.clock, nurse=nurse, term=term, meaning=meaning
    )
    if isinstance(added, Refusal):
        await _say(update, context, render.REFUSED_TERM)
        return
    await _say(update, context, render.learned(added.term, added.meaning))


async def undo_message_button(update: Update, context: CaseContext, press: MessageUndo) -> None:
    """[Undo] under a message's records: take the whole message back."""
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None
    assert chat is not None
    services = context.services
    key = MessageKey(chat_id=chat.id, message_id=press.message_id)
    result = await undo.undo_message(
        services.db, services.config, services.clock, nurse=context.me, key=key
    )
    if isinstance(result, Refusal):
        await query.answer(records_render.refusal(result))
        await _say(update, context, records_render.refusal(result))
        return
    await query.answer("Undone")
    await query.edit_message_reply_markup(None)
    await _say(update, context, render.message_undone(result))


async def stale(update: Update, context: CaseContext) -> None:
    """A malformed press of these families."""
    query = update.callback_query
    assert query is not None
    await query.answer(render.CLOSED, show_alert=True)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """The RECORDS route and the read-back's buttons."""
    inbox.add_route(app, inbox.Route.RECORDS, records_route)
    app.add_handler(on_press(ReadBack, save_button, stale=render.CLOSED, action="save"))
    app.add_handler(on_press(ReadBack, fix_button, stale=render.CLOSED, action="fix"))
    app.add_handler(on_press(ReadBack, cancel_button, stale=render.CLOSED, action="cancel"))
    app.add_handler(on_press(FixMenu, fix_menu, stale=render.CLOSED))
    app.add_handler(on_press(FixPick, fix_pick, stale=render.CLOSED))
    app.add_handler(on_press(LearnTerm, learn_button, stale=render.CLOSED))
    app.add_handler(on_press(MessageUndo, undo_message_button))
    closed = namespace_pattern(ReadBack, FixMenu, FixPick, LearnTerm, MessageUndo)
    app.add_handler(CallbackQueryHandler(stale, pattern=closed))
