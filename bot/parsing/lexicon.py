"""The words the parser knows: cues for each kind of fact, shorthand, and the known-word lists.

Owns every pattern that decides what a clause of a nurse message states (a failed call, a
visit, an appointment, a discharge, a task for herself ...) and the vocabulary the typo
corrector may correct towards. To teach the parser a word, add it here (see docs/parsing.md).
Must not import: telegram, storage, sqlalchemy, or anything doing I/O.
"""

from __future__ import annotations

import re

from bot.vocab import Channel

_I = re.IGNORECASE

CAREGIVER_WORDS = (
    r"(?:daughter|dtr|son|wife|husband|hubby|spouse|mother|father|mom|dad|caregiver|cg|c/g|"
    r"family|niece|nephew|sister|brother|grand(?:son|daughter|child)|partner|guardian|poa|"
    r"neighbou?r|aide|hha|friend|girlfriend|boyfriend|fiance|roommate)"
)


def words(text: str) -> frozenset[str]:
    """A set of whitespace-separated words (keeps long word lists readable)."""
    return frozenset(text.split())


# -- contacts ---------------------------------------------------------------------------------

# A message was left: the contact went to voicemail (an attempt).
LEFT_MESSAGE_RE = re.compile(
    r"\b(?:lvm|lvmm|lmom|lmtcb|lmtc|lmvm|lm|l/m|vm\s+left|msg\s+left|message\s+left|"
    r"left\s+(?:a\s+|her\s+|him\s+|them\s+|detailed\s+|another\s+|2nd\s+|second\s+)?"
    r"(?:detailed\s+)?(?:vm|v/m|voicemail|voice\s*mail|message|msg|mssg)|"
    r"went\s+(?:straight\s+)?to\s+(?:vm|voicemail|voice\s*mail)|to\s+vm|"
    r"(?:vm|voicemail)\s+(?:x\s?\d|again|#?\d))\b",
    _I,
)

# The call did not reach anyone (an attempt, no message left).
BAD_NUMBER_RE = re.compile(
    r"(?:#|\bnum(?:ber)?|\bno\.|\bphone|\bline|\bcell)\s*(?:is\s+)?(?:disc(?:onnected)?\b|"
    r"d/c'?d\b|not\s+(?:working|in\s+service)\b|wrong\b)|\bwrong\s*(?:#|num(?:ber)?\b|no\b)",
    _I,
)
"""The number she called doesn't work: "# disc", "wrong #", "number not in service"."""
NO_ANSWER_RE = re.compile(
    r"\b(?:na|n/a(?=\s*(?:x\s?\d|,|\.|;|$|\s+(?:again|on|at|for|to|w|x|re|call|lvm|lm|vm)\b))|"
    r"no\s*ans(?:wer)?|noans|no\s+answr|no\s+pick\s*-?\s*up|no\s+pu|did\s*n[o']?t\s+(?:answer|pick\s*up)|"
    r"didnt\s+(?:answer|pick\s*up)|did\s+not\s+(?:answer|pick\s*up)|not\s+answering|wouldn'?t\s+answer|"
    r"no\s+(?:response|resp|reply|callback|call\s+back|return\s+call)|"
    r"(?<!mail\s)(?<!send\s)(?<!print\s)(?<!write\s)utr|"
    r"unable\s+to\s+(?:reach|contact|get\s+(?:a\s+)?hold\s+of|get\s+ahold\s+of|get\s+through|"
    r"connect|lvm|leave\s+(?:a\s+)?(?:vm|message|msg))|"
    r"could\s*n[o']?t\s+(?:reach|get\s+(?:a\s+)?hold|get\s+ahold|get\s+through|connect|lvm)|"
    r"couldnt\s+(?:reach|get\s+(?:a\s+)?hold|get\s+ahold|get\s+through|connect)|"
    r"could\s+not\s+(?:reach|get\s+(?:a\s+)?hold|get\s+ahold|get\s+through|connect)|"
    r"busy(?:\s+(?:signal|tone|line))?|line\s+busy|disconnected|disconnect(?:ed)?\s+(?:number|#)|"
    r"wrong\s+(?:number|#|no\.?)|not\s+in\s+service|out\s+of\s+service|"
    r"(?:vm|voicemail|voice\s*mail|mailbox)\s*(?:box\s+)?(?:is\s+)?full|full\s+(?:vm|mailbox)|"
    r"can'?t\s+leave\s+(?:a\s+)?(?:msg|message|vm)|cant\s+leave|gave\s+up|hung\s+up|"
    r"on\s+hold\s+(?:for\s+)?\d+|no\s+one\s+available|nobody\s+available|"
    r"missed\s+(?:it|her\s+call|his\s+call|the\s+call|my\s+call)|"
    r"(?:didn'?t|didnt|did\s+not|no)\s+(?:leave\s+)?(?:a\s+)?(?:msg|message|vm)(?:\s+left)?|"
    r"still\s+no\s+(?:call\s*back|callback|answer|response|word)|"
    r"phone\s+(?:off|dead|rang\s+out)|rang\s+(?:out|and\s+rang|no\s+answer)|rna|"
    r"(?:phone|it|line)\s+(?:just\s+)?(?:rang|rings)\s+(?:out|and\s+rang|forever)|"
    r"(?:no\s*-?\s*one|nobody)\s+(?:answer(?:s|ed)?|pick(?:s|ed)?\s+up|(?:is\s+|was\s+)?home|"
    r"(?:is\s+|was\s+)?there|around|came\s+to\s+the\s+door)|"
    r"not\s+(?:reached|reachable|available|avail|home)|unreachable|no\s+contact\s+made|"
    r"no\s+(?:luck|joy)|no\s+go|straight\s+to\s+(?:vm|voicemail)|(?:line\s+)?(?:was\s+|is\s+)?engaged|"
    r"call\s+(?:got\s+)?dropped|dropped\s+(?:the\s+)?call|(?:got\s+)?cut\s+off|"
    r"(?:no[\s-]?show(?:ed|s)?|didn'?t\s+show(?:\s+up)?|did\s+not\s+show(?:\s+up)?|never\s+showed)"
    r"(?!\s+(?:(?:for|to|at|up\s+(?:for|to|at))\s+)?(?:the\s+|her\s+|his\s+|their\s+)?"
    r"(?:\w+\s+)?(?:appts?|appointments?|echo|cardio\w*|labs?|pcp|dr|doctor|specialist|md|"
    r"imaging|mri|ct|x-?ray|dialysis|hd|tx|therapy|pt|ot|clinic|procedure|test|scan|colonoscopy|"
    r"eye|dental|dentist|ortho\w*|neuro\w*|podiatry|derm\w*|gi|pulm\w*|nephro\w*|onc\w*|"
    r"endo\w*|surgery|surgeon|infusion|class|group|session)\b)|"
    r"(?:won'?t|wouldn'?t|didn'?t|did\s+not|does\s+not|doesn'?t|not)\s+(?:go|going|get|getting)\s+"
    r"through|no\s+(?:bars|signal|service|reception|cell\s+service)|fax\s+(?:tone|machine)|"
    r"(?:recording|recorded\s+(?:message|msg))\s+(?:says|said|states|stated)|"
    r"not\s+(?:been\s+)?recogni[sz]ed|no\s+longer\s+in\s+service|(?:#|number|phone)\s+(?:has\s+)?"
    r"changed|(?:hung|hangs)\s+up|bad\s+time|can'?t\s+talk|couldn'?t\s+talk)\b",
    _I,
)

# The contact was tried (an attempt, however it went).
TRIED_RE = re.compile(
    r"\b(?:tried(?:\s+(?:calling|to\s+call|to\s+reach|again|phone|ph|her|him|them))?|"
    r"attempt(?:ed|s)?|(?:1st|2nd|3rd|4th|first|second|third|fourth|another|final)\s+"
    r"(?:attempt|try|call\s+attempt)|call\s+attempt|attempted\s+call)\b",
    _I,
)

