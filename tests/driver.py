"""Drive the real service (engine + store on a real database) as one or more owners, as a channel would."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from bot.replies import Rendered
from bot.service import Service
from bot.staff import DEFAULT_AGENCIES, Staff
from bot.store.db import Database, open_db
from conversations.engine import FileInfo, Input
from rules.agencies import load_agencies
from rules.catalogue import default_catalogue
from rules.deadline import Calendar
from rules.text import fold


@dataclass
class Clock:
    day: dt.date = dt.date(2026, 12, 1)

    def __call__(self) -> dt.date:
        return self.day


@dataclass
class Owner:
    service: Service
    user: str
    channel: str = "console"
    last: list[Rendered] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)

    async def send(self, text: str = "", payload: str | None = None, file: FileInfo | None = None) -> str:
        outcome = await self.service.handle(
            self.channel, self.user, Input(text=text, payload=payload, file=file)
        )
        # as a channel does: the documents are rendered after the answer is shown
        docs = [tuple(await self.service.materialize(r.documents)) for r in outcome.replies]
        self.last = [replace(r, documents=d) for r, d in zip(outcome.replies, docs, strict=True)]
        shown = "\n".join(r.text + "".join(f"\n  {b.label}" for b in r.buttons) for r in outcome.replies)
        self.transcript.append(f"> {text or payload or (file.name if file else '')}\n{shown}")
        return shown

    async def script(self, *lines: str) -> str:
        out = ""
        for line in lines:
            out = await self.send(line)
        return out

    def documents(self) -> list[object]:
        return [d for r in self.last for d in r.documents]

    def buttons(self) -> list[str]:
        return [b.label for r in self.last for b in r.buttons]

    def press(self, label_part: str) -> str:
        """The payload of the button whose label contains ``label_part`` (diacritics optional)."""
        wanted = fold(label_part)
        for reply in self.last:
            for button in reply.buttons:
                if wanted in fold(button.label):
                    return button.payload
        raise AssertionError(f"no button {label_part!r} in {self.buttons()}")


ADMIN = "console:admin"


def staff_config() -> Staff:
    return Staff(frozenset({ADMIN}), load_agencies(DEFAULT_AGENCIES), Calendar())


async def open_service(
    url: str, clock: Clock | None = None, staff: Staff | None = None
) -> tuple[Service, Database]:
    db = await open_db(url)
    return Service(db, default_catalogue(), clock or Clock(), staff or staff_config()), db
