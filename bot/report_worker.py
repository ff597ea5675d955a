"""Officers' reports (/queue, /stats, /export, /officers, /programmes) decided in a worker process.

A report loads every dossier of the agency and decides over them: a few milliseconds of Python per few
dozen dossiers, more as the year fills. On a thread of the bot's own process that time still holds the
GIL the owners' event loop needs (``bench/officer_load.py``), so the server decides them in the render
workers instead (which run at a lower priority, :mod:`bot.render_pool`): the same function
(:func:`bot.prepare.decide_report`), on a :class:`Service` of the worker's own over the same database, in
a read snapshot. The bot's process only sends the question and receives the decided outcome.

What the worker needs and never changes (the database URL, the shipped catalogue, the configured staff)
is pickled once by the bot (:class:`ReportWorkers`) and sent with every job under a token; a worker
unpickles it the first time it sees the token and keeps the service. The published programmes are
reloaded by the worker when the bot's count of reloads (``generation``) moved, so a report sees the
catalogue the bot's transaction will see.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import pickle
import uuid
from collections import OrderedDict
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import make_url

from bot.prepare import Prepared, decide_report
from bot.render_pool import in_processes
from bot.staff import Staff
from bot.store.db import Database, make_engine
from rules.catalogue import Catalogue

if TYPE_CHECKING:
    from bot.service import Service

log = logging.getLogger("smebot.reports")

KEPT_SERVICES = 2  # per worker: one in production; a benchmark opens a database per round


@dataclass(frozen=True)
class ReportSetup:
    """What a worker builds its service from: the same database, catalogue and staff as the bot's."""

    url: str
    shipped: Catalogue
    staff: Staff


@dataclass(frozen=True)
class ReportJob:
    token: str
    setup: bytes  # a pickled ReportSetup, unpickled once per worker
    generation: int  # how many times the bot has loaded the published programmes
    today: dt.date
    channel: str
    external_id: str
    key: str
    command: tuple[str, str]


def can_run_in_workers(renderer: Executor | None, url: str) -> bool:
    """Worker processes see the same database only through a file or a server (not ``:memory:``)."""
    if not in_processes(renderer):
        return False
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return True
    database = parsed.database or ""
    return database not in ("", ":memory:") and not database.startswith("file:")


class ReportWorkers:
    """The bot's side: sends a report to the pool and returns what the worker decided."""

    def __init__(self, pool: Executor, url: str, shipped: Catalogue, staff: Staff) -> None:
        self.pool = pool
        self.token = uuid.uuid4().hex
        self.setup = pickle.dumps(ReportSetup(url, shipped, staff))

    async def decide(
        self,
        service: Service,
        channel: str,
        external_id: str,
        key: str,
        command: tuple[str, str],
    ) -> Prepared | None:
        job = ReportJob(
            self.token,
            self.setup,
            service.programmes_generation,
            service.today(),
            channel,
            external_id,
            key,
            command,
        )
        return await asyncio.get_running_loop().run_in_executor(self.pool, run_job, job)


# --- in the worker process ---------------------------------------------------------------------------


@dataclass
class _Worker:
    loop: asyncio.AbstractEventLoop
    service: Service
    generation: int = -1


_workers: OrderedDict[str, _Worker] = OrderedDict()


def run_job(job: ReportJob) -> Prepared | None:
    """In a worker: decide the report in a read snapshot of the database (see the module docstring)."""
    worker = _workers.get(job.token)
    if worker is None:
        worker = _workers[job.token] = _start(pickle.loads(job.setup))
        while len(_workers) > KEPT_SERVICES:
            _stop(_workers.popitem(last=False)[1])
    service = worker.service
    service.today = lambda: job.today
    return worker.loop.run_until_complete(_decide(worker, service, job))


async def _decide(worker: _Worker, service: Service, job: ReportJob) -> Prepared | None:
    if worker.generation != job.generation:
        await service.db.read(service.load_programmes)
        worker.generation = job.generation
    return await service.db.read(decide_report, service, job.channel, job.external_id, job.key, job.command)


def _start(setup: ReportSetup) -> _Worker:
    from bot.service import Service  # the service imports this module: not at import time

    loop = asyncio.new_event_loop()
    db = Database(make_engine(setup.url), checkpoints=False)  # the bot's process checkpoints
    return _Worker(loop, Service(db, setup.shipped, staff=setup.staff))


def _stop(worker: _Worker) -> None:
    try:
        worker.loop.run_until_complete(worker.service.db.close())
    except Exception:  # a database gone with its round: nothing to keep
        log.warning("could not close a report worker's database", exc_info=True)
    worker.loop.close()
