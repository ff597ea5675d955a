"""Reading counts ("3 nguoi", "muoi hai", "ca 4 deu la nu") and durations ("5 nam roi", "nua nam")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from conversations.understand.words import (
    _DIGITS,
    _NUMBER_WORDS_EN,
    _NUMBER_WORDS_VI,
    MAX_COUNT_DIGITS,
    PARTICLES,
    Invalid,
    _ordered,
    _phrases,
)
from rules.text import fold

#: What people write after a count: "3 nguoi", "12 lao dong", "4 hoc vien", "5 workers".
COUNT_NOUNS = _phrases(
    "nguoi, lao dong, ld, nhan vien, nv, cong nhan, hoc vien, hv, khoa, khoa hoc, thang, san pham, "
    "sp, lan, cai, chiec, nguoi lao dong, lao dong nu, nu, chi em, nhan su, ban, suat, hop dong, "
    "co so, tu van vien, hoi nghi, dot, people, persons, person, workers, worker, employees, "
    "employee, staff, women, female, trainees, trainee, courses, course, months, month, products, "
    "product, times, events, units, unit, contracts, in total, tong, tong cong, thoi"
)


APPROX = _ordered(
    "khoang, tam, chung, co, gan, xap xi, uoc, around, about, approx, approximately, roughly, nearly, ~"
)


BOUNDS = _ordered(
    "tren, hon, duoi, it hon, nhieu hon, toi da, toi thieu, it nhat, more than, over, under, "
    "less than, at least, at most, up to, above, below, >, <"
)


ZERO_WORDS = _phrases(
    "khong, ko, k, khong co, ko co, chua co, chua, none, no, nobody, khong ai, ko ai, chua co ai, zero, nil"
)


@dataclass(frozen=True)
class Number:
    value: int
    guessed: bool = False  # read from words ("ba nguoi"): worth echoing where it matters


def _strip_prefix(words: list[str], prefixes: Sequence[str]) -> tuple[list[str], str | None]:
    text = " ".join(words)
    for prefix in sorted(prefixes, key=len, reverse=True):
        if text == prefix:
            return [], prefix
        if text.startswith(prefix + " ") or (not prefix.isalpha() and text.startswith(prefix)):
            return text[len(prefix) :].split(), prefix
    return words, None


_COUNT_TOKEN = re.compile(r"[0-9][0-9.,]*[0-9]|[0-9]|[a-z]+|[<>~+–-]")


#: Words before a figure that do not change it: "co 5 nguoi", "tong cong 12", "la 3".
LEADS = _ordered("tong cong, tong, la, gom, co, chi, duoc, khoang, in total, total, we have, just, only")


_RANGE_WORDS = ("-", "–", "den", "toi", "to", "or", "hoac")


def _words(folded: str) -> list[str]:
    words = _COUNT_TOKEN.findall(folded)
    while len(words) > 1 and words[-1] in PARTICLES | {"roi", "nay", "thoi"}:
        words.pop()
    return words


ALL_WORDS_COUNT = ("tat ca", "toan bo", "ca", "het", "all", "all of them", "everyone", "everybody")


_TENS_EN = {
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
}  # fmt: skip


def _spelled(words: list[str]) -> tuple[int, int] | None:
    """A number from 11 to 99 in words, and how many words it took: "muoi hai" 12, "hai muoi" 20,
    "hai muoi lam" 25, "ba muoi mot" 31, "twenty" 20. None for anything else (1-10 are read alone)."""
    units = {**_NUMBER_WORDS_VI, "lam": 5, "mot": 1, "tu": 4, "nhat": 1}
    if len(words) >= 2 and words[0] == "muoi" and words[1] in units and units[words[1]]:
        return 10 + units[words[1]], 2
    if len(words) >= 2 and words[0] in _NUMBER_WORDS_VI and words[1] in ("muoi", "chuc"):
        tens = _NUMBER_WORDS_VI[words[0]]
        if not 2 <= tens <= 9:
            return None
        if len(words) >= 3 and words[2] in units and 0 < units[words[2]] < 10:
            return tens * 10 + units[words[2]], 3
        return tens * 10, 2
    if words and words[0] in _TENS_EN:
        value = _TENS_EN[words[0]]
        if value >= 20 and len(words) >= 2 and 0 < _NUMBER_WORDS_EN.get(words[1], 0) < 10:
            return value + _NUMBER_WORDS_EN[words[1]], 2
        return value, 1
    return None


def read_count(text: str, everyone: int | None = None) -> Number:
    """A whole number of people, items, months...: "8", "3 nguoi", "khoang 12", "1.200", "ba nguoi",
    "khong co" (0); "tat ca", "ca 4 deu la nu" give ``everyone`` where the question is "how many of
    them". Raises :class:`Invalid` (error.count, error.count_negative, understand.too_long,
    understand.count_bound)."""
    folded = fold(text)
    if re.match(r"^\s*(?:-\s*[0-9]|am\s+[0-9])", folded):
        raise Invalid("error.count_negative")
    words = _words(folded)
    if everyone is not None:
        after, all_word = _strip_prefix(words, ALL_WORDS_COUNT)
        if all_word is not None and (not after or not after[0].isdigit() or after[0] == str(everyone)):
            return Number(everyone)
    phrase = " ".join(words)
    rest = " ".join(w for w in words[1:] if w not in ("co", "ai", "mot", "nao"))
    if phrase in ZERO_WORDS or (words[:1] in (["khong"], ["ko"], ["k"], ["chua"]) and rest in COUNT_NOUNS):
        return Number(0)
    for _ in range(3):
        words, lead = _strip_prefix(words, LEADS + APPROX)
        if lead is None:
            break
    words, bound = _strip_prefix(words, BOUNDS)
    if len(words) >= 3 and words[1] in _RANGE_WORDS:
        raise Invalid("understand.count_bound")
    spelled = _spelled(words)
    if spelled is not None:  # "muoi hai nguoi", "hai muoi lam", "twenty"
        value, used = spelled
        words = [str(value), *words[used:]]
    tail = " ".join(words[1:])
    if not words or (tail and tail not in COUNT_NOUNS):
        raise Invalid("error.count")
    word = words[0]
    guessed = False
    if word in _NUMBER_WORDS_VI or word in _NUMBER_WORDS_EN:
        value, guessed = _NUMBER_WORDS_VI.get(word, _NUMBER_WORDS_EN.get(word, 0)), True
    else:
        digits = word
        if re.fullmatch(r"[0-9]{1,3}(?:[.,][0-9]{3})+", digits):
            digits = digits.replace(".", "").replace(",", "")
        if not _DIGITS.fullmatch(digits):
            raise Invalid("error.count")
        if len(digits.lstrip("0")) > MAX_COUNT_DIGITS:
            raise Invalid("understand.too_long")
        value = int(digits)
    if bound is not None:
        raise Invalid("understand.count_bound")
    return Number(value, guessed)


FULL_YEAR_PHRASES = _phrases(
    "tren 1 nam, hon 1 nam, du 1 nam, 1 nam tro len, tren mot nam, hon mot nam, nhieu nam, lau roi, "
    "lau nam, more, 12, more than a year, over a year, more than 1 year, over 1 year, years, "
    "several years, many years, a long time, tu 12 thang tro len, 12 thang tro len, 12 months or more, "
    "12 months and more, a year or more, 1 year or more, hon 12 thang, du 12 thang, da hon 1 nam"
)


_DURATION_UNITS = {
    "nam": 12,
    "year": 12,
    "years": 12,
    "yr": 12,
    "yrs": 12,
    "thang": 1,
    "month": 1,
    "months": 1,
    "mo": 1,
}


_DURATION_TOKEN = re.compile(r"[0-9]+(?:[.,][0-9]+)?|[a-z]+|[<>+]")


_DURATION_FILLERS = _phrases(
    "hoat, dong, da, duoc, thanh, lap, lam, kinh, doanh, for, since, we, ve, been, operating, open, "
    "opened, have, has"
)


def read_months(text: str) -> int | None:
    """Months of operation: "8", "8 thang", "5 nam roi", "2 nam ruoi", "1 nam 3 thang", "nua nam",
    "tren 12 thang", "more than a year". None means 12 months or more. Raises :class:`Invalid`."""
    folded = fold(text)
    compact = folded.replace(" ", "")
    if compact in ("12+", ">12", ">=12", ">1nam", "1+nam", "1nam+"):
        return None
    words = _DURATION_TOKEN.findall(folded)
    while len(words) > 1 and words[-1] in PARTICLES | {"roi", "nay", "qua", "ago", "now"}:
        words.pop()
    if " ".join(words) in FULL_YEAR_PHRASES:
        return None
    words = [w for w in words if w not in _DURATION_FILLERS]
    words, _ = _strip_prefix(words, APPROX)
    words, bound = _strip_prefix(words, BOUNDS)
    if " ".join(words) in ("nua nam", "half a year", "half year", "6 months"):
        words = ["6"]
    if not words:
        raise Invalid("error.months")
    months = 0.0
    i = 0
    while i < len(words):
        word = {"mot": "1", "a": "1", "one": "1", "an": "1", "hai": "2", "two": "2", "ba": "3"}.get(
            words[i], words[i]
        )
        number = word.replace(",", ".")
        if not re.fullmatch(r"[0-9]{1,4}(?:\.[0-9]+)?", number):
            raise Invalid("understand.too_long" if _DIGITS.fullmatch(word) else "error.months")
        unit = 1
        if i + 1 < len(words) and words[i + 1] in _DURATION_UNITS:
            unit = _DURATION_UNITS[words[i + 1]]
            i += 1
        value = float(number) * unit
        i += 1
        if i < len(words) and words[i] in ("ruoi", "half") and unit == 12:
            value += 6
            i += 1
        months += value
    if bound in (
        "tren",
        "hon",
        "nhieu hon",
        "more than",
        "over",
        "above",
        ">",
        "it nhat",
        "at least",
        "toi thieu",
    ):
        if months >= 12:
            return None
        raise Invalid("understand.months_bound")
    if bound is not None:
        raise Invalid("understand.months_bound")
    if months < 1 or months != int(months):
        raise Invalid("error.months")
    return None if months >= 12 else int(months)
