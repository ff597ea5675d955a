"""Reads a staff message needs that are too slow for the write transaction, done before it in a read
snapshot off the event loop (:meth:`bot.store.db.Database.read`), so the owners' transactions never wait
for them:

- a report (/queue, /stats, /export, /officers, /programmes) is decided whole: it loads the agency's
  dossiers (milliseconds per dozen) and its effects only read; the transaction queues its replies;
- a broadcast draft's audience: every active subscriber's saved profile (0.7 s for 10,000 on SQLite),
  read once per step; the draft is still decided, and its rows written, in the transaction.

A staff member is recognised in the snapshot too; anything else returns None and goes the usual way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot.effects import Results
from bot.news import StoreNews
from bot.store import users as users_store
from conversations.effects import Chart, Export
from conversations.engine import Outcome, State
from conversations.officer import handler as officer
from conversations.officer.context import Subscriber

if TYPE_CHECKING:
    from bot.service import Service

#: the effects a report may have and still be decided off the loop: they only read
READ_EFFECTS = (Chart, Export)


@dataclass(frozen=True)
class Prepared:
    """What was read before the transaction: a report decided whole (its outcome with the state as the
    snapshot had it, and its results), or the subscribers a broadcast draft draws its audience from."""

    report: tuple[Outcome, Results] | None = None
    subscribers: tuple[Subscriber, ...] | None = None


def decide_report(
    s: Session, service: Service, channel: str, external_id: str, key: str, command: tuple[str, str]
) -> Prepared | None:
    user = users_store.find_user(s, channel, external_id)
    if user is None:
        return None
    role, agency = service.staff.role(s, key)
    if role == "owner" or not officer.allowed(command[0], role):
        return None
    state = State.from_json(users_store.load_state(s, user.id) or {"lang": user.lang})
    octx = service.officer_context(s, key, role, agency, command[1])
    outcome = officer.handle(command[0], command[1], octx, state)
    if not all(isinstance(e, READ_EFFECTS) for e in outcome.effects):
        return None  # it writes after all: decided again in the write transaction
    return Prepared(report=(outcome, service.apply(s, user, key, outcome.effects, state.lang)))


def read_subscribers(
    s: Session, service: Service, channel: str, external_id: str, key: str
) -> Prepared | None:
    if users_store.find_user(s, channel, external_id) is None:
        return None
    role, agency = service.staff.role(s, key)
    if role == "owner":
        return None
    return Prepared(subscribers=StoreNews(s, key, agency).subscribers())
