"""Benchmark: many simulated owners, concurrently, through engine + store on a SQLite file.

Reports steps/s and p50/p99 latency of one step (one message: load, engine, effects, save, commit).
The baseline, in the same process, is the engine alone on the same scripts (no database), so the
ratio shows what persistence costs whatever the machine's speed today.
Targets (issue 4): p99 under 20 ms and at least 300 steps/s on a 2-core machine. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from bot.service import Service
from bot.store.db import open_database, session_factory
from conversations.context import Context
from conversations.engine import Input, State
from conversations.owner.handler import handle
from rules.catalogue import default_catalogue

SCRIPT = [
    "/start", "1", "Công ty TNHH Gốm Việt", "0100109106", "1", "Ha Noi", "Hoan Kiem", "12 Hang Bac",
    "0912345678", "bo qua", "cong nghiep", "8", "5", "2,5 tỷ", "5 tỷ", "12", "co", "khong", "khong", "co",
    "1", "1", "1", "1", "xong", "200 triệu", "co", "TVV-0123", "Nop ho so",
]
TODAY = dt.date(2026, 12, 1)


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def run_store(owners: int, db: Path) -> tuple[float, list[float]]:
    engine = await open_database(f"sqlite+aiosqlite:///{db}")
    service = Service(session_factory(engine), default_catalogue(), lambda: TODAY, single_writer=True)
    latencies: list[float] = []

    async def owner(n: int) -> None:
        for line in SCRIPT:
            start = time.perf_counter()
            await service.handle("bench", f"owner-{n}", Input(text=line))
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(owner(n) for n in range(owners)))
    elapsed = time.perf_counter() - start
    await engine.dispose()
    return elapsed, latencies


def run_engine_only(owners: int) -> tuple[float, list[float]]:
    catalogue = default_catalogue()
    latencies: list[float] = []
    start = time.perf_counter()
    for _ in range(owners):
        state, consented = State(), False
        for line in SCRIPT:
            t0 = time.perf_counter()
            out = handle(state, Input(text=line), Context(TODAY, catalogue, consented=consented))
            state = out.state
            consented = consented or any(e.kind == "record_consent" for e in out.effects)
            latencies.append(time.perf_counter() - t0)
    return time.perf_counter() - start, latencies


def report(name: str, elapsed: float, latencies: list[float]) -> float:
    rate = len(latencies) / elapsed
    print(
        f"{name:22s} {len(latencies):6d} steps  {rate:8.0f} steps/s  "
        f"p50 {statistics.median(latencies) * 1e3:6.2f} ms  p99 {percentile(latencies, 99) * 1e3:6.2f} ms"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--owners", type=int, default=50)
    args = parser.parse_args()
    base_rate = report("engine only (baseline)", *run_engine_only(args.owners))
    with tempfile.TemporaryDirectory() as tmp:
        rate = report("engine + SQLite store", *asyncio.run(run_store(args.owners, Path(tmp) / "bench.db")))
    print(f"ratio store/baseline    {rate / base_rate:8.3f}  (targets: >= 300 steps/s, p99 < 20 ms)")


if __name__ == "__main__":
    main()
