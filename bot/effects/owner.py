"""The owner's effects: consent, the profile, filing, files, answers to an officer's request, messages,
withdrawal, a dossier's documents."""

from __future__ import annotations

from bot.effects.base import (
    Attached,
    Ctx,
    DossierDocuments,
    agency_officers,
    notify_staff,
    now,
    runs,
)
from bot.store import dossiers as dossiers_store
from bot.store import users as users_store
from conversations.effects import (
    AnswerRequest,
    AttachFile,
    DossierDocument,
    FileDossier,
    OwnerMessage,
    RecordConsent,
    SaveProfile,
    Withdraw,
)
from conversations.officer import request as requests
from locales import t
from rules import dossier as status


@runs(RecordConsent)
def record_consent(e: RecordConsent, ctx: Ctx) -> None:
    ctx.user.consent_at = now()
    ctx.user.consent_version = e.version
    ctx.user.deleted_at = None
    dossiers_store.add_event(ctx.s, ctx.key, "consent", after={"version": e.version, "lang": e.lang})


@runs(SaveProfile)
def save_profile(e: SaveProfile, ctx: Ctx) -> None:
    profile = dict(e.profile)
    users_store.upsert_enterprise(
        ctx.s, ctx.user.id, str(profile.get("name", "")), profile.get("tax_code"), profile
    )


def dossier_documents(ref: str, lang: str, for_staff: bool = False) -> list[DossierDocuments]:
    """The dossier filed with the agency is the Vietnamese form, whatever the chat's language; an owner
    who chats in English also gets an English copy to read (issue 15.5)."""
    forms = ["vi", *([lang] if lang != "vi" else [])]
    return [DossierDocuments(ref, form, for_staff) for form in forms]


@runs(FileDossier)
def file_dossier(e: FileDossier, ctx: Ctx) -> None:
    s, user = ctx.s, ctx.user
    payload = dict(e.data)
    enterprise = users_store.enterprise_of(s, user.id)
    unlinked = dossiers_store.unlinked_attachments(s, user.id)
    payload["attachments"] = len(unlinked)
    dossier = dossiers_store.add_dossier(
        s,
        user_id=user.id,
        enterprise_id=enterprise.id if enterprise else None,
        year=int(payload["year"]),
        status="submitted",
        size=str(payload["size"]),
        data={k: v for k, v in payload.items() if k != "items"},
        items=payload["items"],
    )
    dossier.agency_id = e.agency_id
    for attachment in unlinked:
        attachment.dossier_id = dossier.id
    dossiers_store.add_event(
        s, ctx.key, "file", dossier_id=dossier.id, after={"status": "submitted", "ref": dossier.ref}
    )
    ctx.results.dossier_refs.append(dossier.ref)
    ctx.results.attach("dossier", *dossier_documents(dossier.ref, ctx.lang))


@runs(DossierDocument)
def dossier_document(e: DossierDocument, ctx: Ctx) -> None:
    ctx.results.documents["dossier"] = dossier_documents(e.ref, ctx.lang, e.for_staff)


@runs(AttachFile)
def attach_file(e: AttachFile, ctx: Ctx) -> None:
    s, user = ctx.s, ctx.user
    dossier = dossiers_store.dossier_by_ref(s, e.ref) if e.ref else None
    if dossier is not None and dossier.user_id != user.id:
        dossier = None
    attachment = dossiers_store.add_attachment(
        s,
        user_id=user.id,
        dossier_id=dossier.id if dossier else None,
        filename=e.name,
        mime=e.mime,
        size_bytes=e.size_bytes,
        sha256=e.sha256,
        path=e.path,
    )
    ctx.results.attached = Attached(attachment.id, e.name, e.sha256)
    if dossier is not None:
        dossier.data = {**dossier.data, "attachments": int(dossier.data.get("attachments", 0)) + 1}
        dossiers_store.add_event(s, ctx.key, "attach", dossier_id=dossier.id, note=e.name)


