"""Find the date and time expressions in a nurse's message, not yet read as days.

Owns: the regex tables for days ("tomorrow", "Wed", "in 2 wks", "Dec 3rd", "12/3", "EOM",
"thanksgiving") and times of day ("@ 2", "10:30a", "1400", "noon"); ``DayForm`` (how a fragment
names its day); ``DateFragment`` and ``ClockTime``; and ``find_fragments``: each fragment's
parts, a weekday written next to a calendar date folded into it, a time joined to the day beside
it, and readings that only look like dates left out ("BP 90/60", "pain 4/10", "sat up in chair").
bot.parsing.dates reads the fragments as days and moments.
Must not import: telegram, storage, sqlalchemy, or anything doing I/O.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass

MAX_DATE_CHARS = 1000
"""Characters of a message scanned for dates: nurse notes are short, garbage must stay cheap."""

MAX_FRAGMENTS = 8
"""Date fragments read per message at most."""

MAX_FRAGMENT_LEN = 64


_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip

_NUM = r"\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_UNIT = r"days?|d|wks?|weeks?|w|months?|mos?|mths?|hrs?|hours?|h"
_WD = (
    r"mon(?:day)?|tue(?:s(?:day)?)?|wed(?:s|nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?"
    r"|sat(?:urday)?|sun(?:day)?"
)
_MON = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_FOLLOW_UP_CUE = (
    r"f/u|fu|follow[- ]?up|recheck|re-check|revisit|rtc|return|check(?:\s+in)?"
    r"|see\s+(?:him|her|them|pt)|next\s+(?:visit|hv|call|appt|check)|call\s+back|callback"
    r"|try\s+again|reassess"
)

_DAY_RE = re.compile(
    rf"""
    (?P<iso>\b(?P<iso_y>\d{{4}})-(?P<iso_m>\d{{1,2}})-(?P<iso_d>\d{{1,2}})\b)
  | (?P<ago>\b(?P<ago_n>{_NUM})\s*(?P<ago_u>{_UNIT})\s+ago\b)
  | (?P<in>\bin\s+(?P<in_n>{_NUM})\s*(?P<in_u>{_UNIT})\b)
  | (?P<from>\b(?P<from_n>{_NUM})\s*(?P<from_u>{_UNIT})\s+(?:from\s+(?:today|now)|out)\b)
  | (?:\b(?:{_FOLLOW_UP_CUE})\s*:?\s*
        (?P<span>(?P<span_n>\d{{1,3}}|{_NUM})\s*-?\s*(?P<span_u>{_UNIT})\b))
  | (?P<mdate>\b(?:(?P<md_wd>{_WD})\.?,?\s+)?(?P<md_mon>{_MON})\.?\s+
        (?P<md_d>\d{{1,2}})(?:st|nd|rd|th)?\b
        (?:,?\s+(?P<md_y>\d{{4}})\b)?)
  | (?P<dmdate>\b(?P<dm_d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<dm_mon>{_MON})\b\.?
        (?:,?\s+(?P<dm_y>\d{{4}})\b)?)
  | (?P<numeric>(?<![\d/.,])(?P<n_a>\d{{1,2}})(?:/(?P<n_b>\d{{1,2}})(?:/(?P<n_y>\d{{4}}|\d{{2}}))?
        |[.-](?P<n_b2>\d{{1,2}})[.-](?P<n_y2>\d{{4}}|\d{{2}}))(?![\d/.]\d?))
  | (?P<ordinal>\b(?:on\s+)?the\s+(?P<ord_d>[1-9]|[12]\d|3[01])(?:st|nd|rd|th)\b)
  | (?P<eow>\b(?:eow|end\s+of\s+(?:the\s+)?week)\b)
  | (?P<eom>\b(?:eom|end\s+of\s+(?:the\s+)?month)\b)
  | (?P<nextspan>\bnext\s+(?P<ns_u>week|wk|month)\b)
  | (?P<weekday>\b(?:(?P<wd_q>next|this|last|coming|on)\s+)?(?P<wd>{_WD})\b\.?)
  | (?P<ampm>\bin\s+the\s+(?P<ampm_p>am|morning|pm|afternoon|evening)\b)
  | (?P<holiday>\b(?:xmas\s+eve|christmas\s+eve|xmas|x-mas|christmas|new\s+year'?s?\s+eve|nye|
        new\s+year'?s?(?:\s+day)?|thanksgiving|turkey\s+day|july\s+4th|4th\s+of\s+july|
        independence\s+day|memorial\s+day|labor\s+day|mlk\s+day|veterans'?\s+day|boxing\s+day)\b)
  | (?P<tomorrow>\b(?:tomorrow|tomorow|tommorow|tommorrow|tmrw|tmrow|tmw|tmr|2morrow|2morow|tmro)\b)
  | (?P<yesterday>\b(?:yesterday|yday|yest|ystd|yesterdy|last\s+night)\b)
  | (?P<tonight>\b(?:tonight|tonite|this\s+evening)\b)
  | (?P<today>\b(?:today|tdy|this\s+(?:morning|afternoon|aft|arvo|am|a\.m\.|pm|p\.m\.)|
        earlier\s+today|later\s+today|after\s+lunch|end\s+of\s+(?:the\s+)?day|eod)\b)
    """,
    re.IGNORECASE | re.VERBOSE,
)

_TIME_RE = re.compile(
    r"""
    (?P<noon>\b(?:noon|midday)\b)
  | (?P<midnight>\bmidnight\b)
  | (?:(?P<mil_at>@|\bat)\s*(?P<mil>(?:[01]\d|2[0-3])[0-5]\d)\b(?!\s*(?:mg|ml|units?)\b))
  | (?:(?P<at>@|\bat|\bafter|\baround|\bby|\babout)\s*(?P<at_h>\d{1,2})(?:[:.](?P<at_m>[0-5]\d))?
        (?:\s*(?P<at_ap>[ap]\.?m\.?)\b|(?P<at_ap1>[ap])\b)?(?![\d/:]|\.\d)
        (?!\s*(?:rings?|times?|tries|attempts?|calls?|mins?|minutes?|hrs?|hours?|days?|wks?|weeks?|
        mos?|months?|yrs?|years?|lbs?|kg|mg|pills?|tabs?|doses?|x)\b))
  | (?:\b(?P<cm_h>[1-9]|1[0-2])(?P<cm_m>[0-5]\d)\s*(?P<cm_ap>[ap])\.?m?\.?(?!\w))
  | (?:\b(?P<ap_h>\d{1,2})(?:[:.](?P<ap_m>[0-5]\d))?
        (?:\s*(?P<ap>[ap]\.?m\.?)(?!\w)|(?P<ap1>[ap])\b))
  | (?:\b(?P<c_h>[01]?\d|2[0-3]):(?P<c_m>[0-5]\d)\b(?!/))
  | (?P<hour_only>(?<=\s)(?P<ho_h>[1-9]|1[0-2])(?=\s*(?:$|[,;!)]|\.(?:\s|$))))
  | (?P<bare>(?<![\d/:.,$\#-])(?P<b_h>[01]?\d|2[0-3])(?P<b_m>[0-5]\d)
        (?![\d/:.%]|\s*(?:mg|ml|units?|lbs?|kg|cal)\b))
    """,
    re.IGNORECASE | re.VERBOSE,
)

# A numeric "a/b" right after these words is a reading (pain 4/10, BP 90/60), not a date.
_MEASURE_BEFORE_RE = re.compile(
    r"\b(?:pain|bp|b/p|score|scale|rated?|rating|level|hr|rr|bs|fsbs|glucose|a1c"
    r"|temp|wt|weight|ratio|phq|gad)\W{0,3}$",
    re.IGNORECASE,
)
_MEASURE_AFTER_RE = re.compile(r"^\s*(?:tabs?|tablets?|pills?|mg|ml|cups?|units?|doses?)\b", re.I)


class DayForm(enum.Enum):
    """How a fragment names its day."""

    ISO = "iso"
    AGO = "ago"
    IN = "in"
    SPAN = "span"
    MONTH_NAME = "month_name"
    NUMERIC = "numeric"
    END_OF_WEEK = "eow"
    END_OF_MONTH = "eom"
    NEXT_SPAN = "next_span"
    WEEKDAY = "weekday"
    PART_OF_DAY = "part_of_day"
    TOMORROW = "tomorrow"
    YESTERDAY = "yesterday"
    TONIGHT = "tonight"
    TODAY = "today"
    HOLIDAY = "holiday"
    DAY_OF_MONTH = "day_of_month"
    TIME_ONLY = "time_only"


FUTURE_FORMS = frozenset(
    {DayForm.IN, DayForm.SPAN, DayForm.END_OF_WEEK, DayForm.END_OF_MONTH, DayForm.NEXT_SPAN,
     DayForm.PART_OF_DAY, DayForm.TOMORROW}
)  # fmt: skip
"""Forms that can only mean a day ahead: in a contact note they are the follow-up."""

PAST_FORMS = frozenset({DayForm.AGO, DayForm.YESTERDAY})
"""Forms that can only mean a day behind."""


@dataclass(frozen=True, slots=True)
class ClockTime:
    """A time of day as written, with whether am/pm was given."""

    hour: int
    minute: int
    meridiem_given: bool


@dataclass(frozen=True, slots=True)
class DateFragment:
    """One date/time expression found in a message, not yet resolved to a day."""

    form: DayForm
    start: int
    end: int
    text: str
    parts: tuple[str, ...] = ()
    clock: ClockTime | None = None
    weekday: int | None = None
    """The weekday written next to a calendar date ("fri 12/4"), to check they agree."""

    def with_clock(self, clock: ClockTime, start: int, end: int, text: str) -> DateFragment:
        """This fragment widened to include a time of day written next to it."""
        return DateFragment(self.form, start, end, text, self.parts, clock, self.weekday)

    def with_weekday(self, weekday: int, start: int, end: int, text: str) -> DateFragment:
        """This calendar date widened to include the weekday written next to it."""
        return DateFragment(self.form, start, end, text, self.parts, self.clock, weekday)


# -- finding fragments -------------------------------------------------------------------


def find_fragments(text: str) -> list[DateFragment]:
    """Date/time fragments in reading order, times attached to the day next to them: at most
    ``MAX_FRAGMENTS`` days and as many times, in the first ``MAX_DATE_CHARS`` characters."""
    scanned = text[:MAX_DATE_CHARS]
    days = _join_weekdays(scanned, list(_limit(_day_fragments(scanned))))
    times = list(_limit(_time_fragments(scanned, days)))
    return _attach_times(scanned, days, times)


def _day_fragments(text: str) -> Iterator[DateFragment]:
    for match in _DAY_RE.finditer(text):
        fragment = _day_fragment(match, text)
        if fragment is not None and len(fragment.text) <= MAX_FRAGMENT_LEN:
            yield fragment


# -- fragment construction ---------------------------------------------------------------


def _limit(fragments: Iterator[DateFragment]) -> Iterator[DateFragment]:
    for count, fragment in enumerate(fragments):
        if count >= MAX_FRAGMENTS:
            return
        yield fragment


def _number(word: str) -> int:
    word = word.lower()
    return _NUMBER_WORDS[word] if word in _NUMBER_WORDS else int(word)


def _unit(word: str) -> str:
    """Normalised span unit: 'd', 'w', 'm' (months) or 'h'."""
    word = word.lower()
    if word.startswith("h"):
        return "h"
    if word.startswith("w"):
        return "w"
    if word.startswith("m"):
        return "m"
    return "d"


def _day_fragment(match: re.Match[str], text: str) -> DateFragment | None:
    kind = match.lastgroup
    groups = match.groupdict()
    if kind is None and groups.get("span"):
        kind = "span"
    start, end = match.span(kind) if kind else match.span()
    raw = text[start:end]
    builder = _BUILDERS.get(kind or "")
    if builder is None:
        return None
    built = builder(groups, raw, text, start, end)
    if built is None:
        return None
    form, parts = built
    weekday = None
    if form is DayForm.MONTH_NAME and len(parts) == 4:
        weekday = WEEKDAYS.get(parts[3])
        parts = parts[:3]
    return DateFragment(form, start, end, raw, parts, None, weekday)


_Built = tuple[DayForm, tuple[str, ...]] | None

_CHANGE_BEFORE_RE = re.compile(
    r"(?:\b(?:up|down|gained|gain|lost|loss|dropped|increased|decreased)|\d\s*(?:lbs?|kg|pounds?|"
    r"%|points?))\s*$",
    re.IGNORECASE,
)
"""Before "in a wk" that is how fast something changed, not a day ahead ("up 5 lb in a wk")."""


def _build_span(form: DayForm, n: str, unit: str) -> _Built:
    return form, (str(_number(n)), _unit(unit))


def _build_numeric(
    groups: dict[str, str | None], raw: str, text: str, start: int, end: int
) -> _Built:
    if _MEASURE_BEFORE_RE.search(text[max(0, start - 16) : start]):
        return None
    if _MEASURE_AFTER_RE.match(text[end : end + 12]):
        return None
    second = groups["n_b"] or groups["n_b2"] or ""
    return DayForm.NUMERIC, (groups["n_a"] or "", second, groups["n_y"] or groups["n_y2"] or "")


_NOT_A_DAY_AFTER_RE = re.compile(
    r"\s+(?:up|down|in|on|out|at|with|there|still|by|around|quietly|next|outside|exposure|burn|"
    r"screen|light|damage|block|tan|glasses)\b",
    re.IGNORECASE,
)

_READING_AFTER_RE = re.compile(
    r"\s*(?:[:=]|%|(?:[6-9]\d|100)\b(?!\s*(?:[ap]\.?m?\b|:))|on\s+(?:ra|room\s+air)|ra\b|"
    r"(?:ninety|eighty|seventy|sixty|one\s+hundred)\b)",
    re.IGNORECASE,
)


def _build_weekday(
    groups: dict[str, str | None], raw: str, text: str, start: int, end: int
) -> _Built:
    word = groups["wd"] or ""
    qualifier = (groups["wd_q"] or "").lower()
    if word in ("sat", "sun") and not qualifier and _NOT_A_DAY_AFTER_RE.match(text[end:]):
        return None  # "sat up in chair", "sun exposure": lowercase bare words are not days
    if raw.lower() in ("sat", "sats") and _READING_AFTER_RE.match(text[end:]):
        return None  # "sat 94% RA", "sat ninety seven": oxygen saturation
    return DayForm.WEEKDAY, (word[:3].lower(), qualifier)


WEEKDAY_KEYS = {number: key for key, number in WEEKDAYS.items()}
_WEEKDAY_JOIN_RE = re.compile(r"^[\s,.]*(?:the\s+)?$", re.IGNORECASE)


def _join_weekdays(text: str, days: list[DateFragment]) -> list[DateFragment]:
    """Fold a weekday written right before or after a calendar date into that date
    ("fri 12/4", "12/4 (fri)"), so it is one day, checked by ``weekday_conflict``."""
    joined: list[DateFragment] = []
    skip: set[int] = set()
    calendar_forms = (DayForm.NUMERIC, DayForm.MONTH_NAME, DayForm.ISO, DayForm.DAY_OF_MONTH)
    for i, fragment in enumerate(days):
        if i in skip:
            continue
        if fragment.form in calendar_forms and fragment.weekday is None:
            neighbours = [(i - 1, True), (i + 1, False)]
            for j, before in neighbours:
                if not 0 <= j < len(days) or j in skip:
                    continue
                other = days[j]
                if other.form is not DayForm.WEEKDAY or other.parts[1] == "last":
                    continue
                gap = (
                    text[other.end : fragment.start] if before else text[fragment.end : other.start]
                )
                if not _WEEKDAY_JOIN_RE.match(gap.replace("(", " ").replace(")", " ")):
                    continue
                start, end = min(other.start, fragment.start), max(other.end, fragment.end)
                fragment = fragment.with_weekday(
                    WEEKDAYS[other.parts[0]], start, end, text[start:end]
                )
                skip.add(j)
                if before and joined and joined[-1] is other:
                    joined.pop()
                break
        joined.append(fragment)
    return [f for k, f in enumerate(joined) if f is not None]


def _holiday_key(text: str) -> str:
    """'Christmas Eve' -> 'xmas eve', "new year's day" -> 'new year', 'turkey day' ->
    'thanksgiving'."""
    words = " ".join(text.lower().replace("'", "").replace("x-mas", "xmas").split())
    words = words.replace("christmas", "xmas").replace("turkey day", "thanksgiving")
    if words.startswith("new year") and words.endswith("eve"):
        return "nye"
    if words.startswith("new year"):
        return "new year"
    if words in ("4th of july", "independence day"):
        return "july 4th"
    if words.startswith("veteran"):
        return "veterans day"
    return words


def _month_key(word: str | None) -> str:
    return (word or "")[:3].lower()


_BUILDERS = {
    "iso": lambda g, *_: (DayForm.ISO, (g["iso_y"] or "", g["iso_m"] or "", g["iso_d"] or "")),
    "ago": lambda g, *_: _build_span(DayForm.AGO, g["ago_n"] or "", g["ago_u"] or ""),
    "in": lambda g, _raw, text, start, _end: (
        None
        if _CHANGE_BEFORE_RE.search(text[max(0, start - 20) : start])
        else _build_span(DayForm.IN, g["in_n"] or "", g["in_u"] or "")
    ),
    "from": lambda g, *_: _build_span(DayForm.IN, g["from_n"] or "", g["from_u"] or ""),
    "span": lambda g, *_: _build_span(DayForm.SPAN, g["span_n"] or "", g["span_u"] or ""),
    "mdate": lambda g, *_: (
        DayForm.MONTH_NAME,
        (_month_key(g["md_mon"]), g["md_d"] or "", g["md_y"] or "", (g["md_wd"] or "")[:3].lower()),
    ),
    "dmdate": lambda g, *_: (
        DayForm.MONTH_NAME,
        (_month_key(g["dm_mon"]), g["dm_d"] or "", g["dm_y"] or ""),
    ),
    "numeric": _build_numeric,
    "eow": lambda *_: (DayForm.END_OF_WEEK, ()),
    "ordinal": lambda g, *_: (DayForm.DAY_OF_MONTH, (g["ord_d"] or "",)),
    "eom": lambda *_: (DayForm.END_OF_MONTH, ()),
    "nextspan": lambda g, *_: (DayForm.NEXT_SPAN, (_unit(g["ns_u"] or "w"),)),
    "weekday": _build_weekday,
    "ampm": lambda g, *_: (DayForm.PART_OF_DAY, ((g["ampm_p"] or "am").lower(),)),
    "tomorrow": lambda *_: (DayForm.TOMORROW, ()),
    "holiday": lambda g, *_: (DayForm.HOLIDAY, (_holiday_key(g["holiday"] or ""),)),
    "yesterday": lambda *_: (DayForm.YESTERDAY, ()),
    "tonight": lambda *_: (DayForm.TONIGHT, ()),
    "today": lambda *_: (DayForm.TODAY, ()),
}


_READING_BEFORE_RE = re.compile(
    r"\b(?:bg|bs|cbg|fsbs|sugars?|glucose|wt|weight|bp|b/p|hr|pulse|temp|o2|sats?|spo2|a1c|inr|"
    r"k|cr|egfr|gfr|meter|reading)\b(?:(?!\b(?:at|tmw|tmrw|tomorrow|tonight|mon|tue|wed|thu|fri|"
    r"sat|sun)\b)[^,;.\d@]){0,12}$",
    re.IGNORECASE,
)


def _time_fragments(text: str, days: list[DateFragment]) -> Iterator[DateFragment]:
    """Times of day not inside a day fragment ('12/3' is not '12' o'clock)."""
    taken = [(d.start, d.end) for d in days]
    for match in _TIME_RE.finditer(text):
        start, end = match.span()
        if any(s < end and start < e for s, e in taken):
            continue
        bare = match.group("bare") or match.group("hour_only")
        if bare and _READING_BEFORE_RE.search(text[max(0, start - 18) : start]):
            continue  # "BG this am 134": a reading, not a time
        clock = _clock(match)
        if clock is not None:
            marker = ("bare",) if bare else ()
            yield DateFragment(DayForm.TIME_ONLY, start, end, text[start:end], marker, clock)


def _clock(match: re.Match[str]) -> ClockTime | None:
    g = match.groupdict()
    if g["noon"]:
        return ClockTime(12, 0, True)
    if g["midnight"]:
        return ClockTime(0, 0, True)
    if g["mil"]:
        return ClockTime(int(g["mil"][:2]), int(g["mil"][2:]), True)
    if g["cm_h"]:
        hour = int(g["cm_h"]) % 12 + (12 if g["cm_ap"].lower() == "p" else 0)
        return ClockTime(hour, int(g["cm_m"]), True)
    if g["hour_only"]:
        return ClockTime(int(g["ho_h"]), 0, False)
    if g["bare"]:
        hour = int(g["b_h"])
        military = len(g["b_h"]) == 2 and (hour >= 13 or g["b_h"].startswith("0"))
        return ClockTime(hour, int(g["b_m"]), military)
    hour_text = g["at_h"] or g["ap_h"] or g["c_h"]
    if hour_text is None:
        return None
    minute = int(g["at_m"] or g["ap_m"] or g["c_m"] or 0)
    meridiem = (g["at_ap"] or g["at_ap1"] or g["ap"] or g["ap1"] or "").lower()[:1]
    hour = int(hour_text)
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "p" else 0)
        return ClockTime(hour, minute, True)
    if hour > 23:
        return None
    return ClockTime(hour, minute, hour > 12 or hour == 0)


_ATTACH_GAP = re.compile(r"^[\s,]*(?:at|@|by|around|@\s*)?[\s,]*$", re.IGNORECASE)


def _attach_times(
    text: str, days: list[DateFragment], times: list[DateFragment]
) -> list[DateFragment]:
    """Join each time to the day written right before (or right after) it."""
    result = list(days)
    for fragment in times:
        index = _neighbour_day(text, result, fragment)
        if index is None:
            if (
                fragment.parts != ("bare",)
                or _VALUE_BEFORE_RE.search(text[: fragment.start])
                or _DAYTIME_HHMM_RE.fullmatch(fragment.text)
                and not _ID_BEFORE_RE.search(text[: fragment.start])
            ):
                result.append(fragment)  # "1030" alone is a number; "make that 1030" a time
            continue
        day = result[index]
        start, end = min(day.start, fragment.start), max(day.end, fragment.end)
        assert fragment.clock is not None
        result[index] = day.with_clock(fragment.clock, start, end, text[start:end])
    return sorted(result, key=lambda f: f.start)


_DAYTIME_HHMM_RE = re.compile(r"(?:0[6-9]|1\d|20)[0-5]\d")
_ID_BEFORE_RE = re.compile(r"(?:#|ref|mrn|id|no\.?|x|room|rm|apt|ext)\s*$", re.IGNORECASE)
_VALUE_BEFORE_RE = re.compile(
    r"\b(?:that|it|to|be|is|at|now|arrive|arrival|check\s+in)\s*$", re.IGNORECASE
)


def _neighbour_day(text: str, days: list[DateFragment], moment: DateFragment) -> int | None:
    for index, day in enumerate(days):
        if day.clock is not None or day.form in PAST_FORMS and day.form is not DayForm.YESTERDAY:
            continue
        if day.end <= moment.start and _ATTACH_GAP.match(text[day.end : moment.start]):
            return index
        if moment.end <= day.start and _ATTACH_GAP.match(text[moment.end : day.start]):
            return index
    return None
