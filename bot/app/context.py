"""What every handler and job can reach: services on bot_data, the nurse on the context.

Owns the typed CallbackContext (style: no string keys in bot_data). Must not import storage
models beyond the Database type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from telegram.ext import Application, CallbackContext, ExtBot

from bot.clock import Clock
from bot.config import Config
from bot.services.nurse import (
    NurseView as NurseView,  # re-exported until every service imports bot.services.nurse
)
from storage.db import Database

if TYPE_CHECKING:
    from bot.services.caseload_index import CaseloadIndex

State = TypeVar("State")


@dataclass
class Services:
    """Dependencies that travel with the Application (bot_data), never module globals."""

    config: Config
    db: Database
    clock: Clock
    process_id: str = "main"
    # The outbox dispatcher of this process (bot.outbox.dispatcher.Dispatcher), set at start.
    dispatcher: Any = None
    # Each nurse's caseload name index and shorthand, kept between messages while the
    # application runs (from initialize to shutdown); None before.
    caseloads: CaseloadIndex | None = None
    extras: dict[str, Any] = field(default_factory=dict)


class CasebotApplication(Application[Any, Any, Any, Any, Any, Any]):
    """PTB's Application carrying our Services as a typed attribute."""

    def __init__(self, *, services: Services, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.services = services

    async def initialize(self) -> None:
        """PTB's initialize, then the caseload index (it watches this process's sessions)."""
        from bot.services.caseload_index import CaseloadIndex

        await super().initialize()
        if self.services.caseloads is None:
            self.services.caseloads = CaseloadIndex(self.services.db)

    async def shutdown(self) -> None:
        """PTB's shutdown; the caseload index stops watching sessions."""
        await super().shutdown()
        if self.services.caseloads is not None:
            self.services.caseloads.close()
            self.services.caseloads = None

    async def stop(self) -> None:
        """PTB's stop, then the dispatcher's: its pass runs as a task of its own (its job
        returns at once), so it is finished here, before the database can go away, and this
        process's share of the send budget is freed."""
        await super().stop()
        if self.services.dispatcher is not None:
            await self.services.dispatcher.close()


class CaseContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The context every casebot callback receives."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.nurse: NurseView | None = None

    @property
    def services(self) -> Services:
        app = self.application
        assert isinstance(app, CasebotApplication)
        return app.services

    def state(self, kind: type[State], *, per_chat: bool = False) -> State:
        """This nurse's (or, with `per_chat`, this chat's) conversation state of type `kind`,
        made empty on first use. Each feature owns one dataclass; the class itself is the key,
        so there are no string keys and no casts."""
        store = self.chat_data if per_chat else self.user_data
        if store is None:
            raise RuntimeError("no user or chat behind this update")
        found = store.get(kind)
        if not isinstance(found, kind):
            found = store[kind] = kind()
        return found

    def drop_state(self, kind: type[object], *, per_chat: bool = False) -> None:
        """Forget this nurse's (or chat's) state of type `kind`."""
        store = self.chat_data if per_chat else self.user_data
        if store is not None:
            store.pop(kind, None)

    @property
    def me(self) -> NurseView:
        """The enrolled nurse; the access gate guarantees it for every handler after it."""
        if self.nurse is None:
            raise RuntimeError("handler reached without an enrolled nurse")
        return self.nurse
