"""Programme news for owners (issue 16): a consent of its own (Decree 13/2023), offered once after the
first dossier and never with the dossier's consent, or asked for with /subscribe; topics (the kinds of
support of the catalogue, every kind by default); /unsubscribe at any time, the row kept; erasure removes
it. First through the core with plain values, then through the service on a real SQLite file."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from bot.store.models import Event, Subscription, User
from conversations.broadcast_effects import ChooseTopics, Subscribe, Unsubscribe
from conversations.context import Context, DossierView, News
from conversations.engine import Input, State
from conversations.messages import render, render_line
from conversations.owner import news
from conversations.owner.handler import handle
from rules.catalogue import default_catalogue
from tests.driver import Clock, Owner, open_service
from tests.test_core_owner import HANOI, CoreOwner
from tests.test_core_owner import context as owner_context
from tests.test_officer import DECLARE, QUANG_TRI, staff
from tests.test_programmes import PROGRAMME, declared


def said(out: Any, lang: str = "vi") -> str:
    """The replies as read, each with its choices on lines of their own."""
    return "\n".join(
        "\n".join([render(r, lang, {}), *(render_line(c.label, lang) for c in r.choices)])
        for r in out.replies
    )


def consented(**changes: Any) -> Context:
    return owner_context(consented=True, **changes)


def a_dossier() -> DossierView:
    return DossierView("HS-2026-000001", "submitted", dt.date(2026, 6, 1), 40_000_000, ())


# --- the core ------------------------------------------------------------------------------------------


def test_the_offer_comes_after_the_first_filing_never_with_the_dossier_consent_nd13() -> None:
    owner = CoreOwner(owner_context())
    consent = owner.send("/start")
    assert "Nghị định 13/2023/NĐ-CP" in consent and "nhận tin" not in consent  # the dossier's consent only
    owner.script("dong y", "Dịch vụ Lõi", "0100109106", "1", *HANOI)
    owner.script("dich vu", "6", "4", "3 ty", "1 ty", "12", "khong", "khong", "khong", "1")
    owner.send("1")
    owner.send(payload="III.A")
    owner.send("xong")
    owner.script("40 trieu", "co", "TVV-7", "chua")
    filed = owner.send("nop ho so")
    assert "HS-TEST" in filed and "nhận tin khi có chương trình hỗ trợ mới" in filed
    assert "/unsubscribe" in filed and owner.state.pending == news.OFFER
    assert not any(isinstance(e, Subscribe) for e in owner.effects)  # nothing until they answer
    yes = owner.send("co")
    assert "Đã đăng ký nhận tin chương trình hỗ trợ: mọi loại hỗ trợ." in yes and "/topics" in yes
    assert [e for e in owner.effects if isinstance(e, Subscribe)] == [Subscribe(news.NEWS_CONSENT_VERSION)]


def test_the_offer_is_not_made_again_after_a_later_dossier_or_an_earlier_answer() -> None:
    done = State(lang="vi")
    assert news.after_filing(done, consented(dossiers=(a_dossier(),))) == (done, ())
    assert news.after_filing(done, consented(news=News(False))) == (done, ())
    state, replies = news.after_filing(done, consented())
    assert state.pending == news.OFFER and len(replies) == 1


def test_an_offer_left_unanswered_lets_the_input_through_and_is_not_asked_again() -> None:
    ctx = consented(dossiers=(a_dossier(),))
    out = handle(State(pending=news.OFFER), Input(text="1"), ctx)  # the menu's first line: a new dossier
    assert out.state.pending is None and out.state.flow is not None
    assert not out.effects


@pytest.mark.parametrize("word", ["khong", "không", "Không, cảm ơn"])
def test_no_to_the_offer_keeps_nothing(word: str) -> None:
    out = handle(State(pending=news.OFFER), Input(text=word), consented())
    assert "không gửi tin" in said(out) and out.effects == () and out.state.pending is None


def test_subscribe_asks_the_consent_then_unsubscribe_at_any_time() -> None:
    ctx = consented(saved_profile=None)
    asked = handle(State(), Input(text="/subscribe"), ctx)
    assert asked.state.pending == news.OFFER and "Nghị định 13/2023/NĐ-CP" in said(asked)
    yes = handle(asked.state, Input(payload=news.YES), ctx)
    assert yes.effects[0] == Subscribe(news.NEWS_CONSENT_VERSION)
    assert "khai thông tin doanh nghiệp" in said(yes)  # news comes once the firm is declared
    subscribed = replace(ctx, news=News(True, ("digital",)))
    again = handle(State(), Input(text="dang ky nhan tin"), subscribed)
    assert "Bạn đang nhận tin chương trình hỗ trợ: Công nghệ, chuyển đổi số." in said(again)
    stop = handle(State(), Input(text="huy nhan tin"), subscribed)
    assert stop.effects[0] == Unsubscribe() and "Đã dừng gửi tin" in said(stop)
    nothing = handle(State(), Input(text="/unsubscribe"), replace(ctx, news=News(False)))
    assert nothing.effects == () and "không nhận tin" in said(nothing)
    # before any consent: how to stop still answers, never the consent screen
    early = handle(State(), Input(text="/unsubscribe"), owner_context())
    assert "không nhận tin" in said(early) and "Nghị định 13" not in said(early)


def test_the_offer_button_pressed_later_still_answers_it() -> None:
    late = handle(State(flow=None), Input(payload=news.YES), consented())
    assert late.effects[0] == Subscribe(news.NEWS_CONSENT_VERSION)
    kept = handle(State(), Input(payload=news.YES), consented(news=News(True, ("training",))))
    assert kept.effects == () and "Đào tạo" in said(kept)  # already subscribed: the topics stay
    assert "không gửi tin" in said(handle(State(), Input(payload=news.NO), consented()))
    stop = handle(State(), Input(payload=news.NO), consented(news=News(True)))
    assert stop.effects == (Unsubscribe(),)


def test_topics_are_the_kinds_of_the_catalogue_and_all_means_every_kind() -> None:
    kinds = [k.value for k in news.topics_of(default_catalogue())]
    assert kinds[:3] == ["digital", "consulting", "training"] and "network" not in kinds
    ctx = consented(news=News(True))
    asked = handle(State(), Input(text="/topics"), ctx)
    assert asked.state.pending == news.TOPICS and "1. Công nghệ, chuyển đổi số" in said(asked)
    picked = handle(asked.state, Input(text="1, 3"), ctx)
    assert picked.effects[0] == ChooseTopics(("digital", "training"))
    assert "Công nghệ, chuyển đổi số, Đào tạo" in said(picked)
    every = handle(asked.state, Input(text="tat ca"), ctx)
    assert every.effects[0] == ChooseTopics(())
    wrong = handle(asked.state, Input(text="xyz"), ctx)
    assert wrong.effects == () and "Chưa rõ loại hỗ trợ" in said(wrong) and wrong.state.pending == news.TOPICS
    need = handle(State(), Input(text="/topics"), consented())
    assert "/subscribe" in said(need) and need.state.pending is None


def test_news_commands_in_the_middle_of_the_journey_come_back_to_the_question() -> None:
    owner = CoreOwner(consented())
    owner.send("/start")
    owner.send("Dịch vụ Lõi")
    out = owner.send("/subscribe")
    assert owner.state.pending == news.OFFER and owner.state.flow is not None
    back = owner.send("co")
    assert "Đã đăng ký" in back and "mã số thuế" in back.lower()  # the journey's question again
    assert out


# --- through the service, on a real database -------------------------------------------------------------


async def filed_owner(service: Any, user: str) -> tuple[Owner, str]:
    owner = Owner(service, user)
    await owner.send("/start")
    await owner.script(*QUANG_TRI, *DECLARE)
    await owner.send("1")
    await owner.send(payload="I.2")
    await owner.send(payload="_done")
    await owner.script("60 triệu", "co", "chua")
    return owner, await owner.send("1")


async def test_subscribe_topics_unsubscribe_and_erase_through_the_service(db_url: str) -> None:
    service, db = await open_service(db_url, Clock())
    try:
        owner, filed = await filed_owner(service, "lan")
        assert "HS-2026-000001" in filed and "nhận tin khi có chương trình hỗ trợ mới" in filed
        assert "Đã đăng ký nhận tin" in await owner.send(payload=owner.press("Có, gửi tin"))
        assert "Công nghệ, chuyển đổi số" in await owner.send("/topics")
        assert "Đào tạo" in await owner.send("3")
        assert "Bạn đang nhận tin chương trình hỗ trợ: Đào tạo." in await owner.send("/subscribe")
        async with db.engine.connect() as conn:
            row = (await conn.execute(select(Subscription.topics, Subscription.unsubscribed_at))).one()
        assert row == ({"kinds": ["training"]}, None)

        assert "Đã dừng gửi tin" in await owner.send("huỷ nhận tin")
        async with db.engine.connect() as conn:
            stopped = (await conn.execute(select(Subscription.unsubscribed_at))).scalar_one()
            actions = [a for (a,) in await conn.execute(select(Event.action).order_by(Event.id))]
        assert stopped is not None  # the row stays, with when they stopped
        assert [a for a in actions if "news" in a] == ["news_subscribe", "news_topics", "news_unsubscribe"]

        # /mydata holds the subscription; erasure removes it
        await owner.send("/subscribe")
        await owner.send("co")
        await owner.send("/mydata")
        [export] = owner.documents()
        mine = json.loads(export.content)["news_subscription"]  # type: ignore[attr-defined]
        assert mine["unsubscribed_at"] is None and mine["consent_version"] == news.NEWS_CONSENT_VERSION
        await owner.send("/deleteme")
        await owner.send("co")
        async with db.engine.connect() as conn:
            left = (await conn.execute(select(Subscription))).all()
            erased = (await conn.execute(select(User.deleted_at).where(User.external_id == "lan"))).scalar()
        assert left == [] and erased is not None
    finally:
        await db.close()


async def test_declining_the_offer_stores_nothing(db_url: str) -> None:
    service, db = await open_service(db_url, Clock())
    try:
        owner, _ = await filed_owner(service, "minh")
        assert "không gửi tin" in await owner.send("khong")
        async with db.engine.connect() as conn:
            assert (await conn.execute(select(Subscription))).all() == []
        assert "/subscribe" in await owner.send("/unsubscribe")
    finally:
        await db.close()


async def test_choosing_a_programme_from_the_list_starts_the_journey_with_its_supports_only(
    db_url: str,
) -> None:
    service, db = await open_service(db_url, Clock())
    try:
        _admin, bob, _carol = await staff(service)
        await bob.send("/programme_add\n" + PROGRAMME)
        await bob.send("/programme_publish qt-2026-digital")
        owner = await declared(service, "lan", QUANG_TRI)
        await owner.send("/withdraw HS-2026-000001")  # its content is free again (TT06 Art. 3.4)
        listed = await owner.send("/programmes")
        assert "1. Hỗ trợ doanh nghiệp nhỏ và vừa theo Nghị định 80/2021/NĐ-CP" in listed
        assert "2. Hỗ trợ chuyển đổi số doanh nghiệp nhỏ Quảng Trị 2026" in listed
        started = await owner.send("2")
        assert "Lập hồ sơ theo chương trình «Hỗ trợ chuyển đổi số doanh nghiệp nhỏ Quảng Trị 2026»" in started
        await owner.send("1")  # the saved profile
        supports = await owner.send("1")  # on after the size
        assert "QT26.1" in supports and "III.A" not in supports and "I.2.2" not in supports

        # anything else after the list is handled as usual; the whole catalogue again with /new
        await owner.send("/programmes")
        assert "HS-2026-000001" in await owner.send("/mydossiers")
        await owner.send("/new")
        await owner.send("1")
        assert "III.A" in await owner.send("1")
    finally:
        await db.close()
