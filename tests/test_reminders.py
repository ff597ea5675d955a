"""Reminders (issue 16): the bot starts the conversation, each reminder exactly once.

First the decisions, with plain values on Vietnam's calendar (weekends, Tết 2027): the officer's morning
list of dossiers near or past the 14-working-day answer deadline (ND80 Art. 32.3.a), an open request for
documents after 3 working days, a draft abandoned for 2 days. Then end to end through the service on a
real database file: owners file, an officer acts, the injected clock moves, and each reminder is queued
once however often, however concurrently and after however many restarts the scheduler runs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.effects import render_notification
from bot.reminders import Queued, Reminders
from bot.store.db import Database, open_db
from bot.store.models import ConversationState, Event, Outbox, Reminder, Subscription, User
from conversations.officer.context import RequestItem, RequestRecord
from conversations.reminders import draft_message, officer_digest_message, request_message
from rules import reminders as rules
from rules.deadline import Calendar
from rules.reminders import VIETNAM, OpenDossier, Policy
from tests.driver import Clock, Owner, open_service
from tests.test_officer import file_dossier, staff

D = dt.date
POLICY = Policy()
CAL = Calendar()


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A moment of Vietnam's wall clock."""
    return dt.datetime.combine(day, dt.time(hour, minute), VIETNAM)


# --- the decisions, pure --------------------------------------------------------------------------------

TET_DOSSIERS = [
    OpenDossier("HS-2027-000001", "Gốm Việt", D(2027, 1, 29), "in_review"),  # due Thu 25 Feb 2027
    OpenDossier("HS-2027-000002", "Mây tre Phú Vinh", D(2027, 2, 3), "submitted"),  # due Tue 2 Mar 2027
    OpenDossier("HS-2027-000003", "Dệt Hà Đông", D(2027, 1, 29), "needs_info"),  # the owner's turn
    OpenDossier("HS-2027-000004", "Chè Thái", D(2027, 1, 4), "approved"),  # decided
]


def digest(today: dt.date) -> list[tuple[str, int]]:
    return [(line.ref, line.days_left) for line in rules.officer_digest(TET_DOSSIERS, today, CAL, POLICY)]


def test_nd80_art32_3_a_officer_list_holds_dossiers_due_within_two_working_days_across_tet_2027() -> None:
    # 29 Jan 2027 + 14 working days, Tết (4-10 Feb) and weekends not counted: Thu 25 Feb 2027
    assert digest(D(2027, 2, 22)) == []  # Mon: 3 working days left (23, 24, 25): nothing to say
    assert digest(D(2027, 2, 23)) == [("HS-2027-000001", 2)]
    assert digest(D(2027, 2, 25)) == [("HS-2027-000001", 0)]  # due today
    # Fri 26 Feb: the first is overdue by one working day, the second (due Tue 2 Mar) has 2 left
    assert digest(D(2027, 2, 26)) == [("HS-2027-000001", -1), ("HS-2027-000002", 2)]
    # Mon 1 Mar: the weekend counts nothing; overdue first, never a needs_info or a decided dossier
    assert digest(D(2027, 3, 1)) == [("HS-2027-000001", -2), ("HS-2027-000002", 1)]


def test_the_officer_list_goes_out_on_working_mornings_only() -> None:
    assert rules.working_morning(at(D(2027, 2, 8), 9), POLICY, CAL) is None  # Tết
    assert rules.working_morning(at(D(2027, 2, 27), 9), POLICY, CAL) is None  # Saturday
    assert rules.working_morning(at(D(2027, 2, 23), 7, 59), POLICY, CAL) is None  # before 08:00
    assert rules.working_morning(at(D(2027, 2, 23), 8), POLICY, CAL) == D(2027, 2, 23)
    assert rules.working_morning(at(D(2027, 2, 23), 20), POLICY, CAL) is None  # the evening
    # 01:30 UTC on Tue 23 Feb is 08:30 in Vietnam: the local day and hour decide
    assert rules.working_morning(dt.datetime(2027, 2, 23, 1, 30, tzinfo=dt.UTC), POLICY, CAL) == D(
        2027, 2, 23
    )
    later = Policy(hour=10)
    assert rules.working_morning(at(D(2027, 2, 23), 9), later, CAL) is None  # SMEBOT_REMINDER_HOUR=10
    bridge = Calendar([D(2027, 2, 23)])  # an extra day off (SMEBOT_EXTRA_DAYS_OFF)
    assert rules.working_morning(at(D(2027, 2, 23), 9), POLICY, bridge) is None


