"""Typed button data: one small frozen class per button family, in the manner of aiogram's
CallbackData. Handlers and the outbox build callback data only with `pack()` and read it only
with `unpack()`; nothing else writes or splits callback strings.

The wire format is the family's prefix and one segment per field, joined by ":", e.g.
`RecordAction("undo", RecordKind.CONTACT, 12).pack() == "rc:u:c:12"`. A field's codec (the
`Annotated` metadata) says how it is written: `Id` (a row id, 1 to 18 ASCII digits), `Page`, `Days`,
`Token` (a one-time random token), `TimeOfDay` (HHMM) or a `Codes` table (a fixed set of values,
each with a short code). Fields carry opaque ids and codes only, never names or notes: button
data travels through Telegram and is no place for patient data. Packed data fits Telegram's 64
bytes with every field at its maximum (asserted).

`unpack()` is strict: a wrong prefix, a wrong field count, non-ASCII or non-canonical digits,
an unknown code, an id out of range or a trailing newline all give None, never an exception.
`pattern()` is what PTB routes on: the prefix and the leading `Codes` fields only, so a
malformed or forged press of a family still reaches its own handler, which answers it kindly.

Pure: no telegram, no storage, no I/O.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Collection, Hashable, Mapping
from dataclasses import dataclass
from datetime import time
from typing import (
    Annotated,
    Any,
    ClassVar,
    Generic,
    Literal,
    Protocol,
    Self,
    TypeVar,
    get_args,
    get_type_hints,
)

from bot.parsing.zones import COMMON_ZONES
from bot.vocab import (
    AppointmentStatus,
    Channel,
    Complexity,
    GoalStatus,
    Outcome,
    PrivacyMode,
    RecordKind,
    ReferralStatus,
    ResourceKind,
    Risk,
)

MAX_BYTES = 64
"""Telegram's limit on callback data."""
SEPARATOR = ":"

T = TypeVar("T", bound=Hashable)

# -- field codecs -------------------------------------------------------------------------------


class Codec(Protocol):
    """How one field is written as one segment: `regex` (no capturing group, no separator)
    says what a segment may look like; `decode` of a segment that matched it may still say
    None (e.g. a number out of range)."""

    @property
    def regex(self) -> str: ...
    def encode(self, value: Any) -> str: ...
    def decode(self, text: str) -> Any | None: ...


@dataclass(frozen=True)
class Number:
    """A whole number from `low` to `high`, in canonical ASCII digits (no sign, no leading 0)."""

    low: int
    high: int

    @property
    def regex(self) -> str:
        positive = f"[1-9][0-9]{{0,{len(str(self.high)) - 1}}}"
        return f"0|{positive}" if self.low == 0 else positive

    def encode(self, value: int) -> str:
        assert self.low <= value <= self.high, f"{value} is out of range"
        return str(value)

    def decode(self, text: str) -> int | None:
        value = int(text)
        return value if self.low <= value <= self.high else None


@dataclass(frozen=True)
class TokenCodec:
    """A one-time token from `secrets.token_urlsafe` (the pending action stays server-side)."""

    regex: str = "[A-Za-z0-9_-]{1,16}"

    def encode(self, value: str) -> str:
        assert re.fullmatch(self.regex, value), "a token is 1-16 URL-safe characters"
        return value

    def decode(self, text: str) -> str:
        return text


@dataclass(frozen=True)
class TimeOfDayCodec:
    """A time of day as HHMM."""

    regex: str = "(?:[01][0-9]|2[0-3])[0-5][0-9]"

    def encode(self, value: time) -> str:
        return value.strftime("%H%M")

    def decode(self, text: str) -> time:
        return time(int(text[:2]), int(text[2:]))


