"""The officer's workbench (issue 15, points 6-9), played as officers and owners through the real service on a
real SQLite file: the greeting and /help instead of the consent screen, statuses typed in Vietnamese, the
claim offered where it is needed, everything needed to decide in /dossier, the files sent and matched to
the checklist, a request for documents that stays open until it is answered, and reports that read right.

Dossiers are put in the store as the owner's filing step stores them (the owner's journey is tested in
tests/test_journey.py); everything after that is typed by the people themselves.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import matplotlib
import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.attachments import AttachmentStore
from bot.channels.telegram import TelegramChannel, make_bot
from bot.documents.charts import number_text, stats_figure
from bot.service import Service
from bot.staff import DEFAULT_AGENCIES, Staff
from bot.store import dossiers as dossiers_store
from bot.store import users as users_store
from bot.store.db import open_db
from bot.store.models import Dossier, Event, User, utcnow
from conversations.officer.handler import ADMIN_COMMANDS, OFFICER_COMMANDS
from rules.agencies import load_agencies
from rules.catalogue import default_catalogue
from rules.deadline import Calendar
from tests.driver import Clock, Owner, open_service
from tests.fakes.telegram_api import FakeTelegram, FakeUser

matplotlib.use("Agg")

TOKEN = "123456:TEST"
QUANG_TRI = "so-cong-thuong-quang-tri"
VINH_THUY = "ubnd-xa-vinh-thuy"
PROFILE = {
    "name": "Công ty TNHH Gốm Việt",
    "tax_code": "0100109106",
    "entity_type": "llc1",
    "province": "Quảng Trị",
    "commune": "Vĩnh Thủy",
    "address": "12 Lê Lợi",
    "phone": "0912345678",
    "email": "lan@gomviet.vn",
    "sector": "industry",
    "workers": 30,
    "female_workers": 12,
    "revenue": 20_000_000_000,
    "capital": 10_000_000_000,
    "women_owned": "yes",
}
CONSULTING = {
    "item_id": "consulting-small-priority",
    "code": "III.A.2.2",
    "programme_id": "nd80-national",
    "cost_vnd": 250_000_000,
    "quantity": 1,
    "state_vnd": 125_000_000,
    "enterprise_vnd": 125_000_000,
    "data": {
        "title_vi": "Tư vấn cho doanh nghiệp nhỏ do phụ nữ làm chủ",
        "title_en": "Consulting for small women-owned firms",
        "unit_cost_vnd": 250_000_000,
        "rate_percent": "50",
        "basis_vi": "Điểm b khoản 2 Điều 13 Nghị định 80/2021/NĐ-CP",
        "basis_en": "Decree 80/2021 Art. 13.2.b",
        "quote": True,
        "consultant_code": "TVV-0123",
        "evidence": ["declaration_form", "provider_quote", "network_consultant_contract"],
    },
}
DIGITAL = {
    "item_id": "dx-solution-small",
    "code": "I.2.2",
    "programme_id": "nd80-national",
    "cost_vnd": 60_000_000,
    "quantity": 1,
    "state_vnd": 30_000_000,
    "enterprise_vnd": 30_000_000,
    "data": {
        "title_vi": "Hỗ trợ thuê, mua giải pháp chuyển đổi số cho doanh nghiệp nhỏ",
        "title_en": "Digital transformation solutions for small firms",
        "unit_cost_vnd": 60_000_000,
        "basis_vi": "Khoản 2 Điều 11 Nghị định 80/2021/NĐ-CP",
        "basis_en": "Decree 80/2021 Art. 11.2",
        "quote": False,
        "evidence": ["declaration_form", "provider_quote"],
    },
}
MACHINERY = {
    "item_id": "vt-machinery",
    "code": "VT.1",
    "programme_id": "vinh-thuy-2026-khuyen-cong",
    "cost_vnd": 80_000_000,
    "quantity": 1,
    "state_vnd": 20_000_000,
    "enterprise_vnd": 60_000_000,
    "data": {"title_vi": "Hỗ trợ ứng dụng máy móc, thiết bị tiên tiến vào sản xuất", "evidence": []},
}


@pytest.fixture
async def env(db_url: str) -> AsyncIterator[tuple[Service, AsyncEngine, Clock]]:
    clock = Clock()
    service, db = await open_service(db_url, clock)
    yield service, db.engine, clock
    await db.close()


async def consent(service: Service, user: str) -> Owner:
    """A person who said yes to the privacy terms (the owner's side), as the owner's journey starts."""
    person = Owner(service, user)
    await person.send("/start")
    await person.send("1")
    await person.send("/cancel")
    return person


async def seed(
    service: Service,
    owner: str,
    items: tuple[dict[str, Any], ...] = (CONSULTING, DIGITAL),
    *,
    agency: str = QUANG_TRI,
    profile: dict[str, Any] | None = None,
    status: str = "submitted",
    filed_on: dt.date = dt.date(2026, 12, 1),
    extra: dict[str, Any] | None = None,
) -> str:
    """A dossier as the owner's filing step stores it (data, items, checklist, the audit row)."""
    firm = {**PROFILE, **(profile or {})}

    def work(s: Any) -> str:
        user = users_store.get_or_create_user(s, "console", owner)
        if user.consent_at is None:
            user.consent_at, user.consent_version = utcnow(), "2026-12-01"
        # the firm (name, tax code) the owner is recorded against; the journey's own answers are not needed
        enterprise = users_store.upsert_enterprise(s, user.id, firm["name"], firm["tax_code"], {})
        checklist = list(dict.fromkeys(e for i in items for e in i["data"]["evidence"]))
        d = dossiers_store.add_dossier(
            s,
            user_id=user.id,
            enterprise_id=enterprise.id,
            year=filed_on.year,
            status=status,
            size="small",
            data={
                "profile": firm,
                "province": firm["province"],
                "commune": firm["commune"],
                "size_summary_vi": "Doanh nghiệp nhỏ",
                "size_summary_en": "Small enterprise",
                "size_reason_vi": "30 lao động, doanh thu 20 tỷ đồng (khoản 2 Điều 5 Nghị định 80)",
                "size_reason_en": "30 workers, revenue 20 billion VND (Decree 80 Art. 5.2)",
                "flags": ["women_owned"],
                "checklist": checklist,
                "year": filed_on.year,
                "filed_on": filed_on.isoformat(),
                **(extra or {}),
            },
            items=items,
        )
        d.agency_id = agency
        dossiers_store.add_event(s, f"console:{owner}", "file", dossier_id=d.id, after={"status": status})
        return d.ref

    return await service.db.run(work)


async def officers(service: Service, *who: tuple[str, str]) -> tuple[Owner, ...]:
    admin = Owner(service, "admin")
    for user, agency in who:
        assert f"console:{user}" in await admin.send(f"/officer_add console:{user} {agency}")
    return admin, *(Owner(service, user) for user, _ in who)


async def dossier_row(engine: AsyncEngine, ref: str) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(select(Dossier.status, Dossier.data).where(Dossier.ref == ref))).one()