def test_a_request_for_documents_is_reminded_after_three_working_days_across_tet() -> None:
    asked = at(D(2027, 2, 3), 15)  # Wed 3 Feb 2027; Tết 4-10 Feb; then Thu 11, Fri 12, Mon 15
    assert rules.request_due_at(asked, CAL, POLICY) == at(D(2027, 2, 15), 8)
    assert not rules.request_reminder_due(asked, at(D(2027, 2, 12), 10), CAL, POLICY)  # 2 working days
    assert not rules.request_reminder_due(asked, at(D(2027, 2, 14), 10), CAL, POLICY)  # Sunday
    assert not rules.request_reminder_due(asked, at(D(2027, 2, 15), 7, 59), CAL, POLICY)
    assert rules.request_reminder_due(asked, at(D(2027, 2, 15), 8), CAL, POLICY)
    # asked at 23:30 UTC on Wed 2 Dec 2026 = 06:30 on Thu 3 Dec in Vietnam: Fri 4, Mon 7, Tue 8
    late = dt.datetime(2026, 12, 2, 23, 30, tzinfo=dt.UTC)
    assert rules.request_due_at(late, CAL, POLICY) == at(D(2026, 12, 8), 8)
    assert not rules.request_reminder_due(late, at(D(2026, 12, 7), 16), CAL, POLICY)
    assert rules.request_reminder_due(late, at(D(2026, 12, 8), 9), CAL, POLICY)


def test_a_draft_is_reminded_two_days_after_the_owner_went_quiet_in_the_daytime() -> None:
    seen = at(D(2026, 12, 5), 22)  # Saturday night
    assert not rules.draft_reminder_due(seen, at(D(2026, 12, 7), 15), POLICY)  # 1 day 17 hours
    assert not rules.draft_reminder_due(seen, at(D(2026, 12, 7), 22), POLICY)  # 2 days, but at night
    assert rules.draft_reminder_due(seen, at(D(2026, 12, 8), 8), POLICY)  # the next morning


def test_reminder_keys_name_one_reminder_each() -> None:
    assert rules.due_key(7, D(2027, 2, 23)) == "due:7:2027-02-23"
    assert rules.request_key(42) == "request:42"
    started = dt.datetime(2026, 12, 6, 12, 0, 0, 5, tzinfo=VIETNAM)
    assert rules.draft_key(3, started) == "draft:3:2026-12-06T05:00:00.000005+00:00"


def test_the_messages_in_both_languages() -> None:
    lines = rules.officer_digest(TET_DOSSIERS, D(2027, 2, 26), CAL, POLICY)
    payload = officer_digest_message(lines, D(2027, 2, 26))
    assert payload is not None and officer_digest_message((), D(2027, 2, 26)) is None
    vi, en = render_notification(payload, "vi"), render_notification(payload, "en")
    assert "Nhắc việc sáng 26/02/2027: 1 hồ sơ sắp đến hạn trả lời và 1 hồ sơ đã quá hạn" in vi
    assert "Điều 32 Nghị định 80/2021/NĐ-CP" in vi
    assert "• HS-2027-000001 · Gốm Việt · hạn 25/02/2027 · quá hạn 1 ngày làm việc" in vi
    assert "• HS-2027-000002 · Mây tre Phú Vinh · hạn 02/03/2027 · còn 2 ngày làm việc" in vi
    assert vi.index("HS-2027-000001") < vi.index("HS-2027-000002")  # overdue first
    assert "overdue by 1 working days" in en and "Art. 32.3.a" in en and "/dossier HS-2027-000001" in en
    many = [OpenDossier(f"HS-2027-{n:06d}", "X", D(2027, 1, 29), "submitted") for n in range(1, 41)]
    long = officer_digest_message(rules.officer_digest(many, D(2027, 3, 1), CAL, POLICY), D(2027, 3, 1))
    assert long is not None and "… và 10 hồ sơ khác" in render_notification(long, "vi")

    asked = RequestRecord("console:bob", (RequestItem("Báo giá", "bao-gia.pdf"), RequestItem("Hợp đồng")))
    request = request_message("HS-2026-000001", D(2026, 12, 3), asked, "Báo giá; Hợp đồng")
    vi, en = render_notification(request, "vi"), render_notification(request, "en")
    assert (
        "hồ sơ HS-2026-000001 vẫn đang chờ giấy tờ cán bộ yêu cầu bổ sung ngày 03/12/2026:\n2. Hợp đồng" in vi
    )
    assert "Báo giá" not in vi and "«xong»" in vi and "/unsubscribe" not in vi  # a service message
    assert "still waiting for the documents" in en and "“done”" in en

    draft = draft_message(D(2026, 12, 6))
    vi, en = render_notification(draft, "vi"), render_notification(draft, "en")
    assert "ngày 06/12/2026 nhưng chưa nộp" in vi and "/start" in vi and "/unsubscribe" in vi
    assert "on 06/12/2026 but have not filed it" in en and "/unsubscribe to stop" in en


