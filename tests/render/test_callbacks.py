"""bot.render.callbacks: every button family packs to its wire format, unpacks what it packed and
nothing else, routes only its own presses, and fits Telegram's 64 bytes at its largest."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import fields
from datetime import time
from typing import Any, Literal, get_args, get_origin, get_type_hints

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.render.callbacks import (
    FAMILIES,
    MAX_BYTES,
    AddResource,
    AppointmentAction,
    AppointmentPick,
    Attendance,
    CallbackData,
    CancelMove,
    CaseloadPage,
    CloseGoal,
    Codec,
    Codes,
    ContactHow,
    DigestTime,
    EpisodeComplexity,
    FixMenu,
    FixPick,
    FollowUpChoice,
    ForgetTerm,
    GoalAction,
    KeepPatient,
    LastContact,
    LearnTerm,
    ListItem,
    ListItemAction,
    MessageUndo,
    MovePatient,
    MoveReferral,
    MoveTo,
    NotReachedPage,
    Number,
    OpenPatient,
    PatientAction,
    PatientChoice,
    PatientOffer,
    PatientPick,
    PatientQuestion,
    PlanNote,
    PrivacyChoice,
    ReadBack,
    RecordAction,
    ReferralChoice,
    ResourceKindChoice,
    RiskPage,
    SetRisk,
    SettingsMenu,
    ShowDigest,
    ShowTerms,
    TaskAction,
    TaskListPage,
    TeamNurse,
    TeamNursePage,
    TeamPatient,
    TimeOfDayCodec,
    TokenCodec,
    TransferTo,
    VoiceNote,
    ZoneChoice,
    namespace_pattern,
)
from bot.vocab import (
    AppointmentStatus,
    Channel,
    Complexity,
    GoalStatus,
    Outcome,
    RecordKind,
    ReferralStatus,
    ResourceKind,
    Risk,
)

# One press of every family and the exact data it travels as. These are the formats the bot has
# always sent, so buttons already in nurses' chats keep working.
WIRE: list[tuple[CallbackData, str]] = [
    (RecordAction("undo", RecordKind.CONTACT, 12), "rc:u:c:12"),
    (RecordAction("follow_up", RecordKind.APPOINTMENT, 7), "rc:f:a:7"),
    (RecordAction("note", RecordKind.MED_REC, 3), "rc:n:m:3"),
    (EpisodeComplexity(5, Complexity.HIGH), "rc:x:5:h"),
    (Attendance(41, AppointmentStatus.NO_SHOW), "at:41:n"),
    (PatientPick(9), "pk:9"),
    (ContactHow((Channel.PHONE, Outcome.ATTEMPTED)), "ch:na"),
    (ContactHow((Channel.VISIT, None)), "ch:visit"),
    (FollowUpChoice("in_a_week"), "fu:1w"),
    (TaskAction("snooze", 88), "tk:s:88"),
    (TaskAction("log", 88), "tk:l:88"),
    (ShowDigest(3), "dga:3"),
    (CaseloadPage(0), "q:cl:0"),
    (RiskPage(Risk.MEDIUM, 2), "q:rk:m:2"),
    (NotReachedPage(14, 1), "q:nc:14:1"),
    (TaskListPage("overdue", 1), "q:od:1"),
    (TaskListPage("calls", 0), "q:ca:0"),
    (ListItem("today", 3, 88), "li:td:3:88"),
    (ListItemAction("done", "calls", 7, 88), "la:d:ca:7:88"),
    (ListItemAction("back", "tomorrow", 1, 88), "la:b:tm:1:88"),
    (OpenPatient(21), "q:pt:21"),
    (LastContact(21), "q:lc:21"),
    (PatientQuestion("referrals", 21), "q:pq:rf:21"),
    (TeamNurse(4), "q:to:4"),
    (TeamNursePage(4, 3), "q:tn:4:3"),
    (TeamPatient(4, 1, 7, 21), "q:tp:4:1:7:21"),
    (MovePatient(21), "q:mv:21"),
    (MoveTo(21, 4), "q:mt:21:4"),
    (CancelMove(), "q:xx"),
    (PatientAction("close_ok", 21), "pt:closeok:21"),
    (PatientAction("conditions", 21), "pt:cond:21"),
    (SetRisk(21, Risk.HIGH), "pt:setrisk:21:h"),
    (TransferTo(21, 4), "pt:xto:21:4"),
    (PatientOffer("add_anyway", "Ab-_9xYz"), "pt:addany:Ab-_9xYz"),
    (KeepPatient(), "pt:keep"),
    (PatientChoice("Ab-_9xYz", 21), "cp:Ab-_9xYz:21"),
    (ReferralChoice("Ab-_9xYz", 6), "cr:Ab-_9xYz:6"),
    (CloseGoal(GoalStatus.NOT_MET, 8), "cg:n:8"),
    (GoalAction("pick", 8), "cg:p:8"),
    (GoalAction("intervention", 8), "cg:i:8"),
    (PlanNote(21), "cn:21"),
    (MoveReferral(ReferralStatus.DECLINED, 6), "rf:x:6"),
    (AddResource(), "rs:add"),
    (ResourceKindChoice(ResourceKind.PHARMACY), "rs:k:ph"),
    (SettingsMenu("privacy"), "set:privacy"),
    (ZoneChoice("America/Chicago"), "tz:1"),
    (DigestTime(time(7, 30)), "dg:0730"),
    (PrivacyChoice("initials"), "pv:initials"),
    (VoiceNote("save", "AbC-12_x"), "vn:s:AbC-12_x"),
    (VoiceNote("cancel", "AbC-12_x"), "vn:c:AbC-12_x"),
    (MessageUndo(42), "mu:42"),
    (ReadBack("save", 7), "rb:s:7"),
    (ReadBack("fix", 7), "rb:f:7"),
    (FixMenu(7, 0, "patient"), "fm:7:0:p"),
    (FixPick(7, 1, "outcome", 0), "fp:7:1:o:0"),
    (FixPick(7, 0, "patient", 10**18 - 1), f"fp:7:0:p:{10**18 - 1}"),
    (LearnTerm("yes", 3), "lt:y:3"),
    (ForgetTerm(5), "ltx:5"),
    (ShowTerms(), "ltm"),
    (AppointmentAction("time", 4, 9), "ap:t:4:9"),
    (AppointmentAction("cancel", 4, 9), "ap:c:4:9"),
    (AppointmentPick(2, 9), "apk:2:9"),
]
PRESSES = [press for press, _ in WIRE]


def _id(value: object) -> str:
    return repr(value)


def test_the_table_has_every_family() -> None:
    assert {type(press) for press in PRESSES} == set(FAMILIES)
    assert len(FAMILIES) == len({f.__name__ for f in FAMILIES})


@pytest.mark.parametrize(("press", "data"), WIRE, ids=_id)
def test_pack_writes_the_wire_format_and_unpack_reads_it_back(
    press: CallbackData, data: str
) -> None:
    assert press.pack() == data
    assert type(press).unpack(data) == press


@pytest.mark.parametrize("press", PRESSES, ids=_id)
def test_a_family_routes_and_reads_its_own_presses_only(press: CallbackData) -> None:
    data = press.pack()
    for family in FAMILIES:
        mine = family is type(press)
        assert bool(family.pattern().match(data)) == mine, family.__name__
        assert (family.unpack(data) is not None) == mine, family.__name__


def _largest(family: type[CallbackData]) -> CallbackData:
    """The press of `family` whose data is longest: every field at its widest value."""
    values: dict[str, Any] = {}
    for name, codec in family.codecs:
        if isinstance(codec, Number):
            values[name] = codec.high
        elif isinstance(codec, Codes):
            values[name] = max(codec.table, key=lambda value: len(codec.table[value]))
        elif isinstance(codec, TokenCodec):
            values[name] = "x" * 16
        else:
            assert isinstance(codec, TimeOfDayCodec)
            values[name] = time(23, 59)
    return family(**values)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.__name__)
def test_the_largest_press_fits_telegrams_64_bytes(family: type[CallbackData]) -> None:
    largest = _largest(family)
    data = largest.pack()
    assert len(data.encode()) <= MAX_BYTES
    assert family.unpack(data) == largest


def test_ids_are_bounded_and_packing_refuses_what_unpacking_would() -> None:
    assert OpenPatient.unpack("q:pt:" + "9" * 18) == OpenPatient(10**18 - 1)
    assert OpenPatient.unpack("q:pt:1" + "0" * 18) is None
    with pytest.raises(AssertionError):
        OpenPatient(0).pack()
    with pytest.raises(AssertionError):
        PatientOffer("add", "no spaces allowed").pack()


MALFORMED = [
    "",
    "rc",
    "rc:u:c",  # a field missing
    "rc:u:c:12:1",  # one too many
    "rc:u:c:012",  # not canonical
    "rc:u:c:0",  # ids start at 1
    "rc:u:c:-1",
    "rc:u:c:+1",
    "rc:u:c: 12",
    "rc:u:c:12 ",
    "rc:u:c:12\n",
    "rc:u:c:١٢",  # Arabic-Indic digits
    "rc:u:c:１２",  # fullwidth digits
    "rc:u:c:1²",
    "rc:u:n:12",  # a note is not a record these buttons undo
    "rc:U:c:12",
    "RC:u:c:12",
    "rc:u:c:1" + "0" * 18,  # past 18 digits
    "rc:u:999999",  # the old test's forged press: no kind
    "rc:x:5:x",
    "at:41:attended",
    "ch:clinic",  # not offered
    "ch:",
    "fu:2d",
    "tk:d:",
    "tk:x:5",
    "tk:d:5:5",
    "dga:5:",
    "q:cl:1000000",  # past the last page a list can have
    "q:cl:-1",
    "q:rk:x:0",
    "q:nc:0:0",
    "q:xx:1",
    "q:zz:1",
    "pt:card:x",
    "pt:setrisk:x:h",
    "pt:setrisk:5:z",
    "pt:xto:1",
    "pt:old:1",
    "pt:add:",
    "pt:add:has space",
    "pt:add:" + "a" * 17,
    "pt:keep:1",
    "cp:Maria Lopez",
    "cr:Robert King:1",
    "cg:x:5",
    "rf:d:6",
    "rs:k:zz",
    "rs:k:transport",
    "set:other",
    "tz:8",
    "tz:01",
    "dg:2400",
    "dg:0760",
    "dg:730",
    "pv:everything",
    "vn:s:",
    "vn:x:abc",
    "vn:s:Maria Lopez",  # a token, never a name
    "vn:s:a:b",
    "zz:\u202e<b>x",
]


@pytest.mark.parametrize("data", MALFORMED, ids=repr)
def test_no_family_reads_malformed_or_forged_data(data: str) -> None:
    assert [f.__name__ for f in FAMILIES if f.unpack(data) is not None] == []


def test_unpack_takes_none_for_a_press_without_data() -> None:
    assert all(family.unpack(None) is None for family in FAMILIES)


def _routed(pattern: re.Pattern[str], data: list[str]) -> list[str]:
    return [d for d in data if pattern.match(d)]


def test_pattern_narrows_on_leading_choice_fields() -> None:
    presses = ["rc:u:c:12", "rc:f:c:12", "rc:n:e:1", "rc:u:c:x", "rc:x:5:h"]
    # A malformed press of the family ("rc:u:c:x") still routes to it, to be answered kindly.
    assert _routed(RecordAction.pattern(), presses) == presses[:4]
    assert _routed(RecordAction.pattern(action="undo"), presses) == ["rc:u:c:12", "rc:u:c:x"]
    change = RecordAction.pattern(action=("follow_up", "note"))
    assert _routed(change, presses) == ["rc:f:c:12", "rc:n:e:1"]
    cards = ["pt:card:5", "pt:close:5", "pt:closeok:5", "pt:card:x"]
    assert _routed(PatientAction.pattern(action="card"), cards) == ["pt:card:5", "pt:card:x"]
    assert _routed(PatientAction.pattern(action="close"), cards) == ["pt:close:5"]
    with pytest.raises(AssertionError):
        RecordAction.pattern(record_id=5)  # only leading choice fields route


def test_namespace_pattern_catches_a_topics_old_or_malformed_presses() -> None:
    presses = ["pt:old:1", "pt", "pt:card:x", "ptx:1", "pk:5", "fu:zz", "pkx", "fux:1"]
    patients = namespace_pattern(PatientAction)
    assert _routed(patients, presses) == ["pt:old:1", "pt", "pt:card:x"]
    closed = namespace_pattern(PatientPick, FollowUpChoice)
    assert _routed(closed, presses) == ["pk:5", "fu:zz"]


def test_choice_codes_cover_exactly_the_literal_values() -> None:
    for family in FAMILIES:
        hints = get_type_hints(family, include_extras=True)
        for field in fields(family):
            codec = dict(family.codecs)[field.name]
            base = get_args(hints[field.name])[0]
            if get_origin(base) is Literal:
                assert isinstance(codec, Codes)
                assert set(codec.table) == set(get_args(base)), (family, field.name)


def test_the_module_stays_pure() -> None:
    code = (
        "import sys, bot.render.callbacks\n"
        "roots = {m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(roots & {'telegram', 'storage', 'sqlalchemy', 'handlers', 'asyncpg'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# -- fuzzing ---------------------------------------------------------------------------------------


def _values(codec: Codec) -> st.SearchStrategy[Any]:
    if isinstance(codec, Number):
        return st.integers(codec.low, codec.high)
    if isinstance(codec, Codes):
        return st.sampled_from(list(codec.table))
    if isinstance(codec, TokenCodec):
        return st.from_regex(codec.regex, fullmatch=True)
    return st.builds(time, st.integers(0, 23), st.integers(0, 59))


def _presses(family: type[CallbackData]) -> st.SearchStrategy[CallbackData]:
    return st.fixed_dictionaries({name: _values(codec) for name, codec in family.codecs}).map(
        lambda values: family(**values)
    )


ANY_PRESS = st.one_of([_presses(family) for family in FAMILIES])
PIECES = sorted(
    {part for family in FAMILIES for part in family.prefix.split(":")}
    | {code for f in FAMILIES for _, c in f.codecs if isinstance(c, Codes) for code in c.values}
)
NEAR_MISSES = st.lists(
    st.one_of(
        st.sampled_from(PIECES),
        st.from_regex(r"[0-9]{1,20}", fullmatch=True),
        st.text(max_size=6),
    ),
    max_size=5,
).map(":".join)
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(press=ANY_PRESS)
def test_every_press_round_trips_and_no_other_family_reads_it(press: CallbackData) -> None:
    data = press.pack()
    assert len(data.encode()) <= MAX_BYTES
    assert data.isascii()
    for family in FAMILIES:
        read = family.unpack(data)
        assert read == (press if family is type(press) else None), family.__name__
        assert bool(family.pattern().match(data)) == (family is type(press)), family.__name__


@FUZZ
@given(data=st.one_of(st.text(max_size=80), NEAR_MISSES))
def test_unpack_never_raises_and_accepts_only_what_it_would_pack(data: str) -> None:
    readers = []
    for family in FAMILIES:
        press = family.unpack(data)
        if press is not None:
            readers.append(family)
            assert press.pack() == data  # canonical: nothing else is accepted
            assert family.pattern().match(data)
    assert len(readers) <= 1, readers
