"""The terminal chat: the owner's journey in a terminal, numbered choices, Vietnamese by default.

Interactive (line editing and history through readline) or scripted with piped stdin, one answer per
line; it exits cleanly at the end of the input. ``/file PATH`` sends a file as an attachment.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TextIO

from bot.attachments import AttachmentStore, Refused
from bot.channels.choices import chosen
from bot.replies import Rendered
from bot.service import Service
from conversations.engine import Input
from locales import t

CHANNEL = "console"


async def show(service: Service, replies: list[Rendered], out: TextIO, documents_dir: Path) -> None:
    """Print the replies; documents (the dossier DOCX, exports, charts) are written to ``documents_dir``."""
    for reply in replies:
        print(reply.text, file=out)
        for button in reply.buttons:
            print(f"   {button.label}", file=out)
        out.flush()
        for document in await service.materialize(reply.documents):
            documents_dir.mkdir(parents=True, exist_ok=True)
            path = documents_dir / document.filename
            path.write_bytes(document.content)
            print(f"   📎 {path} ({len(document.content)} bytes)", file=out)
    out.flush()


def to_input(line: str, last: list[Rendered], store: AttachmentStore, lang: str) -> Input | str:
    """A typed line as engine input; a string is an error to show instead."""
    text = line.strip()
    if text == "/file" or text.startswith("/file "):  # not /files, the officer command
        path = Path(text[5:].strip()).expanduser()
        if not path.is_file():
            return t("file.refused.missing", lang, name=str(path))
        try:
            return Input(file=store.keep(path.name, path.read_bytes()))
        except Refused as refused:
            return t(f"file.refused.{refused.code}", lang, **refused.params)
    if text.startswith("/programme_add ") and Path(text[15:].strip()).expanduser().is_file():
        path = Path(text[15:].strip()).expanduser()  # an officer's programme file (YAML), attached
        try:
            return Input(text="/programme_add", file=store.keep_programme(path.name, path.read_bytes()))
        except Refused as refused:
            return t(f"file.refused.{refused.code}", lang, **refused.params)
    shown = [(button.payload, button.label) for reply in last for button in reply.buttons]
    payload = chosen(text, shown, numbers=False)  # the terminal shows the labels as the dialogue made them
    return Input(payload=payload) if payload is not None else Input(text=text)


async def chat(
    service: Service, user: str, store: AttachmentStore, stdin: TextIO, stdout: TextIO, documents_dir: Path
) -> int:
    interactive = stdin.isatty()
    if interactive:
        import readline  # noqa: F401  (line editing and history for input())
    lang = "vi"
    outcome = await service.handle(CHANNEL, user, Input(text="/start"))
    lang = outcome.lang
    last = outcome.replies
    await show(service, last, stdout, documents_dir)
    while True:
        try:
            line = input("> ") if interactive else await asyncio.to_thread(stdin.readline)
        except EOFError:
            break
        if not interactive and line == "":
            break
        if not line.strip():
            continue
        if not interactive:
            print(f"> {line.rstrip()}", file=stdout)
        inp = to_input(line, last, store, lang)
        if isinstance(inp, str):
            print(inp, file=stdout)
            continue
        outcome = await service.handle(CHANNEL, user, inp)
        lang = outcome.lang
        last = outcome.replies
        await show(service, last, stdout, documents_dir)
    return 0
