"""Reading what people answer: one place for choices, yes/no, counts, durations and money.

People answer with words, approximations and slang, not with the exact label: "ko", "chua co", "co roi",
"tnhh 2 thanh vien", "cai dau", "1, 2 va 3", "3 nguoi", "5 nam roi", "khoang 300tr". Every step reads
its answer here, so every flow understands the same forms. A reader returns what it understood (with
``guessed`` set when the answer was interpreted rather than typed as shown, so the engine can echo it
back) or raises :class:`Invalid` with the message to show; it never raises anything else.

:func:`clean_text` is the edge: the engine cleans every input with it once, before anything is stored.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from conversations.messages import Choice, Msg, render_line
from rules.money import MoneyError, parse_vnd
from rules.text import fold

PAGE_SIZE = 8
#: Longer than any real answer (Telegram's own limit); the rest is cut at the edge.
MAX_TEXT = 4096
#: A count or a number of months never has more digits than this ("99999999" workers is not an answer).
MAX_COUNT_DIGITS = 9


class Invalid(Exception):
    """The answer does not fit: say what was wrong, with an example."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.msg = Msg(key, params)


def _phrases(text: str) -> frozenset[str]:
    return frozenset(_ordered(text))


def _ordered(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(",") if p.strip())


# --- the edge -------------------------------------------------------------------------------------

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


# --- words ----------------------------------------------------------------------------------------

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


# --- choices --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Picked:
    choice: Choice
    guessed: bool = False  # interpreted (a near name, a part of it): worth echoing back where it matters


def visible_range(count: int, page: int) -> range:
    """The positions of the choices shown on ``page`` (all of them when they fit on one)."""
    if count <= PAGE_SIZE:
        return range(count)
    pages = (count + PAGE_SIZE - 1) // PAGE_SIZE
    page = max(0, min(page, pages - 1))
    return range(page * PAGE_SIZE, min(count, (page + 1) * PAGE_SIZE))


def _names(choice: Choice, lang: str) -> list[str]:
    """The label in the user's language first, then in the other one (people mix them), the payload
    and the aliases."""
    labels = [render_line(choice.label, code) for code in (lang, "vi" if lang == "en" else "en")]
    return [*labels, choice.payload, *choice.aliases]


def _by_number(choices: Sequence[Choice], number: int, shown: range) -> Choice:
    if number - 1 in shown:
        return choices[number - 1]
    raise Invalid("understand.number_range", first=shown.start + 1, last=shown.stop)


def _ordinal(bare: str, choices: Sequence[Choice], shown: range) -> Choice | None:
    if bare in _LAST or bare in ("cai cuoi", "cai cuoi cung", "the last one", "the last"):
        return choices[shown[-1]] if shown else None
    match = _ORDINAL.match(bare)
    if match is None or not (bare.startswith(("thu ", "cai ", "the ")) or match.group(1) in _ORDINALS):
        return None
    word = match.group(1)
    position = _ORDINALS.get(word)
    if position is None and bare.startswith(("thu ", "cai thu ")):
        position = _NUMBER_WORDS_VI.get(word) or (int(word) if word.isdigit() and len(word) < 4 else None)
    if position is None and word in _LAST:
        return choices[shown[-1]] if shown else None
    if position is None or position < 1:
        return None
    if position > len(shown):
        raise Invalid("understand.number_range", first=shown.start + 1, last=shown.stop)
    return choices[shown[position - 1]]


def _polar(choices: Sequence[Choice], lang: str, negative: bool) -> Choice | None:
    """The one choice that says no ("Không", "Không tham gia", "Neither") or yes, if there is one."""
    payloads = ("no", "none", "decline") if negative else ("yes", "agree")
    heads = ("khong", "no", "not", "neither", "none") if negative else ("co", "yes", "dong y")
    found = [
        c
        for c in choices
        if c.payload in payloads
        or any(key(n) == h or key(n).startswith(h + " ") for n in _names(c, lang)[:2] for h in heads)
    ]
    return found[0] if len(found) == 1 else None