# --- end to end: the service on a real database, the scheduler's clock injected -------------------------


@pytest.fixture
async def env(db_url: str) -> AsyncIterator[tuple[Any, Database, str]]:
    # the service files dossiers "today" in Vietnam; the officer's "ask" is stamped by the real clock
    clock = Clock(rules.local(dt.datetime.now(dt.UTC)).date())
    service, db = await open_service(db_url, clock)
    yield service, db, db_url
    await db.close()


def scheduler(db: Database, when: list[dt.datetime]) -> Reminders:
    return Reminders(db, CAL, POLICY, interval=60, now=lambda: when[0])


async def scan(db: Database, when: list[dt.datetime]) -> Queued:
    return await scheduler(db, when).scan()


async def rows(db: Database, model: Any, *where: Any) -> list[Any]:
    return await db.run(lambda s: list(s.scalars(select(model).where(*where))))


async def user_id(db: Database, name: str) -> int:
    return await db.run(lambda s: s.scalar(select(User.id).where(User.external_id == name)))


async def reminders_of(db: Database, name: str) -> list[str]:
    uid = await user_id(db, name)
    return [r.key for r in await rows(db, Reminder, Reminder.user_id == uid)]


async def restarted(url: str, when: list[dt.datetime], twice: bool = False) -> Queued:
    """A new process on the same database file: new engine, new scheduler (two of them at once)."""
    dbs = [await open_db(url) for _ in range(2 if twice else 1)]
    try:
        done = await asyncio.gather(*(scan(db, when) for db in dbs))
    finally:
        for db in dbs:
            await db.close()
    return Queued(sum(q.due for q in done), sum(q.request for q in done), sum(q.draft for q in done))


def next_working(day: dt.date, keep: Callable[[dt.date], bool] = lambda d: True) -> dt.date:
    day += dt.timedelta(days=1)
    while not (CAL.is_working_day(day) and keep(day)):
        day += dt.timedelta(days=1)
    return day