async def events(engine: AsyncEngine, action: str) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(Event).where(Event.action == action))).all())


# --- 15.6 a workbench ---------------------------------------------------------------------------------


async def test_officer_gets_a_workbench_not_the_owner_consent_screen(env: tuple) -> None:
    service, _, _ = env
    ref = await seed(service, "lan")
    admin, bob = await officers(service, ("bob", QUANG_TRI))
    greeting = await bob.send("/start")  # bob never wrote before: no consent screen for staff
    assert "Xin chào cán bộ console:bob (Sở Công Thương tỉnh Quảng Trị)" in greeting
    assert "1 hồ sơ đang mở" in greeting and "Hàng chờ" in bob.buttons()[0]
    assert "điều khoản" not in greeting.lower() and "đồng ý" not in greeting.lower()
    assert "Xin chào cán bộ" in await bob.send("xin chao")  # plain words: the workbench again
    assert ref in await bob.send("1")  # the first choice of the greeting: the queue

    helped = await bob.send("/help")
    for command in OFFICER_COMMANDS:
        assert f"{command} " in helped, command
    assert "/assign HS-2026-000123 1 2" in helped and "/reassign" not in helped
    admin_help = await admin.send("/help")
    for command in ADMIN_COMMANDS:
        assert f"{command} " in admin_help, command
    assert "Xin chào quản trị viên console:admin (mọi cơ quan)" in await admin.send("/start")

    # the queue by status, typed in Vietnamese with or without diacritics, or in English
    for typed in ("đã nộp", "da nop", "submitted", "moi"):
        assert ref in await bob.send(f"/queue {typed}"), typed
    for typed in ("cần bổ sung", "can bo sung", "đã duyệt", "tu choi"):
        assert "Không có hồ sơ nào" in await bob.send(f"/queue {typed}"), typed
    wrong = await bob.send("/queue xyz")
    assert "Không có trạng thái «xyz»" in wrong and "cần bổ sung" in wrong and "needs_info" not in wrong

    # a command that needs the claim says so and offers it
    asked = await bob.send(f"/approve {ref}")
    assert "chưa có cán bộ nhận xử lý" in asked and f"/claim {ref}" in asked
    assert "Đã nhận xử lý" in await bob.send(payload=bob.press("Nhận xử lý"))
    assert "Đã gửi yêu cầu bổ sung" in await bob.send(f"/ask {ref} báo giá có dấu")

    # in English: the greeting, statuses and the history
    english = await bob.send("/lang en")
    assert "Hello, officer console:bob" in english
    seen = await bob.send(f"/dossier {ref}")
    assert f"Dossier {ref} · documents requested" in seen
    assert "filed the dossier" in seen and "claimed" in seen and "asked for documents" in seen
    assert "nhận xử lý" not in seen and "· claim ·" not in seen
    assert ref in await bob.send("/queue needs info")
    assert ref in await bob.send("/queue cần bổ sung")  # Vietnamese still understood

    # an owner is not shown the workbench
    owner = Owner(service, "someone")
    assert "Xin chào cán bộ" not in await owner.send("/start")


