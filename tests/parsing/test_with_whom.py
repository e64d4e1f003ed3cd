"""Who was on the other end of a contact: how it was made ("left voicemail", "home visit")
standing before "for <name>" is no one else, so the contact is with the patient; a named
office or firm there is the other end."""

import pytest

from bot.parsing import Caseload, ContactIntent, parse
from bot.vocab import Party
from tests.parsing.conftest import CHICAGO, NOW

CASES = Caseload.from_names(["Maria Lopez", "Harold Jensen", "Pat Wells"])


@pytest.mark.parametrize(
    ("text", "party"),
    [
        ("Left voicemail for Harold Jensen, try again tomorrow.", Party.PATIENT),
        ("left a message for Harold Jensen re labs", Party.PATIENT),
        ("called and left a message for Maria Lopez", Party.PATIENT),
        ("LVM for Harold Jensen", Party.PATIENT),
        ("home visit for Maria Lopez", Party.PATIENT),
        ("video visit for Maria Lopez, doing well", Party.PATIENT),
        ("called lincare re pat wells O2 delivery", Party.PROVIDER),
        ("called walgreens for Maria Lopez refill", Party.PROVIDER),
        ("called Dr Lee re Maria Lopez", Party.PROVIDER),
    ],
)
def test_how_it_was_made_is_not_someone_else(text: str, party: Party) -> None:
    fact = parse(text, now=NOW, zone=CHICAGO, caseload=CASES).first
    assert isinstance(fact, ContactIntent)
    assert fact.with_whom is party