# Someone was really reached: these win over attempt words in the same fact.
REACHED_RE = re.compile(
    r"\b(?:spoke|spoken|speaking|talked|talking|chatted|chatting|reached|connected\s+with|"
    r"got\s+(?:a\s+)?hold\s+of|got\s+ahold\s+of|got\s+through|"
    r"returned\s+(?:my|the|our)\s+(?:call|vm|voicemail|message)|called\s+(?:me\s+)?back|"
    r"call(?:ed)?\s+me|(?:she|he|they|pt|patient|daughter|son|wife|husband|cg)\s+called|"
    r"picked\s+up|(?<!didn't\s)(?<!didnt\s)(?<!not\s)answered|"
    r"discussed|reviewed|educated|instructed|reinforced|explained|verbalized|verbalizes|"
    r"states|stated|reports|reported|says|said|c/o|complains|denies|denied|agreed|agrees|"
    r"confirmed|feeling|feels|doing\s+(?:well|ok|okay|good|better|fine|great|worse)|"
    r"(?:is|was)\s+(?:doing|feeling)|replied|responded|wrote\s+back|texted\s+back|"
    r"tcm\s+(?:call|contact|outreach)?\s*(?:done|complete|completed|made)|let\s+\w+\s+know|"
    r"outreach\s+(?:done|completed?)|peer[\s-]to[\s-]peer|told\s+(?:her|him|them|pt)|"
    r"soc\s+(?:visit\s+)?(?:done|complete|completed)|"
    r"gave\s+(?:\w+\s+){0,3}?(?:his|her|their|the)\s+(?:\w+\s+){0,2}?(?:date|time|results?|"
    r"appt|appointment))\b",
    _I,
)

# Someone was reached for sure (these win over attempt words: "LVM, pt called back").
STRONG_REACHED_RE = re.compile(
    r"\b(?:spoke|spoken|talked|reached(?!\s+(?:vm|v/m|voicemail|voice\s*mail|mailbox|machine|"
    r"answering|a\s+recording|recording|her\s+vm|his\s+vm))|connected\s+with|"
    r"got\s+(?:a\s+)?hold\s+of|got\s+ahold\s+of|got\s+through\s+to|finally\s+got\s+(?:her|him)|"
    r"returned\s+(?:my|the|our|her|his)?\s*(?:call|vm|voicemail|message|msg)|"
    r"called\s+(?:me\s+)?(?:right\s+)?back|"
    r"(?<!\bto\s)(?<!\bhim\s)(?<!\bher\s)(?<!\bthem\s)(?<!\bpls\s)(?<!\bplease\s)"
    r"call(?:ed)?\s+me(?!\s+back\b)|"
    r"(?:she|he|they|pt|patient|daughter|dtr|son|wife|husband|hubby|spouse|mom|dad|mother|"
    r"father|sister|brother|niece|nephew|grandson|granddaughter|caregiver|cg|office|ofc|ctr|"
    r"center|clinic|"
    r"pharmacy|dr|doctor|nurse|pcp|agency|hh|snf|facility)\s+called(?!\s+(?:911|ems|ambulance))|"
    r"picked\s+up|answered(?!\s+machine))\b",
    _I,
)
NOT_REACHED_AFTER_RE = re.compile(
    r"^\s*(?:w/|with|to)?\s*(?:nobody|no\s*one|noone|no-one)\b|"
    r"^[^.;]{0,25}\b(?:but\s+i\s+missed|i\s+missed|missed\s+(?:it|the\s+call|her|him))\b|"
    r"^[^.;]{0,30}\b(?:call\s+(?:got\s+)?dropped|cut\s+off|couldn'?t\s+hear|line\s+went\s+dead)\b",
    _I,
)
"""Right after a "reached" word, what takes it back: "spoke w/ nobody", "called back but I
missed it"."""
SOMEONE_ELSE_RE = re.compile(
    r"\b(?:(?:some|a|random|another|other|wrong|different|unknown)\s+(?:lady|man|guy|woman|person|"
    r"one|kid|girl|boy|voice)|someone(?:\s+else)?|somebody(?:\s+else)?|(?:her|his|their|the|pt'?s)\s+"
    r"(?:husband|hubby|wife|spouse|son|daughter|dtr|granddaughter|grandson|grandkid|nephew|niece|"
    r"roommate|caregiver|cg|mom|dad|mother|father|sister|brother|friend|neighbou?r|aide|"
    r"partner|bf|gf|boyfriend|girlfriend)|granddaughter|grandson|husband|wife|son|daughter|dtr)"
    r"\s+(?:\w+\s+)?$",
    _I,
)
"""Before "answered" / "picked up": someone other than the patient came to the phone."""
RELAYED_RE = re.compile(
    r"\b(?:left\s+(?:a\s+)?(?:msg|message|vm|word)|lm|take\s+a\s+(?:msg|message)|napping|asleep|"
    r"sleeping|in\s+the\s+(?:shower|bath|bathroom)|not\s+(?:home|there|in|available|around)|"
    r"(?:is|was)\s+out|at\s+(?:work|church|dialysis|school|the\s+store)|call\s+(?:me\s+)?back|"
    r"have\s+(?:her|him|them)\s+call|wrong\s*(?:#|number|no\b)|no\s+\w+\s+(?:here|there)|"
    r"doesn'?t\s+live|hung\s+up|bad\s+time|can'?t\s+talk|busy)\b",
    _I,
)
"""After someone else answered: she only left word, so the patient was not reached."""
CARE_NEWS_RE = re.compile(
    r"\b(?:doing\s+(?:ok|okay|well|fine|good|better|worse|poorly)|feeling|feels|meds?|medications?|"
    r"pills|refills?|pain|sob|swelling|edema|bp|bg|sugars?|weight|wt|eating|appetite|fell|falls?|"
    r"dizzy|confused|better|worse|no\s+(?:issues|concerns|complaints|new|problems)|per\s+(?:dtr|"
    r"daughter|son|wife|husband|cg|caregiver|family)|reports?|states?|denies|has\s+all|"
    r"appts?|appointment|ride|transport\w*)\b",
    _I,
)
"""What family passed on about her care: then they were reached, not just asked to pass word."""

_TO_A_PHARMACY = (
    r"(?:to\s+)?(?:the\s+|her\s+|his\s+)?(?:cvs|walgreens|walmart|rite\s*aid|costco|kroger|publix|"
    r"pharmacy|pharm|mail\s+order)\b"
)
"""'magic mouthwash called in to the CVS': a prescription phoned to a pharmacy."""

