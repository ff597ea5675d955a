"""Benchmark: many simulated owners, concurrently, through engine + store on a SQLite file.

Reports steps/s and p50/p99 latency of one step (one message: load, engine, effects, save, commit).
Three runs in one process:
- the engine alone on the same scripts (no database): the baseline for the ratio;
- "saturated": every owner sends the next message the moment the previous answer is back (closed loop,
  no think time): the most steps/s the store sustains; latency there is mostly queueing;
- "paced": the same owners, each pausing between messages (exponential think time) so that together they
  offer ``--rate`` steps/s, like people typing: the latency an owner sees at that load.
Targets (issue 4): at least 300 steps/s and p99 under 20 ms on a 2-core machine. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path

from bot.service import Service
from bot.store.db import open_db
from conversations.context import Context
from conversations.effects import RecordConsent
from conversations.engine import Input, State
from conversations.owner.handler import handle
from rules.catalogue import default_catalogue

SCRIPT = [
    "/start",
    "1",
    "Công ty TNHH Gốm Việt",
    "0100109106",
    "1",
    "Ha Noi",
    "Hoan Kiem",
    "12 Hang Bac",
    "0912345678",
    "bo qua",
    "cong nghiep",
    "8",
    "5",
    "2,5 tỷ",
    "5 tỷ",
    "12",
    "co",
    "khong",
    "khong",
    "co",
    "1",
    "1",
    "1",
    "1",
    "xong",
    "200 triệu",
    "co",
    "TVV-0123",
    "chua",  # nothing received from other agencies this year
    "Nop ho so",
]
TODAY = dt.date(2026, 12, 1)


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def run_store(owners: int, db: Path, rate: float | None = None) -> tuple[float, list[float]]:
    database = await open_db(f"sqlite+aiosqlite:///{db}")
    service = Service(database, default_catalogue(), lambda: TODAY)
    for line in SCRIPT:  # warm the caches (catalogue, places) outside the measurement
        await service.handle("bench", "warm-up", Input(text=line))
    latencies: list[float] = []
    finished: list[float] = []
    rng = random.Random(80)
    think = owners / rate if rate else 0.0

    async def owner(n: int) -> None:
        due = time.perf_counter()
        for line in SCRIPT:
            if think:  # a Poisson process per owner: the next message is due whatever the last one took
                due += rng.expovariate(1 / think)
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            start = time.perf_counter()
            await service.handle("bench", f"owner-{n}", Input(text=line))
            done = time.perf_counter()
            latencies.append(done - start)
            finished.append(done)

    await asyncio.gather(*(owner(n) for n in range(owners)))
    await database.close()
    # the sustained rate: steps completed between the 10th and the 90th percentile of completion times,
    # so the ramp-up and the tail (the last owners finishing alone) do not dilute it
    finished.sort()
    lo, hi = len(finished) // 10, len(finished) * 9 // 10
    elapsed = (finished[hi] - finished[lo]) * len(latencies) / (hi - lo)
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
            consented = consented or any(isinstance(e, RecordConsent) for e in out.effects)
            latencies.append(time.perf_counter() - t0)
    return time.perf_counter() - start, latencies


def report(name: str, elapsed: float, latencies: list[float], unit: str = "steps", width: int = 22) -> float:
    """One line: count, rate, p50 and p99 latency; returns the rate."""
    rate = len(latencies) / elapsed
    print(
        f"{name:{width}s} {len(latencies):6d} {unit}  {rate:8.1f} {unit}/s  "
        f"p50 {statistics.median(latencies) * 1e3:7.2f} ms  p99 {percentile(latencies, 99) * 1e3:7.2f} ms"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--owners", type=int, default=100)
    parser.add_argument("--rate", type=float, default=400.0, help="offered steps/s in the paced run")
    args = parser.parse_args()
    base_rate = report("engine only (baseline)", *run_engine_only(args.owners))
    with tempfile.TemporaryDirectory() as tmp:
        saturated = report("saturated store", *asyncio.run(run_store(args.owners, Path(tmp) / "a.db")))
        paced = report(
            f"paced at {args.rate:.0f}/s", *asyncio.run(run_store(args.owners, Path(tmp) / "b.db", args.rate))
        )
    print(f"ratio saturated/baseline {saturated / base_rate:7.3f}; paced achieved {paced:.0f} steps/s")
    print("targets: >= 300 steps/s, p99 < 20 ms")


if __name__ == "__main__":
    main()
