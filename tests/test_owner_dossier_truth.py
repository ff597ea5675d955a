"""Issue 15.4: the owner always sees the truth about their dossier.

After an officer approves a different amount, the notification, /mydossiers, the dossier's detail and its
documents show the amount approved per item and the officer's reason (ND80 Art. 32.3: the agency decides
the support); a rejection says why and what the owner can do next. The owner reads the officer's questions
and their own answers in the dossier's history, never the officer's internal notes.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import docx
import pytest

from bot.attachments import AttachmentStore
from tests.driver import Clock, Owner, open_service
from tests.test_officer import file_dossier, staff


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
