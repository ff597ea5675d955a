"""Wiring: settings -> database (migrated on start) -> service. One place, used by every entry point."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.attachments import AttachmentStore
from bot.config import Settings
from bot.render_pool import RenderPool, render_pool
from bot.service import Service
from bot.staff import Staff
from bot.store.db import Database, open_db
from rules.catalogue import default_catalogue

# the channels whose replies a rate-limited sender delivers from the outbox
OUTBOX_CHANNELS = frozenset({"telegram", "zalo", "zalo_oa"})


@dataclass
class App:
    settings: Settings
    db: Database
    service: Service
    attachments: AttachmentStore
    renderer: RenderPool | None = field(default=None)

    async def close(self) -> None:
        if self.renderer is not None:
            self.renderer.shutdown(wait=True, cancel_futures=True)
        await self.db.close()


async def open_app(settings: Settings, render_processes: int = 0) -> App:
    """``render_processes`` > 0: documents are rendered in that many worker processes (the server);
    0: in a thread (the terminal chat, which renders one dossier now and then)."""
    db = await open_db(settings.database_url)
    staff = Staff.configured(settings.admin_ids, settings.agencies_file, settings.extra_days_off)
    renderer = render_pool(render_processes) if render_processes > 0 else None
    service = Service(
        db,
        default_catalogue(),
        staff=staff,
        documents_dir=settings.documents_dir,
        renderer=renderer,
        outbox_channels=OUTBOX_CHANNELS,
    )
    store = AttachmentStore(settings.files_dir, settings.max_file_bytes, settings.allowed_mime_prefixes)
    return App(settings, db, service, store, renderer)
