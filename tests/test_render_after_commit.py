"""Nothing slow inside a transaction (issue 14): /stats and /export record what to render (the year, the
agency, the rows as plain data) in the unit of work; the PNG, the XLSX and the CSV are rendered after the
commit, in the render pool, and still reach the officer — in the terminal chat with the reply, on a pushed
channel in the reply's own outbox row, rendered by the sender when it delivers it."""

from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import bot.service as service_module
from bot.effects import ChartDocument, ExportDocuments, deferred_from_json
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


async def test_on_a_pushed_channel_the_files_travel_in_the_replys_own_row(
    db_url: str, tmp_path: Path
) -> None:
    """Telegram: the transaction queues the reply with what to render (the chart's series, the export's
    rows) in the same outbox row; the sender renders it in the pool when it delivers the reply. A crash
    after the commit loses nothing: a new process reads the row back and renders the same files."""
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
        export = await service.handle("telegram", "77", _input("/export"), update=("telegram", "9002"))
        [chart_reply], [export_reply] = stats.queued, export.queued
        assert pool.ran == []  # nothing rendered by the transactions
        [chart_request] = chart_reply.payload["documents"]
        assert chart_request["render"] == "chart" and chart_request["year"] == 2026

        # as the sender of a restarted process would: the rows as stored, rendered now
        async with db.engine.connect() as conn:
            stored = dict((await conn.execute(select(Outbox.id, Outbox.payload))).all())
        chart = deferred_from_json(stored[chart_reply.outbox_id]["documents"][0], "vi")
        [png] = await service.materialize((chart,))  # type: ignore[arg-type]
        assert png.content.startswith(b"\x89PNG")
        plan = deferred_from_json(stored[export_reply.outbox_id]["documents"][0], "vi")
        xlsx, csv = await service.materialize((plan,))  # type: ignore[arg-type]
        assert [xlsx.filename, csv.filename] == ["smebot-ke-hoach-2026.xlsx", "smebot-ho-so-2026.csv"]
        assert ref in csv.content.decode("utf-8-sig")
        assert [name for name, _ in pool.ran] == ["render_chart", "render_export"]
        assert not any(inside for _, inside in pool.ran)
    finally:
        pool.shutdown()
        await db.close()


async def test_reports_are_decided_in_a_read_snapshot_off_the_event_loop(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/stats, /export and /queue load the agency's dossiers on a thread of their own (SQLite: a read
    transaction without the write lock), so the owners' transactions never wait for them; the write
    transaction only queues the replies. A command that writes (/claim) is decided in the transaction."""
    service, pool, db = await open_watched(db_url, tmp_path)
    threads: list[tuple[str, bool]] = []
    real = service_module.decide_report

    def watched(*args: Any) -> Any:
        threads.append((args[-1][0], threading.current_thread() is threading.main_thread()))
        return real(*args)

    monkeypatch.setattr(service_module, "decide_report", watched)
    try:
        ref = await file_dossier(service)
        _, bob, _ = await staff(service)
        for command in ("/queue", "/stats", "/export 2026"):
            assert "HS-" in await bob.send(command) or command != "/queue"
        assert "HS-" in await bob.send("Hàng chờ", payload="/queue")  # a button standing for the command
        assert f"{ref}" in await bob.send(f"/claim {ref}")
        expected_main = db.dialect != "sqlite"  # PostgreSQL reads on the async engine, not a thread
        assert threads == [(c, expected_main) for c in ("/queue", "/stats", "/export", "/queue")]
        assert "Thống kê năm 2026: 1 hồ sơ" in await bob.send("/stats")
    finally:
        pool.shutdown()
        await db.close()


def _input(text: str) -> Input:
    return Input(text=text)
