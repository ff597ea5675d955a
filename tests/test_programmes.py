"""Programmes officers publish (issue 16): add a YAML (errors name the line, the item and the field),
publish, close, the owners it fits see it, the others do not; the budget needs a confirmation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.service import Service
from bot.store.db import open_db
from bot.store.models import Dossier, Event, StoredProgramme
from conversations.engine import FileInfo
from rules.catalogue import PROGRAMME_DIR as PROGRAMMES
from rules.catalogue import default_catalogue
from tests.driver import Clock, Owner, open_service, staff_config
from tests.test_officer import DECLARE, QUANG_TRI, staff

PROGRAMME = """\
id: qt-2026-digital
title:
  vi: "Hỗ trợ chuyển đổi số doanh nghiệp nhỏ Quảng Trị 2026"
  en: "Quang Tri 2026 digital transformation support for small firms"
authority:
  vi: "Sở Công Thương tỉnh Quảng Trị"
  en: "Quang Tri Department of Industry and Trade"
basis:
  - {document: ND80, article: 11}
region: {level: province, province: "Quảng Trị"}
target:
  entity_types: [enterprise]
  sizes: [micro, small]
  basis: {document: ND80, article: 2}
valid_from: 2026-01-01
valid_to: 2026-12-31
budget_vnd: 10000000
items:
  - id: qt26-dx
    code: "QT26.1"
    kind: digital
    content: digital-solution
    title:
      vi: "Thuê, mua giải pháp chuyển đổi số"
      en: "Renting or buying digital solutions"
    basis: {document: ND80, article: 11, clause: 2}
    rate_percent: 80
    cap_vnd: 45000000
    cap_unit: per_firm_year
    evidence: [declaration_form, provider_quote]
    valid_from: 2026-01-01
