"""Intents from realistic nurse messages (beyond the corpus): kinds, fields, shorthand."""

from datetime import datetime

import pytest

from bot.parsing import (
    AppointmentIntent,
    Caseload,
    ContactIntent,
    DischargeIntent,
    Intent,
    MedRecIntent,
    NewPatientIntent,
    QueryIntent,
    UnknownIntent,
    intent_to_json,
    parse,
)
from bot.vocab import Channel, Complexity, Outcome, Party, QueryKind, Risk
from tests.parsing.conftest import CHICAGO, NOW


def read(text: str, caseload: Caseload) -> Intent:
    return parse(text, now=NOW, zone=CHICAGO, caseload=caseload)


def flat(text: str, caseload: Caseload) -> dict[str, object]:
    return dict(intent_to_json(read(text, caseload), CHICAGO))


@pytest.mark.parametrize(
    ("text", "channel", "outcome", "follow_up", "patient"),
    [
        (
            "Called Grace Kim re glucose log, f/u next Friday",
            "phone",
            "reached",
            "2026-12-04",
            "Grace Kim",
        ),
        (
            "LVM x2 for Robert King, try Thurs",
            "voicemail",
            "attempted",
            "2026-11-26",
            "Robert King",
        ),
        (
            "tc w/ Aisha Patel, BP 128/80 at home, recheck 1/5",
            "phone",
            "reached",
            "2027-01-05",
            "Aisha Patel",
        ),
        (
            "HV Maria Santos, wound healing, next HV in 2 wks",
            "visit",
            "reached",
            "2026-12-07",
            "Maria Santos",
        ),
        ("tele visit w/ John Smith, f/u EOW", "video", "reached", "2026-11-27", "John Smith"),
        ("emailed Harold Jensen diet handout", "email", None, None, "Harold Jensen"),
        ("texted Rosa Martinez, she replied all good", "text", "reached", None, "Rosa Martínez"),
        ("no answer x3 Linda Nguyen, VM full", "phone", "attempted", None, "Linda Nguyen"),
        (
            "spoke w/ son of Dorothy Chen about meals on wheels, f/u 12/8",
            "phone",
            "reached",
            "2026-12-08",
            "Dorothy Chen",
        ),
        ("saw Okafor in clinic, f/u 3 wks", "visit", "reached", "2026-12-14", "Samuel Okafor"),
        (
            "called william brown, doing better. check in tmrw 2pm",
            "phone",
            "reached",
            "2026-11-24T14:00",
            "William Brown",
        ),
        (
            "phone call with Mr Jensen, f/u end of month",
            "phone",
            "reached",
            "2026-11-30",
            "Harold Jensen",
        ),
        (
            "unable to reach Grace Kim, will call again at 3",
            "phone",
            "attempted",
            "2026-11-23T15:00",
            "Grace Kim",
        ),
    ],
)
def test_contacts(
    caseload: Caseload,
    text: str,
    channel: str,
    outcome: str | None,
    follow_up: str | None,
    patient: str,
) -> None:
    got = flat(text, caseload)
    assert got["intent"] == "contact"
    assert (got["channel"], got["outcome"], got["follow_up"], got["patient"]) == (
        channel,
        outcome,
        follow_up,
        patient,
    )


def test_contact_details(caseload: Caseload) -> None:
    intent = read("tried calling Aisha Patel x2 no answer, LVM. call back Wed", caseload)
    assert isinstance(intent, ContactIntent)
    assert intent.attempts == 2
    assert intent.channel is Channel.VOICEMAIL
    assert intent.outcome is Outcome.ATTEMPTED
    assert intent.note == "tried calling Aisha Patel x2 no answer, LVM. call back Wed"


@pytest.mark.parametrize(
    ("text", "party"),
    [
        ("called Linda Nguyen's daughter re rides", Party.CAREGIVER),
        ("spoke w/ wife of William Brown", Party.CAREGIVER),
        ("called PCP office re John Smith refills", Party.PROVIDER),
        ("called Humana re prior auth for Grace Kim", Party.INSURER),
        ("called Grace Kim re labs", Party.PATIENT),
    ],
)
def test_with_whom(caseload: Caseload, text: str, party: Party) -> None:
    intent = read(text, caseload)
    assert isinstance(intent, ContactIntent)
    assert intent.with_whom is party


