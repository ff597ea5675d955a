"""A request for documents that stays open until it is answered in full (issue 15.8). Pure.

The officer's ``/ask`` text is split into what is needed ("báo giá; hợp đồng" or "1. báo giá 2. hợp
đồng"); each file the owner sends covers the next item still missing, a message that starts with an
item's number ("2. đã ký") covers that item, other messages ("tôi sẽ gửi sau") are kept with the request
for the officer and cover nothing. The request is answered when every item is covered or the owner says
they are done ("xong", "done").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from conversations.officer.context import RequestItem, RequestRecord
from rules.text import fold

DONE_WORDS = frozenset(
    {
        "xong",
        "xong roi",
        "da xong",
        "toi da xong",
        "da gui du",
        "da gui het",
        "gui du roi",
        "gui het roi",
        "du roi",
        "het roi",
        "done",
        "i am done",
        "i'm done",
        "finished",
        "that's all",
        "that is all",
        "all sent",
    }
)
_SEPARATORS = re.compile(r"\s*(?:;|\n|(?<=\S)\s+(?=\d{1,2}[.)]\s))\s*")
_NUMBERED = re.compile(r"^\s*(\d{1,2})\s*[.):\-]\s*(.*)$", re.S)
MAX_ITEMS = 20


def split_items(text: str) -> tuple[str, ...]:
    """ "1. báo giá 2. hợp đồng" or "báo giá; hợp đồng" -> ("báo giá", "hợp đồng")."""
    parts = [p.strip() for p in _SEPARATORS.split(text.strip()) if p and p.strip()]
    items = []
    for part in parts:
        numbered = _NUMBERED.match(part)
        body = numbered.group(2).strip() if numbered else part
        if body:
            items.append(body)
    return tuple(items[:MAX_ITEMS]) or (text.strip(),)


def new_request(by: str, text: str) -> RequestRecord:
    return RequestRecord(by=by, items=tuple(RequestItem(t) for t in split_items(text)))


def says_done(text: str) -> bool:
    return fold(text).strip(" .!") in DONE_WORDS


@dataclass(frozen=True)
class Answered:
    request: RequestRecord
    covered: int | None  # the item number this answer covered, if any
    done: bool  # the request is answered: everything arrived or the owner said they are done


def record_answer(request: RequestRecord, *, text: str = "", file_name: str | None = None) -> Answered:
    items = list(request.items)
    if file_name is None and says_done(text):
        return Answered(request, None, True)
    covered: int | None = None
    numbered = _NUMBERED.match(text) if file_name is None else None
    if numbered and 1 <= int(numbered.group(1)) <= len(items):
        covered = int(numbered.group(1))
        answer = numbered.group(2).strip() or text.strip()
    elif file_name is not None and request.missing:
        covered = request.missing[0]
        answer = file_name
    if covered is None:
        updated = replace(request, messages=(*request.messages, file_name or text.strip()))
        return Answered(updated, None, False)
    items[covered - 1] = replace(items[covered - 1], answer=answer)
    updated = replace(request, items=tuple(items))
    return Answered(updated, covered, not updated.missing)


def to_json(request: RequestRecord) -> dict[str, Any]:
    return {
        "by": request.by,
        "items": [{"text": i.text, "answer": i.answer} for i in request.items],
        "messages": list(request.messages),
    }


def from_json(data: Mapping[str, Any] | None) -> RequestRecord | None:
    if not isinstance(data, Mapping) or not data.get("items"):
        return None
    return RequestRecord(
        by=str(data.get("by", "")),
        items=tuple(
            RequestItem(str(i.get("text", "")), i.get("answer") if i.get("answer") is not None else None)
            for i in data["items"]
        ),
        messages=tuple(str(m) for m in data.get("messages", ())),
    )


def numbered(request: RequestRecord) -> str:
    """The items as the owner and the officer read them: "1. báo giá ✓\\n2. hợp đồng"."""
    return "\n".join(
        f"{n}. {item.text}{' ✓' if item.answer is not None else ''}"
        for n, item in enumerate(request.items, start=1)
    )