async def test_officer_files_a_dossier_of_their_own_through_the_consent_screen(env: tuple) -> None:
    service, engine, _ = env
    _, bob = await officers(service, ("bob", QUANG_TRI))
    assert "Xin chào cán bộ" in await bob.send("/start")
    terms = await bob.send("/new")
    assert "Xin chào cán bộ" not in terms and len(bob.buttons()) >= 2  # the owner's consent screen
    await bob.send("1")  # agree
    async with engine.connect() as conn:
        consented = (await conn.execute(select(User.consent_at).where(User.external_id == "bob"))).scalar()
    assert consented is not None
    assert "Xin chào cán bộ" in await bob.send("/start")  # still the workbench on /start


# --- 15.7 everything needed to decide -----------------------------------------------------------------


async def test_dossier_shows_everything_and_files_are_sent_and_matched(env: tuple, tmp_path: Path) -> None:
    service, engine, _ = env
    ref = await seed(service, "lan")
    owner = await consent(service, "lan")
    store = AttachmentStore(tmp_path / "files", 1 << 20, ("application/pdf", "image/"))
    quote = b"%PDF-1.4 quote with stamp"
    await owner.send(file=store.keep("bao-gia.pdf", quote))
    await owner.send(file=store.keep("hop-dong.pdf", b"%PDF-1.4 consulting contract"))
    await owner.send(file=store.keep("bao-gia-lan-2.pdf", quote))  # the same file again
    _, bob = await officers(service, ("bob", QUANG_TRI))

    seen = await bob.send(f"/dossier {ref}")
    for expected in (
        "12 Lê Lợi",
        "0912345678",
        "lan@gomviet.vn",  # the contact
        "lao động 30 (nữ 12)",
        "doanh thu 20 tỷ đồng",
        "vốn 10 tỷ đồng",  # declared figures
        "Quy mô: Doanh nghiệp nhỏ",
        "Lý do xếp quy mô: 30 lao động",  # size and reason
        "III.A.2.2 Tư vấn cho doanh nghiệp nhỏ do phụ nữ làm chủ: 1 DN · chi phí 250 triệu đồng",
        "hỗ trợ ước tính 125 triệu đồng (Điểm b khoản 2 Điều 13 Nghị định 80/2021/NĐ-CP)",
        "Mã tư vấn viên (mạng lưới tư vấn viên): TVV-0123",
        "Báo giá: chủ doanh nghiệp cho biết đã có",
        "I.2.2 Hỗ trợ thuê, mua giải pháp chuyển đổi số",
        "Tệp đính kèm: 3",
        "#1 bao-gia.pdf",
        "#2 hop-dong.pdf",
        "#3 bao-gia-lan-2.pdf",
        "trùng nội dung với tệp #1",
        "☐ Báo giá",
    ):
        assert expected in seen, expected
    assert "Mở các tệp" in bob.buttons()

    listed = await bob.send(payload=bob.press("Mở các tệp"))
    assert "Các tệp của hồ sơ" in listed and "chưa gán giấy tờ" in listed
    sent = bob.documents()
    assert [d.filename for d in sent] == [f"{ref}-1-bao-gia.pdf", f"{ref}-2-hop-dong.pdf"]  # type: ignore[attr-defined]
    assert sent[0].content == quote  # type: ignore[attr-defined]

    assert "Cách dùng" in await bob.send(f"/assign {ref} 1")
    assert "không có tệp #9" in await bob.send(f"/assign {ref} 9 2")
    assert "Không có giấy tờ «abc»" in await bob.send(f"/assign {ref} 1 abc")
    assert "Đã gán tệp #1 bao-gia.pdf cho «Báo giá" in await bob.send(f"/assign {ref} 1 2")
    assert "Đã gán tệp #2" in await bob.send(f"/assign {ref} #2 network_consultant_contract")
    seen = await bob.send(f"/dossier {ref}")
    assert "#1 bao-gia.pdf (1 KB) → chứng minh: Báo giá" in seen and "☑ Báo giá" in seen
    assert "gán tệp cho giấy tờ" in seen  # the history, in the officer's language
    assigned = await events(engine, "assign")
    assert [(e.actor, e.after["evidence"]) for e in assigned] == [
        ("console:bob", "provider_quote"),
        ("console:bob", "network_consultant_contract"),
    ]


