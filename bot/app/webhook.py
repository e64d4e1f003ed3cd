"""A webhook server that answers Telegram only after the update has been handled.

PTB's own webhook server answers 200 as soon as the update is queued, so a crash while a message
is being handled loses it: Telegram considers it delivered. Here the request is held open until
the handlers have finished (the nurse's record committed, the reply sent); if the process dies
first, Telegram gets no answer and sends the update again, and the (chat id, message id) ledger
keeps it from being logged twice. Updates still go through the Application's update processor
(per-chat order, cross-chat concurrency). GET /healthz answers load balancers with the process's
health (bot/app/health.py: 200 and a JSON report, or 503).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Sequence
from typing import Any

from telegram import Update
from tornado.httpserver import HTTPServer
from tornado.web import Application as TornadoApplication
from tornado.web import RequestHandler

from bot.app.context import CasebotApplication
from bot.app.health import Health, HealthHandler

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20  # Telegram's updates are far smaller; anything bigger is not from Telegram


class ConfirmingWebhook:
    """Serves `path` on listen:port; each POST is answered once its update has been handled."""

    def __init__(
        self,
        app: CasebotApplication,
        *,
        listen: str,
        port: int,
        path: str,
        webhook_url: str,
        secret_token: str,
        allowed_updates: Sequence[str] | None = None,
        max_connections: int = 40,
    ) -> None:
        self.app = app
        self.listen = listen
        self.port = port
        self.path = "/" + path.strip("/")
        self.webhook_url = webhook_url
        self.secret_token = secret_token
        self.allowed_updates = list(allowed_updates) if allowed_updates else Update.ALL_TYPES
        self.max_connections = max_connections
        self._server: HTTPServer | None = None
        self._in_flight: set[asyncio.Task[None]] = set()

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self, *, register: bool = True) -> None:
        """Listen, then tell Telegram where to send updates (keeping the ones it holds)."""
        routes: list[Any] = [
            (self.path, _UpdateHandler, {"hook": self}),
            (r"/healthz", HealthHandler, {"health": self._health}),
        ]
        web = TornadoApplication(routes, log_function=_quiet)
        self._server = HTTPServer(web, max_body_size=MAX_BODY, xheaders=True)
        self._server.listen(self.port, address=self.listen)
        if register:
            await self.app.bot.set_webhook(
                url=self.webhook_url,
                secret_token=self.secret_token or None,
                allowed_updates=self.allowed_updates,
                max_connections=self.max_connections,
                drop_pending_updates=False,
            )

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop accepting requests; let updates in flight finish (up to `grace` s)."""
        if self._server is None:
            return
        self._server.stop()
        pending = list(self._in_flight)
        if pending:
            await asyncio.wait(pending, timeout=grace)
        with contextlib.suppress(Exception):
            await self._server.close_all_connections()
        self._server = None

    def _health(self) -> Health | None:
        health = self.app.services.extras.get("health")
        return health if isinstance(health, Health) else None

    def authorised(self, header: str | None) -> bool:
        if not self.secret_token:
            return True
        return header is not None and hmac.compare_digest(
            header.encode("utf-8"), self.secret_token.encode("utf-8")
        )

    async def handle(self, update: Update) -> None:
        """Run the update through the Application; returns when its handlers are done."""
        task = asyncio.create_task(self._process(update))
        self._in_flight.add(task)
        try:
            await asyncio.shield(task)
        finally:
            if task.done():
                self._in_flight.discard(task)
            else:
                task.add_done_callback(self._in_flight.discard)

    async def _process(self, update: Update) -> None:
        try:
            processor = self.app.update_processor
            await processor.process_update(update, self.app.process_update(update))
        except Exception as exc:  # noqa: BLE001 - PTB's error handler has already run
            log.error("update %s failed: %s", update.update_id, type(exc).__name__)


class _UpdateHandler(RequestHandler):
    hook: ConfirmingWebhook

    def initialize(self, hook: ConfirmingWebhook) -> None:
        self.hook = hook

    async def post(self) -> None:
        if not self.hook.authorised(self.request.headers.get(SECRET_HEADER)):
            log.warning("webhook call refused: missing or wrong secret token")
            self.send_error(403)
            return
        try:
            data = json.loads(self.request.body)
            update = Update.de_json(data, self.hook.app.bot) if isinstance(data, dict) else None
        except (ValueError, TypeError, KeyError):
            update = None
        if update is None:
            self.send_error(400)
            return
        await self.hook.handle(update)
        self.set_status(200)
        self.finish()

    def write_error(self, status_code: int, **_kwargs: Any) -> None:
        self.finish(str(status_code))  # no tracebacks or request contents in error replies


def _quiet(handler: RequestHandler) -> None:
    """Tornado's access log would name paths and clients at INFO; keep failures only."""
    if handler.get_status() >= 500:
        log.warning("webhook answered %s", handler.get_status())
