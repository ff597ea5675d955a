"""Reminders reach a pushed channel (issue 16): the scheduler queues them, the Telegram channel's sender
delivers them through real python-telegram-bot against the fake Bot API, in the reader's language."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.attachments import AttachmentStore
from bot.channels.telegram import TelegramChannel, make_bot
from bot.reminders import Queued, Reminders
from bot.service import Service
from bot.staff import DEFAULT_AGENCIES, Staff
from bot.store.db import open_db
from bot.store.models import Subscription, User
from rules.agencies import load_agencies
from rules.catalogue import default_catalogue
from rules.deadline import Calendar
from rules.reminders import VIETNAM, Policy
from tests.driver import Clock
from tests.fakes.telegram_api import FakeTelegram
from tests.test_officer import file_dossier

TOKEN = "123456:TEST"
ADMIN_ID, OFFICER_ID, OWNER_ID = 900, 901, 902


@pytest.fixture
async def tg(tmp_path: Path) -> AsyncIterator[tuple[FakeTelegram, Service]]:
    async with FakeTelegram(token=TOKEN) as fake:
        db = await open_db(f"sqlite+aiosqlite:///{tmp_path / 'smebot.db'}")
        staff = Staff(frozenset({f"telegram:{ADMIN_ID}"}), load_agencies(DEFAULT_AGENCIES), Calendar())
        service = Service(db, default_catalogue(), Clock(), staff, documents_dir=tmp_path / "documents")
        store = AttachmentStore(tmp_path / "files", 1 << 20, ("application/pdf",))
        channel = TelegramChannel(service, db, make_bot(TOKEN, fake.base_url), store, chat_interval=0.01)
        stop = asyncio.Event()
        task = asyncio.create_task(channel.run(stop))
        try:
            yield fake, service
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)
            await db.close()


async def test_the_officer_list_and_a_draft_reminder_arrive_over_telegram(tg: tuple[Any, Service]) -> None:
    fake, service = tg
    admin, officer, owner = fake.user(ADMIN_ID), fake.user(OFFICER_ID), fake.user(OWNER_ID)
    await admin.send_text(f"/officer_add telegram:{OFFICER_ID} so-cong-thuong-quang-tri")
    await admin.wait_for("Đã thêm cán bộ", timeout=15)
    await officer.send_text("/lang en")  # the officer reads English
    await officer.wait_for(None, timeout=15)
    ref = await file_dossier(service, "lan")  # filed on Tue 1 Dec 2026 (the service's clock): due 21 Dec
    await owner.send_text("/start")
    await owner.wait_for("Nghị định 13", timeout=15)
    await owner.send_text("1")  # consent: the journey begins, and she leaves it
    await owner.wait_for(None, timeout=15)

    def subscribe(s: Any) -> None:
        uid = s.scalar(select(User.id).where(User.channel == "telegram", User.external_id == str(OWNER_ID)))
        s.add(Subscription(user_id=uid, topics={}, consent_version="test"))

    await service.db.run(subscribe)
    # a working morning from Tue 22 Dec 2026 on (the dossier overdue) and 3 days after she left (abandoned)
    moment = max(dt.datetime(2026, 12, 22, 9, tzinfo=VIETNAM), dt.datetime.now(dt.UTC) + dt.timedelta(days=3))
    moment = dt.datetime.combine(moment.astimezone(VIETNAM).date(), dt.time(9), VIETNAM)
    while not Calendar().is_working_day(moment.date()):
        moment += dt.timedelta(days=1)
    queued = await Reminders(service.db, Calendar(), Policy(), now=lambda: moment).scan()
    assert queued.due == 1 and queued.draft == 1
    listed = await officer.wait_for("Reminder, morning of", timeout=15)
    assert f"• {ref} · Công ty TNHH Gốm Việt · due 21/12/2026 · overdue by" in listed["text"]
    assert f"/dossier {ref}" in listed["text"]
    draft = await owner.wait_for("chưa nộp", timeout=15)
    assert "/unsubscribe" in draft["text"]
    assert await Reminders(service.db, Calendar(), Policy(), now=lambda: moment).scan() == Queued()  # once
