"""Labelled care-plan messages: goals, referrals sent and moved on, resource searches and
resources given, read by ``parse`` (through ``parse_careplan``); and near-misses that must stay
what they were."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.parsing import (
    AppointmentIntent,
    Caseload,
    ContactIntent,
    MedRecIntent,
    QueryIntent,
    parse,
)
from bot.parsing.careplans import (
    GoalIntent,
    ReferralIntent,
    ReferralStatusIntent,
    ResourceGivenIntent,
    ResourceQueryIntent,
    canonical_specialty,
    parse_careplan,
)
from bot.vocab import GoalStatus, ReferralStatus, ResourceKind

ZONE = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 23, 10, 15, tzinfo=ZONE)  # Mon 23 Nov 2026
CASELOAD = Caseload.from_names(
    ["Maria Lopez", "Maria Santos", "John Smith", "Dorothy Chen", "Robert King", "Aisha Patel",
     "James O'Brien", "Linda Nguyen", "Grace Kim", "Harold Jensen", "Tom Jensen"]
)  # fmt: skip

GOALS: list[tuple[str, dict[str, Any]]] = [
    ("goal for Maria Lopez: A1c under 8 by March",
     {"patient": "Maria Lopez", "text": "A1c under 8", "target": date(2027, 3, 31)}),
    ("new goal Robert King: walk 30 min 5x/week by 1/15",
     {"patient": "Robert King", "text": "walk 30 min 5x/week", "target": date(2027, 1, 15)}),
    ("Goal for Dorothy: no ER visits in 3 months",
     {"patient": "Dorothy Chen", "text": "no ER visits", "target": date(2027, 2, 23)}),
    ("John Smith goal: take BP meds daily",
     {"patient": "John Smith", "text": "take BP meds daily", "target": None}),
    ("goal for Grace Kim - weight under 180 lbs by end of month",
     {"patient": "Grace Kim", "text": "weight under 180 lbs", "target": date(2026, 11, 30)}),
    ("Aisha Patel care plan goal: attend all dialysis sessions by Jan 31",
     {"patient": "Aisha Patel", "text": "attend all dialysis sessions",
      "target": date(2027, 1, 31)}),
    ("Maria Lopez goal met: walking 20 min daily",
     {"patient": "Maria Lopez", "change": GoalStatus.MET, "outcome": "walking 20 min daily"}),
    ("goal for Robert King met: A1c 7.4",
     {"patient": "Robert King", "change": GoalStatus.MET, "outcome": "A1c 7.4"}),
    ("John Smith goal not met: still smoking 1 ppd",
     {"patient": "John Smith", "change": GoalStatus.NOT_MET, "outcome": "still smoking 1 ppd"}),
    ("Dorothy goal discontinued: moved to hospice",
     {"patient": "Dorothy Chen", "change": GoalStatus.DISCONTINUED,
      "outcome": "moved to hospice"}),
    ("Grace Kim met her goal: no falls for 60 days",
     {"patient": "Grace Kim", "change": GoalStatus.MET, "outcome": "no falls for 60 days"}),
    ("Harold Jensen goal achieved - independent with insulin",
     {"patient": "Harold Jensen", "change": GoalStatus.MET,
      "outcome": "independent with insulin"}),
]  # fmt: skip

REFERRALS: list[tuple[str, dict[str, Any]]] = [
    ("referred Robert King to cardiology today",
     {"patient": "Robert King", "to_whom": "cardiology", "specialty": "cardiology",
      "reason": "", "sent_on": date(2026, 11, 23)}),
    ("Robert King referred to endo for uncontrolled DM 11/20",
     {"patient": "Robert King", "to_whom": "endo", "specialty": "endocrinology",
      "reason": "uncontrolled DM", "sent_on": date(2026, 11, 20)}),
    ("cardiology referral sent for John Smith for chest pain",
     {"patient": "John Smith", "to_whom": "cardiology", "specialty": "cardiology",
      "reason": "chest pain", "sent_on": date(2026, 11, 23)}),
    ("referral for Linda Nguyen to Dr Alvarez yesterday re knee pain",
     {"patient": "Linda Nguyen", "to_whom": "Dr Alvarez", "specialty": None,
      "reason": "knee pain", "sent_on": date(2026, 11, 22)}),
    ("Grace Kim referred to nutrition for diet teaching",
     {"patient": "Grace Kim", "to_whom": "nutrition", "specialty": "nutrition",
      "reason": "diet teaching", "sent_on": date(2026, 11, 23)}),
    ("faxed referral for Harold Jensen to podiatry",
     {"patient": "Harold Jensen", "to_whom": "podiatry", "specialty": "podiatry",
      "reason": "", "sent_on": date(2026, 11, 23)}),
    ("referred Aisha Patel to home health on Friday",
     {"patient": "Aisha Patel", "to_whom": "home health", "specialty": "home health",
      "sent_on": date(2026, 11, 20)}),
]  # fmt: skip

REFERRAL_MOVES: list[tuple[str, str, str, str | None, ReferralStatus]] = [
    # text, patient, to_whom as written, specialty, status
    ("cardiology referral completed for Maria Lopez",
     "Maria Lopez", "cardiology", "cardiology", ReferralStatus.COMPLETED),
    ("Maria Lopez's podiatry referral declined",
     "Maria Lopez", "podiatry", "podiatry", ReferralStatus.DECLINED),
    ("referral to dietitian for Tom Jensen done",
     "Tom Jensen", "dietitian", "nutrition", ReferralStatus.COMPLETED),
    ("Tom Jensen dietitian referral scheduled",
     "Tom Jensen", "dietitian", "nutrition", ReferralStatus.SCHEDULED),
    ("Robert King declined the podiatry referral",
     "Robert King", "podiatry", "podiatry", ReferralStatus.DECLINED),
    ("referral for Linda Nguyen to Dr Alvarez declined",
     "Linda Nguyen", "Dr Alvarez", None, ReferralStatus.DECLINED),
    ("Dr. Alvarez referral for Linda Nguyen: done",
     "Linda Nguyen", "Dr. Alvarez", None, ReferralStatus.COMPLETED),
    ("Robert King referral to PT completed", "Robert King", "PT", None, ReferralStatus.COMPLETED),
    ("Grace Kim cardio referral: pt refused",
     "Grace Kim", "cardio", "cardiology", ReferralStatus.DECLINED),
    ("Aisha Patel referral to endo is now scheduled",
     "Aisha Patel", "endo", "endocrinology", ReferralStatus.SCHEDULED),
    ("John Smith referral completed", "John Smith", "", None, ReferralStatus.COMPLETED),
    ("Harold Jensen podiatry referral booked",
     "Harold Jensen", "podiatry", "podiatry", ReferralStatus.SCHEDULED),
    ("Tom Jensen dietitian referral scheduled today",
     "Tom Jensen", "dietitian", "nutrition", ReferralStatus.SCHEDULED),
    ("Dorothy Chen referral for wound care: appt scheduled",
     "Dorothy Chen", "wound care", "wound care", ReferralStatus.SCHEDULED),
    ("cardiology referral completed for Robert King 11/20",
     "Robert King", "cardiology", "cardiology", ReferralStatus.COMPLETED),
]  # fmt: skip

NOT_REFERRAL_MOVES: list[tuple[str, type]] = [
    ("LVM for John Smith re cardiology referral, try again tomorrow", ContactIntent),
    ("called Maria Lopez, cardiology referral scheduled, f/u Fri", ContactIntent),
    ("spoke w/ Robert King, referral to cardio still pending, f/u 1 wk", ContactIntent),
    ("home visit Grace Kim, podiatry referral done last week, f/u Mon", ContactIntent),
    # "scheduled" with the appointment's day or time: logged as the appointment, which moves
    # the referral to scheduled itself.
    ("cardiology referral scheduled for Robert King 12/3 at 2pm", AppointmentIntent),
    ("Tom Jensen dietitian referral scheduled for Friday", AppointmentIntent),
    ("appt Robert King cardiology 12/3 at 2pm", AppointmentIntent),
    ("referred Robert King to cardiology today", ReferralIntent),
    ("cardiology referral sent for John Smith for chest pain", ReferralIntent),
    ("Dorothy Chen - med rec completed, 1 discrepancy (metoprolol dose)", MedRecIntent),
    ("is Robert King's cardiology referral scheduled?", QueryIntent),
]


QUERIES: list[tuple[str, ResourceKind | None, str]] = [
    ("transport resources", ResourceKind.TRANSPORT, ""),
    ("food resources", ResourceKind.FOOD, ""),
    ("any pharmacy assistance resources?", ResourceKind.PHARMACY, ""),
    ("support groups", ResourceKind.SUPPORT_GROUP, ""),
    ("resources for rides", ResourceKind.TRANSPORT, ""),
    ("home health resources", ResourceKind.HOME_HEALTH, ""),
    ("resources", None, ""),
    ("resources for diabetes", None, "diabetes"),
]

GIVEN: list[tuple[str, dict[str, Any]]] = [
    ("gave John Smith the Metro Access ride number",
     {"patient": "John Smith", "resource": "Metro Access ride number",
      "given_on": date(2026, 11, 23)}),
    ("provided Maria Lopez with info on Meals on Wheels",
     {"patient": "Maria Lopez", "resource": "Meals on Wheels"}),
    ("Dorothy Chen given the food pantry flyer yesterday",
     {"patient": "Dorothy Chen", "resource": "food pantry flyer",
      "given_on": date(2026, 11, 22)}),
    ("gave Robert King the number for the diabetes support group",
     {"patient": "Robert King", "resource": "diabetes support group"}),
]  # fmt: skip

NOT_CARE_PLAN = [
    "LVM for John Smith re cardiology referral, try again tomorrow",
    "called Maria Lopez about her goal of walking, f/u Fri",
    "gave John Smith a call, no answer",
    "spoke w/ Robert King, referral to cardio still pending, f/u 1 wk",
    "who is overdue?",
    "appt Robert King cardiology 12/3 at 2pm",
]


def _read(text: str) -> Any:
    return parse(text, now=NOW, zone=ZONE, caseload=CASELOAD)


@pytest.mark.parametrize(("text", "expected"), GOALS, ids=[t for t, _ in GOALS])
def test_goal_messages(text: str, expected: dict[str, Any]) -> None:
    intent = _read(text)
    assert isinstance(intent, GoalIntent)
    assert intent.patient is not None
    assert intent.patient.name == expected["patient"]
    if "change" in expected:
        assert intent.change == expected["change"]
        assert intent.outcome == expected["outcome"]
    else:
        assert intent.change is None
        assert (intent.text, intent.target) == (expected["text"], expected["target"])
    assert intent.note == text


@pytest.mark.parametrize(("text", "expected"), REFERRALS, ids=[t for t, _ in REFERRALS])
def test_referral_messages(text: str, expected: dict[str, Any]) -> None:
    intent = _read(text)
    assert isinstance(intent, ReferralIntent)
    assert intent.patient is not None
    got = {
        "patient": intent.patient.name,
        "to_whom": intent.to_whom,
        "specialty": intent.specialty,
        "reason": intent.reason,
        "sent_on": intent.sent_on,
    }
    assert {k: got[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("text", "patient", "to_whom", "specialty", "status"),
    REFERRAL_MOVES,
    ids=[t for t, *_ in REFERRAL_MOVES],
)
def test_referral_status_messages(
    text: str, patient: str, to_whom: str, specialty: str | None, status: ReferralStatus
) -> None:
    intent = _read(text)
    assert isinstance(intent, ReferralStatusIntent)
    assert intent.patient is not None
    assert (intent.patient.name, intent.to_whom, intent.specialty, intent.status) == (
        patient, to_whom, specialty, status,
    )  # fmt: skip
    assert intent.note == text


@pytest.mark.parametrize(
    ("text", "reading"), NOT_REFERRAL_MOVES, ids=[t for t, _ in NOT_REFERRAL_MOVES]
)
def test_referral_near_misses_keep_their_reading(text: str, reading: type) -> None:
    assert isinstance(_read(text), reading)


@pytest.mark.parametrize(
    "text",
    [
        "Robert King referral to cardiology not yet scheduled",
        "Robert King has completed PT, referral to ortho sent",
        "pt declined podiatry referral",
        "John Smith wants to know if his cardiology referral was completed",
    ],
)
def test_a_move_word_out_of_place_is_no_referral_status(text: str) -> None:
    assert not isinstance(_read(text), ReferralStatusIntent)


def test_an_ambiguous_first_name_in_a_referral_status_gives_candidates() -> None:
    intent = _read("Maria's podiatry referral declined")
    assert isinstance(intent, ReferralStatusIntent)
    assert intent.patient is None
    assert {c.name for c in intent.candidates} == {"Maria Lopez", "Maria Santos"}
    assert (intent.to_whom, intent.status) == ("podiatry", ReferralStatus.DECLINED)


@pytest.mark.parametrize(("text", "kind", "search"), QUERIES, ids=[t for t, _, _ in QUERIES])
def test_resource_searches(text: str, kind: ResourceKind | None, search: str) -> None:
    intent = _read(text)
    assert isinstance(intent, ResourceQueryIntent)
    assert (intent.resource_kind, intent.search) == (kind, search)


@pytest.mark.parametrize(("text", "expected"), GIVEN, ids=[t for t, _ in GIVEN])
def test_resources_given(text: str, expected: dict[str, Any]) -> None:
    intent = _read(text)
    assert isinstance(intent, ResourceGivenIntent)
    assert intent.patient is not None
    got = {"patient": intent.patient.name, "resource": intent.resource, "given_on": intent.given_on}
    assert {k: got[k] for k in expected} == expected


@pytest.mark.parametrize("text", NOT_CARE_PLAN)
def test_near_misses_are_not_care_plan_messages(text: str) -> None:
    assert parse_careplan(text, now=NOW, zone=ZONE, caseload=CASELOAD) is None


def test_near_misses_keep_their_old_reading() -> None:
    assert isinstance(_read(NOT_CARE_PLAN[0]), ContactIntent)
    assert isinstance(_read(NOT_CARE_PLAN[1]), ContactIntent)
    assert isinstance(_read(NOT_CARE_PLAN[4]), QueryIntent)


def test_an_ambiguous_first_name_gives_candidates() -> None:
    intent = _read("Maria goal met: A1c 7.2")
    assert isinstance(intent, GoalIntent)
    assert intent.patient is None
    assert {c.name for c in intent.candidates} == {"Maria Lopez", "Maria Santos"}


def test_labelled_messages_are_at_least_25() -> None:
    assert len(GOALS) + len(REFERRALS) + len(QUERIES) + len(GIVEN) + len(NOT_CARE_PLAN) >= 25
    assert len(REFERRAL_MOVES) + len(NOT_REFERRAL_MOVES) >= 25


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_careplan("goal for Maria", now=NOW.replace(tzinfo=None), zone=ZONE, caseload=())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cardio", "cardiology"),
        ("Endo", "endocrinology"),
        ("Dr Kim", None),
        ("GI clinic", "gastroenterology"),
    ],
)
def test_canonical_specialty(text: str, expected: str | None) -> None:
    assert canonical_specialty(text) == expected