"""

# two mistakes: a rate over 100 (line 27) and an unknown cap unit (line 29)
BROKEN = PROGRAMME.replace("rate_percent: 80", "rate_percent: 150").replace(
    "cap_unit: per_firm_year", "cap_unit: per_week"
)

HANOI = ["1", "Công ty TNHH Hà Thành", "0312345673", "1", "ha noi", "hoan kiem", "1 Tràng Tiền", "0912345679"]


@pytest.fixture
async def env(db_url: str) -> AsyncIterator[tuple[Any, AsyncEngine, Clock]]:
    clock = Clock()
    service, db = await open_service(db_url, clock)
    yield service, db.engine, clock
    await db.close()


async def declared(service: Any, user: str, place: list[str], support: str = "I.2") -> Owner:
    """An owner who filed a dossier for one support (a 60 M solution), so their profile is saved."""
    owner = Owner(service, user)
    await owner.send("/start")
    await owner.script(*place, *DECLARE)
    await owner.send("1")  # continue after the size
    await owner.send(payload=support)
    await owner.send(payload="_done")
    await owner.script("60 triệu", "co", "chua")
    filed = await owner.send("1")
    assert "HS-" in filed, owner.transcript[-4:]
    owner.ref = next(w.strip(".,") for w in filed.split() if w.startswith("HS-"))  # type: ignore[attr-defined]
    return owner


async def test_add_with_two_errors_fix_publish_see_close(env: tuple) -> None:
    service, engine, _ = env
    _admin, bob, carol = await staff(service)

    shown = await bob.send("/programme_add\n" + BROKEN)
    assert "2 lỗi" in shown
    assert "line 27: item 'qt26-dx' field rate_percent" in shown
    assert "line 29: item 'qt26-dx' field cap_unit" in shown

    shown = await bob.send("/programme_add\n" + PROGRAMME)
    assert "Đã lưu bản nháp «qt-2026-digital» (phiên bản 1)" in shown
    # an officer of another province may not publish it (audited like any refusal)
    assert "ngoài phạm vi" in await carol.send("/programme_publish qt-2026-digital")
    assert "bản nháp" in await bob.send("/programmes")

    inside = await declared(service, "quangtri", QUANG_TRI)
    elsewhere = await declared(service, "hanoi", HANOI)
    assert "Quảng Trị 2026" not in await inside.send("/programmes")  # a draft is not open

    assert "Đã công bố «qt-2026-digital»" in await bob.send("/programme_publish qt-2026-digital")
    listed = await inside.send("/programmes")
    assert "Hỗ trợ chuyển đổi số doanh nghiệp nhỏ Quảng Trị 2026" in listed
    assert "tối đa 45 triệu đồng" in listed and "31/12/2026" in listed and "/new" in listed
    assert "Quảng Trị 2026" not in await elsewhere.send("/programmes")

    # the journey of an owner in the region lists it among the programmes that fit
    journey = await Owner(service, "quangtri2").script("/start", *QUANG_TRI, *DECLARE)
    assert "Hỗ trợ chuyển đổi số doanh nghiệp nhỏ Quảng Trị 2026" in journey

    officer_list = await bob.send("/programmes")
    assert "qt-2026-digital" in officer_list and "đã công bố" in officer_list
    assert "đã duyệt 0 đồng / tổng 10 triệu đồng" in officer_list

    assert "Đã đóng «qt-2026-digital»" in await bob.send("/programme_close qt-2026-digital")
    assert "Quảng Trị 2026" not in await inside.send("/programmes")

    async with engine.connect() as conn:
        rows = (await conn.execute(select(StoredProgramme.version, StoredProgramme.status))).all()
        actions = (await conn.execute(select(Event.actor, Event.action))).all()
    assert rows == [(1, "closed")]
    assert ("console:bob", "programme_publish") in actions
    assert ("console:bob", "programme_close") in actions
    assert ("console:carol", "refused") in actions


async def test_a_shipped_programme_cannot_be_shadowed(env: tuple) -> None:
    service, _, _ = env
    admin, bob, _ = await staff(service)
    shipped = PROGRAMME.replace("id: qt-2026-digital", "id: nd80-national")
    assert "có sẵn trong hệ thống" in await admin.send("/programme_add\n" + shipped)
    assert "có sẵn trong hệ thống" in await bob.send("/programme_close nd80-national")


async def test_an_approval_over_the_remaining_budget_needs_a_confirmation(env: tuple) -> None:
    service, engine, _ = env
    _admin, bob, _ = await staff(service)
    assert "Đã lưu bản nháp" in await bob.send("/programme_add\n" + PROGRAMME)
    assert "Đã công bố" in await bob.send("/programme_publish qt-2026-digital")
    # the owner chooses the digital solutions; the best row is this programme's (80 %, up to 45 M)
    owner = await declared(service, "quangtri", QUANG_TRI)
    ref = owner.ref  # type: ignore[attr-defined]
    assert "QT26.1" in await bob.send(f"/dossier {ref}")  # routed to the agency that published it
    await bob.send(f"/claim {ref}")

    shown = await bob.send(f"/approve {ref}")
    assert "vượt kinh phí còn lại: còn 10 triệu đồng trên tổng 10 triệu đồng" in shown
    assert f"/approve {ref} confirm" in shown and "Vẫn duyệt" in bob.buttons()[0]
    async with engine.connect() as conn:
        assert (await conn.execute(select(Dossier.status))).scalar() == "in_review"  # nothing decided

    # closed since it was filed: the dossier is still reviewed, against the same budget
    assert "Đã đóng" in await bob.send("/programme_close qt-2026-digital")
    assert "còn 10 triệu đồng trên tổng 10 triệu đồng" in await bob.send(f"/approve {ref}")
    assert "45 triệu đồng" in await bob.send(payload=bob.press("Vẫn duyệt"))
    async with engine.connect() as conn:
        assert (await conn.execute(select(Dossier.status))).scalar() == "approved"
    assert "đã duyệt 45 triệu đồng / tổng 10 triệu đồng; số hồ sơ: 1" in await bob.send("/programmes")


async def test_a_programme_sent_as_a_file(env: tuple, tmp_path: Path) -> None:
    service, _, _ = env
    _admin, bob, _ = await staff(service)
    path = tmp_path / "qt.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    file = FileInfo("qt.yaml", "application/yaml", path.stat().st_size, "0" * 64, str(path))
    shown = await bob.send("/programme_add", file=file)
    assert "line 27: item 'qt26-dx' field rate_percent" in shown
    path.write_text(PROGRAMME, encoding="utf-8")
    assert "Đã lưu bản nháp «qt-2026-digital» (phiên bản 1)" in await bob.send("/programme_add", file=file)
    assert "(phiên bản 2)" in await bob.send("/programme_add", file=file)  # a new version, the first kept


async def test_in_english_for_an_english_officer_and_owner(env: tuple) -> None:
    service, _, _ = env
    _admin, bob, _ = await staff(service)
    await bob.send("/lang en")
    shown = await bob.send("/programme_add\n" + BROKEN)
    assert "The programme file is not valid yet (2 errors)" in shown
    assert "line 29: item 'qt26-dx' field cap_unit" in shown
    assert "Draft 'qt-2026-digital' saved (version 1)" in await bob.send("/programme_add\n" + PROGRAMME)
    assert "Published 'qt-2026-digital'" in await bob.send("/programme_publish qt-2026-digital")
    listed = await bob.send("/programmes")
    assert "Status: published (version 1)" in listed and "Status: shipped;" in listed
    owner = await declared(service, "quangtri", QUANG_TRI)
    await owner.send("/lang en")
    shown = await owner.send("/programmes")
    assert "Quang Tri 2026 digital transformation support for small firms" in shown
    assert "up to 45 million VND" in shown and "applications until 31/12/2026" in shown
    assert "Type /new to apply" in shown


async def test_a_real_size_programme_file_is_not_cut(env: tuple, tmp_path: Path) -> None:
    """The Vĩnh Thủy plan (8.7 KB, over a message's 4,096 characters) under a new id, as a file."""
    service, _, _ = env
    admin = (await staff(service))[0]
    text = (PROGRAMMES / "vinh-thuy-2026-khuyen-cong.yaml").read_text(encoding="utf-8")
    text = text.replace("id: vinh-thuy-2026-khuyen-cong", "id: vinh-thuy-2027")
    text = text.replace("id: vt-", "id: vt27-")
    assert len(text) > 4096
    path = tmp_path / "vinh-thuy-2027.yaml"
    path.write_text(text, encoding="utf-8")
    file = FileInfo(path.name, "application/yaml", path.stat().st_size, "0" * 64, str(path))
    assert "Đã lưu bản nháp «vinh-thuy-2027» (phiên bản 1)" in await admin.send("/programme_add", file=file)
    assert "4 mục hỗ trợ" in admin.transcript[-1]


async def test_a_programme_published_in_another_process_reaches_this_ones_owners(
    env: tuple, db_url: str
) -> None:
    """Two servers (or the server and the terminal chat) on one database: what one publishes or closes,
    the other's owners see once it looks again (every few seconds; here at every message)."""
    service, _, clock = env
    _admin, bob, _ = await staff(service)
    other_db = await open_db(db_url)
    other = Service(other_db, default_catalogue(), clock, staff_config(), programmes_check_every=0)
    try:
        inside = await declared(other, "quangtri", QUANG_TRI)  # the other process has loaded them
        assert "Quảng Trị 2026" not in await inside.send("/programmes")
        assert "Đã lưu bản nháp" in await bob.send("/programme_add\n" + PROGRAMME)
        assert "Đã công bố" in await bob.send("/programme_publish qt-2026-digital")
        assert "Hỗ trợ chuyển đổi số doanh nghiệp nhỏ Quảng Trị 2026" in await inside.send("/programmes")
        assert "Đã đóng" in await bob.send("/programme_close qt-2026-digital")
        assert "Quảng Trị 2026" not in await inside.send("/programmes")
    finally:
        await other_db.close()
