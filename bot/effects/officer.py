"""Officers' effects: status moves (with the optimistic version check), notes, audits of refusals and
conflicts, reassignment, a dossier's files, which file proves what, who works for which agency."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.effects.base import Ctx, Document, Env, notify_staff, runs
from bot.store import dossiers as dossiers_store
from bot.store import officers as officers_store
from bot.store import outbox
from bot.store.models import Dossier, User
from conversations.effects import (
    Assign,
    AuditConflict,
    AuditRefused,
    Note,
    OfficerAdd,
    OfficerRemove,
    Reassign,
    SendFiles,
    Transition,
)
from conversations.messages import Msg, render_line
from conversations.officer import request as requests
from locales import has, t


@runs(Transition)
def transition(e: Transition, ctx: Ctx) -> None:
    """A status move with an optimistic version check; the loser of a race is told who won."""
    s, key = ctx.s, ctx.key
    dossier = dossiers_store.dossier_by_ref(s, e.ref)
    if dossier is None:
        return
    new_data = {**dossier.data, "last_change": {"actor": key, "action": e.action}}
    if e.action == "claim":
        new_data["claimed_by"] = key
    if e.action == "ask":
        new_data["request"] = e.note
        new_data["open_request"] = e.request or requests.to_json(requests.new_request(key, e.note or ""))
    if e.action in ("approve", "reject"):
        new_data["decided_on"] = ctx.env.today.isoformat()
        new_data["decision_note"] = e.note
    if not dossiers_store.move_dossier(s, dossier.id, e.version, e.to_status, new_data):
        last = dossiers_store.last_event(s, dossier.id)
        conflict = Msg(
            "officer.conflict",
            {
                "ref": dossier.ref,
                "actor": last.actor if last else "?",
                # what they did, in the officer's language (any audited action has a history wording)
                "action": Msg(f"history.{last.action}") if last and has(f"history.{last.action}") else "?",
            },
        )
        ctx.results.outcome = render_line(conflict, ctx.lang)
        return
    if e.approvals is not None:
        for item in dossier.items:
            item.approved_vnd = int(e.approvals.get(item.item_id, 0))
    dossiers_store.add_event(
        s,
        key,
        e.action,
        dossier_id=dossier.id,
        before={"status": e.from_status, "version": e.version},
        after={
            "status": e.to_status,
            "version": e.version + 1,
            **({"approvals": dict(e.approvals)} if e.approvals else {}),
        },
        note=e.note,
    )
    owner = s.get(User, dossier.user_id)
    if owner is not None and owner.deleted_at is None:
        outbox.enqueue(
            s,
            owner,
            {"key": e.notify_key, "params": dict(e.notify_params), **decision_details(ctx.env, dossier, e)},
            dedup_key=f"{dossier.ref}:v{e.version + 1}",
        )
        ctx.results.notified = True
    ctx.results.outcome = render_line(e.done, ctx.lang)


def decision_details(env: Env, dossier: Dossier, e: Transition) -> dict[str, Any]:
    """What the owner's notification of a decision adds (issue 15.4): the amount approved per item
    against the amount asked, the officer's reason, and after a rejection what the owner can do next."""
    if e.action not in ("approve", "reject"):
        return {}
    agency = env.staff.agencies.get(dossier.agency_id or "")
    return {
        "decision": e.action,
        "items": [
            {
                "code": i.code,
                "title_vi": i.data.get("title_vi", i.code),
                "title_en": i.data.get("title_en", i.code),
                "state_vnd": i.state_vnd,
                "approved_vnd": i.approved_vnd,
            }
            for i in dossier.items
        ],
        "note": e.note or "",
        "agency_vi": agency.name("vi") if agency else "",
        "agency_en": agency.name("en") if agency else "",
    }


@runs(Note)
def note(e: Note, ctx: Ctx) -> None:
    dossiers_store.add_event(ctx.s, ctx.key, "note", dossier_id=e.dossier_id, note=e.note)


@runs(AuditRefused)
def audit_refused(e: AuditRefused, ctx: Ctx) -> None:
    dossiers_store.add_event(ctx.s, ctx.key, "refused", note=e.command)