def test_occurred_date_separate_from_follow_up(caseload: Caseload) -> None:
    intent = read("called Maria Lopez yesterday, f/u Friday", caseload)
    assert isinstance(intent, ContactIntent)
    assert intent.occurred_at.local_iso(CHICAGO) == "2026-11-22"
    assert intent.follow_up is not None
    assert intent.follow_up.local_iso(CHICAGO) == "2026-11-27"


def test_contact_without_date_happened_now(caseload: Caseload) -> None:
    intent = read("called John Smith", caseload)
    assert isinstance(intent, ContactIntent)
    assert intent.occurred_at.at == NOW
    assert intent.occurred_at.at.utcoffset() is not None
    assert intent.follow_up is None


def test_pain_score_is_not_a_date(caseload: Caseload) -> None:
    intent = read("video visit w/ Rosa, pain 6/10, f/u in 2 days", caseload)
    assert isinstance(intent, ContactIntent)
    assert intent.occurred_at.at == NOW
    assert intent.follow_up is not None
    assert intent.follow_up.local_iso(CHICAGO) == "2026-11-25"


@pytest.mark.parametrize(
    ("text", "at", "with_whom", "where"),
    [
        (
            "appt Maria Lopez cardiology Dec 9 @ 11am at St Mary's",
            "2026-12-09T11:00",
            "cardiology",
            "St Mary's",
        ),
        ("Samuel Okafor nephro appt 12/15 at 2", "2026-12-15T14:00", "nephro", None),
        ("John Smith scheduled w/ Dr Patel Friday 9:30", "2026-11-27T09:30", "Dr Patel", None),
        ("Aisha Patel labs Wed 8a", "2026-11-25T08:00", "labs", None),
        ("Robert King PT eval tomorrow at 1 at home", "2026-11-24T13:00", "PT eval", "home"),
    ],
)
def test_appointments(
    caseload: Caseload, text: str, at: str, with_whom: str, where: str | None
) -> None:
    intent = read(text, caseload)
    assert isinstance(intent, AppointmentIntent)
    assert intent.at is not None
    assert intent.at.local_iso(CHICAGO) == at
    assert intent.with_whom == with_whom
    assert intent.where == where


@pytest.mark.parametrize(
    ("text", "discharged", "facility", "complexity"),
    [
        (
            "Harold Jensen d/c'd from Mercy General yesterday, high complexity",
            "2026-11-22",
            "Mercy General",
            Complexity.HIGH,
        ),
        ("Grace Kim discharged home from rehab 11/18", "2026-11-18", "rehab", None),
        ("dc Rosa Martinez from SNF today, 99495", "2026-11-23", "SNF", Complexity.MODERATE),
        ("Robert King discharged 3 days ago", "2026-11-20", None, None),
    ],
)
def test_discharges(
    caseload: Caseload,
    text: str,
    discharged: str,
    facility: str | None,
    complexity: Complexity | None,
) -> None:
    intent = read(text, caseload)
    assert isinstance(intent, DischargeIntent)
    assert intent.discharged.isoformat() == discharged
    assert intent.facility == facility
    assert intent.complexity is complexity


def test_discharge_instructions_call_is_a_contact(caseload: Caseload) -> None:
    assert isinstance(read("called Maria Lopez re d/c instructions", caseload), ContactIntent)


@pytest.mark.parametrize(
    ("text", "day", "discrepancies"),
    [
        ("med rec done for Grace Kim, no discrepancies", "2026-11-23", 0),
        ("medication reconciliation Harold Jensen yesterday - 3 discrepancies", "2026-11-22", 3),
        ("reconciled meds with John Smith's wife", "2026-11-23", None),
    ],
)
def test_med_rec(caseload: Caseload, text: str, day: str, discrepancies: int | None) -> None:
    intent = read(text, caseload)
    assert isinstance(intent, MedRecIntent)
    assert intent.reconciled_on.isoformat() == day
    assert intent.discrepancies == discrepancies


def test_new_patient(caseload: Caseload) -> None:
    intent = read("new patient Maria Lopez MRN 12345 high risk CHF, COPD", caseload)
    assert intent == NewPatientIntent(
        name="Maria Lopez", mrn="12345", risk=Risk.HIGH, conditions=("CHF", "COPD")
    )


