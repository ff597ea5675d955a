"""The reminders loop (issue 16): the bot starts the conversation, scheduled in the database.

Every ``interval`` seconds, inside the main process beside the channels (no cron outside the app), a scan
asks the pure rules what is due now (rules/reminders.py) and queues each due reminder once
(bot/store/reminders.py: its key recorded with its outbox message in one transaction). The channel's
sender delivers it like any notification; on a channel without a push sender (the terminal chat) it waits
in the outbox and is shown with the person's next reply. A restart, or a second process scanning the same
database, finds the keys already recorded and queues nothing twice.

The clock is injectable (``now``) so tests move time instead of waiting for it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.pipeline.supervise import pause
from bot.store import reminders as store
from bot.store.db import Database
from conversations.officer import request as requests
from conversations.reminders import draft_message, officer_digest_message, request_message
from rules import reminders as rules
from rules.deadline import Calendar

log = logging.getLogger("smebot.reminders")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Queued:
    """What one scan queued, by kind (for the log and the tests; never who or what)."""

    due: int = 0
    request: int = 0
    draft: int = 0

    @property
    def total(self) -> int:
        return self.due + self.request + self.draft


class Reminders:
    def __init__(
        self,
        db: Database,
        calendar: Calendar,
        policy: rules.Policy | None = None,
        interval: float = 60.0,
        now: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.db, self.calendar, self.interval, self.now = db, calendar, interval, now
        self.policy = policy or rules.Policy()

    async def run(self, stop: asyncio.Event) -> None:
        """Scan, then wait ``interval`` seconds (less if the bot stops), until ``stop``. Run it supervised:
        a scan that fails (the database away) is logged and the loop started again."""
        while not stop.is_set():
            queued = await self.scan()
            if queued.total:
                log.info("reminders queued: %d due lists, %d requests, %d drafts", *_counts(queued))
            await pause(stop, self.interval)

    async def scan(self) -> Queued:
        """One pass over the three kinds, each in a short transaction of its own."""
        now = self.now()
        due = await self.db.run(self.officers_due, now)
        request = await self.db.run(self.requests_due, now)
        draft = await self.db.run(self.drafts_due, now)
        return Queued(due, request, draft)

    def officers_due(self, s: Session, now: dt.datetime) -> int:
        """Each working morning, one list per officer of their agency's dossiers due within the window
        of the ND80 Art. 32.3.a deadline or overdue; nothing when there is nothing to say."""
        today = rules.working_morning(now, self.policy, self.calendar)
        if today is None:
            return 0
        everyone = store.officers(s)
        known = store.known_keys(s, (rules.due_key(o.user.id, today) for o in everyone))
        officers = [o for o in everyone if rules.due_key(o.user.id, today) not in known]
        by_agency: dict[str, list[rules.OpenDossier]] = defaultdict(list)
        for d in store.agency_dossiers(s, (o.agency_id for o in officers), rules.OFFICER_TURN):
            by_agency[d.agency_id].append(rules.OpenDossier(d.ref, d.firm, d.filed_on, d.status))
        queued = 0
        for officer in officers:
            lines = rules.officer_digest(by_agency[officer.agency_id], today, self.calendar, self.policy)
            payload = officer_digest_message(lines, today)
            if payload is None:
                continue
            key, due_at = rules.due_key(officer.user.id, today), rules.morning_of(today, self.policy)
            queued += store.remind(s, officer.user, key, "due", due_at, payload, now)
        return queued

    def requests_due(self, s: Session, now: dt.datetime) -> int:
        """One reminder per request for documents still open ``request_after`` working days after it."""
        if rules.working_morning(now, self.policy, self.calendar) is None:
            return 0
        waiting = store.open_requests(s)
        known = store.known_keys(s, (rules.request_key(r.event_id) for r in waiting))
        queued = 0
        for r in waiting:
            key = rules.request_key(r.event_id)
            if key in known or not rules.request_reminder_due(r.asked_at, now, self.calendar, self.policy):
                continue
            asked_on = rules.local(r.asked_at).date()
            record = requests.from_json(r.data.get("open_request"))
            payload = request_message(r.ref, asked_on, record, str(r.data.get("request") or ""))
            due_at = rules.request_due_at(r.asked_at, self.calendar, self.policy)
            queued += store.remind(s, r.owner, key, "request", due_at, payload, now)
        return queued

    def drafts_due(self, s: Session, now: dt.datetime) -> int:
        """One reminder per journey abandoned before filing, to owners with the news consent."""
        if not rules.daytime(now, self.policy):
            return 0
        drafts = store.abandoned_drafts(s, now - self.policy.draft_after)
        known = store.known_keys(s, (rules.draft_key(d.owner.id, d.started_at) for d in drafts))
        queued = 0
        for d in drafts:
            key = rules.draft_key(d.owner.id, d.started_at)
            if key in known or not rules.draft_reminder_due(d.last_seen_at, now, self.policy):
                continue
            payload = draft_message(rules.local(d.started_at).date())
            due_at = d.last_seen_at + self.policy.draft_after
            queued += store.remind(s, d.owner, key, "draft", due_at, payload, now)
        return queued


def _counts(queued: Queued) -> tuple[int, int, int]:
    return queued.due, queued.request, queued.draft


def from_settings(db: Database, calendar: Calendar, settings: Settings) -> Reminders:
    """The loop as configured (SMEBOT_REMINDER_HOUR, SMEBOT_REMINDER_UNTIL_HOUR, SMEBOT_REMINDER_INTERVAL)."""
    policy = rules.Policy(hour=settings.reminder_hour, until_hour=settings.reminder_until_hour)
    return Reminders(db, calendar, policy, interval=settings.reminder_interval)
