"""The Zalo OA client, token manager and webhook helpers against the protocol-faithful fake, over real HTTP on
127.0.0.1 (no mocks; the fake's clock moves instead of waiting)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web

from bot.channels.zalo_oa import (
    SIGNATURE_HEADER,
    Button,
    JsonFileTokenStore,
    MemoryTokenStore,
    OAEvent,
    PermanentError,
    RateLimited,
    RefreshTokenLost,
    TokenManager,
    TokenPair,
    TokenRefreshNeeded,
    TransientError,
    Window,
    WindowClosed,
    ZaloOAClient,
    parse_event,
    signature,
    verify_signature,
    window_at,
)
from tests.fakes.zalo_oa import FakeZaloOA

ROOT = Path(__file__).resolve().parents[1]
HOUR = 3600.0
DAY = 24 * HOUR


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloOA]:
    async with FakeZaloOA() as server:
        yield server


def first_pair(fake: FakeZaloOA) -> TokenPair:
    access, refresh, ttl = fake.issue_tokens()
    now = fake.now()
    return TokenPair(access, refresh, now + ttl, now + 90 * DAY)


def manager(fake: FakeZaloOA, store: MemoryTokenStore | JsonFileTokenStore) -> TokenManager:
    return TokenManager(
        store, app_id=fake.app_id, app_secret=fake.app_secret, oauth_base_url=fake.base_url, clock=fake.now
    )


@pytest.fixture
async def store(fake: FakeZaloOA) -> MemoryTokenStore:
    return MemoryTokenStore(first_pair(fake))


@pytest.fixture
async def oa(fake: FakeZaloOA, store: MemoryTokenStore) -> AsyncIterator[ZaloOAClient]:
    async with ZaloOAClient(manager(fake, store), base_url=fake.base_url, request_timeout=2.0) as client:
        yield client


# -- sending ---------------------------------------------------------------------------------------------


async def test_text_to_a_user_who_wrote(fake: FakeZaloOA, oa: ZaloOAClient) -> None:
    owner = fake.user()
    await owner.send_text("Xin chào")
    [message_id] = await oa.send_text(owner.user_id, "Chào anh/chị, tôi là trợ lý tự động.")
    [sent] = owner.received()
    assert (sent.kind, sent.text, sent.message_id, sent.charged) == (
        "text",
        "Chào anh/chị, tôi là trợ lý tự động.",
        message_id,
        False,
    )
    path, body = fake.calls[-1]
    assert path == "/v3.0/oa/message/cs" and body["recipient"] == {"user_id": owner.user_id}


async def test_a_long_text_is_split_at_line_breaks(fake: FakeZaloOA, oa: ZaloOAClient) -> None:
    owner = fake.user()
    await owner.send_text("hi")
    lines = [
        f"Mục {i}: chi phí thuê tư vấn, hỗ trợ tối đa 50% và không quá 100 triệu đồng" for i in range(80)
    ]
    ids = await oa.send_text(owner.user_id, "\n".join(lines))
    received = owner.received()
    assert len(ids) == len(received) >= 3 and all(len(m.text or "") <= 2000 for m in received)
    assert [line for m in received for line in (m.text or "").split("\n")] == lines


async def test_buttons_within_the_limit_go_as_a_template(fake: FakeZaloOA, oa: ZaloOAClient) -> None:
    owner = fake.user()
    await owner.follow()
    choices = [Button("Siêu nhỏ", "size:micro"), Button("Nhỏ", "size:small"), Button("Vừa", "size:medium")]
    await oa.send_buttons(owner.user_id, "Doanh nghiệp của bạn thuộc quy mô nào?", choices)
    [sent] = owner.received()
    assert sent.kind == "buttons" and sent.text == "Doanh nghiệp của bạn thuộc quy mô nào?"
    assert sent.buttons == (
        ("Siêu nhỏ", "oa.query.hide", "size:micro"),
        ("Nhỏ", "oa.query.hide", "size:small"),
        ("Vừa", "oa.query.hide", "size:medium"),
    )


@pytest.mark.parametrize(
    ("lang", "hint"),
    [
        ("vi", "Gõ số của lựa chọn bạn muốn, ví dụ: 1."),
        ("en", "Type the number of your choice, for example: 1."),
    ],
)
async def test_more_buttons_than_the_platform_takes_become_a_numbered_list(
    fake: FakeZaloOA, oa: ZaloOAClient, lang: str, hint: str
) -> None:
    owner = fake.user()
    await owner.send_text("hi")
    choices = [Button(f"Tỉnh {i}", f"province:{i}") for i in range(1, oa.max_buttons + 2)]
    await oa.send_buttons(owner.user_id, "Tỉnh nào?", choices, lang=lang)
    [sent] = owner.received()
    assert sent.kind == "text" and sent.buttons == ()
    assert (sent.text or "").split("\n") == ["Tỉnh nào?", *[f"{i}. Tỉnh {i}" for i in range(1, 7)], hint]


async def test_the_platform_refuses_more_buttons_than_it_takes(fake: FakeZaloOA, oa: ZaloOAClient) -> None:
    owner = fake.user()
    await owner.send_text("hi")
    buttons = [
        {"title": f"b{i}", "type": "oa.query.hide", "payload": f"p{i}"} for i in range(fake.max_buttons + 1)
    ]
    message = {"text": "t", "attachment": {"type": "template", "payload": {"buttons": buttons}}}
    with pytest.raises(PermanentError) as info:
        await oa.send_message(owner.user_id, message)
    assert info.value.code == -201 and owner.received() == []


async def test_a_file_is_uploaded_then_sent(fake: FakeZaloOA, oa: ZaloOAClient) -> None:
    owner = fake.user()
    await owner.send_text("hi")
    await oa.send_file(owner.user_id, b"%PDF-1.7 dossier", "ho-so-HT-0001.pdf")
    [sent] = owner.received()
    assert (sent.kind, sent.file_name) == ("file", "ho-so-HT-0001.pdf")
    assert [path for path, _ in fake.calls] == [
        "/v2.0/oa/upload/file",
        "/v3.0/oa/message/cs",
    ]
    with pytest.raises(PermanentError) as info:
        await oa.send_file(owner.user_id, b"MZ", "virus.exe", "application/octet-stream")
    assert info.value.code == -201


async def test_images_by_url_and_by_upload_go_as_a_media_template(fake: FakeZaloOA, oa: ZaloOAClient) -> None:
    owner = fake.user()
    await owner.send_text("hi")
    await oa.send_image(owner.user_id, url="https://example.invalid/bieu-do.png")
    attachment = await oa.upload_image(b"\x89PNG\r\n\x1a\n....", "bieu-do.png")
    await oa.send_image(owner.user_id, attachment_id=attachment, text="Biểu đồ")
    by_url, by_upload = owner.received()
    assert (by_url.kind, by_url.image) == ("image", "https://example.invalid/bieu-do.png")
    assert (by_upload.image, by_upload.text) == (attachment, "Biểu đồ")
    with pytest.raises(ValueError):
        await oa.send_image(owner.user_id)


# -- the interaction window --------------------------------------------------------------------------------


def test_the_window_rule() -> None:
    now = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    assert window_at(now - timedelta(hours=47, minutes=59), now) is Window.FREE
    assert window_at(now - timedelta(hours=48), now) is Window.FREE
    assert window_at(now - timedelta(hours=48, seconds=1), now) is Window.ALLOWED
    assert window_at(now - timedelta(days=7), now) is Window.ALLOWED
    assert window_at(now - timedelta(days=7, seconds=1), now) is Window.TEMPLATE_ONLY
    assert window_at(None, now) is Window.TEMPLATE_ONLY
    assert window_at(now - timedelta(hours=30), now, free=timedelta(hours=24)) is Window.ALLOWED


async def test_the_platform_keeps_the_windows(fake: FakeZaloOA, oa: ZaloOAClient) -> None:
    owner = fake.user()
    await owner.send_text("hi")
    fake.advance(49 * HOUR)  # past 48 h: allowed, charged
    await oa.send_text(owner.user_id, "nhắc hồ sơ")
    fake.advance(6 * DAY)  # past 7 days: only a template
    with pytest.raises(WindowClosed) as info:
        await oa.send_text(owner.user_id, "nhắc lần hai")
    assert info.value.code == -230
    await owner.send_text("tôi đây")  # the owner writes again: free again
    await oa.send_text(owner.user_id, "cảm ơn")
    assert [(m.text, m.charged) for m in owner.received()] == [("nhắc hồ sơ", True), ("cảm ơn", False)]
    with pytest.raises(WindowClosed) as info:
        await oa.send_text(fake.user().user_id, "chưa từng nhắn")
    assert info.value.code == -232


async def test_an_unfollowed_user_is_refused(fake: FakeZaloOA, oa: ZaloOAClient) -> None:
    owner = fake.user()
    await owner.follow()
    await owner.unfollow()
    with pytest.raises(PermanentError) as info:
        await oa.send_text(owner.user_id, "x")
    assert info.value.code == -213


# -- errors ----------------------------------------------------------------------------------------------


async def test_the_rate_limit_is_signalled_with_a_back_off() -> None:
    async with FakeZaloOA(quota_per_minute=3) as fake:
        store = MemoryTokenStore(first_pair(fake))
        async with ZaloOAClient(manager(fake, store), base_url=fake.base_url, rate_limit_backoff=12.5) as oa:
            owner = fake.user()
            await owner.send_text("hi")
            for _ in range(3):
                await oa.send_text(owner.user_id, "ok")
            with pytest.raises(RateLimited) as info:
                await oa.send_text(owner.user_id, "one too many")
            assert (info.value.code, info.value.retry_after) == (-32, 12.5)
            assert isinstance(info.value, TransientError)
            fake.advance(61)  # the minute has passed
            await oa.send_text(owner.user_id, "again")
            assert [m.text for m in owner.received()] == ["ok", "ok", "ok", "again"]


async def test_5xx_and_timeouts_are_transient(fake: FakeZaloOA, oa: ZaloOAClient) -> None:
    owner = fake.user()
    await owner.send_text("hi")
    fake.inject("/v3.0/oa/message/cs", status=502)
    with pytest.raises(TransientError) as info:
        await oa.send_text(owner.user_id, "x")
    assert info.value.code == 502
    oa.request_timeout = 0.2
    fake.inject("/v3.0/oa/message/cs", delay=1.0)
    with pytest.raises(TransientError, match="timed out"):
        await oa.send_text(owner.user_id, "x")


# -- tokens ----------------------------------------------------------------------------------------------


async def test_refresh_ahead_of_expiry_rotates_the_pair_and_the_old_refresh_token_is_refused(
    fake: FakeZaloOA, oa: ZaloOAClient, store: MemoryTokenStore
) -> None:
    owner = fake.user()
    await owner.send_text("hi")
    old = await store.load()
    assert old is not None
    fake.advance(24.5 * HOUR)  # half an hour before the 25 h expiry: inside refresh_ahead (1 h)
    await oa.send_text(owner.user_id, "sau 24 giờ")
    new = await store.load()
    assert new is not None and new.access_token != old.access_token and new.refresh_token != old.refresh_token
    assert (store.saves, oa.tokens.refreshes, fake.refresh_count) == (1, 1, 1)
    # another process holding the spent pair: its refresh token is refused, an alert and not a crash
    stale = manager(
        fake, MemoryTokenStore(TokenPair(old.access_token, old.refresh_token, 0.0, old.refresh_expires_at))
    )
    with pytest.raises(RefreshTokenLost) as info:
        await stale.access_token()
    assert info.value.code == -14014 and fake.refusals == [old.refresh_token]
    with pytest.raises(RefreshTokenLost, match="refused"):  # raised again, without asking the platform again
        await stale.access_token()
    assert fake.refusals == [old.refresh_token]
    await stale.close()
    assert [m.text for m in owner.received()] == ["sau 24 giờ"]


async def test_expiry_mid_call_refreshes_and_retries_once(fake: FakeZaloOA, oa: ZaloOAClient) -> None:
    owner = fake.user()
    await owner.send_text("hi")
    fake.expire_access_tokens()  # expired although the manager believes it has 25 h left
    await oa.send_text(owner.user_id, "vẫn tới nơi")
    assert [m.text for m in owner.received()] == ["vẫn tới nơi"]
    assert [path for path, _ in fake.calls] == [
        "/v3.0/oa/message/cs",
        "/v4/oa/access_token",
        "/v3.0/oa/message/cs",
    ]
    assert fake.refresh_count == 1


async def test_a_fresh_token_refused_too_raises_after_one_retry(fake: FakeZaloOA, oa: ZaloOAClient) -> None:
    owner = fake.user()
    await owner.send_text("hi")
    fake.inject("/v3.0/oa/message/cs", error=-216, times=2)
    with pytest.raises(TokenRefreshNeeded) as info:
        await oa.send_text(owner.user_id, "x")
    assert info.value.code == -216 and fake.refresh_count == 1 and owner.received() == []


async def test_many_senders_at_expiry_share_one_refresh(fake: FakeZaloOA, oa: ZaloOAClient) -> None:
    users = [fake.user() for _ in range(10)]
    for user in users:
        await user.send_text("hi")
    fake.advance(25 * HOUR)
    await asyncio.gather(*(oa.send_text(user.user_id, "cùng lúc") for user in users))
    assert fake.refresh_count == 1 and fake.refusals == []
    assert all(len(user.received()) == 1 for user in users)


async def test_no_pair_or_an_expired_refresh_token_is_an_alert(fake: FakeZaloOA) -> None:
    empty = manager(fake, MemoryTokenStore())
    with pytest.raises(RefreshTokenLost, match="authorise"):
        await empty.access_token()
    await empty.close()
    pair = first_pair(fake)
    fake.advance(91 * DAY)
    old = manager(fake, MemoryTokenStore(pair))
    with pytest.raises(RefreshTokenLost, match="expired"):
        await old.access_token()
    await old.close()
    assert fake.calls == []  # known to be dead: the endpoint was not asked


async def test_a_network_failure_while_refreshing_is_transient_and_keeps_the_pair(
    fake: FakeZaloOA, store: MemoryTokenStore
) -> None:
    before = await store.load()
    tokens = manager(fake, store)
    tokens.request_timeout = 0.2
    fake.inject("/v4/oa/access_token", delay=1.0)
    with pytest.raises(TransientError):
        await tokens.refresh(stale=before.access_token if before else None)
    fake.inject("/v4/oa/access_token", status=503)
    with pytest.raises(TransientError):
        await tokens.refresh(stale=before.access_token if before else None)
    assert await store.load() == before and store.saves == 0
    await tokens.close()


async def test_authorize_with_a_single_use_code(fake: FakeZaloOA) -> None:
    store = MemoryTokenStore()
    tokens = manager(fake, store)
    code = fake.authorization_code()
    pair = await tokens.authorize(code, "v" * 43)
    assert await store.load() == pair and await tokens.access_token() == pair.access_token
    with pytest.raises(RefreshTokenLost):
        await tokens.authorize(code)
    await tokens.close()


async def test_the_json_file_store_writes_atomically(tmp_path: Path, fake: FakeZaloOA) -> None:
    path = tmp_path / "zalo" / "oa-tokens.json"
    store = JsonFileTokenStore(path)
    assert await store.load() is None
    pair = first_pair(fake)
    await store.save(pair)
    assert await store.load() == pair
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["oa-tokens.json"]
    path.write_text("{not json", encoding="utf-8")  # damaged by hand: no pair, so an alert
    with pytest.raises(RefreshTokenLost):
        await manager(fake, store).access_token()


async def test_two_managers_on_one_file_refresh_once(tmp_path: Path, fake: FakeZaloOA) -> None:
    path = tmp_path / "oa-tokens.json"
    await JsonFileTokenStore(path).save(first_pair(fake))
    fake.advance(25 * HOUR)
    first, second = manager(fake, JsonFileTokenStore(path)), manager(fake, JsonFileTokenStore(path))
    tokens = await asyncio.gather(first.access_token(), second.access_token())
    assert tokens[0] == tokens[1] and fake.refresh_count == 1 and fake.refusals == []
    assert first.refreshes + second.refreshes == 1
    await first.close()
    await second.close()


_CHILD = """
import asyncio, sys, time
from bot.channels.zalo_oa import JsonFileTokenStore, TokenManager

