"""Care plans, referrals and community resources as message text, plus button labels.

Pure: no telegram, no storage. Every piece of nurse or patient text is html-escaped; every
message fits 4,096 characters (long lists are cut with a count).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.render import labels
from bot.render.labels import inline_label, label
from bot.render.text import clip, day_label, esc, fit, when_label
from bot.vocab import GoalStatus, ReferralStatus

MET = labels.GOAL_STATUS[GoalStatus.MET]
NOT_MET = labels.GOAL_STATUS[GoalStatus.NOT_MET]
DISCONTINUE = "Discontinue"  # the action; the status it sets reads "discontinued"
SCHEDULED = labels.REFERRAL_STATUS[ReferralStatus.SCHEDULED]
COMPLETED = labels.REFERRAL_STATUS[ReferralStatus.COMPLETED]
DECLINED = labels.REFERRAL_STATUS[ReferralStatus.DECLINED]
ADD_RESOURCE = "Add a resource"
ADD_INTERVENTION = "Add intervention"
ADD_NOTE = "Add progress note"
ASK_INTERVENTION = "What is the intervention for this goal? (e.g. “diabetes teaching weekly”)"
ASK_NOTE = "Type the progress note."
SKIP = "/skip"


@dataclass(frozen=True)
class GoalLine:
    """A goal as the patient card shows it."""

    text: str
    target_on: date | None


@dataclass(frozen=True)
class ReferralLine:
    """An open referral as the patient card shows it."""

    to_whom: str
    sent_on: date
    status: str


def day(value: date) -> str:
    """'Wed 31 Mar 2027' (weekday and year: goals are months away)."""
    return day_label(value, with_year=True)


def _goal_status(status: str) -> str:
    """A goal's status in a sentence; a met goal gets a tick."""
    text = inline_label(labels.GOAL_STATUS, status)
    return f"{text} ✔" if status == GoalStatus.MET else text


def _referral_status(status: str) -> str:
    return inline_label(labels.REFERRAL_STATUS, status)


def _target(target: date | None, today: date, active: bool) -> str:
    if target is None:
        return ""
    late = " <b>past target</b>" if active and target < today else ""
    return f" — by {day(target)}{late}"


# -- goals and the plan -------------------------------------------------------------------------


def goal_saved(name: str, text: str, target: date | None, today: date, zone: ZoneInfo) -> str:
    line = f"Saved ✔ Goal for <b>{esc(name)}</b>: {esc(clip(text, 300))}"
    if target is not None:
        line += f"\nTarget: {day(target)} ({esc(zone.key)})"
    else:
        line += "\nNo target date (add one with e.g. “goal for Maria: … by March”)."
    return line


def goal_closed(name: str, text: str, status: str, outcome: str) -> str:
    line = f"Saved ✔ <b>{esc(name)}</b> goal {_goal_status(status)}: "
    line += esc(clip(text, 200))
    if outcome:
        line += f"\nOutcome: {esc(clip(outcome, 500))}"
    return line


def intervention_saved(name: str, text: str) -> str:
    return f"Saved ✔ Intervention for <b>{esc(name)}</b>: {esc(clip(text, 300))}"


def note_saved(name: str) -> str:
    return f"Saved ✔ Progress note on <b>{esc(name)}</b>'s care plan."


def which_goal(name: str) -> str:
    return f"Which of <b>{esc(name)}</b>'s goals?"


def ask_outcome(label: str) -> str:
    return f"Goal → {esc(label)}. What was the outcome? Type it, or {SKIP}."


def goal_button(text: str) -> str:
    return clip(text, 40)


def render_plan(
    *,
    name: str,
    goals: Sequence[tuple[str, date | None, str, str, Sequence[str]]],
    notes: Sequence[tuple[datetime, str]],
    referrals: Sequence[tuple[str, date, str]],
    given: Sequence[tuple[datetime, str]],
    zone: ZoneInfo,
    today: date,
) -> str:
    """/plan: goals (text, target, status, outcome, interventions), then notes, referrals,
    resources given."""
    lines = [f"📋 <b>Care plan — {esc(clip(name, 120))}</b>"]
    if not goals:
        lines.append("No goals yet. Add one: “goal for … : A1c under 8 by March”.")
    for i, (text, target, status, outcome, interventions) in enumerate(goals, 1):
        active = status == "active"
        line = f"{i}. {esc(clip(text, 200))}{_target(target, today, active)}"
        if not active:
            line += f" — <i>{_goal_status(status)}</i>"
            if outcome:
                line += f": {esc(clip(outcome, 200))}"
        lines.append(line)
        lines.extend(f"   ↳ {esc(clip(item, 200))}" for item in interventions)
    if notes:
        lines.append("\n<b>Progress notes</b>")
        for at, text in notes:
            lines.append(f"• {when_label(at, zone, has_time=False)}: {esc(clip(text, 200))}")
    if referrals:
        lines.append("\n<b>Open referrals</b>")
        for to_whom, sent_on, status in referrals:
            lines.append(
                f"• {esc(clip(to_whom, 80))} — {_referral_status(status)}, sent {day(sent_on)}"
            )
    if given:
        lines.append("\n<b>Resources given</b>")
        for at, text in given:
            lines.append(f"• {when_label(at, zone, has_time=False)}: {esc(clip(text, 120))}")
    lines.append(f"\n<i>Dates in {esc(zone.key)}.</i>")
    return fit("\n".join(lines))


