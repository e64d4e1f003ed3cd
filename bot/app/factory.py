"""The application factory and the ways to run it (polling, webhook).

Owns wiring: PTB Application with our context type, defaults, rate limiter, per-chat ordered
concurrency, handlers, and start/stop hooks. Nothing is built at import time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import BotCommand
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, Defaults
from telegram.request import BaseRequest

from bot import parsing
from bot.app.concurrency import PerChatUpdateProcessor
from bot.app.context import CasebotApplication, CaseContext, Services
from bot.app.logs import install_redaction, quiet_third_party_loggers
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.outbox.dispatcher import Dispatcher
from handlers import register_all
from storage.db import Database

log = logging.getLogger(__name__)

BOT_COMMANDS: tuple[tuple[str, str], ...] = (
    ("help", "What I understand, with examples"),
    ("today", "Appointments and tasks due today"),
    ("overdue", "Overdue tasks, oldest first"),
    ("caseload", "Your patients, by need"),
    ("tomorrow", "Appointments and tasks due tomorrow"),
    ("week", "The next 7 days"),
    ("calls", "Whom to call, soonest deadline first"),
    ("patient", "A patient's card: /patient name"),
    ("newpatient", "Add a patient"),
    ("contact", "Log a contact step by step"),
    ("appt", "Log an appointment"),
    ("discharge", "Log a discharge (transition of care)"),
    ("medrec", "Log a medication reconciliation"),
    ("note", "Add a note to a patient"),
    ("reminders", "Upcoming reminders"),
    ("plan", "A patient's care plan: /plan name"),
    ("referrals", "Open referrals"),
    ("resources", "Community resources: /resources transport"),
    ("stats", "Charts of your work"),
    ("export", "Contact log (CSV) and appointments (.ics)"),
    ("team", "Your team (supervisors)"),
    ("settings", "Time zone, digest time, privacy"),
    ("pin", "Set or change your PIN: /pin 1234"),
    ("cancel", "Leave what we're doing"),
)

Hook = Callable[[Application[Any, Any, Any, Any, Any, Any]], Awaitable[None]]


def build_application(
    config: Config,
    *,
    db: Database,
    clock: Clock | None = None,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    rate_limiter: bool = True,
    process_id: str | None = None,
    extra_post_init: Hook | None = None,
    dispatch: bool = True,
) -> CasebotApplication:
    """The PTB Application for `config`, talking to the Bot API at config.telegram.base_url."""
    tg = config.telegram
    if not tg.token:
        raise ValueError("a Telegram token is needed (telegram.token or CASEBOT_TELEGRAM_TOKEN)")
    install_redaction(tg.token, tg.secret_token)
    quiet_third_party_loggers()  # PTB at DEBUG logs message contents: patient data
    services = Services(
        config=config,
        db=db,
        clock=clock or SystemClock(),
        process_id=process_id or f"{os.uname().nodename}:{os.getpid()}",
    )

    async def post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        parsing.warm_up()  # word lists load now, not on the first nurse's message
        await app.bot.set_my_commands([BotCommand(name, text) for name, text in BOT_COMMANDS])
        services.dispatcher = Dispatcher(
            db=db,
            bot=app.bot,
            config=config,
            clock=services.clock,
            worker_id=services.process_id,
        )
        services.dispatcher.per_chat_gap = tg.chat_message_gap_ms / 1000
        if dispatch:
            services.dispatcher.start(app.job_queue)
        if extra_post_init is not None:
            await extra_post_init(app)

    builder = (
        ApplicationBuilder()
        .application_class(CasebotApplication, kwargs={"services": services})
        .token(tg.token)
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=config.zone,
                protect_content=config.privacy.protect_content,
                link_preview_options=None,
            )
        )
        .context_types(ContextTypes(context=CaseContext))
        .concurrent_updates(PerChatUpdateProcessor())
        .post_init(post_init)
    )
    if rate_limiter:
        # A leaky bucket of one: an even pace below the cap, never a burst over it.
        limiter = AIORateLimiter(
            overall_max_rate=1,
            overall_time_period=1 / tg.max_messages_per_second,
            max_retries=3,
        )
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]
    if request is not None:
        builder = builder.request(request)
        builder = builder.get_updates_request(get_updates_request or request)
    app = builder.build()
    assert isinstance(app, CasebotApplication)
    register_all(app)
    return app
