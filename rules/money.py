"""Money as owners type it: "2,5 tỷ", "500tr", "2.500.000.000 đ" -> an ``int`` of VND, and back.

Vietnamese conventions: "." groups thousands, "," marks decimals ("2,5 tỷ"); a single "." followed by
exactly three digits is a thousands separator ("1.200 triệu"), otherwise a decimal point ("2.5 tỷ").
Money is always an ``int`` of đồng; the arithmetic is done in ``Decimal``, never in floats.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from rules.text import fold

MAX_VND = 10**15

UNITS: dict[str, int] = {
    "ty": 10**9,
    "ti": 10**9,
    "billion": 10**9,
    "billions": 10**9,
    "bn": 10**9,
    "trieu": 10**6,
    "tr": 10**6,
    "million": 10**6,
    "millions": 10**6,
    "m": 10**6,
    "nghin": 10**3,
    "ngan": 10**3,
    "k": 10**3,
    "thousand": 10**3,
    # slang: "300 củ" (triệu), "2 tỏi" (tỷ)
    "cu": 10**6,
    "toi": 10**9,
}
CURRENCY_WORDS = ("vnd", "dong", "d")
HALF_WORDS = ("ruoi",)
#: "khoảng 300tr", "tầm 2 tỷ rưỡi", "about 2 billion": the owner's own estimate, read as the figure itself.
APPROX_WORDS = (
    "khoang",
    "tam",
    "chung",
    "co",
    "gan",
    "xap xi",
    "uoc tinh",
    "uoc",
    "around",
    "about",
    "approx",
    "approximately",
    "roughly",
    "nearly",
    "almost",
    "~",
    "≈",
)
#: Words after the figure that do not change it: "300tr thôi", "2 tỷ rưỡi rồi", "500 triệu/năm",
#: "15 triệu mỗi lần" (the questions ask a yearly amount or a cost per unit; never "per month").
TRAILING_WORDS = ("a", "thoi", "roi", "nhe", "nha", "approx", "approximately", "or so")
_PER_YEAR = re.compile(
    r"\s*(?:/|moi|mot|1|per|a|each|cho moi|cho 1)\s*(?:nam|year|lan|nguoi|hoc vien|khoa|san pham|hop dong|"
    r"don vi|time|person|trainee|course|product|contract|unit)$"
)
#: A number typed without a unit or currency word and below this is ambiguous ("500": 500 đồng or 500 triệu?).
UNITLESS_MINIMUM = 10_000

_TOKEN = re.compile(r"\s*(?:(\d[\d.,]*)|([a-z]+))")


@dataclass(frozen=True)
class MoneyError(ValueError):
    """Why a money text was refused; ``code`` is a locale key suffix (``money.error.<code>``)."""

    code: str
    text: str

    def __str__(self) -> str:
        return f"{self.code}: {self.text!r}"


def _number(raw: str, text: str) -> Decimal:
    dots, commas = raw.count("."), raw.count(",")
    body = raw.rstrip(".,")
    if body != raw:  # "2.500." : a trailing separator is noise
        dots, commas = body.count("."), body.count(",")
    try:
        if dots and commas:
            decimal_sep = "." if body.rfind(".") > body.rfind(",") else ","
            thousands_sep = "," if decimal_sep == "." else "."
            whole, frac = body.rsplit(decimal_sep, 1)
            _check_groups(whole, thousands_sep, text)
            return Decimal(whole.replace(thousands_sep, "") + "." + frac)
        if dots > 1 or commas > 1:
            sep = "." if dots else ","
            _check_groups(body, sep, text)
            return Decimal(body.replace(sep, ""))
        if dots == 1:
            whole, frac = body.split(".")
            if len(frac) == 3:
                return Decimal(whole + frac)
            return Decimal(whole + "." + frac)
        if commas == 1:
            whole, frac = body.split(",")
            if len(frac) == 3:  # "1,500": Vietnamese 1.5 or English 1500?
                raise MoneyError("ambiguous", text)
            return Decimal(whole + "." + frac)
        return Decimal(body)
    except InvalidOperation as exc:
        raise MoneyError("not_a_number", text) from exc


def _check_groups(number: str, sep: str, text: str) -> None:
    head, *groups = number.split(sep)
    if not head or len(head) > 3 or any(len(g) != 3 for g in groups):
        raise MoneyError("not_a_number", text)


def _without_approximation(folded: str) -> str:
    """ "khoang 300tr" -> "300tr"; "2 ty ruoi roi" -> "2 ty ruoi"; "500 trieu/nam" -> "500 trieu"."""
    changed = True
    while changed:
        changed = False
        for word in APPROX_WORDS:
            if folded.startswith(word) and (
                not word.isalpha() or len(folded) == len(word) or not folded[len(word)].isalpha()
            ):
                folded, changed = folded[len(word) :].strip(), True
                break
        for word in TRAILING_WORDS:
            if folded.endswith(" " + word):
                folded, changed = folded[: -len(word) - 1].strip(), True
                break
        per_year = _PER_YEAR.search(folded)
        if per_year and per_year.start() > 0:
            folded, changed = folded[: per_year.start()].strip(), True
    return folded


def parse_vnd(text: str) -> int:
    """Parse what an owner typed into whole đồng, or raise :class:`MoneyError`."""
    folded = fold(text).replace("_", " ")
    if not folded.strip():
        raise MoneyError("empty", text)
    stripped = _without_approximation(folded.strip())
    if not stripped:
        raise MoneyError("not_a_number", text)
    if stripped.startswith(("-", "am ")) or re.match(r"^am\d", stripped):
        raise MoneyError("negative", text)

    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(stripped):
        match = _TOKEN.match(stripped, pos)
        if match is None or match.end() == pos:
            raise MoneyError("not_a_number", text)
        number, word = match.groups()
        tokens.append(("num", number) if number else ("word", word))
        pos = match.end()

    currency = False
    while tokens and tokens[-1] == ("word", tokens[-1][1]) and tokens[-1][1] in CURRENCY_WORDS:
        currency = True
        tokens.pop()
    if not tokens:
        raise MoneyError("not_a_number", text)

    total = Decimal(0)
    last_unit: int | None = None
    saw_unit = False
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "word":
            if value in HALF_WORDS and last_unit is not None:
                total += Decimal(last_unit) / 2
                i += 1
                continue
            raise MoneyError("not_a_number", text)
        amount = _number(value, text)
        unit: int | None = None
        if i + 1 < len(tokens) and tokens[i + 1][0] == "word" and tokens[i + 1][1] in UNITS:
            unit = UNITS[tokens[i + 1][1]]
            i += 1
        i += 1
        if unit is None:
            if last_unit is None:
                if i < len(tokens):
                    raise MoneyError("not_a_number", text)
                total += amount
                continue
            # "2 tỷ 5" = 2,5 tỷ; "2 tỷ 500" = 2 tỷ 500 triệu; anything else after a unit is ambiguous.
            digits = value.strip(".,")
            if not digits.isdigit() or len(digits) not in (1, 3) or last_unit < 1000:
                raise MoneyError("ambiguous", text)
            total += amount * Decimal(last_unit) / (10 if len(digits) == 1 else 1000)
            if i < len(tokens):
                raise MoneyError("ambiguous", text)
            continue
        if last_unit is not None and unit >= last_unit:
            raise MoneyError("ambiguous", text)
        last_unit = unit
        saw_unit = True
        total += amount * unit

    if not saw_unit and not currency and total < UNITLESS_MINIMUM:
        raise MoneyError("ambiguous", text)
    if total != total.to_integral_value():
        raise MoneyError("fraction", text)
    if total > MAX_VND:
        raise MoneyError("too_large", text)
    return int(total)


def _group_thousands(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def format_vnd_full(vnd: int) -> str:
    """120600000 -> "120.600.000 đ"."""
    return f"{_group_thousands(vnd)} đ"


_SHORT_UNITS = ((10**9, "tỷ", "billion"), (10**6, "triệu", "million"))


def format_vnd(vnd: int, lang: str = "vi") -> str:
    """2500000000 -> "2,5 tỷ đồng"; 120600000 -> "120,6 triệu đồng"; otherwise the full form.

    The short form is used only when it is exact with at most two decimals, so parsing it back gives
    the same number.
    """
    if vnd < 0:
        return "-" + format_vnd(-vnd, lang)
    for size, vi_word, en_word in _SHORT_UNITS:
        if vnd < size:
            continue
        whole, rest = divmod(vnd, size)
        hundredths, remainder = divmod(rest * 100, size)
        if remainder:
            continue
        frac = f"{hundredths:02d}".rstrip("0")
        if lang == "en":
            number = str(whole) + (f".{frac}" if frac else "")
            return f"{number} {en_word} VND"
        number = _group_thousands(whole) + (f",{frac}" if frac else "")
        return f"{number} {vi_word} đồng"
    if lang == "en":
        return f"{vnd:,} VND" if vnd >= 10**6 else f"{vnd} VND"
    return f"{_group_thousands(vnd)} đồng"