def card_lines(
    goals: Sequence[GoalLine], referrals: Sequence[ReferralLine], today: date
) -> list[str]:
    """The patient card's goals and open referrals (empty when there are none)."""
    lines: list[str] = []
    if goals:
        lines.append(f"<b>Goals</b> ({len(goals)} active)")
        lines.extend(
            f"• {esc(clip(g.text, 80))}{_target(g.target_on, today, True)}" for g in goals[:5]
        )
        if len(goals) > 5:
            lines.append(f"… and {len(goals) - 5} more (/plan)")
    if referrals:
        lines.append(f"<b>Open referrals</b> ({len(referrals)})")
        lines.extend(
            f"• {esc(clip(r.to_whom, 60))} — {_referral_status(r.status)}, sent {day(r.sent_on)}"
            for r in referrals[:5]
        )
    return lines


# -- referrals ----------------------------------------------------------------------------------


def referral_saved(
    name: str, to_whom: str, reason: str, sent_on: date, follow_up: datetime | None, zone: ZoneInfo
) -> str:
    line = f"Saved ✔ Referral for <b>{esc(name)}</b> to {esc(clip(to_whom, 80))}"
    if reason:
        line += f" — {esc(clip(reason, 200))}"
    line += f"\nSent: {day(sent_on)}"
    if follow_up is not None:
        when = when_label(follow_up, zone, has_time=False)
        line += f"\nFollow-up if no appointment is logged: {when}, {esc(zone.key)}"
    return line


def referral_needs_whom(name: str) -> str:
    return (
        f"To whom is <b>{esc(name)}</b> referred? Nothing saved yet — send e.g. "
        f"“referred {esc(name)} to cardiology today”."
    )


def referral_status(name: str, to_whom: str, status: str) -> str:
    return (
        f"Saved ✔ Referral for <b>{esc(name)}</b> to {esc(clip(to_whom, 80))}: "
        f"{_referral_status(status)}"
    )


def which_referral(name: str, status: str) -> str:
    """Several open referrals fit a message: which one moved on."""
    return f"Which of <b>{esc(name)}</b>'s referrals was {_referral_status(status)}?"


def referral_choice_label(to_whom: str, sent_on: date, status: str) -> str:
    """A button under which_referral: 'cardiology, sent Fri 20 Nov 2026' (plain text)."""
    state = "" if status == "sent" else f"{_referral_status(status)}, "
    return f"{clip(to_whom, 30)}, {state}sent {day(sent_on)}"


def no_matching_referral(
    name: str,
    to_whom: str,
    status: str,
    open_referrals: Sequence[tuple[str, str]],
    already: str | None,
) -> str:
    """No open referral of hers fits a message (``open_referrals``: to whom, status)."""
    if already is not None:
        return (
            f"<b>{esc(name)}</b>'s referral to {esc(clip(already, 80))} is already "
            f"{_referral_status(status)}. Nothing changed."
        )
    named = f" to {esc(clip(to_whom, 80))}" if to_whom else ""
    line = f"I found no open referral{named} for <b>{esc(name)}</b>, so nothing changed."
    if not open_referrals:
        return line + f"\n<b>{esc(name)}</b> has no open referrals."
    listed = "; ".join(
        f"{esc(clip(whom, 60))} ({_referral_status(state)})" for whom, state in open_referrals[:10]
    )
    more = f" and {len(open_referrals) - 10} more" if len(open_referrals) > 10 else ""
    return line + f"\nOpen referrals: {listed}{more}."