class Codes(Generic[T]):
    """A fixed set of values, each written as its own short code (letters, digits, '_')."""

    def __init__(self, table: Mapping[T, str]) -> None:
        codes = list(table.values())
        assert len(set(codes)) == len(codes), f"codes must be unique: {codes}"
        assert all(re.fullmatch("[A-Za-z0-9_]+", code) for code in codes), codes
        self.table = dict(table)
        self.values = {code: value for value, code in table.items()}

    @property
    def regex(self) -> str:
        return "|".join(re.escape(code) for code in self.table.values())

    def encode(self, value: T) -> str:
        assert value in self.table, f"{value!r} has no code"
        return self.table[value]

    def decode(self, text: str) -> T | None:
        return self.values.get(text)

    def only(self, allowed: object) -> Codes[T]:
        """The same codes for `allowed` (a value or a collection of values) only."""
        wanted = (
            set(allowed)
            if isinstance(allowed, Collection) and not isinstance(allowed, str)
            else {allowed}
        )
        unknown = wanted - set(self.table)
        assert not unknown, f"no codes for {unknown}"
        return Codes({value: code for value, code in self.table.items() if value in wanted})


def same(*values: str) -> Codes[str]:
    """Codes that are the values themselves ("full" -> "full")."""
    return Codes({value: value for value in values})


Id = Annotated[int, Number(1, 10**18 - 1)]
"""A row id: positive, up to 18 digits (a signed 64-bit column holds them all)."""
Page = Annotated[int, Number(0, 999_999)]
"""A list's page: /caseload N takes up to 6 digits."""
Days = Annotated[int, Number(1, 99_999)]
"""'Not reached in N days': the parser reads up to 999 months."""
Token = Annotated[str, TokenCodec()]
TimeOfDay = Annotated[time, TimeOfDayCodec()]


# -- the base class -----------------------------------------------------------------------------


