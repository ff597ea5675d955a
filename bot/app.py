"""Wiring: settings -> database (migrated on start) -> service. One place, used by every entry point."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.attachments import AttachmentStore
from bot.config import Settings
from bot.service import Service
from bot.store.db import open_database, session_factory
from rules.catalogue import default_catalogue


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    service: Service
    attachments: AttachmentStore

    async def close(self) -> None:
        await self.engine.dispose()


async def open_app(settings: Settings) -> App:
    engine = await open_database(settings.database_url)
    single_writer = engine.dialect.name == "sqlite"
    service = Service(session_factory(engine), default_catalogue(), single_writer=single_writer)
    store = AttachmentStore(settings.files_dir, settings.max_file_bytes, settings.allowed_mime_prefixes)
    return App(settings, engine, service, store)
