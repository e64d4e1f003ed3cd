"""The smaller defects of issue 14, one test each: messages of other kinds get a kind reply,
`casebot invite --hours 0` is refused, patient names keep "&" and lose invisible characters, a
back-and-forth costs one getUpdates per message and no pause."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app.cli import main
from bot.render import messages
from storage.models import Patient
from tests.harness import Harness
from tests.reliability.test_polling import polling, until
from tests.reminder_support import add_patient

OTHER_KINDS: dict[str, dict[str, Any]] = {
    "location": {"location": {"latitude": 41.88, "longitude": -87.63}},
    "contact": {"contact": {"phone_number": "+15550100", "first_name": "Bo"}},
    "dice": {"dice": {"emoji": "🎲", "value": 3}},
    "venue": {
        "venue": {
            "location": {"latitude": 41.88, "longitude": -87.63},
            "title": "Clinic",
            "address": "1 Main St",
        }
    },
    "empty": {},
}


@pytest.mark.parametrize("kind", list(OTHER_KINDS))
async def test_locations_contacts_dice_and_empty_messages_get_a_kind_reply(
    harness: Harness, kind: str
) -> None:
    ana = await harness.enroll("Ana")
    before = await harness.row_counts()
    update = harness.fake.other_message(ana, OTHER_KINDS[kind])
    calls = await harness.fake._feed_and_collect(harness.app, update)
    said = [str(c.params.get("text", "")) for c in calls if c.method == "sendMessage"]
    assert said == [messages.OTHER_KIND], (kind, said)
    assert await harness.row_counts() == before, "nothing saved"


@pytest.mark.parametrize("hours", ["0", "-5", "721", "two"])
def test_invite_with_zero_or_absurd_hours_is_refused_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], hours: str
) -> None:
    config = tmp_path / "config.toml"
    db_path = tmp_path / "casebot.db"
    config.write_text(
        f'[telegram]\ntoken = "1:x"\n[database]\nurl = "sqlite+aiosqlite:///{db_path}"\n'
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", str(config), "invite", "--hours", hours])
    assert exit_info.value.code == 2
    err = capsys.readouterr()
    assert "code:" not in err.out, "no code printed"
    assert "--hours" in err.err
    assert "from 1 to 720" in err.err


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Amp & Sons", "Amp & Sons"),
        ("Zero\u200bwidth Jones", "Zerowidth Jones"),
        ("Rtl \u202eMark Smith", "Rtl Mark Smith"),
    ],
)
async def test_patient_names_are_not_cut_at_ampersands_or_invisible_characters(
    harness: Harness, typed: str, kept: str
) -> None:
    if harness.db.dialect != "sqlite":
        pytest.skip("the parser, not the database")
    ana = await harness.enroll("Ana")
    await harness.send(ana, f"/newpatient {typed}")
    async with harness.db.uow(read_only=True) as session:
        names = list(await session.scalars(select(Patient.display_name)))
    assert names == [kept]


async def test_a_back_and_forth_costs_one_get_updates_per_message_and_no_pause(
    harness: Harness,
) -> None:
    """She sends, waits for the reply, sends again (20 times): the poller plans no pause and
    makes one getUpdates call per message (the long poll that brings it), not two."""
    ana = await harness.enroll("Ana")
    await add_patient(harness, ana, "Maria Lopez")
    fake = harness.fake
    async with polling(harness, timeout=30) as poller:
        await until(lambda: fake.long_polls_waiting == 1)
        polls_before = len(fake.calls_of("getUpdates"))
        replies = len(fake.sent_messages(ana.id))
        for n in range(20):
            fake.enqueue(fake.private_text(ana, f"spoke with Maria Lopez re turn-{n:02d}, f/u Fri"))
            await until(lambda n=n: len(fake.sent_messages(ana.id)) == replies + n + 1)
            # The reply is out; the poller is back in a long poll, not sleeping.
            await until(lambda: fake.long_polls_waiting == 1)
        polls = len(fake.calls_of("getUpdates")) - polls_before
        planned = list(poller.waits)
    assert all("Saved" in t for t in [m.text or "" for m in fake.sent_messages(ana.id)][-20:])
    assert planned == [], planned
    assert polls <= 20 + 1, polls