# --- 15.8 a request that stays open -------------------------------------------------------------------


async def test_a_request_stays_open_until_everything_asked_has_arrived(env: tuple, tmp_path: Path) -> None:
    service, engine, _ = env
    ref = await seed(service, "lan")
    owner = await consent(service, "lan")
    _, bob, dave = await officers(service, ("bob", QUANG_TRI), ("dave", QUANG_TRI))
    await bob.send(f"/claim {ref}")
    asked = await bob.send(f"/ask {ref} Báo giá có đóng dấu; Hợp đồng tư vấn đã ký")
    assert "1. Báo giá có đóng dấu\n2. Hợp đồng tư vấn đã ký" in asked

    told = await owner.send("/mydossiers")
    assert "1. Báo giá có đóng dấu" in told and "gõ «xong»" in told
    store = AttachmentStore(tmp_path / "files", 1 << 20, ("application/pdf",))
    first = await owner.send(file=store.keep("bao-gia.pdf", b"%PDF-1.4 stamped quote"))
    assert "Đã ghi cho mục 1: Báo giá có đóng dấu" in first
    assert "Còn thiếu:\n2. Hợp đồng tư vấn đã ký" in first
    again = await owner.send(file=store.keep("bao-gia-2.pdf", b"%PDF-1.4 stamped quote"))
    assert "trùng nội dung với tệp #1" in again
    later = await owner.send("Hợp đồng em gửi chiều nay nhé")
    assert "đã được lưu kèm yêu cầu" in later and "Còn thiếu" in later
    assert (await dossier_row(engine, ref)).status == "needs_info"  # still open: item 2 is missing

    seen = await bob.send(f"/dossier {ref}")
    assert "1. Báo giá có đóng dấu ✓" in seen and "Chủ doanh nghiệp nhắn: Hợp đồng em gửi chiều nay" in seen
    assert "gửi một phần bổ sung" in seen

    done = await owner.send("2. Đã ký, bản chụp gửi kèm")
    assert "Đã ghi cho mục 2" in done and f"Hồ sơ {ref} đã được chuyển lại cán bộ" in done
    status, data = await dossier_row(engine, ref)
    assert status == "in_review" and data["claimed_by"] == "console:bob"  # back to bob, who keeps it
    assert "open_request" not in data and data["requests"][0]["closed"]

    # bob is told, and decides without claiming again; dave may not decide bob's dossier
    assert "Thông báo mới:" in (news := await bob.send("/queue"))
    assert f"Hồ sơ {ref}: chủ doanh nghiệp đã gửi đủ các mục bạn yêu cầu" in news
    assert "do console:bob đang xử lý" in await dave.send(f"/approve {ref}")
    assert "Đã chấp thuận" in await bob.send(f"/approve {ref}")


