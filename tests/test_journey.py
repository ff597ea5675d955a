"""The owner's journey through the real service and a real SQLite file (issue 4 "Done when")."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.models import Dossier, DossierItem, Enterprise, User
from conversations.engine import Input
from tests.driver import Clock, Owner, open_service

HANOI = ["Ha Noi", "Hoan Kiem", "12 Hang Bac", "0912345678", "bo qua"]
VINH_THUY = ["quang tri", "vinh thuy", "12 Le Loi, thon Dong", "0912 345 678", "lienhe@gomviet.vn"]


def profile(name: str, place: list[str]) -> list[str]:
    return ["1", name, "0100109106", "Cong ty TNHH mot thanh vien", *place]


@pytest.fixture
async def env(db_url: str) -> AsyncIterator[tuple[object, AsyncEngine, Clock]]:
    clock = Clock()
    service, db = await open_service(db_url, clock)
    yield service, db.engine, clock  # type: ignore[misc]
    await db.close()


async def file_micro_services_consulting(owner: Owner) -> None:
    """From the sector question: a micro services firm files a 40 M consulting contract (III.A.1.1)."""
    # a services firm is not asked about clusters: those supports are for production (TT06 Art. 5.1.b)
    await owner.script("dich vu", "6", "4", "3 tỷ", "1 tỷ", "trên 1 năm", "khong", "khong", "khong", "1", "1")
    await owner.send(payload="III.A")
    await owner.send("xong")
    await owner.script("40 triệu", "co", "TVV-7", "chua", "1")  # "chua": nothing from other agencies


async def dossiers(engine: AsyncEngine) -> list[tuple[str, str, list[tuple[str, int]]]]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(select(Dossier.id, Dossier.ref, Dossier.status).order_by(Dossier.id))
        ).all()
        out = []
        for dossier_id, ref, status in rows:
            items = (
                await conn.execute(
                    select(DossierItem.code, DossierItem.state_vnd).where(
                        DossierItem.dossier_id == dossier_id
                    )
                )
            ).all()
            out.append((ref, status, [(c, s) for c, s in items]))
        return out


async def test_micro_trading_firm_files_a_consulting_dossier(env: tuple) -> None:
    service, engine, _ = env
    owner = Owner(service, "micro-trader")
    first = await owner.send("/start")
    assert "Nghị định 13/2023/NĐ-CP" in first and "chỉ là ước tính" in first
    await owner.script(*profile("Cửa hàng Minh An", HANOI))
    await owner.script("thuong mai", "5", "1", "8 ty", "2 ty", "12", "khong", "khong", "khong")
    size = await owner.send("1")  # not a start-up; a trading firm is not asked about clusters
    assert "Doanh nghiệp siêu nhỏ" in size and "Điều 5 Nghị định 80/2021/NĐ-CP" in size
    items = await owner.send("Tiep tuc")
    assert "III.A.1.1" in items and "III.A.2.1" not in items
    await owner.send(payload="III.A")
    cost = await owner.send("xong")
    assert "Chi phí dự kiến" in cost
    await owner.script("60 triệu", "khong", "chua co")
    review = await owner.send("chua")  # nothing received from other agencies this year
    assert "ngân sách nhà nước hỗ trợ 50 triệu đồng" in review
    assert "doanh nghiệp chi trả 10 triệu đồng" in review
    assert "mạng lưới tư vấn viên" in review and "ước tính" in review
    filed = await owner.send("Nop ho so")
    assert "HS-2026-000001" in filed and "14 ngày làm việc" in filed
    assert await dossiers(engine) == [("HS-2026-000001", "submitted", [("III.A.1.1", 50_000_000)])]


async def test_women_owned_small_manufacturer_in_a_cluster(env: tuple) -> None:
    service, engine, _ = env
    owner = Owner(service, "gom-viet")
    await owner.send("/start")
    await owner.script(*profile("Công ty TNHH Gốm Việt", VINH_THUY))
    await owner.script("cong nghiep", "30", "12", "20 tỷ", "10 tỷ", "12", "co", "khong", "khong", "co", "1")
    await owner.send("Tham gia cụm liên kết ngành")
    size = await owner.send("khong")  # not a rural establishment
    assert "Doanh nghiệp nhỏ" in size
    assert "doanh nghiệp do phụ nữ làm chủ" in size and "doanh nghiệp tham gia cụm liên kết ngành" in size
    items = await owner.send("1")
    assert "III.A.2.2" in items  # the women-owned row is the one shown
    await owner.send(payload="III.A")
    await owner.send(payload="IV.1.2")
    await owner.send(payload="_done")
    await owner.script("250 triệu", "co", "TVV-0123", "chua")
    await owner.script("4", "12 triệu", "co", "khong")  # trainees: quantity first, then cost per trainee
    review = owner.transcript[-1]
    assert "125 triệu đồng" in review  # 50 % of 250 M, women-owned cap 150 M (ND80 Art. 13.2.b)
    assert "18 triệu đồng" in review  # 3 of 4 trainees x 12 M x 50 % (ND80 Art. 25.1.b)
    assert "143 triệu đồng" in review
    await owner.send("1")
    [(_, status, items_filed)] = await dossiers(engine)
    assert status == "submitted"
    assert sorted(items_filed) == [("III.A.2.2", 125_000_000), ("IV.1.2", 18_000_000)]


async def test_revenue_and_capital_differ_the_favourable_size_is_used(env: tuple) -> None:
    service, engine, _ = env
    owner = Owner(service, "two-sizes")
    await owner.send("/start")
    await owner.script(*profile("Cơ khí Hòa Bình", HANOI))
    await owner.script("cong nghiep", "8", "2", "2,5 tỷ", "5 tỷ", "12", "khong", "khong", "khong", "khong")
    size = await owner.send("1")  # not a start-up; not in production, so no cluster question
    assert "Doanh nghiệp siêu nhỏ" in size and "doanh nghiệp nhỏ" in size  # the alternative is named
    await owner.send("1")
    await owner.send(payload="III.A")
    await owner.send("xong")
    review = await owner.script("200 triệu", "co", "TVV-9", "chua")
    assert "100 triệu đồng" in review  # small: 50 % up to 100 M beats micro's 50 M
    assert "có lợi hơn" in review
    await owner.send("1")
    assert (await dossiers(engine))[0][2] == [("III.A.2.1", 100_000_000)]


async def test_a_firm_that_is_not_an_sme_is_told_kindly(env: tuple) -> None:
    service, engine, _ = env
    owner = Owner(service, "big")
    await owner.send("/start")
    await owner.script(*profile("Tập đoàn Lớn", HANOI))
    await owner.script(
        "cong nghiep", "350", "100", "900 tỷ", "500 tỷ", "12", "khong", "khong", "khong", "co", "1"
    )
    size = await owner.send("1")
    assert "chưa thuộc diện doanh nghiệp nhỏ và vừa" in size
    assert "350 lao động" in size and "E-learning" in size
    items = await owner.send("1")
    assert "chưa có nội dung hỗ trợ nào phù hợp" in items.lower()
    assert await dossiers(engine) == []


async def test_mistakes_back_cancel_and_edit(env: tuple) -> None:
    service, engine, _ = env
    owner = Owner(service, "clumsy")
    assert "Đồng ý" in await owner.send("/start")
    assert "Đồng ý" in await owner.send("maybe")  # consent is asked again
    await owner.send("dong y")
    assert "từ 2 đến 200 ký tự" in await owner.send("A")
    await owner.send("Công ty Thử")
    wrong_tax = await owner.send("0100109107")
    assert "chữ số kiểm tra" in wrong_tax and "Ví dụ: 0100109106" in wrong_tax
    await owner.send("0100109106")
    assert "một số đang hiển thị (từ 1 đến 8)" in await owner.send("99")  # only numbers that are shown
    back = await owner.send("/back")
    assert "Mã số doanh nghiệp" in back
    again = await owner.send("0100109106-001")  # a branch code, answers kept
    assert "Loại hình" in again
    await owner.send("3")
    assert "chưa hiểu" in await owner.send("Atlantis")
    await owner.send("Ha Noi")
    await owner.send("Hoan Kiem")
    await owner.send("12 Hàng Bạc")
    assert "Số di động chưa đúng" in await owner.send("12345")
    await owner.send("0987654321")
    assert "Email chưa đúng" in await owner.send("not-an-email")
    assert "Email chưa đúng" in await owner.send("still wrong")
    third = await owner.send("again wrong")
    assert "Bỏ qua" in third  # after 3 failed tries an optional step offers a skip
    await owner.send("bo qua")
    await owner.send("2")
    assert "số nguyên" in await owner.send("tám")
    assert "không được âm" in await owner.send("-3")
    await owner.send("8")
    assert "không được lớn hơn 8" in await owner.send("9")
    await owner.send("3")
    assert "Không đọc được số tiền" in await owner.send("nhiều lắm")
    assert "không được âm" in await owner.send("-2 tỷ")
    assert "chưa rõ" in await owner.send("500")
    await owner.send("2,5 tỷ")
    await owner.send("5 tỷ")
    assert "số tháng" in await owner.send("abc")
    await owner.send("24")
    assert "«có» hoặc «không»" in await owner.send("hmm")
    await owner.script("khong", "khong", "khong", "khong", "1")
    await owner.send("1")  # continue after the size
    assert "ít nhất một" in await owner.send("xong")
    await owner.send(payload="III.A")
    await owner.send("xong")
    await owner.script("200 triệu", "co", "TVV-1", "chua")
    # edit the revenue from the summary: the firm becomes small by revenue too; nothing else is re-asked
    pick = await owner.send("Sua mot cau tra loi")
    assert "Tên doanh nghiệp: Công ty Thử" in pick and "Trang sau" in pick
    assert "Doanh thu năm trước: 2,5 tỷ đồng" in await owner.send(payload="_page:next")
    await owner.send(payload="edit:revenue")
    review = await owner.send("40 tỷ")
    assert "Nộp hồ sơ" in review and "100 triệu đồng" in review
    cancelled = await owner.send("/cancel")
    assert "Đã hủy" in cancelled
    assert await dossiers(engine) == []


async def test_owner_returns_next_day_and_files_a_second_dossier(env: tuple) -> None:
    service, engine, clock = env
    owner = Owner(service, "returning")
    await owner.send("/start")
    await owner.script(*profile("Dịch vụ Sao Mai", HANOI))
    await file_micro_services_consulting(owner)
    clock.day = clock.day.replace(day=2)
    hello = await owner.send("/new")
    assert "Thông tin doanh nghiệp đã lưu" in hello and "Dịch vụ Sao Mai" in hello
    size = await owner.send("Dung thong tin nay")
    assert "Doanh nghiệp siêu nhỏ" in size  # the saved declaration, no question asked again
    items = await owner.send("1")
    assert "III.A" not in items.split("không hiển thị")[0]  # already in an open dossier (TT06 Art. 3.4)
    assert "1 nội dung không hiển thị" in items
    await owner.send(payload="I.2")
    await owner.send("xong")
    await owner.script("30 triệu", "co", "chua")
    await owner.send("1")
    rows = await dossiers(engine)
    assert [r[0] for r in rows] == ["HS-2026-000001", "HS-2026-000002"]
    assert rows[1][2] == [("I.2.1", 15_000_000)]
    listing = await owner.send("/mydossiers")
    assert "HS-2026-000001" in listing and "HS-2026-000002" in listing
    detail = await owner.send(payload="dossier:HS-2026-000002")
    assert "I.2.1" in detail and "15 triệu đồng" in detail


async def test_english_and_language_switch(env: tuple) -> None:
    service, _, _ = env
    owner = Owner(service, "en-user")
    await owner.send("/start")
    consent = await owner.send("English")
    assert "Do you agree?" in consent
    first = await owner.send("1")
    assert "Name of the enterprise" in first
    vi = await owner.send("/lang vi")
    assert "Tên doanh nghiệp" in vi


async def test_consent_declined_keeps_nothing(env: tuple) -> None:
    service, engine, _ = env
    owner = Owner(service, "no-thanks")
    await owner.send("/start")
    declined = await owner.send("Khong dong y")
    assert "không lưu bất kỳ dữ liệu nào" in declined
    async with engine.connect() as conn:  # the row that addresses the answer, nothing else (test_privacy.py)
        users = (await conn.execute(select(User.consent_at, User.display_name))).all()
        assert users == [(None, None)]


async def test_mydata_and_deleteme_keep_open_dossier(env: tuple) -> None:
    service, engine, _ = env
    owner = Owner(service, "private")
    await owner.send("/start")
    await owner.script(*profile("Dịch vụ Riêng", HANOI))
    await file_micro_services_consulting(owner)
    await owner.send("/mydata")
    [document] = [d for r in owner.last for d in r.documents]
    assert b"D\xe1\xbb\x8bch v\xe1\xbb\xa5 Ri\xc3\xaang" in document.content  # the firm's name, UTF-8
    assert "xóa dữ liệu" in await owner.send("/deleteme")
    erased = await owner.send("co")
    assert "HS-2026-000001" in erased and "Điều 32" in erased
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(Enterprise))).scalar() == 0
        assert (await conn.execute(select(func.count()).select_from(Dossier))).scalar() == 1


async def test_files_attach_to_the_open_dossier_or_wait_for_the_next(env: tuple, tmp_path: Path) -> None:
    from bot.attachments import AttachmentStore, Refused

    service, _, _ = env
    store = AttachmentStore(tmp_path / "files", 1024 * 1024, ("image/", "application/pdf"))
    owner = Owner(service, "with-files")
    await owner.send("/start")
    await owner.send("1")
    early = await owner.send(file=store.keep("bao-gia.pdf", b"%PDF-1.4 quote"))
    assert "bao-gia.pdf" in early and "hồ sơ bạn nộp tiếp theo" in early
    await owner.script("Dịch vụ Có Tệp", "0100109106", "1", *HANOI)
    await file_micro_services_consulting(owner)
    later = await owner.send(file=store.keep("anh-chup.jpg", b"\xff\xd8\xff jpeg bytes"))
    assert "HS-2026-000001" in later
    detail = await owner.send(payload="dossier:HS-2026-000001")
    assert "Tệp đính kèm: 2" in detail
    with pytest.raises(Refused):
        store.keep("virus.exe", b"MZ")
    with pytest.raises(Refused):
        store.keep("big.pdf", b"0" * (2 * 1024 * 1024))


async def test_a_handler_error_in_the_terminal_chat_apologises_and_asks_again(
    env: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error rolls the message back: an apology, the same question, and the journey goes on."""
    service, _, _ = env
    decide = service.decide

    def failing(s: object, channel: str, external_id: str, key: str, inp: Input, *rest: object) -> object:
        if inp.text == "Công ty Lỗi":
            raise RuntimeError("a bug in a handler")
        return decide(s, channel, external_id, key, inp, *rest)

    monkeypatch.setattr(service, "decide", failing)
    owner = Owner(service, "unlucky")
    await owner.script("/start", "1")
    sorry = await owner.send("Công ty Lỗi")
    assert "Xin lỗi, đã có lỗi" in sorry and "Tên doanh nghiệp" in sorry
    assert "Mã số doanh nghiệp" in await owner.send("Công ty Bền Vững")
