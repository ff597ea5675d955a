"""Benchmark: N concurrent owners through the whole journey via real python-telegram-bot against the fake
Bot API, and in the same run a bare PTB echo bot against another instance of the same fake.

Each bot runs as its own process (as in production, where Telegram is another machine); the fake and
the simulated users run in this one. Each of the N users runs its whole script, then a new user takes
its place, for ``--seconds`` per bot (a closed loop: the sustained rate, not one lockstep round).
Reports updates/s and p50/p99 latency (a user's message to the bot's last reply for it) for both, and
the ratio, and the CPU each bot spends per update (its own process, and the document workers it
starts). The two bots take turns, ``--rounds`` times, and the ratio reported is the median of the
rounds'. Telegram's own limits (30 messages/s, 1/s per chat) are lifted in the compared runs so the
figure measures the pipeline (inbox, dispatcher, engine, store, outbox, sender), not the limiter; a
last run with the production limits shows what they cost.
Target (issue 6): the journey at least 50% of the echo bot's updates/s. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from subprocess import DEVNULL

from bench.journey import SCRIPT
from bench.journey import report as journey_report
from bot.service import Service
from bot.store.db import open_db
from conversations.engine import Input
from rules.catalogue import default_catalogue
from tests.fakes.telegram_api import FakeTelegram

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


class Load:
    """``owners`` concurrent users for ``seconds``: each runs a whole script, then a new user takes its
    place (a closed loop, like people one after another), so the first round's lockstep fades and the
    figure is the sustained rate. Latency: from a user's message to the bot's answer to it."""

    def __init__(self, fake: FakeTelegram, owners: int, seconds: float, first_id: int) -> None:
        self.fake, self.owners, self.seconds, self.first_id = fake, owners, seconds, first_id
        self.latencies: list[float] = []
        self.last_answer = 0.0

    async def run(self, script: list[tuple[str, Callable[[dict[str, object]], bool]]]) -> float:
        start = time.perf_counter()
        deadline = start + self.seconds

        async def slot(n: int) -> None:
            for round_ in range(10_000):
                user = self.fake.user(self.first_id + n * 10_000 + round_)
                for text, answered in script:
                    if time.perf_counter() >= deadline:
                        return
                    sent = time.perf_counter()
                    await user.send_text(text)
                    await user.wait_for(answered, timeout=120)
                    self.last_answer = time.perf_counter()
                    self.latencies.append(self.last_answer - sent)

        await asyncio.gather(*(slot(n) for n in range(self.owners)))
        return self.last_answer - start


def journey_script(expected: list[str]) -> list[tuple[str, Callable[[dict[str, object]], bool]]]:
    """Each line of the journey, and how to recognise the bot's last answer to it."""
    return [
        (line, lambda m, r=reply: str(m.get("text") or "").startswith(r[:40]))
        for line, reply in zip(SCRIPT, expected, strict=True)
    ]


def echo_script() -> list[tuple[str, Callable[[dict[str, object]], bool]]]:
    texts = [f"{n}:{line}" for n, line in enumerate(SCRIPT)]
    return [(text, lambda m, t=text: m.get("text") == t) for text in texts]


def bot_process(fake: FakeTelegram, module: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    full = {**os.environ, "SMEBOT_TELEGRAM_TOKEN": TOKEN, "SMEBOT_TELEGRAM_API_URL": fake.base_url, **env}
    return subprocess.Popen([sys.executable, "-m", *module], env=full, stdout=DEVNULL, stderr=DEVNULL)


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


async def measure(
    module: list[str],
    env: dict[str, str],
    script: list[tuple[str, Callable[[dict[str, object]], bool]]],
    owners: int,
    seconds: float,
) -> tuple[float, list[float]]:
    """One bot as its own process (as in production); the fake and the users live in this one."""
    async with FakeTelegram(token=TOKEN) as fake:
        proc = bot_process(fake, module, env)
        try:
            await fake.wait_for_calls("getUpdates", 1, timeout=60)
            load = Load(fake, owners, seconds, first_id=10_000)
            cpu, helpers = cpu_seconds(proc.pid), children_cpu_seconds(proc.pid)
            elapsed = await load.run(script)
            cpu = cpu_seconds(proc.pid) - cpu
            helpers = children_cpu_seconds(proc.pid) - helpers
        finally:
            stop_process(proc)
    if cpu >= 0:
        per_update = 1e3 / len(load.latencies)
        print(
            f"  the bot process: {cpu * per_update:.2f} ms CPU per update, busy {cpu / elapsed:.0%} "
            f"of the time; its workers (documents): {helpers * per_update:.2f} ms per update"
        )
    return elapsed, load.latencies


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process so far, from /proc (Linux); -inf elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("-inf")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds(pid: int) -> float:
    """CPU time of a process's live descendants (the document workers), from /proc (Linux)."""
    total = 0.0
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return 0.0
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            total += max(cpu_seconds(int(child)), 0.0) + children_cpu_seconds(int(child))
    return total


def journey_env(tmp: Path, limits: bool, run: int = 0) -> dict[str, str]:
    """A fresh database for every run (a run starts from empty tables, like the first)."""
    env = {
        "SMEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / f'bench-{limits}-{run}.db'}",
        "SMEBOT_FILES_DIR": str(tmp / "files"),
        "SMEBOT_DOCUMENTS_DIR": str(tmp / "documents"),
    }
    if not limits:
        env |= {"SMEBOT_TELEGRAM_MESSAGES_PER_SECOND": "100000", "SMEBOT_TELEGRAM_CHAT_INTERVAL": "0"}
    return env


def report(name: str, elapsed: float, latencies: list[float]) -> float:
    return journey_report(name, elapsed, latencies, unit="updates", width=34)


async def main(owners: int, seconds: float, rounds: int, echo_backend: str) -> None:
    """Echo and journey take turns, ``rounds`` times: a shared machine's load drifts over minutes, and
    measuring the two back to back, round after round, keeps the drift out of the ratio."""
    with tempfile.TemporaryDirectory() as tmp:
        expected = journey_script(await expected_replies(Path(tmp)))
        echo_env = {"BENCH_ECHO_BACKEND": echo_backend}
        ratios = []
        for n in range(1, rounds + 1):
            print(f"round {n} of {rounds}")
            echo = await measure(["bench.echo_bot"], echo_env, echo_script(), owners, seconds)
            echo_rate = report(f"bare PTB echo bot ({echo_backend})", *echo)
            env = journey_env(Path(tmp), limits=False, run=n)
            journey = await measure(["bot.cli", "run"], env, expected, owners, seconds)
            journey_rate = report("smebot journey (limits lifted)", *journey)
            ratios.append(journey_rate / echo_rate)
            print(f"ratio journey/echo                 {ratios[-1]:7.2f}")
        listed = ", ".join(f"{r:.2f}" for r in ratios)
        median = statistics.median(ratios)
        print(f"ratio, median of {rounds} rounds       {median:7.2f}  ({listed}; target >= 0.50)")
        limited = await measure(
            ["bot.cli", "run"], journey_env(Path(tmp), limits=True), expected, owners, seconds
        )
        report("smebot journey (Telegram limits)", *limited)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--owners", type=int, default=20, help="concurrent users")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long each bot is measured")
    parser.add_argument("--rounds", type=int, default=3, help="echo and journey measured in turn, this often")
    parser.add_argument(
        "--echo-backend",
        choices=("httpx", "aiohttp"),
        default="httpx",
        help="the echo bot's networking: PTB's default, or the aiohttp backend smebot uses",
    )
    args = parser.parse_args()
    asyncio.run(main(args.owners, args.seconds, args.rounds, args.echo_backend))
