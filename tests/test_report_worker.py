"""An officer's reports are decided in a worker process of the server (issue 14: "/stats and /export
during a 20-owner journey load do not raise the owners' p99"): the same answers as decided in the bot's own
process, a programme published after the worker started is seen by it, and a worker pool that is gone
still leaves the officer answered. Real worker processes (the server's render pool), a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import bot.service as service_module
from bot.render_pool import render_pool
from bot.report_worker import can_run_in_workers
from bot.service import Service
from bot.store.db import open_db
from conversations.engine import Input
from rules.catalogue import default_catalogue
from tests.driver import Clock, staff_config
from tests.test_officer import QUANG_TRI, file_dossier, staff
from tests.test_programmes import PROGRAMME, declared

REPORTS = ("/queue", "/stats", "/export", "/officers", "/programmes")


@pytest.fixture
async def services(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[Service, Service]]:
    """The server's service (reports in its worker processes) and one that decides them itself, on the
    same database."""
    pool = render_pool(1)
    db, local_db = await open_db(db_url), await open_db(db_url)
    clock = Clock()
    server = Service(db, default_catalogue(), clock, staff_config(), documents_dir=tmp_path, renderer=pool)
    local = Service(local_db, default_catalogue(), clock, staff_config(), documents_dir=tmp_path)
    try:
        yield server, local
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        await db.close()
        await local_db.close()


async def answers(service: Service, who: str, command: str) -> list[str]:
    outcome = await service.handle("console", who, Input(text=command))
    return [reply.text for reply in outcome.replies]


async def test_reports_decided_in_a_worker_are_the_ones_decided_here(
    services: tuple[Service, Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, local = services
    assert server.reports is not None and local.reports is None
    ref = await file_dossier(server)
    _, bob, _ = await staff(server)
    await bob.send(f"/claim {ref}")
    expected = {(who, c): await answers(local, who, c) for who in ("admin", "bob") for c in REPORTS}
    # the bot's own process may not decide them: only the worker (a process of its own) can answer
    monkeypatch.setattr(service_module, "decide_report", _not_here)
    for (who, command), replies in expected.items():
        assert await answers(server, who, command) == replies, (who, command)
    assert any(ref in text for text in expected[("bob", "/queue")])
    assert any("1" in text for text in expected[("admin", "/export")])


async def test_a_programme_published_after_the_worker_started_is_in_its_reports(
    services: tuple[Service, Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, local = services
    admin, bob, _ = await staff(server)
    await admin.send("/stats")  # the worker has its service now, with the shipped programmes only
    assert "Đã lưu bản nháp" in await bob.send("/programme_add\n" + PROGRAMME)
    assert "Đã công bố" in await bob.send("/programme_publish qt-2026-digital")
    await declared(server, "quangtri", QUANG_TRI)  # its digital solutions row is the best: qt26-dx
    expected = await answers(local, "admin", "/stats")
    monkeypatch.setattr(service_module, "decide_report", _not_here)
    after = await answers(server, "admin", "/stats")
    assert after == expected
    # the item is counted under its kind (digital transformation), which only the live catalogue knows
    assert "qt26-dx" not in "\n".join(after) and "Công nghệ, chuyển đổi số: 1" in "\n".join(after)
    # closed: its item has left the live catalogue, and the worker's too; still named in Vietnamese
    assert "Đã đóng" in await bob.send("/programme_close qt-2026-digital")
    closed = "\n".join(await answers(server, "admin", "/stats"))
    assert "Nội dung ngoài danh mục hiện hành: 1" in closed and "other" not in closed


async def test_a_pool_that_is_gone_still_answers_the_officer(services: tuple[Service, Service]) -> None:
    server, local = services
    await staff(server)
    assert server.renderer is not None
    server.renderer.shutdown(wait=True)
    assert await answers(server, "admin", "/stats") == await answers(local, "admin", "/stats")


def test_only_a_database_a_worker_can_open_is_read_there() -> None:
    pool = render_pool(1)
    try:
        assert can_run_in_workers(pool, "sqlite+aiosqlite:////var/smebot/smebot.db")
        assert can_run_in_workers(pool, "postgresql+asyncpg://bot@db/smebot")
        assert not can_run_in_workers(pool, "sqlite+aiosqlite://")  # in memory: this process's own
        assert not can_run_in_workers(pool, "sqlite+aiosqlite:///:memory:")
        assert not can_run_in_workers(None, "sqlite+aiosqlite:////var/smebot/smebot.db")
    finally:
        pool.shutdown()


def _not_here(*_: Any) -> None:
    raise AssertionError("a report was decided in the bot's own process")