async def test_the_owner_says_done_and_the_officer_hears_of_a_withdrawal(env: tuple) -> None:
    service, engine, _ = env
    ref = await seed(service, "lan")
    unclaimed = await seed(service, "lan", (DIGITAL,))
    owner = await consent(service, "lan")
    _, bob, dave = await officers(service, ("bob", QUANG_TRI), ("dave", QUANG_TRI))
    await bob.send(f"/claim {ref}")
    await bob.send(f"/ask {ref} 1. Báo giá 2. Giấy chứng nhận doanh nghiệp do phụ nữ làm chủ")
    assert "Còn thiếu" in await owner.send("1. Báo giá đã gửi qua email")
    assert f"Hồ sơ {ref} đã được chuyển lại cán bộ" in await owner.send("xong")
    assert (await dossier_row(engine, ref)).status == "in_review"
    news = await bob.send("/queue")
    assert "chủ doanh nghiệp báo đã bổ sung xong" in news and "1. Báo giá ✓" in news

    assert f"Đã rút hồ sơ {ref}" in await owner.send(f"/withdraw {ref}")
    assert f"Hồ sơ {ref} đã được chủ doanh nghiệp rút" in await bob.send("/queue")
    assert f"Đã rút hồ sơ {unclaimed}" in await owner.send(f"/withdraw {unclaimed}")
    for officer in (bob, dave):  # nobody had claimed it: every officer of the agency hears of it
        assert f"Hồ sơ {unclaimed} đã được chủ doanh nghiệp rút" in await officer.send("/queue")


# --- 15.9 reports -------------------------------------------------------------------------------------


def test_chart_axes_count_in_whole_numbers_with_vietnamese_separators() -> None:
    import matplotlib.pyplot as plt

    for series, lang, group in (
        ({"đã nộp": 1, "đang xem xét": 2}, "vi", "."),
        ({"đã nộp": 1500, "được chấp thuận": 2500}, "vi", "."),
        ({"submitted": 1500, "approved": 2500}, "en", ","),
    ):
        fig = stats_figure("Hồ sơ năm 2026", series, lang, xlabel="Số hồ sơ")
        try:
            fig.canvas.draw()
            ax = fig.axes[0]
            ticks = [label.get_text() for label in ax.get_xticklabels() if label.get_text()]
            values = [int(tick.replace(group, "")) for tick in ticks]  # whole numbers, nothing else
            assert values[0] == 0 and values == sorted(set(values)), ticks  # never "0, 0, 1, 1"
            assert all(tick == f"{v:,}".replace(",", group) for tick, v in zip(ticks, values, strict=True))
            assert ax.get_xlim()[0] == 0 and ax.get_xlim()[1] > max(series.values())
            assert ax.get_xlabel() == "Số hồ sơ"
            assert [t.get_text() for t in ax.get_yticklabels()] == list(series)
            bar_labels = [t.get_text() for t in ax.texts]
            assert bar_labels == [f"{v:,}".replace(",", group) for v in series.values()]
        finally:
            plt.close(fig)
    assert (number_text(2.5, "vi"), number_text(1234567, "vi")) == ("2,5", "1.234.567")
    assert (number_text(2.5, "en"), number_text(1234567, "en")) == ("2.5", "1,234,567")


async def test_stats_in_vietnamese_numbers(env: tuple) -> None:
    service, _, clock = env
    first = await seed(service, "lan")
    second = await seed(service, "minh", (DIGITAL,), profile={"tax_code": "0312345678"})
    _, bob = await officers(service, ("bob", QUANG_TRI))
    for ref in (first, second):
        await bob.send(f"/claim {ref}")
    await bob.send(f"/approve {first}")
    clock.day = dt.date(2026, 12, 3)  # two working days after filing
    await bob.send(f"/reject {second} Không thuộc đối tượng")
    stats = await bob.send("/stats")
    assert "Thời gian trung bình đến khi có quyết định: 1,0 ngày làm việc (2 hồ sơ)" in stats
    [chart] = bob.documents()
    assert chart.content.startswith(b"\x89PNG")  # type: ignore[attr-defined]


