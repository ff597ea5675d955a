"""Issue 13, points 4-5: intake never stops.

Polling against the fake Bot API made to answer 409, 5xx, 429 or nothing at all, through the real
``smebot run`` process (SIGKILLed and started again); odd updates set aside, never retried; the webhook
answering 400 to what is not an update.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.channels.telegram import ALLOWED_UPDATES, SECRET_HEADER, inspect_update, next_offset
from bot.pipeline.supervise import supervise
from tests.fakes.telegram_api import ERR_CONFLICT_POLLING, FakeTelegram
from tests.test_delivery_faults import TOKEN, WELCOME, Bed, start

ODD = ("float_id", "bool_id", "from_without_id", "edited_message", "oversized")


def bot_env(fake: FakeTelegram, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SMEBOT_TELEGRAM_TOKEN": TOKEN,
        "SMEBOT_TELEGRAM_API_URL": fake.base_url,
        "SMEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'smebot.db'}",
        "SMEBOT_FILES_DIR": str(tmp_path / "files"),
        "SMEBOT_DOCUMENTS_DIR": str(tmp_path / "documents"),
        "SMEBOT_RENDER_PROCESSES": "1",
    }


@contextmanager
def smebot_run(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``smebot run`` in its own process, its log in ``log``; SIGKILLed at the end if still running."""
    with log.open("ab") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, stdout=sink, stderr=sink)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)


def rows(tmp_path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "smebot.db") as conn:
        return conn.execute(sql, args).fetchall()


# --- 4. polling survives every error --------------------------------------------------------------


async def test_polling_survives_conflicts_errors_and_says_so_once(tmp_path: Path) -> None:
    async with FakeTelegram(token=TOKEN) as fake:
        fake.inject("getMe", 502, times=2)  # at start: a blip is tried again
        fake.inject("setMyCommands", 500, times=2)
        fake.inject("deleteWebhook", 500)
        fake.inject("getUpdates", 409, times=2, description=ERR_CONFLICT_POLLING)  # another instance
        fake.inject("getUpdates", 502)
        fake.drop("getUpdates")  # no answer at all
        user = fake.user(4100)
        await user.send_text("/start")
        log = tmp_path / "smebot.log"
        with smebot_run(bot_env(fake, tmp_path), log) as proc:
            assert await user.wait_for(WELCOME, timeout=40)
            await user.send_text("/help")
            assert await user.wait_for("/start", timeout=20)
            proc.send_signal(signal.SIGTERM)
            await asyncio.to_thread(proc.wait, 20)
        assert proc.returncode == 0
    text = log.read_text()
    cannot = [line for line in text.splitlines() if "cannot poll:" in line]
    assert [line.split("cannot poll: ")[1].split(" (")[0] for line in cannot] == [
        "NetworkError: Internal Server Error",  # deleteWebhook
        "Conflict: Conflict: terminated by other getUpdates request; make sure that only one bot "
        "instance is running",  # twice, logged once
        "NetworkError: Bad Gateway",
        "NetworkError: aiohttp.ServerDisconnectedError: Server disconnected",
    ]
    assert all(" ERROR " in line for line in cannot)  # loudly
    assert text.count("polling resumed after 5 failed attempts") == 1
    assert "Traceback" not in text and TOKEN not in text


