"""The persistent store (bot/store) on SQLite and, with SMEBOT_TEST_POSTGRES_URL set, on PostgreSQL.

DESIGN "How one message travels": the inbox stores an update once, state is saved per user in order,
dossier references never repeat, the outbox never queues a message twice. Erasure keeps dossiers still
under review (ND80 Art. 32).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, func, inspect, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.store import dossiers as dossiers_store
from bot.store import inbox, outbox
from bot.store import privacy as privacy_store
from bot.store import users as users_store
from bot.store.db import alembic_config, open_database, open_db, session_factory
from bot.store.models import Base, ConversationState, DossierItem, Event, Outbox, ProcessedUpdate, User

TABLES = {
    "users",
    "enterprises",
    "conversation_states",
    "dossier_counters",
    "dossiers",
    "dossier_items",
    "attachments",
    "events",
    "subscriptions",
    "broadcasts",
    "broadcast_recipients",
    "reminders",
    "platform_tokens",
    "outbox",
    "processed_updates",
    "officers",
    "programmes",
}
Sessions = async_sessionmaker[AsyncSession]
SQLITE_PRAGMA_NAMES = ("journal_mode", "foreign_keys", "busy_timeout")


# fixtures: one fresh database per test


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = await open_database(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> Sessions:
    return session_factory(engine)


async def new_user(sessions: Sessions, external_id: str = "42", **fields: Any) -> User:
    async with sessions() as s, s.begin():
        user = await s.run_sync(users_store.get_or_create_user, "telegram", external_id)
        for key, value in fields.items():
            setattr(user, key, value)
    return user


def item(item_id: str, state_vnd: int, **fields: Any) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "code": f"ND80-{item_id}",
        "programme_id": "nd80",
        "cost_vnd": state_vnd * 2,
        "quantity": 1,
        "state_vnd": state_vnd,
        "enterprise_vnd": state_vnd,
        "data": {"basis": "ND80"},
        **fields,
    }


def received(rows: list[Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in rows:
        out[row.item_id] = out.get(row.item_id, 0) + row.vnd
    return out


async def file_dossier(
    s: AsyncSession,
    user_id: int,
    status: str,
    items: list[dict[str, Any]],
    year: int = 2026,
    enterprise_id: int | None = None,
) -> Any:
    return await s.run_sync(
        dossiers_store.add_dossier,
        user_id=user_id,
        enterprise_id=enterprise_id,
        year=year,
        status=status,
        size="micro",
        data={"declaration": {"workers": 5}},
        items=items,
    )


async def count(s: AsyncSession, model: type[Base], *where: Any) -> int:
    return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# migrations


async def test_migrations_create_every_table_and_are_idempotent(db_url: str) -> None:
    first = await open_database(db_url)
    await first.dispose()
    engine = await open_database(db_url)  # already at head: must be a no-op, not an error
    try:
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            versions = list(await conn.scalars(text("SELECT version_num FROM alembic_version")))
    finally:
        await engine.dispose()
    assert tables == TABLES | {"alembic_version"}
    head = ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()
    assert versions == [head]


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    def differences(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as conn:
        assert await conn.run_sync(differences) == []


async def test_sqlite_folder_and_pragmas_on_every_connection(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "smebot.db"
    engine = await open_database(f"sqlite+aiosqlite:///{path}")

    async def pragmas(conn: Any) -> list[Any]:
        values = [(await conn.exec_driver_sql(f"PRAGMA {name}")).scalar() for name in SQLITE_PRAGMA_NAMES]
        await conn.commit()  # SQLite transactions take the write lock: end this one before the next
        return values

    try:
        assert path.is_file()
        async with engine.connect() as first:
            assert await pragmas(first) == ["wal", 1, 5000]
            async with engine.connect() as second:  # first is still checked out: a second connection
                assert await pragmas(second) == ["wal", 1, 5000]
    finally:
        await engine.dispose()


async def test_a_write_lock_held_by_another_process_does_not_freeze_the_loop(tmp_path: Path) -> None:
    """Units of work run on the loop's thread (db.py): while another process holds SQLite's write
    lock, the loop keeps running other work and the unit of work runs once the lock is released."""
    path = tmp_path / "smebot.db"
    db = await open_db(f"sqlite+aiosqlite:///{path}")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_WRITE_LOCK, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"  # the other process has the write lock
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticking = asyncio.create_task(ticker())
        started = time.monotonic()
        user_id = await db.run(lambda s: users_store.get_or_create_user(s, "telegram", "7").id)
        waited = time.monotonic() - started
        ticking.cancel()
        assert user_id > 0
        assert waited >= 0.3  # it did wait for the lock (held 0.5 s)...
        assert ticks >= 10  # ...without blocking the loop meanwhile
    finally:
        holder.wait(timeout=10)
        await db.close()


async def test_the_write_ahead_log_is_checkpointed_off_the_loop(tmp_path: Path) -> None:
    """db.py: the loop's connection never checkpoints (no disk stall inside a commit); the Checkpointer
    thread copies the log back into the database file every second."""
    path = tmp_path / "smebot.db"
    db = await open_db(f"sqlite+aiosqlite:///{path}")
    try:
        pragma = "PRAGMA wal_autocheckpoint"
        assert await db.run(lambda s: s.connection().exec_driver_sql(pragma).scalar()) == 0
        for n in range(300):  # well over SQLite's own 1000-page threshold, were it on
            await db.run(lambda s, n=n: inbox.record_update(s, "telegram", str(n), "k", {"x": "y" * 2000}))
        # the rows are in the log; the database file grows only when a checkpoint copies them there
        deadline = time.monotonic() + 10
        while path.stat().st_size < 500_000 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert path.stat().st_size >= 500_000
    finally:
        await db.close()


_HOLD_WRITE_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(0.5)
conn.execute("COMMIT")
"""


