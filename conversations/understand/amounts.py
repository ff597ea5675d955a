"""Reading amounts of money as owners write them ("khoang 300tr", "tam 2 ty ruoi"): through rules/money.py,
with the approximations and bounds people add."""

from __future__ import annotations

import re
from dataclasses import dataclass

from conversations.understand.numbers import BOUNDS, _strip_prefix
from conversations.understand.words import Invalid, _bare, _phrases, yes_no
from rules.money import MoneyError, parse_vnd
from rules.text import fold

NO_AMOUNT = _phrases(
    "chua co, chua, khong co, khong, ko, ko co, k co, none, no, nothing, no revenue, 0, 0 d, "
    "0 dong, chua co doanh thu, khong co doanh thu, ko co doanh thu, chua phat sinh, "
    "chua phat sinh doanh thu, not yet, nil, zero, khong dong, chua co dt, ko co dt, no revenue yet, "
    "none yet, nothing yet, no revenue at all, chua co dong nao"
)


_PLAIN_MONEY = re.compile(
    r"^[0-9][0-9.,]*\s*(?:ty|ti|trieu|tr|nghin|ngan|k|billion|million|thousand|m|bn)?\s*(?:vnd|dong|d)?$"
)


_RANGE_MONEY = re.compile(r"[0-9]\s*(?:-|–|den|to)\s*[0-9]")


@dataclass(frozen=True)
class Amount:
    vnd: int | None  # None: no amount yet ("chua co"), where that is an answer
    guessed: bool = False  # read from words ("tam 2 ty ruoi"): echoed back before it is kept


def read_money(text: str, *, none_ok: bool = False) -> Amount:
    """An amount of đồng: "2,5 ty", "150tr", "khoang 300tr", "tam 2 ty ruoi", "2.500.000.000 d";
    "chua co" gives None when ``none_ok``. Raises :class:`Invalid` (money.error.*, understand.money_*)."""
    bare = _bare(text)
    if none_ok and (bare in NO_AMOUNT or yes_no(text) is False):
        return Amount(None)
    if not none_ok and (bare in NO_AMOUNT or yes_no(text) is False):  # "chua co" where a figure is needed
        raise Invalid("understand.money_needed")
    words = bare.split()
    _, bound = _strip_prefix(words, BOUNDS)
    if bound is not None:
        raise Invalid("understand.money_bound", text=text.strip()[:60])
    if _RANGE_MONEY.search(fold(text)):
        raise Invalid("understand.money_range", text=text.strip()[:60])
    try:
        vnd = parse_vnd(text)
    except MoneyError as exc:
        raise Invalid(f"money.error.{exc.code}", text=text.strip()[:60]) from exc
    return Amount(vnd, guessed=not _PLAIN_MONEY.match(fold(text).strip()))
