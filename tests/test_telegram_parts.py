"""Pieces of the Telegram channel that need no network: keyboards, URLs, the rate limiter."""

from __future__ import annotations

import pytest

from bot.channels.telegram import CALLBACK_LIMIT, api_urls, keyboard, message_text, sender_of
from bot.pipeline.delivery import TokenBucket, backoff
from rules.catalogue import default_catalogue


def test_api_urls_accept_the_base_with_or_without_bot() -> None:
    assert api_urls(None) == ("https://api.telegram.org/bot", "https://api.telegram.org/file/bot")
    assert api_urls("http://127.0.0.1:8081/bot") == (
        "http://127.0.0.1:8081/bot",
        "http://127.0.0.1:8081/file/bot",
    )
    assert api_urls("http://127.0.0.1:8081/") == (
        "http://127.0.0.1:8081/bot",
        "http://127.0.0.1:8081/file/bot",
    )


def test_keyboard_one_button_a_row_and_pages_side_by_side() -> None:
    markup = keyboard([["a", "1. A"], ["b", "2. B"], ["_page:prev", "◀"], ["_page:next", "▶"]])
    assert markup is not None
    rows = markup.inline_keyboard
    assert [[b.callback_data for b in row] for row in rows] == [["a"], ["b"], ["_page:prev", "_page:next"]]
    assert keyboard([]) is None


def test_callback_data_over_64_bytes_is_refused() -> None:
    with pytest.raises(ValueError):
        keyboard([["x" * (CALLBACK_LIMIT + 1), "too long"]])


def test_every_support_choice_fits_in_callback_data() -> None:
    for family in default_catalogue().families():
        assert len(family.encode()) <= CALLBACK_LIMIT
        assert len(f"edit:cost:{family}".encode()) <= CALLBACK_LIMIT
    assert len(b"/approve HS-2026-000123 @v12") <= CALLBACK_LIMIT


def test_long_labels_are_listed_in_the_text() -> None:
    long = "Tư vấn cho doanh nghiệp nhỏ do phụ nữ làm chủ, doanh nghiệp nhỏ sử dụng nhiều lao động nữ"
    text = message_text({"buttons": [["III.A", f"1. {long}"], ["_done", "Xong"]]}, "Chọn:")
    assert long in text and "Xong" not in text.split("\n\n", 1)[1]
    markup = keyboard([["III.A", f"1. {long}"]])
    assert markup is not None and len(markup.inline_keyboard[0][0].text) <= 60


def test_sender_of_message_and_callback() -> None:
    assert sender_of({"update_id": 1, "message": {"from": {"id": 42}}}) == "42"
    assert sender_of({"update_id": 2, "callback_query": {"from": {"id": 7}}}) == "7"
    assert sender_of({"update_id": 3}) is None


def test_token_bucket_allows_the_rate_and_no_more() -> None:
    now = [0.0]
    bucket = TokenBucket(30, clock=lambda: now[0])
    for _ in range(30):
        assert bucket.delay() == 0
        bucket.take()
    assert bucket.delay() == pytest.approx(1 / 30)
    now[0] += 1.0
    assert bucket.delay() == 0


def test_backoff_grows_and_is_capped() -> None:
    assert [backoff(n) for n in range(4)] == [0.5, 1.0, 2.0, 4.0]
    assert backoff(30) == 60.0
