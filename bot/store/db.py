"""Opening the database: the async engine, SQLite's pragmas, Alembic migrations, sessions.

SQLite transactions are begun by SQLAlchemy with ``BEGIN IMMEDIATE`` instead of by the sqlite3 driver: the
driver's legacy mode does not begin a transaction for SELECT or SAVEPOINT, which breaks savepoints and
repeatable reads. IMMEDIATE takes the write lock at the start, so two transactions never deadlock while
upgrading a read lock. Keep transactions short (no network calls inside one).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

log = logging.getLogger("smebot.db")

DEFAULT_URL = "sqlite+aiosqlite:///smebot.db"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# secure_delete: deleted rows are overwritten with zeros, so an erasure leaves nothing in the file
SQLITE_PRAGMAS = (
    "journal_mode=WAL",
    "synchronous=NORMAL",
    "foreign_keys=ON",
    "busy_timeout=5000",
    "secure_delete=ON",
)
_MIGRATION_LOCK = (
    0x534D45424F54  # "SMEBOT": a PostgreSQL advisory lock, so two processes never migrate at once
)


def async_url(url: str | URL) -> URL:
    """The URL with an asyncio driver: sqlite -> sqlite+aiosqlite, postgres(ql) -> postgresql+asyncpg."""
    parsed = make_url(url)
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend == "sqlite" and driver != "aiosqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgres", "postgresql") and driver != "asyncpg":
        return parsed.set(drivername="postgresql+asyncpg")
    return parsed


def _sqlite_file(url: URL) -> Path | None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def _on_sqlite_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see the module docstring)
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _on_sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _on_sqlite_read_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")  # deferred: a read snapshot, no write lock


def make_engine(url: str | URL, **kwargs: Any) -> AsyncEngine:
    """An async engine; for SQLite it creates the parent folder and sets the pragmas on every connection."""
    parsed = async_url(url)
    engine = create_async_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_file(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        event.listen(engine.sync_engine, "begin", _on_sqlite_begin)
    return engine


def alembic_config(url: str | URL = DEFAULT_URL) -> Config:
    """Alembic's configuration, built in code: no alembic.ini needed (use it for `revision`, `downgrade`)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    rendered = async_url(url).render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def _upgrade(connection: Connection, config: Config) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def open_database(url: str = DEFAULT_URL, **engine_kwargs: Any) -> AsyncEngine:
    """The engine for `url`, with the schema migrated to the newest revision (safe to call every start)."""
    engine = make_engine(url, **engine_kwargs)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, alembic_config(url))
    except BaseException:
        await engine.dispose()
        raise
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


T = TypeVar("T")

SQLITE_BUSY_WAIT = 0.02  # seconds SQLite itself may wait for another process's write lock (blocks the loop)
SQLITE_BUSY_GIVE_UP = 10.0  # seconds of asynchronous retries before a locked database is an error


class DatabaseBusy(RuntimeError):
    """Another process held SQLite's write lock for longer than :data:`SQLITE_BUSY_GIVE_UP`."""