def render_referrals(
    rows: Sequence[tuple[str, str, date, str, datetime | None]], zone: ZoneInfo, today: date
) -> str:
    """/referrals: patient, to whom, sent, status, follow-up day."""
    if not rows:
        return "No open referrals."
    lines = [f"<b>Open referrals</b> ({len(rows)})"]
    for i, (name, to_whom, sent_on, status, follow_up) in enumerate(rows, 1):
        line = (
            f"{i}. <b>{esc(clip(name, 60))}</b> → {esc(clip(to_whom, 60))} — "
            f"{_referral_status(status)}, sent {day(sent_on)}"
        )
        if follow_up is not None and status == "sent":
            local = follow_up.astimezone(zone).date()
            late = " <b>overdue</b>" if local < today else ""
            line += f"; follow up {day(local)}{late}"
        lines.append(line)
    lines.append(f"\n<i>Dates in {esc(zone.key)}.</i>")
    return fit("\n".join(lines))


def referral_button(i: int, label: str) -> str:
    return f"{i}. {label}"


# -- resources ----------------------------------------------------------------------------------


def render_resources(rows: Sequence[tuple[str, str, str, str]], *, what: str | None) -> str:
    """Resources (kind, name, contact, notes) of the team's directory."""
    heading = f"<b>{esc(what)} resources</b>" if what else "<b>Community resources</b>"
    if not rows:
        return f"{heading}\nNone in your team's directory yet. Tap “{ADD_RESOURCE}”."
    lines = [f"{heading} ({len(rows)})"]
    for kind, name, contact, notes in rows:
        line = f"• <b>{esc(clip(name, 80))}</b> ({label(labels.RESOURCE_KIND, kind)})"
        if contact:
            line += f" — {esc(clip(contact, 120))}"
        if notes:
            line += f"\n   {esc(clip(notes, 200))}"
        lines.append(line)
    return fit("\n".join(lines))


ASK_RESOURCE_NAME = "New resource: what is it called?"


def ask_resource_kind(name: str) -> str:
    return f"What kind of resource is <b>{esc(name)}</b>?"


def ask_resource_contact(name: str) -> str:
    return f"Contact details for <b>{esc(name)}</b> (phone, address, website)? Or {SKIP}."


def ask_resource_notes(name: str) -> str:
    return f"Any notes on <b>{esc(name)}</b> (eligibility, hours)? Or {SKIP}."


def resource_saved(name: str, kind: str) -> str:
    return (
        f"Saved ✔ <b>{esc(name)}</b> ({label(labels.RESOURCE_KIND, kind)}) is in your team's "
        "directory."
    )


def given_saved(name: str, text: str, linked: bool, given_on: date) -> str:
    line = f"Saved ✔ Gave <b>{esc(name)}</b>: {esc(clip(text, 200))} ({day(given_on)})"
    if not linked:
        line += "\n(Not in your team's directory — add it with /resources.)"
    return line


# -- shared ---------------------------------------------------------------------------------------

REFUSALS = {
    "duplicate": "That message was already saved.",
    "no_patient": "That patient is not in your active caseload. Nothing saved.",
    "not_found": "I can't find that any more. Nothing changed.",
    "already_answered": "That was already done. Nothing changed.",
    "no_goal": "There is no active goal to close. Nothing saved.",
}


def refusal(reason: str) -> str:
    return REFUSALS.get(reason, "Nothing saved.")


PLAN_USAGE = "Whose care plan? Send /plan and the patient's name, e.g. /plan Maria Lopez."
TIMED_OUT = "That question expired. Nothing was saved."
CANCELLED = "Cancelled. Nothing was saved."


def not_found_patient(text: str) -> str:
    return f"I can't find “{esc(clip(text, 60))}” in your caseload."


def patient_unclear(text: str | None, candidates: Sequence[object]) -> str:
    """A care-plan message whose patient is ambiguous, unknown or missing: nothing saved."""
    if not text:
        return "Which patient? Nothing saved: send it again with the patient's name."
    reply = which_patient(text) if candidates else not_found_patient(text)
    return reply + " Nothing saved: send it again with the full name."


def which_patient(text: str) -> str:
    return f"Which patient did you mean by “{esc(clip(text, 60))}”?"


def pick_patient(text: str | None) -> str:
    """A care-plan message (or /plan) naming several patients: tap one."""
    asked = which_patient(text) if text else "Which patient did you mean?"
    return asked + " Tap one; nothing is saved until you do."


def patient_button(name: str) -> str:
    """A candidate patient's button label (names go in labels, never in callback data)."""
    return clip(name, 40)


CHOICE_CLOSED = "That choice has closed. Nothing was changed; send your message again."
NOT_A_CHOICE = "That wasn't one of the choices. Nothing was changed."
