"""Benchmark: do an officer's /stats and /export slow the owners down?

20 owners walk the journey of ``bench/journey.py`` (paced like people typing, on a SQLite file, the render
workers of the server), once alone and once while an officer (an admin: every agency's dossiers) sends
/stats and /export in turn every ~0.5 s, in the same process and the same run, alternating the two modes
over ``--rounds`` rounds on fresh databases seeded alike (``--seed`` owners' filed dossiers, so the export
has rows). Reports the owners' p50/p99 reply latency both ways and the ratio, the officer's own, and the
noise floor: the ratio between two halves of the owners-alone rounds (the same load measured twice).
An owner's latency runs from when the message is due (sent), so time spent waiting for the event loop
counts: on SQLite the unit of work runs on the loop's thread (``BEGIN IMMEDIATE``).

A chart (matplotlib) or a plan workbook (openpyxl) takes 0.1-0.3 s of CPU: rendered inside the write
transaction (before issue 14) every owner behind it waited that long; rendered after the commit in the
worker pool (as the sender does when it delivers the reply: :func:`deliver`), and decided in a read
snapshot in those workers too (loading the agency's dossiers: :mod:`bot.report_worker`; on a thread of
this process it still held the GIL the owners need), an owner's p99 should not move. Not a test (no
timing assertions anywhere).
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

from bench.journey import SCRIPT, percentile
from bot.effects import deferred_from_json
from bot.render_pool import render_pool
from bot.replies import Outcome
from bot.service import Service
from bot.staff import DEFAULT_AGENCIES, Staff
from bot.store.db import open_db
from conversations.engine import Input
from rules.agencies import load_agencies
from rules.catalogue import default_catalogue
from rules.deadline import Calendar

TODAY = dt.date(2026, 12, 1)
# a firm in Vĩnh Thủy (Quảng Trị) files consulting (250 M) and digital solutions (60 M): the seeded dossiers
FILING = [
    Input(text=text) if isinstance(text, str) else text
    for text in (
        *("/start", "1", "Công ty TNHH Gốm Việt", "0100109106", "1", "quang tri", "vinh thuy", "12 Lê Lợi"),
        *("0912345678", "bo qua", "cong nghiep", "30", "12", "20 tỷ", "10 tỷ", "12", "co", "khong"),
        *("khong", "co", "1", "1", "khong", "1"),
        *(Input(payload="III.A"), Input(payload="I.2"), Input(payload="_done")),
        *("250 triệu", "co", "TVV-0123", "chua", "60 triệu", "co", "chua", "1"),
    )
]
OFFICER = "officer"  # an admin, on a pushed channel: its files are rendered and queued after the commit


async def one_run(
    db: Path, owners: int, seed: int, rate: float, officer: bool, pool: object
) -> tuple[list[float], list[float]]:
    database = await open_db(f"sqlite+aiosqlite:///{db}")
    staff = Staff(frozenset({f"telegram:{OFFICER}"}), load_agencies(DEFAULT_AGENCIES), Calendar())
    service = Service(
        database,
        default_catalogue(),
        lambda: TODAY,
        staff=staff,
        documents_dir=db.parent / f"{db.stem}-documents",
        renderer=pool,  # type: ignore[arg-type]
    )
    for n in range(seed):  # dossiers for the export, filed before the measurement
        for inp in FILING:
            await service.handle("bench", f"seed-{n}", inp)
    for command in ("/stats", "/export"):  # warm the officer's path (imports in the workers) too
        await deliver(service, await service.handle("telegram", OFFICER, Input(text=command)))
    owner_latencies: list[float] = []
    officer_latencies: list[float] = []
    rng = random.Random(14)
    think = owners / rate
    done = asyncio.Event()

    async def owner(n: int) -> None:
        due = time.perf_counter()
        for line in SCRIPT:
            due += rng.expovariate(1 / think)  # a Poisson process per owner, like people typing
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            # from when the owner sent it (``due``), not from when this coroutine woke: on SQLite a unit of
            # work runs on the event loop's thread, so a slow one delays the wake-up itself
            sent = min(due, time.perf_counter())
            await service.handle("bench", f"owner-{n}", Input(text=line))
            owner_latencies.append(time.perf_counter() - sent)

    async def staff_member() -> None:
        commands = ("/stats", "/export")
        i = 0
        while not done.is_set():
            start = time.perf_counter()
            outcome = await service.handle("telegram", OFFICER, Input(text=commands[i % 2]))
            await deliver(service, outcome)
            officer_latencies.append(time.perf_counter() - start)
            i += 1
            await asyncio.sleep(max(0.0, 0.5 - (time.perf_counter() - start)))

    async def owners_then_stop() -> None:
        await asyncio.gather(*(owner(n) for n in range(owners)))
        done.set()

    await asyncio.gather(owners_then_stop(), *([staff_member()] if officer else []))
    await database.close()
    return owner_latencies, officer_latencies


async def deliver(service: Service, outcome: Outcome) -> None:
    """What the Telegram sender does with the officer's reply: render its chart or export (the worker
    pool), from the request the transaction queued in the reply's row."""
    for queued in outcome.queued:
        for document in queued.payload.get("documents") or []:
            request = deferred_from_json(document, "vi")
            if request is not None:
                await service.materialize((request,))


def line(name: str, samples: list[float]) -> str:
    return (
        f"{name:28s} {len(samples):5d} replies  p50 {statistics.median(samples) * 1e3:7.2f} ms  "
        f"p99 {percentile(samples, 99) * 1e3:7.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--owners", type=int, default=20)
    parser.add_argument("--seed", type=int, default=30, help="owners whose dossiers are filed beforehand")
    parser.add_argument("--rate", type=float, default=40.0, help="the owners' offered steps/s together")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="render worker processes, as the server")
    args = parser.parse_args()
    alone: list[list[float]] = []  # one list per round
    loaded: list[list[float]] = []
    officer: list[float] = []
    pool = render_pool(args.workers)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(args.rounds):
                for with_officer in (False, True) if r % 2 == 0 else (True, False):
                    db = Path(tmp) / f"r{r}-{int(with_officer)}.db"
                    owners, staff = asyncio.run(
                        one_run(db, args.owners, args.seed, args.rate, with_officer, pool)
                    )
                    (loaded if with_officer else alone).append(owners)
                    officer.extend(staff)
    finally:
        pool.shutdown()
    every_alone, every_loaded = [x for r in alone for x in r], [x for r in loaded for x in r]
    print(f"{args.owners} owners paced at {args.rate:.0f} steps/s, {args.rounds} rounds, {args.seed} seeded")
    print(line("owners alone", every_alone) + per_round(alone))
    print(line("owners + officer /stats,/export", every_loaded) + per_round(loaded))
    print(line("officer /stats and /export", officer))
    p50 = statistics.median(every_loaded) / statistics.median(every_alone)
    p99 = percentile(every_loaded, 99) / percentile(every_alone, 99)
    print(f"ratio with/without officer: p50 {p50:.2f}  p99 {p99:.2f}")
    if len(alone) >= 2:  # the noise floor: the same load (owners alone) measured twice
        half = len(alone) // 2
        first, second = [x for r in alone[:half] for x in r], [x for r in alone[half:] for x in r]
        noise = percentile(second, 99) / percentile(first, 99)
        print(f"noise floor, owners alone rounds 1-{half} vs {half + 1}-{len(alone)}: p99 {noise:.2f}")


def per_round(rounds: list[list[float]]) -> str:
    return "  (p99 per round: " + " ".join(f"{percentile(r, 99) * 1e3:.1f}" for r in rounds) + ")"


if __name__ == "__main__":
    main()