# How a contact happened. Order matters only for ties at the same position.
CHANNEL_PATTERNS: tuple[tuple[Channel, re.Pattern[str]], ...] = (
    (Channel.VOICEMAIL, LEFT_MESSAGE_RE),
    (Channel.VIDEO, re.compile(
        r"\b(?:video(?:\s*(?:call|visit|chat))?|vid\s*(?:call|visit|chat|appt)|vv|telehealth|"
        r"tele\s*health|telemed|telemedicine|"
        r"tele\s*visit|televisit|tele\s*video|virtual\s+(?:visit|appt|appointment|call)|zoom|facetime|"
        r"doxy(?:\.me)?|teams\s+call)\b", _I)),
    (Channel.EMAIL, re.compile(
        r"\b(?:e-?mail(?:ed)?|emailed|portal\s+(?:msg|message)|mychart)\b", _I)),
    (Channel.TEXT, re.compile(
        r"\b(?:texted|text(?:ed)?|txt(?:d|ed)?|sms|messaged|msgd)\b", _I)),
    (Channel.VISIT, re.compile(
        r"\b(?:knocked|swung\s+by|stopped\s+(?:at|by|in\s+(?:at|on))|called\s+(?:in\s+)?at\s+"
        r"(?:[\w']+\s+){0,3}?(?:home|house|flat|place|apartment|apt|bungalow|address)\b|(?<!\btheir\s)(?<!\bhh\s)(?<!\bagency\s)hv|h/v|home\s*visit|"
        r"home\s*vst|(?<!\btheir\s)(?<!\bhh\s)(?<!\bpt\s)(?<!\bot\s)visit(?:ed)?|vst|seen|"
        r"saw(?!\s+(?:it|that|this|the\s+(?:note|chart|portal|results?|report|msg|message|email)|"
        r"in\s+the|on\s+the|(?:her|his)\s+(?:chart|labs?|results?|note)))|see(?=\s+(?:pt|patient)\b)|"
        r"in\s+person|f2f|face\s*to\s*face|ftf|rounded|bedside|clinic\s+visit|office\s+visit|"
        r"met\s+(?:w/|with)|stopped\s+by|came\s+(?:by|in|into)|dropped\s+(?:off|by)|walk-?in|"
        r"soc\s+(?:visit\s+)?(?:done|complete|completed)|start\s+of\s+care\s+(?:visit\s+)?"
        r"(?:done|complete|completed)|"
        r"(?:hf|heart\s+failure|chf|dm|diabetes|wound|anticoag\w*|coumadin)\s+clinic(?=\s*[:\-])|"
        r"in\s+(?:the\s+)?clinic(?!\s+(?:on|at|tmrw|tomorrow|next|mon|tue|wed|thu|fri))|"
        r"drop-?in|went\s+(?:to|by)\s+(?:her|his|their|the)\s+(?:house|home|apt|place)|"
        r"at\s+(?:her|his|their)\s+(?:house|home|apt|place))\b", _I)),
    (Channel.PHONE, re.compile(
        r"\b(?:call(?:ed|ing)?(?!\s+in\s+" + _TO_A_PHARMACY + r")|cld|phoned?|ph|tc|t/c|"
        r"tel(?:ephone)?|tele(?!\s*(?:visit|video|health|scale|monitor\w*))|"
        r"telephonic(?:ally)?|spoke|chatted|chatting|by\s+phone|over\s+the\s+phone|peer[\s-]to[\s-]peer|"
        r"spoken|talked|rang|ringing|dialed|dialled|telephoned|telephone\s+call|"
        r"on\s+the\s+phone|f/u\s+call|tcm\s+call)\b", _I)),
)  # fmt: skip

PHONE_WORD_RE = re.compile(
    r"\b(?:call(?:ed|ing|s)?|cld|phoned?|ph|tc|t/c|rang|dialed|dialled|telephoned|rung)\b", _I
)

# "TCM call due", "needs f/u call": a contact still owed, not one made.
OWED_CONTACT_RE = re.compile(
    r"\b(?:needs?|due\s+for|awaiting|pending|owes?)\s+(?:a\s+|an\s+|her\s+|his\s+|their\s+)?"
    r"(?:tcm\s+|toc\s+|f/u\s+|follow[- ]?up\s+|phone\s+)?(?:call|contact|visit|hv|outreach)\b|"
    r"\b(?:(?:tcm|toc|f/u|follow[- ]?up|phone)\s+)?(?:call|contact|visit|hv|outreach)\s+"
    r"(?:is\s+|still\s+)?(?:due|needed|pending|required|owed|outstanding)\b",
    _I,
)

# A past event of contact (something happened), as opposed to a plan ("call Tom fri").
CONTACT_PAST_RE = re.compile(
    r"\b(?:called(?!\s+in\s+" + _TO_A_PHARMACY + r")|cld|phoned|telephoned|dialled|dialed|"
    r"spoke|spoken|talked|rang|texted|txted|"
    r"txtd|emailed|e-mailed|on\s+the\s+phone|" + CAREGIVER_WORDS + r"\s+(?:says|said|reports|"
    r"reported|states|stated|told\s+me|tells\s+me|informed\s+me|let\s+me\s+know)|"
    r"(?<!per\s)(?<!via\s)\b(?:pt|patient|mbr|member)\s+(?:reports|reported|states|stated|"
    r"told\s+me|tells\s+me|denies|denied|verbalized|verbalizes)|"
    r"visited|seen|saw(?!\s+(?:it|that|this|the\s+(?:note|chart|portal|results?|report|msg|"
    r"message|email)|in\s+the|on\s+the|(?:her|his)\s+(?:chart|labs?|results?|note)))|met\s+(?:w/|with)|"
    r"reached(?!\s+(?:her|his|their)\s+goal)|tc|t/c|hv|h/v|home\s*visit|video\s*(?:call|visit)|"
    r"telehealth|tele\s*visit|televisit|f2f|lvm|lmom|lmtcb|lm|left(?!\s+(?:the|her|his)\s+"
    r"(?:snf|hosp\w*|rehab|facility|er|ed|unit|clinic|office|center|ctr|chair|house|home))"
    r"(?!\s+(?:\d|early|late|ama|against|before|after|without|w/o|town|for\s+(?!(?:her|him|them)\b)))|"
    r"tried|attempted|"
    r"(?:phone|tcm|f/u|quick|brief|short|long)\s+call|call\s+(?:w/|w|with|to)|returned|"
    r"tcm\s+contact|contact\s+(?:made|done|completed?)|contacted|stopped\s+by|came\s+by|"
    r"tcm\s+(?:call\s+|outreach\s+)?(?:done|complete|completed|made)|"
    r"(?:toc|tcm|enrollment|intake|welcome|assessment|outreach|wellness|check-?in|f/u|"
    r"follow[- ]?up)\s+call|start\s+of\s+care\s+(?:visit\s+)?(?:done|complete|completed)|discussed|"
    r"went\s+over|reviewed\s+(?:w/?|with)|"
    r"(?:hf|heart\s+failure|chf|dm|diabetes|wound|anticoag\w*|coumadin)\s+clinic(?=\s*[:\-])|"
    r"soc\s+(?:visit\s+)?(?:done|complete|completed)|outreach\s+(?:done|completed?|made)|"
    r"peer[\s-]to[\s-]peer|p2p|told\s+(?:her|him|them|pt|the\s+pt)|by\s+phone|over\s+the\s+phone|"
    r"came\s+in|dropped\s+off|replied|texted\s+back|wrote\s+back|"
    r"let\s+(?:her|him|them|pt|\w+)\s+know|gave\s+(?:her|him|pt|them)\b|"
    r"gave\s+(?:\w+\s+){0,3}?(?:his|her|their|the)\s+(?:\w+\s+){0,2}?(?:date|time|results?|"
    r"appt|appointment)\b)\b",
    _I,
)

CAREGIVER_RE = re.compile(r"\b" + CAREGIVER_WORDS + r"\b", _I)
PROVIDER_RE = re.compile(
    r"\b(?:pcp|dr\.?|doctor|md|np|pa-c|provider|cardiolog\w*|office|pharmac\w*|specialist|"
    r"surgeon|home\s+health|hh\s+(?:agency|nurse|rn)|snf\s+staff|clinic\s+staff|facility|"
    r"walgreens|cvs|rite\s*aid|walmart|pharm|discharge\s+planner|hospitalist|cards|"
    r"case\s+manager|social\s+worker|sw|dme|supplier|nurse\s+line|triage)\b",
    _I,
)
INSURER_RE = re.compile(
    r"\b(?:insurance|insurer|payer|payor|aetna|humana|uhc|united\s*healthcare|cigna|medicaid|"
    r"medicare|bcbs|anthem|prior\s+auth|pa\s+dept|plan\s+rep|(?:her|his|their)\s+plan|"
    r"health\s+plan|managed\s+care|mco)\b",
    _I,
)

