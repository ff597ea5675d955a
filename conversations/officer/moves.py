"""``/claim``, ``/ask``, ``/approve``, ``/reject``, ``/note``, ``/reassign``: moves on the one state machine
(rules/dossier.py), with the optimistic version check, the conflict of interest and the audit."""

from __future__ import annotations

import re
from typing import Any

from conversations.effects import AuditConflict, Note, Reassign, Transition
from conversations.messages import Choice, Line, Money, Msg, Result, say
from conversations.officer import programmes
from conversations.officer import request as requests
from conversations.officer.base import Answer, answer, on_dossier
from conversations.officer.context import DossierRecord, OfficerContext
from rules import dossier as status
from rules.money import MoneyError, parse_vnd

NOTIFY = {
    "claim": "notify.in_review",
    "ask": "notify.needs_info",
    "approve": "notify.approved",
    "reject": "notify.rejected",
}


DECISIONS = ("claim", "ask", "approve", "reject")  # what an officer with a conflict of interest may not do


def refuse_conflict(action: str, d: DossierRecord, ctx: OfficerContext, reason: str) -> Answer:
    """No officer decides their own case: refused, audited, and the admin's way out named."""
    effect = AuditConflict(d.id, d.ref, action, reason)
    return answer(
        say(f"officer.conflict_refused.{reason}", ref=d.ref, action=say(f"action.{action}")),
        say("officer.conflict_reassign", ref=d.ref),
        effects=(effect,),
    )


def need_claim(action: str, d: DossierRecord, ctx: OfficerContext) -> Answer | None:
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
) -> Answer:
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
    effect = Transition(
        ref=d.ref,
        dossier_id=d.id,
        version=expected,
        action=action,
        from_status=d.status,
        to_status=target,
        notify_key=NOTIFY[action],
        notify_params=params,
        done=done,
        note=note,
        approvals=approvals,
        request=requests.to_json(asked) if asked else None,
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
def claim(d: DossierRecord, rest: str, ctx: OfficerContext, lang: str, version: int | None) -> Answer:
    return transition("claim", d, ctx, lang, version)


@on_dossier
def ask(d: DossierRecord, text: str, ctx: OfficerContext, lang: str, version: int | None) -> Answer:
    if not text:
        return answer(say("officer.need_text", command="/ask", ref=d.ref))
    return transition("ask", d, ctx, lang, version, note=text)


@on_dossier
def reject(d: DossierRecord, text: str, ctx: OfficerContext, lang: str, version: int | None) -> Answer:
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
def approve(d: DossierRecord, text: str, ctx: OfficerContext, lang: str, version: int | None) -> Answer:
    parsed = parse_approvals(d, text)
    if isinstance(parsed, Msg):
        return answer(parsed)
    approvals, note = parsed
    if (over := programmes.over_budget(d, approvals, text, ctx, lang)) is not None:
        return over
    note = programmes.strip_confirm(note)
    return transition("approve", d, ctx, lang, version, note=note or None, approvals=approvals)


@on_dossier
def note(d: DossierRecord, text: str, ctx: OfficerContext, lang: str, version: int | None) -> Answer:
    if not text:
        return answer(say("officer.need_text", command="/note", ref=d.ref))
    return answer(
        say("officer.noted", ref=d.ref),
        effects=(Note(d.ref, d.id, text),),
    )


def _reassign(d: DossierRecord, rest: str, ctx: OfficerContext, lang: str, version: int | None) -> Answer:
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
                effects=(AuditConflict(d.id, d.ref, "reassign", reason, who=target),),
            )
        )
    if target == d.claimed_by:
        return answer(say("admin.reassign_same", user=target, ref=d.ref))
    effect = Reassign(
        ref=d.ref,
        dossier_id=d.id,
        version=d.version if version is None else version,
        from_officer=d.claimed_by,
        to_officer=target,
        status=d.status,
        new_status="in_review" if d.status == "submitted" else d.status,
    )
    return answer(Msg("officer.outcome", {"text": Result("outcome")}), effects=(effect,))


reassign = on_dossier(_reassign, "admin.reassign_usage")
