"""Read a contact fact (a call, a visit, a text, a message left ...) from its own words.

Owns: ``build_contact`` and its readers: the channel (``read_channel``), the outcome (reached or
only attempted; unknown shorthand where the outcome is decided is read back, not guessed), who
was on the other end, how many tries, the next step, and when it happened.
Must not import: telegram, storage, sqlalchemy, or anything doing I/O.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

from bot.parsing import lexicon as lx
from bot.parsing.cues import FUTURE_PLAN_RE, HAPPENED_RE, reached_at, relayed
from bot.parsing.date_fragments import FUTURE_FORMS, PAST_FORMS, DateFragment
from bot.parsing.fact_dates import (
    RECENT_CONTACT_DAYS,
    date_doubts,
    follow_up_cue_before,
    follow_up_fragment,
    recent_calendar_day,
)
from bot.parsing.facts import Fact
from bot.parsing.intents import ContactIntent, Doubt, DoubtReason, PatientMention, When
from bot.parsing.message import Message, Span
from bot.parsing.patients import word_set
from bot.parsing.vitals import read_vitals
from bot.vocab import Channel, Outcome, Party

_I = re.IGNORECASE


NOON = time(12, 0)


# -- contact ---------------------------------------------------------------------------------------


def build_contact(message: Message, span: Span, mention: PatientMention) -> Fact:
    """A call, visit, text or message left: how, how it went, with whom, when, what next."""
    text = message.text_of(span)
    next_step = _next_step_at(text)
    what = text[:next_step] if next_step else text
    channel = read_channel(what) or read_channel(text)
    outcome, outcome_doubt = _outcome(message, span, channel, what, text)
    fragments = message.fragments_in(span.start, span.end)
    next_step_fragment = follow_up_fragment(message, text, span.start, fragments)
    follow_up = message.reader.resolve(next_step_fragment, "future") if next_step_fragment else None
    occurred, occurred_fragment = _occurred_at(
        message, text, span.start, fragments, next_step_fragment
    )
    doubts = list(outcome_doubt)
    doubts += date_doubts(message, next_step_fragment)
    if follow_up is None and occurred_fragment is None:
        stray = _stray_future_date(message, fragments, next_step_fragment)
        if stray is not None:
            follow_up = stray
            doubts.append(Doubt(DoubtReason.WEAK_CUE, "date"))
    counted = lx.ATTEMPTS_RE.search(text) is not None  # "x2", "3rd try", "LM #2"
    return ContactIntent(
        patient=mention.patient,
        candidates=mention.candidates,
        patient_text=mention.patient_text,
        channel=channel,
        outcome=outcome,
        with_whom=_with_whom(text, span, mention),
        occurred_at=occurred,
        occurred_given=occurred_fragment is not None,
        follow_up=follow_up,
        attempts=_attempts(text) if outcome is Outcome.ATTEMPTED or counted else 1,
        attempts_given=counted,
        note=message.text,
        vitals=read_vitals(text),
        doubts=tuple(doubts),
    )


_DESCRIBES_CONTACT_RE = re.compile(
    r"\b(?:phone|tele|telephone|telephonic|video|hv|home|tcm|post-?op|post-?d/?c|hospital)\s*$", _I
)
_CONTACT_AFTER_RE = re.compile(r"\s*(?:call|visit|hv|w/|with|contact|phone)\b", _I)


# -- channel and next step -------------------------------------------------------------------------


def _next_step_at(text: str) -> int | None:
    """Where the next step begins ("f/u fri", "will try again"); "no call back" is not one."""
    for match in lx.FOLLOW_UP_CUE_RE.finditer(text):
        if _DESCRIBES_CONTACT_RE.search(text[max(0, match.start() - 12) : match.start()]) or (
            _CONTACT_AFTER_RE.match(text, match.end())
        ):
            continue  # "phone f/u w/ Tom", "f/u call": the kind of contact, not a next step
        if re.search(
            r"\b(?:\d(?:st|nd|rd|th)|first|second|third|another|final|last)\s+$",
            text[max(0, match.start() - 8) : match.start()],
            _I,
        ):
            continue  # "2nd try harold": a count of attempts
        if re.search(
            r"\b(?:no|not|never|still\s+no|without)\s+$",
            text[max(0, match.start() - 12) : match.start()],
            _I,
        ):
            continue
        return match.start()
    return None


def read_channel(text: str) -> Channel | None:
    """How the contact happened: the first channel word, where a message left beats the call it
    was left on, and "spoke"/"talked" (which may be in person) count only when nothing else is
    written."""
    found: dict[Channel, int] = {}
    for channel, pattern in lx.CHANNEL_PATTERNS:
        for match in pattern.finditer(text):
            if FUTURE_PLAN_RE.search(text[max(0, match.start() - 30) : match.start()]):
                continue
            if channel is Channel.PHONE and _GENERIC_TALK_RE.fullmatch(match.group(0)):
                continue
            found[channel] = match.start()
            break
    if Channel.VOICEMAIL in found and reached_at(text) is None:
        if not _NO_MESSAGE_LEFT_RE.search(text) and not LEFT_WORD_WITH_RE.search(text):
            return Channel.VOICEMAIL
        found.pop(Channel.VOICEMAIL)
        found.setdefault(Channel.PHONE, 0)
    found.pop(Channel.VOICEMAIL, None)
    if found:
        return min(found, key=lambda ch: (found[ch], _CHANNEL_TIE[ch]))
    implied = (
        lx.NO_ANSWER_RE.search(text)
        or lx.TRIED_RE.search(text)
        or lx.BAD_NUMBER_RE.search(text)
        or reached_at(text)
    )
    return Channel.PHONE if implied is not None else None


_GENERIC_TALK_RE = re.compile(r"spoke|spoken|talked", _I)
_CHANNEL_TIE = {Channel.VIDEO: 0, Channel.VISIT: 1, Channel.EMAIL: 2, Channel.TEXT: 3,
                Channel.PHONE: 4, Channel.CLINIC: 5, Channel.VOICEMAIL: 6}  # fmt: skip


_NO_MESSAGE_LEFT_RE = re.compile(
    r"\b(?:didn'?t|didnt|did\s+not|no|not|couldn'?t|cant|can'?t|unable\s+to)\s+(?:leave\s+)?"
    r"(?:a\s+)?(?:msg|message|vm|voicemail|lm|lvm)(?:\s+(?:left|set\s+up))?\b|"
    r"\bno\s+(?:msg|message|vm)\s+(?:left|set\s+up)\b|"
    r"\b(?:didn'?t|didnt|did\s+not|couldn'?t|couldnt|could\s+not|can'?t|cant)\s+leave\s+"
    r"(?:one|it|any(?:thing)?)\b|"
    r"\b(?:vm|voicemail|voice\s*mail|mailbox|box)\s+(?:is\s+|was\s+)?(?:full|not\s+set\s+up)\b",
    _I,
)


# -- outcome ---------------------------------------------------------------------------------------


def _outcome(
    message: Message, span: Span, channel: Channel | None, what: str, text: str
) -> tuple[Outcome | None, list[Doubt]]:
    """Reached or attempted. A plain word of being reached wins over attempt words ("LVM, pt
    called back"); voicemail and failed calls are attempts; texts and emails are neither until
    answered. A bare "called Tom" with nothing said is read back."""
    attempt = (
        lx.LEFT_MESSAGE_RE.search(what)
        or lx.NO_ANSWER_RE.search(what)
        or lx.BAD_NUMBER_RE.search(what)
    )
    tried = lx.TRIED_RE.search(what)
    if reached_at(text) is not None:
        return Outcome.REACHED, []
    if attempt is not None or channel is Channel.VOICEMAIL or relayed(text):
        return Outcome.ATTEMPTED, []
    if channel in (Channel.TEXT, Channel.EMAIL):
        return (Outcome.REACHED if _REPLIED_RE.search(text) else None), []
    weak_reached = lx.REACHED_RE.search(text)
    if tried is not None and weak_reached is None:
        return Outcome.ATTEMPTED, []
    if channel is None:
        informed = _INFORMED_RE.search(text)
        return (Outcome.REACHED if weak_reached or informed else None), []
    doubts = []
    unknown = _unknown_word(what, span, message)
    if unknown is not None:
        doubts.append(Doubt(DoubtReason.UNKNOWN_WORD, unknown))
    elif (
        weak_reached is None
        and channel is Channel.PHONE
        and _with_whom(text, span, _mention_of(span)) in (Party.PATIENT, Party.CAREGIVER)
        and not span.followed
        and not _CONVERSATION_RE.search(what)
        and not read_vitals(what)
    ):
        doubts.append(Doubt(DoubtReason.WEAK_CUE, "outcome"))
    return Outcome.REACHED, doubts


_CONVERSATION_RE = re.compile(
    r"\b(?:said|says|saying|state[sd]?|reports?|reported|reporting|denie[sd]|deny|agree[sd]?|"
    r"aware|understands?|understood|verbaliz\w*|confirm\w*|doing|feeling|feels?|felt|c/o|"
    r"complain\w*|wants?|wanted|asked|asks|asking|told|tells|per\s+(?:pt|her|him|patient|wife|"
    r"husband|dtr|daughter|son|cg)|ok(?:ay)?\s+(?:w/?|with)|on\s+board|declin\w*|refus\w*|"
    r"accept\w*|prefer\w*|happy|upset|worried|anxious|concerned|thanked|thankful|request\w*|"
    r"plans?\s+to|going\s+to|gonna|has\s+(?:all|her|his|no|a|an|meds|enough|been|had|not)|"
    r"have\s+(?:all|no)|needs?|needed|taking|takes|took|ran\s+out|checking|went\s+over|"
    r"reviewed|discussed|educat\w*|edu|teach|taught|instructed|reminded|encouraged|advised|"
    r"gave|given|informed|let\s+\w+\s+know|explained|answered\s+(?:all\s+)?(?:her|his|their)?\s*"
    r"questions|questions|no\s+(?:new|issues?|concerns?|complaints?|c/o|sx|symptoms|problems|"
    r"changes|questions|falls?|pain|sob)|issues?|concerns?|symptoms|sx|pain|sob|swelling|edema|"
    r"dizzy|dizziness|fell|fall|cough\w*|fever|nausea|vomit\w*|bp|bg|wt|weight|sugars?|"
    r"glucose|meds?|medications?|pills?|refills?|appt|appointment|ride|transport\w*|"
    r"scheduled|set\s+up|arranged|booked|med\s+rec|tcm|toc|assessment|screening|phq\w*|"
    r"doing\s+(?:well|ok|good|better|worse|fine)|fine|well|good|better|worse|ok|okay|stable|"
    r"improv\w*|recover\w*|home|discharged|d/c|admitted|goals?|diet|walking|exercis\w*|"
    r"will|would|can|can't|cannot|couldn't|won't|knows?|remembers?|forgot|mentioned|"
    r"yes|no\s+to|via\s+interpreter|interpreter|lang\w*\s+line|done|complete[ds]?|approved|"
    r"denied|increas\w*|decreas\w*|chang\w*|order\w*|fading|heal\w*|resolv\w*|"
    r"no\s+(?!(?:one|body|answer\w*|response|luck|reply|vm|msg|message|call\w*|pick\w*)\b)[a-z]{3,}|"
    r"new\s+[a-z]{2,}|stopp\w*|start\w*|held|hold|continu\w*|fax\w*|sent|send\w*|verified|"
    r"updated|received|got\s+(?:it|them|her|his|the)|pharmacy|delivery|deliver\w*)\b",
    _I,
)
"""Words that something was said on the call. A call with none of them and no word of being
reached ("called nancy allen 3 times no one picks up") is read back: reached or not?"""


_REPLIED_RE = re.compile(
    r"\b(?:replied|responded|wrote\s+back|texted\s+back|emailed\s+back|answered|said|says|"
    r"thumbs?[\s-]?up\w*|liked|loved|hearted|reacted|confirmed|ok'?d|okayed|agreed|"
    r"(?:she|he|they|pt|patient|" + lx.CAREGIVER_WORDS + r")\s+(?:texted|emailed|messaged|wrote))\b"
    r"|\U0001f44d",
    _I,
)
"""A text or email she sent that was answered, or one that came in from them."""
_INFORMED_RE = re.compile(r"\b(?:gave|let\s+\w+\s+know|told|informed)\b", _I)


def _mention_of(span: Span) -> PatientMention:
    return span.names[0].mention if span.names else PatientMention()


def _unknown_word(text: str, span: Span, message: Message) -> str | None:
    """Shorthand the parser does not know, written where the outcome is decided — right after
    her name or the contact word: "called Tom NR", "Tom J - nrtc". Is it "no response" or "not
    reached"? Read it back instead of guessing. Clinical shorthand further on is not asked about."""
    starts = [n.span[1] - span.start for n in span.names if n.span is not None]
    verb = lx.CONTACT_PAST_RE.search(text)
    if verb is not None:
        starts.append(verb.end())
    for start in starts:
        following = re.findall(r"[A-Za-z#/]+", text[start:])[:2]
        for token in following:
            if _is_unknown_shorthand(token):
                return str(token)
            if token.casefold() in _CONTEXT_WORDS:
                break
    return None


def _is_unknown_shorthand(token: str) -> bool:
    folded = token.casefold()
    if not re.fullmatch(r"[a-z]{2,5}", folded):
        return False
    if folded in lx.KNOWN_WORDS or folded in lx.MEDICAL_SHORTHAND:
        return False
    if any(pattern.fullmatch(token) for _, pattern in lx.CHANNEL_PATTERNS):
        return False
    if any(r.fullmatch(token) for r in (lx.CAREGIVER_RE, lx.PROVIDER_RE, lx.INSURER_RE)):
        return False
    return token.isupper() or not re.search(r"[aeiouy]", folded)


_CONTEXT_WORDS = word_set("re for s/p c/o w/ w with about regarding dx hx post after from of")


# -- with whom, and how many tries -----------------------------------------------------------------


def _with_whom(text: str, span: Span, mention: PatientMention) -> Party:
    """Who was on the other end: read from the start to just after the patient's name."""
    window = text
    if span.names and span.names[0].span is not None:
        name_end = span.names[0].span[1] - span.start
        window = text[: name_end + 24]
    else:
        window = text[:60]
    if _SPOKE_WITH_CAREGIVER_RE.search(text):
        return Party.CAREGIVER
    if lx.CAREGIVER_RE.search(window) and not re.search(
        r"\b(?:pt|patient)\s+and\s+(?:her|his)?\s*\w+\b", window, _I
    ):
        return Party.CAREGIVER
    name_at = None
    if span.names and span.names[0].span is not None:
        name_at = span.names[0].span[0] - span.start
        about = _ABOUT_PATIENT_RE.search(text[:name_at])
        if about is not None and re.search(r"[A-Za-z]{2,}", text[: about.start()]):
            who = text[: about.start()]  # "called lincare re pat wells", "spoke w SNF cm re X"
            if lx.INSURER_RE.search(who):
                return Party.INSURER
            if lx.CAREGIVER_RE.search(who):
                return Party.CAREGIVER
            if not re.fullmatch(
                r"\W*(?:\w+\s+){0,1}(?:pt|patient|her|him)?\W*", who, _I
            ) and not _HOW_ONLY_RE.fullmatch(who):
                return Party.PROVIDER
        after = text[span.names[0].span[1] - span.start :][:45]
        if _THEIR_PEOPLE_RE.match(after):
            return Party.INSURER if lx.INSURER_RE.search(after) else Party.PROVIDER
    before = window[:name_at] if name_at is not None else window
    if lx.INSURER_RE.search(before):
        return Party.INSURER
    if lx.PROVIDER_RE.search(before):
        return Party.PROVIDER
    return Party.PATIENT


_HOW_ONLY_RE = re.compile(
    r"\W*(?:(?:left|leaving|lvm|lm|vm|voice\s*mail|voicemail|message|msg|a|an|and|home|video|"
    r"tele(?:health)?|phone|call(?:ed)?|visit(?:ed)?|hv|text(?:ed)?|e-?mail(?:ed)?|did|made|"
    r"done|just|\d+(?:st|nd|rd|th)|first|second|third|another|again|x\d|attempt|try|today|"
    r"this\s+(?:am|pm|morning|afternoon))\W*)+",
    _I,
)
"""How the contact was made and nothing else ("left voicemail", "home visit"): what stands
before "for <name>" is then no one on the other end, so the contact is with the patient."""
_ABOUT_PATIENT_RE = re.compile(r"\b(?:re|re:|about|regarding|abt|for|on\s+behalf\s+of)\s*$", _I)
_THEIR_PEOPLE_RE = re.compile(
    r"^'?s?\s+(?!(?:re|about|for|regarding|to|abt|w|with|in|at|seen|visit)\b)(?:\w+\s+)?(?:office|pcp|dr|doctor|"
    r"cardiolog\w*|cards|pharmacy|insurance|plan|specialist|nurse|case\s+manager|care\s+"
    r"coordinator|coordinator|cm|clinic|team|agency|provider|medicaid|medicare|aetna|humana|"
    r"ctr|center|centre|dialysis|unit|facility|hospital|snf|dme|lab|pharm)\b",
    _I,
)


LEFT_WORD_WITH_RE = re.compile(
    r"\b(?:left\s+(?:a\s+)?(?:msg|message|word|vm)|lm|lvm)\s+(?:w/?|with)\s*(?:her|his|the|pt'?s)?\s*"
    + lx.CAREGIVER_WORDS
    + r"\b",
    _I,
)
"""'left msg w his daughter': the call was answered by family; the patient was not reached."""
_SPOKE_WITH_CAREGIVER_RE = re.compile(
    r"\b(?:spoke|talked|spoken|chatted|reached|called|lvm|lm|left\s+\w+\s+(?:for|w/?|with)|"
    r"texted)\s+"
    r"(?:w/?|with|to|for)?\s*(?:her|his|the|pt'?s)?\s*" + lx.CAREGIVER_WORDS + r"\b",
    _I,
)


def _attempts(text: str) -> int:
    match = lx.ATTEMPTS_RE.search(text)
    if match is None:
        return 1
    word = (
        match.group("x")
        or match.group("n")
        or match.group("th")
        or match.group("hash")
        or match.group("twice")
        or match.group("hash2")
        or "1"
    ).lower()
    if word == "final":
        return 1
    count = lx.ATTEMPT_WORDS.get(word) or int(word)
    return max(1, min(count, 20))


# -- when it happened ------------------------------------------------------------------------------


_FIRST_BREAK_RE = re.compile(r"[.;!?](?:\s|$)|\s-\s|\n")
_NOT_WHEN_RE = re.compile(
    r"\b(?:from|since|thru|through|until|till|til|ends?|expires?|exp|before|by)\s*$", _I
)


def _occurred_at(
    message: Message,
    text: str,
    base: int,
    fragments: list[DateFragment],
    follow_up: DateFragment | None,
) -> tuple[When, DateFragment | None]:
    """When the contact happened: a recent past date written in it, else now. Today's date
    without a time is now (never midnight); an earlier day without a time is its noon."""
    now = message.now.astimezone(UTC)
    first_break = _FIRST_BREAK_RE.search(text)
    limit = first_break.start() if first_break else len(text)
    for fragment in fragments:
        if fragment is follow_up or fragment.form in FUTURE_FORMS:
            continue
        happened = bool(HAPPENED_RE.search(message.normal))
        cued = follow_up_cue_before(text, fragment.start - base, happened=happened) and not (
            recent_calendar_day(message, fragment)
        )
        if cued or fragment.start - base > limit:
            continue
        if _NOT_WHEN_RE.search(text[max(0, fragment.start - base - 8) : fragment.start - base]):
            continue  # "returned my call from yesterday", "approved thru 12/20"
        when = message.reader.resolve(fragment, "past")
        if when is None:
            continue
        zone = message.reader.zone
        day = when.local_date(zone)
        today = message.reader.today
        if (today - day).days > RECENT_CONTACT_DAYS:
            continue  # "called Tom 12/8" in December: 12/8 is not last year's call
        if day == today and (not when.has_time or when.at > now):
            return When(now, has_time=True), fragment
        if not when.has_time:
            noon = datetime.combine(day, NOON, tzinfo=zone).astimezone(UTC)
            return When(noon, has_time=False), fragment
        return when, fragment
    return When(now, has_time=True), None


def _stray_future_date(
    message: Message, fragments: list[DateFragment], follow_up: DateFragment | None
) -> When | None:
    """A date in a contact with no cue that can't be when it happened: probably the next step
    ("called Tom 12/8" said on 2 Dec). Read back, not trusted."""
    for fragment in fragments:
        if fragment is follow_up or fragment.form in PAST_FORMS:
            continue
        if _NOT_WHEN_RE.search(message.normal[max(0, fragment.start - 8) : fragment.start]):
            continue
        past = message.reader.resolve(fragment, "past")
        future = message.reader.resolve(fragment, "future")
        if future is None:
            continue
        if (
            past is None
            or (message.reader.today - past.local_date(message.reader.zone)).days
            > RECENT_CONTACT_DAYS
        ):
            return future
    return None
