"""Fixed replies: refusals, help, apologies. Pure text, HTML-safe.

Must not import telegram or storage.
"""

from __future__ import annotations

from bot.render import labels
from bot.render.text import esc

REFUSAL = (
    "Sorry, this is a private assistant for enrolled nurse case managers, so I can't help "
    "here. If you should have access, ask your team's admin for an invite link."
)
INVITE_INVALID = (
    "Sorry, that invite link is not valid any more (it may have been used or have expired). "
    "Ask your team's admin for a new one."
)
GROUP_REFUSAL = "I only work in private chats with enrolled nurses, so I'm leaving this group."
ERROR_APOLOGY = (
    "Sorry, something went wrong on my side and I could not finish that. "
    "Nothing from that message was saved. Please try again."
)
SAVED_BUT_REPLY_FAILED = (
    "Your message <b>was saved</b>, but I could not show the summary because of a hiccup on "
    "my side. /patient NAME shows it; there is no need to send it again."
)
DB_UNAVAILABLE = (
    "I can't reach the records right now, so that was <b>NOT saved</b>. "
    "Please send it again in a minute."
)
CANCELLED = "Cancelled. Nothing was changed."
NOTHING_TO_CANCEL = "Nothing to cancel."
UNKNOWN_COMMAND = "I don't know that command. /help lists what I understand, with examples."
BUTTON_GONE = "That button no longer works. Nothing was changed."
OTHER_KIND = (
    "I can only read text and voice notes, so nothing was saved from that. Please type it "
    "(or send a voice note), e.g. <i>called John Smith re meds, f/u Fri</i>. /help lists what "
    "I understand."
)

HELP = """<b>What I understand</b>

<b>Log in one message</b>, in your own words:
• <i>Called Maria Lopez re insulin, f/u Fri</i>
• <i>LVM for John Smith, try again tomorrow</i>
• <i>Robert King cardiology appt Dec 3 10:30am</i>
• <i>John Smith d/c from Mercy today</i>
• <i>med rec done for Dorothy Chen, 1 discrepancy</i>
• <i>new patient Ana Ruiz MRN 12345 high risk CHF</i>
• <i>goal for Maria: A1c under 8 by March</i> · <i>referred Robert King to cardiology</i>
• or say it in a voice note: I show what I heard, and save it when you tap <b>Save</b>

<b>Ask</b>: <i>who do I need to call</i> · <i>anything for tmrw</i> · <i>show Maria</i>

<b>Commands</b>
/caseload · /today · /tomorrow · /overdue · /week · /calls – your lists
/patient name – a patient's card · /newpatient – add one
/contact /appt /discharge /medrec /note – log step by step
/reminders – upcoming reminders; /done N, /snooze N
/plan name – care plan · /referrals · /resources transport
/stats – charts · /export – CSV and calendar · /team – for supervisors
/settings – time zone, morning digest time, how pushes name patients
/pin 1234 – set your PIN (asked after idle time, if your organisation turned that on)
/cancel – leave whatever we're doing
/help – this list"""


def welcome(name: str, role: str) -> str:
    return (
        f"Welcome, {esc(name)}! You're enrolled as {labels.inline_label(labels.ROLE, role)}.\n\n"
        "Two quick settings first. <b>Which time zone do you work in?</b> "
        "Tap one, or type a city (e.g. <i>Denver</i>)."
    )