class CallbackData:
    """One button family. Subclass as a frozen dataclass with `prefix=` and annotated fields."""

    prefix: ClassVar[str]
    codecs: ClassVar[tuple[tuple[str, Codec], ...]]
    _strict: ClassVar[re.Pattern[str]]

    def __init_subclass__(cls, *, prefix: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        assert re.fullmatch(r"[a-z]+(?::[a-z]+)*", prefix), prefix
        cls.prefix = prefix
        # Only the family's own fields: a class without annotations would see its base's.
        own = cls.__dict__.get("__annotations__", {})
        hints = get_type_hints(cls, vars(sys.modules[cls.__module__]), include_extras=True)
        cls.codecs = tuple((name, _codec(cls, name, hints[name])) for name in own)
        segments = [re.escape(prefix), *(f"({codec.regex})" for _, codec in cls.codecs)]
        cls._strict = re.compile(SEPARATOR.join(segments))

    def pack(self) -> str:
        """The callback data of this press (at most 64 bytes)."""
        segments = [
            self.prefix,
            *(codec.encode(getattr(self, name)) for name, codec in self.codecs),
        ]
        data = SEPARATOR.join(segments)
        assert len(data.encode()) <= MAX_BYTES, f"{type(self).__name__} packs to over 64 bytes"
        return data

    @classmethod
    def unpack(cls, data: str | None) -> Self | None:
        """This family's press read from callback data; None for anything else, malformed or
        forged (never an exception)."""
        if not isinstance(data, str):
            return None
        match = cls._strict.fullmatch(data)
        if match is None:
            return None
        values = {}
        for (name, codec), text in zip(cls.codecs, match.groups(), strict=True):
            value = codec.decode(text)
            if value is None:
                return None
            values[name] = value
        return cls(**values)

    @classmethod
    def pattern(cls, **only: object) -> re.Pattern[str]:
        """What a CallbackQueryHandler routes on: the prefix and the leading choice fields
        (`only` narrows them, e.g. `RecordAction.pattern(action="undo")`). It matches every
        press this family packs and none another family packs; `unpack` does the strict check."""
        segments = [re.escape(cls.prefix)]
        for name, codec in cls.codecs:
            if not isinstance(codec, Codes):
                break
            narrowed = codec.only(only.pop(name)) if name in only else codec
            segments.append(f"(?:{narrowed.regex})")
        assert not only, f"{cls.__name__} routes only on its leading choice fields, not {only}"
        return re.compile("^" + SEPARATOR.join(segments) + rf"(?:{SEPARATOR}|\Z)")


def namespace_pattern(*families: type[CallbackData]) -> re.Pattern[str]:
    """Any press whose data starts with one of these families' prefixes, well-formed or not:
    for a topic's catch-all that answers presses of an old or closed question."""
    prefixes = "|".join(re.escape(family.prefix) for family in families)
    return re.compile(rf"^(?:{prefixes})(?:{SEPARATOR}|\Z)")


def _codec(cls: type, name: str, hint: Any) -> Codec:
    found = [meta for meta in getattr(hint, "__metadata__", ()) if hasattr(meta, "regex")]
    assert len(found) == 1, f"{cls.__name__}.{name} needs one codec in Annotated[...]"
    codec: Codec = found[0]
    return codec


# -- logging a record (handlers/records.py, the outbox's attended? check) ------------------------

RecordPress = Literal["undo", "follow_up", "note"]
RECORD_PRESSES: Codes[RecordPress] = Codes({"undo": "u", "follow_up": "f", "note": "n"})
RECORD_KINDS = Codes(
    {RecordKind.CONTACT: "c", RecordKind.APPOINTMENT: "a", RecordKind.EPISODE: "e",
     RecordKind.MED_REC: "m"}
)  # fmt: skip
RISKS = Codes({Risk.HIGH: "h", Risk.MEDIUM: "m", Risk.LOW: "l"})
ATTENDANCE = Codes(
    {AppointmentStatus.ATTENDED: "a", AppointmentStatus.NO_SHOW: "n",
     AppointmentStatus.RESCHEDULED: "r"}
)  # fmt: skip


@dataclass(frozen=True)
class RecordAction(CallbackData, prefix="rc"):
    """[Undo] [Change follow-up] [Add note] under a saved record."""

    action: Annotated[RecordPress, RECORD_PRESSES]
    kind: Annotated[RecordKind, RECORD_KINDS]
    record_id: Id


@dataclass(frozen=True)
class EpisodeComplexity(CallbackData, prefix="rc:x"):
    """[Moderate] [High] under a discharge saved without its complexity."""

    episode_id: Id
    complexity: Annotated[Complexity, Codes({Complexity.MODERATE: "m", Complexity.HIGH: "h"})]


@dataclass(frozen=True)
class Attendance(CallbackData, prefix="at"):
    """[Attended] [No-show] [Rescheduled] under an attended? check (sent by the outbox)."""

    task_id: Id
    status: Annotated[AppointmentStatus, ATTENDANCE]


@dataclass(frozen=True)
class PatientPick(CallbackData, prefix="pk"):
    """One of the candidate patients, asked while logging."""

    patient_id: Id


ContactWay = tuple[Channel, Outcome | None]
"""How a contact happened; the outcome only where the button says it (a call, no answer)."""
CONTACT_WAYS: Codes[ContactWay] = Codes(
    {(Channel.PHONE, None): "phone", (Channel.PHONE, Outcome.ATTEMPTED): "na",
     (Channel.VISIT, None): "visit", (Channel.VIDEO, None): "video",
     (Channel.VOICEMAIL, None): "voicemail", (Channel.TEXT, None): "text",
     (Channel.EMAIL, None): "email"}
)  # fmt: skip


@dataclass(frozen=True)
class ContactHow(CallbackData, prefix="ch"):
    """How the contact happened, tapped while logging."""

    way: Annotated[ContactWay, CONTACT_WAYS]


FollowUp = Literal["tomorrow", "in_a_week", "none"]


@dataclass(frozen=True)
class FollowUpChoice(CallbackData, prefix="fu"):
    """[Tomorrow] [In 1 week] [No follow-up]."""

    choice: Annotated[FollowUp, Codes({"tomorrow": "1d", "in_a_week": "1w", "none": "none"})]


# -- reminders and digests (handlers/tasks.py, handlers/digest.py, the outbox) -------------------

TaskPress = Literal["done", "snooze", "tomorrow", "log"]


@dataclass(frozen=True)
class TaskAction(CallbackData, prefix="tk"):
    """[Done] [Snooze 1h] [Tomorrow] [Log contact] on a reminder or a task list."""

    action: Annotated[TaskPress, Codes({"done": "d", "snooze": "s", "tomorrow": "t", "log": "l"})]
    task_id: Id


@dataclass(frozen=True)
class ShowDigest(CallbackData, prefix="dga"):
    """[Show all] under a digest that was cut."""

    delivery_id: Id


# -- caseload views (handlers/queries.py) ---------------------------------------------------------


@dataclass(frozen=True)
class CaseloadPage(CallbackData, prefix="q:cl"):
    """[Prev] [Next] under her caseload."""

    page: Page


@dataclass(frozen=True)
class RiskPage(CallbackData, prefix="q:rk"):
    """[Prev] [Next] under one risk level of her caseload."""

    risk: Annotated[Risk, RISKS]
    page: Page


@dataclass(frozen=True)
class NotReachedPage(CallbackData, prefix="q:nc"):
    """[Prev] [Next] under "not reached in N days"."""

    days: Days
    page: Page


TaskList = Literal["today", "overdue", "week", "tomorrow", "calls"]
TASK_LISTS: Codes[TaskList] = Codes(
    {"today": "td", "overdue": "od", "week": "wk", "tomorrow": "tm", "calls": "ca"}
)


@dataclass(frozen=True)
class TaskListPage(CallbackData, prefix="q"):
    """[Prev] [Next] under /today, /overdue, /week, /tomorrow or /calls."""

    view: Annotated[TaskList, TASK_LISTS]
    page: Page


@dataclass(frozen=True)
class ListItem(CallbackData, prefix="li"):
    """[n] under a task list: that item's actions, in place of the numbers."""

    view: Annotated[TaskList, TASK_LISTS]
    number: Page
    task_id: Id


ItemPress = Literal["done", "snooze", "tomorrow", "back"]


@dataclass(frozen=True)
class ListItemAction(CallbackData, prefix="la"):
    """[Done] [+1h] [Tomorrow] [Back] of one list item (its [Log] and [Open] are TaskAction
    and OpenPatient): the list's line n is edited, the rest stays."""

    action: Annotated[ItemPress, Codes({"done": "d", "snooze": "s", "tomorrow": "t", "back": "b"})]
    view: Annotated[TaskList, TASK_LISTS]
    number: Page
    task_id: Id


@dataclass(frozen=True)
class OpenPatient(CallbackData, prefix="q:pt"):
    """[Open n] under a list, or a candidate of "show Maria": her card (a team brief for a
    supervisor)."""

    patient_id: Id


@dataclass(frozen=True)
class LastContact(CallbackData, prefix="q:lc"):
    """A candidate of "when did I last reach Maria"."""

    patient_id: Id


PatientAsk = Literal["next_appointment", "referrals"]


@dataclass(frozen=True)
class PatientQuestion(CallbackData, prefix="q:pq"):
    """A candidate of "when is Tom's next appt" or "does Ana have open referrals"."""

    question: Annotated[PatientAsk, Codes({"next_appointment": "na", "referrals": "rf"})]
    patient_id: Id


@dataclass(frozen=True)
class TeamNurse(CallbackData, prefix="q:to"):
    """[Open n] under /team: that nurse's caseload, as a new message."""

    nurse_id: Id


@dataclass(frozen=True)
class TeamNursePage(CallbackData, prefix="q:tn"):
    """[Prev] [Next] under a team nurse's caseload."""

    nurse_id: Id
    page: Page


@dataclass(frozen=True)
class TeamPatient(CallbackData, prefix="q:tp"):
    """[n] under a team nurse's caseload: [Open n] [Move n] [Back] in place of the numbers."""

    nurse_id: Id
    page: Page
    number: Page
    patient_id: Id


@dataclass(frozen=True)
class MovePatient(CallbackData, prefix="q:mv"):
    """[Move n] under a team nurse's caseload: ask who gets the patient."""

    patient_id: Id


@dataclass(frozen=True)
class MoveTo(CallbackData, prefix="q:mt"):
    """The team nurse who gets the patient."""

    patient_id: Id
    nurse_id: Id


@dataclass(frozen=True)
class CancelMove(CallbackData, prefix="q:xx"):
    """[Cancel] under "move to whom?"."""


# -- patients (handlers/patients/) -----------------------------------------------------------------

PatientPress = Literal["card", "risk", "conditions", "mrn", "close", "close_ok", "transfer"]
PATIENT_PRESSES: Codes[PatientPress] = Codes(
    {"card": "card", "risk": "risk", "conditions": "cond", "mrn": "mrn", "close": "close",
     "close_ok": "closeok", "transfer": "xfer"}
)  # fmt: skip


@dataclass(frozen=True)
class PatientAction(CallbackData, prefix="pt"):
    """A card's buttons, [Open card] and [Yes, close the case]: one patient id each."""

    action: Annotated[PatientPress, PATIENT_PRESSES]
    patient_id: Id


@dataclass(frozen=True)
class SetRisk(CallbackData, prefix="pt:setrisk"):
    """[High risk] [Medium risk] [Low risk] for the patient on the card."""

    patient_id: Id
    risk: Annotated[Risk, RISKS]


@dataclass(frozen=True)
class TransferTo(CallbackData, prefix="pt:xto"):
    """The teammate who takes the patient over."""

    patient_id: Id
    nurse_id: Id


OfferPress = Literal["add", "add_anyway", "drop"]


@dataclass(frozen=True)
class PatientOffer(CallbackData, prefix="pt"):
    """[Add <name>] [Add anyway] [Cancel] for a new patient kept under a one-time token."""

    action: Annotated[OfferPress, Codes({"add": "add", "add_anyway": "addany", "drop": "drop"})]
    token: Token


@dataclass(frozen=True)
class KeepPatient(CallbackData, prefix="pt:keep"):
    """[Cancel] / [Keep it open]: dismiss a question about a patient."""


# -- care plans, referrals, resources (handlers/careplans/) --------------------------------------


@dataclass(frozen=True)
class PatientChoice(CallbackData, prefix="cp"):
    """One of the patients a care-plan message may mean (the action waits server-side)."""

    token: Token
    patient_id: Id


@dataclass(frozen=True)
class ReferralChoice(CallbackData, prefix="cr"):
    """One of the referrals a status message may mean (the action waits server-side)."""

    token: Token
    referral_id: Id


GOAL_CLOSINGS = Codes({GoalStatus.MET: "m", GoalStatus.NOT_MET: "n", GoalStatus.DISCONTINUED: "d"})


@dataclass(frozen=True)
class CloseGoal(CallbackData, prefix="cg"):
    """[Met] [Not met] [Discontinue] under a goal of /plan."""

    status: Annotated[GoalStatus, GOAL_CLOSINGS]
    goal_id: Id


GoalPress = Literal["intervention", "pick"]


@dataclass(frozen=True)
class GoalAction(CallbackData, prefix="cg"):
    """[Add intervention] under a goal, or the goal a closing message meant."""

    action: Annotated[GoalPress, Codes({"intervention": "i", "pick": "p"})]
    goal_id: Id


@dataclass(frozen=True)
class PlanNote(CallbackData, prefix="cn"):
    """[Add progress note] under a care plan."""

    patient_id: Id


REFERRAL_MOVES = Codes(
    {ReferralStatus.SCHEDULED: "s", ReferralStatus.COMPLETED: "c", ReferralStatus.DECLINED: "x"}
)


@dataclass(frozen=True)
class MoveReferral(CallbackData, prefix="rf"):
    """[Scheduled] [Completed] [Declined] under /referrals."""

    status: Annotated[ReferralStatus, REFERRAL_MOVES]
    referral_id: Id


@dataclass(frozen=True)
class AddResource(CallbackData, prefix="rs:add"):
    """[Add a resource] under a resource search."""


@dataclass(frozen=True)
class ResourceKindChoice(CallbackData, prefix="rs:k"):
    """The kind of a resource being added."""

    kind: Annotated[ResourceKind, Codes({kind: kind.value[:2] for kind in ResourceKind})]


# -- settings (handlers/settings.py) --------------------------------------------------------------

SettingsItem = Literal["zone", "digest", "privacy", "done"]


@dataclass(frozen=True)
class SettingsMenu(CallbackData, prefix="set"):
    """A line of the /settings menu."""

    item: Annotated[SettingsItem, same(*get_args(SettingsItem))]


@dataclass(frozen=True)
class ZoneChoice(CallbackData, prefix="tz"):
    """One of the common time zones (written as its place in the list)."""

    zone: Annotated[str, Codes({zone: str(i) for i, (_, zone) in enumerate(COMMON_ZONES)})]


@dataclass(frozen=True)
class DigestTime(CallbackData, prefix="dg"):
    """A morning digest time."""

    at: TimeOfDay


@dataclass(frozen=True)
class PrivacyChoice(CallbackData, prefix="pv"):
    """How pushes name patients."""

    mode: Annotated[PrivacyMode, same(*get_args(PrivacyMode))]


# -- voice notes (handlers/voice.py) -------------------------------------------------------------

VoicePress = Literal["save", "fix", "cancel"]


@dataclass(frozen=True)
class VoiceNote(CallbackData, prefix="vn"):
    """[Save] (or [Answer]) [Fix] [Cancel] under a voice note's transcript (kept server-side)."""

    action: Annotated[VoicePress, Codes({"save": "s", "fix": "f", "cancel": "c"})]
    token: Token


# -- the inbox: several facts, read-backs, fixes, changes by text (handlers/inbox.py & co) --------


@dataclass(frozen=True)
class MessageUndo(CallbackData, prefix="mu"):
    """[Undo] under a message that saved several records: takes the whole message back (the
    chat is the press's own)."""

    message_id: Id


ReadBackPress = Literal["save", "fix", "cancel"]


@dataclass(frozen=True)
class ReadBack(CallbackData, prefix="rb"):
    """[Save] [Fix] [Cancel] under a message read back before saving (kept server-side)."""

    action: Annotated[ReadBackPress, Codes({"save": "s", "fix": "f", "cancel": "c"})]
    pending_id: Id


FixSlot = Literal["patient", "outcome", "channel", "date"]
FIX_SLOTS: Codes[FixSlot] = Codes({"patient": "p", "outcome": "o", "channel": "c", "date": "d"})


@dataclass(frozen=True)
class FixMenu(CallbackData, prefix="fm"):
    """Which slot of which fact of a read-back to fix: opens that slot's choices."""

    pending_id: Id
    fact: Annotated[int, Number(0, 9)]
    slot: Annotated[FixSlot, FIX_SLOTS]


@dataclass(frozen=True)
class FixPick(CallbackData, prefix="fp"):
    """One choice for a slot: a patient id, an outcome, a channel or a date option (their
    place in the list, or the id)."""

    pending_id: Id
    fact: Annotated[int, Number(0, 9)]
    slot: Annotated[FixSlot, FIX_SLOTS]
    value: Annotated[int, Number(0, 10**18 - 1)]


LearnAnswer = Literal["yes", "no"]


@dataclass(frozen=True)
class LearnTerm(CallbackData, prefix="lt"):
    """[Yes] [No] to "Remember this word for you?" (the word waits server-side)."""

    answer: Annotated[LearnAnswer, Codes({"yes": "y", "no": "n"})]
    pending_id: Id


@dataclass(frozen=True)
class ShowTerms(CallbackData, prefix="ltm"):
    """[My words] in /settings: her learned terms."""


@dataclass(frozen=True)
class ForgetTerm(CallbackData, prefix="ltx"):
    """[Forget] one of her learned terms, in /settings."""

    term_id: Id


AppointmentPress = Literal["time", "cancel"]


@dataclass(frozen=True)
class AppointmentAction(CallbackData, prefix="ap"):
    """[Change time] [Cancel appt] under a saved appointment."""

    action: Annotated[AppointmentPress, Codes({"time": "t", "cancel": "c"})]
    patient_id: Id
    appointment_id: Id


@dataclass(frozen=True)
class AppointmentPick(CallbackData, prefix="apk"):
    """Which appointment a cancel or reschedule by text meant (the change waits server-side)."""

    pending_id: Id
    appointment_id: Id


FAMILIES: tuple[type[CallbackData], ...] = tuple(CallbackData.__subclasses__())
"""Every button family, for the tests that check they never read each other's data."""
