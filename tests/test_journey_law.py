"""Issue 12 in the chat: what an owner is offered and told, through the real service and SQLite."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.driver import Clock, Owner, open_service

QUANG_TRI = ["quang tri", "vinh thuy", "12 Le Loi", "0912345678", "bo qua"]
DA_NANG = ["da nang", "hai chau", "12 Bach Dang", "0905123456", "bo qua"]


@pytest.fixture
async def clock_and_service(db_url: str) -> AsyncIterator[tuple[Clock, Any]]:
    clock = Clock()
    service, db = await open_service(db_url, clock)
    yield clock, service
    await db.close()


async def start(owner: Owner, name: str, place: list[str]) -> None:
    await owner.send("/start")
    await owner.script("1", name, "0100109106", "1", *place)


async def test_one_consulting_offer_across_the_province_and_the_nation_nd80_art4_2(
    clock_and_service: tuple[Clock, Any],
) -> None:
    """Quảng Trị 2025 plan row 1.1 repeats Biểu 2 III.A: a women-owned micro firm sees one consulting
    support and gets its yearly 70 triệu once, with the programme and the reason named (ND80 Art. 4.2;
    TT06 Art. 3.4)."""
    clock, service = clock_and_service
    clock.day = dt.date(2025, 6, 2)
    owner = Owner(service, "qt-women-micro")
    await start(owner, "Gốm Nữ Chủ", QUANG_TRI)
    # services firm: not asked about production, so not about clusters either
    await owner.script("dich vu", "5", "3", "2 ty", "1 ty", "12", "co", "khong", "khong", "1")
    items = await owner.send("1")
    consulting = [line for line in items.splitlines() if "[Tư vấn]" in line]
    assert len(consulting) == 1, items  # one content, one offer: never QT.1.1.P beside III.A.1.2
    await owner.send(payload="III.A")
    await owner.send("xong")
    review = await owner.script("100 triệu", "co", "TVV-1", "chua")
    assert "ngân sách nhà nước hỗ trợ 70 triệu đồng" in review
    assert "Tổng ngân sách nhà nước hỗ trợ (ước tính): 70 triệu đồng" in review
    assert "mức có lợi nhất" in review and "khoản 2 Điều 4" in review


async def test_a_trading_firm_is_not_offered_cluster_rows_tt06_art5_1_b(
    clock_and_service: tuple[Clock, Any],
) -> None:
    _, service = clock_and_service
    owner = Owner(service, "trader")
    await start(owner, "Thương mại Hòa", DA_NANG)
    size = await owner.script("thuong mai", "8", "2", "5 ty", "2 ty", "12", "khong", "khong", "khong", "1")
    assert "Kết quả: Doanh nghiệp" in size
    assert not any("tham gia cụm liên kết ngành hoặc chuỗi giá trị không" in t for t in owner.transcript)
    items = await owner.send("1")
    pages = [items]
    while "Trang sau" in pages[-1]:
        pages.append(await owner.send(payload="_page:next"))
    listing = "\n".join(pages)
    assert " IV." not in listing and "Cụm liên kết ngành, chuỗi giá trị" not in listing


async def test_a_stale_date_is_said_with_the_dates_not_silently_dropped_nd80_art22_6_c(
    clock_and_service: tuple[Clock, Any],
) -> None:
    """E-commerce upkeep at most 2 years from the account (ND80 Art. 22.6.c): the owner is told why, with the
    dates, and is not asked the cost of a support that is out of time."""
    _, service = clock_and_service
    owner = Owner(service, "startup")
    await start(owner, "Sáng Tạo Xanh", DA_NANG)
    await owner.script("dich vu", "6", "3", "3 ty", "2 ty", "12", "khong", "khong", "khong", "2")
    asked = await owner.send("15/3/2022")  # first registration: asked because it decides start-up support
    assert "Doanh nghiệp siêu nhỏ" in asked
    await owner.send("1")
    await owner.send(payload="II.6.2")
    date_question = await owner.send("xong")
    assert "Ngày đăng ký thành công tài khoản" in date_question
    review = await owner.send("1/6/2024")
    assert "Chi phí dự kiến" not in review
    assert "01/06/2024" in review and "01/06/2026" in review and "đã quá thời hạn" in review


async def test_other_agencies_count_against_the_yearly_cap_tt06_art3_5(
    clock_and_service: tuple[Clock, Any],
) -> None:
    _, service = clock_and_service
    owner = Owner(service, "declared")
    await start(owner, "Cơ khí Đà", DA_NANG)
    await owner.script(
        "cong nghiep", "40", "10", "30 ty", "15 ty", "12", "khong", "khong", "khong", "khong", "1"
    )
    await owner.send("1")
    await owner.send(payload="III.A")
    await owner.send("xong")
    review = await owner.script("300 triệu", "co", "TVV-5", "80 triệu")
    # small firm: 50% up to 100 triệu a year (ND80 Art. 13.2.b); 80 triệu already from another agency
    assert "ngân sách nhà nước hỗ trợ 20 triệu đồng" in review
    assert "80 triệu đồng" in review
    await owner.send("1")  # file: the dossier shows what was declared, beside what smebot knows
    html = next(d for d in owner.documents() if getattr(d, "filename", "").endswith(".html"))
    text = html.content.decode("utf-8")  # type: ignore[attr-defined]
    assert "khai đã nhận từ cơ quan, chương trình khác" in text and "80.000.000" in text


async def test_an_approval_from_another_account_of_the_firm_counts_tt06_art3_5(
    clock_and_service: tuple[Clock, Any], db_url: str
) -> None:
    """Caps are per firm per year: what the firm got through one account (Telegram) counts when it asks
    again from another (the terminal), matched by its tax code."""
    from sqlalchemy import update
    from sqlalchemy.ext.asyncio import create_async_engine

    from bot.store.models import Dossier, DossierItem

    _, service = clock_and_service
    first = Owner(service, "tg-owner", channel="telegram")
    await start(first, "Dịch vụ Hai Kênh", DA_NANG)
    await first.script("dich vu", "6", "1", "3 ty", "1 ty", "12", "khong", "khong", "khong", "1", "1")
    await first.send(payload="III.A")
    await first.send("xong")
    await first.script("40 trieu", "co", "TVV-7", "chua", "nop ho so")
    engine = create_async_engine(db_url)
    async with engine.begin() as conn:  # the agency approved 40 triệu (the officer side is tested elsewhere)
        await conn.execute(update(Dossier).values(status="approved"))
        await conn.execute(update(DossierItem).values(approved_vnd=40_000_000))
    await engine.dispose()
    second = Owner(service, "console-owner")
    await start(second, "Dịch vụ Hai Kênh", DA_NANG)
    await second.script("dich vu", "6", "1", "3 ty", "1 ty", "12", "khong", "khong", "khong", "1", "1")
    await second.send(payload="III.A")
    await second.send("xong")
    review = await second.script("40 trieu", "co", "TVV-7", "chua")
    # micro: 50 triệu a year for consulting (ND80 Art. 13.2.a); 40 already approved for this tax code
    assert "ngân sách nhà nước hỗ trợ 10 triệu đồng" in review
