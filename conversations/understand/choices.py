"""Reading a choice, or several, from what was typed: by a number shown on the page, an ordinal, a label or
alias with or without diacritics, a synonym, or a close guess; navigation words typed as shown."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from conversations.messages import Choice, render_line
from conversations.understand.words import (
    _LABELLED_NUMBER,
    _LAST,
    _NUMBER_WORDS_VI,
    _ORDINAL,
    _ORDINALS,
    FILLERS,
    MAX_COUNT_DIGITS,
    PAGE_SIZE,
    Invalid,
    _bare,
    _phrases,
    _tokens,
    declines,
    key,
    yes_no,
)
from rules.text import fold


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
