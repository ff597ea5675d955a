"""Nothing slow inside a transaction (issue 14): /stats and /export record what to render (the year, the
agency, the rows as plain data) in the unit of work; the PNG, the XLSX and the CSV are rendered after the
commit, in the render pool, and still reach the officer — in the terminal chat with the reply, on a pushed
channel as an outbox message of their own queued after the reply's text."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.effects import ChartDocument, ExportDocuments
from bot.service import Service
from bot.store.db import open_db
from bot.store.models import Outbox
from conversations.engine import Input
from rules.catalogue import default_catalogue
from tests.driver import Clock, Owner, staff_config
from tests.test_officer import file_dossier, staff


class WatchedService(Service):
    """The real service; it only notes when its unit of work (one transaction) is running."""

    in_unit = False

    def step(self, *args: Any) -> Any:
        self.in_unit = True
        try:
            return super().step(*args)
        finally:
            self.in_unit = False


class WatchingPool(ThreadPoolExecutor):
    """A real render pool (threads) that records what it ran and whether a unit of work was running."""

    def __init__(self) -> None:
        super().__init__(2)
        self.service: WatchedService | None = None
        self.ran: list[tuple[str, bool]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        assert self.service is not None
        self.ran.append((fn.__name__, self.service.in_unit))
        return super().submit(fn, *args, **kwargs)


async def open_watched(url: str, documents_dir: Path) -> tuple[WatchedService, WatchingPool, Any]:
    db = await open_db(url)
    pool = WatchingPool()
    service = WatchedService(
        db, default_catalogue(), Clock(), staff_config(), documents_dir=documents_dir, renderer=pool
    )
    pool.service = service
    return service, pool, db


async def test_stats_and_export_are_rendered_after_the_commit_and_still_arrive(
    db_url: str, tmp_path: Path
) -> None:
    service, pool, db = await open_watched(db_url, tmp_path)
    try:
        ref = await file_dossier(service)
        _, bob, _ = await staff(service)
        await bob.send(f"/claim {ref}")
        await bob.send(f"/approve {ref}")
        pool.ran.clear()

        outcome = await service.handle("console", "bob", _input("/stats"))
        [reply] = outcome.replies
        [request] = reply.documents  # what the transaction recorded: plain data, not a picture
        assert isinstance(request, ChartDocument) and request.year == 2026
        outcome = await service.handle("console", "bob", _input("/export 2026"))
        [request] = outcome.replies[0].documents
        assert isinstance(request, ExportDocuments) and ref in str(request.rows)
        assert pool.ran == []  # the unit of work finished and nothing was rendered

        stats = await bob.send("/stats")
        [chart] = bob.documents()
        assert "Thống kê năm 2026: 1 hồ sơ" in stats
        assert chart.content.startswith(b"\x89PNG")  # type: ignore[attr-defined]
        export = await bob.send("/export 2026")
        xlsx, csv = bob.documents()
        assert "2026" in export
        assert zipfile.is_zipfile(io.BytesIO(xlsx.content))  # type: ignore[attr-defined]
        assert ref in csv.content.decode("utf-8-sig")  # type: ignore[attr-defined]
        rendered = [name for name, _ in pool.ran]
        assert {"render_chart", "render_export"} <= set(rendered)
        assert not any(inside for _, inside in pool.ran)  # rendered, and never inside a transaction
    finally:
        pool.shutdown()
        await db.close()


async def test_on_a_pushed_channel_the_files_are_queued_after_the_reply(db_url: str, tmp_path: Path) -> None:
    """Telegram: the reply's text is queued by the transaction; the chart and the export, rendered after
    it, are queued next for the same officer, spooled like any reply document."""
    service, pool, db = await open_watched(db_url, tmp_path)
    try:
        ref = await file_dossier(service)
        admin, _, _ = await staff(service)
        dana = Owner(service, "77", channel="telegram")
        await dana.send("/start")
        assert "telegram:77" in await admin.send("/officer_add telegram:77 so-cong-thuong-quang-tri")
        await dana.send(f"/claim {ref}")
        pool.ran.clear()

        stats = await service.handle("telegram", "77", _input("/stats"), update=("telegram", "9001"))
        text, files = stats.queued
        assert text.outbox_id < files.outbox_id and text.payload["documents"] == []
        [png] = files.payload["documents"]
        assert Path(png["path"]).read_bytes().startswith(b"\x89PNG") and png["spool"]
        assert [inside for _, inside in pool.ran] == [False]

        export = await service.handle("telegram", "77", _input("/export"), update=("telegram", "9002"))
        text, files = export.queued
        assert [d["filename"] for d in files.payload["documents"]] == [
            "smebot-ke-hoach-2026.xlsx",
            "smebot-ho-so-2026.csv",
        ]
        async with db.engine.connect() as conn:
            rows = (await conn.execute(select(Outbox.id, Outbox.user_id).order_by(Outbox.id))).all()
        assert (files.outbox_id, files.user_id) in [tuple(r) for r in rows]  # recorded like any reply
        assert not any(inside for _, inside in pool.ran)
    finally:
        pool.shutdown()
        await db.close()


def _input(text: str) -> Input:
    return Input(text=text)
