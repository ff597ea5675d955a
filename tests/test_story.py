"""The whole story through `smebot chat`, two users on one database (issue 5 "Done when"): an owner files,
an officer asks for a document, the owner sends it, the officer approves part, the owner sees the decision,
the export shows the approved amounts in the right Annex 4 rows and openpyxl finds them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl

from rules.catalogue import default_catalogue

OWNER_FILES = [
    "1", "Công ty TNHH Gốm Việt", "0100109106", "1", "quang tri", "vinh thuy", "12 Lê Lợi", "0912345678",
    "bo qua", "cong nghiep", "30", "12", "20 tỷ", "10 tỷ", "12", "co", "khong", "khong", "co", "1", "1",
    "khong", "1",
]  # fmt: skip


def chat(tmp: Path, user: str, lines: list[str]) -> str:
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
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout


def test_owner_and_officer_story_through_the_terminal_chat(tmp_path: Path) -> None:
    # 1. the owner files consulting (III.A, 250 M) and digital solutions (I.2, 60 M)
    items = ["Tư vấn cho doanh nghiệp nhỏ do phụ nữ", "Hỗ trợ thuê, mua giải pháp chuyển đổi số"]
    first = chat(tmp_path, "lan", [*OWNER_FILES])
    numbers = [re.search(rf"(\d+)\. \[[^\]]+\] [\w.]+ {re.escape(name)}", first) for name in items]
    assert all(numbers), first[-3000:]
    picks = " ".join(m.group(1) for m in numbers if m)
    filed = chat(
        tmp_path,
        "lan",
        [picks, "xong", "250 triệu", "co", "TVV-0123", "chua", "60 triệu", "co", "chua", "Nop ho so"],
    )
    ref = re.search(r"HS-2026-\d{6}", filed)
    assert ref, filed[-2000:]
    ref_text = ref.group(0)
    assert list((tmp_path / "documents" / "lan").glob("HS-*.docx"))  # the owner got the dossier DOCX

    # 2. the admin makes "minh" an officer of the Quảng Trị department; minh asks for a document
    added = chat(tmp_path, "admin", ["/officer_add console:minh so-cong-thuong-quang-tri"])
    assert "Đã thêm cán bộ console:minh" in added
    asked = chat(tmp_path, "minh", ["/queue", f"/claim {ref_text}", f"/ask {ref_text} Gửi báo giá có dấu"])
    assert ref_text in asked and "Đã gửi yêu cầu bổ sung" in asked

    # 3. the owner sees the request and sends the quote
    quote = tmp_path / "bao-gia.pdf"
    quote.write_bytes(b"%PDF-1.4 quote with stamp")
    answered = chat(tmp_path, "lan", [f"/file {quote}"])
    assert "Gửi báo giá có dấu" in answered and "Đã gửi phản hồi" in answered

    # 4. the officer approves the consulting item only, at 100 M of the 125 M computed
    approved = chat(
        tmp_path,
        "minh",
        [f"/claim {ref_text}", f"/approve {ref_text} III.A.2.2=100tr I.2.2=0", "/export 2026"],
    )
    assert "Đã chấp thuận" in approved
    exports = list((tmp_path / "documents" / "minh").glob("*.xlsx"))
    assert exports, approved[-2000:]

    # 5. the owner sees the decision
    decision = chat(tmp_path, "lan", ["/mydossiers"])
    assert "đã được chấp thuận, mức hỗ trợ 100 triệu đồng" in decision

    # 6. the export: Annex 4 row III.A.2.2 holds the approved 100 M; row I.2.2 holds 0
    sheet = openpyxl.load_workbook(exports[0]).worksheets[0]  # the approved sheet
    catalogue = default_catalogue()

    def annex_row(code: str) -> tuple[object, ...]:
        item = catalogue.row(code)
        assert item is not None
        rows = [r for r in sheet.iter_rows(values_only=True) if r[1] == item.title.vi]
        assert len(rows) == 1, code
        return rows[0]

    consulting, digital = annex_row("III.A.2.2"), annex_row("I.2.2")
    assert (consulting[0], consulting[3], consulting[6], consulting[7]) == (
        "2.2",
        1,
        100_000_000,
        150_000_000,
    )
    assert (digital[0], digital[3], digital[6]) == ("2.2", 1, 0)
    assert annex_row("III.A.2.1")[6] in (None, 0)  # nothing approved on the plain small-firm row
