"""A household business is not a Decree 80 enterprise (Art. 2; Law 04/2017 Art. 4): no SME size, its 12-digit
personal ID as its code (Circular 86/2024/TT-BTC), the commune khuyến công plan where it applies, and the
conversion supports of Decree 80 Chapter IV Section 1 — through the real service and SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.models import Dossier, DossierItem
from conversations.validators import normalize_firm_code, normalize_personal_id
from tests.driver import Owner, open_service


@pytest.fixture
async def env(db_url: str) -> AsyncIterator[tuple[Any, AsyncEngine]]:
    service, db = await open_service(db_url)
    yield service, db.engine
    await db.close()


def test_personal_id_is_a_household_code_circular_86_2024() -> None:
    assert normalize_personal_id("044 190 001 234") == "044190001234"
    assert normalize_personal_id("999190001234") is None  # no province 999
    assert normalize_firm_code("0100109106") == "0100109106"
    assert normalize_firm_code("044190001234") == "044190001234"
    assert normalize_firm_code("12345") is None


async def test_household_in_vinh_thuy_gets_the_commune_plan_not_decree_80(
    env: tuple[Any, AsyncEngine],
) -> None:
    service, engine = env
    owner = Owner(service, "banh-trang")
    await owner.send("/start")
    await owner.script("dong y", "Hộ kinh doanh Bánh Tráng Cô Ba", "044190001234")
    refused = await owner.send("1")  # a company with a personal ID: refused with the way forward
    assert "12 số" in refused and "/back" in refused
    await owner.script("ho kinh doanh", "quang tri", "vinh thuy", "thon Dong", "0912345678", "bo qua")
    # no workers, revenue, capital or Decree 80 priority questions for a household
    asked = await owner.script("cong nghiep", "co")
    assert "công nghiệp nông thôn" in asked
    summary = await owner.send("co")
    assert "không phải là doanh nghiệp" in summary and "Doanh nghiệp siêu nhỏ" not in summary
    assert "✓ Kế hoạch triển khai hoạt động khuyến công" in summary
    assert "✗ Hỗ trợ doanh nghiệp nhỏ và vừa theo Nghị định 80/2021/NĐ-CP" in summary
    assert "miễn lệ phí môn bài 3 năm" in summary  # conversion: ND80 Art. 18
    items = await owner.send("tiep tuc")
    assert "VT.1" in items and "III.A" not in items
    await owner.script("1", "xong", "30 trieu", "co")
    review = owner.transcript[-1]
    assert "kinh phí dự kiến của kế hoạch 20 triệu đồng" in review and "%" not in review.split("Tổng")[0]
    assert "khoản 2 Điều 32" in review  # the plan's procedure, not the 14-working-day answer
    filed = await owner.send("nop ho so")
    assert "HS-2026-000001" in filed and "14 ngày làm việc kể từ" not in filed
    async with engine.connect() as conn:
        size, data = (await conn.execute(select(Dossier.size, Dossier.data))).one()
        items_filed = (await conn.execute(select(DossierItem.code, DossierItem.state_vnd))).all()
    assert size == "none" and data["entity"] == "household"
    assert items_filed == [("VT.1", 20_000_000)]


async def test_household_elsewhere_is_told_why_and_what_would_open_support(
    env: tuple[Any, AsyncEngine],
) -> None:
    service, _ = env
    owner = Owner(service, "ha-noi-household")
    await owner.send("/start")
    await owner.script("dong y", "Hộ kinh doanh Phở Gia", "001190001234", "ho kinh doanh")
    await owner.script("ha noi", "hoan kiem", "12 Hang Bac", "0912345678", "bo qua")
    summary = await owner.send("dich vu")
    assert "Hiện chưa có chương trình nào" in summary
    assert "chỉ dành cho cơ sở có trụ sở tại Vĩnh Thủy, Quảng Trị" in summary
    assert "Mục 1 Chương IV Nghị định 80/2021/NĐ-CP" in summary