ATTEMPTS_RE = re.compile(
    r"(?<![\w/])x\s?(?P<x>[1-9])\b(?!\s*(?:days?|wks?|weeks?|hrs?|mos?|months?))|"
    r"\b(?P<n>[2-9]|two|three|four|1st|2nd|3rd|4th|first|second|third|fourth)\s*"
    r"(?:attempts?|tries|calls|x|times)\b|\b(?P<th>1st|2nd|3rd|4th|first|second|third|fourth|final)\s+"
    r"(?:(?:tcm|phone|call|outreach|f/u)\s+)?(?:attempt|try|call|vm|voicemail|msg|message|"
    r"outreach)\b|\b(?:attempt|outreach|try|call)\s*#?\s?(?P<hash>[1-9])\b(?!\s*(?:days?|wks?|pm|am|:))|"
    r"\b(?P<twice>twice|thrice)\b|"
    r"\b(?:lm|lvm|vm|na|msg|message|voicemail|try|attempt)\s*#\s?(?P<hash2>[1-9])\b",
    _I,
)
ATTEMPT_WORDS = {"two": 2, "three": 3, "four": 4, "1st": 1, "first": 1, "2nd": 2, "3rd": 3,
                 "4th": 4, "second": 2, "third": 3, "fourth": 4, "twice": 2,
                 "thrice": 3}  # fmt: skip

# A contact (or anything) told as done: a fact with one of these is not booked ahead.
PAST_TENSE_RE = re.compile(
    r"\b(?:called|spoke|spoken|talked|saw|seen|visited|texted|emailed|left|lvm|lmom|lm|tried|"
    r"reached|was|were|had|did|done|went|came|got|completed|discussed|reviewed|no\s+ans\w*|"
    r"na|utr|unable|knocked|swung\s+by|stopped\s+(?:by|at|in))\b",
    _I,
)


# -- the next step (follow-ups) and tasks for herself ------------------------------------------

FOLLOW_UP_CUE_RE = re.compile(
    r"\b(?:f/u|fu|f\s*/\s*u|follow[- ]?up|followup|recheck|re-?check|revisit|rtc|return|"
    r"check\s+(?:on|in|back|up|w/|with)|recheck|see\s+(?:him|her|them|pt|patient)|"
    r"next\s+(?:visit|hv|call|appt|check|contact|f/u|session|tc|video|vv|tele|zoom|phone|"
    r"home\s+visit|outreach|touch\s*base|dressing\s+change|drsg\s+(?:chg|change)|"
    r"dsg\s+(?:chg|change)|wound\s+(?:check|care|visit)|inr\s+check|sn\s+visit)|call(?:ing)?\s+back|callback|recontact|re-?contact|"
    r"call(?:ing)?\s+(?:again|her|him|them|pt)|try(?:ing)?(?:\s+again)?|retry|re-?attempt|"
    r"will\s+(?:try|call|check|see|f/u|follow|reach|visit|text|email)|reassess|"
    r"(?:i'?ll|i\s+will|will|we'?ll|we\s+will|gonna|going\s+to|plan\s+to|shall)\s+"
    r"(?:\w+\s+)?(?:do|go|ask|msg|message|write|ring|phone|chase|"
    r"call|see|visit|check|bring|swing|stop|drop|head|try|text|email|fax|send|get|be|come)\b|"
    r"remind\s+me|touch\s+base|reach\s+out|due|plan\s+to|plan:|planning\s+to|"
    r"(?:hv|h/v|home\s+visit|visit|tc|call|phone\s+call|video\s+visit|check|talk|speak|"
    r"touch\s+base|connect|text|email)(?=\s+(?:again\s+)?(?:on\s+|next\s+|this\s+)?"
    r"(?:mon|tue|wed|thu|fri|sat|sun|tomorrow|tmrw|tmw|\d{1,2}/\d|in\s+\d|eow|eom|next)))\b",
    _I,
)

TASK_CUE_RE = re.compile(
    r"^\W*(?:remind\s+me|reminder(?:\s+to)?|todo|to\s*do|to-do|tbd|task|"
    r"don'?t\s+forget|dont\s+forget|do\s+not\s+forget|don'?t\s+let\s+me\s+forget|"
    r"dont\s+let\s+me\s+forget|need\s+to|i\s+need\s+to|have\s+to|gotta|got\s+to|must|"
    r"i\s+must(?:\s+remember\s+to)?|(?:i\s+)?(?:should|ought\s+to)|must\s+remember\s+to|"
    r"note\s+to\s+self\s*:?(?=\s*(?:chase|call|fax|send|check|ring|email|follow|book|order|renew|"
    r"post|mail|get|ask|arrange|request|confirm|update))|"
    r"first\s+thing\s+(?:tomorrow|tmrw|mon\w*|tue\w*|wed\w*|thu\w*|fri\w*|in\s+the\s+am)|"
    r"need\s+(?:to\s+get|(?!to\b)[a-z]{2,})|"
    r"(?:pls|please)(?!\s+(?:update|note|fix|change|add|record|log)\b)|plan\s+to|"
    r"i'?m\s+going\s+to|im\s+going\s+to|i'?m\s+gonna|im\s+gonna|"
    r"i'?ll|i\s+will|i\s+shall|will(?=\s+(?:msg|message|call|ring|phone|text|email|fax|ask|"
    r"check|chase|write|send|try|f/u|follow))|will\s+need\s+to|make\s+sure|f/u\s+on|"
    r"follow\s+up\s+on)\b",
    _I,
)
# An imperative at the start of a clause: a plan for herself when a day ahead is named.
IMPERATIVE_RE = re.compile(
    r"^\W*(?:call|phone|ring|text|txt|email|e-mail|fax|send|order|schedule|sched|book|check|"
    r"verify|confirm|request|get|pick\s+up|drop\s+off|mail|arrange|set\s+up|"
    r"complete|finish|submit|ask|recheck|call\s+back|refax|resend|print|sign|chase|"
    r"look\s+into|find\s+out|reach\s+out\s+to|touch\s+base\s+w(?:/|ith)?)\b"
    r"(?!\s+(?:w/|with|to|f/u|fu|follow|call|visit|conversation|convo|sent|done|went|made|"
    r"delivered|received|rcvd|back|returned|answered|ret'd)\b)",
    _I,
)

# -- appointments -------------------------------------------------------------------------------

