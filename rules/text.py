"""Text folding so owners can type with or without diacritics: "Công nghiệp" == "cong nghiep"."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

#: Only short texts are memoised (labels and place names, folded on every message, are under 40
#: characters): what an owner types may be long, and a cache keyed on it grew by the size of every
#: message. The cache holds at most FOLD_CACHE_ENTRIES x (two strings of FOLD_CACHE_CHARS): under 4 MiB.
FOLD_CACHE_CHARS = 64
FOLD_CACHE_ENTRIES = 4096


def fold(text: str) -> str:
    """Lower-case, strip Vietnamese diacritics (đ -> d) and collapse whitespace."""
    return _fold_short(text) if len(text) <= FOLD_CACHE_CHARS else _fold_latest(text)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return " ".join(bare.lower().split())


_fold_short = lru_cache(maxsize=FOLD_CACHE_ENTRIES)(_fold)
# a message is folded several times while it is understood: the last two long ones are kept
_fold_latest = lru_cache(maxsize=2)(_fold)
