"""People answering as they talk (issue 15.1) and text cleaned at the edge (issue 13.11), end to end:
the real service on a real SQLite file, and the terminal chat as a subprocess."""

from __future__ import annotations

import codecs
import os
import pty
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator
from io import BytesIO
from pathlib import Path
from select import select as wait_readable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.models import Dossier, DossierItem, Enterprise
from conversations import understand
from tests.driver import Clock, Owner, open_service
from tests.test_telegram import Harness, press, say, tg  # noqa: F401  (tg: the Telegram fixture)


@pytest.fixture
async def env(db_url: str) -> AsyncIterator[tuple[object, AsyncEngine]]:
    service, db = await open_service(db_url, Clock())
    yield service, db.engine  # type: ignore[misc]
    await db.close()


async def filed(engine: AsyncEngine) -> list[tuple[str, dict[str, object], list[tuple[str, int]]]]:
    async with engine.connect() as conn:
        out = []
        for dossier_id, ref, data in (
            await conn.execute(select(Dossier.id, Dossier.ref, Dossier.data).order_by(Dossier.id))
        ).all():
            items = (
                await conn.execute(
                    select(DossierItem.code, DossierItem.state_vnd).where(
                        DossierItem.dossier_id == dossier_id
                    )
                )
            ).all()
            out.append((ref, dict(data.get("profile") or {}), [(c, s) for c, s in items]))
        return out


def next_answer(shown: str, answers: list[tuple[str, str]]) -> tuple[str, str]:
    """The answer to the question asked last in ``shown``: people answer what they are asked, so a test
    keyed by question keeps working when a question is added or dropped before it."""
    found = [(shown.rfind(question), question, answer) for question, answer in answers if question in shown]
    assert found, f"no answer for: {shown[-300:]}"
    _, question, answer = max(found)
    return question, answer


async def converse(owner: Owner, answers: list[tuple[str, str]], until: str, limit: int = 60) -> str:
    shown = owner.transcript[-1]
    for _ in range(limit):
        if until in shown:
            return shown
        _, answer = next_answer(shown, answers)
        shown = await owner.send(answer)
    raise AssertionError(f"never reached {until!r}:\n" + "\n".join(owner.transcript[-6:]))


#: A trading firm in Hà Nội that never types a number for a choice (question -> answer).
NO_ACCENTS = [
    ("Bạn có đồng ý không?", "dong y"),
    ("Tên doanh nghiệp (theo", "Com Tam Ba Ba"),
    ("Mã số doanh nghiệp / mã số thuế", "0100109106"),
    ("Loại hình doanh nghiệp?", "tnhh 2 thanh vien"),
    ("ở tỉnh, thành phố nào?", "ha noi"),
    ("Xã, phường, đặc khu", "hoan kim"),
    ("Phường Hoàn Kiếm — đúng không?", "co"),
    ("Địa chỉ trụ sở chính", "12 hang bac"),
    ("Số điện thoại di động", "0912 345 678"),
    ("Email liên hệ?", "ko co"),
    ("Ngành, lĩnh vực kinh doanh chính", "thuong mai"),
    ("bảo hiểm xã hội bình quân", "3 nguoi"),
    ("bao nhiêu lao động nữ?", "ko co"),
    ("Tổng doanh thu năm trước?", "khoang 300tr"),
    ("300 triệu đồng — đúng không?", "dung roi"),
    ("Tổng nguồn vốn", "tam 2 ty ruoi"),
    ("2,5 tỷ đồng — đúng không?", "co"),
    ("hoạt động bao nhiêu tháng?", "5 nam roi"),
    ("Phụ nữ sở hữu", "ko"),
    ("doanh nghiệp xã hội không?", "k"),
    ("đặc biệt khó khăn không?", "chua"),
    ("Chọn giấy tờ chứng minh", "chua co"),
    ("cụm liên kết ngành hoặc chuỗi giá trị không?", "ko"),
    ("Sửa khai báo", "tiep tuc"),
    ("Đã chọn: 0.", "1, 2 va 3"),
    ("Đã chọn: 3.", "xong"),
    ("«Tư vấn cho doanh nghiệp siêu nhỏ» (đơn vị: doanh nghiệp/năm)\nChi phí dự kiến?", "40tr"),
    ("chuyển đổi số cho doanh nghiệp siêu nhỏ» (đơn vị: doanh nghiệp/năm)\nChi phí dự kiến?", "20 trieu"),
    ("sở hữu trí tuệ của doanh nghiệp» (đơn vị: hợp đồng/năm)\nChi phí dự kiến?", "15 trieu"),
    ("Đã có báo giá của bên cung cấp chưa?", "co roi"),
    ("Mã tư vấn viên thuộc mạng lưới", "chua co"),
    ("từ cơ quan, chương trình khác chưa?", "chua"),
    ("đăng ký doanh nghiệp lần đầu?", "15/3/2024"),
    ("Sửa một câu trả lời", "nop ho so"),
]


