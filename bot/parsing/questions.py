"""Questions about the caseload: "who is overdue?", "anything for tmrw", "when is Tom's next
appt", "does Ana have open referrals", "who do I need to call".

Owns: deciding whether a message is a question, and which view it asks for. A greeting or
filler in front ("morning, ...", "ok so ...") does not change the answer.
Must not import: telegram, storage, sqlalchemy, or anything doing I/O.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.parsing.intents import Doubt, DoubtReason, PatientMention, QueryIntent
from bot.parsing.lexicon import (
    CHANNEL_PATTERNS,
    LEADING_FILLER_RE,
    LEFT_MESSAGE_RE,
    NO_ANSWER_RE,
)
from bot.parsing.patients import NameMatch
from bot.vocab import QueryKind, Risk

_I = re.IGNORECASE

_OPENING_RE = re.compile(
    r"^\W*(?:remind\s+me\s+(?=who|what|when|which)|might\s+i\s+(?:have|see|get)|could\s+i\s+"
    r"(?:have|see|get)|may\s+i\s+(?:have|see)|who|whom|who's|whos|what|what's|whats|when|"
    r"when's|whens|which|where|how|how's|"
    r"hows|show|list|pull\s+up|open|view|find|look\s*up|lookup|any|anyone|anybody|anything|"
    r"is|are|do|does|did|can|could|tell\s+me|give\s+me|get|my|pls\s+show|whats\s+on|"
    r"(?:pls|please)\s+(?:send|show|give|list|pull)|send\s+(?:me\s+)?(?:my|the|call|list)|"
    r"need\s+(?:a\s+|the\s+|my\s+)?(?:list|call\s+list|worklist)|where\s+am\s+i|"
    r"last\s+(?:time|contact|call|visit)|next\s+(?:appt|appointment)|how\s+many|status\s+(?:on|of))\b",
    _I,
)
_BARE_RE = re.compile(
    r"^\W*(?:overdue|today|tomorrow|tmrw|tmw|tomorrow's|this\s+week|week|next\s+week|caseload|"
    r"agenda|due(?:\s+today)?|worklist|work\s+list|call\s+list|calls|my\s+calls|phone\s+list|"
    r"(?:my\s+)?calls\s+(?:today|for\s+today|due|to\s+make)|to-?do(?:\s+list)?|"
    r"(?:appts?|appointments?|tasks?)(?:\s+(?:today|tomorrow|tmrw|this\s+week|due|overdue))?|"
    r"patients|pts|pt\s+list|patient\s+list|my\s+list|risk\s+list|referrals?|open\s+referrals?|"
    r"week\s+at\s+a\s+glance|my\s+week|my\s+day|schedule|sched|(?:today'?s|tmrw'?s|"
    r"tomorrow'?s)\s+(?:schedule|sched|visits|calls|appts)|"
    r"(?:high|medium|med|moderate|low)[\s-]*risk(?:\s+(?:patients|pts|list))?|overdue\s+list|"
    r"call\s+list)(?:\s+(?:pls|please|now|list))?\W*$",
    _I,
)
_PATIENT_RE = re.compile(
    r"^\W*(?:show(?:\s+me)?|pull\s+up|open|view|find|look\s*up|lookup|details?\s+(?:for|on)|"
    r"info\s+(?:for|on)|summary\s+(?:for|of)|chart\s+(?:for|of)|card\s+(?:for|of)|"
    r"tell\s+me\s+about|what\s+about|how\s+is|how's|hows|what'?s\s+(?:up|going\s+on)\s+with|"
    r"status\s+(?:of|on|for)|update\s+on)\b",
    _I,
)
_LAST_CONTACT_RE = re.compile(
    r"\blast\s+(?:reach|reached|contact|contacted|call|called|spoke|spoken|talk|talked|saw|"
    r"seen|see|visit|visited|heard|texted|time)\b|^\W*did\s+i\s+(?:call|reach|contact|see|visit|"
    r"talk|speak)|\bwhen\s+did\s+(?:i|we|anyone|anybody|somebody|someone)\s+(?:last\s+)?"
    r"(?:actually\s+|really\s+|even\s+)?(?:call|reach|contact|see|visit|talk|speak|hear)",
    _I,
)
_NOT_CONTACTED_RE = re.compile(
    r"\b(?:haven'?t|havent|have\s+not|hasn'?t|hasnt|has\s+not|not\s+been|not\s+yet|never|"
    r"have\s+i\s+not|i\s+have\s+not|i\s+haven'?t)\s+"
    r"(?:i\s+|been\s+|we\s+)?(?:called|contacted|reached|seen|talked|spoken|visited|heard|"
    r"touched\s+base|checked\s+on|checked\s+in)\b|"
    r"\bno\s+contact\b|\bnot\s+contacted\b|\bnot\s+(?:reached|called)\s+in\b|"
    r"\bwho(?:'?d|\s+did)\s+i\s+(?:not|never)\s+(?:get\s+to|get\s+around\s+to|reach|call|see)\b|"
    r"\b(?:didn'?t|did\s+not|never)\s+(?:get\s+to|get\s+around\s+to)\b|"
    r"\b(?:hasn'?t|hasnt|has\s+not|haven'?t|havent|not)\s+been\s+(?:touched|seen|heard\s+from|"
    r"contacted|called|reached)\b",
    _I,
)
_CALL_LIST_RE = re.compile(
    r"^\W*calls\W*$|\b(?:who\s+(?:do|should|must|shall|else\s+do)\s+i\s+(?:still\s+)?(?:need\s+to\s+|have\s+to\s+|"
    r"gotta\s+)?(?:call|contact|reach\s+out\s+to|phone)|"
    r"who\s+(?:needs|need)\s+(?:a\s+)?(?:call|calls|calling|contact|phone\s+call)|"
    r"call\s+list|calls\s+(?:for|to\s+make|due|today|tomorrow)|who\s+(?:to|should\s+i)\s+call|"
    r"(?:who|anyone|anybody)\s+(?:i\s+)?(?:need|needs|have|has)\s+to\s+call|"
    r"calls\s+i\s+(?:need|have)\s+to\s+make|my\s+calls|phone\s+list|tcm\s+calls?\s+(?:due|list)|"
    r"(?:anyone|anybody|who)\s+(?:still\s+)?(?:need|needs)\s+(?:an?\s+)?"
    r"(?:outreach\s+|follow[- ]?up\s+|f/u\s+|tcm\s+|phone\s+)?(?:call|calling|contact)|"
    r"(?:who'?s|whos|who\s+is)\s+due\s+for\s+(?:a\s+)?(?:call|contact)|"
    r"(?:ppl|people|pts|patients|who)\s+i\s+(?:need|have)\s+to\s+call(?:\s+back)?|"
    r"call\s*backs?\s+(?:list|due|pending)|(?:those|who|people|patients|ones)\s+i\s+(?:ought\s+to|"
    r"should|need\s+to|must|have\s+to)\s+(?:ring|call|phone|telephone))\b",
    _I,
)
_NEXT_APPOINTMENT_RE = re.compile(
    r"\b(?:next|upcoming)\s+(?:\w+\s+)?(?:appts?|appointments?|visit|procedure|test|thing|one|"
    r"event|scan|treatment|infusion|session)\b|"
    r"\bwhen\s+is\s+(?:\w+'?s?\s+){0,3}?(?:appt|appointment|visit|\w+\s+appt)|"
    r"\b(?:appts?|appointments?)\s+(?:for|does|coming\s+up)\b|"
    r"\b(?:have|has|got)\s+(?:an?\s+|any\s+)?(?:\w+\s+)?(?:appts?|appointments?|anything)\s+"
    r"(?:coming\s+up|scheduled|sched|soon|this\s+week|booked|upcoming)\b|"
    r"\b(?:anything|appts?|appointments?)\s+(?:coming\s+up|scheduled|upcoming)\b|"
    r"\bappts?\s*\?\s*$",
    _I,
)
_REFERRALS_RE = re.compile(r"\breferrals?\b", _I)
_OVERDUE_RE = re.compile(
    r"\b(?:overdue|past\s+due|late|behind|missed|slipping|needs?\s+a\s+(?:call|visit|contact))\b",
    _I,
)
_TOMORROW_RE = re.compile(r"\b(?:tomorrow|tmrw|tmw|tmr|tomorow|tommorow|2morrow|tomorrow's)\b", _I)
_TODAY_RE = re.compile(
    r"\b(?:today|today's|todays|tdy|my\s+day|agenda|due\s+now|on\s+deck|on\s+my\s+plate|"
    r"schedule|sched)\b",
    _I,
)
_WEEK_RE = re.compile(
    r"\b(?:this\s+wk|this\s+week|week|wk|weekly|next\s+7\s+days|rest\s+of\s+(?:the\s+)?week)\b",
    _I,
)
_CASELOAD_RE = re.compile(
    r"\b(?:caseload|case\s+load|patients|pts|pt\s+list|my\s+list|roster|everyone|census|panel|"
    r"on\s+(?:my|her|his|their|the|our|\w+'s|\w+s)\s+(?:list|caseload|panel)|risk\s+list|"
    r"(?:high|medium|med|moderate|low)[\s-]*risk)\b",
    _I,
)
_RISK_RE = re.compile(
    r"\b(?P<level>high|med(?:ium)?|moderate|mod|low)[\s-]*risk\b|\brisk\s*[:=-]?\s*"
    r"(?P<after>high|med(?:ium)?|moderate|mod|low)\b",
    _I,
)
_RISK_WORD_RE = re.compile(r"\brisk\b", _I)
_LIST_WORDS_RE = re.compile(r"\b(?:patients|pts|caseload|list|roster|everyone|who)\b", _I)
_SPAN_DAYS_RE = re.compile(
    r"\b(?:in|for|over|past|last|within)\s+(?:the\s+)?(?:(?P<n>\d{1,3}|a|an|one|two|three|four|"
    r"five|six|seven|eight|nine|ten)\s*)?(?P<u>days?|wks?|weeks?|months?|mos?)\b",
    _I,
)
_SPAN_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
                 "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}  # fmt: skip
_RECORD_WORDS_RE = re.compile(
    r"\b(?:called|spoke|talked|lvm|left|texted|emailed|visited|saw|seen|d/c'?d|discharged|"
    r"admitted|f/u\s+\d|follow\s+up\s+\w+day)\b",
    _I,
)


def strip_filler(text: str) -> str:
    """The message without greetings and filler in front ("morning! ok so who's overdue"), or
    the question after a remark that records nothing ("covering for jen today - who's on her
    list")."""
    previous = None
    while previous != text:
        previous = text
        text = LEADING_FILLER_RE.sub("", text, count=1)
    remark = _REMARK_THEN_QUESTION_RE.match(text)
    if remark is not None:
        question = text[remark.end() :]
        prefix = text[: remark.end()]
        asks = _WH_RE.match(question) or question.rstrip().endswith("?")
        if (
            asks
            and _OPENING_RE.match(question)
            and not (_RECORD_WORDS_RE.search(prefix) or _names_a_contact(prefix))
        ):
            return question
    return text


_WH_RE = re.compile(r"^(?:who|whom|who'?s|what|what'?s|whats|when|which|where|how|any\w*)\b", _I)
_REMARK_THEN_QUESTION_RE = re.compile(r"^[^?]{3,60}?(?:\s+-+\s*|[.;:!,]\s+)(?=[a-z])", _I)


_PEOPLE_OPENING_RE = re.compile(
    r"\W*(?:(?:list|show|give)\s+(?:me\s+)?)?(?:all\s+)?(?:my\s+|the\s+)?"
    r"(?:pts|patients|people|ppl|members|mbrs|anyone|anybody|everyone|folks)\b",
    _I,
)


def is_question(text: str) -> bool:
    """Whether the text reads as a question to the bot (not a record)."""
    body = strip_filler(text).strip()
    if not body:
        return False
    if _OPENING_RE.search(body) or _BARE_RE.match(body):
        return True
    if _PEOPLE_OPENING_RE.match(body) and _NOT_CONTACTED_RE.search(body):
        return True  # "pts i havent reached in 30 days"
    return body.endswith("?") and not _RECORD_WORDS_RE.search(body) and not _names_a_contact(body)


def read_question(text: str, names: NameMatch, *, today: date) -> QueryIntent | None:
    """The caseload view a question asks for; None when it is not a question we answer."""
    body = strip_filler(text).strip()
    if not is_question(body):
        return None
    kind, calls = _kind(body, names, today)
    if kind is None:
        return None
    risk = _risk(body) if kind is QueryKind.CASELOAD else None
    days = _span_days(body) if kind is QueryKind.NOT_CONTACTED else None
    mention = names.mention
    if kind not in _ABOUT_ONE_PATIENT:
        mention = PatientMention()
    doubts: tuple[Doubt, ...] = ()
    if mention.candidates:
        doubts = (Doubt(DoubtReason.AMBIGUOUS_PATIENT, mention.patient_text or ""),)
    return QueryIntent(
        query=kind,
        patient=mention.patient,
        candidates=mention.candidates,
        patient_text=mention.patient_text,
        risk=risk,
        days=days,
        calls=calls,
        doubts=doubts,
    )


_ABOUT_ONE_PATIENT = frozenset(
    {QueryKind.PATIENT, QueryKind.LAST_CONTACT, QueryKind.RISK, QueryKind.REFERRALS,
     QueryKind.NEXT_APPOINTMENT}
)  # fmt: skip


def _kind(body: str, names: NameMatch, today: date) -> tuple[QueryKind | None, bool]:
    has_patient = names.mention.patient is not None or bool(names.mention.candidates)
    if _LAST_CONTACT_RE.search(body):
        return QueryKind.LAST_CONTACT, False
    if _NOT_CONTACTED_RE.search(body):
        return QueryKind.NOT_CONTACTED, False
    if _CALL_LIST_RE.search(body):
        # "who do I need to call today" is today's call list; the shared corpus reads it as
        # the today view, which the call list is a part of.
        if _TODAY_RE.search(body):
            return QueryKind.TODAY, True
        if _TOMORROW_RE.search(body):
            return QueryKind.TOMORROW, True
        return QueryKind.CALL_LIST, True
    if _REFERRALS_RE.search(body):
        return QueryKind.REFERRALS, False
    if _NEXT_APPOINTMENT_RE.search(body) and (has_patient or _NEXT_WORD.search(body)):
        return QueryKind.NEXT_APPOINTMENT, False
    day = _DAY_ASKED_RE.search(body)
    if day is not None and not has_patient:
        return _day_view(_WEEKDAYS.index(day.group(1)[:3].lower()), today), False
    if has_patient and _PATIENT_RE.search(body):
        return QueryKind.PATIENT, False
    if has_patient and _RISK_WORD_RE.search(body) and not _LIST_WORDS_RE.search(body):
        return QueryKind.RISK, False
    for kind, pattern in (
        (QueryKind.OVERDUE, _OVERDUE_RE),
        (QueryKind.TOMORROW, _TOMORROW_RE),
        (QueryKind.TODAY, _TODAY_RE),
        (QueryKind.WEEK, _WEEK_RE),
        (QueryKind.CASELOAD, _CASELOAD_RE),
    ):
        if pattern.search(body):
            return kind, False
    if has_patient and body.endswith("?") and not _names_a_contact(body):
        return QueryKind.PATIENT, False
    return None, False


_NEXT_WORD = re.compile(r"\bnext\b", _I)
_DAY_ASKED_RE = re.compile(
    r"\b(?:have|got|on|for|is|'s|s)\s+(?:on\s+)?(mon|tues?|wed|thu|fri|sat|sun)\w*\b", _I
)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _day_view(weekday: int, today: date) -> QueryKind:
    """A weekday asked about is today's, tomorrow's or (further on) the week's view."""
    if weekday == today.weekday():
        return QueryKind.TODAY
    if weekday == (today + timedelta(days=1)).weekday():
        return QueryKind.TOMORROW
    return QueryKind.WEEK


def _names_a_contact(text: str) -> bool:
    if LEFT_MESSAGE_RE.search(text) or NO_ANSWER_RE.search(text):
        return True
    return any(pattern.search(text) for _, pattern in CHANNEL_PATTERNS)


def _risk(text: str) -> Risk | None:
    match = _RISK_RE.search(text)
    if match is None:
        return None
    level = (match.group("level") or match.group("after") or "").lower()
    if level == "high":
        return Risk.HIGH
    if level == "low":
        return Risk.LOW
    return Risk.MEDIUM


def _span_days(text: str) -> int | None:
    match = _SPAN_DAYS_RE.search(text)
    if match is None:
        return None
    count_text = (match.group("n") or "1").lower()
    count = _SPAN_NUMBERS.get(count_text) or int(count_text)
    unit = match.group("u").lower()
    per_unit = 7 if unit.startswith("w") else 30 if unit.startswith("mo") else 1
    return count * per_unit
