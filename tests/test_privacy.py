"""Personal data, for good (issue 13, points 6 to 9).

6. Erased stays erased: the inbox keeps the ids of handled updates without their content, so a
   redelivery of any update the user ever sent does nothing; the files go with the rows; what Decree 80
   keeps (dossiers under review, Art. 32; approved ones, Art. 31) is named in the answer.
7. /mydata is everything: what the user sent (the raw updates), what the bot sent them (the outbox),
   every event about them; the export's spool file goes once it is delivered.
8. Declining consent works and leaves only what addresses the answer.
9. The log carries no personal data: exceptions by type and ids.

The service is driven as the Telegram channel drives it (updates with their ids, replies queued in the
outbox), on a real database; the last test runs `smebot run` against the fake Bot API, erases, redelivers
every update, and looks for the user's data in the database file, on disk and in the log.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bot import logs
from bot.replies import delivered
from bot.service import Service
from bot.store import dossiers as dossiers_store
from bot.store import inbox
from bot.store import users as users_store
from bot.store.db import Database, open_db
from bot.store.models import ConversationState, Enterprise, Event, Outbox, ProcessedUpdate, User
from conversations.engine import FileInfo, Input
from rules.catalogue import default_catalogue
from tests.driver import Clock, staff_config
from tests.fakes.telegram_api import FakeTelegram, FakeUser

NAME = "Công ty Quokka Xanh"
TAX = "0100109106"
TYPED = "Zebra-Orchid-4417"  # something the owner typed that no question wants
DECLINER = "Wombat-Lily-2231"  # what someone typed before declining consent
PDF = b"%PDF-1.7\n% Quokka's signed quote\n%%EOF\n"


def traces(data: bytes) -> list[str]:
    """The user's data found in ``data``: raw UTF-8 or JSON-escaped (the store's JSON is ASCII)."""
    needles = {NAME: NAME.encode(), "escaped name": json.dumps(NAME)[1:-1].encode(), TAX: TAX.encode()}
    needles |= {TYPED: TYPED.encode(), "Quokka": b"Quokka", DECLINER: DECLINER.encode()}
    return [label for label, needle in needles.items() if needle in data]


@dataclass
class Chat:
    """One Telegram user as the channel drives the service: each message an update with its id."""

    service: Service
    db: Database
    external_id: str
    next_id: int = 1000

    async def send(self, text: str = "", file: FileInfo | None = None, update_id: int | None = None) -> str:
        if update_id is None:
            self.next_id += 1
            update_id = self.next_id
            payload = {"update_id": update_id, "message": {"from": {"id": self.external_id}, "text": text}}
            key = users_store.user_key("telegram", self.external_id)
            await self.db.run(lambda s: inbox.record_update(s, "telegram", str(update_id), key, payload))
        outcome = await self.service.handle(
            "telegram", self.external_id, Input(text=text, file=file), update=("telegram", str(update_id))
        )
        return "\n".join(r.text for r in outcome.replies) if not outcome.duplicate else "<duplicate>"

    async def user(self) -> User:
        def read(s: Session) -> User:
            found = s.scalar(select(User).where(User.external_id == self.external_id))
            assert found is not None
            return found

        return await self.db.run(read)


@pytest.fixture
async def service(db_url: str, tmp_path: Path) -> AsyncIterator[Service]:
    db = await open_db(db_url)
    yield Service(db, default_catalogue(), Clock(), staff_config(), documents_dir=tmp_path / "documents")
    await db.close()


async def rows(db: Database, model: Any, *where: Any) -> list[Any]:
    return await db.run(lambda s: list(s.scalars(select(model).where(*where))))


async def enrolled(service: Service, external_id: str = "5001") -> Chat:
    chat = Chat(service, service.db, external_id)
    assert "Nghị định 13" in await chat.send("/start")
    assert "Tên doanh nghiệp" in await chat.send("1")
    assert "Mã số" in await chat.send(NAME)
    await chat.send(TAX)
    return chat


async def test_declining_consent_leaves_only_what_answers(service: Service) -> None:
    """Point 8: the consent screen already sits in the outbox (the foreign key that failed before)."""
    chat = Chat(service, service.db, "5002")
    assert "Nghị định 13" in await chat.send("/start")
    assert "Nghị định 13" in await chat.send(TYPED)  # not an answer: the consent screen again
    declined = await chat.send("Khong dong y")
    assert "không lưu bất kỳ dữ liệu nào" in declined and "Dữ liệu của tôi" not in declined  # not the menu
    user = await chat.user()
    assert user.consent_at is None and user.deleted_at is not None
    assert await rows(service.db, ConversationState) == []
    assert await rows(service.db, Enterprise) == []
    *earlier, answer = await rows(service.db, Outbox, Outbox.user_id == user.id)
    assert [(m.status, m.payload) for m in earlier] == [("erased", {})] * 2  # the consent screens: ids only
    assert "không lưu" in answer.payload["text"] and answer.status == "pending"
    inbox = await rows(service.db, ProcessedUpdate)
    assert [(u.update_id, u.user_key, u.payload) for u in inbox] == [
        ("1001", None, {}),
        ("1002", None, {}),
        ("1003", None, {}),
    ]
    assert await chat.send("Khong dong y", update_id=1003) == "<duplicate>"  # a redelivery
    assert "Nghị định 13" in await chat.send("/start")  # writing again starts again


async def test_mydata_holds_what_was_typed_sent_and_done(service: Service, tmp_path: Path) -> None:
    """Point 7: the raw updates, the outbox messages and every event, in one file, deleted once sent."""
    chat = await enrolled(service)
    await chat.send(TYPED)
    assert "toàn bộ dữ liệu" in await chat.send("/mydata")
    user = await chat.user()
    [message] = [
        m for m in await rows(service.db, Outbox, Outbox.user_id == user.id) if m.payload["documents"]
    ]
    [document] = message.payload["documents"]
    assert document["spool"] and Path(document["path"]).parent == tmp_path / "documents"
    exported = json.loads(Path(document["path"]).read_bytes())
    typed = [u["payload"]["message"]["text"] for u in exported["received"]]
    assert typed == ["/start", "1", NAME, TAX, TYPED, "/mydata"]
    sent = [m["payload"]["text"] for m in exported["sent"]]
    assert any("Nghị định 13" in t for t in sent) and any("Mã số" in t for t in sent)
    assert [e["action"] for e in exported["events"]] == ["consent"]
    assert exported["conversation_state"]["answers"]["name"] == NAME
    delivered(document)  # what the Telegram transport calls once the document is sent
    assert not Path(document["path"]).exists()


async def test_erasure_keeps_what_the_law_keeps_and_says_why(service: Service, tmp_path: Path) -> None:
    """Point 6: under review (ND80 Art. 32) and approved (Art. 31) stay and are named; the rest goes,
    files included; the inbox keeps handled ids without content; a redelivery re-enrols nobody."""
    chat = await enrolled(service)
    user = await chat.user()
    files = tmp_path / "files"
    files.mkdir()

    def setup(s: Session) -> list[str]:
        refs = []
        for status in ("approved", "in_review", "rejected"):
            dossier = dossiers_store.add_dossier(
                s,
                user_id=user.id,
                enterprise_id=None,
                year=2026,
                status=status,
                size="micro",
                data={"profile": {"name": NAME, "tax_code": TAX}},
                items=[
                    {
                        "item_id": "III.A.1.1",
                        "code": "III.A.1.1",
                        "programme_id": "nd80-national",
                        "cost_vnd": 40_000_000,
                        "quantity": 1,
                        "state_vnd": 40_000_000,
                        "enterprise_vnd": 0,
                    }
                ],
            )
            path = files / f"{status}.pdf"
            path.write_bytes(PDF + status.encode())
            dossiers_store.add_attachment(
                s,
                user_id=user.id,
                dossier_id=dossier.id,
                filename=f"{status}.pdf",
                mime="application/pdf",
                size_bytes=10,
                sha256=status,
                path=str(path),
            )
            refs.append(dossier.ref)
        return refs

    approved, in_review, rejected = await service.db.run(setup)
    documents = tmp_path / "documents"
    documents.mkdir()
    for ref in (approved, in_review, rejected):  # as the terminal chat writes a dossier's documents
        for ext in ("docx", "html"):
            (documents / f"{ref}.{ext}").write_text(NAME)
    await chat.send("/mydata")  # an export waiting in the outbox when the erasure comes
    [spooled] = list(documents.glob("*mydata*"))
    assert "xóa dữ liệu" in await chat.send("/deleteme")
    erased = await chat.send("co")
    assert f"hồ sơ {in_review} đang được cơ quan hỗ trợ xử lý" in erased and "Điều 32" in erased
    assert f"hồ sơ {approved} đã được chấp thuận" in erased and "Điều 31" in erased
    assert rejected not in erased
    assert sorted(p.name for p in files.iterdir()) == ["approved.pdf", "in_review.pdf"]
    assert not spooled.exists()
    assert sorted(p.name for p in documents.iterdir()) == sorted(
        f"{ref}.{ext}" for ref in (approved, in_review) for ext in ("docx", "html")
    )
    assert await rows(service.db, Enterprise) == [] and await rows(service.db, ConversationState) == []
    events = await rows(service.db, Event, Event.actor == "telegram:5001")
    assert [e.action for e in events] == ["erase"]  # the consent record went with the rest
    assert all(u.payload == {} for u in await rows(service.db, ProcessedUpdate))
    if (
        service.db.dialect == "sqlite"
    ):  # deleted rows are overwritten in the file, whatever the build's default
        assert await service.db.run(lambda s: s.execute(text("PRAGMA secure_delete")).scalar()) == 1
    for update_id in range(1001, chat.next_id + 1):  # every update the user ever sent, again
        assert await chat.send("?", update_id=update_id) == "<duplicate>"
    user = await chat.user()
    assert user.consent_at is not None and user.deleted_at is not None  # not enrolled again
    assert await rows(service.db, ConversationState) == []


async def test_the_log_shows_types_and_ids_not_what_was_typed(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Point 9: a database error carries the row's values, a parser's error quotes the input."""
    captured = io.StringIO()
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored afterwards: configure() sets them
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    logs.configure(logging.INFO, "%(levelname)s %(name)s: %(message)s", captured)  # as `smebot run` does
    chat = await enrolled(service)

    def failing_decide(s: Session, channel: str, external_id: str, key: str, inp: Input, *rest: Any) -> Any:
        try:
            raise ValueError(f"not a tax code: {inp.text!r}")
        except ValueError:
            # the second insert is a unique violation on every dialect, and its message carries the values
            twice = text(
                "INSERT INTO users (channel, external_id, lang, role) VALUES ('x', :v, 'vi', 'owner')"
            )
            s.execute(twice, {"v": inp.text[:64]})
            s.execute(twice, {"v": inp.text[:64]})
        raise AssertionError("unreachable")

    monkeypatch.setattr(service, "decide", failing_decide)
    answer = await chat.send(f"{TYPED} {NAME} lienhe@quokka.vn 0912 345 678")
    logging.getLogger("smebot.test").warning("the owner wrote %s", ValueError(TYPED))
    logging.getLogger("smebot.test").info("call 0912345678 or write to lienhe@quokka.vn (%s)", TAX)
    root.handlers[:], _ = before[0], root.setLevel(before[1])
    log = captured.getvalue()
    assert "Xin lỗi" in answer
    assert "error handling update ('telegram', '1005') of telegram:5001" in log
    assert "IntegrityError" in log and "ValueError" in log and "Traceback" in log
    assert "The above exception" in log or "During handling" in log
    assert traces(log.encode()) == [] and "lienhe@" not in log and "345 678" not in log


