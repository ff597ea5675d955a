"""What the shell does for the engine's effects, inside the message's transaction.

Each effect is a function ``(env, session, user, actor key, data, results, lang)``; ``results`` collects
values the replies show (a new dossier's reference, a document to send, the outcome of a status move).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from bot import documents
from bot.documents.charts import stats_png
from bot.staff import Staff
from bot.store import repo
from bot.store.models import Dossier, User
from conversations.messages import Msg, render_line
from conversations.officer import request as requests
from conversations.owner.handler import PROVIDED_BY_BOT, required_evidence
from conversations.owner.support import looks_like_consultant_code
from locales import has, t
from rules.catalogue import Catalogue
from rules.money import format_vnd


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes
    mime: str


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class DossierDocuments:
    """A dossier's documents, rendered after the transaction (a DOCX takes ~0.1 s: not on the writer)."""

    ref: str
    lang: str


@dataclass(frozen=True)
class Env:
    today: dt.date
    staff: Staff
    catalogue: Catalogue


EffectFn = Callable[[Env, Session, User, str, Mapping[str, Any], dict[str, Any], str], None]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- the owner --------------------------------------------------------------------------------------


def record_consent(
    env: Env, s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    user.consent_at = _now()
    user.consent_version = str(data["version"])
    user.deleted_at = None
    repo.add_event(s, key, "consent", after={"version": data["version"], "lang": data.get("lang")})


def decline_consent(
    env: Env, s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    """No consent, no data kept: only what addresses the answer stays (the user row: platform, id,
    language), and the ids of the updates handled, without their content. Someone who had erased their
    data before and declines now keeps what the law keeps (see :func:`erase_me`)."""
    summary = repo.erase_user(s, user.id, keep_statuses=repo.RETAINED_STATUSES)
    user.consent_at = None
    user.consent_version = None
    results["_remove"] = tuple(summary["files"])
    results["_forget"] = True


def save_profile(
    env: Env, s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    profile = dict(data["profile"])
    repo.upsert_enterprise(s, user.id, str(profile.get("name", "")), profile.get("tax_code"), profile)


def file_dossier(
    env: Env, s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    payload = dict(data["data"])
    enterprise = repo.enterprise_of(s, user.id)
    unlinked = repo.unlinked_attachments(s, user.id)
    payload["attachments"] = len(unlinked)
    dossier = repo.add_dossier(
        s,
        user_id=user.id,
        enterprise_id=enterprise.id if enterprise else None,
        year=int(payload["year"]),
        status="submitted",
        size=str(payload["size"]),
        data={k: v for k, v in payload.items() if k != "items"},
        items=payload["items"],
    )
    dossier.agency_id = data.get("agency_id")
    for attachment in unlinked:
        attachment.dossier_id = dossier.id
    repo.add_event(s, key, "file", dossier_id=dossier.id, after={"status": "submitted", "ref": dossier.ref})
    refs = [r for r in str(results.get("dossier_ref", "")).split(", ") if r]
    results["dossier_ref"] = ", ".join([*refs, dossier.ref])
    results.setdefault("documents:dossier", []).extend(dossier_documents(dossier.ref, lang))


def dossier_documents(ref: str, lang: str) -> list[DossierDocuments]:
    """The dossier filed with the agency is the Vietnamese form, whatever the chat's language; an owner
    who chats in English also gets an English copy to read (issue 15.5)."""
    return [DossierDocuments(ref, "vi"), *([DossierDocuments(ref, lang)] if lang != "vi" else [])]


def attach_file(
    env: Env, s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    info = dict(data["file"])
    dossier = repo.dossier_by_ref(s, data["ref"]) if data.get("ref") else None
    if dossier is not None and dossier.user_id != user.id:
        dossier = None
    attachment = repo.add_attachment(
        s,
        user_id=user.id,
        dossier_id=dossier.id if dossier else None,
        filename=info["name"],
        mime=info["mime"],
        size_bytes=int(info["size_bytes"]),
        sha256=info["sha256"],
        path=info["path"],
    )
    results["attached"] = {"id": attachment.id, "name": info["name"], "sha256": info["sha256"]}
    if dossier is not None:
        dossier.data = {**dossier.data, "attachments": int(dossier.data.get("attachments", 0)) + 1}
        repo.add_event(s, key, "attach", dossier_id=dossier.id, note=info["name"])


def answer_request(
    env: Env, s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    """The owner's file or words go to the open request for documents (issue 15.8). The dossier goes back
    to the officer who asked (needs_info -> in_review, the claim kept) when everything asked has arrived
    or the owner says they are done; until then the owner is told what is still missing."""
    dossier = repo.dossier_by_ref(s, data["ref"])
    if dossier is None or dossier.user_id != user.id or dossier.status != "needs_info":
        return
    asked = requests.from_json(dossier.data.get("open_request")) or requests.new_request(
        str(dossier.data.get("claimed_by") or ""), str(dossier.data.get("request") or "")
    )
    attached = results.get("attached")
    note = str(data.get("note") or "")
    said: list[str] = []
    same: list[int] = []
    if attached:
        files = repo.dossier_attachments(s, dossier.id)
        same = [n for n, a in enumerate(files, start=1) if a.sha256 == attached["sha256"]]
    if attached and len(same) > 1:  # the same content was sent before: said, and it covers nothing new
        said.append(t("request.duplicate", lang, n=same[0]))
        answered = requests.record_answer(asked, text=str(attached["name"]))
    elif attached:
        answered = requests.record_answer(asked, file_name=str(attached["name"]))
    else:
        answered = requests.record_answer(asked, text=note)
    if answered.covered is not None:
        item = answered.request.items[answered.covered - 1].text
        said.append(t("request.covered", lang, n=answered.covered, item=item))
    elif not answered.done:
        said.append(t("request.kept", lang))
    if not answered.done:
        dossier.data = {**dossier.data, "open_request": requests.to_json(answered.request)}
        repo.add_event(s, key, "answer_part", dossier_id=dossier.id, note=note)
        missing = answered.request.missing
        lines = "\n".join(f"{n}. {answered.request.items[n - 1].text}" for n in missing)
        said.append(t("request.missing", lang, items=lines) if missing else t("request.say_done", lang))
        results["request_progress"] = "\n".join(said)
        return
    before = dossier.version
    officer = str(dossier.data.get("claimed_by") or answered.request.by or "")
    closed = [*dossier.data.get("requests", []), {**requests.to_json(answered.request), "closed": True}]
    new_data = {k: v for k, v in dossier.data.items() if k not in ("request", "open_request")}
    new_data["requests"] = closed
    new_data["last_change"] = {"actor": key, "action": "answer"}
    if not repo.move_dossier(s, dossier.id, before, "in_review", new_data):
        return
    repo.add_event(
        s,
        key,
        "answer",
        dossier_id=dossier.id,
        before={"status": "needs_info", "version": before},
        after={"status": "in_review", "version": before + 1, "claimed_by": officer or None},
        note=note,
    )
    missing = answered.request.missing
    params = {"ref": dossier.ref, "items": requests.numbered(answered.request)}
    notify_staff(
        s,
        officer,
        {"key": "notify.answered_all" if not missing else "notify.answered_done", "params": params},
        dedup_key=f"{dossier.ref}:answer:v{before + 1}",
    )
    said.append(t("request.complete", lang, ref=dossier.ref))
    results["request_progress"] = "\n".join(said)


def owner_message(
    env: Env, s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    """What the owner wrote about an open dossier goes to its officer (issue 15.2): kept in its history
    (the officer's /dossier shows it) and notified to the officer who has it, else to its agency's."""
    dossier = repo.dossier_by_ref(s, data["ref"])
    if dossier is None or dossier.user_id != user.id or dossier.status not in repo.OPEN_STATUSES:
        return
    text = str(data["text"])
    event = repo.add_event(s, key, "message", dossier_id=dossier.id, note=text)
    claimed = dossier.data.get("claimed_by")
    officers = (
        [str(claimed)]
        if claimed
        else [o.user_key for o in repo.list_officers(s) if o.agency_id == dossier.agency_id]
    )
    payload = {"key": "message.notify", "params": {"ref": dossier.ref, "text": text}}
    for officer in officers:
        notify_staff(s, officer, payload, dedup_key=f"{dossier.ref}:message:{event.id}:{officer}")


def notify_staff(s: Session, user_key: str, payload: dict[str, Any], dedup_key: str) -> bool:
    """A message to an officer, rendered in their language when delivered (it waits in the outbox if
    they have not written to the bot yet)."""
    channel, _, external_id = user_key.partition(":")
    if not external_id:
        return False
    officer = repo.get_or_create_user(s, channel, external_id)
    if officer.deleted_at is not None:
        return False
    repo.enqueue(s, officer, payload, dedup_key=dedup_key)
    return True


def export_my_data(
    env: Env, s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    exported = repo.export_user_data(s, user.id, repo.user_key(user.channel, user.external_id))
    content = json.dumps(exported, ensure_ascii=False, indent=2, default=str).encode()
    results["documents:mydata"] = [Document("smebot-mydata.json", content, "application/json")]


def erase_me(
    env: Env, s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    """Everything about the user goes, rows and files, but what the law keeps: dossiers still under
    review (ND80 Art. 32) and approved ones, records of state money that may be recovered (ND80 Art. 31).
    The answer lists them, each with its reason."""
    erased = [
        ref for ref, status in repo.dossier_statuses(s, user.id) if status not in repo.RETAINED_STATUSES
    ]
    summary = repo.erase_user(s, user.id, keep_statuses=repo.RETAINED_STATUSES)
    kept: list[tuple[str, str]] = summary["kept"]
    under_review = [ref for ref, status in kept if status in repo.OPEN_STATUSES]
    approved = [ref for ref, status in kept if status == "approved"]
    lines = []
    if under_review:
        lines.append(t("privacy.kept_under_review", lang, refs=", ".join(under_review)))
    if approved:
        lines.append(t("privacy.kept_approved", lang, refs=", ".join(approved)))
    if kept:
        lines.append(t("privacy.kept_what", lang))
    results["erase_summary"] = "\n".join(lines) if lines else t("deleteme.nothing_kept", lang)
    repo.add_event(s, key, "erase", after={"kept_dossiers": [ref for ref, _ in kept]})
    results["_remove"] = tuple(summary["files"])
    results["_erased_dossiers"] = tuple(erased)  # their documents, where a channel wrote them
    results["_forget"] = True


def withdraw(
    env: Env, s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    dossier = repo.dossier_by_ref(s, data["ref"])
    if dossier is None or dossier.user_id != user.id or dossier.status not in repo.OPEN_STATUSES:
        return
    before = dossier.status
    new_data = {
        **dossier.data,
        "last_change": {"actor": key, "action": "withdraw"},
        "withdrawn_on": env.today.isoformat(),
    }
    if repo.move_dossier(s, dossier.id, dossier.version, "withdrawn", new_data):
        repo.add_event(
            s,
            key,
            "withdraw",
            dossier_id=dossier.id,
            before={"status": before},
            after={"status": "withdrawn"},
        )
        # the officer who has it is told; nobody has it yet: every officer of its agency
        claimed = new_data.get("claimed_by")
        officers = (
            [str(claimed)]
            if claimed
            else [o.user_key for o in repo.list_officers(s) if o.agency_id == dossier.agency_id]
        )
        payload = {"key": "notify.withdrawn", "params": {"ref": dossier.ref, "status": before}}
        for officer in officers:
            notify_staff(s, officer, payload, dedup_key=f"{dossier.ref}:withdrawn:{officer}")


# --- officers ---------------------------------------------------------------------------------------


def transition(
    env: Env, s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    """A status move with an optimistic version check; the loser of a race is told who won."""
    dossier = repo.dossier_by_ref(s, data["ref"])
    if dossier is None:
        return
    action, expected = str(data["action"]), int(data["version"])
    new_data = {**dossier.data, "last_change": {"actor": key, "action": action}}
    if action == "claim":
        new_data["claimed_by"] = key
    if action == "ask":
        new_data["request"] = data.get("note")
        new_data["open_request"] = data.get("request") or requests.to_json(
            requests.new_request(key, str(data.get("note") or ""))
        )
    if action in ("approve", "reject"):
        new_data["decided_on"] = env.today.isoformat()
        new_data["decision_note"] = data.get("note")
    if not repo.move_dossier(s, dossier.id, expected, str(data["to"]), new_data):
        last = repo.last_event(s, dossier.id)
        conflict = Msg(
            "officer.conflict",
            {
                "ref": dossier.ref,
                "actor": last.actor if last else "?",
                # what they did, in the officer's language (any audited action has a history wording)
                "action": Msg(f"history.{last.action}") if last and has(f"history.{last.action}") else "?",
            },
        )
        results["outcome"] = render_line(conflict, lang)
        return
    approvals: Mapping[str, int] | None = data.get("approvals")
    if approvals is not None:
        for item in dossier.items:
            item.approved_vnd = int(approvals.get(item.item_id, 0))
    repo.add_event(
        s,
        key,
        action,
        dossier_id=dossier.id,
        before={"status": data["from"], "version": expected},
        after={
            "status": data["to"],
            "version": expected + 1,
            **({"approvals": dict(approvals)} if approvals else {}),
        },
        note=data.get("note"),
    )
    owner = s.get(User, dossier.user_id)
    notify = data["notify"]
    if owner is not None and owner.deleted_at is None:
        repo.enqueue(
            s,
            owner,
            {
                "key": notify["key"],
                "params": notify["params"],
                **decision_details(env, dossier, action, data),
            },
            dedup_key=f"{dossier.ref}:v{expected + 1}",
        )
        results["notified"] = True
    results["outcome"] = render_line(data["done"], lang)


def decision_details(env: Env, dossier: Dossier, action: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """What the owner's notification of a decision adds (issue 15.4): the amount approved per item
    against the amount asked, the officer's reason, and after a rejection what the owner can do next."""
    if action not in ("approve", "reject"):
        return {}
    agency = env.staff.agencies.get(dossier.agency_id or "")
    return {
        "decision": action,
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
        "note": data.get("note") or "",
        "agency_vi": agency.name("vi") if agency else "",
        "agency_en": agency.name("en") if agency else "",
    }


def note(
    env: Env, s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    repo.add_event(s, key, "note", dossier_id=int(data["dossier_id"]), note=str(data["note"]))


def audit_conflict(
    env: Env, s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    """An officer tried to decide a dossier they are recorded against (issue 13.10): refused, kept."""
    repo.add_event(
        s,
        key,
        "conflict",
        dossier_id=int(data["dossier_id"]),
        after={"action": data["action"], "reason": data["reason"], "who": data.get("who", key)},
        note=f"{data['action']}: {data['reason']}",
    )


def reassign(
    env: Env, s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    """An admin gives a dossier to another officer; a submitted one is claimed for them (audited)."""
    dossier = repo.dossier_by_ref(s, data["ref"])
    if dossier is None:
        return
    expected, target = int(data["version"]), str(data["to"])
    new_data = {**dossier.data, "claimed_by": target, "last_change": {"actor": key, "action": "reassign"}}
    if not repo.move_dossier(s, dossier.id, expected, str(data["new_status"]), new_data):
        last = repo.last_event(s, dossier.id)
        results["outcome"] = t(
            "officer.conflict", lang, ref=dossier.ref, actor=last.actor if last else "?", action="—"
        )
        return
    repo.add_event(
        s,
        key,
        "reassign",
        dossier_id=dossier.id,
        before={"status": data["status"], "claimed_by": data.get("from"), "version": expected},
        after={"status": data["new_status"], "claimed_by": target, "version": expected + 1},
        note=target,
    )
    payload = {"key": "notify.reassigned", "params": {"ref": dossier.ref, "by": key}}
    notify_staff(s, target, payload, dedup_key=f"{dossier.ref}:reassign:v{expected + 1}")
    previous = data.get("from")
    if previous and previous != target:
        payload = {"key": "notify.reassigned_away", "params": {"ref": dossier.ref, "to": target}}
        notify_staff(s, str(previous), payload, dedup_key=f"{dossier.ref}:unassign:v{expected + 1}")
    results["outcome"] = t("admin.reassigned", lang, ref=dossier.ref, user=target)


def files(
    env: Env, s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    """The dossier's attachments as files, numbered as /dossier lists them (a repeated file once)."""
    out: list[Document] = []
    seen: set[str] = set()
    for number, a in enumerate(repo.dossier_attachments(s, int(data["dossier_id"])), start=1):
        if a.sha256 in seen:
            continue
        seen.add(a.sha256)
        try:
            content = Path(a.path).read_bytes()
        except OSError:
            continue
        out.append(Document(f"{data['ref']}-{number}-{a.filename}", content, a.mime))
    results["documents:files"] = out


def assign(
    env: Env, s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    """The officer says which checklist item a file proves (audited, with the value before)."""
    dossier = s.get(Dossier, int(data["dossier_id"]))
    if dossier is None:
        return
    proves = dict(dossier.data.get("evidence_files") or {})
    proves[str(data["attachment_id"])] = data["evidence_id"]
    dossier.data = {**dossier.data, "evidence_files": proves}
    repo.add_event(
        s,
        key,
        "assign",
        dossier_id=dossier.id,
        before={"file": data["number"], "evidence": data.get("before")},
        after={"file": data["number"], "evidence": data["evidence_id"]},
        note=f"#{data['number']} → {data['evidence_id']}",
    )


def audit_refused(
    env: Env, s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    repo.add_event(s, key, "refused", note=str(data["command"]))


def officer_add(
    env: Env, s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    before = repo.officer_of(s, data["user_key"])
    previous = {"agency_id": before.agency_id} if before else None
    repo.add_officer(s, data["user_key"], data["agency_id"], key)
    repo.add_event(
        s,
        key,
        "officer_add",
        before=previous,
        after={"user": data["user_key"], "agency_id": data["agency_id"]},
    )


def officer_remove(
    env: Env, s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    before = repo.officer_of(s, data["user_key"])
    if before is not None and repo.remove_officer(s, data["user_key"]):
        repo.add_event(
            s, key, "officer_remove", before={"user": before.user_key, "agency_id": before.agency_id}
        )


def dossier_document_effect(
    env: Env, s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    results["documents:dossier"] = dossier_documents(str(data["ref"]), lang)


def chart(
    env: Env, s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    series = {t(f"status.{k}", lang): int(v) for k, v in dict(data["series"]).items()}
    title = t(str(data["title_key"]), lang, year=data["year"])
    png = stats_png(title, series, lang, xlabel=t("officer.chart_axis", lang))
    results["documents:chart"] = [Document(f"smebot-stats-{data['year']}.png", png, "image/png")]


def status_at(d: Dossier, on: dt.date) -> str | None:
    """A dossier's status on a date, from the dates it keeps: None if filed later; a decision or a
    withdrawal dated later does not count yet (the dossier was still under review then)."""
    filed = d.data.get("filed_on")
    if filed and dt.date.fromisoformat(filed) > on:
        return None
    decided = d.status in ("approved", "rejected")
    moved_on = d.data.get("decided_on") if decided else d.data.get("withdrawn_on")
    if moved_on and dt.date.fromisoformat(moved_on) > on:
        return "in_review"
    return d.status


def export(
    env: Env, s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    year, on = int(data["year"]), env.today
    _, agency = env.staff.role(s, key)
    dossiers = [d for d in repo.agency_dossiers(s, agency.id if agency else None) if d.year == year]
    at_date = [(d, status_at(d, on)) for d in dossiers]
    counted = [(d, st) for d, st in at_date if st is not None]
    approved_d = [d for d, st in counted if st == "approved"]
    open_d = [d for d, st in counted if st in repo.OPEN_STATUSES]
    approved = [export_item(i, i.approved_vnd or 0) for d in approved_d for i in d.items]
    submitted = [export_item(i, i.state_vnd) for d in open_d for i in d.items]
    agency_name = agency.name(lang) if agency else t("doc.all_agencies", lang)
    date = on.strftime("%d/%m/%Y")
    scopes = (
        t("export.scope_approved", lang, date=date, count=len(approved_d)),
        t("export.scope_submitted", lang, date=date, count=len(open_d)),
    )
    programmes = sorted(agency.programmes) if agency else []
    if agency is not None and documents.NATIONAL not in agency.programmes:
        workbook = documents.programme_plan_xlsx(
            env.catalogue,
            programmes,
            approved,
            submitted,
            agency=agency_name,
            year=year,
            scopes=scopes,
            lang=lang,
        )
        known = env.catalogue.programmes
        titles = [known[p].title.get(lang) for p in programmes if p in known]
        layout = t("export.layout_programme", lang, programmes="; ".join(titles))
    else:
        workbook = documents.plan_xlsx(
            env.catalogue, approved, submitted, agency=agency_name, year=year, lang=lang, scopes=scopes
        )
        layout = t("export.layout_annex4", lang)
    sheet_of = {st: t("doc.plan.sheet_submitted", lang) for st in repo.OPEN_STATUSES}
    sheet_of["approved"] = t("doc.plan.sheet_approved", lang)
    rows = [{**csv_row(d, env), "status": st or "", "sheet": sheet_of.get(st or "", "")} for d, st in at_date]
    closed = len(counted) - len(approved_d) - len(open_d)
    results["export_summary"] = t(
        "export.summary",
        lang,
        year=year,
        date=date,
        count=len(counted),
        approved=len(approved_d),
        open=len(open_d),
        closed=closed,
        layout=layout,
    )
    results["documents:export"] = [
        Document(f"smebot-ke-hoach-{year}.xlsx", workbook, XLSX),
        Document(f"smebot-ho-so-{year}.csv", documents.dossiers_csv(rows), "text/csv"),
    ]


def export_item(item: Any, state_vnd: int) -> dict[str, Any]:
    return {
        "code": item.code,
        "programme_id": item.programme_id,
        "title": item.data.get("title_vi", item.code),
        "quantity": 1,
        "cost_vnd": item.cost_vnd,
        "state_vnd": state_vnd,
        "enterprise_vnd": item.cost_vnd - state_vnd,
    }


def csv_row(d: Dossier, env: Env) -> dict[str, Any]:
    profile = d.data.get("profile", {})
    agency = env.staff.agencies.get(d.agency_id or "")
    return {
        "ref": d.ref,
        "status": d.status,
        "filed_on": d.data.get("filed_on", d.created_at.date().isoformat()),
        "firm": profile.get("name", ""),
        "tax_code": profile.get("tax_code", ""),
        "province": d.data.get("province", ""),
        "commune": d.data.get("commune", ""),
        "size": d.size,
        "total_state_vnd": d.total_state_vnd,
        "approved_vnd": sum(i.approved_vnd or 0 for i in d.items),
        "agency": agency.name_vi if agency else "",
    }


def render_dossier_documents(ref: str, data: dict[str, Any], lang: str) -> list[Document]:
    """The dossier as DOCX (to print and sign) and HTML (to read on a phone). Pure CPU, no session."""
    name = ref if lang == "vi" else f"{ref}-{lang}"  # the Vietnamese form keeps the plain name
    return [
        Document(f"{name}.docx", documents.dossier_docx(data, lang), DOCX),
        Document(f"{name}.html", documents.dossier_html(data, lang).encode(), "text/html"),
    ]


def document_data(env: Env, d: Dossier, lang: str) -> dict[str, Any]:
    """A dossier as the documents module takes it (labels in the language, amounts in đồng)."""
    profile = dict(d.data.get("profile", {}))
    agency = env.staff.agencies.get(d.agency_id or "")
    evidence = env.catalogue.evidence
    proven = set((d.data.get("evidence_files") or {}).values())
    flags = set(d.data.get("flags", ()))
    quote = any(i.data.get("quote") for i in d.items)
    checklist = required_evidence(d.data.get("checklist", []), flags, quote)
    return {
        "ref": d.ref,
        "status": d.status,
        "filed_on": d.data.get("filed_on", d.created_at.date().isoformat()),
        "agency": agency.name(lang) if agency else None,
        "profile": {
            "name": profile.get("name", ""),
            "tax_code": profile.get("tax_code", ""),
            "entity_type": t(f"entity_type.{profile.get('entity_type', 'llc1')}", lang),
            "province": d.data.get("province", ""),
            "commune": d.data.get("commune", ""),
            "address": profile.get("address", ""),
            "phone": profile.get("phone", ""),
            "email": profile.get("email"),
            "sector": t(f"sector.{profile.get('sector', 'services')}", lang),
            "workers": profile.get("workers", 0),
            "female_workers": profile.get("female_workers"),
            "revenue_vnd": profile.get("revenue"),
            "capital_vnd": profile.get("capital", 0),
            "women_owned": bool(profile.get("women_owned")),
            "woman_executive": None,
            "social_enterprise": bool(profile.get("social_enterprise")),
        },
        "size_summary": d.data.get(f"size_summary_{lang}", d.data.get("size_summary_vi", "")),
        "size_reason": d.data.get(f"size_reason_{lang}", d.data.get("size_reason_vi", "")),
        "items": [
            {
                "code": i.code,
                "title": i.data.get(f"title_{lang}", i.code),
                "rate_percent": i.data.get("rate_percent"),
                "cap_vnd": i.data.get("cap_vnd"),
                "cost_vnd": i.cost_vnd,
                "quantity": i.quantity,
                "state_vnd": i.state_vnd,
                "enterprise_vnd": i.enterprise_vnd,
                "approved_vnd": i.approved_vnd,
                "basis": i.data.get(f"basis_{lang}", ""),
                "consulting": "network_consultant_contract" in i.data.get("evidence", ()),
                "consultant_code": i.data.get("consultant_code")
                if looks_like_consultant_code(i.data.get("consultant_code"))
                else None,
                "quote": bool(i.data.get("quote")),
                "quote_attached": bool(i.data.get("quote")) and "provider_quote" in proven,
                "used_known_vnd": i.data.get("used_known_vnd"),
                "used_declared_vnd": i.data.get("used_declared_vnd"),
            }
            for i in d.items
        ],
        "total_state_vnd": d.total_state_vnd,
        "checklist": [
            {
                "title": evidence[e].title.get(lang) if e in evidence else e,
                "attached": e in proven or e in PROVIDED_BY_BOT,
                "provided": e in PROVIDED_BY_BOT,
            }
            for e in checklist
        ],
        "decision_note": d.data.get("decision_note") if d.status in ("approved", "rejected") else None,
        "history": [],
    }


def render_notification(payload: Mapping[str, Any], lang: str) -> str:
    """An outbox message in the owner's language, formatted when it is delivered."""
    params = {
        k: (format_vnd(int(v), lang) if k.endswith("_vnd") else v)
        for k, v in dict(payload.get("params", {})).items()
    }
    text = t(str(payload["key"]), lang, **params)
    decision = payload.get("decision")
    if decision == "approve":
        lines = [text]
        for item in payload.get("items", ()):
            approved = item.get("approved_vnd")
            lines.append(
                t(
                    "decision.item",
                    lang,
                    code=item["code"],
                    title=item.get(f"title_{lang}") or item.get("title_vi", ""),
                    approved=format_vnd(int(approved or 0), lang),
                    asked=format_vnd(int(item["state_vnd"]), lang),
                )
            )
        if payload.get("note"):
            lines.append(t("decision.reason", lang, note=payload["note"]))
        lines.append(t("decision.see", lang, ref=params.get("ref", "")))
        return "\n".join(lines)
    if decision == "reject":
        agency = payload.get(f"agency_{lang}") or payload.get("agency_vi") or "—"
        return "\n".join(
            [
                text,
                t("decision.next", lang, agency=agency),
                t("decision.see", lang, ref=params.get("ref", "")),
            ]
        )
    return text


EFFECTS: dict[str, EffectFn] = {
    "record_consent": record_consent,
    "decline_consent": decline_consent,
    "save_profile": save_profile,
    "file_dossier": file_dossier,
    "attach_file": attach_file,
    "answer_request": answer_request,
    "owner_message": owner_message,
    "export_my_data": export_my_data,
    "erase_me": erase_me,
    "withdraw": withdraw,
    "transition": transition,
    "note": note,
    "audit_refused": audit_refused,
    "audit_conflict": audit_conflict,
    "reassign": reassign,
    "files": files,
    "assign": assign,
    "officer_add": officer_add,
    "officer_remove": officer_remove,
    "dossier_document": dossier_document_effect,
    "chart": chart,
    "export": export,
}
