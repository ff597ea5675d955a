"""The words people answer with: the edge that cleans every input, yes/no and negative phrases,
abbreviations, number words, ordinals, and the folded keys the readers compare."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from conversations.messages import Msg
from rules.text import fold

PAGE_SIZE = 8


#: Longer than any real answer (Telegram's own limit); the rest is cut at the edge.
MAX_TEXT = 4096


#: A count or a number of months never has more digits than this ("99999999" workers is not an answer).
MAX_COUNT_DIGITS = 9


#: What is quoted back of a user's answer in an error message, at most (the rest is "…"): a 4,000-character
#: answer quoted whole would make the error longer than the platform takes.
QUOTE_LIMIT = 60


def quoted(text: str, limit: int = QUOTE_LIMIT) -> str:
    """A user's text as an error message quotes it: on one line, cut at ``limit`` characters."""
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1].rstrip() + "…"


class Invalid(Exception):
    """The answer does not fit: say what was wrong, with an example. Text parameters (what the user typed)
    are quoted short."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.msg = Msg(key, {k: quoted(v) if isinstance(v, str) else v for k, v in params.items()})


def _phrases(text: str) -> frozenset[str]:
    return frozenset(_ordered(text))


def _ordered(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(",") if p.strip())


#: Bidirectional overrides/isolates and marks (they reorder text shown back), zero-width and BOM characters.
_INVISIBLE = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\u2060\ufeff\u180e"
)


def clean_text(text: str) -> str:
    """What is kept of a typed text: NFKC (so "²", "①", "１２" are plain digits), no control, bidi or
    zero-width characters, no lone surrogates or non-characters, tabs as spaces, at most MAX_TEXT long."""
    if text.isascii() and text.isprintable():
        return text[:MAX_TEXT]
    text = text.replace("\r\n", "\n").replace("\u2028", "\n").replace("\u2029", "\n").replace("\t", " ")
    kept = []
    for ch in text:
        if ch == "\n":
            kept.append(ch)
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs") or ch in _INVISIBLE or ch in "\ufffe\uffff":
            continue
        kept.append(ch)
    normal = unicodedata.normalize("NFKC", "".join(kept))
    # NFKC may produce a control character (rare compatibility forms); remove what it made
    return "".join(ch for ch in normal if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cs"))[
        :MAX_TEXT
    ]


#: Particles and fillers around an answer: "co a", "khong co dau", "chua nhe", "ok thanks".
PARTICLES = _phrases(
    "a, ah, ak, nhe, nha, nhen, nhi, ha, day, dau, oi, vay, thoi, please, thanks, thank, you, pls, plz"
)


YES_PHRASES = _phrases(
    "co, c, co roi, roi, da co, co chu, co luon, vang, da, u, uh, um, uhm, ok, oke, okay, okie, "
    "dung, dung roi, dung vay, chinh xac, phai, dung the, duoc, dc, dong y, yes, y, yeah, yep, yup, "
    "sure, correct, right, true, of course, agree, co day, co nhieu"
)


NO_PHRASES = _phrases(
    "khong, ko, k, kg, khg, hok, hong, hem, khong co, ko co, k co, kg co, chua, chua co, chua tung, "
    "khong phai, ko phai, k phai, sai, khong dung, ko dung, no, n, nope, nah, not yet, none, "
    "nothing, false, wrong, incorrect, khong co gi, chua co gi, khong tham gia, chua tham gia, "
    "ko tham gia, neither, no thanks, not really"
)


#: Abbreviations owners type, read as the words of the labels ("tnhh 2 tv" = "tnhh hai thanh vien").
ABBREVIATIONS = {
    "tv": "thanh vien",
    "mtv": "1 thanh vien",
    "cty": "cong ty",
    "ct": "cong ty",
    "ctcp": "cong ty co phan",
    "cp": "co phan",
    "dn": "doanh nghiep",
    "dntn": "doanh nghiep tu nhan",
    "htx": "hop tac xa",
    "hkd": "ho kinh doanh",
    "tp": "thanh pho",
    "tm": "thuong mai",
    "dv": "dich vu",
    "sx": "san xuat",
    "xd": "xay dung",
    "nn": "nong nghiep",
    "clkn": "cum lien ket nganh",
    "cl": "cum lien ket",
    "tphcm": "ho chi minh",
    "hcm": "ho chi minh",
    "sg": "ho chi minh",
    "hn": "ha noi",
    "hanoi": "ha noi",
    "startup": "start up",
    "hcmc": "ho chi minh",
    "saigon": "ho chi minh",
    "danang": "da nang",
    "haiphong": "hai phong",
    "llc": "tnhh",
    "ko": "khong",
    "k": "khong",
    "kg": "khong",
    "hai": "2",
    "mot": "1",
    "two": "2",
    "one": "1",
    "single": "1",
    "multi": "2",
    "member": "thanh vien",
    "members": "thanh vien",
}


#: Words owners add that a label does not need ("cong ty minh la tnhh" -> "tnhh").
FILLERS = _phrases(
    "a, ah, la, thi, em, toi, chung, cua, o, tai, the, my, our, we, i, is, its, it, in, at, please, "
    "chon, pick, choose, dang, duoc, voi, loai, hinh, nganh, linh, vuc, of, type, with, and, va, city, "
    "province, tinh, tp"
)


_NUMBER_WORDS_VI = {
    "khong": 0,
    "mot": 1,
    "hai": 2,
    "ba": 3,
    "bon": 4,
    "tu": 4,
    "nam": 5,
    "sau": 6,
    "bay": 7,
    "tam": 8,
    "chin": 9,
    "muoi": 10,
}


_NUMBER_WORDS_EN = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}


_ORDINALS = {
    "nhat": 1,
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "dau": 1,
    "dau tien": 1,
    "1st": 1,
    "2nd": 2,
    "3rd": 3,
}


_LAST = ("cuoi", "cuoi cung", "last", "sau cung")


_ORDINAL = re.compile(
    r"^(?:(?:cai|lua chon|phuong an|dong|muc|cau|the|option)\s+)?(?:thu\s+)?(.+?)(?:\s+one)?$"
)


_LABELLED_NUMBER = re.compile(
    r"^(?:(?:so|#|no|number|option|lua chon|phuong an|chon|muc|cau|pick|choose|dong)\s*)?\(?([0-9]+)\)?[.)]?$"
)


_DIGITS = re.compile(r"[0-9]+")


def key(text: str) -> str:
    """Folded, with punctuation as spaces: what two spellings of one answer have in common."""
    if len(text) <= _CACHED_CHARS:  # labels and place names, read on every answer
        return _key(text)
    return " ".join(re.findall(r"[a-z0-9]+", fold(text)))


#: Only short texts are memoised (choice names); the caches hold at most 4096 x 2 short strings.
_CACHED_CHARS = 64


@lru_cache(maxsize=4096)
def _key(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", fold(text)))


def _bare(text: str) -> str:
    """The answer without trailing particles and punctuation: "khong co a!" -> "khong co"."""
    words = re.findall(r"[a-z0-9]+|[~<>#]", fold(text))
    while len(words) > 1 and words[-1] in PARTICLES:
        words.pop()
    while (
        len(words) > 1
        and words[0] in ("a", "da", "u", "thi", "uhm", "um")
        and " ".join(words) not in (YES_PHRASES | NO_PHRASES)
    ):
        words.pop(0)
    return " ".join(words)


def yes_no(text: str) -> bool | None:
    """True for "co", "co roi", "vang", "yes"; False for "ko", "chua co", "khong phai", "no"; else None."""
    bare = _bare(text)
    if bare in NO_PHRASES:
        return False
    if bare in YES_PHRASES:
        return True
    return None


def is_negative(text: str) -> bool:
    return yes_no(text) is False


def declines(text: str) -> bool:
    """ "khong co", "chua co email", "no email", "ko dung email": nothing to give (optional steps)."""
    if is_negative(text):
        return True
    words = _bare(text).split()
    if any(ch.isdigit() or ch == "@" for ch in text):
        return False
    return any(
        " ".join(words[:cut]) in NO_PHRASES and 0 < len(words) - cut <= 2
        for cut in (1, 2, 3)
        if len(words) > cut
    ) or " ".join(words[:3]) in ("ko dung email", "khong dung email", "khong su dung", "don t have")


def _tokens(text: str) -> list[str]:
    if len(text) <= _CACHED_CHARS:
        return list(_short_tokens(text))
    return _read_tokens(text)


@lru_cache(maxsize=4096)
def _short_tokens(text: str) -> tuple[str, ...]:
    return tuple(_read_tokens(text))


def _read_tokens(text: str) -> list[str]:
    out: list[str] = []
    for word in re.findall(r"[a-z0-9]+", fold(text)):
        out.extend(ABBREVIATIONS.get(word, word).split())
    return out