async def test_commune_khuyen_cong_plan_is_laid_out_for_its_programme(env: tuple) -> None:
    service, _, _ = env
    approved = await seed(service, "lan", (MACHINERY,), agency=VINH_THUY)
    pending = await seed(service, "minh", (MACHINERY,), agency=VINH_THUY, profile={"tax_code": "0312345678"})
    _, tam = await officers(service, ("tam", VINH_THUY))
    for ref in (approved, pending):
        await tam.send(f"/claim {ref}")
    await tam.send(f"/approve {approved}")
    summary = await tam.send("/export 2026")
    assert "theo bảng kinh phí của Kế hoạch triển khai hoạt động khuyến công" in summary
    assert "Biểu 2" not in summary and "2 hồ sơ — 1 được chấp thuận" in summary and "1 đang xử lý" in summary
    xlsx, _ = tam.documents()
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))  # type: ignore[attr-defined]
    sheet = book.worksheets[0]
    rows = [r for r in sheet.iter_rows(values_only=True)]
    text = " ".join(str(c) for r in rows for c in r if c is not None)
    assert "Biểu 2" not in text and "Phụ lục 4" not in text
    assert "Dự kiến kinh phí hỗ trợ: Kế hoạch triển khai hoạt động khuyến công" in text
    items = [r for r in rows if isinstance(r[0], int)]
    assert [r[1] for r in items] == [
        "Hỗ trợ ứng dụng máy móc, thiết bị tiên tiến vào sản xuất",
        "Hỗ trợ thiết kế bao bì, nhãn mác, nhãn hiệu sản phẩm OCOP…",
        "Hỗ trợ tham gia hội chợ, triển lãm để mở rộng thị trường, xúc tiến thương mại cho cơ sở CNNT",
        "Hỗ trợ tham quan, tập huấn, học hỏi kinh nghiệm, công nghệ sản xuất của các cơ sở CNNT trong và"
        " ngoài tỉnh thành",
    ]
    machinery = items[0]
    assert (machinery[2], machinery[3], machinery[4], machinery[5]) == ("Cơ sở", 20_000_000, 1, 20_000_000)
    budget = next(r for r in rows if r[1] == "Dự toán kinh phí của kế hoạch")
    assert budget[5] == 130_000_000
    left = next(r for r in rows if r[1] == "Còn lại")
    assert str(left[5]).startswith("=")  # a formula: budget minus the total


async def test_export_counts_dossiers_by_their_status_at_the_export_date(env: tuple) -> None:
    service, _, _ = env
    approved = await seed(service, "a", (CONSULTING,))
    open_ = await seed(service, "b", (DIGITAL,), profile={"tax_code": "0312345671"})
    rejected = await seed(service, "c", (DIGITAL,), profile={"tax_code": "0312345672"})
    later_decided = await seed(
        service,
        "d",
        (DIGITAL,),
        profile={"tax_code": "0312345673"},
        status="approved",
        extra={"decided_on": "2026-12-20"},
    )
    filed_later = await seed(
        service, "e", (DIGITAL,), profile={"tax_code": "0312345674"}, filed_on=dt.date(2026, 12, 15)
    )
    _, bob = await officers(service, ("bob", QUANG_TRI))
    for ref in (approved, open_, rejected):
        await bob.send(f"/claim {ref}")
    await bob.send(f"/approve {approved}")
    await bob.send(f"/reject {rejected} Thiếu giấy tờ")
    summary = await bob.send("/export 2026")
    # at 01/12/2026: one approved, two under review (one decided only on 20/12), one rejected; one filed later
    assert "tính đến ngày 01/12/2026: 4 hồ sơ — 1 được chấp thuận" in summary
    assert "2 đang xử lý" in summary and "1 bị từ chối hoặc đã rút" in summary
    xlsx, listing = bob.documents()
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))  # type: ignore[attr-defined]
    scopes = [ws.cell(row=3, column=1).value for ws in book.worksheets]
    assert scopes == [
        "(Các hồ sơ được chấp thuận tính đến ngày 01/12/2026: 1 hồ sơ)",
        "(Các hồ sơ đang xử lý tính đến ngày 01/12/2026: 2 hồ sơ, chưa có quyết định)",
    ]
    approved_sheet, submitted_sheet = book.worksheets
    # the grand total row of each sheet holds what the dossiers it counts hold
    assert _grand_state(approved_sheet) == 125_000_000  # the consulting item, approved in full
    assert _grand_state(submitted_sheet) == 60_000_000  # two digital items of 30 M under review
    rows = list(csv.DictReader(io.StringIO(listing.content.decode("utf-8-sig"))))  # type: ignore[attr-defined]
    by_ref = {r["ref"]: (r["status"], r["sheet"]) for r in rows}
    assert by_ref == {
        approved: ("approved", "Đã phê duyệt"),
        open_: ("in_review", "Đã nộp"),
        rejected: ("rejected", ""),
        later_decided: ("in_review", "Đã nộp"),
        filed_later: ("", ""),
    }