APPOINTMENT_RE = re.compile(
    r"\b(?:appts?|appointments?|apt(?!\s*(?:#|\d|complex|bldg))|appt\.|scheduled|sched|schd|"
    r"set\s+for|"
    r"booked|set\s+up\s+(?:w/|w|with|for|an?\s)|set\s+(?:him|her|them|pt)\s+up|consult|eval(?:uation)?|"
    r"wants?\s+to\s+see\s+(?:him|her|them|pt)|got\s+(?:him|her|them|pt)\s+in|"
    r"(?<!\bi\s)(?<!\bwe\s)(?<![.!?]\s)(?:can|will|could)\s+see\s+(?:him|her|them|pt)(?!\s+again)|"
    r"(?:they|he|she)(?:'ll|\s+will|\s+can)\s+see\s+(?:him|her|them|pt)(?!\s+again)|"
    r"coming\s+in(?=\s+(?:on\s+)?(?:mon|tue|wed|thu|"
    r"fri|sat|sun|tomorrow|tmrw|\d))|"
    r"hfu|hosp(?:ital)?\s+f/u\s+(?:w/?|with)|"
    r"(?:has|have|got)\s+(?:an?\s+)?(?:appt|appointment)|"
    r"sees|seeing|to\s+see(?=\s+(?:dr|pcp|cardio|endo|ortho|the|his|her|neuro|gi|pulm|derm|"
    r"nephro|onc|uro|ent|podiatry|eye|dentist|surgeon|specialist)\b)|"
    r"f/u\s+(?:w/|with)\s+(?:dr|pcp|cardio\w*|endo\w*|ortho\w*|neuro\w*|gi|pulm\w*|derm\w*|"
    r"nephro\w*|onc\w*|uro\w*|surg\w*|the\s+surgeon|specialist)|"
    r"soc|start\s+of\s+care|hh\s+(?:start|visit|eval|soc|intake|pt|ot|st)|home\s+health\s+(?:start|visit|"
    r"eval|soc|intake)|pt\s+eval|ot\s+eval|st\s+eval|"
    r"colonoscopy|endoscopy|egd|mri|ct(?:\s+scan)?|cat\s+scan|pet\s+scan|x-?ray|xray|"
    r"ultrasound|us\s+(?:of|abd)|echo(?:cardiogram)?|tee|stress\s+test|ekg|ecg|holter|"
    r"labs?|bloodwork|blood\s+work|blood\s+draw|lab\s+draw|inr\s+check|a1c\s+check|"
    r"(?:repeat|recheck|redraw|draw|fasting|stat)\s+(?:bmp|cmp|cbc|inr|a1c|lipids?|k|potassium|"
    r"tsh|bloods?|lytes)|(?:bmp|cmp|cbc|lipids?|tsh|bloods)\s+(?:draw|check|recheck|redraw)|"
    r"dialysis|infusion|chemo(?:therapy)?|radiation|surgery|procedure|biopsy|mammogram|"
    r"mammo|dexa|bone\s+scan|pft|sleep\s+study|cath(?:eterization)?|angiogram|"
    r"pre-?op|post-?op(?:\s+visit)?|wound\s+clinic|wound\s+care\s+(?:appt|visit)|"
    r"injection|shot|vaccine|flu\s+shot|dentist|dental|eye\s+exam|optometr\w*|"
    r"hearing\s+test|audiology|pt\s+session|physical\s+therapy|therapy\s+session|"
    r"annual\s+(?:wellness|physical|visit)|awv|physical|intake(?=\s+(?:\w+\s+)?(?:mon|tue|wed|thu|"
    r"fri|sat|sun|tmrw|tomorrow|\d))|come\s+in(?=\s+(?:\w+\s+)?(?:mon|tue|wed|thu|fri|sat|sun|"
    r"tmrw|tomorrow|today|\d|at))|bring\s+(?:her|him|them)\s+in|(?:coordinator|intake|screening|"
    r"consult|transplant|eval)\s+call(?=\s+(?:\w+\s+)?(?:mon|tue|wed|thu|fri|\d))|"
    r"starts?\s+(?:hd|dialysis|chemo|infusions?|treatment|iop|pt|ot|rehab|radiation)|"
    r"(?:clinic|dr|doctor|pcp|cardio\w*|nephro\w*|onc\w*)\s+(?:to|will|can)\s+(?:look\s+at|see|check)|"
    r"eye\s+(?:doctor|dr|clinic)|bloods)\b",
    _I,
)
APPOINTMENT_REMINDER_RE = re.compile(
    r"\b(?:appts?|appointments?)\s+(?:reminders?|list|card|cards|info|schedule|times?|letter|"
    r"calendar|sheet)\b",
    _I,
)
APPOINTMENT_OBJECT_RE = re.compile(
    r"\s*(?:referral|order|orders|auth|authorization|results?|report|req|requisition|reminders?|"
    r"resumed|restarted|started|stopped|held|approved|denied|back|came\s+back|"
    r"paperwork|forms?|script|rx|done|completed?|finished|went\s+(?:well|ok|fine))\b",
    _I,
)
"""After an appointment word: its paperwork or result, not a booking ("sleep study referral")."""
STRONG_APPOINTMENT_RE = re.compile(
    r"\b(?:appts?|appointments?|apt|scheduled|sched|schd|booked|set\s+up|set\s+for|consult|"
    r"sees|seeing|to\s+see|soc|start\s+of\s+care|starting|starts|got\s+(?:him|her|them|pt)\s+in|"
    r"(?<!\bi\s)(?<!\bwe\s)(?<![.!?]\s)(?:can|will|could)\s+see(?!\s+(?:him|her|them|pt)\s+again)|"
    r"coming\s+in|"
    r"hfu)\b",
    _I,
)

SPECIALTY_RE = re.compile(
    r"\b(?P<s>cardiology|cardiologist|cardio|endocrinology|endocrinologist|endo|orthopedics|"
    r"orthopedic|ortho|podiatry|podiatrist|dermatology|derm|nephrology|nephro|neurology|neuro|"
    r"pulmonology|pulmonologist|pulm|oncology|oncologist|onc|gi|urology|uro|ent|ophthalmology|"
    r"ophtho|eye\s+doctor|eye\s+dr|dentist|dental|pcp|pt\s+eval|ot\s+eval|rheumatology|rheum|"
    r"hematology|cards|cardiac\s+rehab|pulmonary\s+rehab|cxr|coumadin\s+clinic|anticoag\w*|"
    r"hh\s+(?:pt|ot|st|rn|aide|nurse)|pt/ot|"
    r"heme|psychiatry|psych|wound\s+care|wound\s+clinic|vascular|surgery|surgeon|labs?|imaging|"
    r"mri|ct\s+scan|ct|x-?ray|echo|dialysis|infusion|ob/?gyn|allergy|audiology|nutrition|"
    r"dietitian|colonoscopy|endoscopy|egd|stress\s+test|mammogram|dexa|chemo|radiation|"
    r"biopsy|cath|pre-?op|post-?op|ekg|ultrasound|bloodwork|blood\s+work|physical\s+therapy|"
    r"hh\s+soc|soc|start\s+of\s+care|home\s+health|sleep\s+study|pft|"
    r"annual\s+wellness|awv|physical)\b",
    _I,
)

# A visit with her doctor or a specialist: "pcp f/u 12/22 @ 11" is an appointment.
PROVIDER_VISIT_RE = re.compile(
    r"\b(?:pcp|dr\.?\s+\w+|doctor|cardio\w*|cards|endo\w*|ortho\w*|neuro\w*|nephro\w*|"
    r"pulm\w*|onc\w*|gi|uro\w*|surg\w*|specialist|podiatr\w*|derm\w*)\b",
    _I,
)
# A service booked at a day and time: "coumadin clinic tues 830" is an appointment.
SERVICE_RE = re.compile(
    r"\b(?:clinic|dr|doctor|check|test|scan|therapy|rehab|intake|fitting|exam|session|procedure|"
    r"lab|labs|draw|infusion|dialysis|xray|x-ray|cxr|ekg|echo|mri|ct|pt|ot|hh|soc|vac\s+change|"
    r"dressing\s+change|"
    r"f2f|appt|consult|eval|program|class|group|vaccine|shot|injection|screening|"
    r"mammo\w*|colonoscopy|dentist|dental|eye|hearing|optometr\w*|podiatr\w*|wound)\b",
    _I,
)
# A delivery window ("O2 delivery set for mon 9-12") is not an appointment.
DELIVERY_RE = re.compile(r"\b(?:deliver(?:y|ed|ies)?|shipment|ship|pick\s*up|pickup)\b", _I)


# -- transitions of care ------------------------------------------------------------------------

