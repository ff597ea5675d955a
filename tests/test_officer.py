"""Officers and admins (issue 5): roles, every command, the state machine, the race, notifications."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.attachments import AttachmentStore
from bot.store.models import Dossier, DossierItem, Event, Officer, Outbox
from rules import dossier as status
from tests.driver import Clock, Owner, open_service

QUANG_TRI = [
    "1",
    "Công ty TNHH Gốm Việt",
    "0100109106",
    "1",
    "quang tri",
    "vinh thuy",
    "12 Lê Lợi",
    "0912345678",
]
DECLARE = [
    "bo qua",
    "cong nghiep",
    "30",
    "12",
    "20 tỷ",
    "10 tỷ",
    "12",
    "co",
    "khong",
    "khong",
    "co",
    "1",
    "1",
    "khong",
]


@pytest.fixture
async def env(db_url: str) -> AsyncIterator[tuple[Any, AsyncEngine, Clock]]:
    clock = Clock()
    service, db = await open_service(db_url, clock)
    yield service, db.engine, clock
    await db.close()


async def file_dossier(service: Any, user: str = "owner", lang: str = "vi") -> str:
    """An owner in Vĩnh Thủy (Quảng Trị) files consulting (III.A, 250 M) and DX solutions (I.2, 60 M)."""
    owner = Owner(service, user)
    await owner.send("/start")
    if lang == "en":
        await owner.send("English")
    await owner.script(*QUANG_TRI, *DECLARE)
    await owner.send("1")  # continue after the size
    await owner.send(payload="III.A")
    await owner.send(payload="I.2")
    await owner.send(payload="_done")
    await owner.script("250 triệu", "co", "TVV-0123", "chua", "60 triệu", "co", "chua")
    filed = await owner.send("1")
    ref = next(word.strip(".,") for word in filed.split() if word.startswith("HS-"))
    return ref


async def staff(service: Any) -> tuple[Owner, Owner, Owner]:
    admin = Owner(service, "admin")
    await admin.send("/start")
    await admin.send("1")
    await admin.send("/cancel")
    bob, carol = Owner(service, "bob"), Owner(service, "carol")
    for person in (bob, carol):
        await person.send("/start")
        await person.send("1")
        await person.send("/cancel")
    assert "Đã thêm cán bộ console:bob" in await admin.send(
        "/officer_add console:bob so-cong-thuong-quang-tri"
    )
    assert "console:carol" in await admin.send("/officer_add console:carol so-tai-chinh-ha-noi")
    return admin, bob, carol


async def snapshot(engine: AsyncEngine) -> tuple[Any, ...]:
    async with engine.connect() as conn:
        dossiers = (
            await conn.execute(select(Dossier.ref, Dossier.status, Dossier.version).order_by(Dossier.id))
        ).all()
        items = (await conn.execute(select(DossierItem.approved_vnd).order_by(DossierItem.id))).all()
        officers = (
            await conn.execute(select(Officer.user_key, Officer.agency_id).order_by(Officer.id))
        ).all()
        outbox = (await conn.execute(select(func.count()).select_from(Outbox))).scalar()
    return tuple(dossiers), tuple(items), tuple(officers), outbox


STAFF_COMMANDS = [
    "/queue",
    "/dossier {ref}",
    "/claim {ref}",
    "/ask {ref} thêm báo giá",
    "/approve {ref}",
    "/reject {ref} không đủ điều kiện",
    "/note {ref} đã gọi điện",
    "/stats",
    "/export",
    "/officer_add console:mallory so-cong-thuong-quang-tri",
    "/officer_remove console:bob",
    "/officers",
]


async def test_a_plain_owner_is_refused_every_staff_command_like_a_typo(env: tuple) -> None:
    service, engine, _ = env
    ref = await file_dossier(service)
    await staff(service)
    owner = Owner(service, "owner")
    typo = await owner.send("/frobnicate")
    before = await snapshot(engine)
    for command in STAFF_COMMANDS:
        assert await owner.send(command.format(ref=ref)) == typo, command
    assert await snapshot(engine) == before
    async with engine.connect() as conn:
        refused = (await conn.execute(select(func.count()).where(Event.action == "refused"))).scalar()
    assert refused == len(STAFF_COMMANDS)


async def test_an_officer_of_another_agency_sees_nothing(env: tuple) -> None:
    service, engine, _ = env
    ref = await file_dossier(service)
    _, _, carol = await staff(service)
    before = await snapshot(engine)
    assert "Không có hồ sơ nào" in await carol.send("/queue")
    for command in ("/dossier {ref}", "/claim {ref}", "/approve {ref}", "/ask {ref} x", "/reject {ref} x"):
        assert f"Không tìm thấy hồ sơ {ref}" in await carol.send(command.format(ref=ref))
    assert await carol.send("/officers") == await Owner(service, "carol").send("/frobnicate")  # not an admin
    assert await snapshot(engine) == before


async def test_officer_review_from_claim_to_partial_approval_with_notifications(
    env: tuple, tmp_path: Path
) -> None:
    service, engine, _ = env
    ref = await file_dossier(service, lang="en")  # the owner reads English
    _, bob, _ = await staff(service)
    queue = await bob.send("/queue")
    assert ref in queue and "★" in queue and "còn 14 ngày làm việc" in queue  # women-owned: priority
    assert "chưa có cán bộ nhận xử lý" in await bob.send(f"/ask {ref} thiếu báo giá")  # must claim first
    detail = await bob.send(f"/dossier {ref}")
    assert "Công ty TNHH Gốm Việt" in detail and "Điều 13" in detail and "Nhận xử lý" in detail
    assert bob.documents() and bob.documents()[0].filename == f"{ref}.docx"  # type: ignore[attr-defined]
    assert "Đã nhận xử lý" in await bob.send(payload=bob.press("Nhận xử lý"))
    assert "Cần nội dung" in await bob.send(f"/ask {ref}")
    assert "Đã gửi yêu cầu bổ sung" in await bob.send(f"/ask {ref} Vui lòng gửi báo giá có đóng dấu")

    owner = Owner(service, "owner")
    seen = await owner.send("/mydossiers")
    assert "being reviewed" in seen and "needs more:\n1. Vui lòng gửi báo giá có đóng dấu" in seen  # English
    store = AttachmentStore(tmp_path / "files", 1 << 20, ("application/pdf",))
    answered = await owner.send(file=store.keep("bao-gia.pdf", b"%PDF-1.4 quote"))
    assert f"Your answer was added to dossier {ref}" in answered
    assert f"Dossier {ref} went back to the officer" in answered  # the one item asked has arrived

    assert "được chấp thuận" not in await bob.send(f"/dossier {ref}")
    assert "Không thể nhận xử lý" in await bob.send(f"/claim {ref}")  # bob kept the claim
    assert "vượt mức" in await bob.send(f"/approve {ref} III.A.2.2=130tr")  # above the computed 125 M
    assert "không có nội dung" in await bob.send(f"/approve {ref} IV.9=1tr")
    done = await bob.send(f"/approve {ref} III.A.2.2=100tr I.2.2=0 duyệt một phần")
    assert "Đã chấp thuận hồ sơ" in done and "100 triệu đồng" in done
    decision = await owner.send("/mydossiers")
    assert "has been approved, support of 100 million VND" in decision
    async with engine.connect() as conn:
        approved = dict((await conn.execute(select(DossierItem.code, DossierItem.approved_vnd))).all())
        actions = [a for (a,) in (await conn.execute(select(Event.action).order_by(Event.id))).all()]
    assert approved == {"III.A.2.2": 100_000_000, "I.2.2": 0}
    assert [a for a in actions if a in status.MOVES] == ["claim", "ask", "answer", "approve"]
    assert "Không thể chấp thuận" in await bob.send(f"/approve {ref}")  # final


async def test_reject_needs_a_reason_and_is_final(env: tuple) -> None:
    service, _, _ = env
    ref = await file_dossier(service)
    _, bob, _ = await staff(service)
    await bob.send(f"/claim {ref}")
    assert "Cần nêu lý do" in await bob.send(f"/reject {ref}")
    assert "Đã từ chối" in await bob.send(f"/reject {ref} Không thuộc đối tượng")
    owner = Owner(service, "owner")
    assert "không được chấp thuận. Lý do: Không thuộc đối tượng" in await owner.send("/mydossiers")
    assert "Không thể nhận xử lý" in await bob.send(f"/claim {ref}")
    assert "đã không được chấp thuận, không thể rút" in await owner.send(f"/withdraw {ref}")


async def test_owner_withdraws_an_open_dossier(env: tuple) -> None:
    service, _, _ = env
    ref = await file_dossier(service)
    _, bob, _ = await staff(service)
    owner = Owner(service, "owner")
    assert f"Đã rút hồ sơ {ref}" in await owner.send(f"/withdraw {ref}")
    assert "Không thể nhận xử lý" in await bob.send(f"/claim {ref}")


async def test_two_officers_cannot_both_win(env: tuple) -> None:
    service, engine, _ = env
    ref = await file_dossier(service)
    admin, bob, _ = await staff(service)
    await admin.send("/officer_add console:dave so-cong-thuong-quang-tri")
    dave = Owner(service, "dave")
    await dave.send("/start")
    await dave.send("1")
    # both open the dossier at version 1, then both press "claim"
    await bob.send(f"/dossier {ref}")
    await dave.send(f"/dossier {ref}")
    bob_button, dave_button = bob.press("Nhận xử lý"), dave.press("Nhận xử lý")
    first, second = await asyncio.gather(bob.send(payload=bob_button), dave.send(payload=dave_button))
    winners = [text for text in (first, second) if "Đã nhận xử lý" in text]
    losers = [text for text in (first, second) if "vừa được" in text]
    assert len(winners) == 1 and len(losers) == 1
    assert "console:bob" in losers[0] or "console:dave" in losers[0]
    async with engine.connect() as conn:
        claims = (await conn.execute(select(func.count()).where(Event.action == "claim"))).scalar()
    assert claims == 1


async def test_admin_manages_officers(env: tuple) -> None:
    service, _, _ = env
    admin, bob, _ = await staff(service)
    listing = await admin.send("/officers")
    assert "console:bob · Sở Công Thương tỉnh Quảng Trị" in listing and "console:carol" in listing
    assert "không hợp lệ" in await admin.send("/officer_add bob so-cong-thuong-quang-tri")
    assert "Không có cơ quan" in await admin.send("/officer_add console:eve so-khong-co")
    assert "Cách dùng" in await admin.send("/officer_add")
    assert "Đã gỡ" in await admin.send("/officer_remove console:bob")
    assert await bob.send("/queue") == await bob.send("/frobnicate")  # no longer an officer
    assert "không phải là cán bộ" in await admin.send("/officer_remove console:bob")


async def test_admin_sees_every_agency_stats_and_export(env: tuple) -> None:
    service, _, _ = env
    ref = await file_dossier(service)
    admin, bob, _ = await staff(service)
    assert ref in await admin.send("/queue")
    await bob.send(f"/claim {ref}")
    await bob.send(f"/approve {ref}")
    stats = await bob.send("/stats")
    assert "Thống kê năm 2026: 1 hồ sơ" in stats and "được chấp thuận: 1" in stats
    [chart] = bob.documents()
    assert chart.content.startswith(b"\x89PNG")  # type: ignore[attr-defined]
    assert "không hợp lệ" in await bob.send("/stats hai nghìn")
    await bob.send("/export 2026")
    xlsx, csv = bob.documents()
    assert xlsx.filename.endswith(".xlsx") and csv.filename.endswith(".csv")  # type: ignore[attr-defined]
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))  # type: ignore[attr-defined]
    values = [row for sheet in book.worksheets[:1] for row in sheet.iter_rows(values_only=True)]
    assert any("125000000" in " ".join(str(c) for c in row) or 125_000_000 in row for row in values)
    assert ref in csv.content.decode("utf-8-sig")  # type: ignore[attr-defined]


def test_state_machine_every_move() -> None:
    statuses = ("submitted", "in_review", "needs_info", "approved", "rejected", "withdrawn")
    allowed = {
        ("claim", "submitted"): "in_review",
        ("ask", "in_review"): "needs_info",
        ("answer", "needs_info"): "in_review",  # back to the officer who asked (issue 15.8)
        ("approve", "in_review"): "approved",
        ("reject", "in_review"): "rejected",
        ("withdraw", "submitted"): "withdrawn",
        ("withdraw", "in_review"): "withdrawn",
        ("withdraw", "needs_info"): "withdrawn",
    }
    for action in status.MOVES:
        for current in statuses:
            assert status.move(action, current) == allowed.get((action, current)), (action, current)