class Database:
    """Runs a unit of work, a plain function of a :class:`Session`, in one transaction.

    SQLite: units of work run on the event loop's own thread with the synchronous driver, one after the
    other (SQLite has one writer anyway). A transaction here takes a millisecond or two; handing it to a
    thread instead costs more than that in thread switches and GIL contention (bench/telegram.py,
    bench/journey.py). The write lock is taken first (``BEGIN IMMEDIATE``); when another process holds
    it, SQLite waits at most :data:`SQLITE_BUSY_WAIT` and the loop then retries asynchronously, so a
    second process (the terminal chat on the same file, a maintenance command) never freezes the bot.
    Checkpoints of the write-ahead log run on their own thread (:class:`Checkpointer`).
    PostgreSQL runs units of work concurrently on the async engine (``run_sync``), with row locks
    ordering one user's messages. Keep units of work short and free of network calls either way.
    """

    def __init__(self, engine: AsyncEngine, checkpoints: bool = True) -> None:
        """``checkpoints``: whether this process runs the :class:`Checkpointer` (the bot's does; a report
        worker reading the same file does not)."""
        self.engine = engine
        self.sessions = session_factory(engine)
        self._sync: Engine | None = None
        self._checkpointer: Checkpointer | None = None
        url = engine.url
        if url.get_backend_name() == "sqlite":
            self._sync = create_engine(url.set(drivername="sqlite+pysqlite"))
            event.listen(self._sync, "connect", _on_sqlite_connect)
            event.listen(self._sync, "connect", _loop_connection)
            event.listen(self._sync, "begin", _on_sqlite_begin)
            self._sync_sessions = sessionmaker(self._sync, expire_on_commit=False)
            # reads off the loop: their own connections (one per thread), a plain deferred BEGIN, so a
            # report's read takes a snapshot of the write-ahead log and never the write lock
            self._reader = create_engine(
                url.set(drivername="sqlite+pysqlite"), connect_args={"check_same_thread": False}
            )
            event.listen(self._reader, "connect", _on_sqlite_connect)
            event.listen(self._reader, "begin", _on_sqlite_read_begin)
            self._read_sessions = sessionmaker(self._reader, expire_on_commit=False)
            path = _sqlite_file(url)
            self._checkpointer = Checkpointer(path) if path is not None and checkpoints else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._sync is None:
            async with self.sessions.begin() as s:
                return await s.run_sync(fn, *args)
        deadline = time.monotonic() + SQLITE_BUSY_GIVE_UP
        pause = 0.005
        while True:
            try:
                return self._run_sqlite(fn, args)
            except _Locked:
                if time.monotonic() >= deadline:
                    raise DatabaseBusy("the SQLite database stayed locked by another process") from None
                await asyncio.sleep(pause)
                pause = min(pause * 2, 0.2)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """A unit of work that only reads (an officer's report), off the event loop: on SQLite on a thread
        of its own, with a connection of its own, in a snapshot that does not take the write lock, so the
        owners' transactions go on meanwhile; on PostgreSQL a read-only transaction. ``fn`` must not write
        (SQLite refuses: the connection is opened read-only for it)."""
        if self._sync is None:
            async with self.sessions.begin() as s:
                await s.execute(text("SET TRANSACTION READ ONLY"))
                return await s.run_sync(fn, *args)
        return await asyncio.to_thread(self._read_sqlite, fn, args)

    def _read_sqlite(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        with self._read_sessions.begin() as s:
            s.connection().exec_driver_sql("PRAGMA query_only=ON")
            try:
                return fn(s, *args)
            finally:
                s.connection().exec_driver_sql("PRAGMA query_only=OFF")

    def _run_sqlite(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        with self._sync_sessions.begin() as s:
            try:
                s.connection()  # BEGIN IMMEDIATE now, before any of the unit of work runs
            except OperationalError as error:
                if "locked" in str(error.orig) or "busy" in str(error.orig):
                    raise _Locked from error
                raise
            return fn(s, *args)

    async def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        if self._sync is not None:
            self._sync.dispose()
            self._reader.dispose()
        await self.engine.dispose()


class _Locked(Exception):
    """BEGIN IMMEDIATE found the write lock taken: nothing of the unit of work has run."""


def _loop_connection(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    """The event loop's connection waits briefly for a lock and leaves checkpoints to the Checkpointer."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_WAIT * 1000)}")
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


class Checkpointer:
    """Copies the write-ahead log back into the database file, on its own thread every ``every`` seconds.

    SQLite otherwise does it inside the commit that crosses 1000 pages of log: a few milliseconds of disk
    writes and an fsync on the event loop, now and then, in the middle of someone's answer. A PASSIVE
    checkpoint never blocks the writer; the log is bounded by what one interval writes.
    """

    def __init__(self, path: Path, every: float = 1.0) -> None:
        self.path, self.every = path, every
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="smebot-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=SQLITE_BUSY_WAIT, check_same_thread=False)
        try:
            while not self._stopped.wait(self.every):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error as error:  # busy or gone: the next round tries again
                    log.warning("WAL checkpoint failed: %s", error)
        finally:
            connection.close()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)


async def open_db(url: str = DEFAULT_URL) -> Database:
    return Database(await open_database(url))