DISCHARGE_RE = re.compile(
    r"\b(?:discharged|dischrgd|d/c'?e?d|dc'?e?d|d/ced|d/c|dc|dischg|disch|discharge|"
    r"released\s+from|released\s+home|sent\s+home|came\s+home|went\s+home|got\s+home|"
    r"home\s+from(?:\s+the)?\s+(?:hosp\w*|er|ed|snf|rehab|ltac|ltach|icu|mercy|st\.?|"
    r"[A-Z]\w+)|back\s+home|home\s+(?:now\s+)?(?:after|s/p)|got\s+out\s+of|left\s+(?:the\s+)?"
    r"(?:hosp\w*|snf|rehab)|out\s+of\s+(?:the\s+)?(?:hosp\w*|snf|rehab)|home\s+today\s+from|"
    r"transitioned\s+home|dc\s+home|discharged\s+home|home\s+(?:as\s+of|since)|"
    r"(?:got|getting|arrived|made\s+it)\s+home|now\s+home\s+(?:from|after)|"
    r"released\s+(?:\w+\s+){0,3}?(?:to|home)|back\s+(?:home\s+)?from\s+(?:the\s+)?(?:rehab|snf|"
    r"hosp\w*|facility|detox|ltac|ltach|inpt|inpatient|icu)|left\s+ama|ama\s+(?:from|d/c|dc|"
    r"discharge)|signed\s+(?:herself|himself|themselves)\s+out|finished\s+(?:detox|rehab|inpt|"
    r"inpatient)|returned\s+home|(?:sprung|out)\s+from\s+(?:the\s+)?(?:snf|rehab|hosp\w*|facility|"
    r"detox|icu|ltac|ltach|ward|unit))\b",
    _I,
)
DISCHARGE_NOT_RE = re.compile(
    r"\b(?:d/c|dc|discharge)\s+(?:f/u|fu|follow[\s-]?up|appts?|appointment|visit|call|"
    r"planner|coordinator|nurse|date\s+(?:is|set|tbd|pending))\b|"
    r"\b(?:d/c|dc|discharge|discharged)\s+(?:instructions?|planning|plan|summary|summaries|papers|"
    r"paperwork|meds?|orders?|date|criteria|teaching|education|list|med\s+list|rx|rxs|"
    r"from\s+(?:the\s+)?program|"
    r"from\s+(?:case\s+management|cm|services|hh|home\s+health|pt|ot))\b|"
    r"\b(?:d/c'?e?d|dc'?e?d|discharged)\s+(?:[a-z]+\s+){1,2}from\s+(?:the\s+)?(?:case\s+management|cm|"
    r"hh|home\s+health|pt|ot|program|services)\b|"
    r"\b(?:d/c'?e?d|dc'?e?d|d/c|dc|discontinued?|stopped)\s+(?:her|his|the|old|that)?\s*"
    r"(?:lasix|meds?|rx|prescription|order|"
    r"medication|\w+(?:pril|olol|sartan|statin|ide|mab|pine|zole|cillin|mycin|floxacin|one|"
    r"formin|gliptin|azepam|oxetine))\b|"
    r"\bplan(?:ned|ning)?\s+(?:to\s+)?(?:d/c|dc|discharge)|"
    r"\b(?:post|s/p|after|since|following|prior\s+to|before)[\s-]*(?:d/c|dc|discharge)\b|"
    r"\b(?:possible|possibly|expected|expect|pending|anticipated?|likely|maybe|tentative)\s+"
    r"(?:d/c|dc|discharge)|\b(?:d/c|dc|discharge)\s+(?:pending|tomorrow|tmrw|planned|expected)",
    _I,
)
DISCHARGE_STRONG_RE = re.compile(
    r"\b(?:discharged|d/c'?e?d|dc'?e?d|d/ced|released\s+from|home\s+from|back\s+home|"
    r"got\s+out\s+of|sent\s+home)\b",
    _I,
)
ADMISSION_RE = re.compile(
    r"\b(?:admitted|admit(?:ted)?\s+(?:to|at|for)|readmitted|re-?admitted|"
    r"readmit(?!\s*(?:risk|score|rate|prev\w*|precautions?|hx|history)\b)|"
    r"hospitalized|hospitalised|inpatient|inpt|in-pt|in\s+(?:the\s+)?hosp(?:ital)?|in\s+icu|"
    r"back\s+in\s+(?:the\s+)?(?:hosp\w*|mercy|[A-Z]\w+)|got\s+admitted|was\s+admitted|"
    r"is\s+admitted|admission\s+(?:to|at|for)|adm(?=\s+(?:\d|to|at|on|yest|today|last))|"
    r"(?:taken|brought|went|admitted)\s+(?:in\s+)?to\s+(?:the\s+)?hospital|"
    r"(?:remains|still)\s+(?:on|in)\s+(?:the\s+)?(?:\w+\s+)?(?:ward|unit|icu|hospital)|"
    r"(?:they'?re|they\s+are|they'?ll\s+be|are)\s+keeping\s+(?:her|him|them))\b",
    _I,
)
ED_VISIT_RE = re.compile(
    r"\b(?:(?:went|gone|going|go|was|is|been|taken|brought|ended\s+up|sent|transported|attended|"
    r"ambulance|ems|visit(?:ed)?|seen|presented|back)\s+(?:in\s+|to\s+|at\s+)?(?:the\s+)?"
    r"(?:ed|er|e\.r\.|emergency(?:\s+(?:room|dept|department))?)|"
    r"(?:in|at|to)\s+(?:the\s+)?(?:[A-Z][\w']+\s+)?(?:ed|er|e\.r\.|emergency\s+(?:room|dept|department))|"
    r"(?:ed|er)\s+(?:visit|trip|yest\w*|last\s+night|over\s+the\s+weekend|sat\w*|sun\w*|"
    r"\d{1,2}/\d{1,2}|mon\w*|tue\w*|wed\w*|thu\w*|fri\w*|"
    r"for|w/|with|on)|emergency\s+(?:room|dept|department)\s+visit|urgent\s+ed)\b",
    _I,
)
# A hospital event said not to have happened: "didn't go to the ER", "no ED visit",
# "refused to go in", "avoided admission", "not admitted". Matched against the words just
# before (and including) the event.
EVENT_DENIED_RE = re.compile(
    r"\b(?:didn'?t|did\s+not|didnt|doesn'?t|does\s+not|wasn'?t|was\s+not|isn'?t|is\s+not|"
    r"not|no|never|refused|refuses|declined|declines|avoided|avoid|w/o|without|"
    r"kept\s+(?:her|him|them)\s+out\s+of|stayed\s+out\s+of)\b(?:\s+[\w'/]+){0,3}\s*$",
    _I,
)
ED_ADVICE_RE = re.compile(
    r"\b(?:advised|advise|told|instructed|recommended|recommend|encouraged|urged|suggested|"
    r"go\s+to\s+(?:the\s+)?(?:ed|er)\s+if|to\s+(?:the\s+)?(?:ed|er)\s+if|if\s+\w+\s+(?:ed|er)|"
    r"call\s+911|s/sx|signs)\b",
    _I,
)
REFERRAL_RE = re.compile(
    r"\b(?:referred(?!\s+(?:by|from|over\s+from|in))|referring|refer(?=\s+(?:to|her|him|pt))|ref'?d\s+to|"
    r"(?:sent|placed|made|faxed|submitted|put\s+in)\s+(?:a\s+|an\s+|the\s+)?(?:\w+\s+){0,2}?"
    r"referral(?!\s+from)|"
    r"referral\s+(?:to|for|sent|placed|made|faxed|submitted))\b",
    _I,
)
GOAL_RE = re.compile(r"\b(?:care\s+plan\s+)?goals?\b(?!\s+(?:of|was)\s+care)", _I)
MED_REC_RE = re.compile(
    r"\b(?:med(?:ication)?s?\s*rec(?:onciliation|onciled|'?d)?|medrec|mr\s+done|mrp|"
    r"reconcil(?:ed|iation|e|ing)|rec'?d\s+meds|meds?\s+(?:reviewed|reconciled|rec'?d|gone\s+over)|"
    r"went\s+(?:over|thru|through)\s+(?:all\s+)?"
    r"(?:her|his|their)?\s*meds|med\s+review|reviewed\s+(?:all\s+)?(?:her|his|their)?\s*meds)\b",
    _I,
)

# -- notes and vitals ---------------------------------------------------------------------------