@runs(AuditConflict)
def audit_conflict(e: AuditConflict, ctx: Ctx) -> None:
    """An officer tried to decide a dossier they are recorded against (issue 13.10): refused, kept."""
    dossiers_store.add_event(
        ctx.s,
        ctx.key,
        "conflict",
        dossier_id=e.dossier_id,
        after={"action": e.action, "reason": e.reason, "who": e.who or ctx.key},
        note=f"{e.action}: {e.reason}",
    )


@runs(Reassign)
def reassign(e: Reassign, ctx: Ctx) -> None:
    """An admin gives a dossier to another officer; a submitted one is claimed for them (audited)."""
    s, key, lang = ctx.s, ctx.key, ctx.lang
    dossier = dossiers_store.dossier_by_ref(s, e.ref)
    if dossier is None:
        return
    target = e.to_officer
    new_data = {**dossier.data, "claimed_by": target, "last_change": {"actor": key, "action": "reassign"}}
    if not dossiers_store.move_dossier(s, dossier.id, e.version, e.new_status, new_data):
        last = dossiers_store.last_event(s, dossier.id)
        actor = last.actor if last else "?"
        ctx.results.outcome = t("officer.conflict", lang, ref=dossier.ref, actor=actor, action="—")
        return
    dossiers_store.add_event(
        s,
        key,
        "reassign",
        dossier_id=dossier.id,
        before={"status": e.status, "claimed_by": e.from_officer, "version": e.version},
        after={"status": e.new_status, "claimed_by": target, "version": e.version + 1},
        note=target,
    )
    payload = {"key": "notify.reassigned", "params": {"ref": dossier.ref, "by": key}}
    notify_staff(s, target, payload, dedup_key=f"{dossier.ref}:reassign:v{e.version + 1}")
    if e.from_officer and e.from_officer != target:
        payload = {"key": "notify.reassigned_away", "params": {"ref": dossier.ref, "to": target}}
        notify_staff(s, e.from_officer, payload, dedup_key=f"{dossier.ref}:unassign:v{e.version + 1}")
    ctx.results.outcome = t("admin.reassigned", lang, ref=dossier.ref, user=target)


@runs(SendFiles)
def send_files(e: SendFiles, ctx: Ctx) -> None:
    """The dossier's attachments as files, numbered as /dossier lists them (a repeated file once)."""
    out: list[Document] = []
    seen: set[str] = set()
    for number, a in enumerate(dossiers_store.dossier_attachments(ctx.s, e.dossier_id), start=1):
        if a.sha256 in seen:
            continue
        seen.add(a.sha256)
        try:
            content = Path(a.path).read_bytes()
        except OSError:
            continue
        out.append(Document(f"{e.ref}-{number}-{a.filename}", content, a.mime))
    ctx.results.documents["files"] = list(out)


@runs(Assign)
def assign(e: Assign, ctx: Ctx) -> None:
    """The officer says which checklist item a file proves (audited, with the value before)."""
    dossier = ctx.s.get(Dossier, e.dossier_id)
    if dossier is None:
        return
    proves = dict(dossier.data.get("evidence_files") or {})
    proves[str(e.attachment_id)] = e.evidence_id
    dossier.data = {**dossier.data, "evidence_files": proves}
    dossiers_store.add_event(
        ctx.s,
        ctx.key,
        "assign",
        dossier_id=dossier.id,
        before={"file": e.number, "evidence": e.before},
        after={"file": e.number, "evidence": e.evidence_id},
        note=f"#{e.number} → {e.evidence_id}",
    )


@runs(OfficerAdd)
def officer_add(e: OfficerAdd, ctx: Ctx) -> None:
    before = officers_store.officer_of(ctx.s, e.user_key)
    previous = {"agency_id": before.agency_id} if before else None
    officers_store.add_officer(ctx.s, e.user_key, e.agency_id, ctx.key)
    after = {"user": e.user_key, "agency_id": e.agency_id}
    dossiers_store.add_event(ctx.s, ctx.key, "officer_add", before=previous, after=after)


@runs(OfficerRemove)
def officer_remove(e: OfficerRemove, ctx: Ctx) -> None:
    before = officers_store.officer_of(ctx.s, e.user_key)
    if before is not None and officers_store.remove_officer(ctx.s, e.user_key):
        previous = {"user": before.user_key, "agency_id": before.agency_id}
        dossiers_store.add_event(ctx.s, ctx.key, "officer_remove", before=previous)
