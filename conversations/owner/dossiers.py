"""What an owner sees of their dossiers: the list (/mydossiers), one dossier in full with its checklist,
the decision and its history."""

from __future__ import annotations

from conversations.context import Context, DossierView
from conversations.messages import Choice, Line, Money, Plain, Reply, reply, say
from rules.dates import VIETNAM
from rules.dossier import OPEN
from rules.evidence import PROVIDED_BY_BOT

OPEN_STATUSES = OPEN


def _approved_total(d: DossierView) -> int | None:
    if not d.approved or all(a is None for a in d.approved):
        return None
    return sum(a or 0 for a in d.approved)


def dossier_line(d: DossierView) -> Line:
    approved = _approved_total(d)
    if d.status == "approved" and approved is not None:
        return say(
            "mydossiers.line_approved",
            ref=d.ref,
            status=say(f"status.{d.status}"),
            approved=Money(approved),
            total=Money(d.total_state_vnd),
            date=d.created.strftime("%d/%m/%Y"),
        )
    return say(
        "mydossiers.line",
        ref=d.ref,
        status=say(f"status.{d.status}"),
        total=Money(d.total_state_vnd),
        date=d.created.strftime("%d/%m/%Y"),
    )


def decision_lines(d: DossierView, ctx: Context, lang: str) -> list[Line]:
    """The officer's word on a decided dossier, and for a rejection what the owner can do next."""
    lines: list[Line] = []
    if d.status == "approved" and d.decision_note:
        lines.append(say("mydossiers.approved_note", note=Plain(d.decision_note)))
    if d.status == "rejected":
        lines.append(say("mydossiers.rejected_reason", note=Plain(d.decision_note or "—")))
        agency = next((a for a in ctx.agencies if a.id == d.agency_id), None)
        lines.append(
            say(
                "mydossiers.rejected_next",
                agency=Plain(agency.name(lang) if agency else "—"),
                ref=d.ref,
            )
        )
    return lines


def dossiers_reply(ctx: Context, lang: str) -> Reply:
    if not ctx.dossiers:
        return reply(say("mydossiers.none"))
    lines: list[Line] = [say("mydossiers.title", count=len(ctx.dossiers))]
    choices = []
    for d in ctx.dossiers:
        lines.append(dossier_line(d))
        lines.extend(decision_lines(d, ctx, lang))
        if d.status == "needs_info" and d.request:
            lines.append(say("dossier.request", text=Plain(d.request)))
        choices.append(Choice(f"dossier:{d.ref}", Plain(d.ref)))
    lines.append(say("mydossiers.pick"))
    return reply(*lines, choices=tuple(choices))


def history_lines(d: DossierView) -> list[Line]:
    """The dossier's history as its owner reads it: the officer's questions, the owner's answers."""
    if not d.history:
        return []
    lines: list[Line] = [say("mydossiers.history")]
    for step in d.history:
        at = step.at.astimezone(VIETNAM) if step.at.tzinfo else step.at
        lines.append(
            say(
                "mydossiers.history_line",
                at=at.strftime("%d/%m/%Y %H:%M"),
                who=say(f"mydossiers.who.{step.who}"),
                action=say(f"mydossiers.did.{step.action}"),
                note=Plain(f": {step.note}") if step.note else Plain(""),
            )
        )
    return lines


def dossier_detail(d: DossierView, ctx: Context, lang: str) -> Reply:
    lines: list[Line] = [
        say("dossier.head", ref=d.ref, status=say(f"status.{d.status}"), date=d.created.strftime("%d/%m/%Y"))
    ]
    approved = d.approved if len(d.approved) == len(d.items) else (None,) * len(d.items)
    for (item_id, code, state_vnd), granted in zip(d.items, approved, strict=True):
        title = ctx.catalogue.item(item_id).title.get(lang) if item_id in ctx.catalogue.items else code
        if granted is None:
            lines.append(say("dossier.item", code=code, title=Plain(title), amount=Money(state_vnd)))
        else:
            lines.append(
                say(
                    "dossier.item_approved",
                    code=code,
                    title=Plain(title),
                    amount=Money(state_vnd),
                    approved=Money(granted),
                )
            )
    lines.append(say("review.total", total=Money(d.total_state_vnd)))
    total_approved = _approved_total(d)
    if total_approved is not None:
        lines.append(say("dossier.approved_total", total=Money(total_approved)))
    lines.extend(decision_lines(d, ctx, lang))
    for evidence_id, attached in d.checklist:
        ev = ctx.catalogue.evidence.get(evidence_id)
        name = ev.title.get(lang) if ev else evidence_id
        if evidence_id in PROVIDED_BY_BOT:
            lines.append(say("dossier.evidence_provided", name=Plain(name)))
            continue
        lines.append(say("dossier.evidence_ok" if attached else "dossier.evidence_missing", name=Plain(name)))
    lines.append(say("dossier.attachments", count=d.attachments))
    if d.request and d.status == "needs_info":
        lines.append(say("dossier.request", text=Plain(d.request)))
    lines.extend(history_lines(d))
    if d.status in OPEN_STATUSES:
        lines.append(say("dossier.write_here"))
    return reply(*lines, attach="dossier")