def read_choice(choices: Sequence[Choice], text: str, lang: str, page: int = 0) -> Picked:
    """One of ``choices`` from what was typed; raises :class:`Invalid` when none (or several) fit.

    By its number as shown (only a number on the current page), an ordinal ("cai dau", "thu hai",
    "second"), its label or alias with or without diacritics, a yes/no word for the choice that says
    yes/no; then, as a guess: the start of a name, the words of a name ("tnhh 2 thanh vien"), or a near
    spelling ("hoan kim").
    """
    shown = visible_range(len(choices), page)
    bare = _bare(text)
    if not bare:
        raise Invalid("error.choice")
    number = _LABELLED_NUMBER.match(bare)
    if number and len(number.group(1)) <= MAX_COUNT_DIGITS:
        return Picked(_by_number(choices, int(number.group(1)), shown))
    wanted = key(text)
    exact = [c for c in choices if any(key(n) == wanted for n in _names(c, lang))] if wanted else []
    if len(exact) > 1:  # the same name without diacritics: the one typed with them, if it was
        as_typed = " ".join(text.casefold().split())
        exact = [c for c in exact if any(" ".join(n.casefold().split()) == as_typed for n in _names(c, lang))]
        if len(exact) != 1:
            raise Invalid("understand.ambiguous", text=text.strip()[:60])
    if exact:
        return Picked(exact[0])
    typed = [w for w in _tokens(text) if w not in FILLERS]  # "hcmc", "tinh quang tri", "tnhh mtv"
    same = [c for c in choices if typed and any(_tokens(n) == typed for n in _names(c, lang))]
    if len(same) == 1:
        return Picked(same[0])
    ordinal = _ordinal(key(text), choices, shown)
    if ordinal is not None:
        return Picked(ordinal)
    if bare in BOTH_WORDS:  # "ca hai": the one choice that is both ("Cả cụm liên kết và chuỗi giá trị")
        both = [c for c in choices if any(key(n).startswith(("ca ", "both ")) for n in _names(c, lang)[:2])]
        if len(both) == 1:
            return Picked(both[0])
    answer = yes_no(text)
    if answer is None and declines(text):  # "not a startup", "khong phai khoi nghiep"
        answer = False
    if answer is not None:
        polar = _polar(choices, lang, negative=not answer)
        if polar is not None:
            return Picked(polar)
    guess = _guess(choices, text, lang)
    if guess is None:
        if answer is True and len(choices) > 2:  # "co roi" to a question with several kinds of yes
            raise Invalid("understand.which", first=shown.start + 1, last=shown.stop)
        raise Invalid("error.choice")
    return Picked(guess, guessed=True)


