"""`smebot chat` as a real subprocess: piped input, and SIGKILL in the middle of the journey and right
after the filing answer. The next run resumes at the same question and exactly one dossier exists."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

PROFILE = [
    "1",
    "Công ty TNHH Gốm Việt",
    "0100109106",
    "1",
    "Ha Noi",
    "Hoan Kiem",
    "12 Hang Bac",
    "0912345678",
    "bo qua",
]
DECLARATION = ["cong nghiep", "8", "5", "2,5 tỷ", "5 tỷ", "12", "co", "khong", "khong", "co", "1", "1"]
CHOOSE = ["1", "1", "xong", "200 triệu", "co", "TVV-0123", "chua"]
FILE = ["Nop ho so"]


def chat_cmd(db: Path) -> list[str]:
    return [sys.executable, "-m", "bot.cli", "chat", "--db", str(db), "--user", "alice"]


def env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "SMEBOT_FILES_DIR": str(tmp / "files"), "PYTHONUNBUFFERED": "1"}


def state_version(db: Path) -> int:
    if not db.exists():
        return -1
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            row = conn.execute("SELECT max(version) FROM conversation_states").fetchone()
    except sqlite3.OperationalError:  # the tables are not there yet
        return -1
    return int(row[0]) if row and row[0] is not None else -1


def wait_for_version(db: Path, version: int, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while state_version(db) < version:
        assert proc.poll() is None, "the chat exited early"
        assert time.monotonic() < deadline, f"state version {state_version(db)} never reached {version}"
        time.sleep(0.02)


def run_and_kill(db: Path, tmp: Path, lines: list[str]) -> None:
    """Start the chat, answer ``lines`` one by one (each committed), then SIGKILL it."""
    proc = subprocess.Popen(
        chat_cmd(db),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env(tmp),
    )
    assert proc.stdin is not None
    start = max(state_version(db), 0)
    wait_for_version(db, start + 1, proc)  # the /start of this run
    for i, line in enumerate(lines, 1):
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        wait_for_version(db, start + 1 + i, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL


def run_piped(db: Path, tmp: Path, lines: list[str]) -> str:
    done = subprocess.run(
        chat_cmd(db), input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=120, env=env(tmp)
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def dossier_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM dossiers").fetchone()[0])


def test_piped_journey_files_and_exits_at_end_of_input(tmp_path: Path) -> None:
    db = tmp_path / "smebot.db"
    out = run_piped(db, tmp_path, [*PROFILE, *DECLARATION, *CHOOSE, *FILE, "/mydossiers"])
    assert "Nghị định 13/2023/NĐ-CP" in out
    assert "Doanh nghiệp siêu nhỏ" in out
    assert "100 triệu đồng" in out  # small by capital beats micro for a 200 M contract
    assert "HS-2026-000001" in out or "HS-" in out
    assert dossier_count(db) == 1


def test_sigkill_mid_journey_then_right_after_filing(tmp_path: Path) -> None:
    db = tmp_path / "smebot.db"
    # killed after the revenue answer: the next question is the capital
    run_and_kill(db, tmp_path, [*PROFILE, *DECLARATION[:4]])
    resumed = run_piped(db, tmp_path, [])
    assert "quay lại" in resumed and "Tổng nguồn vốn" in resumed
    # answers before the kill are kept: capital then the rest, and the firm is still the one declared
    run_and_kill(db, tmp_path, [*DECLARATION[4:], *CHOOSE, *FILE])
    assert dossier_count(db) == 1
    out = run_piped(db, tmp_path, ["/mydossiers"])
    assert out.count("HS-") >= 1 and "100 triệu đồng" in out
    assert dossier_count(db) == 1
    with sqlite3.connect(db) as conn:
        (revenue,) = conn.execute("SELECT json_extract(data, '$.profile.revenue') FROM dossiers").fetchone()
    assert revenue == 2_500_000_000