# users and conversation state


async def test_get_or_create_user_inserts_once(sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        first = await s.run_sync(users_store.get_or_create_user, "telegram", "42")
        again = await s.run_sync(users_store.get_or_create_user, "telegram", "42")
        other = await s.run_sync(users_store.get_or_create_user, "zalo", "42")
    assert first is again and first.id != other.id
    assert (first.lang, first.role, first.unreachable, first.deleted_at) == ("vi", "owner", False, None)
    async with sessions() as s:
        stored = await s.run_sync(users_store.get_or_create_user, "telegram", "42")
        assert stored.id == first.id
        assert stored.created_at.tzinfo is UTC
        assert await count(s, User) == 2


async def test_get_or_create_user_survives_a_lost_race(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another session inserted the user after our select: the savepoint absorbs the IntegrityError."""
    winner = await new_user(sessions, "7")
    from bot.store import users

    real_lookup = users._user_by_identity
    calls: list[str] = []

    def stale_once(s: Session, channel: str, external_id: str) -> User | None:
        calls.append(external_id)
        return None if len(calls) == 1 else real_lookup(s, channel, external_id)

    monkeypatch.setattr(users, "_user_by_identity", stale_once)
    async with sessions() as s, s.begin():
        loser = await s.run_sync(users_store.get_or_create_user, "telegram", "7")
        await s.run_sync(
            users_store.save_state, loser.id, {"step": "consent"}
        )  # the outer transaction is still usable
    assert loser.id == winner.id and calls == ["7", "7"]
    async with sessions() as s:
        assert await count(s, User) == 1
        assert await s.run_sync(users_store.load_state, winner.id) == {"step": "consent"}


async def test_concurrent_first_messages_create_one_user(sessions: Sessions) -> None:
    async def first_message() -> int:
        async with sessions() as s, s.begin():
            user = await s.run_sync(users_store.get_or_create_user, "zalo", "z-1")
            await asyncio.sleep(0.02)  # hold the transaction while the others arrive
            return user.id

    ids = await asyncio.gather(*(first_message() for _ in range(5)))
    assert len(set(ids)) == 1
    async with sessions() as s:
        assert await count(s, User) == 1


async def test_state_round_trip_and_version_bump(sessions: Sessions) -> None:
    user = await new_user(sessions)
    state = {"flow": "size", "answers": {"revenue_vnd": 10**15, "sector": "siêu nhỏ"}, "history": [1, 2]}
    async with sessions() as s, s.begin():
        assert await s.run_sync(users_store.load_state, user.id) is None
        await s.run_sync(users_store.save_state, user.id, state)
    async with sessions() as s, s.begin():
        assert await s.run_sync(users_store.load_state, user.id) == state
        assert await s.scalar(select(ConversationState.version)) == 1
        await s.run_sync(users_store.save_state, user.id, {"flow": "items"})
    async with sessions() as s:
        assert await s.run_sync(users_store.load_state, user.id) == {"flow": "items"}
        row = await s.get(ConversationState, user.id)
        assert row is not None and row.version == 2 and row.updated_at.tzinfo is UTC


async def test_lock_user_serialises_read_modify_write(sessions: Sessions) -> None:
    """DESIGN step 2: one user's updates are handled in order, so no increment is lost."""
    user = await new_user(sessions)

    async def handle_update() -> None:
        async with sessions() as s, s.begin():
            await s.run_sync(users_store.lock_user, user.id)
            state = await s.run_sync(users_store.load_state, user.id) or {"n": 0}
            await asyncio.sleep(0.005)  # let the other workers run into the lock
            await s.run_sync(users_store.save_state, user.id, {"n": state["n"] + 1})

    await asyncio.gather(*(handle_update() for _ in range(10)))
    async with sessions() as s:
        assert await s.run_sync(users_store.load_state, user.id) == {"n": 10}
        assert await s.scalar(select(ConversationState.version)) == 10


# dossier references


async def test_refs_are_sequential_per_year_and_gapless_on_rollback(sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        refs = [await s.run_sync(dossiers_store.next_dossier_ref, 2026) for _ in range(3)]
        refs.append(await s.run_sync(dossiers_store.next_dossier_ref, 2027))
    assert refs == ["HS-2026-000001", "HS-2026-000002", "HS-2026-000003", "HS-2027-000001"]
    async with sessions() as s:
        async with s.begin():
            assert await s.run_sync(dossiers_store.next_dossier_ref, 2026) == "HS-2026-000004"
            await s.rollback()
        async with s.begin():
            assert await s.run_sync(dossiers_store.next_dossier_ref, 2026) == "HS-2026-000004"


async def test_refs_stay_distinct_under_20_concurrent_sessions(sessions: Sessions) -> None:
    async def allocate() -> str:
        async with sessions() as s, s.begin():
            return await s.run_sync(dossiers_store.next_dossier_ref, 2026)

    refs = await asyncio.gather(*(allocate() for _ in range(20)))
    assert len(set(refs)) == 20
    assert sorted(refs) == [dossiers_store.format_ref(2026, n) for n in range(1, 21)]


# dossiers


async def test_received_this_year_counts_the_firm_by_tax_code_across_accounts_tt06_art3_5(
    sessions: Sessions,
) -> None:
    """Caps are per firm per year (TT06 Art. 3.5): an approval filed from another account or channel of the
    same tax code counts; a different firm's does not."""
    telegram = await new_user(sessions, "10")
    zalo = await new_user(sessions, "11")
    other = await new_user(sessions, "12")
    async with sessions() as s, s.begin():
        firm_a = await s.run_sync(users_store.upsert_enterprise, telegram.id, "Gốm Việt", "0312345678", {})
        firm_b = await s.run_sync(users_store.upsert_enterprise, zalo.id, "Gốm Việt", "0312345678", {})
        firm_c = await s.run_sync(users_store.upsert_enterprise, other.id, "Khác", "0109999999", {})
        units = {"data": {"supported_units": 2}, "quantity": 2}
        await file_dossier(
            s, zalo.id, "approved", [item("C", 20_000_000, approved_vnd=20_000_000, **units)], 2026, firm_b.id
        )
        await file_dossier(
            s, other.id, "approved", [item("C", 9_000_000, approved_vnd=9_000_000)], 2026, firm_c.id
        )
        assert firm_a.id != firm_b.id
    async with sessions() as s:
        rows = await s.run_sync(dossiers_store.received_this_year, telegram.id, "0312345678", 2026)
        assert [(r.item_id, r.vnd, r.units) for r in rows] == [("C", 20_000_000, 2)]
        assert await s.run_sync(dossiers_store.received_this_year, telegram.id, None, 2026) == []


async def test_add_dossier_open_items_and_used_this_year(sessions: Sessions) -> None:
    owner = await new_user(sessions, "1")
    neighbour = await new_user(sessions, "2")
    async with sessions() as s, s.begin():
        submitted = await file_dossier(
            s, owner.id, "submitted", [item("A", 10**15 // 2), item("B", 5_000_000)]
        )
        await file_dossier(s, owner.id, "approved", [item("C", 40_000_000, approved_vnd=30_000_000)])
        await file_dossier(s, owner.id, "approved", [item("C", 40_000_000, approved_vnd=20_000_000)])
        await file_dossier(s, owner.id, "approved", [item("C", 9_000_000, approved_vnd=9_000_000)], year=2025)
        await file_dossier(s, owner.id, "rejected", [item("D", 1_000_000)])
        needs_info = await file_dossier(s, owner.id, "needs_info", [item("E", 2_000_000)])
        await file_dossier(s, neighbour.id, "submitted", [item("F", 1_000_000)])
    assert submitted.ref == "HS-2026-000001" and needs_info.ref == "HS-2026-000005"
    assert submitted.total_state_vnd == 10**15 // 2 + 5_000_000
    assert [i.item_id for i in submitted.items] == ["A", "B"]

    async with sessions() as s:
        assert await s.run_sync(dossiers_store.open_item_ids, owner.id) == {"A", "B", "E"}
        assert received(await s.run_sync(dossiers_store.received_this_year, owner.id, None, 2026)) == {
            "C": 50_000_000
        }
        assert received(await s.run_sync(dossiers_store.received_this_year, owner.id, None, 2025)) == {
            "C": 9_000_000
        }
        assert await s.run_sync(dossiers_store.received_this_year, neighbour.id, None, 2026) == []
        mine = await s.run_sync(dossiers_store.dossiers_of, owner.id)
        assert [d.ref for d in mine][:2] == [needs_info.ref, "HS-2026-000004"]  # newest first
        assert len(mine) == 6 and mine[-1].ref == submitted.ref
        assert [i.cost_vnd for i in mine[-1].items] == [10**15, 10_000_000]  # BigInteger round trip
        found = await s.run_sync(dossiers_store.dossier_by_ref, submitted.ref)
        assert found is not None and found.attachments == [] and len(found.items) == 2
        assert found.data == {"declaration": {"workers": 5}} and found.created_at.tzinfo is UTC
        assert await s.run_sync(dossiers_store.dossier_by_ref, "HS-1999-000001") is None


async def test_money_must_be_int(sessions: Sessions) -> None:
    user = await new_user(sessions)
    async with sessions() as s, s.begin():
        with pytest.raises(TypeError, match="state_vnd"):
            await file_dossier(s, user.id, "submitted", [{**item("A", 1), "state_vnd": 1.5}])


async def test_enterprise_upsert_keeps_one_profile(sessions: Sessions) -> None:
    user = await new_user(sessions)
    async with sessions() as s, s.begin():
        created = await s.run_sync(
            users_store.upsert_enterprise, user.id, "Cơ sở Lan", None, {"sector": "trade"}
        )
    async with sessions() as s, s.begin():
        updated = await s.run_sync(
            users_store.upsert_enterprise, user.id, "Công ty TNHH Lan", "0101234567", {"workers": 8}
        )
    assert updated.id == created.id
    async with sessions() as s:
        stored = await s.run_sync(users_store.enterprise_of, user.id)
        assert stored is not None
        assert (stored.name, stored.tax_code, stored.profile) == (
            "Công ty TNHH Lan",
            "0101234567",
            {"workers": 8},
        )
        assert await s.run_sync(users_store.enterprise_of, user.id + 1) is None


# inbox and outbox


async def test_record_update_stores_an_update_once(sessions: Sessions) -> None:
    key = users_store.user_key("telegram", "42")
    async with sessions() as s, s.begin():
        assert await s.run_sync(inbox.record_update, "telegram", "1001", key, {"text": "xin chào"}) is True
    async with sessions() as s, s.begin():  # the platform delivers it again
        assert await s.run_sync(inbox.record_update, "telegram", "1001", key, {"text": "again"}) is False
        assert await s.run_sync(inbox.record_update, "zalo", "1001", key, {"text": "other source"}) is True

    async def redeliver() -> bool:
        async with sessions() as s, s.begin():
            return await s.run_sync(inbox.record_update, "telegram", "1002", key, {"text": "twice at once"})

    assert sorted(await asyncio.gather(*(redeliver() for _ in range(5)))) == [False] * 4 + [True]
    async with sessions() as s, s.begin():
        pending = await s.run_sync(inbox.unprocessed_updates, limit=10)
        assert [(u.source, u.update_id) for u in pending] == [
            ("telegram", "1001"),
            ("zalo", "1001"),
            ("telegram", "1002"),
        ]
        assert pending[0].payload == {"text": "xin chào"} and pending[0].user_key == "telegram:42"
        await s.run_sync(inbox.mark_processed, "telegram", "1001")
    async with sessions() as s:
        assert [u.update_id for u in await s.run_sync(inbox.unprocessed_updates, limit=10)] == [
            "1001",
            "1002",
        ]
        assert await count(s, ProcessedUpdate) == 3


async def test_enqueue_dedup_and_outbox_lifecycle(sessions: Sessions) -> None:
    user = await new_user(sessions)
    message = {"key": "dossier.approved", "params": {"ref": "HS-2026-000001"}}
    async with sessions() as s, s.begin():
        first = await s.run_sync(outbox.enqueue, user, message, dedup_key="approved:HS-2026-000001")
        assert isinstance(first, int)
    async with sessions() as s, s.begin():  # the effect runs again after a crash
        assert await s.run_sync(outbox.enqueue, user, message, dedup_key="approved:HS-2026-000001") is None
        again = [await s.run_sync(outbox.enqueue, user, {"key": "broadcast"}) for _ in range(2)]
        assert again[0] is not None and again[1] is not None and first < again[0] < again[1]
    now = datetime.now(UTC)
    async with sessions() as s, s.begin():
        due = await s.run_sync(outbox.due_messages, "telegram", 10)
        assert [o.payload["key"] for o in due] == ["dossier.approved", "broadcast", "broadcast"]
        assert {(o.external_id, o.lang, o.attempts, tuple(o.parts)) for o in due} == {("42", "vi", 0, ())}
        assert await s.run_sync(outbox.due_messages, "zalo", 10) == []  # one channel's only
        sent, retried, given_up = (o.outbox_id for o in due)
        await s.run_sync(outbox.mark_sent, sent)
        await s.run_sync(outbox.mark_failed, retried, retry_at=now + timedelta(hours=1))
        await s.run_sync(outbox.mark_failed, given_up, retry_at=None)
    async with sessions() as s, s.begin():
        assert await s.run_sync(outbox.due_messages, "telegram", 10) == []
        later = await s.run_sync(outbox.due_messages, "telegram", 10, now + timedelta(hours=2))
        assert [o.outbox_id for o in later] == [retried] and later[0].attempts == 1
        rows = {o.id: o for o in await s.scalars(select(Outbox))}
        sent_row = rows[sent]
        assert sent_row.status == "sent" and sent_row.attempts == 1
        assert sent_row.sent_at is not None and sent_row.sent_at.tzinfo is UTC
        assert rows[given_up].status == "failed" and rows[given_up].attempts == 1
        assert rows[retried].not_before == now + timedelta(hours=1)


async def test_naive_datetimes_are_refused(sessions: Sessions) -> None:
    user = await new_user(sessions)
    async with sessions() as s, s.begin():
        await s.run_sync(outbox.enqueue, user, {"key": "x"})
        outbox_id = await s.scalar(select(Outbox.id))
        assert outbox_id is not None
        with pytest.raises(StatementError, match="naive datetime"):
            await s.run_sync(outbox.mark_failed, outbox_id, retry_at=datetime(2026, 1, 1, 8, 0))


# a person's data


async def test_export_and_erase_keep_the_open_dossier(sessions: Sessions) -> None:
    user = await new_user(sessions, display_name="Chị Lan")
    other = await new_user(sessions, "99")
    key = users_store.user_key("telegram", "42")
    async with sessions() as s, s.begin():
        enterprise = await s.run_sync(
            users_store.upsert_enterprise, user.id, "Cơ sở Lan", "0101234567", {"workers": 5}
        )
        await s.run_sync(users_store.save_state, user.id, {"flow": "my_dossiers"})
        open_one = await s.run_sync(
            dossiers_store.add_dossier,
            user_id=user.id,
            enterprise_id=enterprise.id,
            year=2026,
            status="in_review",
            size="micro",
            data={"enterprise": {"name": "Cơ sở Lan"}},
            items=[item("A", 5_000_000)],
        )
        closed = await file_dossier(s, user.id, "rejected", [item("B", 1_000_000), item("C", 2_000_000)])
        theirs = await file_dossier(s, other.id, "submitted", [item("A", 1_000_000)])
        attach: dict[str, Any] = {"mime": "application/pdf", "size_bytes": 1024, "sha256": "0" * 64}
        kept_file = await s.run_sync(
            dossiers_store.add_attachment,
            user_id=user.id,
            dossier_id=open_one.id,
            filename="hop-dong.pdf",
            path="files/1.pdf",
            **attach,
        )
        await s.run_sync(
            dossiers_store.add_attachment,
            user_id=user.id,
            dossier_id=closed.id,
            filename="hoa-don.pdf",
            path="files/2.pdf",
            **attach,
        )
        await s.run_sync(
            dossiers_store.add_attachment, user_id=user.id, filename="loose.pdf", path="files/3.pdf", **attach
        )
        await s.run_sync(
            dossiers_store.add_event,
            "officer:5",
            "review",
            open_one.id,
            {"status": "submitted"},
            {"status": "in_review"},
        )
        await s.run_sync(
            dossiers_store.add_event,
            "officer:5",
            "reject",
            closed.id,
            None,
            {"status": "rejected"},
            "thiếu hóa đơn",
        )
        await s.run_sync(dossiers_store.add_event, "officer:5", "review", theirs.id)
        await s.run_sync(
            outbox.enqueue, user, {"key": "dossier.rejected"}, dedup_key=f"rejected:{closed.ref}"
        )
        await s.run_sync(outbox.enqueue, user, {"key": "broadcast"}, dedup_key=None)
        await s.run_sync(outbox.enqueue, other, {"key": "broadcast"}, dedup_key=None)
        await s.run_sync(inbox.record_update, "telegram", "1", key, {"text": "tên tôi là Lan"})
        await s.run_sync(inbox.mark_processed, "telegram", "1")  # handled: the erasure keeps its id only
        await s.run_sync(inbox.record_update, "telegram", "2", "telegram:99", {"text": "hi"})

    async with sessions() as s:
        assert [a.filename for a in await s.run_sync(dossiers_store.unlinked_attachments, user.id)] == [
            "loose.pdf"
        ]
        exported = await s.run_sync(privacy_store.export_user_data, user.id)
    assert json.loads(json.dumps(exported)) == exported
    assert exported["user"]["display_name"] == "Chị Lan"
    assert exported["enterprise"]["tax_code"] == "0101234567"
    assert exported["conversation_state"] == {"flow": "my_dossiers"}
    assert [d["ref"] for d in exported["dossiers"]] == [open_one.ref, closed.ref]
    assert [len(d["items"]) for d in exported["dossiers"]] == [1, 2]
    assert [a["filename"] for a in exported["attachments"]] == ["hop-dong.pdf", "hoa-don.pdf", "loose.pdf"]
    assert [e["action"] for e in exported["events"]] == ["review", "reject"]

    async with sessions() as s, s.begin():
        result = await s.run_sync(privacy_store.erase_user, user.id)
    assert result == {
        "kept_dossiers": [open_one.ref],
        "kept": [(open_one.ref, "in_review")],
        "deleted": {
            "attachments": 2,
            "events": 1,
            "dossier_items": 2,
            "dossiers": 1,
            "conversation_states": 1,
            "enterprises": 1,
            "subscriptions": 0,
            "outbox": 2,
            "processed_updates": 1,
        },
        "files": ["files/2.pdf", "files/3.pdf"],
    }

    async with sessions() as s:
        erased = await s.get(User, user.id)
        assert erased is not None and erased.display_name is None and erased.deleted_at is not None
        assert await s.run_sync(users_store.load_state, user.id) is None
        assert await s.run_sync(users_store.enterprise_of, user.id) is None
        assert await s.run_sync(dossiers_store.dossier_by_ref, closed.ref) is None
        kept = await s.run_sync(dossiers_store.dossier_by_ref, open_one.ref)
        assert kept is not None and kept.enterprise_id is None and kept.status == "in_review"
        assert kept.data == {"enterprise": {"name": "Cơ sở Lan"}} and [i.item_id for i in kept.items] == ["A"]
        assert [a.id for a in kept.attachments] == [kept_file.id]
        assert [e.action for e in await s.scalars(select(Event).order_by(Event.id))] == ["review", "review"]
        assert await count(s, Outbox, Outbox.user_id == user.id, Outbox.status != "erased") == 0
        assert await count(s, Outbox, Outbox.user_id == other.id) == 1
        assert await count(s, DossierItem) == 2  # the kept dossier's and the other owner's
        assert [u.user_key for u in await s.run_sync(inbox.unprocessed_updates, limit=10)] == ["telegram:99"]
        assert await s.run_sync(dossiers_store.dossier_by_ref, theirs.ref) is not None
        after = await s.run_sync(privacy_store.export_user_data, user.id)
        assert [d["ref"] for d in after["dossiers"]] == [open_one.ref] and after["enterprise"] is None