async def test_a_loop_that_stops_is_started_again(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[str] = []

    async def loop(stop: asyncio.Event) -> None:
        runs.append("run")
        if len(runs) == 1:
            raise RuntimeError("a bug in the loop")
        if len(runs) == 2:
            return  # ended by itself: supervised, it is started again
        await stop.wait()

    stop = asyncio.Event()
    task = asyncio.create_task(supervise("poller", loop, stop))
    while len(runs) < 3:
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert runs == ["run", "run", "run"]
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert messages == [
        "the poller stopped on an error; starting it again",
        "the poller stopped; starting it again",
    ]


# --- 5. a bad update is set aside, not stuck ---------------------------------------------------------


def test_inspect_update_sets_odd_ones_aside() -> None:
    sender = {"id": 7, "is_bot": False, "first_name": "An"}
    good = {"update_id": 5, "message": {"from": sender, "text": "hi"}}
    assert inspect_update(good).error is None and inspect_update(good).user_key == "telegram:7"
    huge = {"update_id": 8, "message": {"from": sender, "text": "x" * 70_000}}
    size = len(json.dumps(huge))
    reasons = {
        "float": inspect_update({**good, "update_id": 5.5}).error,
        "bool": inspect_update({**good, "update_id": True}).error,
        "anonymous": inspect_update({"update_id": 6, "message": {"from": {"first_name": "An"}}}).error,
        "edited": inspect_update({"update_id": 7, "edited_message": {"from": sender}}).error,
        "big": inspect_update(huge).error,
    }
    assert reasons == {
        "float": "update_id is not an integer (float)",
        "bool": "update_id is not an integer (bool)",
        "anonymous": "message without a sender id",
        "edited": "unhandled update type edited_message",
        "big": f"oversized update ({size} bytes)",
    }
    assert inspect_update(huge).payload == {"update_id": 8, "oversized": size}  # the text is not kept
    # the same odd update twice has the same key: recognised, not stored twice
    assert (
        inspect_update({**good, "update_id": True}).update_id
        == inspect_update({**good, "update_id": True}).update_id
    )
    assert next_offset([{"update_id": 3}, {"update_id": 4.5}, {"update_id": True}], 2) == 5
    assert next_offset([{"update_id": True}], 9) == 9


async def test_odd_updates_are_set_aside_and_not_retried_after_a_restart(tmp_path: Path) -> None:
    async with FakeTelegram(token=TOKEN) as fake:
        user = fake.user(4200)
        env = bot_env(fake, tmp_path)
        first, second = tmp_path / "first.log", tmp_path / "second.log"
        with smebot_run(env, first):
            ids = [fake.odd_update(4200, kind) for kind in ODD]  # forced past allowed_updates
            oversized = len(json.dumps(fake.update(ids[-1])))
            await user.send_text("/start")
            assert await user.wait_for(WELCOME, timeout=40)
        # SIGKILLed; started again: nothing set aside is tried again, the owner is answered
        with smebot_run(env, second) as proc:
            await user.send_text("/help")
            assert await user.wait_for("/start", timeout=40)
            proc.send_signal(signal.SIGTERM)
            await asyncio.to_thread(proc.wait, 20)
        aside = rows(tmp_path, "SELECT error FROM processed_updates WHERE error IS NOT NULL ORDER BY error")
        assert [error for (error,) in aside] == [
            "message without a sender id",
            f"oversized update ({oversized} bytes)",
            "unhandled update type edited_message",
            "update_id is not an integer (bool)",
            "update_id is not an integer (float)",
        ]
        assert rows(tmp_path, "SELECT count(*) FROM processed_updates WHERE processed_at IS NULL") == [(0,)]
    assert first.read_text().count("set aside:") == 5
    assert "set aside" not in second.read_text()
    assert "x" * 100 not in first.read_text()  # the content of an odd update is not logged


@pytest.fixture
async def bed(tmp_path: Path) -> AsyncIterator[Bed]:
    async with FakeTelegram(token=TOKEN) as fake:
        harness, stop, task = await start(fake, tmp_path)
        try:
            yield harness
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)
            await harness.db.close()


