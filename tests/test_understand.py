"""conversations.understand: the one reader of people's answers (issue 15.1), and the edge cleaning of
typed text (issue 13.11). Tables of what people type; properties over arbitrary Unicode."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations import engine, places, understand
from conversations.context import Context
from conversations.engine import Input, Invalid, State
from conversations.messages import Choice, Plain, say
from conversations.owner import firm, handler
from conversations.owner.journey import JOURNEY
from conversations.understand import (
    clean_text,
    nav_word,
    read_choice,
    read_choices,
    read_count,
    read_money,
    read_months,
    yes_no,
)
from conversations.validators import normalize_email, normalize_phone, normalize_tax_code
from rules.catalogue import default_catalogue
from rules.money import MoneyError, parse_vnd

ENTITIES = [Choice(key, say(f"entity_type.{key}")) for key, _ in firm.ENTITY_TYPES]
LINKAGE = [Choice(k, say(f"linkage.{k}")) for k in firm.LINKAGE]
STARTUP = [Choice(k, say(f"startup.{k}")) for k in firm.STARTUP_EVIDENCE]
SECTORS = firm._sector_choices(None)  # type: ignore[arg-type]
YES_NO = [Choice("yes", say("choice.yes")), Choice("no", say("choice.no"))]
PROVINCES = [Choice(str(c), Plain(n), (places.short_name(n),)) for c, n in places.provinces()]
HANOI_CODE = next(c for c, n in places.provinces() if n == "Thành phố Hà Nội")
HANOI_WARDS = [Choice(str(c), Plain(n), (places.short_name(n),)) for c, n in places.communes(HANOI_CODE)]


def label(choice: Choice) -> str:
    return choice.label.text if isinstance(choice.label, Plain) else choice.payload


CHOICES = [
    # (choices, typed, lang, expected payload, guessed)
    (ENTITIES, "tnhh 2 thanh vien", "vi", "llc2", True),
    (ENTITIES, "TNHH hai thành viên", "vi", "llc2", True),
    (ENTITIES, "tnhh 1 tv", "vi", "llc1", True),
    (ENTITIES, "cty tnhh mtv", "vi", "llc1", False),
    (ENTITIES, "cong ty co phan", "vi", "jsc", False),
    (ENTITIES, "cty cp", "vi", "jsc", False),
    (ENTITIES, "htx", "vi", "cooperative", False),
    (ENTITIES, "hkd", "vi", "household", False),
    (ENTITIES, "ho kinh doanh", "vi", "household", False),
    (ENTITIES, "dntn", "vi", "private", False),
    (ENTITIES, "2", "vi", "llc2", False),
    (ENTITIES, "số 3", "vi", "jsc", False),
    (ENTITIES, "3.", "vi", "jsc", False),
    (ENTITIES, "thu hai", "vi", "llc2", False),
    (ENTITIES, "cái thứ 2", "vi", "llc2", False),
    (ENTITIES, "cai dau", "vi", "llc1", False),
    (ENTITIES, "cuoi cung", "vi", ENTITIES[-1].payload, False),
    (ENTITIES, "first", "en", "llc1", False),
    (ENTITIES, "the second one", "en", "llc2", False),
    (ENTITIES, "household business", "en", "household", False),
    (ENTITIES, "joint stock", "en", "jsc", True),
    (SECTORS, "san xuat", "vi", "industry", False),
    (SECTORS, "cong nghiep che bien", "vi", "industry", True),
    (SECTORS, "buon ban", "vi", "trade", False),
    (SECTORS, "nha hang", "vi", "services", False),
    (LINKAGE, "cum lien ket nganh", "vi", "cluster", True),
    (LINKAGE, "chuoi gia tri", "vi", "value_chain", True),
    (LINKAGE, "ca hai", "vi", "both", False),
    (LINKAGE, "both", "en", "both", False),
    (LINKAGE, "ko", "vi", "none", False),
    (LINKAGE, "chua", "vi", "none", False),
    (LINKAGE, "khong tham gia", "vi", "none", False),
    (LINKAGE, "neither", "en", "none", False),
    (STARTUP, "chua co", "vi", "none", False),
    (STARTUP, "khong phai", "vi", "none", False),
    (YES_NO, "co roi", "vi", "yes", False),
    (YES_NO, "ko co", "vi", "no", False),
    (PROVINCES, "ha noi", "vi", str(HANOI_CODE), False),
    (PROVINCES, "hn", "vi", str(HANOI_CODE), False),
    (PROVINCES, "tp hcm", "vi", next(p.payload for p in PROVINCES if "Hồ Chí Minh" in label(p)), False),
    (
        PROVINCES,
        "ho chi minh city",
        "en",
        next(p.payload for p in PROVINCES if "Hồ Chí Minh" in label(p)),
        False,
    ),
    (PROVINCES, "saigon", "en", next(p.payload for p in PROVINCES if "Hồ Chí Minh" in label(p)), False),
    (PROVINCES, "quan tri", "vi", next(p.payload for p in PROVINCES if label(p) == "Quảng Trị"), True),
    (HANOI_WARDS, "hoan kiem", "vi", next(p.payload for p in HANOI_WARDS if "Hoàn Kiếm" in label(p)), False),
    (HANOI_WARDS, "hoan kim", "vi", next(p.payload for p in HANOI_WARDS if "Hoàn Kiếm" in label(p)), True),
]


@pytest.mark.parametrize(("choices", "typed", "lang", "payload", "guessed"), CHOICES)
def test_a_choice_is_read_from_what_people_type(
    choices: list[Choice], typed: str, lang: str, payload: str, guessed: bool
) -> None:
    picked = read_choice(choices, typed, lang)
    assert (picked.choice.payload, picked.guessed) == (payload, guessed)


@pytest.mark.parametrize(
    ("choices", "typed"),
    [
        (ENTITIES, "cong ty"),  # several fit: not a guess
        (ENTITIES, "abc"),
        (PROVINCES, "k"),  # a letter is not a province (it used to pick Khánh Hòa)
        (STARTUP, "co"),  # "có" what? several evidence choices start with it
        (HANOI_WARDS, "phuong"),
        (ENTITIES, ""),
    ],
)
def test_an_unclear_choice_is_refused(choices: list[Choice], typed: str) -> None:
    with pytest.raises(Invalid):
        read_choice(choices, typed, "vi")


def test_a_number_only_picks_what_is_on_the_page() -> None:
    assert read_choice(PROVINCES, "8", "vi", page=0).choice == PROVINCES[7]
    with pytest.raises(Invalid) as refused:
        read_choice(PROVINCES, "12", "vi", page=0)
    assert refused.value.msg.key == "understand.number_range"
    assert refused.value.msg.params == {"first": 1, "last": 8}
    assert read_choice(PROVINCES, "12", "vi", page=1).choice == PROVINCES[11]
    with pytest.raises(Invalid):
        read_choice(PROVINCES, "3", "vi", page=1)
    assert read_choice(PROVINCES, "thu nhat", "vi", page=1).choice == PROVINCES[8]  # first shown
    # a name works on any page: it is what is written, not a position
    assert read_choice(PROVINCES, "ha noi", "vi", page=3).choice.payload == str(HANOI_CODE)


MANY = [
    ("1, 2 va 3", [0, 1, 2]),
    ("1 2 3", [0, 1, 2]),
    ("1,3", [0, 2]),
    ("1-3", [0, 1, 2]),
    ("tu 2 den 4", [1, 2, 3]),
    ("1 and 4", [0, 3]),
    ("tat ca", list(range(len(ENTITIES)))),
    ("htx va hkd", [5, 6]),
    ("2", [1]),
]


@pytest.mark.parametrize(("typed", "positions"), MANY)
def test_several_picks(typed: str, positions: list[int]) -> None:
    assert read_choices(ENTITIES, typed, "vi") == [ENTITIES[i] for i in positions]


def test_both_picks_both_when_two_are_shown_and_numbers_stay_on_the_page() -> None:
    assert read_choices(YES_NO, "ca hai", "vi") == YES_NO
    with pytest.raises(Invalid):
        read_choices(ENTITIES, "ca hai", "vi")
    with pytest.raises(Invalid):
        read_choices(PROVINCES, "1 2 9", "vi")  # 9 is on the next page


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("co", True),
        ("Có ạ", True),
        ("co roi", True),
        ("roi", True),
        ("da co", True),
        ("vang", True),
        ("ok", True),
        ("yes", True),
        ("yep!", True),
        ("ko", False),
        ("k", False),
        ("khong co", False),
        ("chua", False),
        ("chua co", False),
        ("chưa có đâu", False),
        ("khong phai", False),
        ("no", False),
        ("not yet", False),
        ("nope", False),
        ("maybe", None),
        ("co le", None),
    ],
)
def test_yes_and_no_words(typed: str, expected: bool | None) -> None:
    assert yes_no(typed) is expected


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("8", 8),
        ("3 nguoi", 3),
        ("3 người", 3),
        ("12 lao dong", 12),
        ("khoang 12", 12),
        ("tầm 20 người", 20),
        ("co 5 nguoi", 5),
        ("tong cong 12 nguoi a", 12),
        ("1.200", 1200),
        ("ba nguoi", 3),
        ("muoi hai nguoi", 12),
        ("mười hai người", 12),
        ("hai muoi lam", 25),
        ("twenty five people", 25),
        ("two", 2),
        ("5 people", 5),
        ("khong co", 0),
        ("ko", 0),
        ("chua co ai", 0),
        ("none", 0),
        ("１２", 12),  # full-width digits, as the edge leaves them after NFKC
    ],
)
def test_counts(typed: str, value: int) -> None:
    assert read_count(clean_text(typed)).value == value


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("-3", "error.count_negative"),
        ("nhieu lam", "error.count"),
        ("2,5", "error.count"),
        ("3-4 nguoi", "understand.count_bound"),
        ("tren 10", "understand.count_bound"),
        ("9" * 40, "understand.too_long"),
        ("²", "error.count"),  # not read by the parser itself: the edge turns it into "2"
        ("3 ty", "error.count"),
    ],
)
def test_counts_refused(typed: str, key: str) -> None:
    with pytest.raises(Invalid) as refused:
        read_count(typed)
    assert refused.value.msg.key == key


@pytest.mark.parametrize(
    ("typed", "months"),
    [
        ("8", 8),
        ("8 thang", 8),
        ("8 tháng rồi", 8),
        ("nua nam", 6),
        ("hoat dong duoc 7 thang", 7),
        ("khoang 10 thang", 10),
        ("5 nam roi", None),
        ("2 nam ruoi", None),
        ("tren 12 thang", None),
        ("trên 1 năm", None),
        ("1 nam 3 thang", None),
        ("12", None),
        ("36", None),
        ("12+", None),
        ("more than a year", None),
        ("3 years", None),
        ("Từ 12 tháng trở lên", None),  # the button, typed as shown
    ],
)
def test_months(typed: str, months: int | None) -> None:
    assert read_months(typed) == months


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("0", "error.months"),
        ("abc", "error.months"),
        ("duoi 1 nam", "understand.months_bound"),
        ("tren 6 thang", "understand.months_bound"),
        ("1" * 30, "understand.too_long"),
    ],
)
def test_months_refused(typed: str, key: str) -> None:
    with pytest.raises(Invalid) as refused:
        read_months(typed)
    assert refused.value.msg.key == key


@pytest.mark.parametrize(
    ("typed", "vnd", "guessed"),
    [
        ("150tr", 150_000_000, False),
        ("2,5 ty", 2_500_000_000, False),
        ("2.500.000.000 đ", 2_500_000_000, False),
        ("khoang 300tr", 300_000_000, True),
        ("tam 2 ty ruoi", 2_500_000_000, True),
        ("2 ty ruoi", 2_500_000_000, True),
        ("cỡ 300 củ", 300_000_000, True),
        ("about 1.5 billion", 1_500_000_000, True),
        ("1tr2", 1_200_000, True),
        ("500 trieu/nam", 500_000_000, True),
        ("15 trieu moi lan", 15_000_000, True),
        ("12tr/hoc vien", 12_000_000, True),
        ("chua co", None, False),
        ("ko co doanh thu", None, False),
        ("nope", None, False),
    ],
)
def test_money(typed: str, vnd: int | None, guessed: bool) -> None:
    amount = read_money(typed, none_ok=True)
    assert (amount.vnd, amount.guessed) == (vnd, guessed)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("tren 50 ty", "understand.money_bound"),
        ("duoi 3 ty", "understand.money_bound"),
        ("2-3 ty", "understand.money_range"),
        ("chua co", "understand.money_needed"),  # where "none" is not an answer
        ("500", "money.error.ambiguous"),
    ],
)
def test_money_refused(typed: str, key: str) -> None:
    with pytest.raises(Invalid) as refused:
        read_money(typed)
    assert refused.value.msg.key == key


@pytest.mark.parametrize(
    ("typed", "nav"),
    [
        ("Trang sau (2/5) ▶", "next"),
        ("trang sau", "next"),
        ("Next page (2/5) ▶", "next"),
        ("◀ Trang trước", "prev"),
        ("previous page", "prev"),
        ("Xong", "done"),
        ("xong roi", "done"),
        ("Bỏ qua", "skip"),
        ("skip", "skip"),
        ("tiep tuc", None),  # the size screen's "Tiếp tục", not a page
    ],
)
def test_buttons_typed_as_shown(typed: str, nav: str | None) -> None:
    assert nav_word(typed) == nav


def test_the_edge_removes_controls_and_bidi_and_normalises_digits() -> None:
    assert clean_text("Gốm\x01 Việt\x7f") == "Gốm Việt"
    assert clean_text("abc\u202edef\u2066x\u2069") == "abcdefx"
    assert clean_text("²①１２") == "2112"
    assert clean_text("a\tb\r\nc\u2028d") == "a b\nc\nd"
    assert clean_text("x\ud800y\ufeffz\u200b") == "xyz"
    assert len(clean_text("x" * 100_000)) == understand.MAX_TEXT
    assert Input(text="Gốm\x01").text == "Gốm"  # cleaned where every channel builds its input
    assert Input(payload="dossier:HS\u202e").payload == "dossier:HS"


# --- properties: arbitrary Unicode raises nothing but Invalid --------------------------------------

ANY_TEXT = st.text(alphabet=st.characters(codec=None), max_size=60) | st.text(
    alphabet=st.sampled_from("0123456789.,- ²①１٣tyrieuchngkm~khoangtamrouiđĐ"), max_size=30
)
READERS: list[Callable[[str], Any]] = [
    lambda s: read_choice(ENTITIES, s, "vi"),
    lambda s: read_choice(PROVINCES, s, "en", page=2),
    lambda s: read_choices(ENTITIES, s, "vi"),
    lambda s: read_choices(HANOI_WARDS, s, "vi", page=5),
    read_count,
    read_months,
    lambda s: read_money(s, none_ok=True),
    read_money,
]


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT, st.sampled_from(range(len(READERS))))
def test_readers_raise_nothing_but_invalid(text: str, which: int) -> None:
    for raw in (text, clean_text(text)):
        try:
            READERS[which](raw)
        except Invalid as refused:
            assert refused.msg.key
    assert yes_no(text) in (True, False, None)
    assert nav_word(text) in (None, "next", "prev", "skip", "done")


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_validators_and_money_parser_raise_nothing_unexpected(text: str) -> None:
    for raw in (text, clean_text(text)):
        for validate in (normalize_tax_code, normalize_phone, normalize_email):
            value = validate(raw)
            assert value is None or isinstance(value, str)
        try:
            assert isinstance(parse_vnd(raw), int)
        except MoneyError as refused:  # its documented refusal: the money step turns it into Invalid
            assert refused.code


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_clean_text_is_idempotent_and_leaves_no_controls(text: str) -> None:
    cleaned = clean_text(text)
    assert clean_text(cleaned) == cleaned
    assert all(ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cs") for ch in cleaned)
    assert not set(cleaned) & set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    cleaned.encode("utf-8")  # valid Unicode: no lone surrogate


#: Answers by question (a step name or its prefix); a question not listed gets the first of FALLBACK
#: that moves the journey on, so the walk follows the journey as it grows.
JOURNEY_ANSWERS = {
    "name": "Cong ty Thu",
    "tax_code": "0100109106",
    "entity_type": "2",
    "province": "ha noi",
    "commune": "hoan kim",  # a guess, echoed: the walk keeps the state that waits for "co"
    "address": "12 Hang Bac",
    "phone": "0912345678",
    "email": "bo qua",
    "sector": "dich vu",
    "workers": "5",
    "female_workers": "2",
    "revenue": "khoang 3 ty",
    "capital": "1 ty",
    "months": "12",
    "items": "1 xong",
    "cost": "tam 40 trieu",
    "qty": "2",
}
FALLBACK = ("1", "khong", "chua", "15/3/2024", "10 trieu", "co")


CTX = Context(today=dt.date(2026, 12, 1), catalogue=default_catalogue(), consented=True)


def journey_states() -> list[State]:
    """The owner journey stopped at each of its questions (a micro services firm in Hà Nội)."""
    state = handler.start_journey(State(), CTX).state
    states = [state]
    for _ in range(80):
        if state.cursor is None or state.flow is None:
            break
        known = JOURNEY_ANSWERS.get(state.cursor) or JOURNEY_ANSWERS.get(state.cursor.split(":")[0])
        for text in (known,) if known else FALLBACK:
            moved = handler.handle(state, Input(text=text), CTX).state
            if moved.cursor != state.cursor or moved.guess:
                break
        if moved.guess:  # an interpreted answer waits for its confirmation: a state of its own
            states.append(moved)
            moved = handler.handle(moved, Input(text="co"), CTX).state
        state = moved
        if state.cursor and state.cursor not in {s.cursor for s in states}:
            states.append(state)
    return states


STATES = journey_states()


def test_the_property_walks_the_whole_journey() -> None:
    cursors = [s.cursor for s in STATES]
    for step in ("name", "tax_code", "entity_type", "province", "commune", "workers", "revenue", "months"):
        assert step in cursors
    assert "items" in cursors and any(c and c.startswith("cost:") for c in cursors)
    assert {s.cursor for s in STATES if s.guess} >= {"commune", "revenue"}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(STATES), ANY_TEXT)
def test_every_question_of_the_journey_takes_any_text(state: State, text: str) -> None:
    """Whatever is typed at any question (or while a guess waits to be confirmed), the engine answers
    (an error line at worst), never raises."""
    outcome = handler.handle(state, Input(text=text), CTX)
    assert outcome.replies
    _, error = engine.answer(JOURNEY, state, CTX, Input(text=text))
    assert error is None or error.key


@pytest.mark.parametrize(
    ("check", "typed", "value"),
    [
        (normalize_tax_code, "MST: 0100109106", "0100109106"),
        (normalize_tax_code, "mã số thuế 0100 109 106", "0100109106"),
        (normalize_tax_code, "٠١٠٠١٠٩١٠٦", None),  # digits of another script are not stored as they are
        (normalize_phone, "sđt 0912 345 678", "0912345678"),
        (normalize_phone, "SDT: 0912.345.678", "0912345678"),
        (normalize_email, "email: Lienhe@GomViet.vn", "lienhe@gomviet.vn"),
    ],
)
def test_a_label_before_the_value_is_not_part_of_it(
    check: Callable[[str], str | None], typed: str, value: str | None
) -> None:
    assert check(typed) == value


@pytest.mark.parametrize(
    ("typed", "value"), [("ca 4 deu la nu", 4), ("tat ca", 4), ("het", 4), ("all of them", 4), ("2", 2)]
)
def test_all_of_them_is_everyone_where_the_question_is_how_many_of_them(typed: str, value: int) -> None:
    assert read_count(typed, everyone=4).value == value


def test_a_yes_to_a_question_with_several_kinds_of_yes_asks_which() -> None:
    with pytest.raises(Invalid) as refused:
        read_choice(LINKAGE, "co roi", "vi")
    assert refused.value.msg.key == "understand.which"


@pytest.mark.parametrize(
    ("typed", "declined"),
    [("khong co email", True), ("chua co", True), ("no email", True), ("a@b.vn", False), ("toi", False)],
)
def test_nothing_to_give_for_an_optional_question(typed: str, declined: bool) -> None:
    assert understand.declines(typed) is declined


@pytest.mark.parametrize("typed", ["None received", "Chưa nhận", "chua nhan"])
def test_a_button_of_a_money_question_typed_as_it_reads(typed: str) -> None:
    state = next(s for s in STATES if s.cursor and s.cursor.startswith("other:") and not s.guess)
    moved = handler.handle(state, Input(text=typed), CTX).state
    assert moved.cursor != state.cursor and moved.answers[state.cursor] is None


def test_skip_where_an_answer_is_needed_says_so() -> None:
    state = next(s for s in STATES if s.cursor == "workers")
    outcome = handler.handle(state, Input(text="bo qua"), CTX)
    assert outcome.state.cursor == "workers"
    assert outcome.replies[0].lines[0].key == "understand.required"  # type: ignore[union-attr]


def test_an_answer_quoted_back_in_an_error_is_short_issue_13_point_2() -> None:
    """A 4,000-character answer to a money question is not echoed whole (Telegram refused it as too long)."""
    from conversations.understand import Invalid
    from conversations.understand.words import QUOTE_LIMIT

    answer = "nhieu lam " * 400
    try:
        raise Invalid("money.error.not_a_number", text=answer)
    except Invalid as bad:
        shown = bad.msg.params["text"]
    assert len(shown) <= QUOTE_LIMIT and shown.endswith("…") and "\n" not in shown
