"""Issue 15.2 and the returning-owner bug: what an owner writes after filing is never lost.

A question or a promise written after filing goes to the officer with the owner's open dossier: it is
acknowledged, kept in the dossier's history (the officer's /dossier shows it) and notified to the officer.
While an officer's request for documents is open the same words are collected against the request
(issue 15.8), as before. With no dossier open the owner is told what the bot can do. A returning owner
(the terminal chat sends /start at launch) lands on their request or their dossier, not a new journey.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.models import Dossier, Event
from tests.driver import Clock, Owner, open_service
from tests.test_officer import file_dossier, staff


@pytest.fixture
async def env(db_url: str) -> Any:
    service, db = await open_service(db_url, Clock())
    yield service, db.engine, db_url
    await db.close()


async def events(engine: AsyncEngine, action: str) -> list[tuple[str, str | None]]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(Event.actor, Event.note).where(Event.action == action))
    return [(actor, note) for actor, note in rows.all()]


async def test_a_question_after_filing_reaches_the_officer(env: tuple) -> None:
    service, engine, _ = env
    ref = await file_dossier(service)
    _, bob, _ = await staff(service)  # bob reviews Quảng Trị's dossiers
    owner = Owner(service, "owner")

    said = await owner.send("tai sao ho so chua duoc xem?")
    assert f"Đã gửi tin nhắn của bạn tới cán bộ xử lý hồ sơ {ref}" in said
    assert "Bạn muốn làm gì?" in said  # and the menu, not a re-ask
    said = await owner.send("Toi se gui bao gia sau")
    assert f"hồ sơ {ref}" in said
    assert await events(engine, "message") == [
        ("console:owner", "tai sao ho so chua duoc xem?"),
        ("console:owner", "Toi se gui bao gia sau"),
    ]

    seen = await bob.send("/queue")  # nobody has claimed it: every officer of its agency is told
    assert f"Hồ sơ {ref}: chủ doanh nghiệp nhắn: «tai sao ho so chua duoc xem?»" in seen
    assert "«Toi se gui bao gia sau»" in seen
    detail = await bob.send(f"/dossier {ref}")
    assert "chủ doanh nghiệp nhắn · tai sao ho so chua duoc xem?" in detail
    assert "chủ doanh nghiệp nhắn · Toi se gui bao gia sau" in detail

    await bob.send(f"/claim {ref}")  # once claimed, only the officer who has it is told
    await owner.send("Cho toi hoi bao gio co ket qua?")
    assert "«Cho toi hoi bao gio co ket qua?»" in await bob.send("/queue")

    # the menu is still the menu, by number or as it reads
    assert "Hồ sơ của bạn (1)" in await owner.send("2")
    assert "Hồ sơ của bạn (1)" in await owner.send("Ho so cua toi")
    assert len(await events(engine, "message")) == 3


async def test_an_english_owner_asks_why_and_after_the_decision_is_told_what_the_bot_can_do(
    env: tuple,
) -> None:
    service, engine, _ = env
    ref = await file_dossier(service, lang="en")
    _, bob, _ = await staff(service)
    owner = Owner(service, "owner")
    said = await owner.send("why has nobody looked at my dossier?")
    assert f"Your message was sent to the officer reviewing dossier {ref}" in said
    await bob.send(f"/claim {ref}")
    await bob.send(f"/reject {ref} Thiếu báo giá")
    said = await owner.send("why was my dossier rejected?")
    assert "not approved. Reason: Thiếu báo giá" in said  # the notification, first
    assert "You have no dossier under review" in said and "I can help you: file a new support request" in said
    assert "/mydossiers" in said
    assert [note for _, note in await events(engine, "message")] == ["why has nobody looked at my dossier?"]
    # coming back after the decision: the outcome and the menu; a new request is still one tap away
    back = await owner.send("/start")
    assert f"Welcome back! Your dossier {ref} is rejected" in back and "What would you like to do?" in back
    assert "Saved details" not in back and "Name of the enterprise" not in back
    assert "saved last time" in await owner.send("1")  # "Prepare a new support request"


async def test_an_owner_with_no_dossier_is_told_what_the_bot_can_do(env: tuple) -> None:
    service, engine, _ = env
    owner = Owner(service, "owner")
    await owner.send("/start")
    await owner.send("1")  # agrees
    await owner.send("/cancel")
    said = await owner.send("xin chao, toi can ho tro vay von")
    assert "Bạn chưa có hồ sơ nào đang xử lý" in said and "Tôi có thể giúp bạn" in said
    assert "Lập hồ sơ đề nghị hỗ trợ mới" in said  # the menu with it
    assert "Tôi chưa hiểu" not in said
    assert await events(engine, "message") == []


async def test_words_while_a_request_is_open_still_go_to_the_request(env: tuple) -> None:
    service, engine, _ = env
    ref = await file_dossier(service)
    _, bob, _ = await staff(service)
    await bob.send(f"/claim {ref}")
    await bob.send(f"/ask {ref} 1. báo giá 2. hợp đồng tư vấn")
    owner = Owner(service, "owner")
    said = await owner.send("toi se gui bao gia sau")
    assert f"Đã gửi phản hồi của bạn cho hồ sơ {ref}" in said  # kept with the request, not a loose message
    said = await owner.send("2. da ky hop dong")
    assert "1. báo giá" in said  # still missing
    said = await owner.send("xong")
    assert f"Hồ sơ {ref} đã được chuyển lại cán bộ xem xét" in said
    assert await events(engine, "message") == []
    detail = await bob.send(f"/dossier {ref}")
    assert "toi se gui bao gia sau" in detail
    async with engine.connect() as conn:
        status = (await conn.execute(select(Dossier.status))).scalar()
    assert status == "in_review"


def chat(db: Path, tmp: Path, user: str, lines: list[str]) -> str:
    """``smebot chat`` as a real process, lines piped in (its /start at launch included)."""
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--db", str(db), "--user", user],
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SMEBOT_FILES_DIR": str(tmp / "files"), "SMEBOT_DOCUMENTS_DIR": str(tmp / "docs")},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


async def test_a_returning_owner_in_the_terminal_chat_answers_the_request_not_a_new_journey(
    env: tuple, tmp_path: Path
) -> None:
    service, engine, db_url = env
    if not db_url.startswith("sqlite"):
        pytest.skip("the terminal chat process opens the SQLite file")
    db = Path(db_url.split("///", 1)[1])
    ref = await file_dossier(service)
    _, bob, _ = await staff(service)
    await bob.send(f"/claim {ref}")
    await bob.send(f"/ask {ref} 1. báo giá 2. hợp đồng tư vấn")

    out = chat(db, tmp_path, "owner", ["2. da ky hop dong", "xong"])
    start = out.split("> 2. da ky hop dong")[0]
    waiting = f"Chào mừng bạn quay lại! Hồ sơ {ref} đang chờ bạn bổ sung:\n1. báo giá\n2. hợp đồng tư vấn"
    assert waiting in start
    assert "Tên doanh nghiệp" not in out  # not a new journey: "2. ..." is not taken for the firm's name
    assert "Đã ghi cho mục 2: hợp đồng tư vấn." in out and "Còn thiếu:\n1. báo giá" in out
    assert f"Hồ sơ {ref} đã được chuyển lại cán bộ xem xét" in out.split("> xong")[1]
    async with engine.connect() as conn:
        status = (await conn.execute(select(Dossier.status))).scalar()
        parts = await conn.execute(select(Event.note).where(Event.action == "answer_part"))
        answers = parts.scalars().all()
    assert status == "in_review" and "2. da ky hop dong" in answers

    out = chat(db, tmp_path, "owner", ["bao gio co ket qua?"])  # open, no request: the menu, and words kept
    assert f"Chào mừng bạn quay lại! Hồ sơ {ref} của bạn đang ở trạng thái: đang xem xét" in out
    assert "Tên doanh nghiệp" not in out
    assert f"Đã gửi tin nhắn của bạn tới cán bộ xử lý hồ sơ {ref}" in out
    assert "«bao gio co ket qua?»" in await bob.send("/queue")
