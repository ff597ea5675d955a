"""Officer and admin commands: queue, dossier, claim, ask, approve, reject, note, stats, export, officers.

Pure: ``handle(command, argument, context) -> Outcome`` with replies in the officer's language and effects
for the shell (status moves with an optimistic version check, audit rows, owner notifications).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from conversations.engine import PAGE_SIZE
from conversations.messages import Choice, Effect, Line, Money, Msg, Plain, Reply, Result, say
from conversations.officer import status
from conversations.officer.context import DossierRecord, OfficerContext
from rules.deadline import review_deadline
from rules.money import MoneyError, parse_vnd

OFFICER_COMMANDS = frozenset(
    {"/queue", "/dossier", "/claim", "/ask", "/approve", "/reject", "/note", "/stats", "/export"}
)
ADMIN_COMMANDS = frozenset({"/officer_add", "/officer_remove", "/officers"})
STATUSES = ("submitted", "in_review", "needs_info", "approved", "rejected", "withdrawn")
_VERSION = re.compile(r"\s*@v(\d+)\s*$")
_USER_KEY = re.compile(r"^(console|telegram|zalo):[\w.\-]{1,64}$")


@dataclass(frozen=True)
class Outcome:
    replies: tuple[Reply, ...]
    effects: tuple[Effect, ...] = field(default_factory=tuple)


def allowed(command: str, role: str) -> bool:
    if command in ADMIN_COMMANDS:
        return role == "admin"
    return command in OFFICER_COMMANDS and role in ("officer", "admin")


def is_staff_command(command: str) -> bool:
    return command in OFFICER_COMMANDS or command in ADMIN_COMMANDS


def reply(*lines: Line, choices: tuple[Choice, ...] = (), attach: str | None = None) -> Reply:
    return Reply(tuple(lines), choices, attach)


def answer(*lines: Line, choices: tuple[Choice, ...] = (), effects: tuple[Effect, ...] = ()) -> Outcome:
    return Outcome((reply(*lines, choices=choices),), effects)


def split_version(arg: str) -> tuple[str, int | None]:
    """ "HS-2026-000001 @v3" (from a button) -> ("HS-2026-000001", 3)."""
    match = _VERSION.search(arg)
    if not match:
        return arg, None
    return arg[: match.start()], int(match.group(1))


def handle(command: str, arg: str, ctx: OfficerContext, lang: str) -> Outcome:
    arg, version = split_version(arg)
    handler = COMMANDS[command]
    return handler(arg.strip(), ctx, lang, version)


# --- the queue ---------------------------------------------------------------------------------------


def deadline_text(d: DossierRecord, ctx: OfficerContext) -> Msg:
    if d.status in status.FINAL:
        return say(f"status.{d.status}")
    left = review_deadline(d.filed_on, ctx.today, ctx.calendar)
    if left.overdue:
        return say("officer.overdue", days=-left.days_left, due=left.due.strftime("%d/%m/%Y"))
    return say("officer.days_left", days=left.days_left, due=left.due.strftime("%d/%m/%Y"))


def queue_order(dossiers: Sequence[DossierRecord]) -> list[DossierRecord]:
    """Oldest first; among dossiers filed the same day, the priority groups first (ND80 Art. 4.1)."""
    return sorted(dossiers, key=lambda d: (d.filed_on, not d.priority, d.id))


def queue(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
    parts = arg.split()
    page = 0
    if parts and re.fullmatch(r"p\d+", parts[-1]):
        page = max(0, int(parts.pop()[1:]) - 1)
    wanted = parts[0].lower() if parts else None
    if wanted is not None and wanted not in STATUSES:
        return answer(say("officer.bad_status", value=wanted, choices=", ".join(STATUSES)))
    shown = [d for d in ctx.dossiers if (d.status == wanted if wanted else d.status in status.OPEN)]
    if not shown:
        return answer(say("officer.queue_empty"))
    ordered = queue_order(shown)
    pages = (len(ordered) + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(page, pages - 1)
    lines: list[Line] = [say("officer.queue_title", count=len(ordered), page=page + 1, pages=pages)]
    choices: list[Choice] = []
    for d in ordered[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
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
    if page > 0:
        choices.append(Choice(f"/queue {filter_arg}p{page}", say("nav.prev")))
    if page < pages - 1:
        choices.append(Choice(f"/queue {filter_arg}p{page + 2}", say("nav.next", page=page + 2, pages=pages)))
    if any(d.priority for d in ordered):
        lines.append(say("officer.priority_note"))
    return answer(*lines, choices=tuple(choices))


# --- one dossier ------------------------------------------------------------------------------------


def _find(arg: str, ctx: OfficerContext) -> tuple[DossierRecord | None, str, Outcome | None]:
    ref, _, rest = arg.partition(" ")
    if not ref:
        return None, "", answer(say("officer.need_ref"))
    found = ctx.find(ref)
    if found is None:
        return None, rest, answer(say("officer.not_found", ref=ref.upper()))
    return found, rest.strip(), None


def dossier(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
    found, _, error = _find(arg, ctx)
    if error or found is None:
        return error or answer(say("officer.need_ref"))
    d = found
    lines: list[Line] = [
        say("officer.dossier_head", ref=d.ref, status=say(f"status.{d.status}"), version=d.version),
        say(
            "officer.dossier_firm", firm=Plain(d.firm), tax=d.tax_code, province=d.province, commune=d.commune
        ),
        say(
            "officer.dossier_size",
            summary=Plain(d.size_summary.get(lang) or d.size_summary.get("vi", d.size)),
        ),
        say("officer.dossier_filed", date=d.filed_on.strftime("%d/%m/%Y"), deadline=deadline_text(d, ctx)),
    ]
    if d.priority:
        lines.append(say("officer.dossier_priority"))
    for item in d.items:
        approved = (
            say("officer.approved_amount", amount=Money(item.approved_vnd))
            if item.approved_vnd is not None
            else Plain("")
        )
        lines.append(
            say(
                "officer.dossier_item",
                code=item.code,
                title=Plain(item.title(lang)),
                cost=Money(item.cost_vnd),
                state=Money(item.state_vnd),
                basis=Plain(item.basis(lang)),
                approved=approved,
            )
        )
    lines.append(say("review.total", total=Money(d.total_state_vnd)))
    for evidence_id in d.checklist:
        ev = ctx.catalogue.evidence.get(evidence_id)
        lines.append(say("filed.evidence", name=Plain(ev.title.get(lang) if ev else evidence_id)))
    lines.append(say("dossier.attachments", count=d.attachments))
    for h in d.history:
        lines.append(
            say(
                "officer.history_line",
                at=h.at.strftime("%d/%m/%Y %H:%M"),
                actor=h.actor,
                action=h.action,
                note=h.note or "",
            )
        )
    choices: list[Choice] = []
    tag = f"{d.ref} @v{d.version}"
    if status.move("claim", d.status):
        choices.append(Choice(f"/claim {tag}", say("officer.button_claim")))
    if status.move("approve", d.status):
        choices.append(Choice(f"/approve {tag}", say("officer.button_approve")))
    if status.move("ask", d.status) or status.move("reject", d.status):
        lines.append(say("officer.hint_ask_reject", ref=d.ref))
    out = Reply(tuple(lines), tuple(choices), attach="dossier")
    return Outcome((out,), (Effect("dossier_document", {"ref": d.ref}),))


# --- status moves -----------------------------------------------------------------------------------

NOTIFY = {
    "claim": "notify.in_review",
    "ask": "notify.needs_info",
    "approve": "notify.approved",
    "reject": "notify.rejected",
}


def transition(
    action: str,
    d: DossierRecord,
    ctx: OfficerContext,
    lang: str,
    version: int | None,
    note: str | None = None,
    approvals: dict[str, int] | None = None,
) -> Outcome:
    if version is not None and version != d.version:  # a button from a view that is no longer current
        actor, last = d.last_change or ("?", "?")
        return answer(say("officer.conflict", ref=d.ref, actor=actor, action=say(f"action.{last}")))
    target = status.move(action, d.status)
    if target is None:
        return answer(
            say(
                "officer.bad_move",
                ref=d.ref,
                action=say(f"action.{action}"),
                status=say(f"status.{d.status}"),
            )
        )
    expected = d.version if version is None else version
    params: dict[str, Any] = {"ref": d.ref}
    if note:
        params["note"] = note
    if approvals is not None:
        params["approved_vnd"] = sum(approvals.values())
    done = say(
        f"officer.done.{action}", ref=d.ref, note=note or "", total=Money(sum((approvals or {}).values()))
    )
    effect = Effect(
        "transition",
        {
            "ref": d.ref,
            "dossier_id": d.id,
            "version": expected,
            "action": action,
            "from": d.status,
            "to": target,
            "note": note,
            "approvals": approvals,
            "notify": {"key": NOTIFY[action], "params": params},
            "done": done,
        },
    )
    lines: list[Line] = [Msg("officer.outcome", {"text": Result("outcome")})]
    if approvals is not None:
        for item in d.items:
            if item.item_id in approvals:
                lines.append(
                    say(
                        "officer.approval_line",
                        code=item.code,
                        amount=Money(approvals[item.item_id]),
                        of=Money(item.state_vnd),
                    )
                )
    return answer(*lines, effects=(effect,))


def claim(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
    d, _, error = _find(arg, ctx)
    if error or d is None:
        return error or answer(say("officer.need_ref"))
    return transition("claim", d, ctx, lang, version)


def ask(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
    d, text, error = _find(arg, ctx)
    if error or d is None:
        return error or answer(say("officer.need_ref"))
    if not text:
        return answer(say("officer.need_text", command="/ask", ref=d.ref))
    return transition("ask", d, ctx, lang, version, note=text)


def reject(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
    d, text, error = _find(arg, ctx)
    if error or d is None:
        return error or answer(say("officer.need_ref"))
    if not text:
        return answer(say("officer.need_reason", ref=d.ref))
    return transition("reject", d, ctx, lang, version, note=text)


def parse_approvals(d: DossierRecord, text: str) -> tuple[dict[str, int], str] | Msg:
    """ "III.A.2.1=80tr I.2.2=0 ghi chú" -> per item amounts (others in full) and the note."""
    approvals = {item.item_id: item.state_vnd for item in d.items}
    by_code = {item.code.upper(): item for item in d.items}
    note_words: list[str] = []
    for token in re.findall(r"\S+=\S+(?:\s+(?:tỷ|ty|tỉ|ti|triệu|trieu|tr|k|đồng|dong|đ))?|\S+", text):
        if "=" not in token:
            note_words.append(token)
            continue
        code, _, money = token.partition("=")
        item = by_code.get(code.upper())
        if item is None:
            return say("officer.unknown_item", code=code, ref=d.ref, codes=", ".join(by_code))
        try:
            amount = parse_vnd(money) if money.strip() not in ("0", "0đ") else 0
        except MoneyError as exc:
            return say(f"money.error.{exc.code}", text=money)
        if amount > item.state_vnd:
            return say(
                "officer.over_computed", code=item.code, amount=Money(amount), max=Money(item.state_vnd)
            )
        approvals[item.item_id] = amount
    return approvals, " ".join(note_words)


def approve(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
    d, text, error = _find(arg, ctx)
    if error or d is None:
        return error or answer(say("officer.need_ref"))
    parsed = parse_approvals(d, text)
    if isinstance(parsed, Msg):
        return answer(parsed)
    approvals, note = parsed
    return transition("approve", d, ctx, lang, version, note=note or None, approvals=approvals)


def note(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
    d, text, error = _find(arg, ctx)
    if error or d is None:
        return error or answer(say("officer.need_ref"))
    if not text:
        return answer(say("officer.need_text", command="/note", ref=d.ref))
    return answer(
        say("officer.noted", ref=d.ref),
        effects=(Effect("note", {"ref": d.ref, "dossier_id": d.id, "note": text}),),
    )


# --- statistics and export --------------------------------------------------------------------------


def _year(arg: str, ctx: OfficerContext) -> int | None:
    text = arg.strip()
    if not text:
        return ctx.today.year
    return int(text) if re.fullmatch(r"20\d\d", text) else None


def stats(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
    year = _year(arg, ctx)
    if year is None:
        return answer(say("officer.bad_year", value=arg))
    rows = [d for d in ctx.dossiers if d.filed_on.year == year]
    if not rows:
        return answer(say("officer.stats_empty", year=year))
    by_status = Counter(d.status for d in rows)
    by_size = Counter(d.size for d in rows)
    by_province = Counter(d.province for d in rows)
    by_kind: Counter[str] = Counter()
    for d in rows:
        for item in d.items:
            kind = (
                ctx.catalogue.item(item.item_id).kind.value
                if item.item_id in ctx.catalogue.items
                else "other"
            )
            by_kind[kind] += 1
    decided = [d for d in rows if d.decided_on is not None]
    days = [ctx.calendar.working_days_between(d.filed_on, d.decided_on) for d in decided if d.decided_on]
    average = f"{sum(days) / len(days):.1f}" if days else "—"

    def pairs(counter: Counter[str], label: Any) -> list[Msg]:
        return [say("officer.stats_pair", label=label(k), n=v) for k, v in counter.most_common()]

    approved = sum(d.approved_vnd for d in rows if d.status == "approved")
    lines: list[Line] = [
        say("officer.stats_title", year=year, count=len(rows)),
        say("officer.stats_status", items=pairs(by_status, lambda k: say(f"status.{k}"))),
        say("officer.stats_size", items=pairs(by_size, lambda k: say(f"size.name.{k}"))),
        say(
            "officer.stats_kind",
            items=pairs(by_kind, lambda k: say(f"kind.{k}") if k != "other" else Plain(k)),
        ),
        say("officer.stats_province", items=pairs(by_province, lambda k: Plain(k or "—"))),
        say(
            "officer.stats_money",
            requested=Money(sum(d.total_state_vnd for d in rows)),
            approved=Money(approved),
        ),
        say("officer.stats_days", days=average, n=len(days)),
    ]
    chart = {
        "title_key": "officer.chart_title",
        "year": year,
        "series": {k: v for k, v in by_status.most_common()},
    }
    out = Reply(tuple(lines), (), attach="chart")
    return Outcome((out,), (Effect("chart", chart),))


def export(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
    year = _year(arg, ctx)
    if year is None:
        return answer(say("officer.bad_year", value=arg))
    count = sum(1 for d in ctx.dossiers if d.filed_on.year == year)
    out = Reply((say("officer.export_done", year=year, count=count),), (), attach="export")
    return Outcome((out,), (Effect("export", {"year": year}),))


# --- officers (admins) ------------------------------------------------------------------------------


def officer_add(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
    parts = arg.split()
    if len(parts) != 2:
        return answer(say("admin.add_usage", agencies=", ".join(ctx.agencies)))
    user_key, agency_id = parts[0].lower(), parts[1]
    if not _USER_KEY.match(user_key):
        return answer(say("admin.bad_user", value=parts[0]))
    if agency_id not in ctx.agencies:
        return answer(say("admin.bad_agency", value=agency_id, agencies=", ".join(ctx.agencies)))
    name = ctx.agencies[agency_id].name(lang)
    effect = Effect("officer_add", {"user_key": user_key, "agency_id": agency_id})
    return answer(say("admin.added", user=user_key, agency=Plain(name)), effects=(effect,))


def officer_remove(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
    user_key = arg.strip().lower()
    if not any(key == user_key for key, _ in ctx.officers):
        return answer(say("admin.not_officer", user=user_key or "—"))
    return answer(
        say("admin.removed", user=user_key), effects=(Effect("officer_remove", {"user_key": user_key}),)
    )


def officers(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
    if not ctx.officers:
        return answer(say("admin.none"))
    lines: list[Line] = [say("admin.list_title", count=len(ctx.officers))]
    for key, agency_id in ctx.officers:
        agency = ctx.agencies.get(agency_id)
        lines.append(
            say("admin.list_line", user=key, agency=Plain(agency.name(lang) if agency else agency_id))
        )
    return answer(*lines)


COMMANDS = {
    "/queue": queue,
    "/dossier": dossier,
    "/claim": claim,
    "/ask": ask,
    "/approve": approve,
    "/reject": reject,
    "/note": note,
    "/stats": stats,
    "/export": export,
    "/officer_add": officer_add,
    "/officer_remove": officer_remove,
    "/officers": officers,
}