def _grand_state(ws: Any) -> int:
    """What the grand total's formula gives: the sum of the leaf rows' state amounts (openpyxl keeps
    formulas, it does not compute them)."""
    total = 0
    for row in ws.iter_rows(values_only=True):
        if isinstance(row[6], int) and row[3] is not None and not str(row[6]).startswith("="):
            total += row[6]
    return total


# --- the same workbench over Telegram, where the buttons matter ----------------------------------------


@pytest.fixture
async def telegram(tmp_path: Path) -> AsyncIterator[tuple[FakeTelegram, Service, Path]]:
    """Real python-telegram-bot against the fake Bot API over HTTP, on a real SQLite file."""
    async with FakeTelegram(token=TOKEN) as fake:
        db = await open_db(f"sqlite+aiosqlite:///{tmp_path / 'smebot.db'}")
        staff = Staff(frozenset({"telegram:900"}), load_agencies(DEFAULT_AGENCIES), Calendar())
        service = Service(db, default_catalogue(), Clock(), staff, documents_dir=tmp_path / "documents")
        store = AttachmentStore(tmp_path / "files", 5 * 1024 * 1024, ("image/", "application/pdf"))
        channel = TelegramChannel(service, db, make_bot(TOKEN, fake.base_url), store, chat_interval=0.01)
        stop = asyncio.Event()
        task = asyncio.create_task(channel.run(stop))
        try:
            yield fake, service, tmp_path
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)
            await db.close()


async def tap(user: FakeUser, label: str, expect: str) -> dict[str, Any]:
    for n, (text, _) in enumerate(user.buttons(), 1):
        if label in text:
            await user.press_button(n)
            return await user.wait_for(expect, timeout=15)
    raise AssertionError(f"no button {label!r} in {user.buttons()}")


async def test_officer_workbench_over_telegram_with_buttons(telegram: tuple) -> None:
    fake, service, tmp_path = telegram
    ref = await seed(service, "lan")
    owner = await consent(service, "lan")
    store = AttachmentStore(tmp_path / "owner-files", 1 << 20, ("application/pdf",))
    await owner.send(file=store.keep("bao-gia.pdf", b"%PDF-1.4 stamped quote"))
    admin = fake.user(900, "Admin")
    await admin.send_text("/officer_add telegram:901 so-cong-thuong-quang-tri")
    await admin.wait_for("Đã thêm cán bộ telegram:901", timeout=15)

    minh = fake.user(901, "Minh", "vi")
    await minh.send_text("/start")
    greeting = await minh.wait_for("Xin chào cán bộ telegram:901", timeout=15)
    assert "điều khoản" not in greeting["text"].lower()  # no consent screen
    await tap(minh, "Hàng chờ", ref)
    seen = await tap(minh, ref, f"Hồ sơ {ref}")
    assert "0912345678" in seen["text"] and "#1 bao-gia.pdf" in seen["text"]
    await minh.send_text(f"/approve {ref}")  # not claimed yet: said, and the claim offered as a button
    await minh.wait_for("chưa có cán bộ nhận xử lý", timeout=15)
    await tap(minh, "Nhận xử lý", f"Đã nhận xử lý hồ sơ {ref}")
    await minh.send_text(f"/files {ref}")
    await minh.wait_for("Các tệp của hồ sơ", timeout=15)
    wanted = f"{ref}-1-bao-gia.pdf"
    uploads = await fake.wait_for_calls("sendDocument", 3)  # the dossier's DOCX and HTML, then the file
    upload = next(c.files["document"] for c in uploads if c.files["document"].filename == wanted)
    assert upload.content == b"%PDF-1.4 stamped quote"