NOTE_CUE_RE = re.compile(
    r"^\W*(?:note|notes|nb|n\.b\.|fyi|f\.y\.i\.|update|info|heads\s+up|just\s+fyi|memo|"
    r"add\s+(?:a\s+)?note|note\s+to\s+self)\b\s*(?:for|on|re|about|:|-)?",
    _I,
)
NOTE_ANYWHERE_RE = re.compile(
    r"\b(?:note\s+(?:for|on|re|about)|fyi|pls\s+note|please\s+note)\b|"
    r"\b(?:called|sent|faxed|e-?prescribed)\s+in\s+" + _TO_A_PHARMACY,
    _I,
)
NOTE_STATE_RE = re.compile(
    r"\b(?:prefers|wants\s+(?:calls|texts|a\s+call|phone\s+calls|us\s+to\s+call)|landline|"
    r"(?:asked|asks|requested|requests)\s+(?:that\s+)?(?:we|us|me|you)\s+(?:to\s+)?(?:call|phone|"
    r"telephone|ring|text)|in\s+(?:the\s+)?future|going\s+forward|from\s+now\s+on|"
    r"best\s+(?:time|#|number)|moved\s+(?:in\s+)?(?:w/|with|to)|lives\s+(?:w/|with|alone)|"
    r"now\s+(?:lives|has|uses|on)|new\s+(?:phone|number|address|caregiver|cg)|phone\s+#|"
    r"is\s+(?:the\s+)?(?:caregiver|cg|poa)|daughter\s+is|son\s+is|wife\s+is|husband\s+is|"
    r"allergic|allergy\s+to|code\s+status|dnr|full\s+code|hospice|passed\s+away|expired|"
    r"deceased|died|gate\s+code|door\s+code|lock\s*box|key\s+(?:is\s+)?under|"
    r"doesn'?t\s+want|doesnt\s+want|does\s+not\s+want|no\s+calls|do\s+not\s+call|dnc|"
    r"(?:using|uses)\s+(?:a\s+)?(?:walker|cane|wheelchair|rollator|o2|oxygen)|fall\s+risk|"
    r"now\s+(?:the\s+|her\s+|his\s+)?(?:poa|caregiver|cg|guardian|dpoa)|approved|denied|"
    r"needs?\s+(?:an?\s+)?(?:interpreter|translator)|interpreter|speaks\s+only|"
    r"pharmacy\s+is|pcp\s+is|insurance\s+is|best\s+(?:time|number)|cell\s+(?:#|is|number)|"
    r"(?:a1c|hba1c|inr|bnp|k|potassium|hgb|hemoglobin|cr|creatinine|egfr|gfr|ldl|tsh|wbc|plt|"
    r"na|sodium|mag|albumin)\s*(?:was|is|of|=|:)?\s*\d)\b",
    _I,
)

# -- cancelling, moving, correcting, taking back ------------------------------------------------

CANCEL_RE = re.compile(
    r"\b(?:cancel(?:l?ed|l?ing|s)?|cxl(?:d|ed)?|cx(?:'?d|ed)|canx|call(?:ed)?\s+off|"
    r"(?:scratch|delete|drop|remove)\s+(?:the|my|that)\s+(?:reminder|task|f/u|follow[- ]?up|appt)|"
    r"no\s+longer\s+(?:needs|need|has|going)|not\s+going\s+to\s+(?:the|her|his)|"
    r"won'?t\s+(?:be\s+)?(?:going|attending|make\s+it))\b",
    _I,
)
_WHEN_AHEAD = (
    r"(?=\s*(?:\d|mon|tue|wed|thu|fri|sat|sun|tomorrow|tmrw|tmw|next|noon|the\s+\d|"
    r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))"
)
MOVED_TO = (
    r"\b(?:change|move|switch|push|bump)\s+(?:[\w']+\s+){1,4}?to\b"
    + _WHEN_AHEAD
    + r"|\s->"
    + _WHEN_AHEAD
)
"""'change Gloria's echo to 3:30', 'Brown ophtho -> 1/21 @ 1:15'."""
RESCHEDULE_RE = re.compile(
    r"\b(?:resched(?:uled?|uling|ed|d)?|re-?sched\w*|rescheduled|moved?|moving|push(?:ed)?\s+"
    r"(?:back|out|to)|bump(?:ed)?\s+(?:to|up|back)|changed?\s+(?:\w+'?s?\s+){0,3}?"
    r"(?:appt|appointment|visit|time|date|f/u|follow[- ]?up)|now\s+(?:on|at|is)|"
    r"new\s+(?:time|date)|instead)\b|" + MOVED_TO,
    _I,
)
CORRECTION_RE = re.compile(
    r"^\W*(?:actually|correction|correct(?:ion)?:|i\s+meant|meant|sorry|oops|whoops|typo|"
    r"wait|no\s+wait|no,|edit|make\s+(?:it|that)|change\s+(?:it|that)|should\s+(?:be|have\s+been|say)|"
    r"it\s+was|that\s+was|its|it'?s\s+(?=\w+\s*$)|fix|wrong\s+(?:date|day|time|dt)|"
    r"not\s+\w+,?\s+(?:i\s+)?meant)\b|^\s*\*(?=\w)|^(?=[^*\n]{2,40}\*\s*(?:\([^)]*\))?\s*$)|"
    r"^\W*not\s+[\w/:.]+\s*(?:[-,;:]+|i\s+meant|it'?s|its|but)\s*[\w/:.]+(?:\s*[ap]m?)?\W*$|"
    r"^\W*not\s+(?:\d{1,2}[/:.]\d{1,2}|\d{1,2}\s*(?:am|pm|a|p)?|mon|tues?|wed|thu|thurs|fri|sat|"
    r"sun|tmrw|tomorrow|today)\w*\W*$",
    _I,
)
CORRECTION_TAIL_RE = re.compile(
    r"\b\d+\s*(?:wks?|weeks?|days?|mos?|months?)\s+not\s+\d+\b|\b(?:\d{1,2}(?::\d\d)?\s*(?:am|pm|a|p)?|mon|tue|tues|wed|weds|thu|thurs|fri|sat|sun|"
    r"\d{1,2}/\d{1,2})\s*,?\s+not\s+(?:\d{1,2}(?::\d\d)?\s*(?:am|pm|a|p)?|mon|tue|tues|wed|weds|"
    r"thu|thurs|fri|sat|sun|\d{1,2}/\d{1,2})\b",
    _I,
)
"""A value written against the wrong one: "3pm not 2", "fri not thurs"."""
UNDO_RE = re.compile(
    r"^\W*(?:(?:pls|please)\s+)?(?:(?:(?:nvm|never\s*mind|no\s+wait|wait|oops)\W*)?"
    r"(?:don'?t|dont|do\s+not)\s+(?:cancel|delete|change|move|resched\w*)\s+(?:it|that|them|"
    r"the\s+\w+)|undo|undo\s+(?:that|last|the\s+last(?:\s+one)?)|"
    r"scratch\s+(?:that|last|the\s+last)|"
    r"delete\s+(?:that|last|the\s+last(?:\s+(?:one|entry|note|record))?|it|my\s+last)|"
    r"delete\s+that\s+one|take\s+back\s+(?:that|the|my)\s+(?:last\s+)?\w*|"
    r"(?:nvm|never\s*mind)\W*(?:cancel|delete|undo|scratch)\s+(?:that|it)|"
    r"(?:oops|whoops|sorry)\W*(?:that\s+was\s+)?(?:the\s+)?wrong\s+(?:pt|patient|person)\W*"
    r"(?:delete|undo|scratch|remove)\s+(?:it|that)|"
    r"never\s*mind|nvm|disregard(?:\s+(?:that|last|the\s+last|my\s+last))?|"
    r"ignore\s+(?:that|last|the\s+last|my\s+last)|remove\s+(?:that|last|the\s+last)|"
    r"take\s+(?:that|it)\s+back|didn'?t\s+mean\s+to|cancel\s+(?:that|last|the\s+last"
    r"(?:\s+(?:one|entry))?|my\s+last)|wrong\s+(?:pt|patient|person)|"
    r"(?:oops|whoops|sorry)\W*(?:wrong\s+(?:pt|patient|person)|delete|undo|scratch|ignore)|"
    r"(?:i\s+)?(?:made|entered|logged)\s+(?:an?\s+)?(?:error|mistake)\s+(?:in|on)\s+(?:my|the)\s+"
    r"last\s+(?:entry|one|note|record|message)\W*(?:(?:pls|please)\s+)?"
    r"(?:delete|remove|undo|scratch)\s+(?:it|that))\b",
    _I,
)

