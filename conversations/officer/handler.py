"""Officer and admin commands: queue, dossier, files, assign, claim, ask, approve, reject, note, stats,
export, officers, reassign.

Pure: ``handle(command, argument, context) -> Outcome`` with replies in the officer's language and effects
for the shell (status moves with an optimistic version check, audit rows, owner notifications).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from conversations.engine import PAGE_SIZE
from conversations.messages import Choice, Effect, Line, Money, Msg, Plain, Reply, Result, say
from conversations.officer import request as requests
from conversations.officer.context import DossierRecord, OfficerContext
from locales import t
from rules import dossier as status
from rules.deadline import review_deadline
from rules.money import MoneyError, parse_vnd
from rules.text import fold

OFFICER_COMMANDS = frozenset(
    {
        *("/queue", "/dossier", "/files", "/assign", "/claim", "/ask", "/approve", "/reject", "/note"),
        *("/stats", "/export"),
    }
)
ADMIN_COMMANDS = frozenset({"/officer_add", "/officer_remove", "/officers", "/reassign"})
STATUSES = status.STATUSES
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
VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")
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


def queue(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
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


Command = Callable[[str, OfficerContext, str, int | None], Outcome]
OnDossier = Callable[[DossierRecord, str, OfficerContext, str, int | None], Outcome]


def on_dossier(handler: OnDossier, usage: str = "officer.need_ref") -> Command:
    """A command about one dossier ("/claim HS-2026-000001 ..."): the reference is checked once, here;
    the handler gets the dossier and the rest of the line. ``usage``: what to say when there is no
    reference."""

    def command(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
        ref, _, rest = arg.partition(" ")
        if not ref:
            return answer(say(usage))
        found = ctx.find(ref)
        if found is None:
            return answer(say("officer.not_found", ref=ref.upper()))
        return handler(found, rest.strip(), ctx, lang, version)

    return functools.wraps(handler)(command)


def _declared(value: object, lang: str) -> Line:
    if value is None or value == "":
        return say("officer.not_declared")
    if isinstance(value, bool) or value in ("yes", "no"):
        return say("officer.yes" if value in (True, "yes") else "officer.no")
    return Plain(str(value))


def _money_or_blank(value: object) -> Line:
    if isinstance(value, int) and not isinstance(value, bool):
        return Plain("") if value < 0 else say("officer.money", amount=Money(value))
    return say("officer.not_declared")


def _size_text(n: int, lang: str) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB".replace(".", "," if lang == "vi" else ".")
    return f"{max(1, round(n / 1024))} KB"


def evidence_name(ctx: OfficerContext, evidence_id: str, lang: str) -> str:
    ev = ctx.catalogue.evidence.get(evidence_id)
    return ev.title.get(lang) if ev else evidence_id


def file_lines(d: DossierRecord, ctx: OfficerContext, lang: str) -> list[Line]:
    lines: list[Line] = []
    for f in d.files:
        proves = (
            say("officer.file_proves", evidence=Plain(evidence_name(ctx, f.evidence_id, lang)))
            if f.evidence_id
            else say("officer.file_unassigned")
        )
        duplicate = say("officer.file_duplicate", of=f.duplicate_of) if f.duplicate_of else Plain("")
        lines.append(
            say(
                "officer.file_line",
                n=f.number,
                name=Plain(f.name),
                size=_size_text(f.size_bytes, lang),
                proves=proves,
                duplicate=duplicate,
            )
        )
    return lines


@on_dossier
def dossier(d: DossierRecord, rest: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
    p = d.profile
    lines: list[Line] = [
        say("officer.dossier_head", ref=d.ref, status=say(f"status.{d.status}"), version=d.version),
        say(
            "officer.dossier_firm", firm=Plain(d.firm), tax=d.tax_code, province=d.province, commune=d.commune
        ),
        say(
            "officer.dossier_contact",
            address=_declared(p.get("address"), lang),
            phone=_declared(p.get("phone"), lang),
            email=_declared(p.get("email"), lang),
        ),
        say(
            "officer.dossier_declared",
            sector=say(f"sector.{p['sector']}") if p.get("sector") else say("officer.not_declared"),
            workers=_declared(p.get("workers"), lang),
            female=_declared(p.get("female_workers"), lang),
            revenue=_money_or_blank(p.get("revenue")),
            capital=_money_or_blank(p.get("capital")),
        ),
        say(
            "officer.dossier_size",
            summary=Plain(d.size_summary.get(lang) or d.size_summary.get("vi", d.size)),
        ),
    ]
    reason = d.size_reason.get(lang) or d.size_reason.get("vi")
    if reason:
        lines.append(say("officer.dossier_size_reason", reason=Plain(reason)))
    lines.append(
        say("officer.dossier_filed", date=d.filed_on.strftime("%d/%m/%Y"), deadline=deadline_text(d, ctx))
    )
    if d.claimed_by:
        lines.append(say("officer.dossier_claimed", officer=d.claimed_by))
    if d.priority:
        lines.append(say("officer.dossier_priority"))
    conflict = ctx.conflict(d)
    if conflict:
        lines.append(say(f"officer.conflict_note.{conflict}", ref=d.ref))
    for item in d.items:
        approved = (
            say("officer.approved_amount", amount=Money(item.approved_vnd))
            if item.approved_vnd is not None
            else Plain("")
        )
        known = ctx.catalogue.item(item.item_id) if item.item_id in ctx.catalogue.items else None
        unit = t(f"doc.plan.unit_name.{known.cap_unit.value}", lang) if known else ""
        lines.append(
            say(
                "officer.dossier_item",
                code=item.code,
                title=Plain(item.title(lang)),
                quantity=item.quantity,
                unit=Plain(unit or t("officer.unit_default", lang)),
                cost=Money(item.cost_vnd),
                state=Money(item.state_vnd),
                basis=Plain(item.basis(lang) or "—"),
                approved=approved,
            )
        )
        if item.consultant_code or (known is not None and known.needs_network_consultant):
            lines.append(
                say(
                    "officer.dossier_consultant",
                    code=Plain(item.consultant_code) if item.consultant_code else say("officer.not_declared"),
                )
            )
        lines.append(say("officer.dossier_quote_yes" if item.quote else "officer.dossier_quote_no"))
    lines.append(say("review.total", total=Money(d.total_state_vnd)))
    # the declaration form is the dossier smebot wrote: provided with it (issue 15.5)
    proven = {f.evidence_id for f in d.files if f.evidence_id} | {"declaration_form"}
    for evidence_id in d.checklist:
        mark = "officer.evidence_ok" if evidence_id in proven else "officer.evidence_missing"
        lines.append(say(mark, name=Plain(evidence_name(ctx, evidence_id, lang))))
    lines.append(say("officer.dossier_files", count=len(d.files) or d.attachments, ref=d.ref))
    lines.extend(file_lines(d, ctx, lang))
    if d.request is not None:
        lines.append(say("officer.request_open", items=Plain(requests.numbered(d.request))))
        for message in d.request.messages:
            lines.append(say("officer.request_message", text=Plain(message)))
    for h in d.history:
        lines.append(history_line(h.at, h.actor, h.action, h.note))
    choices: list[Choice] = []
    tag = f"{d.ref} @v{d.version}"
    if status.move("claim", d.status) and not conflict:
        choices.append(Choice(f"/claim {tag}", say("officer.button_claim")))
    if status.move("approve", d.status) and not conflict:
        choices.append(Choice(f"/approve {tag}", say("officer.button_approve")))
    if d.files:
        choices.append(Choice(f"/files {d.ref}", say("officer.button_files")))
    if (status.move("ask", d.status) or status.move("reject", d.status)) and not conflict:
        lines.append(say("officer.hint_ask_reject", ref=d.ref))
    out = Reply(tuple(lines), tuple(choices), attach="dossier")
    return Outcome((out,), (Effect("dossier_document", {"ref": d.ref}),))


def history_line(at: dt.datetime, actor: str, action: str, note: str | None) -> Msg:
    """An audit row in the officer's language, at Vietnam's time (UTC+7)."""
    local = at.astimezone(VIETNAM) if at.tzinfo else at
    what: Line = say(f"history.{action}") if action in HISTORY_ACTIONS else Plain(action)
    return say(
        "officer.history_line",
        at=local.strftime("%d/%m/%Y %H:%M"),
        actor=actor,
        action=what,
        note=Plain(f" · {note}") if note else Plain(""),
    )


HISTORY_ACTIONS = frozenset(
    {
        *("file", "attach", "claim", "ask", "answer", "answer_part", "approve", "reject", "withdraw"),
        *("note", "assign", "reassign", "conflict", "consent", "erase", "refused", "message"),
    }
)


@on_dossier
def files(d: DossierRecord, rest: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
    if not d.files:
        return answer(say("officer.files_none", ref=d.ref))
    lines: list[Line] = [say("officer.files_title", ref=d.ref, count=len(d.files))]
    lines.extend(file_lines(d, ctx, lang))
    if any(f.evidence_id is None for f in d.files):
        lines.append(say("officer.assign_hint", ref=d.ref, choices=_checklist_choices(d, ctx, lang)))
    out = Reply(tuple(lines), (), attach="files")
    return Outcome((out,), (Effect("files", {"ref": d.ref, "dossier_id": d.id}),))


def _checklist_choices(d: DossierRecord, ctx: OfficerContext, lang: str) -> str:
    return "; ".join(
        f"{n}. {evidence_id} ({evidence_name(ctx, evidence_id, lang)})"
        for n, evidence_id in enumerate(d.checklist, start=1)
    )


@on_dossier
def assign(d: DossierRecord, rest: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
    parts = rest.split()
    usage = say("officer.assign_usage", ref=d.ref, choices=_checklist_choices(d, ctx, lang) or "—")
    if len(parts) != 2:
        return answer(usage)
    number, wanted = parts[0].lstrip("#"), parts[1]
    chosen = next((f for f in d.files if number.isdigit() and f.number == int(number)), None)
    if chosen is None:
        return answer(say("officer.assign_no_file", ref=d.ref, n=parts[0], count=len(d.files)), usage)
    evidence_id: str | None = None
    if wanted.isdigit() and 1 <= int(wanted) <= len(d.checklist):
        evidence_id = d.checklist[int(wanted) - 1]
    elif wanted in d.checklist or wanted in ctx.catalogue.evidence:
        evidence_id = wanted
    if evidence_id is None:
        return answer(say("officer.assign_no_evidence", value=Plain(wanted)), usage)
    effect = Effect(
        "assign",
        {
            "dossier_id": d.id,
            "attachment_id": chosen.attachment_id,
            "evidence_id": evidence_id,
            "before": chosen.evidence_id,
            "number": chosen.number,
        },
    )
    done = say(
        "officer.assigned",
        n=chosen.number,
        name=Plain(chosen.name),
        evidence=Plain(evidence_name(ctx, evidence_id, lang)),
        ref=d.ref,
    )
    return answer(done, effects=(effect,))


# --- status moves -----------------------------------------------------------------------------------

NOTIFY = {
    "claim": "notify.in_review",
    "ask": "notify.needs_info",
    "approve": "notify.approved",
    "reject": "notify.rejected",
}
DECISIONS = ("claim", "ask", "approve", "reject")  # what an officer with a conflict of interest may not do


def refuse_conflict(action: str, d: DossierRecord, ctx: OfficerContext, reason: str) -> Outcome:
    """No officer decides their own case: refused, audited, and the admin's way out named."""
    effect = Effect("audit_conflict", {"dossier_id": d.id, "ref": d.ref, "action": action, "reason": reason})
    return answer(
        say(f"officer.conflict_refused.{reason}", ref=d.ref, action=say(f"action.{action}")),
        say("officer.conflict_reassign", ref=d.ref),
        effects=(effect,),
    )


