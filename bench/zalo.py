"""Benchmark (issue 17): journey updates/s over the Zalo Bot fake and over the Zalo OA fake, beside the
Telegram figure in the same run. Each bot is the real ``smebot run`` process (as in production); the fake
and the simulated owners run in this one (the OA's events signed and posted to the bot's webhook). N
owners each type the whole journey (bench/journey.py's script: typed numbers and words, which is how Zalo
owners answer), then a new owner takes their place, for ``--seconds`` per channel (a closed loop).
Telegram, the Zalo Bot and the Zalo OA take turns, ``--rounds`` times, and the median of the rounds'
ratios is reported (the machine is shared; its load drifts). The platforms' limits are lifted (the
figure measures the pipeline and the adapter, not the limiter). Not a test: no time is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from subprocess import DEVNULL
from typing import Any

import aiohttp

from bench.journey import SCRIPT
from bench.telegram import (
    cpu_seconds,
    expected_replies,
    journey_env,
    journey_script,
    measure,
    report,
    stop_process,
)
from tests.fakes.zalo_bot import FakeZaloBot
from tests.fakes.zalo_oa import FakeZaloOA
from tests.test_telegram import free_port

TOKEN = "3344556677889900112:bench-zalo-bot-token"

Answered = Callable[[dict[str, object]], bool]
Script = list[tuple[str, Answered]]


class ZaloLoad:
    def __init__(self, fake: FakeZaloBot | FakeZaloOA, owners: int, seconds: float) -> None:
        self.fake, self.owners, self.seconds = fake, owners, seconds
        self.latencies: list[float] = []
        self.last_answer = 0.0

    async def run(self, script: Script) -> float:
        start = time.perf_counter()
        deadline = start + self.seconds

        async def slot(n: int) -> None:
            for round_ in range(10_000):
                user = self.fake.user(self.user_id(n, round_))
                for text, answered in script:
                    if time.perf_counter() >= deadline:
                        return
                    before = len(user.received())
                    sent = time.perf_counter()
                    await user.send_text(text)

                    def done(u: Any = user, b: int = before, a: Answered = answered) -> bool:
                        return any(a({"text": m.text}) for m in u.received()[b:])

                    await self.fake.wait_until(done, timeout=120)
                    self.last_answer = time.perf_counter()
                    self.latencies.append(self.last_answer - sent)

        await asyncio.gather(*(slot(n) for n in range(self.owners)))
        return self.last_answer - start

    def user_id(self, n: int, round_: int) -> str:
        """The Zalo Bot's ids are hex strings, the OA's 19 digits (above 2^53)."""
        if isinstance(self.fake, FakeZaloOA):
            return str(8 * 10**18 + n * 10**12 + round_)
        return f"{n:06x}{round_:014x}"


def zalo_env(tmp: Path, run: int) -> dict[str, str]:
    return {
        **os.environ,
        "SMEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / f'zalo-{run}.db'}",
        "SMEBOT_FILES_DIR": str(tmp / "files"),
        "SMEBOT_DOCUMENTS_DIR": str(tmp / "documents"),
        "SMEBOT_ZALO_BOT_TOKEN": TOKEN,
        "SMEBOT_ZALO_BOT_MESSAGES_PER_SECOND": "100000",
        "SMEBOT_ZALO_BOT_CHAT_INTERVAL": "0",
        "SMEBOT_ZALO_BOT_MAX_IN_FLIGHT": "8",  # as Telegram's
        "SMEBOT_TELEGRAM_TOKEN": "",
    }


async def measure_zalo(
    tmp: Path, run: int, script: Script, owners: int, seconds: float
) -> tuple[float, list[float]]:
    async with FakeZaloBot(token=TOKEN) as fake:
        env = zalo_env(tmp, run) | {"SMEBOT_ZALO_BOT_API_URL": fake.base_url}
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"], env=env, stdout=DEVNULL, stderr=DEVNULL
        )
        try:
            await fake.wait_until(lambda: bool(fake.calls_of("getUpdates")), timeout=60)
            load = ZaloLoad(fake, owners, seconds)
            cpu = cpu_seconds(proc.pid)
            elapsed = await load.run(script)
            cpu = cpu_seconds(proc.pid) - cpu
        finally:
            stop_process(proc)
    if cpu >= 0 and load.latencies:
        print(f"  the bot process: {cpu * 1e3 / len(load.latencies):.2f} ms CPU per update")
    return elapsed, load.latencies


def oa_env(tmp: Path, run: int, fake: FakeZaloOA, port: int) -> dict[str, str]:
    access, refresh, _ = fake.issue_tokens()
    url = f"http://127.0.0.1:{port}/zalo-oa"
    fake.set_webhook(url)
    return {
        **os.environ,
        "SMEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / f'zalo-oa-{run}.db'}",
        "SMEBOT_FILES_DIR": str(tmp / "files"),
        "SMEBOT_DOCUMENTS_DIR": str(tmp / "documents"),
        "SMEBOT_ZALO_OA_APP_ID": fake.app_id,
        "SMEBOT_ZALO_OA_SECRET_KEY": fake.app_secret,
        "SMEBOT_ZALO_OA_OA_SECRET_KEY": fake.oa_secret,
        "SMEBOT_ZALO_OA_ACCESS_TOKEN": access,
        "SMEBOT_ZALO_OA_REFRESH_TOKEN": refresh,
        "SMEBOT_ZALO_OA_WEBHOOK_URL": url,
        "SMEBOT_ZALO_OA_API_URL": fake.base_url,
        "SMEBOT_ZALO_OA_OAUTH_URL": fake.base_url,
        "SMEBOT_WEBHOOK_LISTEN": f"127.0.0.1:{port}",
        "SMEBOT_ZALO_OA_MESSAGES_PER_SECOND": "100000",
        "SMEBOT_ZALO_OA_CHAT_INTERVAL": "0",
        "SMEBOT_ZALO_OA_MAX_IN_FLIGHT": "8",  # as Telegram's
        "SMEBOT_TELEGRAM_TOKEN": "",
        "SMEBOT_ZALO_BOT_TOKEN": "",
    }


async def measure_oa(
    tmp: Path, run: int, script: Script, owners: int, seconds: float
) -> tuple[float, list[float]]:
    """The OA's quota (4,000 calls a minute) lifted like the other platforms' limits."""
    async with FakeZaloOA(quota_per_minute=10**9) as fake:
        port = free_port()
        env = oa_env(tmp, run, fake, port)
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"], env=env, stdout=DEVNULL, stderr=DEVNULL
        )
        try:
            await serving(port, proc)
            load = ZaloLoad(fake, owners, seconds)
            cpu = cpu_seconds(proc.pid)
            elapsed = await load.run(script)
            cpu = cpu_seconds(proc.pid) - cpu
        finally:
            stop_process(proc)
    if cpu >= 0 and load.latencies:
        print(f"  the bot process: {cpu * 1e3 / len(load.latencies):.2f} ms CPU per update")
    return elapsed, load.latencies


async def serving(port: int, proc: subprocess.Popen[bytes]) -> None:
    """Until the bot's webhook server answers (a bot that stopped, or a port someone else took, fails)."""
    timeout = aiohttp.ClientTimeout(total=2)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        for _ in range(600):
            if proc.poll() is not None:
                raise RuntimeError(f"smebot run stopped ({proc.returncode})")
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as answer:
                    if answer.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("smebot run did not serve its webhook")


