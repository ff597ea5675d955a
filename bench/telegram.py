"""Benchmark: N concurrent owners through the whole journey via real python-telegram-bot against the fake
Bot API, and in the same run a bare PTB echo bot against another instance of the same fake.

Each bot runs as its own process (as in production, where Telegram is another machine); the fake and
the simulated users run in this one. Reports updates/s and p50/p99 latency (a user's message to the
bot's last reply for it) for both, and the ratio. Telegram's own limits (30 messages/s, 1/s per chat)
are lifted in the compared runs so the figure measures the pipeline (inbox, dispatcher, engine, store,
outbox, sender), not the limiter; a last run with the production limits shows what they cost.
Target (issue 6): the journey at least 50% of the echo bot's updates/s. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from subprocess import DEVNULL

from bench.journey import SCRIPT
from bench.journey import report as journey_report
from bot.service import Service
from bot.store.db import open_db
from conversations.engine import Input
from rules.catalogue import default_catalogue
from tests.fakes.telegram_api import FakeTelegram, FakeUser

TOKEN = "123456:BENCH"
TODAY = dt.date(2026, 12, 1)


async def expected_replies(tmp: Path) -> list[str]:
    """The last reply of every step, found by running the journey once through the service."""
    db = await open_db(f"sqlite+aiosqlite:///{tmp / 'dry.db'}")
    service = Service(db, default_catalogue(), lambda: TODAY)
    out = []
    for line in SCRIPT:
        outcome = await service.handle("console", "dry", Input(text=line))
        out.append(outcome.replies[-1].text)
    await db.close()
    return out


async def owner(user: FakeUser, expected: list[str], latencies: list[float]) -> None:
    for line, reply in zip(SCRIPT, expected, strict=True):
        start = time.perf_counter()
        await user.send_text(line)
        await user.wait_for(lambda m, r=reply: (m.get("text") or "").startswith(r[:40]), timeout=120)
        latencies.append(time.perf_counter() - start)


def bot_process(fake: FakeTelegram, module: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    full = {**os.environ, "SMEBOT_TELEGRAM_TOKEN": TOKEN, "SMEBOT_TELEGRAM_API_URL": fake.base_url, **env}
    return subprocess.Popen([sys.executable, "-m", *module], env=full, stdout=DEVNULL, stderr=DEVNULL)


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


async def run_journey(owners: int, tmp: Path, limits: bool, expected: list[str]) -> tuple[float, list[float]]:
    """`smebot run` as its own process, as in production; the fake and the users live here."""
    env = {
        "SMEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / f'bench-{limits}.db'}",
        "SMEBOT_FILES_DIR": str(tmp / "files"),
        "SMEBOT_DOCUMENTS_DIR": str(tmp / "documents"),
    }
    if not limits:
        env |= {"SMEBOT_TELEGRAM_MESSAGES_PER_SECOND": "100000", "SMEBOT_TELEGRAM_CHAT_INTERVAL": "0"}
    async with FakeTelegram(token=TOKEN) as fake:
        proc = bot_process(fake, ["bot.cli", "run"], env)
        try:
            await fake.wait_for_calls("getUpdates", 1, timeout=60)
            latencies: list[float] = []
            users = [fake.user(10_000 + n) for n in range(owners)]
            start = time.perf_counter()
            await asyncio.gather(*(owner(u, expected, latencies) for u in users))
            elapsed = time.perf_counter() - start
        finally:
            stop_process(proc)
    return elapsed, latencies


async def run_echo(owners: int) -> tuple[float, list[float]]:
    async with FakeTelegram(token=TOKEN) as fake:
        proc = bot_process(fake, ["bench.echo_bot"], {})
        latencies: list[float] = []

        async def user_loop(user: FakeUser) -> None:
            for n, line in enumerate(SCRIPT):
                text = f"{n}:{line}"
                start = time.perf_counter()
                await user.send_text(text)
                await user.wait_for(lambda m, t=text: m.get("text") == t, timeout=120)
                latencies.append(time.perf_counter() - start)

        try:
            await fake.wait_for_calls("getUpdates", 1, timeout=60)
            users = [fake.user(20_000 + n) for n in range(owners)]
            start = time.perf_counter()
            await asyncio.gather(*(user_loop(u) for u in users))
            elapsed = time.perf_counter() - start
        finally:
            stop_process(proc)
    return elapsed, latencies


def report(name: str, elapsed: float, latencies: list[float]) -> float:
    return journey_report(name, elapsed, latencies, unit="updates", width=34)


async def main(owners: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        expected = await expected_replies(Path(tmp))
        echo_rate = report("bare PTB echo bot", *await run_echo(owners))
        journey = await run_journey(owners, Path(tmp), False, expected)
        journey_rate = report("smebot journey (limits lifted)", *journey)
        print(f"ratio journey/echo                 {journey_rate / echo_rate:7.2f}  (target >= 0.50)")
        report("smebot journey (Telegram limits)", *await run_journey(owners, Path(tmp), True, expected))


if __name__ == "__main__":
    sys.setswitchinterval(0.001)  # as `smebot run` does: the SQLite writer thread gets the GIL back sooner
    parser = argparse.ArgumentParser()
    parser.add_argument("--owners", type=int, default=20)
    asyncio.run(main(parser.parse_args().owners))
