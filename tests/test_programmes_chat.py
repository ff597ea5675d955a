"""Programmes in the terminal chat (issue 16), `smebot chat` as a real subprocess on one SQLite file: an
admin sends a programme file with two errors and sees both lines, sends it fixed, publishes it; an owner
in its region sees it in the journey; once closed, a new owner does not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.test_officer import DECLARE, QUANG_TRI
from tests.test_programmes import BROKEN, PROGRAMME

TITLE = "Hỗ trợ chuyển đổi số doanh nghiệp nhỏ Quảng Trị 2026"
NATIONAL = "Hỗ trợ doanh nghiệp nhỏ và vừa theo Nghị định 80/2021/NĐ-CP"


def chat(db: Path, tmp: Path, user: str, lines: list[str]) -> str:
    env = {
        **os.environ,
        "SMEBOT_FILES_DIR": str(tmp / "files"),
        "SMEBOT_ADMIN_IDS": "console:admin",
        "PYTHONUNBUFFERED": "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--db", str(db), "--user", user],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def test_publish_and_close_a_programme_in_the_terminal_chat(tmp_path: Path) -> None:
    db = tmp_path / "smebot.sqlite"
    broken, fixed = tmp_path / "broken.yaml", tmp_path / "fixed.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    fixed.write_text(PROGRAMME, encoding="utf-8")

    out = chat(db, tmp_path, "admin", [f"/programme_add {broken}", f"/programme_add {fixed}"])
    assert "(2 lỗi)" in out
    assert "line 27: item 'qt26-dx' field rate_percent" in out
    assert "line 29: item 'qt26-dx' field cap_unit" in out
    assert "Đã lưu bản nháp «qt-2026-digital» (phiên bản 1)" in out

    out = chat(db, tmp_path, "owner1", QUANG_TRI + DECLARE)
    assert NATIONAL in out and TITLE not in out  # the list of programmes is shown; a draft is not in it

    out = chat(db, tmp_path, "admin", ["/programme_publish qt-2026-digital", "/programmes"])
    assert "Đã công bố «qt-2026-digital»" in out and "đã công bố (phiên bản 1)" in out

    out = chat(db, tmp_path, "owner2", QUANG_TRI + DECLARE)
    assert TITLE in out  # among the programmes that fit, before choosing support

    assert "Đã đóng «qt-2026-digital»" in chat(db, tmp_path, "admin", ["/programme_close qt-2026-digital"])
    out = chat(db, tmp_path, "owner3", QUANG_TRI + DECLARE)
    assert NATIONAL in out and TITLE not in out