async def main() -> None:
    path, base, app_id, secret, offset = sys.argv[1:6]
    store = JsonFileTokenStore(path)
    clock = lambda: time.time() + float(offset)
    tokens = TokenManager(store, app_id=app_id, app_secret=secret, oauth_base_url=base, clock=clock)
    print(await tokens.access_token(), tokens.refreshes, flush=True)
    await tokens.close()

asyncio.run(main())
"""


async def test_processes_sharing_the_file_refresh_once(tmp_path: Path, fake: FakeZaloOA) -> None:
    path = tmp_path / "oa-tokens.json"
    await JsonFileTokenStore(path).save(first_pair(fake))
    fake.advance(25 * HOUR)
    args = [str(path), fake.base_url, fake.app_id, fake.app_secret, str(fake._offset)]
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", _CHILD, *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE
        )
        for _ in range(3)
    ]
    outputs = [(await child.communicate())[0].decode().split() for child in children]
    assert all(child.returncode == 0 for child in children)
    assert len({token for token, _ in outputs}) == 1 and sorted(n for _, n in outputs) == ["0", "0", "1"]
    assert fake.refresh_count == 1 and fake.refusals == []


# -- webhook ---------------------------------------------------------------------------------------------


class _Receiver:
    """A webhook endpoint as smebot will serve it: signature checked (403 and nothing kept otherwise),
    events kept by key (a redelivery once); fails on demand."""

    def __init__(self, app_id: str, secret: str) -> None:
        self.app_id = app_id
        self.secret = secret
        self.inbox: dict[str, OAEvent] = {}
        self.refused = 0
        self.duplicates = 0
        self.fail_next = 0
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if not verify_signature(
            raw, request.headers.get(SIGNATURE_HEADER), app_id=self.app_id, secret=self.secret
        ):
            self.refused += 1
            return web.Response(status=403)
        if self.fail_next:
            self.fail_next -= 1
            return web.Response(status=500)
        event = parse_event(raw)
        if event.key in self.inbox:
            self.duplicates += 1
        self.inbox.setdefault(event.key, event)
        return web.Response(text="ok")

    async def __aenter__(self) -> _Receiver:
        app = web.Application()
        app.router.add_post("/zalo-oa", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/zalo-oa"


async def test_signed_events_of_every_kind_are_accepted_and_parsed(fake: FakeZaloOA) -> None:
    async with _Receiver(fake.app_id, fake.oa_secret) as receiver:
        fake.set_webhook(receiver.url)
        owner = fake.user("9223372036854775807")  # far above 2^53
        await owner.follow()
        await owner.send_text("Xin chào")
        await owner.press("size:micro")
        await owner.send_image("https://example.invalid/a.jpg")
        await owner.send_file("https://example.invalid/f.pdf", "bao-cao.pdf", 2048)
        await owner.submit_info(name="Nguyễn Văn An", phone="0912345678", address="Xã Tân Phú")
        await owner.unfollow()
        await fake.wait_until(lambda: len(receiver.inbox) == 7)
        events = list(receiver.inbox.values())
        assert [e.event for e in events] == [
            "follow",
            "user_send_text",
            "user_send_text",
            "user_send_image",
            "user_send_file",
            "user_submit_info",
            "unfollow",
        ]
        assert {e.user_id for e in events} == {"9223372036854775807"} and receiver.refused == 0
        assert {e.oa_id for e in events} == {fake.oa_id} and {e.app_id for e in events} == {fake.app_id}
        follow, text, press, image, file, info, unfollow = events
        assert (text.text, press.text) == ("Xin chào", "size:micro")
        assert text.msg_id is not None and text.key == text.msg_id
        assert follow.key == f"follow:9223372036854775807:{follow.timestamp_ms}" and follow.msg_id is None
        assert (image.attachments[0].kind, image.attachments[0].url) == (
            "image",
            "https://example.invalid/a.jpg",
        )
        assert (file.attachments[0].name, file.attachments[0].size) == ("bao-cao.pdf", "2048")
        assert info.info == {"name": "Nguyễn Văn An", "phone": "0912345678", "address": "Xã Tân Phú"}
        assert unfollow.key.startswith("unfollow:9223372036854775807:")


async def test_a_bad_signature_is_refused_and_changes_nothing(fake: FakeZaloOA) -> None:
    async with _Receiver(fake.app_id, fake.oa_secret) as receiver:
        fake.set_webhook(receiver.url)
        fake.corrupt_signatures(1)
        await fake.user().send_text("giả mạo")
        await fake.wait_until(lambda: len(fake.undelivered) == 1)
        assert receiver.inbox == {} and receiver.refused == len(fake.webhook_retry_delays) + 1
        await fake.user().send_text("thật")
        await fake.wait_until(lambda: len(receiver.inbox) == 1)
        assert [e.text for e in receiver.inbox.values()] == ["thật"]


async def test_unacknowledged_events_are_retried_and_a_redelivery_is_kept_once(fake: FakeZaloOA) -> None:
    async with _Receiver(fake.app_id, fake.oa_secret) as receiver:
        receiver.fail_next = 2
        fake.set_webhook(receiver.url)
        body = await fake.user().send_text("một lần thôi")
        await fake.wait_until(lambda: len(receiver.inbox) == 1)
        assert [a.status for a in fake.webhook_attempts] == [500, 500, 200]
        fake.deliver_twice(body)
        await fake.wait_until(lambda: receiver.duplicates == 1)
        assert len(receiver.inbox) == 1


async def test_which_secret_signs_is_configurable() -> None:
    async with (
        FakeZaloOA(sign_with="app_secret") as fake,
        _Receiver(fake.app_id, fake.app_secret) as receiver,
    ):
        fake.set_webhook(receiver.url)
        await fake.user().send_text("ký bằng khóa ứng dụng")
        await fake.wait_until(lambda: len(receiver.inbox) == 1)
        raw = fake.events[0]
        timestamp = json.loads(raw)["timestamp"]
        header = fake.webhook_attempts[0].signature
        assert not verify_signature(raw, header, app_id=fake.app_id, secret=fake.oa_secret)
        assert header == "mac=" + signature(fake.app_id, raw, timestamp, fake.app_secret)


def test_signature_verification_rules() -> None:
    raw = (
        b'{"app_id":"1","event_name":"user_send_text","sender":{"id":"9007199254740993"},'
        b'"timestamp":"1765000000000"}'
    )
    good = signature("1", raw, "1765000000000", "k")
    assert verify_signature(raw, f"mac={good}", app_id="1", secret="k")
    assert verify_signature(raw, good.upper(), app_id="1", secret="k")  # no prefix, other case
    assert not verify_signature(raw, None, app_id="1", secret="k")
    assert not verify_signature(raw, "mac=", app_id="1", secret="k")
    assert not verify_signature(
        raw + b" ", f"mac={good}", app_id="1", secret="k"
    )  # the raw body, byte for byte
    assert not verify_signature(raw, f"mac={good}", app_id="2", secret="k")
    assert not verify_signature(raw, f"mac={good}", app_id="1", secret="other")
    assert not verify_signature(b"not json", f"mac={good}", app_id="1", secret="k")
    # a numeric timestamp is signed as it is written in the body
    numeric = raw.replace(b'"1765000000000"', b"1765000000000")
    assert verify_signature(numeric, signature("1", numeric, "1765000000000", "k"), app_id="1", secret="k")


def test_ids_as_json_numbers_stay_exact() -> None:
    raw = (
        b'{"app_id":3158297446413652112,"event_name":"user_send_text","sender":{"id":9007199254740993123},'
        b'"recipient":{"id":4410987654321098765},"message":{"msg_id":"m1","text":"1"},"timestamp":1765000000000}'
    )
    event = parse_event(raw)
    assert (event.user_id, event.oa_id, event.app_id, event.timestamp_ms) == (
        "9007199254740993123",
        "4410987654321098765",
        "3158297446413652112",
        "1765000000000",
    )
    with pytest.raises(ValueError):
        parse_event(b'{"event_name":"user_send_text","timestamp":"1"}')


def test_the_oas_own_messages_and_receipts_name_the_user_as_recipient() -> None:
    for name in ("oa_send_text", "user_seen_message"):
        raw = json.dumps(
            {
                "app_id": "3158297446413652112",
                "event_name": name,
                "sender": {"id": "4410987654321098765"},
                "recipient": {"id": "9007199254740993123"},
                "message": {"msg_id": "m9"},
                "timestamp": "1765000000000",
            }
        ).encode()
        event = parse_event(raw)
        assert (event.user_id, event.oa_id, event.key) == ("9007199254740993123", "4410987654321098765", "m9")


async def test_no_buttons_is_plain_text(fake: FakeZaloOA, oa: ZaloOAClient) -> None:
    owner = fake.user()
    await owner.send_text("hi")
    await oa.send_buttons(owner.user_id, "Cảm ơn anh/chị.", [])
    assert [(m.kind, m.text) for m in owner.received()] == [("text", "Cảm ơn anh/chị.")]


# -- by hand -----------------------------------------------------------------------------------------------


async def _read_until(stream: asyncio.StreamReader, needle: str, timeout: float = 10) -> str:
    seen = ""
    async with asyncio.timeout(timeout):
        while needle not in seen:
            line = await stream.readline()
            if not line:
                raise AssertionError(f"{needle!r} never printed; got {seen!r}")
            seen += line.decode()
    return seen


async def test_the_fake_runs_by_hand() -> None:
    defaults = FakeZaloOA()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    async with _Receiver(defaults.app_id, defaults.oa_secret) as receiver:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.fakes.zalo_oa",
            "--port",
            str(port),
            "--webhook",
            receiver.url,
            "--user-id",
            "8999999999999999999",
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdin is not None and process.stdout is not None
        try:
            banner = await _read_until(process.stdout, "you are user")
            values = dict(
                line.rsplit(" ", 1) for line in banner.splitlines() if line.startswith(("access", "refresh"))
            )
            process.stdin.write("follow\nXin chào\n".encode())
            await process.stdin.drain()
            async with asyncio.timeout(5):
                while len(receiver.inbox) < 2:
                    await asyncio.sleep(0.02)
            assert [(e.event, e.user_id) for e in receiver.inbox.values()] == [
                ("follow", "8999999999999999999"),
                ("user_send_text", "8999999999999999999"),
            ]
            base = f"http://127.0.0.1:{port}"
            pair = TokenPair(values["access token"], values["refresh token"], 2e9, 2e9)
            tokens = TokenManager(
                MemoryTokenStore(pair),
                app_id=defaults.app_id,
                app_secret=defaults.app_secret,
                oauth_base_url=base,
            )
            async with ZaloOAClient(tokens, base_url=base) as oa:
                await oa.send_text("8999999999999999999", "Chào anh/chị!")
            assert "<OA> [text] Chào anh/chị!" in await _read_until(process.stdout, "Chào anh/chị!")
            process.stdin.write(b"quit\n")
            await process.stdin.drain()
            assert await asyncio.wait_for(process.wait(), 10) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
