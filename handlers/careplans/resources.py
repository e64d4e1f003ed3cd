"""Community resources by chat: /resources and a resource question answered from the team's
directory, a resource added one answer at a time, a resource given to a patient.

Must not import storage or another handlers topic.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ConversationHandler

from bot.app.context import CaseContext
from bot.parsing.careplans import ResourceGivenIntent, resource_kind_of
from bot.render import careplans as render
from bot.render import labels
from bot.render.callbacks import AddResource, ResourceKindChoice
from bot.services import resources as service
from bot.services.ledger import MessageKey
from bot.vocab import Refusal, ResourceKind
from handlers.careplans.state import NewResource, Step, answer_press, say, state


async def record_given(
    update: Update,
    context: CaseContext,
    intent: ResourceGivenIntent,
    patient_id: int,
    source: MessageKey | None,
) -> None:
    """Save a resource given to a patient (linked to the directory when it is there)."""
    services = context.services
    given = await service.record_given(
        services.db, services.clock, nurse=context.me, source=source, patient_id=patient_id,
        resource_text=intent.resource, given_on=intent.given_on,
    )  # fmt: skip
    if isinstance(given, Refusal):
        await say(update, context, render.refusal(given))
        return
    await say(
        update,
        context,
        render.given_saved(
            given.patient_name,
            given.resource_text,
            given.resource is not None,
            given.given_on,
        ),  # fmt: skip
    )


def _add_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(render.ADD_RESOURCE, callback_data=AddResource().pack())]]
    )


async def answer_resources(
    update: Update, context: CaseContext, kind: ResourceKind | None, words: str
) -> None:
    """The team's resources of a kind, or matching words, with [Add a resource]."""
    rows = await service.search(context.services.db, nurse=context.me, kind=kind, words=words)
    what = labels.RESOURCE_KIND[kind] if kind else (words or None)
    text = render.render_resources([(r.kind, r.name, r.contact, r.notes) for r in rows], what=what)
    await say(update, context, text, _add_keyboard())


async def resources_command(update: Update, context: CaseContext) -> None:
    """/resources [kind or words]: search the team's directory."""
    words = " ".join(context.args or []).strip()
    kind = resource_kind_of(words) if words else None
    await answer_resources(update, context, kind, "" if kind else words)


# -- adding a resource: name, kind, contact, notes ------------------------------------------------


async def add_resource_button(update: Update, context: CaseContext, press: AddResource) -> int:
    """[Add a resource]: ask its name."""
    await answer_press(update)
    state(context).question = None
    await say(update, context, render.ASK_RESOURCE_NAME)
    return Step.RESOURCE_NAME


def _typed(update: Update) -> str:
    message = update.effective_message
    assert message is not None
    return (message.text or "").strip()


async def resource_name(update: Update, context: CaseContext) -> int:
    """The new resource's name: ask its kind."""
    name = " ".join(_typed(update).split())[:120]
    if not name:
        await say(update, context, render.ASK_RESOURCE_NAME)
        return Step.RESOURCE_NAME
    state(context).question = NewResource(name)
    buttons = [
        InlineKeyboardButton(
            labels.RESOURCE_KIND[kind], callback_data=ResourceKindChoice(kind).pack()
        )
        for kind in ResourceKind
    ]
    await say(
        update,
        context,
        render.ask_resource_kind(name),
        InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)]),
    )
    return Step.RESOURCE_KIND


def _new_resource(context: CaseContext) -> NewResource | None:
    question = state(context).question
    return question if isinstance(question, NewResource) else None


async def resource_kind(update: Update, context: CaseContext, press: ResourceKindChoice) -> int:
    """The kind tapped: ask contact details."""
    await answer_press(update)
    draft = _new_resource(context)
    if draft is None:
        await say(update, context, render.TIMED_OUT)
        return ConversationHandler.END
    draft.kind = press.kind
    await say(update, context, render.ask_resource_contact(draft.name))
    return Step.RESOURCE_CONTACT


async def resource_contact(update: Update, context: CaseContext) -> int:
    """Contact details (or /skip): ask notes."""
    text = _typed(update)
    draft = _new_resource(context)
    if draft is not None:
        draft.contact = "" if text.lower() == render.SKIP else text[:200]
    await say(update, context, render.ask_resource_notes(draft.name if draft else ""))
    return Step.RESOURCE_NOTES


async def resource_notes(update: Update, context: CaseContext) -> int:
    """Notes (or /skip): save the resource."""
    text = _typed(update)
    draft = _new_resource(context)
    state(context).question = None
    if draft is None or draft.kind is None:
        await say(update, context, render.TIMED_OUT)
        return ConversationHandler.END
    services = context.services
    saved = await service.add_resource(
        services.db, services.clock, nurse=context.me, kind=draft.kind, name=draft.name,
        contact=draft.contact, notes="" if text.lower() == render.SKIP else text,
    )  # fmt: skip
    await say(update, context, render.resource_saved(saved.name, saved.kind))
    return ConversationHandler.END