async def test_the_rescan_reaches_every_update_however_many_are_set_aside(tmp_path: Path) -> None:
    async with FakeTelegram(token=TOKEN) as fake:
        user = fake.user(4300)
        await user.send_text("/start")  # the chat exists for the fake
        harness, stop, task = await start(fake, tmp_path)
        await user.wait_for(WELCOME, timeout=15)
        stop.set()
        await asyncio.wait_for(task, timeout=15)
        # 1,500 unhandled updates, then two a user wrote, stored but not handled (a crash)
        sender = {"id": 4300, "is_bot": False, "first_name": "An"}
        chat = {"id": 4300, "type": "private"}
        odd = [
            {"update_id": 10_000 + n, "edited_message": {"from": sender, "chat": chat}} for n in range(1500)
        ]
        await harness.channel.store(*odd)
        real = [
            {
                "update_id": 20_000 + n,
                "message": {"message_id": 900 + n, "date": 0, "from": sender, "chat": chat, "text": text},
            }
            for n, text in enumerate(("/help", "/lang en"))
        ]
        await harness.channel.store(*real)
        await harness.db.close()
        harness, stop, task = await start(fake, tmp_path)
        try:
            assert await user.wait_for("English", timeout=20)
            assert harness.rows("SELECT count(*) FROM processed_updates WHERE processed_at IS NULL") == [(0,)]
            assert harness.rows("SELECT count(*) FROM processed_updates WHERE error IS NOT NULL") == [(1500,)]
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)
            await harness.db.close()


async def test_allowed_updates_filters_what_the_bot_does_not_handle(bed: Bed) -> None:
    user = bed.fake.user(4400)
    bed.fake.odd_update(4400, "edited_message", force=False)
    await user.send_text("/start")
    await user.wait_for(WELCOME, timeout=15)
    polls = bed.fake.calls("getUpdates")
    assert polls and all(c.params.get("allowed_updates") == ALLOWED_UPDATES for c in polls)
    assert [next(k for k in u if k != "update_id") for u in bed.fake.filtered] == ["edited_message"]
    assert bed.rows("SELECT count(*) FROM processed_updates") == [(1,)]  # only the /start


async def test_webhook_requests_that_are_not_updates_get_400(bed: Bed) -> None:
    app = bed.channel.webhook_app("/telegram", "s3cret")
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/telegram"
    sender = {"id": 4500, "is_bot": False, "first_name": "An"}
    chat = {"id": 4500, "type": "private"}
    not_updates = [
        b"not json",
        b"\xff\xfe\x00",
        b"[1, 2]",
        b'"text"',
        b"{}",
        b'{"update_id": 1.5}',
        b'{"update_id": true}',
        b'{"update_id": "12"}',
        b'{"update_id": null}',
    ]
    odd_updates = [
        {
            "update_id": 801,
            "message": {"message_id": 1, "date": 0, "chat": chat, "from": {"first_name": "An"}},
        },
        {"update_id": 802, "edited_message": {"message_id": 1, "date": 0, "chat": chat, "from": sender}},
        {"update_id": 803, "poll": {"id": "1"}},
    ]
    try:
        async with aiohttp.ClientSession(headers={SECRET_HEADER: "s3cret"}) as http:
            for body in not_updates:
                async with http.post(url, data=body) as answer:
                    assert answer.status == 400, body
            for update in odd_updates:
                async with http.post(url, json=update) as answer:
                    assert answer.status == 200  # taken, and set aside: Telegram need not send it again
    finally:
        await runner.cleanup()
    errors = bed.rows("SELECT update_id, error FROM processed_updates ORDER BY update_id")
    assert errors == [
        ("801", "message without a sender id"),
        ("802", "unhandled update type edited_message"),
        ("803", "unhandled update type poll"),
    ]


async def test_a_file_telegram_does_not_give_is_asked_for_again(bed: Bed) -> None:
    user = bed.fake.user(4600)
    await user.send_text("/start")
    await user.wait_for(WELCOME, timeout=15)
    bed.fake.inject("getFile", 502)
    update_id = await user.send_photo(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    assert await user.wait_for("gửi lại tệp", timeout=15)  # not silence: the owner is asked again
    assert bed.rows(
        "SELECT processed_at IS NOT NULL, error FROM processed_updates WHERE update_id=?", str(update_id)
    ) == [(1, None)]