def test_new_patient_minimal(caseload: Caseload) -> None:
    intent = read("add pt Tom O'Neil", caseload)
    assert intent == NewPatientIntent(name="Tom O'Neil", mrn=None, risk=None, conditions=())


@pytest.mark.parametrize(
    ("text", "kind", "patient"),
    [
        ("who is overdue?", QueryKind.OVERDUE, None),
        ("overdue", QueryKind.OVERDUE, None),
        ("anything past due?", QueryKind.OVERDUE, None),
        ("who needs a call", QueryKind.OVERDUE, None),
        ("what's on today", QueryKind.TODAY, None),
        ("who do I need to call today", QueryKind.TODAY, None),
        ("this week", QueryKind.WEEK, None),
        ("appointments this week", QueryKind.WEEK, None),
        ("my caseload", QueryKind.CASELOAD, None),
        ("list my patients", QueryKind.CASELOAD, None),
        ("show Maria Lopez", QueryKind.PATIENT, "Maria Lopez"),
        ("pull up Rosa", QueryKind.PATIENT, "Rosa Martínez"),
        ("Samuel Okafor", QueryKind.PATIENT, "Samuel Okafor"),
        ("when did I last reach Mr Jensen?", QueryKind.LAST_CONTACT, "Harold Jensen"),
        ("last contact with Grace Kim?", QueryKind.LAST_CONTACT, "Grace Kim"),
        ("is Aisha Patel high risk?", QueryKind.RISK, "Aisha Patel"),
    ],
)
def test_queries(caseload: Caseload, text: str, kind: QueryKind, patient: str | None) -> None:
    intent = read(text, caseload)
    assert isinstance(intent, QueryIntent)
    assert intent.query is kind
    assert (intent.patient.name if intent.patient else None) == patient


def test_high_risk_query(caseload: Caseload) -> None:
    intent = read("high risk patients", caseload)
    assert intent == QueryIntent(query=QueryKind.CASELOAD, risk=Risk.HIGH)


@pytest.mark.parametrize(
    ("text", "days"),
    [("who haven't I called in 2 weeks?", 14), ("who hasn't been contacted in 30 days", 30)],
)
def test_not_contacted(caseload: Caseload, text: str, days: int) -> None:
    intent = read(text, caseload)
    assert intent == QueryIntent(query=QueryKind.NOT_CONTACTED, days=days)


@pytest.mark.parametrize("text", ["hello", "ok", "thanks!", "", "   ", "👍", "lol"])
def test_unknown(caseload: Caseload, text: str) -> None:
    assert isinstance(read(text, caseload), UnknownIntent)


def test_unknown_name_contact_offers_to_add(caseload: Caseload) -> None:
    intent = read("called Bob Jones re meds, f/u Fri", caseload)
    assert isinstance(intent, ContactIntent)
    assert intent.patient is None
    assert intent.patient_text == "Bob Jones"


def test_ambiguous_contact(caseload: Caseload) -> None:
    intent = read("LVM for Maria, try again tomorrow", caseload)
    assert isinstance(intent, ContactIntent)
    assert intent.patient is None
    assert len(intent.candidates) == 2


def test_accepts_plain_sequence_caseload() -> None:
    from bot.parsing import PatientRef

    intent = parse("called Ann Lee", now=NOW, zone=CHICAGO, caseload=[PatientRef(7, "Ann Lee")])
    assert isinstance(intent, ContactIntent)
    assert intent.patient == PatientRef(7, "Ann Lee")


def test_naive_now_refused(caseload: Caseload) -> None:
    with pytest.raises(ValueError, match="aware"):
        parse("hello", now=datetime(2026, 1, 1), zone=CHICAGO, caseload=caseload)  # noqa: DTZ001


def test_dmy_follow_up(caseload: Caseload) -> None:
    intent = parse(
        "called Grace Kim, f/u 12/3", now=NOW, zone=CHICAGO, caseload=caseload, date_order="DMY"
    )
    assert isinstance(intent, ContactIntent)
    assert intent.follow_up is not None
    assert intent.follow_up.local_iso(CHICAGO) == "2027-03-12"
