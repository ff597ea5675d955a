"""When the bot starts the conversation itself (issue 16, "Reminders"). Pure: plain values in, decisions out.

Three reminders, each sent at most once (the shell keys each one in the database):

- an officer's morning list: on each working morning, the dossiers of their agency whose answer is due
  within :attr:`Policy.due_window` working days of the 14-working-day deadline (ND80 Art. 32.3.a), and
  those already overdue. A dossier waiting for the owner's documents (``needs_info``) is left out: the
  officer can do nothing on it until the owner answers, and the owner has their own reminder;
- an owner's request for documents still open :attr:`Policy.request_after` working days after the
  officer asked: one reminder, on a working morning;
- an owner's journey abandoned before filing: one reminder :attr:`Policy.draft_after` after their last
  message, in the daytime, only with the news consent (the shell checks it).

Times are Vietnam's (UTC+7, Asia/Ho_Chi_Minh, which has kept no daylight saving time since 1975: a fixed
offset needs no tz database on the machine). Nobody is written to at night.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from rules.dates import VIETNAM
from rules.deadline import Calendar, review_deadline
from rules.dossier import Status

#: The statuses in which the officer has to act: the Art. 32.3.a clock is theirs.
OFFICER_TURN: tuple[str, ...] = (Status.submitted, Status.in_review)
MAX_DIGEST_LINES = 30  # a longer list ends with "and N more" (a chat message holds 4,096 characters)


@dataclass(frozen=True)
class Policy:
    hour: int = 8  # the local hour from which the morning reminders go out
    until_hour: int = 20  # no owner reminder from this local hour until the next morning
    due_window: int = 2  # working days before the deadline at which a dossier enters the officer's list
    request_after: int = 3  # working days an open request for documents waits before its reminder
    draft_after: dt.timedelta = dt.timedelta(days=2)  # quiet time after which a draft is abandoned


def local(moment: dt.datetime) -> dt.datetime:
    """An aware moment as Vietnam's wall-clock time."""
    return moment.astimezone(VIETNAM)


def daytime(now: dt.datetime, policy: Policy) -> bool:
    """Whether a person may be written to now: between the morning hour and the evening hour, local."""
    return policy.hour <= local(now).hour < policy.until_hour


def working_morning(now: dt.datetime, policy: Policy, calendar: Calendar) -> dt.date | None:
    """Today's local date if it is a working day and the morning hour has come (and night has not), else
    None. A process started at 10:00 still sends the day's list; one down all day sends none for it."""
    today = local(now).date()
    if not calendar.is_working_day(today) or not daytime(now, policy):
        return None
    return today


@dataclass(frozen=True)
class OpenDossier:
    """What the officer's list needs of a dossier of their agency."""

    ref: str
    firm: str
    filed_on: dt.date
    status: str


@dataclass(frozen=True)
class DueLine:
    ref: str
    firm: str
    due: dt.date
    days_left: int  # working days left after today; negative: overdue by that many working days

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


def officer_digest(
    dossiers: Iterable[OpenDossier], today: dt.date, calendar: Calendar, policy: Policy
) -> tuple[DueLine, ...]:
    """The dossiers the officer must answer soon (ND80 Art. 32.3.a: 14 working days from filing): due
    within ``policy.due_window`` working days, or overdue; the most overdue first. Empty: nothing to say."""
    lines = []
    for d in dossiers:
        if d.status not in OFFICER_TURN:
            continue
        deadline = review_deadline(d.filed_on, today, calendar)
        if deadline.days_left <= policy.due_window:
            lines.append(DueLine(d.ref, d.firm, deadline.due, deadline.days_left))
    return tuple(sorted(lines, key=lambda line: (line.days_left, line.ref)))


def morning_of(day: dt.date, policy: Policy) -> dt.datetime:
    """The moment the morning reminders of ``day`` are due (aware, Vietnam's time)."""
    return dt.datetime.combine(day, dt.time(policy.hour), VIETNAM)


def request_due_at(asked_at: dt.datetime, calendar: Calendar, policy: Policy) -> dt.datetime:
    """The morning of the ``policy.request_after``-th working day after the local day of the request."""
    return morning_of(calendar.add_working_days(local(asked_at).date(), policy.request_after), policy)


def request_reminder_due(asked_at: dt.datetime, now: dt.datetime, calendar: Calendar, policy: Policy) -> bool:
    """An open request for documents deserves its one reminder: ``policy.request_after`` working days have
    passed since the local day it was asked, and it is a working morning (an owner's firm reads its
    messages on working days)."""
    if working_morning(now, policy, calendar) is None:
        return False
    return now >= request_due_at(asked_at, calendar, policy)


def draft_reminder_due(last_seen_at: dt.datetime, now: dt.datetime, policy: Policy) -> bool:
    """A journey not touched for ``policy.draft_after`` is abandoned; its reminder goes in the daytime."""
    return now - last_seen_at >= policy.draft_after and daytime(now, policy)


def due_key(officer_user_id: int, day: dt.date) -> str:
    return f"due:{officer_user_id}:{day.isoformat()}"


def request_key(ask_event_id: int) -> str:
    return f"request:{ask_event_id}"


def draft_key(user_id: int, draft_started_at: dt.datetime) -> str:
    """One reminder per draft: the draft is named by when it started (UTC, to the microsecond, which
    SQLite and PostgreSQL both keep: a draft cancelled and begun again within a second is a new one)."""
    return f"draft:{user_id}:{draft_started_at.astimezone(dt.UTC).isoformat(timespec='microseconds')}"