# -- a new patient on her caseload -----------------------------------------------------------------

# The message adds a patient: "new pt Gloria Diaz MRN 44821 ..."; ``rest`` is the rest.
NEW_PATIENT_RE = re.compile(
    r"^\W*(?:(?:new|add(?:ing|ed)?|enroll?(?:ed)?|admit|got\s+a\s+new|new\s+referral[,:]?)"
    r"\s+(?:new\s+|a\s+)?(?:patient|pt|client|member|mbr|case)\b"
    r"(?:\s+(?:assigned|added|referred|transferred|today|to\s+(?:me|my\s+\w+)))?"
    r"(?:\s+(?:from|via|per)\s+[\w'/ ]{1,25}?(?=\s*(?:[:,]|\s-)))?|"
    r"new\s+to\s+(?:my\s+)?(?:caseload|list|panel)|new\s+(?:admission|intake)(?=\s*[:,-])|"
    r"new\s+referral(?:\s+from\s+[\w' ]{2,30}?)?(?=\s*[:,-]))"
    r"[\s:,-]*(?P<rest>.*)$",
    _I | re.DOTALL,
)


# -- greetings and filler in front of a real message -------------------------------------------

LEADING_FILLER_RE = re.compile(
    r"^\W*(?:(?:good\s+)?(?:morning|mornin|afternoon|evening)|gm|hi|hey|hello|yo|ok(?:ay)?|"
    r"k|so|um+|uh+|ugh+|argh+|hmm+|alright|all\s+right|quick\s+(?:q|question|one)|q|question|"
    r"also|and|btw|one\s+more|another\s+one|last\s+one|oh|ah|well|sorry|hey\s+bot|bot|casebot|"
    r"lol|omg|:\)|:-\)|:d|\d\s+things?|two\s+things?|couple\s+(?:of\s+)?things?|"
    r"(?:am|pm)(?=\s*[-:.])|(?:real|quick)\s+q(?:uestion)?|"
    r"before\s+i\s+(?:log\s+off|leave|go|head\s+out|sign\s+off|forget)|(?:hey\s+)?assistant)"
    r"\b[\s,.!:;-]*",
    _I,
)

# -- words the parser knows (nothing to doubt) --------------------------------------------------

KNOWN_WORDS = words(
    """
    a an and or but the of to for from with without w in on at by as is was be been are am he
    she him her his hers they them their i me my we us our you your it its this that these those
    who whom what when where which why how not no yes ok okay hi hello hey thanks thank please
    will would can could should may might must shall did do does done had has have get got go
    went going come came said says say tell told ask asked also too just still again then now
    very much more less some any all both each other another about after before during until
    over under up down out off into onto than there here
    pt pts patient patients re cc co f u fu d dc md rn np pa cg poa hh snf ed er icu ltac
    call called calls calling phone phoned spoke talked texted text txt email emailed left
    message msg voicemail vm lvm lm lmom lmtcb hv visit visited seen saw clinic home tele
    video appt appts appointment appointments discharged discharge admitted med meds rec
    today tomorrow tmrw yesterday tonight morning afternoon evening am pm week weeks wk wks
    month months day days hr hrs next last new high low medium moderate risk mon tue wed thu
    fri sat sun mrn dob tcm f2f sob cp chf copd dm htn ckd afib mi uti cva pna dvt pe esrd
    bp hr bg cbg fsbs wt temp spo2 o2 sats rr pain lbs lb kg labs lab a1c inr bmp cbc
    insulin lasix dose refill refills pharmacy rx prescription order orders fax faxed
    son daughter wife husband caregiver family doctor dr pcp nurse provider insurance
    well better worse stable fine good ok doing feeling states reports denies c o s p
    x2 x3 x1 na n a utr busy tried attempt attempts unable reach reached answer
    resched sched schd reschd rescheduled appt appts f/u fu recheck reeval reassess refax
    rechecked refilled refill readmit readmitted readmission recert recerts
    re: w/ w/o s/p c/o h/o r/o d/c t/c l/m f/u b/p
    """
)

MEDICAL_SHORTHAND = words(
    """
    sob chf copd dm htn ckd esrd cad pna dvt pe afib mi cva tia uti bph gerd oa ra ms als cp ha
    dsg dtr dtrs los tkr thr hss cm dme pcp hfu cysto pt ot
    nv abd gu ua bm doe pnd jvd loc si hi phq gad mmse moca sw cm rn lpn cna md do np pa pcp pt ot
    st slp rd hha msw poa dpoa dnr polst molst cms tcm mrp trc hedis ltc alf ilf snf ltach irf
    icu pcu or pacu ed er uc eod eow eom asap stat fyi eta asa apap ntg hctz ace arb sglt glp
    doac nsaid ppi ssri mdi hfa cgm poc fsbs cbg bg bs wt ht bmi temp rr hr bp sbp dbp map lbs
    kg ok utr na lvm lm lmom lmtcb nkda adl adls iadl prn bid tid qid qd po iv im sq otc rx tx
    dx hx sx fx pmh ros vs wnl nad aao aox le ue ble rle lle rom wc fww spo ra nc lpm bipap cpap
    abx wbc hgb bmp cmp cbc inr ldl tsh ekg ecg echo ef nyha hh dme mri ct gi ent obgyn ob gyn
    hv vv tele cc mg mcg ml dr mr mrs ms pm am hrs hr wks wk mos yr yrs min mins ur uro pft
    ckd meds med rx labs lab vm msg txt sms pls thx ty np fu btw imo tbd nv dc ok re w s p c o
    """
)
"""Clinical shorthand: never asked about as an unknown word where a contact's outcome is
decided."""

MEDICATION_OR_DOSE = re.compile(
    r"(?:\d|mg|mcg|ml|units?|tabs?|caps?|bid|tid|qid|qd|qhs|qam|qpm|prn|daily|hs|po|iv|im|sc|"
    r"subq|sq|pril|olol|sartan|statin|formin|zole|pine|cillin|mycin|floxacin|azepam|oxetine|"
    r"gliptin|gliflozin|glutide|parin|xaban|gatran)",
    _I,
)
"""Never learned as her shorthand: medication, dose and frequency words."""

DO_NOT_USE = words(
    """
    u iu qd q.d. qod q.o.d. ms mso4 mgso4 ms04 mgs04 cc ug µg hs tiw dc d/c ss sc sq ad as au
    od os ou bt hhs ihs
    """
)
"""The Joint Commission "Do Not Use" list and ISMP error-prone abbreviations: never learned."""

CORRECTABLE = words(
    """
    tomorrow appointment appointments discharged discharge voicemail message answer answered
    yesterday today follow reached unable attempted attempt called calling visited visit
    admitted admission readmitted emergency hospital hospitalized reconciliation reconciled
    medication medications cardiology endocrinology orthopedics neurology nephrology
    pulmonology oncology podiatry dermatology referral referred scheduled reschedule
    rescheduled cancel cancelled canceled monday tuesday wednesday thursday friday saturday
    sunday january february march april august september october november december
    morning afternoon evening tonight weekend caregiver daughter husband spoke talked texted
    emailed phoned colonoscopy ultrasound surgery procedure infusion dialysis telehealth
    remind reminder schedule discussed returned disconnected unreachable overdue caseload
    appt
    """
)
"""Key words a misspelling is corrected towards ("tommorow" -> "tomorrow")."""
