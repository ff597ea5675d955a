"""The Zalo Official Account channel end to end (issue 17): the real ``smebot run`` process, its webhook on
the shared aiohttp server, against the protocol-faithful fake OA API (tests/fakes/zalo_oa.py), over HTTP, on
a real SQLite file. The fake signs and delivers the events (retrying what is not acknowledged), rotates
the tokens (a reused refresh token refused), keeps the interaction windows and the quota."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import aiohttp
from sqlalchemy.orm import Session

from bot.channels.zalo_oa import SIGNATURE_HEADER
from bot.channels.zalo_oa.updates import PRESS
from bot.store import broadcasts
from bot.store import users as users_store
from bot.store.db import open_db
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_oa import FakeOAUser, FakeZaloOA, OAMessage
from tests.test_telegram import free_port
from tests.test_zalo_bot import (
    JOURNEY,
    PROFILE,
    REF,
    TELEGRAM_TOKEN,
    environment,
    handled,
    photo_server,
    query,
    reached,
    run_until_exit,
    smebot_run,
    telegram_type,
    until,
)

SOURCE = "zalo_oa"
HOUR = 3600.0
DAY = 24 * HOUR


def oa_env(tmp_path: Path, fake: FakeZaloOA, port: int, **extra: str) -> dict[str, str]:
    """``smebot run`` with the OA connected as an agency connects it (README): app id, secret key, OA
    secret key, webhook URL, the first token pair."""
    access, refresh, _ = fake.issue_tokens()
    url = f"http://127.0.0.1:{port}/zalo-oa"
    fake.set_webhook(url)
    return environment(tmp_path, None) | {
        "SMEBOT_ZALO_OA_APP_ID": fake.app_id,
        "SMEBOT_ZALO_OA_SECRET_KEY": fake.app_secret,
        "SMEBOT_ZALO_OA_OA_SECRET_KEY": fake.oa_secret,
        "SMEBOT_ZALO_OA_ACCESS_TOKEN": access,
        "SMEBOT_ZALO_OA_REFRESH_TOKEN": refresh,
        "SMEBOT_ZALO_OA_WEBHOOK_URL": url,
        "SMEBOT_ZALO_OA_API_URL": fake.base_url,
        "SMEBOT_ZALO_OA_OAUTH_URL": fake.base_url,
        "SMEBOT_ZALO_OA_CHAT_INTERVAL": "0.01",
        "SMEBOT_WEBHOOK_LISTEN": f"127.0.0.1:{port}",
        **extra,
    }


async def serving(port: int, proc: subprocess.Popen[bytes]) -> None:
    """Until the one webhook server answers (the platform's first deliveries would be retried anyway)."""

    async def up() -> bool:
        try:
            timeout = aiohttp.ClientTimeout(total=2)
            url = f"http://127.0.0.1:{port}/healthz"
            async with aiohttp.ClientSession(timeout=timeout) as http, http.get(url) as r:
                return r.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    for _ in range(600):
        if await up():
            return
        if proc.poll() is not None:
            error = proc.stderr.read().decode() if proc.stderr is not None else ""
            raise AssertionError(f"smebot run stopped ({proc.returncode}): {error[-2000:]}")
        await asyncio.sleep(0.1)
    raise AssertionError("smebot run did not serve its webhook")


def texts(user: FakeOAUser) -> list[str]:
    return [m.text or "" for m in user.received()]


async def wait_text(user: FakeOAUser, needle: str, timeout: float = 30.0, after: int = 0) -> OAMessage:
    def found() -> bool:
        return any(needle in (m.text or "") for m in user.received()[after:])

    await until(found, timeout, needle, lambda: f"; the last received: {texts(user)[-2:]}")
    return next(m for m in user.received()[after:] if needle in (m.text or ""))


async def type_lines(user: FakeOAUser, db: Path, lines: Sequence[str]) -> None:
    """The owner types each line once the previous one was handled (as a person reads, then answers)."""
    key = f"{SOURCE}:{user.user_id}"
    for line in lines:
        target = handled(db, SOURCE, key) + 1
        await user.send_text(line)
        await until(partial(reached, db, SOURCE, key, target), what=f"the answer {line!r}")


async def press(user: FakeOAUser, db: Path, title: str) -> None:
    """Press the button titled ``title`` of the last message with buttons: its payload comes back as text."""
    message = next(m for m in reversed(user.received()) if m.buttons)
    payload = next(p for t, _, p in message.buttons if title in t)
    key = f"{SOURCE}:{user.user_id}"
    target = handled(db, SOURCE, key) + 1
    await user.press(payload)
    await until(partial(reached, db, SOURCE, key, target), what=f"the press {title!r}")


async def test_an_owner_files_a_dossier_over_the_oa(tmp_path: Path) -> None:
    db, port = tmp_path / "smebot.db", free_port()
    async with FakeZaloOA() as fake:
        owner = fake.user("9123456789012345678")  # above 2^53: kept as text throughout
        with smebot_run(oa_env(tmp_path, fake, port)) as proc:
            await serving(port, proc)
            await owner.follow()  # following the OA: the greeting and the consent
            consent = await wait_text(owner, "Bạn có đồng ý không?")
            assert "trợ lý tự động" in texts(owner)[0]  # the platform's terms: said before anything else
            assert [b[1] for b in consent.buttons] == ["oa.query.hide"] * len(consent.buttons)
            assert all(b[2].startswith(PRESS) for b in consent.buttons)
            await press(owner, db, "Đồng ý")  # a button: its payload arrives as the user's text
            await wait_text(owner, "Tên doanh nghiệp")
            await type_lines(owner, db, JOURNEY[1:])  # typed, without diacritics, numbers for choices
            filed = await wait_text(owner, "Đã nộp hồ sơ")
            ref = REF.search(filed.text or "")
            assert ref is not None
            await until(lambda: any(m.kind == "file" for m in owner.received()), what="the dossier file")
        files = [m.file_name for m in owner.received() if m.kind == "file"]
        assert files and all(name and name.endswith(".docx") for name in files)
        assert all(len(m.text or "") <= 2000 for m in fake.sent)
        assert all(len(m.buttons) <= 5 for m in fake.sent)
        assert sum("trợ lý tự động" in t for t in texts(owner)) == 1
    rows = query(
        db, "SELECT d.ref, u.channel, u.external_id FROM dossiers d JOIN users u ON u.id = d.user_id"
    )
    assert rows == [(ref.group(), "zalo_oa", "9123456789012345678")]


async def test_a_bad_signature_is_refused_with_no_state_change_and_a_twice_delivered_event_is_handled_once(
    tmp_path: Path,
) -> None:
    db, port = tmp_path / "smebot.db", free_port()
    async with FakeZaloOA() as fake:
        owner = fake.user("8000000000000000001")
        with smebot_run(oa_env(tmp_path, fake, port)) as proc:
            await serving(port, proc)
            fake.corrupt_signatures(1)
            await owner.send_text("Xin chào")  # signed wrongly: refused at every retry, then given up
            await until(lambda: bool(fake.undelivered), what="the forged event given up")
            assert {a.status for a in fake.webhook_attempts} == {403}
            url = f"http://127.0.0.1:{port}/zalo-oa"
            body = fake.events[-1]
            async with aiohttp.ClientSession() as http:
                for header in ({}, {SIGNATURE_HEADER: "mac=00"}, {SIGNATURE_HEADER: "mac="}):
                    async with http.post(url, data=body, headers=header) as refused:
                        assert refused.status == 403
            await asyncio.sleep(0.5)
            assert query(db, "SELECT count(*) FROM processed_updates") == [(0,)]
            assert query(db, "SELECT count(*) FROM users") == [(0,)]
            assert owner.received() == []
            await owner.send_text("Xin chào")  # signed rightly
            await wait_text(owner, "Bạn có đồng ý không?")
            before = len(owner.received())
            event = await owner.send_text("/help")
            await until(lambda: len(owner.received()) > before, what="the help")
            help_text = owner.received()[before].text
            fake.deliver_twice(event)  # the same event, byte for byte
            acknowledged = lambda: sum(a.status == 200 for a in fake.webhook_attempts)  # noqa: E731
            await until(lambda: acknowledged() >= 3, what="the copy delivered")
            await asyncio.sleep(1.0)  # had the copy been handled, its answer would be out by now
        assert [t for t in texts(owner) if t == help_text] == [help_text]
        assert all(a.status == 200 for a in fake.webhook_attempts[-3:])
    assert query(db, "SELECT count(*) FROM processed_updates WHERE source='zalo_oa'") == [(2,)]


async def test_token_expiry_mid_journey_refreshes_once_and_the_old_refresh_token_is_refused(
    tmp_path: Path,
) -> None:
    db, port = tmp_path / "smebot.db", free_port()
    async with FakeZaloOA() as fake:
        owner = fake.user("8111111111111111111")
        env = oa_env(tmp_path, fake, port)
        with smebot_run(env) as proc:
            await serving(port, proc)
            await owner.send_text("Xin chào")
            await wait_text(owner, "Bạn có đồng ý không?")
            await type_lines(owner, db, PROFILE[:2])
            await wait_text(owner, "Mã số doanh nghiệp")
            fake.expire_access_tokens()  # the access token dies between two answers
            before = len(owner.received())
            await type_lines(owner, db, PROFILE[2:3])
            await wait_text(owner, "Loại hình", after=before)  # answered: refreshed and sent again
            assert fake.refresh_count == 1 and fake.refusals == []
            (refresh,) = query(db, "SELECT refresh_token FROM platform_tokens")[0]
            assert refresh != env["SMEBOT_ZALO_OA_REFRESH_TOKEN"]  # the new pair written down
        async with aiohttp.ClientSession() as http:  # the spent one is refused by the platform
            form = {"app_id": fake.app_id, "grant_type": "refresh_token"}
            form["refresh_token"] = env["SMEBOT_ZALO_OA_REFRESH_TOKEN"]
            url = f"{fake.base_url}/v4/oa/access_token"
            async with http.post(url, data=form, headers={"secret_key": fake.app_secret}) as answer:
                assert "access_token" not in await answer.json()
        with smebot_run(
            env
        ) as proc:  # a restart keeps the stored pair: the settings' spent one is not used again
            await serving(port, proc)
            before = len(owner.received())
            await type_lines(owner, db, PROFILE[3:4])
            await wait_text(owner, "tỉnh, thành phố nào", after=before)
        assert fake.refusals == [env["SMEBOT_ZALO_OA_REFRESH_TOKEN"]]  # only the test's own attempt


async def test_sigkill_and_restart_resume_an_oa_journey(tmp_path: Path) -> None:
    db, port = tmp_path / "smebot.db", free_port()
    # the platform retries an unacknowledged event for a while: long enough to outlive a restart
    async with FakeZaloOA(webhook_retry_delays=(0.5, 1, 2, 4, 8, 16, 30)) as fake:
        owner = fake.user("8222222222222222222")
        env = oa_env(tmp_path, fake, port)
        with smebot_run(env) as proc:
            await serving(port, proc)
            await owner.send_text("Xin chào")
            await wait_text(owner, "Bạn có đồng ý không?")
            await type_lines(owner, db, PROFILE[:2])
            await wait_text(owner, "Mã số doanh nghiệp")
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            assert proc.returncode == -signal.SIGKILL
        before = len(owner.received())
        await owner.send_text("0100109106")  # written while the bot is down: the platform retries
        with smebot_run(env):
            await wait_text(owner, "Loại hình", 60, after=before)  # resumed at the next question
    (state,) = query(db, "SELECT state FROM conversation_states")[0]
    answers = json.loads(str(state))["answers"]
    assert (answers["name"], answers["tax_code"]) == ("Công ty TNHH Gốm Việt", "0100109106")


async def test_owners_on_telegram_and_the_oa_file_into_one_queue_and_an_officer_reviews_over_the_oa(
    tmp_path: Path,
) -> None:
    db, port = tmp_path / "smebot.db", free_port()
    async with FakeZaloOA() as fake, FakeTelegram(token=TELEGRAM_TOKEN) as telegram:
        env = oa_env(
            tmp_path,
            fake,
            port,
            SMEBOT_TELEGRAM_TOKEN=TELEGRAM_TOKEN,
            SMEBOT_TELEGRAM_API_URL=telegram.base_url,
            SMEBOT_ADMIN_IDS="telegram:900",
        )
        with smebot_run(env) as proc:
            await serving(port, proc)
            officer = fake.user("8333333333333333333")
            await officer.follow()  # an officer on the OA follows it, as owners do: the window opens
            await wait_text(officer, "Bạn có đồng ý không?")
            admin = telegram.user(900, "Admin")
            await admin.send_text(f"/officer_add zalo_oa:{officer.user_id} so-tai-chinh-ha-noi")
            await admin.wait_for("Đã thêm cán bộ", timeout=30)
            owner = fake.user("8444444444444444444")
            await owner.send_text("Xin chao")
            await wait_text(owner, "Bạn có đồng ý không?")
            await type_lines(owner, db, JOURNEY)
            oa_ref = REF.search((await wait_text(owner, "Đã nộp hồ sơ")).text or "")
            lan = telegram.user(902, "Lan")
            await telegram_type(lan, db, ["/start", *journey_with_tax("0101243150")])
            telegram_ref = REF.search((await lan.wait_for("Đã nộp hồ sơ", timeout=30))["text"])
            assert oa_ref is not None and telegram_ref is not None
            before = len(officer.received())
            await type_lines(officer, db, ["/queue"])
            queue = await wait_text(officer, oa_ref.group(), after=before)
            assert telegram_ref.group() in (queue.text or "")  # one queue, both channels
            await type_lines(officer, db, [f"/claim {oa_ref.group()}", f"/approve {oa_ref.group()}"])
            await wait_text(officer, f"Đã chấp thuận hồ sơ {oa_ref.group()}")
            decided = await wait_text(owner, "đã được chấp thuận")  # the owner hears on the OA
            assert oa_ref.group() in (decided.text or "")
            await telegram_type(lan, db, ["Tôi đã có báo giá mới, gửi anh chị xem."])
            heard = await wait_text(officer, "chủ doanh nghiệp nhắn")  # on the officer's own channel
            assert telegram_ref.group() in (heard.text or "")
    rows = query(db, "SELECT u.channel FROM dossiers d JOIN users u ON u.id = d.user_id ORDER BY d.id")
    assert rows == [("zalo_oa",), ("telegram",)]


async def test_messages_past_the_window_are_held_and_the_officer_told(tmp_path: Path) -> None:
    db, port = tmp_path / "smebot.db", free_port()
    async with FakeZaloOA() as fake, FakeTelegram(token=TELEGRAM_TOKEN) as telegram:
        env = oa_env(
            tmp_path,
            fake,
            port,
            SMEBOT_TELEGRAM_TOKEN=TELEGRAM_TOKEN,
            SMEBOT_TELEGRAM_API_URL=telegram.base_url,
            SMEBOT_ADMIN_IDS="telegram:900",
        )
        with smebot_run(env) as proc:
            await serving(port, proc)
            admin = telegram.user(900, "Admin")
            await admin.send_text("/officer_add telegram:901 so-tai-chinh-ha-noi")
            await admin.wait_for("Đã thêm cán bộ", timeout=30)
            officer = telegram.user(901, "Minh")
            owner = fake.user("8555555555555555555")
            await owner.send_text("Xin chào")
            await wait_text(owner, "Bạn có đồng ý không?")
            await type_lines(owner, db, JOURNEY)
            found = REF.search((await wait_text(owner, "Đã nộp hồ sơ")).text or "")
            assert found is not None
            ref = found.group()
            await until(lambda: any(m.kind == "file" for m in owner.received()), what="the dossier file")
            # the platform's count: 8 days pass on its clock (the bot's count, from the owner's last
            # message, still lets it try): the access token expired with them, so refreshed, then -230
            fake.advance(8 * DAY)
            await officer.send_text(f"/claim {ref}")
            told = await officer.wait_for(lambda m: "-230" in (m.get("text") or ""), timeout=30)
            assert "đang bị giữ" in told["text"] and ref in told["text"]
        # the bot's own count: the owner's last message 8 days ago (a process started since: the time of
        # their last message comes from the database), held without asking the platform
        query(db, "UPDATE users SET last_seen_at = datetime('now', '-8 days') WHERE channel = 'zalo_oa'")
        with smebot_run(env) as proc:
            await serving(port, proc)
            sends = len(fake.calls)
            await officer.send_text(f"/ask {ref} Đề nghị bổ sung báo giá")
            told = await officer.wait_for(lambda m: "outside the window" in (m.get("text") or ""), timeout=30)
            assert "đang bị giữ" in told["text"] and ref in told["text"]
            assert not [c for c in fake.calls[sends:] if c[0].endswith("/message/cs")]
        assert not any("bổ sung báo giá" in (m.text or "") for m in owner.received())
        assert fake.refresh_count == 1
        held = [str(e) for (e,) in query(db, "SELECT error FROM outbox WHERE status = 'held' ORDER BY id")]
        assert "-230" in held[0] and "outside the window" in held[-1]
        # the owner writes again: the window is open, and what was held for them goes out first, in order
        with smebot_run(env) as proc:
            await serving(port, proc)
            before = len(owner.received())
            await owner.send_text("Chào anh chị, tôi đã quay lại")
            await wait_text(owner, "Đã gửi phản hồi của bạn", after=before)  # the reply to it, last
            await until(
                lambda: not query(db, "SELECT id FROM outbox WHERE status != 'sent'"), what="all sent"
            )
            later = [m.text or "" for m in owner.received()[before:]]

            def first(fragment: str) -> int:
                return next(i for i, text in enumerate(later) if fragment in text)

            claimed, asked = first(f"Hồ sơ {ref} của bạn đang được"), first(f"Hồ sơ {ref} cần bổ sung")
            assert claimed < asked < first("Đã gửi phản hồi của bạn")
            assert "Đề nghị bổ sung báo giá" in later[asked]


def journey_with_tax(tax_code: str) -> list[str]:
    return [tax_code if line == "0100109106" else line for line in JOURNEY]


async def test_files_images_shared_info_and_unfollowing(tmp_path: Path) -> None:
    db, port = tmp_path / "smebot.db", free_port()
    async with FakeZaloOA() as fake, photo_server() as photo:
        owner = fake.user("8666666666666666666")
        key = f"{SOURCE}:{owner.user_id}"
        with smebot_run(oa_env(tmp_path, fake, port)) as proc:
            await serving(port, proc)
            await owner.follow()
            await wait_text(owner, "Bạn có đồng ý không?")
            await press(owner, db, "Đồng ý")
            await wait_text(owner, "Tên doanh nghiệp")
            for action in (
                owner.send_image(photo),
                owner.send_file(photo, "giay-phep.jpg", 68),
                owner.submit_info(name="An", phone="0912345678"),
            ):
                target = handled(db, SOURCE, key) + 1
                await action
                await until(partial(reached, db, SOURCE, key, target), what="the event handled")
            await wait_text(owner, "Cảm ơn bạn đã chia sẻ thông tin")
            assert query(db, "SELECT count(*) FROM attachments") == [(2,)]  # the photo and the file kept
            await owner.unfollow()
            await until(lambda: query(db, "SELECT unreachable FROM users") == [(1,)], what="unreachable")
            before = len(owner.received())
            await owner.follow()  # back: reachable, and the question in progress again
            await wait_text(owner, "Tên doanh nghiệp", after=before)
            assert query(db, "SELECT unreachable FROM users") == [(0,)]
    # nothing the owner shared through the form was kept
    assert not query(db, "SELECT count(*) FROM users WHERE display_name = 'An'")[0][0]


async def test_the_quota_is_waited_out_with_nothing_doubled(tmp_path: Path) -> None:
    db, port = tmp_path / "smebot.db", free_port()
    async with FakeZaloOA() as fake:
        owner = fake.user("8777777777777777777")
        env = oa_env(tmp_path, fake, port, SMEBOT_ZALO_OA_RATE_LIMIT_BACKOFF="0.5")
        with smebot_run(env) as proc:
            await serving(port, proc)
            fake.inject("/v3.0/oa/message/cs", error=-32, times=3)  # over the app's quota three times
            await owner.send_text("Xin chào")
            await wait_text(owner, "Bạn có đồng ý không?")
            await type_lines(owner, db, ["1"])
            await wait_text(owner, "Tên doanh nghiệp")
        calls = [c for c in fake.calls if c[0].endswith("/message/cs")]
        assert len(calls) == len(owner.received()) + 3  # each -32 tried again, nothing doubled
        assert sum("Bạn có đồng ý không?" in t for t in texts(owner)) == 1


async def test_a_lost_refresh_token_alerts_the_admins_and_a_new_pair_takes_over(tmp_path: Path) -> None:
    db, port = tmp_path / "smebot.db", free_port()
    async with FakeZaloOA() as fake, FakeTelegram(token=TELEGRAM_TOKEN) as telegram:
        env = oa_env(
            tmp_path,
            fake,
            port,
            SMEBOT_TELEGRAM_TOKEN=TELEGRAM_TOKEN,
            SMEBOT_TELEGRAM_API_URL=telegram.base_url,
            SMEBOT_ADMIN_IDS="telegram:900",
            SMEBOT_ZALO_OA_REFRESH_TOKEN="a-refresh-token-spent-long-ago",
        )
        owner = fake.user("8888888888888888888")
        admin = telegram.user(900, "Admin")
        with smebot_run(env) as proc:
            await serving(port, proc)
            await admin.send_text("/help")  # an admin who has written to the bot (Telegram's rule)
            await admin.wait_for(timeout=30)
            await owner.send_text("Xin chào")
            await wait_text(owner, "Bạn có đồng ý không?")
            fake.expire_access_tokens()
            await type_lines(owner, db, ["1"])  # handled; its answer cannot go: no usable token
            alert = await admin.wait_for("không làm mới được token của Zalo OA", timeout=30)
            assert "SMEBOT_ZALO_OA_REFRESH_TOKEN" in alert["text"]
            await admin.send_text("/officers")  # the bot is still up, every other channel too
            await admin.wait_for(timeout=30)
            assert proc.poll() is None
        assert fake.refusals == ["a-refresh-token-spent-long-ago"]
        # an admin authorises the OA again: the new pair from the settings replaces the dead one
        access, refresh, _ = fake.issue_tokens()
        env |= {"SMEBOT_ZALO_OA_ACCESS_TOKEN": access, "SMEBOT_ZALO_OA_REFRESH_TOKEN": refresh}
        with smebot_run(env) as proc:
            await serving(port, proc)
            before = len(owner.received())
            await owner.send_text("/start")
            await wait_text(owner, "Tên doanh nghiệp", after=before)
    assert query(db, "SELECT refresh_token FROM platform_tokens") == [(refresh,)]


async def test_an_incomplete_oa_configuration_gets_a_clear_message(tmp_path: Path) -> None:
    env = environment(
        tmp_path,
        None,
        SMEBOT_ZALO_OA_APP_ID="3158297446413652112",
        SMEBOT_ZALO_OA_SECRET_KEY="the-app-secret",
        SMEBOT_ZALO_OA_SIGNED_WITH="both",
    )
    done = await run_until_exit(env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    for name in ("SMEBOT_ZALO_OA_OA_SECRET_KEY", "SMEBOT_ZALO_OA_WEBHOOK_URL", "SMEBOT_ZALO_OA_SIGNED_WITH"):
        assert name in done.stderr
    assert "the-app-secret" not in done.stderr


async def test_a_broadcast_to_a_follower_past_the_window_is_held_and_counted_in_the_report(
    tmp_path: Path,
) -> None:
    db, port = tmp_path / "smebot.db", free_port()
    async with FakeZaloOA() as fake, FakeTelegram(token=TELEGRAM_TOKEN) as telegram:
        env = oa_env(
            tmp_path,
            fake,
            port,
            SMEBOT_TELEGRAM_TOKEN=TELEGRAM_TOKEN,
            SMEBOT_TELEGRAM_API_URL=telegram.base_url,
            SMEBOT_ADMIN_IDS="telegram:900",
        )
        officer = telegram.user(900, "Admin")
        near, away = fake.user("8900000000000000001"), fake.user("8900000000000000002")
        with smebot_run(env) as proc:
            await serving(port, proc)
            await officer.send_text("/help")  # the officer has written to the bot (Telegram's rule)
            await officer.wait_for(timeout=30)
            for owner in (away, near):
                await owner.send_text("Xin chào")
                await wait_text(owner, "Bạn có đồng ý không?")
        # a week later (the process restarted meanwhile): one of them has not written since
        away_seen = "UPDATE users SET last_seen_at = datetime('now', '-8 days') WHERE external_id = ?"
        query(db, away_seen, away.user_id)
        with smebot_run(env) as proc:
            await serving(port, proc)
            database = await open_db(f"sqlite+aiosqlite:///{db}")
            try:
                await database.run(announce, [near.user_id, away.user_id])
            finally:
                await database.close()
            await wait_text(near, "Chương trình mới")
            report = await officer.wait_for("Đã gửi xong thông báo #1", timeout=60)
            assert "Đã gửi: 1" in report["text"] and "bỏ qua: 1" in report["text"]  # the held one left out
        assert not any("Chương trình mới" in t for t in texts(away))
    rows = query(db, "SELECT external_id, status FROM broadcast_recipients ORDER BY external_id")
    assert rows == [(near.user_id, "sent"), (away.user_id, "held")]


def announce(s: Session, external_ids: list[str]) -> int:
    """An officer's broadcast to these OA followers, as /broadcast writes it."""
    users = [u for key in external_ids if (u := users_store.user_by_key(s, f"zalo_oa:{key}")) is not None]
    return broadcasts.create(
        s,
        programme_id="hn-2026",
        agency_id="so-tai-chinh-ha-noi",
        officer_key="telegram:900",
        texts={"vi": "Chương trình mới: hỗ trợ chuyển đổi số. Gõ /unsubscribe để dừng nhận tin."},
        audience={},
        recipients=users,
    )
