"""Issue 15.5: documents the owner can use.

The dossier filed with the agency is the Vietnamese form (ND80 Art. 32.4.a: the annex form), whatever
language the owner chats in; an English owner also gets an English copy. A statement is printed only when
it is true (the quote is "attached" only once a file proves it), the checklist lists only what this owner's
answers require (TT06 Art. 3.3: a priority proof only for the priority declared) and counts the form smebot
writes as provided, and a consultant code (TT06 Art. 3.9) looks like one or is recorded as "not yet".
Every DOCX is re-opened with python-docx.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import docx
import pytest

from bot import documents
from bot.attachments import AttachmentStore
from tests.driver import Clock, Owner, open_service
from tests.test_officer import DECLARE, QUANG_TRI, staff

SOCIAL_PROOF = "doanh nghiệp xã hội (thông báo cam kết"
WOMEN_PROOF = "phụ nữ sở hữu từ 51% vốn điều lệ"
FEMALE_WORKERS_PROOF = "chứng minh sử dụng nhiều lao động nữ"


@pytest.fixture
async def service(db_url: str) -> Any:
    service, db = await open_service(db_url, Clock())
    yield service
    await db.close()


async def file_as(owner: Owner, *answers: str, english: bool = False) -> tuple[str, str]:
    """Women-owned, not a social enterprise: consulting (III.A) and DX solutions (I.2), then file."""
    await owner.send("/start")
    if english:
        await owner.send("English")
    await owner.script(*QUANG_TRI, *DECLARE)
    await owner.send("1")
    await owner.send(payload="III.A")
    await owner.send(payload="I.2")
    await owner.send(payload="_done")
    await owner.script(*answers)
    filed = await owner.send("1")
    ref = next(word.strip(".,") for word in filed.split() if word.startswith("HS-"))
    return ref, filed


def opened(owner: Owner, filename: str) -> Any:
    found = next(d for d in owner.documents() if getattr(d, "filename", "") == filename)
    return docx.Document(io.BytesIO(found.content))  # type: ignore[attr-defined]


def text_of(document: Any) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def checklist_rows(document: Any) -> list[tuple[str, str, str]]:
    """The rows of the checklist table (the last table): mark, document, state."""
    table = document.tables[-1]
    return [tuple(cell.text for cell in row.cells) for row in table.rows[1:]]  # type: ignore[misc]


async def test_an_english_owner_files_the_vietnamese_form_and_gets_an_english_copy(service: Any) -> None:
    owner = Owner(service, "owner")
    # no quotes, no consultant yet ("not yet" as people write it), nothing from other agencies
    ref, filed = await file_as(
        owner, "250 triệu", "no", "not yet", "none", "60 triệu", "no", "none", english=True
    )
    names = sorted(getattr(d, "filename", "") for d in owner.documents())
    assert names == [f"{ref}-en.docx", f"{ref}-en.html", f"{ref}.docx", f"{ref}.html"]

    official = opened(owner, f"{ref}.docx")
    assert official.core_properties.language == "vi-VN"
    form = text_of(official)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in form and "TỜ KHAI" in form.upper()
    assert "Chưa có báo giá của bên cung cấp" in form
    assert "đã được đính kèm" not in form and "báo giá của bên cung cấp (chưa đính kèm)" not in form
    assert "Mã tư vấn viên thuộc mạng lưới: chưa có" in form
    rows = checklist_rows(official)
    titles = [title for _, title, _ in rows]
    assert titles[0].startswith("Tờ khai xác định DNNVV") and rows[0][0] == "☑"
    assert rows[0][2] == "Chính là văn bản này (Phần 1)"  # the form smebot writes counts as provided
    assert any(WOMEN_PROOF in title for title in titles)  # women-owned: declared yes
    assert not any(SOCIAL_PROOF in title for title in titles)  # said no
    assert not any(FEMALE_WORKERS_PROOF in title for title in titles)  # 12 of 30: not many
    assert not any("Báo giá" in title for title in titles)  # no quote: none to attach
    assert "Đã đính kèm 1/3 tài liệu." in form

    english = opened(owner, f"{ref}-en.docx")
    assert english.core_properties.language == "en-GB"
    copy = text_of(english)
    assert "SOCIALIST REPUBLIC OF VIETNAM" in copy
    assert "No provider's quote yet" in copy and "Network consultant code: not yet" in copy
    assert "This document (Part 1)" in copy
    # and the chat said the same: the form provided, no social-enterprise proof asked
    assert "SME size declaration and support request (Decree 80/2021 annex form) (made by smebot" in filed
    assert "social-enterprise status" not in filed and "quote" not in filed.split("prepare")[-1].lower()


async def test_the_quote_is_attached_only_once_a_file_proves_it(service: Any, tmp_path: Path) -> None:
    owner = Owner(service, "owner")
    ref, filed = await file_as(owner, "250 triệu", "co roi", "TVV-0123", "chua", "60 triệu", "co", "chua")
    form = text_of(opened(owner, f"{ref}.docx"))
    assert "Tư vấn viên thuộc mạng lưới: TVV-0123" in form
    assert form.count("Doanh nghiệp đã có báo giá của bên cung cấp (chưa đính kèm)") == 2
    assert "Báo giá của bên cung cấp đã được đính kèm" not in form
    assert "☐ Báo giá của bên cung cấp dịch vụ (nếu có)" in filed  # they have one: asked for it

    store = AttachmentStore(tmp_path / "files", 1 << 20, ("application/pdf",))
    await owner.send(file=store.keep("bao-gia.pdf", b"%PDF-1.4 quote"))
    _, bob, _ = await staff(service)
    await bob.send(f"/claim {ref}")
    assert "Báo giá" in await bob.send(f"/assign {ref} 1 provider_quote")
    await bob.send(f"/dossier {ref}")
    proven = opened(bob, f"{ref}.docx")
    assert text_of(proven).count("Báo giá của bên cung cấp đã được đính kèm") == 2
    quote_row = next(row for row in checklist_rows(proven) if row[1].startswith("Báo giá"))
    assert quote_row == ("☑", "Báo giá của bên cung cấp dịch vụ (nếu có)", "Đã đính kèm")

    detail = await owner.send(payload=(await owner.send("/mydossiers") and owner.press(ref)))
    assert "☑ Báo giá của bên cung cấp dịch vụ (nếu có)" in detail


async def test_a_consultant_code_looks_like_one_or_is_not_yet(service: Any) -> None:
    owner = Owner(service, "owner")
    await owner.send("/start")
    await owner.script(*QUANG_TRI, *DECLARE)
    await owner.send("1")
    await owner.send(payload="III.A")
    await owner.send(payload="_done")
    await owner.script("250 triệu", "chua")
    assert "Mã tư vấn viên chưa đúng" in await owner.send("minh")  # a name is not a code: asked again
    assert "Mã tư vấn viên chưa đúng" in await owner.send("co")
    answered = await owner.send("toi chua co ma")  # "not yet", as people write it
    assert "Mã tư vấn viên chưa đúng" not in answered
    ref = next(
        word.strip(".,") for word in (await owner.script("chua", "1")).split() if word.startswith("HS-")
    )
    assert "Mã tư vấn viên thuộc mạng lưới: chưa có" in text_of(opened(owner, f"{ref}.docx"))


def test_a_stored_value_that_is_not_a_code_prints_as_not_yet() -> None:
    """A dossier filed before the code was checked ("CHUA BIET" kept as a code) prints "not yet"."""
    item = {"code": "III.A.2.2", "title": "Tư vấn", "cost_vnd": 1, "state_vnd": 1, "consulting": True}
    for stored, shown in (
        ("CHUA BIET", "Mã tư vấn viên thuộc mạng lưới: chưa có"),
        ("", "Mã tư vấn viên thuộc mạng lưới: chưa có"),
        (None, "Mã tư vấn viên thuộc mạng lưới: chưa có"),
        ("tvv-0456", "Tư vấn viên thuộc mạng lưới: TVV-0456"),
    ):
        data = {"ref": "HS-1", "status": "submitted", "items": [{**item, "consultant_code": stored}]}
        text = text_of(docx.Document(io.BytesIO(documents.dossier_docx(data, "vi"))))
        assert shown in text, stored
        assert "CHUA BIET" not in text


ENGLISH_JOURNEY = [
    *("English", "I agree", "Gom Viet Trading Co", "0100109106", "single-member llc", "quang tri"),
    *("vinh thuy", "12 Le Loi", "0912345678", "skip", "industry", "30", "12", "20 billion", "10 billion"),
    *("more than 12 months", "yes", "no", "no", "yes", "not a startup", "none", "no", "continue"),
    *("1 3", "done", "250 million", "yes", "not yet", "none", "60 million", "no", "none", "file"),
]


def test_the_terminal_chat_writes_both_copies_and_an_erasure_removes_both(tmp_path: Path) -> None:
    """An English owner in the real terminal chat: the Vietnamese form and the English copy are written
    to the documents folder; once the dossier is withdrawn and the owner erases their data, both go."""
    docs = tmp_path / "docs"
    lines = [*ENGLISH_JOURNEY, "/withdraw HS-2026-000001", "/deleteme", "yes"]
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--db", str(tmp_path / "smebot.db"), "--user", "tom"],
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "SMEBOT_FILES_DIR": str(tmp_path / "files"), "SMEBOT_DOCUMENTS_DIR": str(docs)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "I did not understand" not in out and "Tôi chưa hiểu" not in out
    filed = out.split("> file")[1].split("> /withdraw")[0]
    for name in (
        "HS-2026-000001.docx",
        "HS-2026-000001.html",
        "HS-2026-000001-en.docx",
        "HS-2026-000001-en.html",
    ):
        assert f"📎 {docs / name}" in filed
    assert "Withdrew" in out or "withdrawn" in out.lower()
    assert not list(docs.glob("HS-2026-000001*"))  # erased: the Vietnamese form and the English copy
