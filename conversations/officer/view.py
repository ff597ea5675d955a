"""``/dossier``, ``/files``, ``/assign``: what is needed to decide a dossier, its files, what they prove."""

from __future__ import annotations

import datetime as dt

from conversations.effects import Assign, DossierDocument, SendFiles
from conversations.messages import Choice, Line, Money, Msg, Plain, Reply, say
from conversations.officer import request as requests
from conversations.officer.base import Answer, answer, on_dossier
from conversations.officer.context import DossierRecord, OfficerContext
from conversations.officer.queue import deadline_text
from locales import t
from rules import dossier as status
from rules.dates import VIETNAM


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
def dossier(d: DossierRecord, rest: str, ctx: OfficerContext, lang: str, version: int | None) -> Answer:
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
    return Answer((out,), (DossierDocument(d.ref, for_staff=True),))


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
def files(d: DossierRecord, rest: str, ctx: OfficerContext, lang: str, version: int | None) -> Answer:
    if not d.files:
        return answer(say("officer.files_none", ref=d.ref))
    lines: list[Line] = [say("officer.files_title", ref=d.ref, count=len(d.files))]
    lines.extend(file_lines(d, ctx, lang))
    if any(f.evidence_id is None for f in d.files):
        lines.append(say("officer.assign_hint", ref=d.ref, choices=_checklist_choices(d, ctx, lang)))
    out = Reply(tuple(lines), (), attach="files")
    return Answer((out,), (SendFiles(d.ref, d.id),))


def _checklist_choices(d: DossierRecord, ctx: OfficerContext, lang: str) -> str:
    return "; ".join(
        f"{n}. {evidence_id} ({evidence_name(ctx, evidence_id, lang)})"
        for n, evidence_id in enumerate(d.checklist, start=1)
    )


@on_dossier
def assign(d: DossierRecord, rest: str, ctx: OfficerContext, lang: str, version: int | None) -> Answer:
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
    effect = Assign(d.id, chosen.attachment_id, evidence_id, chosen.evidence_id, chosen.number)
    done = say(
        "officer.assigned",
        n=chosen.number,
        name=Plain(chosen.name),
        evidence=Plain(evidence_name(ctx, evidence_id, lang)),
        ref=d.ref,
    )
    return answer(done, effects=(effect,))
