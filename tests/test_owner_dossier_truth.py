"""Issue 15.4: the owner always sees the truth about their dossier.

After an officer approves a different amount, the notification, /mydossiers, the dossier's detail and its
documents show the amount approved per item and the officer's reason (ND80 Art. 32.3: the agency decides
the support); a rejection says why and what the owner can do next. The owner reads the officer's questions
and their own answers in the dossier's history, never the officer's internal notes.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import docx
import pytest

from bot.attachments import AttachmentStore
from bot.channels.telegram import TelegramChannel, make_bot
from bot.service import Service
from bot.staff import DEFAULT_AGENCIES, Staff
from bot.store.db import open_db
from rules.agencies import load_agencies
from rules.catalogue import default_catalogue
from rules.deadline import Calendar
from tests.driver import Clock, Owner, open_service
from tests.fakes.telegram_api import FakeTelegram
from tests.test_officer import DECLARE, QUANG_TRI, file_dossier, staff
from tests.test_telegram import ADMIN_ID, TOKEN, press, say


@pytest.fixture
async def service(db_url: str) -> Any:
    service, db = await open_service(db_url, Clock())
    yield service
    await db.close()


def docx_text(owner: Owner, filename: str) -> str:
    """Every paragraph and table cell of a DOCX the owner was given, re-opened with python-docx."""
    found = next(d for d in owner.documents() if getattr(d, "filename", "") == filename)
    document = docx.Document(io.BytesIO(found.content))  # type: ignore[attr-defined]
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


async def test_a_partial_approval_shows_each_item_the_reason_and_the_history(
    service: Any, tmp_path: Path
) -> None:
    ref = await file_dossier(service)  # III.A.2.2 125 M and I.2.2 30 M asked: 155 M
    _, bob, _ = await staff(service)
    owner = Owner(service, "owner")
    await bob.send(f"/claim {ref}")
    await bob.send(f"/ask {ref} 1. báo giá có đóng dấu")
    await owner.send("toi se gui ngay")
    store = AttachmentStore(tmp_path / "files", 1 << 20, ("application/pdf",))
    await owner.send(file=store.keep("bao-gia.pdf", b"%PDF-1.4 quote"))
    await bob.send(f"/note {ref} đã gọi điện cho giám đốc")  # the agency's own note
    await bob.send(f"/approve {ref} III.A.2.2=100tr I.2.2=0 giải pháp chuyển đổi số chưa có báo giá")

    seen = await owner.send("/mydossiers")
    notice, listing = seen.split("Hồ sơ của bạn (1):")
    assert f"Hồ sơ {ref} đã được chấp thuận, mức hỗ trợ 100 triệu đồng" in notice
    assert "• III.A.2.2 Tư vấn cho doanh nghiệp nhỏ do phụ nữ làm chủ" in notice
    assert "được hỗ trợ 100 triệu đồng (đề nghị 125 triệu đồng)" in notice
    assert "• I.2.2 Hỗ trợ thuê, mua giải pháp chuyển đổi số cho doanh nghiệp nhỏ: được hỗ trợ 0 đồng" in (
        notice
    )
    assert "Ý kiến của cán bộ: giải pháp chuyển đổi số chưa có báo giá" in notice
    assert f"{ref} · được chấp thuận · được hỗ trợ 100 triệu đồng (đề nghị 155 triệu đồng)" in listing
    assert "Ý kiến của cơ quan hỗ trợ: giải pháp chuyển đổi số chưa có báo giá" in listing

    detail = await owner.send(payload=owner.press(ref))
    assert "III.A.2.2 Tư vấn" in detail and "đề nghị 125 triệu đồng, được chấp thuận 100 triệu đồng" in detail
    assert "đề nghị 30 triệu đồng, được chấp thuận 0 đồng" in detail
    assert "Tổng được chấp thuận: 100 triệu đồng" in detail
    history = detail.split("Lịch sử hồ sơ:")[1]
    lines = [line.split(" · ", 1)[1] for line in history.strip().splitlines()]
    assert lines == [
        "Bạn · nộp hồ sơ",
        "Cán bộ · nhận xử lý",
        "Cán bộ · yêu cầu bổ sung: 1. báo giá có đóng dấu",
        "Bạn · trả lời yêu cầu bổ sung: toi se gui ngay",
        "Bạn · gửi tệp: bao-gia.pdf",
        "Cán bộ · chấp thuận: giải pháp chuyển đổi số chưa có báo giá",
    ]
    assert "gọi điện" not in detail  # the officer's internal note stays with the agency

    text = docx_text(owner, f"{ref}.docx")  # the documents sent with the detail
    assert "Được chấp thuận" in text and "100.000.000 đ" in text
    assert "Tổng kinh phí được cơ quan hỗ trợ chấp thuận: 100.000.000 đ" in text
    assert "Ý kiến của cơ quan hỗ trợ: giải pháp chuyển đổi số chưa có báo giá" in text
    assert "Trạng thái: được chấp thuận" in text


async def test_a_rejection_says_why_and_what_next_everywhere(service: Any) -> None:
    ref = await file_dossier(service)
    _, bob, _ = await staff(service)
    owner = Owner(service, "owner")
    await bob.send(f"/claim {ref}")
    await bob.send(f"/reject {ref} Chưa có hợp đồng với tư vấn viên thuộc mạng lưới")

    seen = await owner.send("/mydossiers")
    notice, listing = seen.split("Hồ sơ của bạn (1):")
    assert "không được chấp thuận. Lý do: Chưa có hợp đồng với tư vấn viên thuộc mạng lưới" in notice
    assert "Bạn có thể lập hồ sơ mới (/new), bổ sung những gì còn thiếu" in notice
    assert "hỏi Sở Công Thương tỉnh Quảng Trị để được giải thích" in notice
    assert "Lý do không được chấp thuận: Chưa có hợp đồng với tư vấn viên thuộc mạng lưới" in listing
    assert "hỏi Sở Công Thương tỉnh Quảng Trị" in listing

    detail = await owner.send(payload=owner.press(ref))
    assert "Lý do không được chấp thuận: Chưa có hợp đồng" in detail
    assert "Cán bộ · không chấp thuận: Chưa có hợp đồng với tư vấn viên thuộc mạng lưới" in detail
    assert "Có câu hỏi cho cán bộ" not in detail  # closed: nobody reads messages for it
    text = docx_text(owner, f"{ref}.docx")
    assert "Hồ sơ không được chấp thuận. Lý do: Chưa có hợp đồng với tư vấn viên thuộc mạng lưới" in text
    assert "Doanh nghiệp có thể lập hồ sơ mới" in text and "Sở Công Thương tỉnh Quảng Trị" in text


async def test_an_english_owner_reads_the_decision_and_the_history_in_english(service: Any) -> None:
    ref = await file_dossier(service, lang="en")
    _, bob, _ = await staff(service)
    owner = Owner(service, "owner")
    await bob.send(f"/claim {ref}")
    await bob.send(f"/ask {ref} báo giá; hợp đồng tư vấn")
    await owner.send("1. I will send the quote tomorrow")
    await owner.send("done")
    await bob.send(f"/approve {ref} III.A.2.2=90tr thiếu báo giá")

    seen = await owner.send("/mydossiers")
    assert "support of 90 million VND (requested 125 million VND)" in seen
    assert "The officer's remark: thiếu báo giá" in seen
    assert f"{ref} · approved · support of 120 million VND (requested 155 million VND)" in seen
    detail = await owner.send(payload=owner.press(ref))
    assert "requested 125 million VND, approved 90 million VND" in detail
    assert "Officer · asked for more documents: báo giá; hợp đồng tư vấn" in detail
    assert "You · answered the request: 1. I will send the quote tomorrow" in detail
    assert "You · completed the request, back to the officer" in detail
    assert "Officer · approved: thiếu báo giá" in detail
    english = docx_text(owner, f"{ref}-en.docx")
    assert "Approved" in english and "90.000.000 đ" in english
    assert "The agency's remark: thiếu báo giá" in english
    official = docx_text(owner, f"{ref}.docx")  # the form filed with the agency: Vietnamese
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in official and "Được chấp thuận" in official


# --- Telegram: the dossier button, the pushed decision and both documents -----------------------------


@pytest.fixture
async def tg(tmp_path: Path) -> Any:
    async with FakeTelegram(token=TOKEN) as fake:
        db = await open_db(f"sqlite+aiosqlite:///{tmp_path / 'smebot.db'}")
        staff_ = Staff(frozenset({f"telegram:{ADMIN_ID}"}), load_agencies(DEFAULT_AGENCIES), Calendar())
        service = Service(db, default_catalogue(), Clock(), staff_, documents_dir=tmp_path / "documents")
        store = AttachmentStore(tmp_path / "files", 5 * 1024 * 1024, ("image/", "application/pdf"))
        channel = TelegramChannel(service, db, make_bot(TOKEN, fake.base_url), store, chat_interval=0.01)
        stop = asyncio.Event()
        task = asyncio.create_task(channel.run(stop))
        try:
            yield fake
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)
            await db.close()


async def test_on_telegram_an_english_owner_writes_reads_the_decision_and_gets_both_documents(
    tg: Any,
) -> None:
    owner = tg.user(1001, "Lan", "en")
    await say(owner, "/start", "13/2023")
    await say(owner, "English", "Decree 13/2023")
    await say(owner, "agree", "Name of the enterprise")
    for answer in (*QUANG_TRI[1:], *DECLARE):
        await say(owner, answer)
    await say(owner, "1", "Choose the support items")
    await press(owner, "III.A.2.2", "Chosen: 1")
    await press(owner, "Done", "Expected cost")
    for answer in ("250 trieu", "yes", "TVV-0123"):
        await say(owner, answer)
    await press(owner, "None received", "Estimated support")
    filed = await say(owner, "1", "HS-2026-000001")
    assert "SME size declaration" in filed["text"]
    names = set()
    for _ in range(4):  # the Vietnamese form and the English copy, DOCX and HTML
        names.add((await owner.wait_for(lambda m: "document" in m, timeout=15))["document"]["file_name"])
    assert names == {f"HS-2026-000001{c}.{e}" for c in ("", "-en") for e in ("docx", "html")}

    said = await say(owner, "When will I hear back?", "Your message was sent")
    assert "dossier HS-2026-000001" in said["text"]
    admin = tg.user(ADMIN_ID, "Admin", "vi")
    seen = await say(admin, "/dossier HS-2026-000001", "HS-2026-000001")
    while "When will I hear back?" not in (seen.get("text") or ""):
        seen = await admin.wait_for(None, timeout=15)
    await say(admin, "/claim HS-2026-000001", "HS-2026-000001")
    await say(admin, "/approve HS-2026-000001 III.A.2.2=90tr thieu bao gia", "HS-2026-000001")
    pushed = await owner.wait_for("has been approved", timeout=15)
    assert "support of 90 million VND (requested 125 million VND)" in pushed["text"]
    assert "The officer's remark: thieu bao gia" in pushed["text"]

    await say(owner, "/mydossiers", "HS-2026-000001")
    detail = await press(owner, "HS-2026-000001", "Dossier HS-2026-000001")
    assert "requested 125 million VND, approved 90 million VND" in detail["text"]
    assert "You · wrote to the officer: When will I hear back?" in detail["text"]
    assert "Officer · approved: thieu bao gia" in detail["text"]
    sent = {
        (await owner.wait_for(lambda m: "document" in m, timeout=15))["document"]["file_name"] for _ in "1234"
    }
    assert sent == names
