"""Community resources end to end through the fake Telegram: adding one to the team's
directory, searching it by chat and by /resources, the directory being per team, and recording
that a resource was given to a patient."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.vocab import ResourceKind
from storage.models import CommunityResource, ResourceGiven
from tests.fakes.telegram import FakeUser
from tests.harness import Harness
from tests.reminder_support import add_patient


@pytest.fixture
def h(harness: Harness) -> Harness:
    return harness


async def _add_resource(
    h: Harness, user: FakeUser, name: str, kind_label: str, contact: str, notes: str
) -> None:
    await h.send(user, "/resources")
    await h.press(user, "Add a resource")
    assert h.last_text(user) == "New resource: what is it called?"
    await h.send(user, name)
    assert h.fake.last_message(user.id).button_labels == [
        "Transport", "Food", "Pharmacy assistance", "Home health", "Support group", "Other",
    ]  # fmt: skip
    await h.press(user, kind_label)
    await h.send(user, contact)
    await h.send(user, notes)


async def _given(h: Harness) -> list[ResourceGiven]:
    async with h.db.uow(read_only=True) as session:
        return list((await session.scalars(select(ResourceGiven))).all())


async def test_add_a_resource_then_find_it_by_chat(h: Harness) -> None:
    ana = await h.enroll("Ana")
    await h.send(ana, "/resources")
    assert h.last_text(ana) == (
        "Community resources\nNone in your team's directory yet. Tap “Add a resource”."
    )
    await _add_resource(h, ana, "Metro Access", "Transport", "555-0100", "ADA paratransit")
    assert h.last_text(ana) == ("Saved ✔ Metro Access (Transport) is in your team's directory.")
    await _add_resource(h, ana, "St Mary's Food Pantry", "Food", "/skip", "/skip")
    async with h.db.uow(read_only=True) as session:
        rows = list((await session.scalars(select(CommunityResource))).all())
    assert [(r.kind, r.name, r.contact, r.notes) for r in rows] == [
        (ResourceKind.TRANSPORT, "Metro Access", "555-0100", "ADA paratransit"),
        (ResourceKind.FOOD, "St Mary's Food Pantry", "", ""),
    ]
    await h.send(ana, "transport resources")
    assert h.last_text(ana) == (
        "Transport resources (1)\n• Metro Access (Transport) — 555-0100\n   ADA paratransit"
    )
    await h.send(ana, "/resources food")
    assert h.last_text(ana) == "Food resources (1)\n• St Mary's Food Pantry (Food)"
    await h.send(ana, "resources")
    assert h.last_text(ana).startswith("Community resources (2)")
    assert "resource.created" in await h.audit_actions()


async def test_the_directory_is_per_team(h: Harness) -> None:
    ana = await h.enroll("Ana", team="Team A")
    await _add_resource(h, ana, "Metro Access", "Transport", "555-0100", "/skip")
    bea = await h.enroll("Bea", team="Team A")
    await h.send(bea, "transport resources")
    assert "Metro Access" in h.last_text(bea)
    cleo = await h.enroll("Cleo", team="Team B")
    await h.send(cleo, "transport resources")
    assert "Metro Access" not in h.last_text(cleo)
    assert "None in your team's directory yet" in h.last_text(cleo)


async def test_a_resource_given_is_linked_to_the_directory(h: Harness) -> None:
    ana = await h.enroll("Ana")
    john = await add_patient(h, ana, "John Smith")
    await _add_resource(h, ana, "Metro Access", "Transport", "555-0100", "/skip")
    await h.send(ana, "gave John Smith the Metro Access ride number")
    assert h.last_text(ana) == (
        "Saved ✔ Gave John Smith: Metro Access ride number (Mon 23 Nov 2026)"
    )
    [given] = await _given(h)
    assert given.patient_id == john
    assert given.resource_id is not None
    assert given.given_at == h.clock.now()
    assert "resource.given" in await h.audit_actions()
    await h.send(ana, "/plan John Smith")
    assert "Resources given\n• Mon 23 Nov: Metro Access ride number" in h.last_text(ana)


async def test_a_resource_not_in_the_directory_is_still_recorded(h: Harness) -> None:
    ana = await h.enroll("Ana")
    await add_patient(h, ana, "John Smith")
    await h.send(ana, "John Smith given the food bank flyer yesterday")
    assert h.last_text(ana) == (
        "Saved ✔ Gave John Smith: food bank flyer (Sun 22 Nov 2026)\n"
        "(Not in your team's directory — add it with /resources.)"
    )
    [given] = await _given(h)
    assert given.resource_id is None


async def test_gave_a_call_is_a_contact_not_a_resource(h: Harness) -> None:
    ana = await h.enroll("Ana")
    await add_patient(h, ana, "John Smith")
    await h.send(ana, "gave John Smith a call, f/u Fri")
    assert await _given(h) == []