def _guess(choices: Sequence[Choice], text: str, lang: str) -> Choice | None:
    wanted = key(text)
    if len(wanted) >= 3:
        starts = [c for c in choices if any(key(n).startswith(wanted) for n in _names(c, lang))]
        if len(starts) == 1:
            return starts[0]
    typed = [w for w in _tokens(text) if w not in FILLERS]
    words_of = [{w for n in _names(c, lang) for w in _tokens(n)} for c in choices]
    # at least one typed word must tell the choices apart ("co" is in most startup labels: not a guess)
    telling = any(sum(w in words for words in words_of) <= max(2, len(choices) // 4) for w in typed)
    if typed and telling and len("".join(typed)) >= 2:
        best: list[tuple[int, Choice]] = []
        for choice, words in zip(choices, words_of, strict=True):
            if set(typed) <= words:  # every typed word is in the choice's names ("cong nghiep che bien")
                names = [set(_tokens(n)) for n in _names(choice, lang)]
                extra = min(len(n - set(typed)) for n in names if n & set(typed))
                best.append((extra, choice))
        best.sort(key=lambda pair: pair[0])
        if best and (len(best) == 1 or best[0][0] < best[1][0]):
            return best[0][1]
    if len(wanted) >= 4 and telling:
        scored = sorted(
            (
                (
                    _similarity(wanted, {key(n) for n in (*_names(c, lang)[:2], *c.aliases)}),
                    i,
                )
                for i, c in enumerate(choices)
            ),
            reverse=True,
        )
        if scored and scored[0][0] >= 0.84 and (len(scored) == 1 or scored[1][0] < scored[0][0] - 0.05):
            return choices[scored[0][1]]
    return None


def _similarity(wanted: str, names: set[str]) -> float:
    """The best difflib ratio of ``wanted`` to one of ``names`` that could reach a guess (cheap bounds
    first: a ward list has 168 names)."""
    best = 0.0
    for name in names:
        matcher = difflib.SequenceMatcher(None, wanted, name)
        if matcher.real_quick_ratio() >= 0.84 and matcher.quick_ratio() >= 0.84:
            best = max(best, matcher.ratio())
    return best


ALL_WORDS = _phrases("tat ca, all, het, chon het, tat, ca, all of them, everything, tat ca cac muc")
BOTH_WORDS = _phrases("ca hai, ca 2, both, ca hai cai, both of them")
_RANGE = re.compile(r"^(?:tu\s+)?([0-9]{1,4})\s*(?:-|den|toi|to|through|–)\s*([0-9]{1,4})$")
_SPLIT = re.compile(r"\s*(?:[,;/+&]|\bva\b|\band\b|\bvoi\b|\bcung\b|\bvoi ca\b)\s*")


def read_choices(choices: Sequence[Choice], text: str, lang: str, page: int = 0) -> list[Choice]:
    """Several choices: "1, 2 va 3", "1 2 3", "1-3", "ca hai", "tat ca", or names joined by "va"/","."""
    shown = visible_range(len(choices), page)
    bare = _bare(text)
    if bare in ALL_WORDS:
        return [choices[i] for i in shown]
    if bare in BOTH_WORDS:
        if len(shown) != 2:
            raise Invalid("error.choice")
        return [choices[i] for i in shown]
    folded = " ".join(re.findall(r"[a-z0-9]+|[,;/+&\-–]", fold(text)))
    span = _RANGE.match(folded)
    if span:
        first, last = int(span.group(1)), int(span.group(2))
        if first > last:
            first, last = last, first
        return [_by_number(choices, n, shown) for n in range(first, last + 1)]
    try:
        return [read_choice(choices, text, lang, page).choice]
    except Invalid as single_error:
        parts = [p for p in _SPLIT.split(folded) if p.strip()]
        if len(parts) == 1 and all(w.isdigit() for w in parts[0].split()):
            parts = parts[0].split()
        if len(parts) < 2:
            raise single_error from None
        picked: list[Choice] = []
        for part in parts:
            span = _RANGE.match(part.strip())
            if span:
                picked.extend(
                    _by_number(choices, n, shown) for n in range(int(span.group(1)), int(span.group(2)) + 1)
                )
            elif all(w.isdigit() for w in part.split()) and len(part.split()) > 1:
                picked.extend(_by_number(choices, int(w), shown) for w in part.split() if len(w) <= 4)
            else:
                picked.append(read_choice(choices, part, lang, page).choice)
        unique: list[Choice] = []
        for choice in picked:
            if choice not in unique:
                unique.append(choice)
        return unique


#: Typed forms of the navigation buttons, as shown and in plain words.
NAV_WORDS = {
    "next": frozenset(
        ("trang sau", "tiep", "xem tiep", "xem them", "trang tiep", "next", "next page", "more", ">", ">>")
    ),
    "prev": frozenset(
        ("trang truoc", "truoc", "quay lai trang truoc", "prev", "previous", "previous page", "<", "<<")
    ),
    "skip": frozenset(("bo qua", "skip", "pass", "bo qua cau nay", "skip it")),
    "done": frozenset(
        (
            "xong",
            "done",
            "xong roi",
            "finish",
            "finished",
            "that s all",
            "thats all",
            "het roi",
            "chon xong",
            "ok xong",
            "vay thoi",
            "du roi",
        )
    ),
}


def nav_word(text: str) -> str | None:
    """ "next", "prev", "skip" or "done" when the text is a navigation button typed as shown."""
    folded = fold(text)
    folded = re.sub(r"\(\s*[0-9]+\s*/\s*[0-9]+\s*\)", " ", folded)
    folded = " ".join(re.findall(r"[a-z0-9]+|[<>]+", folded.replace("▶", " ").replace("◀", " ")))
    folded = _bare(folded) if re.search(r"[a-z0-9]", folded) else folded
    for name, words in NAV_WORDS.items():
        if folded in words:
            return name
    return None


# --- numbers --------------------------------------------------------------------------------------

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


# --- money ----------------------------------------------------------------------------------------

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
