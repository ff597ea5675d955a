"""Wiring: settings -> database (migrated on start) -> service. One place, used by every entry point."""

from __future__ import annotations

from dataclasses import dataclass

from bot.attachments import AttachmentStore
from bot.config import Settings
from bot.service import Service
from bot.staff import Staff
from bot.store.db import Database, open_db
from rules.catalogue import default_catalogue


@dataclass
class App:
    settings: Settings
    db: Database
    service: Service
    attachments: AttachmentStore

    async def close(self) -> None:
        await self.db.close()


async def open_app(settings: Settings) -> App:
    db = await open_db(settings.database_url)
    staff = Staff.configured(settings.admin_ids, settings.agencies_file, settings.extra_days_off)
    service = Service(db, default_catalogue(), staff=staff)
    store = AttachmentStore(settings.files_dir, settings.max_file_bytes, settings.allowed_mime_prefixes)
    return App(settings, db, service, store)