# --- one whole officer session through `smebot chat` (the README's Officers section) ------------------


def terminal(tmp: Path, user: str, lines: list[str]) -> str:
    env = {
        **os.environ,
        "SMEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'smebot.db'}",
        "SMEBOT_FILES_DIR": str(tmp / "files"),
        "SMEBOT_DOCUMENTS_DIR": str(tmp / "documents" / user),
        "SMEBOT_ADMIN_IDS": "console:admin",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--user", user],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return done.stdout


async def test_an_officer_session_through_the_terminal_chat(tmp_path: Path) -> None:
    today = dt.date.today()
    service, db = await open_service(f"sqlite+aiosqlite:///{tmp_path / 'smebot.db'}", Clock(today))
    ref = await seed(service, "lan", filed_on=today)
    owner = await consent(service, "lan")
    store = AttachmentStore(tmp_path / "files", 1 << 20, ("application/pdf",))
    await owner.send(file=store.keep("bao-gia.pdf", b"%PDF-1.4 stamped quote"))
    await db.close()
    (tmp_path / "hop-dong.pdf").write_bytes(b"%PDF-1.4 signed contract")
    (tmp_path / "chung-nhan.pdf").write_bytes(b"%PDF-1.4 certificate")

    assert "Đã thêm cán bộ console:minh" in terminal(
        tmp_path, "admin", [f"/officer_add console:minh {QUANG_TRI}"]
    )
    first = terminal(
        tmp_path,
        "minh",
        [
            "/queue cần bổ sung",
            f"/dossier {ref}",
            f"/approve {ref}",
            "Nhận xử lý",
            f"/files {ref}",
            f"/assign {ref} 1 2",
            f"/ask {ref} Hợp đồng tư vấn đã ký; Giấy chứng nhận doanh nghiệp do phụ nữ làm chủ",
        ],
    )
    assert first.startswith("Xin chào cán bộ console:minh (Sở Công Thương tỉnh Quảng Trị).")
    for expected in (
        "Không có hồ sơ nào trong hàng chờ.",
        "Liên hệ: địa chỉ 12 Lê Lợi · điện thoại 0912345678",
        "#1 bao-gia.pdf (1 KB) → chưa gán giấy tờ",
        "chưa có cán bộ nhận xử lý; cần nhận xử lý trước khi chấp thuận",
        f"Đã nhận xử lý hồ sơ {ref}.",
        "Các tệp của hồ sơ",
        "Đã gán tệp #1 bao-gia.pdf cho «Báo giá",
        "1. Hợp đồng tư vấn đã ký\n2. Giấy chứng nhận doanh nghiệp do phụ nữ làm chủ",
    ):
        assert expected in first, expected
    received = tmp_path / "documents" / "minh" / f"{ref}-1-bao-gia.pdf"
    assert received.read_bytes() == b"%PDF-1.4 stamped quote"

    answered = terminal(
        tmp_path, "lan", [f"/file {tmp_path / 'hop-dong.pdf'}", f"/file {tmp_path / 'chung-nhan.pdf'}"]
    )
    assert "Đã ghi cho mục 1" in answered and f"Hồ sơ {ref} đã được chuyển lại cán bộ xem xét" in answered

    last = terminal(
        tmp_path,
        "minh",
        [f"/approve {ref} III.A.2.2=100tr I.2.2=0 duyệt một phần", "/stats", "/export"],
    )
    assert "chủ doanh nghiệp đã gửi đủ các mục bạn yêu cầu" in last
    assert f"Đã chấp thuận hồ sơ {ref}, tổng hỗ trợ 100 triệu đồng." in last
    assert "1 hồ sơ — 1 được chấp thuận" in last
    book = openpyxl.load_workbook(tmp_path / "documents" / "minh" / f"smebot-ke-hoach-{today.year}.xlsx")
    assert _grand_state(book.worksheets[0]) == 100_000_000