async def test_the_officer_list_is_sent_once_each_working_morning_across_restarts_and_processes(
    env: tuple,
) -> None:
    service, db, url = env
    ref = await file_dossier(service, "lan")
    _, bob, _carol = await staff(service)  # bob: Quảng Trị's agency, which has the dossier; carol: Hà Nội's
    filed = service.today()
    due = CAL.add_working_days(filed, 14)  # ND80 Art. 32.3.a
    first = next_working(filed, lambda d: CAL.working_days_between(d, due) <= 2)
    before = next_working(filed, lambda d: next_working(d) == first)
    when = [at(before, 9)]
    assert await scan(db, when) == Queued()  # 3 working days left: nothing to say
    when[0] = at(first, 7, 30)
    assert await scan(db, when) == Queued()  # before 08:00
    when[0] = at(first, 9)
    assert await scan(db, when) == Queued(due=1)
    assert await scan(db, when) == Queued()  # the same morning again
    assert await restarted(url, when, twice=True) == Queued()  # a restart, two processes
    bob_id = await user_id(db, "bob")
    assert await reminders_of(db, "bob") == [f"due:{bob_id}:{first.isoformat()}"]
    assert await reminders_of(db, "carol") == []  # nothing due in her agency: no message
    queued = await rows(db, Outbox, Outbox.user_id == bob_id, Outbox.dedup_key.like("reminder:%"))
    assert [o.status for o in queued] == ["pending"]  # the terminal has no push sender: it waits
    seen = await bob.send("/queue")
    assert f"Nhắc việc sáng {first:%d/%m/%Y}: 1 hồ sơ sắp đến hạn trả lời và 0 hồ sơ đã quá hạn" in seen
    assert f"• {ref} · Công ty TNHH Gốm Việt · hạn {due:%d/%m/%Y} · còn 2 ngày làm việc" in seen
    assert "Thông báo mới" not in await bob.send("/queue")  # shown once

    second = next_working(first)  # the next working morning: a new list, from two processes at once
    when[0] = at(second, 10)
    assert await restarted(url, when, twice=True) == Queued(due=1)
    assert "còn 1 ngày làm việc" in await bob.send("/queue")
    weekend = next(
        first + dt.timedelta(days=n) for n in range(1, 8) if (first + dt.timedelta(days=n)).weekday() == 5
    )
    when[0] = at(weekend, 9)
    assert await scan(db, when) == Queued()  # no list on a Saturday
    late = next_working(due)
    when[0] = at(late, 9)
    assert await scan(db, when) == Queued(due=1)
    assert "quá hạn 1 ngày làm việc" in await bob.send("/queue")
    assert len(await reminders_of(db, "bob")) == 3 and not await reminders_of(db, "lan")


async def test_an_open_request_is_reminded_once_and_an_answered_one_never(env: tuple) -> None:
    service, db, url = env
    ref = await file_dossier(service, "lan")
    other = await file_dossier(service, "hoa")
    erased = await file_dossier(service, "minh")
    _, bob, _ = await staff(service)
    for dossier in (ref, other, erased):
        assert "Đã nhận xử lý" in await bob.send(f"/claim {dossier}")
        assert "Đã gửi yêu cầu bổ sung" in await bob.send(
            f"/ask {dossier} Báo giá có đóng dấu; Hợp đồng tư vấn"
        )
    assert "đã được chuyển lại cán bộ" in await Owner(service, "hoa").send("xong")  # hoa answered
    minh = Owner(service, "minh")  # minh erased his data: his dossier stays under review (ND80 Art. 32)
    assert "xóa dữ liệu" in await minh.send("/deleteme")
    assert f"hồ sơ {erased} đang được cơ quan hỗ trợ xử lý" in await minh.send("co")
    lan = Owner(service, "lan")
    assert "Đã ghi" in await lan.send("1. Báo giá đã gửi qua email")  # a part: the request stays open
    asks = await rows(db, Event, Event.action == "ask")
    asked_on = rules.local(asks[0].at).date()
    when = [at(CAL.add_working_days(asked_on, 2), 9)]
    assert await scan(db, when) == Queued()  # two working days: not yet
    when[0] = at(CAL.add_working_days(asked_on, 3), 9)
    assert await scan(db, when) == Queued(request=1)
    assert await scan(db, when) == Queued()
    assert await restarted(url, when, twice=True) == Queued()
    assert await reminders_of(db, "lan") == [f"request:{asks[0].id}"]
    assert await reminders_of(db, "hoa") == []  # answered: nothing
    assert await reminders_of(db, "minh") == []  # erased: nothing
    seen = await lan.send("/mydossiers")
    assert (
        f"Nhắc việc: hồ sơ {ref} vẫn đang chờ giấy tờ cán bộ yêu cầu bổ sung ngày {asked_on:%d/%m/%Y}" in seen
    )
    assert "2. Hợp đồng tư vấn" in seen and "1. Báo giá" not in seen.split("Nhắc việc")[1].split("Hãy gửi")[0]
    when[0] = at(CAL.add_working_days(asked_on, 6), 9)
    assert await scan(db, when) == Queued()  # one reminder per request, never a second


