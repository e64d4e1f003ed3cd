"""CaseContext.state: each feature's conversation state is one typed object per nurse (or per
chat), keyed by its class, made on first use and forgotten on drop."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.app.context import CasebotApplication, CaseContext


@dataclass
class Draft:
    words: list[str] = field(default_factory=list)


@dataclass
class Other:
    n: int = 0


def test_state_is_one_typed_object_per_nurse_and_kind(app: CasebotApplication) -> None:
    ana = CaseContext(app, chat_id=10, user_id=1)
    ana.state(Draft).words.append("called")
    assert CaseContext(app, chat_id=10, user_id=1).state(Draft).words == ["called"]
    assert CaseContext(app, chat_id=20, user_id=2).state(Draft).words == []
    assert ana.state(Other).n == 0  # another feature's class is another slot
    assert ana.state(Draft, per_chat=True).words == []  # the chat's state is apart
    assert set(app.user_data[1]) == {Draft, Other}  # no string keys


def test_drop_state_forgets_only_that_kind(app: CasebotApplication) -> None:
    ana = CaseContext(app, chat_id=10, user_id=1)
    ana.state(Draft).words.append("called")
    ana.state(Other).n = 3
    ana.drop_state(Draft)
    assert ana.state(Draft).words == []
    assert ana.state(Other).n == 3
