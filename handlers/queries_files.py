"""/stats (a chart and the compliance numbers) and /export (the contact log and the upcoming
appointments as files). Thin: bot.services.queries and bot.services.exports read and audit.
"""

from __future__ import annotations

import asyncio

from telegram import InputFile, Update
from telegram.ext import Application, CommandHandler

from bot.app.context import CaseContext
from bot.render import queries as render
from bot.services import charts, exports
from bot.services import queries as service


async def _say(update: Update, context: CaseContext, text: str) -> None:
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text)


async def stats_command(update: Update, context: CaseContext) -> None:
    """/stats: a chart (PNG, no names) and the compliance numbers."""
    services = context.services
    now = context.services.clock.now()
    stats = await service.stats(services.db, context.me, services.config, now=now)
    caption = render.stats_caption(
        contacts_28d=stats.numbers.contacts_total,
        on_time=stats.numbers.done_on_time,
        late=stats.numbers.done_late,
        tcm=stats.tcm,
        mrp=stats.mrp,
        tcm_closed=stats.tcm_closed,
    )
    png = await asyncio.to_thread(charts.render_png, stats.numbers)
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_photo(chat.id, InputFile(png, filename="stats.png"), caption=caption)


async def export_command(update: Update, context: CaseContext) -> None:
    """/export [patient name]: the contact log (CSV) and upcoming appointments (.ics)."""
    nurse = context.me
    services = context.services
    if not exports.may_send_files(nurse.privacy_mode):
        await _say(update, context, render.EXPORT_NOT_ALLOWED)
        return
    chat = update.effective_chat
    assert chat is not None
    now = context.services.clock.now()
    name = " ".join(context.args or []).strip()
    if name:
        from bot.services import patients as patient_service

        lookup = await patient_service.find_patients(
            services.db, services.clock, nurse=nurse, name=name
        )
        if lookup.patient is None or lookup.patient.id is None:
            await _say(update, context, render.no_such_patient(name))
            return
        await _send_contacts(update, context, patient_id=lookup.patient.id)
        return
    await _send_contacts(update, context, patient_id=None)
    ics = await exports.export_appointments(
        services.db,
        nurse_id=nurse.id,
        zone=nurse.zone,
        now=now,
        actor_nurse_id=nurse.id,
        command="export",
    )
    await context.bot.send_document(
        chat.id,
        InputFile(ics.content, filename=ics.filename),
        caption=f"Upcoming appointments: {ics.records}",
    )


async def _send_contacts(update: Update, context: CaseContext, *, patient_id: int | None) -> None:
    nurse = context.me
    services = context.services
    csv_export = await exports.export_contacts(
        services.db,
        nurse_id=nurse.id,
        zone=nurse.zone,
        now=context.services.clock.now(),
        patient_id=patient_id,
        actor_nurse_id=nurse.id,
        command="export",
    )
    if csv_export is None:
        await _say(update, context, render.NOT_FOUND)
        return
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_document(
        chat.id,
        InputFile(csv_export.content, filename=csv_export.filename),
        caption=f"Contact log: {csv_export.records} contacts",
    )


def register(app: Application, group: int = 0) -> None:  # type: ignore[type-arg]
    """/stats and /export."""
    app.add_handler(CommandHandler("stats", stats_command), group=group)
    app.add_handler(CommandHandler("export", export_command), group=group)
