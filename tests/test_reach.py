"""Who is told of a message held past the Zalo OA's window (bot/store/reach.py), on SQLite and PostgreSQL:
the officer named in it, else the officer who last acted on its dossier, else the admins; once per message
and person; a held report is not reported again; an unfollow marks the user unreachable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store import dossiers as dossiers_store
from bot.store import outbox, reach
from bot.store import users as users_store
from bot.store.db import Database, open_db
from bot.store.models import Outbox

ADMINS = ["telegram:900", "zalo_oa:8000000000000000900"]


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = await open_db(db_url)
    yield database
    await database.close()


def queue(s: Session, payload: dict[str, Any]) -> int:
    owner = users_store.get_or_create_user(s, "zalo_oa", "8000000000000000001")
    outbox_id = outbox.enqueue(s, owner, payload)
    assert outbox_id is not None
    return outbox_id


def reports(s: Session) -> list[tuple[str, str]]:
    rows = s.scalars(select(Outbox).where(Outbox.dedup_key.like("held:%")).order_by(Outbox.id))
    return [(f"{o.channel}:{o.external_id}", str(o.payload["params"]["ref"])) for o in rows]


async def test_the_officer_named_else_the_last_to_act_else_the_admins_once_each(db: Database) -> None:
    def work(s: Session) -> list[list[str]]:
        owner = users_store.get_or_create_user(s, "zalo_oa", "8000000000000000001")
        dossier = dossiers_store.add_dossier(
            s,
            user_id=owner.id,
            enterprise_id=None,
            year=2026,
            status="submitted",
            size="micro",
            data={},
            items=[],
        )
        dossiers_store.add_event(s, "zalo_oa:8000000000000000001", "file", dossier_id=dossier.id)
        dossiers_store.add_event(s, "telegram:901", "claim", dossier_id=dossier.id)
        dossiers_store.add_event(s, "zalo_oa:8000000000000000001", "answer", dossier_id=dossier.id)
        named = queue(s, {"key": "news", "params": {}, "officer_key": "telegram:902"})
        decided = queue(s, {"key": "notify.approved", "params": {"ref": dossier.ref}})
        reply = queue(s, {"kind": "reply", "text": "…", "buttons": [], "documents": []})
        told = [reach.report_held(s, i, "outside the window", ADMINS) for i in (named, decided, reply)]
        told.append(reach.report_held(s, decided, "outside the window", ADMINS))  # a retry: queued once
        return told

    told = await db.run(work)
    assert told[:3] == [["telegram:902"], ["telegram:901"], sorted(ADMINS)]
    found = await db.run(reports)
    assert [who for who, _ in found] == ["telegram:902", "telegram:901", *sorted(ADMINS)]
    assert found[1][1].startswith("HS-")


async def test_a_held_report_is_not_reported_again_and_an_unfollow_marks_unreachable(db: Database) -> None:
    def work(s: Session) -> tuple[list[str], bool, bool, bool]:
        report = queue(s, {"key": reach.HELD_KEY, "params": {}, "held_report": True})
        told = reach.report_held(s, report, "outside the window", ADMINS)
        left = reach.mark_unreachable(s, "zalo_oa", "8000000000000000001")
        stranger = reach.mark_unreachable(s, "zalo_oa", "8000000000000000999")
        user = users_store.user_by_key(s, "zalo_oa:8000000000000000001")
        return told, left, stranger, bool(user is not None and user.unreachable)

    assert await db.run(work) == ([], True, False, True)