@runs(AnswerRequest)
def answer_request(e: AnswerRequest, ctx: Ctx) -> None:
    """The owner's file or words go to the open request for documents (issue 15.8). The dossier goes back
    to the officer who asked (needs_info -> in_review, the claim kept) when everything asked has arrived
    or the owner says they are done; until then the owner is told what is still missing."""
    s, key, lang = ctx.s, ctx.key, ctx.lang
    dossier = dossiers_store.dossier_by_ref(s, e.ref)
    target = status.move("answer", dossier.status) if dossier else None
    if dossier is None or dossier.user_id != ctx.user.id or target is None:
        return
    asked = requests.from_json(dossier.data.get("open_request")) or requests.new_request(
        str(dossier.data.get("claimed_by") or ""), str(dossier.data.get("request") or "")
    )
    attached = ctx.results.attached
    said: list[str] = []
    same: list[int] = []
    if attached:
        files = dossiers_store.dossier_attachments(s, dossier.id)
        same = [n for n, a in enumerate(files, start=1) if a.sha256 == attached.sha256]
    if attached and len(same) > 1:  # the same content was sent before: said, and it covers nothing new
        said.append(t("request.duplicate", lang, n=same[0]))
        answered = requests.record_answer(asked, text=attached.name)
    elif attached:
        answered = requests.record_answer(asked, file_name=attached.name)
    else:
        answered = requests.record_answer(asked, text=e.note)
    if answered.covered is not None:
        item = answered.request.items[answered.covered - 1].text
        said.append(t("request.covered", lang, n=answered.covered, item=item))
    elif not answered.done:
        said.append(t("request.kept", lang))
    if not answered.done:
        dossier.data = {**dossier.data, "open_request": requests.to_json(answered.request)}
        dossiers_store.add_event(s, key, "answer_part", dossier_id=dossier.id, note=e.note)
        missing = answered.request.missing
        lines = "\n".join(f"{n}. {answered.request.items[n - 1].text}" for n in missing)
        said.append(t("request.missing", lang, items=lines) if missing else t("request.say_done", lang))
        ctx.results.request_progress = "\n".join(said)
        return
    before = dossier.version
    officer = str(dossier.data.get("claimed_by") or answered.request.by or "")
    closed = [*dossier.data.get("requests", []), {**requests.to_json(answered.request), "closed": True}]
    new_data = {k: v for k, v in dossier.data.items() if k not in ("request", "open_request")}
    new_data["requests"] = closed
    new_data["last_change"] = {"actor": key, "action": "answer"}
    if not dossiers_store.move_dossier(s, dossier.id, before, target, new_data):
        return
    dossiers_store.add_event(
        s,
        key,
        "answer",
        dossier_id=dossier.id,
        before={"status": "needs_info", "version": before},
        after={"status": target, "version": before + 1, "claimed_by": officer or None},
        note=e.note,
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
    ctx.results.request_progress = "\n".join(said)


@runs(OwnerMessage)
def owner_message(e: OwnerMessage, ctx: Ctx) -> None:
    """What the owner wrote about an open dossier goes to its officer (issue 15.2): kept in its history
    (the officer's /dossier shows it) and notified to the officer who has it, else to its agency's."""
    s = ctx.s
    dossier = dossiers_store.dossier_by_ref(s, e.ref)
    if dossier is None or dossier.user_id != ctx.user.id or dossier.status not in status.OPEN:
        return
    event = dossiers_store.add_event(s, ctx.key, "message", dossier_id=dossier.id, note=e.text)
    payload = {"key": "message.notify", "params": {"ref": dossier.ref, "text": e.text}}
    for officer in agency_officers(s, dossier.data.get("claimed_by"), dossier.agency_id):
        notify_staff(s, officer, payload, dedup_key=f"{dossier.ref}:message:{event.id}:{officer}")


@runs(Withdraw)
def withdraw(e: Withdraw, ctx: Ctx) -> None:
    s, key = ctx.s, ctx.key
    dossier = dossiers_store.dossier_by_ref(s, e.ref)
    target = status.move("withdraw", dossier.status) if dossier else None
    if dossier is None or dossier.user_id != ctx.user.id or target is None:
        return
    before = dossier.status
    new_data = {
        **dossier.data,
        "last_change": {"actor": key, "action": "withdraw"},
        "withdrawn_on": ctx.env.today.isoformat(),
    }
    if dossiers_store.move_dossier(s, dossier.id, dossier.version, target, new_data):
        dossiers_store.add_event(
            s,
            key,
            "withdraw",
            dossier_id=dossier.id,
            before={"status": before},
            after={"status": target},
        )
        payload = {"key": "notify.withdrawn", "params": {"ref": dossier.ref, "status": before}}
        for officer in agency_officers(s, new_data.get("claimed_by"), dossier.agency_id):
            notify_staff(s, officer, payload, dedup_key=f"{dossier.ref}:withdrawn:{officer}")