# --- the whole thing, through `smebot run` and the fake Bot API ------------------------------------------


async def say(user: FakeUser, text: str, expect: str, sent: list[int]) -> dict[str, Any]:
    sent.append(await user.send_text(text))
    return await user.wait_for(expect, timeout=30)


async def test_erased_stays_erased_through_telegram_redelivery(tmp_path: Path) -> None:
    """Points 6, 7, 9 end to end: no trace of the owner in the database file, on disk or in the log after
    /deleteme, also after Telegram delivers again every update they ever sent."""
    log_path = tmp_path / "smebot.log"
    documents = tmp_path / "documents"
    async with FakeTelegram(token="123456:TEST") as fake:
        environment = {
            **os.environ,
            "SMEBOT_TELEGRAM_TOKEN": "123456:TEST",
            "SMEBOT_TELEGRAM_API_URL": fake.base_url,
            "SMEBOT_TELEGRAM_CHAT_INTERVAL": "0.01",
            "SMEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'smebot.db'}",
            "SMEBOT_FILES_DIR": str(tmp_path / "files"),
            "SMEBOT_DOCUMENTS_DIR": str(documents),
        }
        with log_path.open("w") as log_file:
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"], env=environment, stdout=log_file, stderr=log_file
            )
            try:
                passer = fake.user(8002, "Minh", "vi")  # point 8: says something, then declines
                passed: list[int] = []
                await say(passer, "/start", "Nghị định 13", passed)
                await say(passer, DECLINER, "Nghị định 13", passed)
                declined = await say(passer, "Không đồng ý", "không lưu bất kỳ dữ liệu nào", passed)
                assert "Dữ liệu của tôi" not in str(declined)  # the answer, not the main menu
                for update_id in passed:
                    await fake.deliver_twice(update_id)
                await passer.send_text("/lang en")
                await passer.wait_for("Do you agree?", timeout=30)
                texts = [m.get("text", "") for m in passer.messages()]
                assert "không lưu" in texts[-2] and "Do you agree?" in texts[-1]

                user = fake.user(8001, "Lan", "vi")
                sent: list[int] = []
                await say(user, "/start", "Nghị định 13", sent)
                await say(user, "1", "Tên doanh nghiệp", sent)
                await say(user, NAME, "Mã số", sent)
                await say(user, TAX, "Loại hình", sent)
                sent.append(await user.send_document(PDF, "bao-gia-quokka.pdf", "application/pdf"))
                await user.wait_for("Đã lưu", timeout=30)
                await say(user, TYPED, "Loại hình", sent)  # not a choice: asked again
                await say(user, "/mydata", "toàn bộ dữ liệu", sent)
                export = await user.wait_for(lambda m: "document" in m, timeout=30)
                exported = json.loads(fake.file_content(export["document"]["file_id"]))
                received = json.dumps(exported["received"], ensure_ascii=False)
                assert TYPED in received and TAX in received and "bao-gia-quokka.pdf" in received
                assert any("Tên doanh nghiệp" in (m["payload"].get("text") or "") for m in exported["sent"])
                assert "consent" in [e["action"] for e in exported["events"]]
                await wait_until(lambda: not any(documents.glob("*mydata*")))  # deleted once sent
                assert any((tmp_path / "files").rglob("*.pdf"))
                await say(user, "/deleteme", "xóa dữ liệu", sent)
                await say(user, "co", "Đã xóa dữ liệu của bạn", sent)
                for update_id in sent:  # Telegram delivers every one of them again
                    await fake.deliver_twice(update_id)
                # then the owner writes again: one user's updates are handled and answered in order, so
                # any answer to a redelivery would come before this one's (in English, told apart)
                await user.send_text("/lang en")
                await user.wait_for("Do you agree?", timeout=30)
                after = [m.get("text", "") for m in user.messages()]
                erased_at = max(i for i, t in enumerate(after) if "Đã xóa dữ liệu" in t)
                assert len(after) == erased_at + 2 and "Do you agree?" in after[-1]
            finally:
                proc.send_signal(signal.SIGTERM)
                await asyncio.to_thread(proc.wait, 20)
    database = b"".join(p.read_bytes() for p in tmp_path.glob("smebot.db*"))
    assert traces(database) == []
    on_disk = [p for p in (tmp_path / "files").rglob("*") if p.is_file()]
    assert on_disk == [] and list(documents.glob("*")) == []
    log = log_path.read_bytes()
    assert b"Traceback" not in log and traces(log) == []


async def wait_until(condition: Any, timeout: float = 15) -> None:
    """A condition the bot reaches by itself (a file deleted after a send), waited for, not timed."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "never reached"
        await asyncio.sleep(0.05)
