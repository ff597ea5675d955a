"""Lists a page at a time: the rows of a page, its previous/next buttons, numbers that hold across pages.
Used by the journey's choices (:func:`paginate`) and by the officer's queue (:func:`page_of`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from conversations.messages import Choice, say
from conversations.understand import PAGE_SIZE

NEXT_PAGE = "_page:next"
PREV_PAGE = "_page:prev"

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its rows, its index (from 0, clamped to the pages there are), how many."""

    rows: tuple[T, ...]
    page: int
    pages: int

    def nav(self, prev_payload: str, next_payload: str) -> tuple[Choice, ...]:
        """The previous/next buttons this page needs, with the payloads that turn the page."""
        out = []
        if self.page > 0:
            out.append(Choice(prev_payload, say("nav.prev")))
        if self.page < self.pages - 1:
            out.append(Choice(next_payload, say("nav.next", page=self.page + 2, pages=self.pages)))
        return tuple(out)


def page_of(rows: Sequence[T], page: int, size: int = PAGE_SIZE) -> Page[T]:
    """At most ``size`` rows a page; a page past the end shows the last one."""
    pages = max(1, (len(rows) + size - 1) // size)
    page = max(0, min(page, pages - 1))
    return Page(tuple(rows[page * size : (page + 1) * size]), page, pages)


def paginate(choices: Sequence[Choice], page: int) -> tuple[tuple[Choice, ...], int]:
    """At most PAGE_SIZE choices a page, with next/previous buttons."""
    if len(choices) <= PAGE_SIZE:
        return tuple(choices), 0
    shown = page_of(choices, page)
    return (*shown.rows, *shown.nav(PREV_PAGE, NEXT_PAGE)), shown.page


def numbered(choices: Sequence[Choice], start: int) -> tuple[Choice, ...]:
    """Labels prefixed with their global number so that typing the number works on any page."""
    out = []
    for i, choice in enumerate(choices):
        if choice.payload.startswith("_"):
            out.append(choice)
        else:
            label = say("nav.numbered", n=start + i + 1, label=choice.label)
            out.append(Choice(choice.payload, label, choice.aliases))
    return tuple(out)
