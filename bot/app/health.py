"""Health: what `GET /healthz` answers, and the small server that answers it in polling mode.

The runner keeps `Health` current (this process's role; its poller, when it polls). The webhook
server answers /healthz on its own port; in polling mode `HealthServer` answers it on
[telegram] health_listen:health_port when that port is set (off by default).

200 with a JSON body when the process is healthy: a standby is healthy (it is ready to take
over); a polling leader is healthy while its last successful getUpdates is younger than
[telegram] poll_watchdog_seconds. 503 otherwise, with the same body. The body holds ids, counts
and ages only. Must not import storage or handlers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.web import Application as TornadoApplication
from tornado.web import RequestHandler

from bot.app.polling import PollStatus

ROLE_STARTING = "starting"
ROLE_LEADER = "leader"
ROLE_STANDBY = "standby"


@dataclass
class Health:
    """This process's health, as the runner sees it."""

    mode: str
    process_id: str
    watchdog_seconds: float
    role: str = ROLE_STARTING
    # The poller's status while this process polls (None in webhook mode or as a standby).
    poll_status: Callable[[], PollStatus] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def report(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body)."""
        body: dict[str, Any] = {
            "mode": self.mode,
            "process": self.process_id,
            "role": self.role,
            **self.extra,
        }
        healthy = self.role in (ROLE_LEADER, ROLE_STANDBY)
        if self.poll_status is not None:
            status = self.poll_status()
            body["polling"] = {
                key: round(value, 3) if isinstance(value, float) else value
                for key, value in asdict(status).items()
            }
            healthy = (
                healthy
                and status.fatal is None
                and status.seconds_since_success < self.watchdog_seconds
            )
        body["status"] = "ok" if healthy else "unhealthy"
        return (200 if healthy else 503), body


class HealthHandler(RequestHandler):
    """GET /healthz: the report as JSON (plain "ok" when no Health is known)."""

    health: Health | None

    def initialize(self, health: Callable[[], Health | None]) -> None:
        self.health = health()

    def get(self) -> None:
        if self.health is None:
            self.finish("ok")
            return
        code, body = self.health.report()
        self.set_status(code)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body))


class HealthServer:
    """Serves only GET /healthz on listen:port."""

    def __init__(self, health: Health, *, listen: str, port: int) -> None:
        self.health = health
        self.listen = listen
        self.port = port
        self._server: HTTPServer | None = None

    def start(self) -> None:
        web = TornadoApplication(
            [(r"/healthz", HealthHandler, {"health": lambda: self.health})],
            log_function=lambda _handler: None,
        )
        self._server = HTTPServer(web)
        self._server.listen(self.port, address=self.listen)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None
