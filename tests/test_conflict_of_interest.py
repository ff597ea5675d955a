"""No officer decides their own case (issue 13.10): an officer or admin cannot claim, ask on, approve or
reject a dossier they filed, or one of a firm they are recorded against (same tax code); every attempt is
refused, changes nothing and is audited; an admin reassigns the dossier to another officer (audited,
notified)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.service import Service
from bot.store.models import Dossier, Event
from tests.driver import Clock, Owner, open_service
from tests.test_officer_workbench import DIGITAL, QUANG_TRI, officers, seed


@pytest.fixture
async def env(db_url: str) -> AsyncIterator[tuple[Service, AsyncEngine]]:
    service, db = await open_service(db_url, Clock())
    yield service, db.engine
    await db.close()


async def state_of(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(Dossier.ref, Dossier.status, Dossier.version).order_by(Dossier.id))
        return list(rows.all())


async def conflicts(engine: AsyncEngine) -> list[tuple[str, str, str]]:
    async with engine.connect() as conn:
        stmt = select(Event.actor, Event.after).where(Event.action == "conflict").order_by(Event.id)
        rows = (await conn.execute(stmt)).all()
    return [(actor, after["action"], after["reason"]) for actor, after in rows]


async def test_an_officer_cannot_decide_their_own_dossier_or_their_firms(env: tuple) -> None:
    service, engine = env
    # bob filed for his own firm before he became an officer; lan files for the same firm (same tax code)
    own = await seed(service, "bob")
    firms = await seed(service, "lan", (DIGITAL,))
    other = await seed(service, "minh", (DIGITAL,), profile={"name": "HTX Minh", "tax_code": "0312345678"})
    admin, bob, dave = await officers(service, ("bob", QUANG_TRI), ("dave", QUANG_TRI))
    before = await state_of(engine)

    refused = await bob.send(f"/claim {own}")
    assert f"Bạn không thể nhận xử lý hồ sơ {own}: đây là hồ sơ do chính bạn nộp" in refused
    assert f"/reassign {own}" in refused  # the way out is named
    assert "mã số thuế mà bạn đứng tên" in await bob.send(f"/claim {firms}")
    assert "chính bạn nộp" in await bob.send(f"/approve {own}")
    assert "chính bạn nộp" in await bob.send(f"/reject {own} tự từ chối")
    assert "mã số thuế mà bạn đứng tên" in await bob.send(f"/ask {firms} báo giá")
    seen = await bob.send(f"/dossier {own}")
    assert "⚠ Hồ sơ do chính bạn nộp" in seen and not any("Nhận xử lý" in b for b in bob.buttons())
    assert await state_of(engine) == before  # nothing moved
    assert await conflicts(engine) == [
        ("console:bob", "claim", "own"),
        ("console:bob", "claim", "firm"),
        ("console:bob", "approve", "own"),
        ("console:bob", "reject", "own"),
        ("console:bob", "ask", "firm"),
    ]
    assert "Đã nhận xử lý" in await bob.send(f"/claim {other}")  # another firm: bob may decide it

    # the admin gives bob's dossier to dave; not back to bob, and bob cannot take it over
    assert "mã số thuế mà người đó đứng tên" in await admin.send(f"/reassign {firms} console:bob")
    assert "không phải là cán bộ" in await admin.send(f"/reassign {own} console:eve")
    assert f"Đã giao hồ sơ {own} cho console:dave" in await admin.send(f"/reassign {own} console:dave")
    assert f"Quản trị viên console:admin đã giao hồ sơ {own} cho bạn" in await dave.send("/queue")
    assert "đã do console:dave xử lý" in await admin.send(f"/reassign {own} console:dave")
    assert "Đã chấp thuận" in await dave.send(f"/approve {own}")
    assert "bị từ chối vì xung đột lợi ích" in await dave.send(f"/dossier {own}")  # the history says it
    async with engine.connect() as conn:
        moves = (
            await conn.execute(
                select(Event.actor, Event.before, Event.after).where(Event.action == "reassign")
            )
        ).all()
        status, data = (
            await conn.execute(select(Dossier.status, Dossier.data).where(Dossier.ref == own))
        ).one()
    assert [(actor, b["claimed_by"], a["claimed_by"]) for actor, b, a in moves] == [
        ("console:admin", None, "console:dave")
    ]
    assert status == "approved" and data["claimed_by"] == "console:dave"
    assert ("console:admin", "reassign", "firm") in await conflicts(engine)

    # only an admin reassigns: an officer gets the answer to a typo
    assert "chấp thuận" in await bob.send("/frobnicate")  # bob, as the owner, hears of his dossier
    typo = await bob.send("/frobnicate")
    assert await bob.send(f"/reassign {firms} console:dave") == typo


async def test_an_admin_cannot_decide_a_dossier_they_filed(env: tuple) -> None:
    service, engine = env
    mine = await seed(service, "admin")  # the admin's own firm
    admin, _ = await officers(service, ("dave", QUANG_TRI))
    assert "chính bạn nộp" in await admin.send(f"/claim {mine}")
    assert "chính bạn nộp" in await admin.send(f"/reassign {mine} console:admin")  # not to themselves
    assert f"Đã giao hồ sơ {mine} cho console:dave" in await admin.send(f"/reassign {mine} console:dave")
    assert await conflicts(engine) == [("console:admin", "claim", "own"), ("console:admin", "claim", "own")]
    status, version = (await state_of(engine))[0][1:]
    assert (status, version) == ("in_review", 1)  # reassigning an unclaimed dossier claims it for dave
    assert "Đã gửi yêu cầu bổ sung" in await Owner(service, "dave").send(f"/ask {mine} báo giá")