async def test_a_firm_without_diacritics_files_in_its_own_words(env: tuple) -> None:
    """No number typed where a word was natural, and not one "Tôi chưa hiểu" on the way."""
    service, engine = env
    owner = Owner(service, "no-accents")
    await owner.send("/start")
    done = await converse(owner, NO_ACCENTS, until="Đã nộp hồ sơ")
    assert "HS-2026-000001" in done
    talk = "\n".join(owner.transcript)
    assert "chưa hiểu" not in talk
    for echoed in ("Phường Hoàn Kiếm — đúng không?", "300 triệu đồng — đúng", "2,5 tỷ đồng — đúng"):
        assert echoed in talk
    [(ref, profile, items_filed)] = await filed(engine)
    assert ref == "HS-2026-000001"
    assert profile["entity_type"] == "llc2" and profile["female_workers"] == 0 and profile["workers"] == 3
    assert profile["revenue"] == 300_000_000 and profile["capital"] == 2_500_000_000
    assert profile["months"] is None and profile["email"] is None
    assert profile["women_owned"] is False and profile["social_enterprise"] is False
    assert {code for code, _ in items_filed} == {"III.A.1.1", "I.2.1", "I.3"}
    listed = await owner.send("/mydossiers")
    assert "HS-2026-000001" in owner.buttons()[0] and "HS-2026-000001" in listed
    detail = await owner.send("hs-2026-000001")  # the dossier's button, typed as it reads
    assert "Hồ sơ HS-2026-000001 ·" in detail


async def test_a_guess_can_be_refused_and_answered_again(env: tuple) -> None:
    service, _ = env
    owner = Owner(service, "refuses-a-guess")
    await owner.send("/start")
    await owner.script("dong y", "Gom Viet", "0100109106", "1", "ha noi")
    assert "đúng không?" in await owner.send("hoan kim")
    again = await owner.send("khong")
    assert "gõ lại" in again and "Xã, phường" in again
    await owner.send("hoan kim")  # the guess again, then a plain answer instead of yes/no: that counts
    assert "Địa chỉ" in await owner.send("Hoàn Kiếm")
    await owner.script("12 Hang Bac", "0912345678", "bo qua", "dich vu", "4", "1")
    assert "2,5 tỷ đồng — đúng không?" in await owner.send("tam 2 ty ruoi")
    assert "gõ lại" in await owner.send("sai")
    assert "nguồn vốn" in await owner.send("3 ty")  # plain figures are not echoed


async def test_numbers_pick_only_what_is_shown_and_pages_turn_as_labelled(env: tuple) -> None:
    service, _ = env
    owner = Owner(service, "pages")
    await owner.send("/start")
    await owner.script("dong y", "Gom Viet", "0100109106")
    first = await owner.send("cai dau")  # an ordinal: the first type shown
    assert "1. Thành phố Hà Nội" in first and "Trang sau (2/5) ▶" in first
    refused = await owner.send("12")  # on the next page, not this one
    assert "một số đang hiển thị (từ 1 đến 8)" in refused
    second = await owner.send("trang sau")  # typed as the button reads
    assert "9. " in second and "16. " in second and "◀ Trang trước" in second
    assert "một số đang hiển thị (từ 9 đến 16)" in await owner.send("3")
    back = await owner.send("Trang trước")
    assert "1. Thành phố Hà Nội" in back
    await owner.send("trang sau")
    communes = await owner.send("12")
    assert "Xã, phường" in communes