async def test_an_abandoned_draft_is_reminded_once_only_with_the_news_consent(env: tuple) -> None:
    service, db, url = env
    hoa, lan, mai = Owner(service, "hoa"), Owner(service, "lan"), Owner(service, "mai")
    for owner in (hoa, lan, mai):
        await owner.script("/start", "1", "Công ty TNHH Gốm Việt")  # consent, then half a journey
    filer = await file_dossier(service, "nam")  # a filed journey is no draft
    ids = {name: await user_id(db, name) for name in ("hoa", "lan", "mai", "nam")}

    def consent(s: Any) -> None:  # hoa, mai and nam took the news; lan did not
        for name in ("hoa", "mai", "nam"):
            s.add(Subscription(user_id=ids[name], topics={}, consent_version="test"))
        s.execute(update(User).where(User.id == ids["mai"]).values(unreachable=True))  # mai blocked the bot

    await db.run(consent)
    states = await rows(db, ConversationState, ConversationState.user_id == ids["nam"])
    assert filer and states[0].draft_started_at is None
    seen = await db.run(lambda s: s.scalar(select(func.max(User.last_seen_at))))
    quiet = rules.local(seen).date()
    when = [at(quiet + dt.timedelta(days=1), 9)]
    assert await scan(db, when) == Queued()  # a day: not abandoned yet
    when[0] = at(quiet + dt.timedelta(days=2), 23)
    assert await scan(db, when) == Queued()  # nobody is written to at night
    when[0] = at(quiet + dt.timedelta(days=3), 9)
    assert await scan(db, when) == Queued(draft=1)
    assert await restarted(url, when, twice=True) == Queued()
    assert len(await reminders_of(db, "hoa")) == 1
    assert await reminders_of(db, "lan") == [] and await reminders_of(db, "mai") == []
    back = await hoa.send("/start")
    assert "chưa nộp. Gõ /start để tiếp tục" in back and "gõ /unsubscribe để ngừng nhận" in back

    seen = await db.run(lambda s: s.scalar(select(User.last_seen_at).where(User.id == ids["hoa"])))
    when[0] = at(rules.local(seen).date() + dt.timedelta(days=3), 9)
    assert await scan(db, when) == Queued()  # she left the same draft again: never a second time
    await hoa.script("/cancel", "/new", "Công ty TNHH Gốm Việt")  # a new draft
    seen = await db.run(lambda s: s.scalar(select(User.last_seen_at).where(User.id == ids["hoa"])))
    when[0] = at(rules.local(seen).date() + dt.timedelta(days=3), 9)
    assert await scan(db, when) == Queued(draft=1)
    await hoa.send("/start")
    await hoa.send("/cancel")

    def unsubscribe(s: Any) -> None:
        s.execute(
            update(Subscription).where(Subscription.user_id == ids["hoa"]).values(unsubscribed_at=when[0])
        )

    await db.run(unsubscribe)
    await hoa.script("/new", "Công ty TNHH Gốm Việt")
    seen = await db.run(lambda s: s.scalar(select(User.last_seen_at).where(User.id == ids["hoa"])))
    when[0] = at(rules.local(seen).date() + dt.timedelta(days=3), 9)
    assert await scan(db, when) == Queued()  # no news consent any more: no reminder
    assert len(await reminders_of(db, "hoa")) == 2


async def test_the_loop_scans_until_stopped(env: tuple) -> None:
    """What `smebot run` starts beside the channels: it scans at its interval and ends when told."""
    service, db, _ = env
    await file_dossier(service, "lan")
    await staff(service)
    filed = service.today()
    late = next_working(CAL.add_working_days(filed, 14))  # overdue: bob's list is due
    loop = Reminders(db, CAL, POLICY, interval=0.01, now=lambda: at(late, 9))
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    for _ in range(500):  # until the first scan has committed (no timing asserted)
        if await reminders_of(db, "bob"):
            break
        await asyncio.sleep(0.01)
    stop.set()
    await task
    assert len(await reminders_of(db, "bob")) == 1  # however many scans ran: one list