async def main(owners: int, seconds: float, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        script = journey_script(await expected_replies(Path(tmp)))
        assert len(script) == len(SCRIPT)
        ratios: list[float] = []
        oa_ratios: list[float] = []
        for n in range(1, rounds + 1):
            print(f"round {n} of {rounds}")
            env = journey_env(Path(tmp), limits=False, run=n)
            telegram_rate = report(
                "Telegram journey (limits lifted)",
                *await measure(["bot.cli", "run"], env, script, owners, seconds),
            )
            zalo_rate = report(
                "Zalo Bot journey (limits lifted)", *await measure_zalo(Path(tmp), n, script, owners, seconds)
            )
            oa_rate = report(
                "Zalo OA journey (limits lifted)", *await measure_oa(Path(tmp), n, script, owners, seconds)
            )
            ratios.append(zalo_rate / telegram_rate)
            oa_ratios.append(oa_rate / telegram_rate)
            print(f"ratio Zalo Bot/Telegram            {ratios[-1]:7.2f}")
            print(f"ratio Zalo OA/Telegram             {oa_ratios[-1]:7.2f}")
        for name, values in (("Zalo Bot", ratios), ("Zalo OA ", oa_ratios)):
            listed = ", ".join(f"{r:.2f}" for r in values)
            print(f"{name}, median of {rounds} rounds     {statistics.median(values):7.2f}  ({listed})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--owners", type=int, default=20, help="concurrent owners")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long each channel is measured")
    parser.add_argument(
        "--rounds", type=int, default=3, help="Telegram and Zalo measured in turn, this often"
    )
    args = parser.parse_args()
    asyncio.run(main(args.owners, args.seconds, args.rounds))
