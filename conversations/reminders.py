"""What the bot says when it starts the conversation (issue 16, "Reminders"). Pure.

Each reminder is an outbox notification: a message key with its parameters, and for the officer's list
one line per dossier, all rendered in the reader's language when delivered (they may switch language
between the morning scan and reading it). Dates are written dd/mm/yyyy, as everywhere in the bot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from conversations.officer.context import RequestRecord
from rules.reminders import MAX_DIGEST_LINES, DueLine

Payload = dict[str, Any]


def _date(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def _due_line(line: DueLine) -> Payload:
    params: Payload = {"ref": line.ref, "firm": line.firm or "—", "due": _date(line.due)}
    if line.overdue:
        return {"key": "reminder.officer.overdue", "params": {**params, "days": -line.days_left}}
    if line.days_left == 0:
        return {"key": "reminder.officer.today", "params": params}
    return {"key": "reminder.officer.due", "params": {**params, "days": line.days_left}}


def officer_digest_message(lines: Sequence[DueLine], today: dt.date) -> Payload | None:
    """The officer's morning list (ND80 Art. 32.3.a), overdue first; None when there is nothing to say."""
    if not lines:
        return None
    shown = [_due_line(line) for line in lines[:MAX_DIGEST_LINES]]
    if len(lines) > MAX_DIGEST_LINES:
        shown.append({"key": "reminder.officer.more", "params": {"count": len(lines) - MAX_DIGEST_LINES}})
    shown.append({"key": "reminder.officer.footer", "params": {"ref": lines[0].ref}})
    overdue = sum(1 for line in lines if line.overdue)
    params = {"date": _date(today), "soon": len(lines) - overdue, "overdue": overdue}
    return {"key": "reminder.officer.title", "params": params, "lines": shown}


def request_message(ref: str, asked_on: dt.date, request: RequestRecord | None, note: str) -> Payload:
    """The owner's one reminder of a request for documents still open: what was asked (the items still
    missing, numbered as in the request; the officer's words when the request has no items), which
    dossier, how to answer."""
    if request is not None and request.missing:
        items = "\n".join(f"{n}. {request.items[n - 1].text}" for n in request.missing)
    else:
        items = note.strip() or "—"
    return {"key": "reminder.request", "params": {"ref": ref, "date": _date(asked_on), "items": items}}


def draft_message(started_on: dt.date) -> Payload:
    """The owner's one reminder of a journey left before filing; sent only under the news consent, so it
    says how to stop (/unsubscribe)."""
    return {"key": "reminder.draft", "params": {"date": _date(started_on)}}
