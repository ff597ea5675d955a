"""The officer's /broadcast (issue 16): only a published programme of their agency; the default message
in each language with how to start and how to stop, editable; the audience is the subscribers the
programme fits, in the agency's area, narrowed by place, size, sector and priority group; the count and a
preview; confirming writes one row per recipient. /broadcast_status and /broadcast_cancel. Every mistake
gets its own answer. First the core with plain values, then the service on a real database."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import bot.service as service_module
from bot.attachments import AttachmentStore
from bot.channels.telegram import TelegramChannel, make_bot
from bot.pipeline.broadcaster import BroadcastConfig
from bot.service import Service
from bot.staff import DEFAULT_AGENCIES, Staff
from bot.store.db import open_db
from bot.store.models import Broadcast, BroadcastRecipient, Event, User
from conversations.broadcast_effects import CancelBroadcast, StartBroadcast
from conversations.effects import AuditRefused
from conversations.engine import Input, State
from conversations.messages import render, render_line
from conversations.officer import audience, broadcast, workbench
from conversations.officer.context import BroadcastRecord, OfficerContext, ProgrammeRecord, Subscriber
from rules.agencies import load_agencies
from rules.catalogue import EntityType, Flag, default_catalogue, parse_programme
from rules.deadline import Calendar
from rules.estimate import Profile
from rules.size import Size
from tests.driver import Clock, Owner, open_service
from tests.fakes.telegram_api import FakeTelegram
from tests.test_core_officer import AGENCIES
from tests.test_core_officer import context as officer_context
from tests.test_officer import DECLARE, QUANG_TRI, staff
from tests.test_programmes import HANOI, PROGRAMME, declared

QT = AGENCIES["so-cong-thuong-quang-tri"]
TOKEN = "123456:TEST"
PROVINCE, COMMUNE = "Tỉnh Quảng Trị", "Xã Vĩnh Thủy"


@dataclass(frozen=True)
class Read:
    """What the shell reads for the broadcast commands, as plain values."""

    found: tuple[Subscriber, ...] = ()
    sent: tuple[BroadcastRecord, ...] = ()

    def subscribers(self) -> tuple[Subscriber, ...]:
        return self.found

    def broadcasts(self) -> tuple[BroadcastRecord, ...]:
        return self.sent


def sub(user_id: int, **fields: Any) -> Subscriber:
    base: dict[str, Any] = {
        "user_id": user_id,
        "lang": "vi",
        "province": PROVINCE,
        "commune": COMMUNE,
        "sector": "industry",
        "profile": Profile((Size.small,)),
    }
    base.update(fields)
    return Subscriber(**base)


def record(status: str = "published", agency: str | None = QT.id, text: str = PROGRAMME) -> ProgrammeRecord:
    return ProgrammeRecord(
        parse_programme(text, "p.yaml"), status, version=1, live_version=1, agency_id=agency
    )


def ctx(*subs: Subscriber, programmes: tuple[ProgrammeRecord, ...] = (), **fields: Any) -> OfficerContext:
    return officer_context(programmes=programmes or (record(),), news=Read(subs), **fields)


def said(out: Any) -> str:
    return "\n".join(
        "\n".join([render(r, "vi", {}), *(render_line(c.label, "vi") for c in r.choices)])
        for r in out.replies
    )


def run(state: State, text: str, c: OfficerContext) -> Any:
    return workbench.route(state, Input(text=text), c)[1]


SUBSCRIBERS = (
    sub(1),
    sub(2, lang="en", profile=Profile((Size.micro,), frozenset({Flag.women_owned}))),
    sub(3, profile=Profile((Size.medium,))),  # the programme is for micro and small firms
    sub(4, province="Thành phố Hà Nội", commune="Phường Hoàn Kiếm"),  # outside the programme's region
    sub(5, topics=frozenset({"training"})),  # asked only for training news
    sub(6, commune="Xã Cửa Tùng", sector="trade"),
    sub(7, profile=Profile((), entity_type=EntityType.household)),  # the programme is for enterprises
)


# --- the core ------------------------------------------------------------------------------------------


def test_the_audience_is_whom_the_programme_fits_in_the_area_with_their_topics() -> None:
    p = record().programme
    today = dt.date(2026, 6, 10)
    assert [s.user_id for s in audience.audience(p, SUBSCRIBERS, QT, {}, today)] == [1, 2, 6]
    assert [s.user_id for s in audience.audience(p, SUBSCRIBERS, None, {}, today)] == [1, 2, 6]
    commune_agency = replace(QT, id="xa-vinh-thuy", commune="Vĩnh Thủy")
    assert [s.user_id for s in audience.audience(p, SUBSCRIBERS, commune_agency, {}, today)] == [1, 2]
    after = dt.date(2027, 1, 2)  # the programme ended: it fits nobody
    assert audience.audience(p, SUBSCRIBERS, QT, {}, after) == ()


def test_a_commune_agency_announces_its_shipped_khuyen_cong_plan_to_its_commune_only() -> None:
    commune = AGENCIES["ubnd-xa-vinh-thuy"]
    shipped = ProgrammeRecord(default_catalogue().programmes["vinh-thuy-2026-khuyen-cong"], "shipped")
    rural = Flag.rural_industry
    household = sub(8, profile=Profile((), frozenset({rural}), EntityType.household), sector="industry")
    elsewhere = sub(9, commune="Xã Cửa Tùng", profile=Profile((), frozenset({rural}), EntityType.household))
    c = replace(ctx(household, elsewhere, *SUBSCRIBERS, programmes=(shipped, record())), agency=commune)
    out = run(State(), "/broadcast vinh-thuy-2026-khuyen-cong", c)
    [effect] = run(out.state, "1", c).effects
    assert isinstance(effect, StartBroadcast) and 8 in effect.user_ids and 9 not in effect.user_ids
    assert effect.agency_id == "ubnd-xa-vinh-thuy"
    # not a programme of the commune's: the province's digital plan
    assert "không do cơ quan của bạn quản lý" in said(run(State(), "/broadcast qt-2026-digital", c))


@pytest.mark.parametrize(
    ("typed", "expected", "ids"),
    [
        ("xa: vinh thuy", {"communes": ["Xã Vĩnh Thủy"]}, [1, 2]),
        ("quy mô: siêu nhỏ", {"sizes": ["micro"]}, [2]),
        ("size: small; sector: thuong mai", {"sizes": ["small"], "sectors": ["trade"]}, [6]),
        ("nhom: phu nu lam chu", {"flags": ["women_owned"]}, [2]),
        (
            "tinh: Quang Tri\nquy mo: nho, sieu nho",
            {"provinces": ["Quảng Trị"], "sizes": ["small", "micro"]},
            [1, 2, 6],
        ),
    ],
)
def test_filters_typed_with_or_without_diacritics_narrow_the_audience(
    typed: str, expected: dict[str, list[str]], ids: list[int]
) -> None:
    filters = audience.parse_filters(typed, QT, {})
    assert filters == expected
    assert isinstance(filters, dict)
    found = audience.audience(record().programme, SUBSCRIBERS, QT, filters, dt.date(2026, 6, 10))
    assert [s.user_id for s in found] == ids


@pytest.mark.parametrize(
    ("typed", "said_"),
    [
        ("tinh: Ha Noi", "nằm ngoài địa bàn"),
        ("xa: Hoan Kiem", "Không tìm thấy địa danh"),  # not a commune of the agency's province
        ("quy mo: khong lo", "không phải một giá trị của «quy mo»"),
        ("mau sac: do", "Chưa hiểu điều kiện «mau sac: do»"),
        ("vinh thuy", "Chưa hiểu điều kiện"),
    ],
)
def test_a_wrong_filter_is_named(typed: str, said_: str) -> None:
    problem = audience.parse_filters(typed, QT, {})
    assert not isinstance(problem, dict)
    assert said_ in render_line(problem, "vi")


def test_only_a_published_programme_of_ones_agency() -> None:
    other = record(agency="so-tai-chinh-ha-noi", text=PROGRAMME.replace("qt-2026-digital", "hn-2026"))
    draft = record("draft", text=PROGRAMME.replace("qt-2026-digital", "qt-draft"))
    closed = record("closed", text=PROGRAMME.replace("qt-2026-digital", "qt-closed"))
    c = ctx(programmes=(record(), other, draft, closed))
    assert "Chương trình bạn có thể gửi tin: qt-2026-digital" in said(run(State(), "/broadcast", c))
    assert "Không có chương trình «nope»" in said(run(State(), "/broadcast nope", c))
    assert "/programme_publish qt-draft" in said(run(State(), "/broadcast qt-draft", c))
    assert "đã đóng" in said(run(State(), "/broadcast qt-closed", c))
    refused = run(State(), "/broadcast hn-2026", c)
    assert "không do cơ quan của bạn quản lý" in said(refused)
    assert refused.effects == (AuditRefused("/broadcast hn-2026"),)
    late = run(State(), "/broadcast qt-2026-digital", replace(c, today=dt.date(2027, 1, 5)))
    assert "đã hết hạn ngày 31/12/2026" in said(late)
    admin = replace(c, role="admin", agency=None)
    assert "Soạn tin" in said(run(State(), "/broadcast hn-2026", admin))


def test_compose_edit_narrow_and_send() -> None:
    c = ctx(*SUBSCRIBERS)
    out = run(State(), "/broadcast QT-2026-DIGITAL", c)
    shown = said(out)
    assert "Người nhận: 3 chủ doanh nghiệp" in shown and "Đọc tiếng Việt: 2 · đọc tiếng Anh: 1" in shown
    assert "Hỗ trợ chuyển đổi số doanh nghiệp nhỏ Quảng Trị 2026" in shown and "gõ /programmes" in shown
    assert "Quang Tri 2026 digital transformation" in shown and "type /unsubscribe" in shown
    assert "1. Gửi cho 3 người" in shown and out.state.pending == broadcast.DRAFT

    out = run(out.state, "2", c)  # the Vietnamese text
    assert "Nội dung hiện tại" in said(out) and out.state.pending == broadcast.TEXT + "vi"
    out = run(out.state, "Tin mới: hỗ trợ 80% chi phí chuyển đổi số!", c)
    assert "Đã thay nội dung bản tiếng Việt" in said(out)
    assert "Tin mới: hỗ trợ 80% chi phí chuyển đổi số!\n\nBạn nhận tin này" in said(out)

    out = run(out.state, "thu hep", c)
    out = run(out.state, "tinh: Ha Noi", c)
    assert "nằm ngoài địa bàn" in said(out) and out.state.pending == broadcast.NARROW
    out = run(out.state, "quy mo: vua", c)
    assert "Chưa có người nhận nào" in said(out) and "Gửi cho" not in said(out)
    assert "Không gửi được" in said(run(out.state, "gui", c))
    out = run(run(out.state, "3", c).state, "tat ca", c)  # "3" is "narrow" when nobody can be sent to
    out = run(run(out.state, "4", c).state, "xa: Vinh Thuy", c)
    assert "Người nhận: 2 chủ doanh nghiệp" in said(out)

    sent = run(out.state, "1", c)
    [effect] = sent.effects
    assert isinstance(effect, StartBroadcast)
    assert (
        effect.user_ids == (1, 2) and effect.programme_id == "qt-2026-digital" and effect.agency_id == QT.id
    )
    assert effect.texts["vi"].startswith("Tin mới: hỗ trợ 80%") and effect.texts["vi"].endswith(
        "/unsubscribe"
    )
    assert effect.texts["en"].startswith("📢 Quang Tri 2026") and effect.texts["en"].endswith("/unsubscribe")
    assert effect.audience["filters"] == {"communes": ["Xã Vĩnh Thủy"]}
    assert sent.state == State()


def test_the_draft_forgives_mistakes_and_can_be_dropped() -> None:
    c = ctx(*SUBSCRIBERS)
    out = run(State(), "/broadcast qt-2026-digital", c)
    assert "Chưa rõ bạn chọn việc nào" in said(run(out.state, "blah", c))
    editing = run(out.state, "3", c)
    assert "Nội dung trống" not in said(editing) and "/unsubscribe" not in said(editing)  # the body only
    pressed = workbench.route(editing.state, Input(payload="bc:narrow"), c)[1]  # a button, pressed later
    assert pressed.state.pending == broadcast.NARROW
    assert "quá" not in said(run(editing.state, "x" * 10, c))
    assert "tối đa 3500" in said(run(editing.state, "x" * 3600, c))
    back = run(editing.state, "/back", c)
    assert back.state.pending == broadcast.DRAFT and "Soạn tin" in said(back)
    custom = run(editing.state, "Hello owners", c)
    restored = run(run(custom.state, "3", c).state, "mac dinh", c)
    assert "Hello owners" not in said(restored)
    assert "Đã hủy bản tin" in said(run(out.state, "/cancel", c))
    assert run(out.state, "5", c).state == State()
    assert workbench.concerns("/broadcast", True, None) and workbench.concerns(None, True, broadcast.DRAFT)
    assert not workbench.concerns(None, True, None)


def bc(
    id_: int, status: str = "sending", agency: str | None = QT.id, who: str = "console:bob"
) -> BroadcastRecord:
    return BroadcastRecord(
        id_, "qt-2026-digital", agency, who, status, dt.datetime(2026, 6, 10, 9), 10, 4, 1, 1, 4
    )


def test_status_and_cancel_of_ones_broadcasts() -> None:
    sent = (bc(1, "done"), bc(2), bc(3, agency="so-tai-chinh-ha-noi", who="console:carol"))
    c = replace(ctx(), news=Read(sent=sent))
    listed = said(run(State(), "/broadcast_status", c))
    assert "Các đợt gửi tin (2" in listed and "#2 · «qt-2026-digital» · đang gửi · đã gửi 4/10" in listed
    assert "#3" not in listed and "#1 · «qt-2026-digital» · đã gửi xong" in listed
    assert "/broadcast_cancel 2" in said(run(State(), "/broadcast_status 2", c))
    assert "Không có đợt gửi #3" in said(run(State(), "/broadcast_status 3", c))
    assert "«abc» không phải số đợt gửi" in said(run(State(), "/broadcast_status abc", c))
    assert "Gõ /broadcast_cancel kèm số" in said(run(State(), "/broadcast_cancel", c))
    assert "không còn đang gửi (đã gửi xong)" in said(run(State(), "/broadcast_cancel 1", c))
    stop = run(State(), "/broadcast_cancel #2", c)
    assert stop.effects[0].broadcast_id == 2 and isinstance(stop.effects[0], CancelBroadcast)
    assert "Chưa có đợt gửi tin nào" in said(run(State(), "/broadcast_status", ctx()))
    admin = replace(c, role="admin", agency=None)
    assert "#3" in said(run(State(), "/broadcast_status", admin))


# --- through the service, on a real database -------------------------------------------------------------


async def subscribed(service: Any, user: str, place: list[str]) -> Owner:
    owner = await declared(service, user, place)
    assert "Đã đăng ký nhận tin" in await owner.send("co")
    return owner


async def test_broadcast_through_the_service(db_url: str) -> None:
    service, db = await open_service(db_url, Clock(dt.date(2026, 6, 10)))
    try:
        admin, bob, carol = await staff(service)
        await bob.send("/programme_add\n" + PROGRAMME)
        assert "Chương trình «qt-2026-digital» còn là bản nháp" in await bob.send(
            "/broadcast qt-2026-digital"
        )
        await bob.send("/programme_publish qt-2026-digital")

        lan = await subscribed(service, "lan", QUANG_TRI)
        await subscribed(service, "hoa", QUANG_TRI)
        gone = await subscribed(service, "gone", QUANG_TRI)
        await gone.send("/deleteme")
        await gone.send("co")  # erased: never a recipient
        declined = await declared(service, "tuan", QUANG_TRI)
        await declined.send("khong")
        await subscribed(service, "hanoi", HANOI)  # outside the programme's region and bob's area
        await lan.send("/lang en")

        assert "không do cơ quan của bạn quản lý" in await carol.send("/broadcast qt-2026-digital")
        shown = await bob.send("/broadcast qt-2026-digital")
        assert "Người nhận: 2 chủ doanh nghiệp" in shown and "đọc tiếng Anh: 1" in shown
        await bob.send("Thu hẹp người nhận")
        assert "Chưa có người nhận nào" in await bob.send("quy mô: vừa")
        await bob.send("thu hep")
        assert "Người nhận: 2" in await bob.send("tất cả")
        await bob.send("Sửa bản tiếng Việt")
        assert "Đã thay nội dung" in await bob.send(
            "Sở Công Thương Quảng Trị hỗ trợ 80% chi phí chuyển đổi số."
        )
        started = await bob.send("1")
        assert "Đã bắt đầu gửi đợt #1" in started and "đến 2 người" in started

        async with db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(User.external_id, BroadcastRecipient.lang, BroadcastRecipient.status)
                    .join(User, User.id == BroadcastRecipient.user_id)
                    .order_by(User.external_id)
                )
            ).all()
            texts = (await conn.execute(select(Broadcast.texts, Broadcast.agency_id))).one()
            actions = [a for (a,) in await conn.execute(select(Event.action))]
        assert [tuple(r) for r in rows] == [("hoa", "vi", "pending"), ("lan", "en", "pending")]
        assert (
            texts[0]["vi"].startswith("Sở Công Thương Quảng Trị hỗ trợ 80%")
            and "/unsubscribe" in texts[0]["vi"]
        )
        assert texts[1] == "so-cong-thuong-quang-tri" and "broadcast_start" in actions

        assert "#1 · «qt-2026-digital» · đang gửi · đã gửi 0/2" in await bob.send("/broadcast_status")
        assert "Không có đợt gửi #1" in await carol.send("/broadcast_status 1")
        assert "Đã dừng đợt #1: 0 tin đã gửi, 2 tin sẽ không gửi" in await bob.send("/broadcast_cancel 1")
        assert "không còn đang gửi (đã dừng)" in await bob.send("/broadcast_cancel 1")
        assert "«x» không phải số đợt gửi" in await bob.send("/broadcast_cancel x")
        # an owner typing an officer's command gets the answer to a typo; so does an officer's typo
        assert "I do not know that command" in await lan.send("/broadcast qt-2026-digital")
        assert "Tôi không biết lệnh này" in await bob.send("/broadcst qt-2026-digital")
        assert "#1" in await admin.send("/broadcast_status")  # an admin follows every broadcast
    finally:
        await db.close()


# --- over Telegram: the message reaches the subscribers, and /unsubscribe stops it -------------------------


async def telegram_owner(service: Any, user: str, subscribe: bool) -> Owner:
    """An owner on Telegram who filed a dossier in Quảng Trị (their profile saved) and answered the offer
    (driven through the service as the channel's adapter does; the replies go out through the outbox)."""
    owner = Owner(service, user, channel="telegram")
    await owner.send("/start")
    await owner.send("1")  # the dossier's consent
    await owner.script(*QUANG_TRI[1:], *DECLARE)
    await owner.send("1")
    await owner.send(payload="I.2")
    await owner.send(payload="_done")
    await owner.script("60 triệu", "co", "chua")
    assert "nhận tin khi có chương trình hỗ trợ mới" in await owner.send("1")
    await owner.send("co" if subscribe else "khong")
    return owner


async def test_the_news_reaches_subscribers_over_telegram_and_unsubscribe_stops_it(tmp_path: Path) -> None:
    async with FakeTelegram(token=TOKEN) as fake:
        db = await open_db(f"sqlite+aiosqlite:///{tmp_path / 'smebot.db'}")
        staff_ = Staff(frozenset({"telegram:900"}), load_agencies(DEFAULT_AGENCIES), Calendar())
        service = Service(
            db, default_catalogue(), Clock(dt.date(2026, 6, 10)), staff_, documents_dir=tmp_path
        )
        files = AttachmentStore(tmp_path / "files", 1 << 20, ("image/", "application/pdf"))
        bot = make_bot(TOKEN, fake.base_url)
        channel = TelegramChannel(
            service,
            db,
            bot,
            files,
            per_second=1000,
            chat_interval=0,
            broadcasts=BroadcastConfig(per_second=50),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(channel.run(stop))
        try:
            for uid in (900, 1001, 1002, 1003):
                fake.user(uid).has_written = True
            admin = Owner(service, "900", channel="telegram")
            await admin.send("/programme_add\n" + PROGRAMME)
            await admin.send("/programme_publish qt-2026-digital")
            await telegram_owner(service, "1001", subscribe=True)
            await telegram_owner(service, "1002", subscribe=False)
            leaving = await telegram_owner(service, "1003", subscribe=True)
            assert "Đã dừng gửi tin" in await leaving.send("/unsubscribe")

            assert "Người nhận: 1 chủ doanh nghiệp" in await admin.send("/broadcast qt-2026-digital")
            assert "Đã bắt đầu gửi đợt #1" in await admin.send("1")
            news = await fake.user(1001).wait_for("Bạn nhận tin này vì đã đăng ký", timeout=30)
            assert "Hỗ trợ chuyển đổi số doanh nghiệp nhỏ Quảng Trị 2026" in news["text"]
            assert news["text"].endswith("Không muốn nhận nữa: gõ /unsubscribe")
            await fake.user(900).wait_for("Đã gửi xong thông báo #1", timeout=30)  # the officer's report
            for other in (1002, 1003):
                assert not any(
                    "Bạn nhận tin này" in (m.get("text") or "") for m in fake.user(other).messages()
                )

            # the owner stops it over Telegram itself; the next broadcast reaches nobody
            await fake.user(1001).send_text("/unsubscribe")
            await fake.user(1001).wait_for("Đã dừng gửi tin chương trình hỗ trợ", timeout=15)
            assert "Chưa có người nhận nào" in await admin.send("/broadcast qt-2026-digital")
            assert "đã gửi xong · đã gửi 1/1" in await admin.send("/broadcast_status 1")
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)
            await db.close()


async def test_a_drafts_subscribers_are_read_off_the_event_loop(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: drawing an audience reads every subscriber's saved profile (0.7 s for 10,000 on SQLite);
    each step of a draft reads them in a snapshot on a thread of its own before its transaction, so the
    owners' transactions never wait behind it. Once the draft is closed, the officer's messages do not."""
    service, db = await open_service(db_url, Clock(dt.date(2026, 6, 10)))
    seen: list[bool] = []
    real = service_module.read_subscribers

    def watched(*args: Any) -> Any:
        seen.append(threading.current_thread() is threading.main_thread())
        return real(*args)

    monkeypatch.setattr(service_module, "read_subscribers", watched)
    try:
        _, bob, _ = await staff(service)
        await bob.send("/programme_add\n" + PROGRAMME)
        await bob.send("/programme_publish qt-2026-digital")
        await subscribed(service, "lan", QUANG_TRI)
        assert not seen
        assert "Người nhận: 1 chủ doanh nghiệp" in await bob.send("/broadcast qt-2026-digital")
        await bob.send("Thu hẹp người nhận")
        assert "Chưa có người nhận nào" in await bob.send("quy mô: vừa")
        await bob.send("/cancel")
        await bob.send("/queue")
        on_the_loop = db.dialect != "sqlite"  # PostgreSQL reads on the async engine, not a thread
        assert seen == [on_the_loop] * 4
    finally:
        await db.close()
