"""``/queue``: the agency's dossiers, oldest first, priority groups first among equals (ND80 Art. 4.1),
with the working days left of the 14 of ND80 Art. 32.3.a; statuses typed in either language."""

from __future__ import annotations

import re
from collections.abc import Sequence

from conversations.messages import Choice, Line, Money, Msg, Plain, say
from conversations.officer.base import STATUSES, Answer, answer
from conversations.officer.context import DossierRecord, OfficerContext
from conversations.paging import page_of
from locales import t
from rules import dossier as status
from rules.deadline import review_deadline
from rules.text import fold

# Words officers type for a status, besides its label in either language (folded: no diacritics).
STATUS_WORDS = {
    "submitted": ("moi", "moi nop", "da nop", "cho", "cho xu ly", "chua nhan", "new"),
    "in_review": ("dang xu ly", "dang xem xet", "da nhan", "xem xet", "review", "claimed"),
    "needs_info": ("bo sung", "can bo sung", "cho bo sung", "yeu cau bo sung", "needs info", "asked"),
    "approved": ("duyet", "da duyet", "chap thuan", "da chap thuan", "duoc chap thuan"),
    "rejected": ("tu choi", "bi tu choi", "da tu choi", "khong duoc chap thuan", "khong duyet"),
    "withdrawn": ("rut", "da rut", "rut ho so"),
}


ALL_WORDS = ("tat ca", "all", "het")


def deadline_text(d: DossierRecord, ctx: OfficerContext) -> Msg:
    if d.status in status.FINAL:
        return say(f"status.{d.status}")
    left = review_deadline(d.filed_on, ctx.today, ctx.calendar)
    if left.overdue:
        return say("officer.overdue", days=-left.days_left, due=left.due.strftime("%d/%m/%Y"))
    return say("officer.days_left", days=left.days_left, due=left.due.strftime("%d/%m/%Y"))


def queue_order(dossiers: Sequence[DossierRecord]) -> list[DossierRecord]:
    """Oldest first; among dossiers filed the same day, the priority groups first (ND80 Art. 4.1)."""
    return status.service_order(dossiers, lambda d: d.filed_on, lambda d: d.priority, lambda d: d.id)


def status_named(text: str) -> str | None:
    """ "cần bổ sung", "can bo sung", "needs info", "needs_info" -> "needs_info"; "tất cả" -> "all"."""
    word = fold(text).replace("_", " ").strip(" .")
    if word in ALL_WORDS:
        return "all"
    for key in STATUSES:
        names = {
            key.replace("_", " "),
            *STATUS_WORDS[key],
            *(fold(t(f"status.{key}", lang)) for lang in ["vi", "en"]),
        }
        if word in names:
            return key
    return None


def queue(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Answer:
    parts = arg.split()
    page = 0
    if parts and re.fullmatch(r"p\d+", parts[-1]):
        page = max(0, int(parts.pop()[1:]) - 1)
    wanted = status_named(" ".join(parts)) if parts else None
    if parts and wanted is None:
        labels = [Plain(f"{t(f'status.{k}', lang)}") for k in STATUSES]
        return answer(
            say(
                "officer.bad_status", value=Plain(" ".join(parts)), choices=", ".join(x.text for x in labels)
            ),
            choices=tuple(Choice(f"/queue {k}", say(f"status.{k}")) for k in STATUSES),
        )
    shown = [
        d
        for d in ctx.dossiers
        if (d.status == wanted if wanted not in (None, "all") else wanted == "all" or d.status in status.OPEN)
    ]
    if not shown:
        return answer(say("officer.queue_empty"))
    ordered = queue_order(shown)
    one = page_of(ordered, page)
    lines: list[Line] = [say("officer.queue_title", count=len(ordered), page=one.page + 1, pages=one.pages)]
    choices: list[Choice] = []
    for d in one.rows:
        lines.append(
            say(
                "officer.queue_line",
                mark="★ " if d.priority else "",
                ref=d.ref,
                firm=Plain(d.firm),
                size=say(f"size.name.{d.size}"),
                total=Money(d.total_state_vnd),
                status=say(f"status.{d.status}"),
                deadline=deadline_text(d, ctx),
            )
        )
        choices.append(Choice(f"/dossier {d.ref}", Plain(d.ref)))
    filter_arg = f"{wanted} " if wanted else ""
    choices.extend(one.nav(f"/queue {filter_arg}p{one.page}", f"/queue {filter_arg}p{one.page + 2}"))
    if any(d.priority for d in ordered):
        lines.append(say("officer.priority_note"))
    return answer(*lines, choices=tuple(choices))