ENGLISH = [
    ("Do you agree?", "agree"),
    ("Name of the enterprise", "Rice Paper Co"),
    ("Enterprise / tax code", "0100109106"),
    ("Type of enterprise?", "multi-member llc"),
    ("Province or city of the head office?", "da nang"),
    ("Commune or ward of the head office?", "hai chau"),
    ("Head-office address", "12 Tran Phu"),
    ("Contact mobile number?", "+84 912 345 678"),
    ("Contact email?", "skip"),
    ("Main business line", "services"),
    ("Average number of insured workers", "5 people"),
    ("How many of them are women?", "two"),
    ("Total revenue last year?", "about 1.5 billion"),
    ("1.5 billion VND — is that right?", "yes"),
    ("Total capital", "800 million"),
    ("How many months has the firm been operating?", "2 years"),
    ("Do women own at least 51%", "no"),
    ("social enterprise?", "nope"),
    ("especially difficult socio-economic area?", "no"),
    ("innovative start-up", "none"),
    ("industry cluster or a value chain?", "neither"),
    ("Edit the declaration", "continue"),
    ("Chosen: 0.", "the first one"),
    ("Chosen: 1.", "done"),
    ("Expected cost?", "50 million"),
    ("provider's quote already?", "yes"),
    ("consultant's network code?", "not yet"),
    ("from another agency or programme?", "nothing"),
    ("File the dossier", "file"),
]


async def test_an_english_owner_answers_in_words(env: tuple) -> None:
    service, engine = env
    owner = Owner(service, "english-words")
    await owner.send("/start")
    await owner.send("/lang en")
    done = await converse(owner, ENGLISH, until="filed (status: submitted)")
    assert "HS-2026-000001" in done
    talk = "\n".join(owner.transcript)
    assert "did not understand" not in talk and "1.5 billion VND — is that right?" in talk
    [(_, profile, items)] = await filed(engine)
    assert profile["entity_type"] == "llc2" and profile["workers"] == 5 and profile["female_workers"] == 2
    assert profile["revenue"] == 1_500_000_000 and profile["months"] is None
    assert items == [("III.A.1.1", 50_000_000)]


async def test_typed_text_is_cleaned_before_it_is_stored_or_shown(env: tuple) -> None:
    """A control character in a firm name broke the DOCX; bidi overrides reordered what was shown back;
    "①", "²" and full-width digits crashed or were refused; a 40-digit count was taken."""
    service, engine = env
    owner = Owner(service, "dirty-text")
    await owner.send("/start")
    await owner.send("dong y")
    await owner.send("Gốm\x01 Việt\u202e\x7f")
    await owner.send("０１００１０９１０６")  # full-width tax code
    assert "tỉnh, thành phố nào" in await owner.send("①")  # the circled digit is the first type
    await owner.script("Ha Noi", "Hoan Kiem", "12 Hàng\x00 Bạc", "0912345678", "bo qua", "dich vu")
    assert "dài hơn mọi câu trả lời" in await owner.send("9" * 40)
    await owner.script("１２", "²")  # 12 workers, 2 women
    dirty = [
        (q, a) for q, a in NO_ACCENTS if not q.startswith(("«", "chuyển đổi số", "sở hữu trí tuệ", "Đã chọn"))
    ]
    dirty += [("Đã chọn: 0.", "1"), ("Đã chọn: 1.", "xong"), ("Chi phí dự kiến?", "40 triệu")]
    done = await converse(owner, dirty, until="Đã nộp hồ sơ")
    assert "HS-2026-000001" in done
    docx = next(d for d in owner.documents() if getattr(d, "filename", "").endswith(".docx"))
    with zipfile.ZipFile(BytesIO(docx.content)) as archive:  # type: ignore[attr-defined]
        body = archive.read("word/document.xml").decode("utf-8")
    assert "Gốm Việt" in body and "\u202e" not in body
    [(_, profile, _)] = await filed(engine)
    assert profile["name"] == "Gốm Việt" and profile["tax_code"] == "0100109106"
    assert profile["entity_type"] == "llc1" and profile["address"] == "12 Hàng Bạc"
    assert profile["workers"] == 12 and profile["female_workers"] == 2
    async with engine.connect() as conn:
        assert (await conn.execute(select(Enterprise.name))).scalar() == "Gốm Việt"


