"""The owner's rights over their data (Decree 13/2023): a copy of it, its erasure, no consent at all."""

from __future__ import annotations

import json

from bot.effects.base import Ctx, Document, runs
from bot.store import dossiers as dossiers_store
from bot.store import privacy as privacy_store
from bot.store import users as users_store
from conversations.effects import DeclineConsent, EraseMe, ExportMyData
from locales import t
from rules.dossier import OPEN, RETAINED_ON_ERASURE


@runs(DeclineConsent)
def decline_consent(e: DeclineConsent, ctx: Ctx) -> None:
    """No consent, no data kept: only what addresses the answer stays (the user row: platform, id,
    language), and the ids of the updates handled, without their content. Someone who had erased their
    data before and declines now keeps what the law keeps (see :func:`erase_me`)."""
    summary = privacy_store.erase_user(ctx.s, ctx.user.id, keep_statuses=RETAINED_ON_ERASURE)
    ctx.user.consent_at = None
    ctx.user.consent_version = None
    ctx.results.remove.extend(summary["files"])
    ctx.results.forget = True


@runs(ExportMyData)
def export_my_data(e: ExportMyData, ctx: Ctx) -> None:
    user = ctx.user
    exported = privacy_store.export_user_data(
        ctx.s, user.id, users_store.user_key(user.channel, user.external_id)
    )
    content = json.dumps(exported, ensure_ascii=False, indent=2, default=str).encode()
    ctx.results.documents["mydata"] = [Document("smebot-mydata.json", content, "application/json")]


@runs(EraseMe)
def erase_me(e: EraseMe, ctx: Ctx) -> None:
    """Everything about the user goes, rows and files, but what the law keeps: dossiers still under
    review (ND80 Art. 32) and approved ones, records of state money that may be recovered (ND80 Art. 31).
    The answer lists them, each with its reason."""
    s, lang = ctx.s, ctx.lang
    erased = [
        ref
        for ref, status in privacy_store.dossier_statuses(s, ctx.user.id)
        if status not in RETAINED_ON_ERASURE
    ]
    summary = privacy_store.erase_user(s, ctx.user.id, keep_statuses=RETAINED_ON_ERASURE)
    kept: list[tuple[str, str]] = summary["kept"]
    under_review = [ref for ref, status in kept if status in OPEN]
    approved = [ref for ref, status in kept if status == "approved"]
    lines = []
    if under_review:
        lines.append(t("privacy.kept_under_review", lang, refs=", ".join(under_review)))
    if approved:
        lines.append(t("privacy.kept_approved", lang, refs=", ".join(approved)))
    if kept:
        lines.append(t("privacy.kept_what", lang))
    ctx.results.erase_summary = "\n".join(lines) if lines else t("deleteme.nothing_kept", lang)
    dossiers_store.add_event(s, ctx.key, "erase", after={"kept_dossiers": [ref for ref, _ in kept]})
    ctx.results.remove.extend(summary["files"])
    ctx.results.erased_dossiers.extend(erased)  # their documents, where a channel wrote them
    ctx.results.forget = True