def need_claim(action: str, d: DossierRecord, ctx: OfficerContext) -> Outcome | None:
    """Deciding needs the claim: say so, and offer it (or name who holds it)."""
    if action == "claim":
        return None
    if d.status == "submitted":
        return answer(
            say("officer.need_claim", ref=d.ref, action=say(f"action.{action}")),
            choices=(Choice(f"/claim {d.ref} @v{d.version}", say("officer.button_claim")),),
        )
    if d.status in ("in_review", "needs_info") and d.claimed_by and d.claimed_by != ctx.actor:
        return answer(say("officer.claimed_by_other", ref=d.ref, officer=d.claimed_by))
    return None


def transition(
    action: str,
    d: DossierRecord,
    ctx: OfficerContext,
    lang: str,
    version: int | None,
    note: str | None = None,
    approvals: dict[str, int] | None = None,
) -> Outcome:
    if action in DECISIONS:
        reason = ctx.conflict(d)
        if reason:
            return refuse_conflict(action, d, ctx, reason)
    if version is not None and version != d.version:  # a button from a view that is no longer current
        actor, last = d.last_change or ("?", "?")
        return answer(say("officer.conflict", ref=d.ref, actor=actor, action=say(f"action.{last}")))
    target = status.move(action, d.status)
    if target is None:
        return need_claim(action, d, ctx) or answer(
            say(
                "officer.bad_move",
                ref=d.ref,
                action=say(f"action.{action}"),
                status=say(f"status.{d.status}"),
            )
        )
    claim_needed = need_claim(action, d, ctx)
    if claim_needed is not None:
        return claim_needed
    expected = d.version if version is None else version
    params: dict[str, Any] = {"ref": d.ref}
    if note:
        params["note"] = note
    asked = requests.new_request(ctx.actor, note) if action == "ask" and note else None
    if asked is not None:
        params["note"] = requests.numbered(asked)
    if approvals is not None:
        params["approved_vnd"] = sum(approvals.values())
    done = say(
        f"officer.done.{action}",
        ref=d.ref,
        note=requests.numbered(asked) if asked else note or "",
        total=Money(sum((approvals or {}).values())),
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
            "request": requests.to_json(asked) if asked else None,
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


@on_dossier
def claim(d: DossierRecord, rest: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
    return transition("claim", d, ctx, lang, version)


@on_dossier
def ask(d: DossierRecord, text: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
    if not text:
        return answer(say("officer.need_text", command="/ask", ref=d.ref))
    return transition("ask", d, ctx, lang, version, note=text)


@on_dossier
def reject(d: DossierRecord, text: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
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


@on_dossier
def approve(d: DossierRecord, text: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
    parsed = parse_approvals(d, text)
    if isinstance(parsed, Msg):
        return answer(parsed)
    approvals, note = parsed
    return transition("approve", d, ctx, lang, version, note=note or None, approvals=approvals)


@on_dossier
def note(d: DossierRecord, text: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
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


def decimal_text(value: float, lang: str) -> str:
    """1.5 -> "1,5" in Vietnamese (a decimal comma), "1.5" in English; one decimal."""
    text = f"{value:.1f}"
    return text.replace(".", ",") if lang == "vi" else text


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
    average = decimal_text(sum(days) / len(days), lang) if days else "—"

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
    # the counts are the export's own (one classification of the dossiers for the sheets, the CSV and this)
    out = Reply((Msg("officer.outcome", {"text": Result("export_summary")}),), (), attach="export")
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


def _reassign(d: DossierRecord, rest: str, ctx: OfficerContext, lang: str, version: int | None) -> Outcome:
    """An admin gives a dossier to another officer (e.g. when the one who has it is conflicted)."""
    target = rest.strip().lower()
    if not target:
        return answer(say("admin.reassign_usage"))
    if d.status in status.FINAL:
        return answer(say("admin.reassign_final", ref=d.ref, status=say(f"status.{d.status}")))
    staff = {key for key, agency_id in ctx.officers if agency_id == d.agency_id}
    if target not in staff and target != ctx.actor:
        return answer(say("admin.reassign_not_officer", user=target, ref=d.ref))
    reason = ctx.conflict(d, target)
    if reason:
        return (
            refuse_conflict("claim", d, ctx, reason)
            if target == ctx.actor
            else answer(
                say(f"admin.reassign_conflict.{reason}", user=target, ref=d.ref),
                effects=(
                    Effect(
                        "audit_conflict",
                        {
                            "dossier_id": d.id,
                            "ref": d.ref,
                            "action": "reassign",
                            "reason": reason,
                            "who": target,
                        },
                    ),
                ),
            )
        )
    if target == d.claimed_by:
        return answer(say("admin.reassign_same", user=target, ref=d.ref))
    effect = Effect(
        "reassign",
        {
            "ref": d.ref,
            "dossier_id": d.id,
            "version": d.version if version is None else version,
            "from": d.claimed_by,
            "to": target,
            "status": d.status,
            "new_status": "in_review" if d.status == "submitted" else d.status,
        },
    )
    return answer(Msg("officer.outcome", {"text": Result("outcome")}), effects=(effect,))


reassign = on_dossier(_reassign, "admin.reassign_usage")


COMMANDS = {
    "/queue": queue,
    "/dossier": dossier,
    "/files": files,
    "/assign": assign,
    "/reassign": reassign,
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