class Terminal:
    """`smebot chat` on a pseudo-terminal, as a person uses it: read up to the "> " prompt, type a line."""

    def __init__(self, db: Path, tmp: Path) -> None:
        self.master, slave = pty.openpty()
        self.stderr = (tmp / "chat.err").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "chat", "--db", str(db), "--user", "ba"],
            stdin=slave,
            stdout=slave,
            stderr=self.stderr,
            env={**os.environ, "SMEBOT_FILES_DIR": str(tmp / "files"), "TERM": "dumb"},
            cwd=tmp,
        )
        os.close(slave)
        self.decoder = codecs.getincrementaldecoder("utf-8")()

    def read(self) -> str:
        text = ""
        while not text.endswith("> "):
            ready, _, _ = wait_readable([self.master], [], [], 60)
            assert ready, f"the chat went silent after: {text[-300:]}"
            text += self.decoder.decode(os.read(self.master, 65536)).replace("\r\n", "\n")
        return text

    def type(self, line: str) -> str:
        os.write(self.master, (line + "\n").encode())
        return self.read()

    def close(self) -> int:
        os.write(self.master, b"\x04")  # Ctrl-D: the chat ends
        code = self.proc.wait(timeout=60)
        os.close(self.master)
        self.stderr.close()
        return code


def test_the_terminal_chat_understands_a_journey_without_diacritics(tmp_path: Path) -> None:
    """The whole owner journey in the terminal chat, answered in words and without diacritics."""
    db = tmp_path / "smebot.db"
    chat = Terminal(db, tmp_path)
    shown = chat.read()
    talk = [shown]
    for _ in range(60):
        if "Đã nộp hồ sơ" in shown:
            break
        _, answer = next_answer(shown, NO_ACCENTS)
        shown = chat.type(answer)
        talk.append(shown)
    talk.append(chat.type("/mydossiers"))
    assert chat.close() == 0
    out = "\n".join(talk)
    assert "Traceback" not in (tmp_path / "chat.err").read_text()
    assert "Đã nộp hồ sơ HS-2026-000001" in out and "HS-2026-000001 · đã nộp" in out
    assert "Phường Hoàn Kiếm — đúng không?" in out and "2,5 tỷ đồng — đúng không?" in out
    assert "chưa hiểu" not in out
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM dossiers").fetchone() == (1,)


async def test_on_telegram_what_is_shown_is_what_can_be_chosen(tg: Harness) -> None:  # noqa: F811
    """Every button has a number or is understood when typed as it reads; a number picks only what is on
    the page shown; an interpreted answer is confirmed with a button."""
    user = tg.fake.user(1501, "Ba", "vi")
    seen: list[str] = []

    async def typed(text: str, expect: str) -> dict[str, Any]:
        message = await say(user, text, expect)
        seen.extend(label for label, _ in user.buttons())
        return message

    await typed("/start", "Nghị định 13/2023")
    await typed("dong y", "Tên doanh nghiệp")
    await typed("Banh Trang Ba", "Mã số doanh nghiệp")
    await typed("0100109106", "Loại hình")
    await typed("tnhh 1 thanh vien", "tỉnh, thành phố")
    assert "một số đang hiển thị (từ 1 đến 8)" in (await typed("12", "một số đang hiển thị"))["text"]
    page = await typed("trang sau", "tỉnh, thành phố")  # the button, typed as it reads
    assert any(label.startswith("9. ") for label, _ in user.buttons()), page
    await typed("quang tri", "Xã, phường")
    echo = await typed("vinh thuyy", "đúng không?")  # a misspelt ward: echoed with yes/no buttons
    assert "Vĩnh Thủy — đúng không?" in echo["text"]
    await press(user, "Có", "Địa chỉ")
    await typed("12 Le Loi", "Số điện thoại")
    await typed("0912345678", "Email")
    await typed("khong co", "Ngành")
    await typed("san xuat", "Số lao động")
    await typed("5 nguoi", "lao động nữ")
    await typed("ca 5 deu la nu", "doanh thu")
    assert "300 triệu đồng — đúng không?" in (await typed("khoang 300tr", "đúng không?"))["text"]
    await press(user, "Có", "nguồn vốn")
    await typed("200tr", "bao nhiêu tháng")
    await typed("Từ 12 tháng trở lên", "51%")  # the only button, typed as it reads
    for label in seen:
        numbered = label.split(".", 1)[0].isdigit()
        assert numbered or understand.nav_word(label) or label in ("Từ 12 tháng trở lên",), label
    assert "chưa hiểu" not in "\n".join(m.get("text", "") for m in user.messages())
