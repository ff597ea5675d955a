"""One message, one transaction: load the user's state and context, run the engine, apply its effects,
save the new state, commit; then render the replies. Channels call :meth:`Service.handle`.

A process may die at any point: before the commit nothing happened, after it everything did, so an
answer is never lost and a dossier is never filed twice. One user's messages are handled one after the
other (an in-process lock plus a row lock in the database); different users' run concurrently.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from bot.store import repo
from bot.store.db import Database
from bot.store.models import Dossier, Enterprise, User
from conversations.context import Context, DossierView
from conversations.engine import Input, State
from conversations.engine import Outcome as EngineOutcome
from conversations.messages import Effect, Reply, render, render_line
from conversations.owner.handler import handle as owner_handle
from conversations.owner.handler import resume
from locales import t
from rules.catalogue import Catalogue

log = logging.getLogger("smebot.service")


@dataclass(frozen=True)
class Button:
    payload: str
    label: str


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes
    mime: str


@dataclass(frozen=True)
class Rendered:
    text: str
    buttons: tuple[Button, ...] = ()
    document: Document | None = None


@dataclass
class Outcome:
    replies: list[Rendered] = field(default_factory=list)
    lang: str = "vi"


class Service:
    def __init__(
        self,
        db: Database,
        catalogue: Catalogue,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self.db = db
        self.catalogue = catalogue
        self.today = today
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def handle(self, channel: str, external_id: str, inp: Input) -> Outcome:
        key = repo.user_key(channel, external_id)
        async with self._lock(key):
            try:
                return await self._handle(channel, external_id, key, inp)
            except Exception:
                log.exception("error handling a message of %s", key)
                return await self._apologise(channel, external_id)

    async def _handle(self, channel: str, external_id: str, key: str, inp: Input) -> Outcome:
        outcome, results = await self.db.run(self.step, channel, external_id, key, inp)
        lang = outcome.state.lang
        return Outcome([self.render(r, lang, results) for r in outcome.replies], lang)

    def step(
        self, s: Session, channel: str, external_id: str, key: str, inp: Input
    ) -> tuple[EngineOutcome, dict[str, Any]]:
        """The unit of work of one message, in one transaction (see the module docstring)."""
        user, saved, enterprise, n_dossiers = repo.user_snapshot(s, channel, external_id)
        repo.lock_user(s, user.id)
        state = State.from_json(saved or {"lang": user.lang})
        ctx = self.context(s, user, enterprise, n_dossiers)
        outcome = owner_handle(state, inp, ctx)
        results = self.apply(s, user, key, outcome.effects, outcome.state.lang)
        if not results.get("_forget"):
            repo.save_state(s, user.id, outcome.state.to_json(), exists=saved is not None)
            user.lang = outcome.state.lang
        return outcome, results

    async def _apologise(self, channel: str, external_id: str) -> Outcome:
        """A handler error never leaves the user in silence: sorry, and the question again."""

        def load(s: Session) -> tuple[State, Context]:
            user, saved, enterprise, n_dossiers = repo.user_snapshot(s, channel, external_id)
            return State.from_json(saved or {"lang": user.lang}), self.context(
                s, user, enterprise, n_dossiers
            )

        try:
            state, ctx = await self.db.run(load)
            again = resume(state, ctx)
            lang = state.lang
            first = Rendered(t("error_apology", lang))
            return Outcome([first, *(self.render(r, lang, {}) for r in again.replies)], lang)
        except Exception:
            log.exception("error while apologising to %s:%s", channel, external_id)
            return Outcome([Rendered(t("error_apology", "vi"))])

    def context(self, s: Session, user: User, enterprise: Enterprise | None, n_dossiers: int) -> Context:
        today = self.today()
        dossiers = repo.dossiers_of(s, user.id) if n_dossiers else []
        open_ids = {i.item_id for d in dossiers if d.status in repo.OPEN_STATUSES for i in d.items}
        used = used_this_year(dossiers, today.year)
        return Context(
            today=today,
            catalogue=self.catalogue,
            consented=user.consent_at is not None and user.deleted_at is None,
            saved_profile=dict(enterprise.profile) if enterprise and enterprise.profile else None,
            open_item_ids=frozenset(open_ids),
            used_vnd=used,
            dossiers=tuple(dossier_view(d) for d in dossiers),
        )

    def apply(
        self, s: Session, user: User, key: str, effects: tuple[Effect, ...], lang: str
    ) -> dict[str, Any]:
        results: dict[str, Any] = {}
        for effect in effects:
            EFFECTS[effect.kind](s, user, key, effect.data, results, lang)
        return results

    def render(self, reply: Reply, lang: str, results: Mapping[str, Any]) -> Rendered:
        buttons = tuple(Button(c.payload, render_line(c.label, lang, results)) for c in reply.choices)
        document = None
        if reply.attach == "mydata" and "mydata" in results:
            content = json.dumps(results["mydata"], ensure_ascii=False, indent=2, default=str).encode()
            document = Document("smebot-mydata.json", content, "application/json")
        elif reply.attach == "dossier" and "dossier_document" in results:
            document = results["dossier_document"]
        return Rendered(render(reply, lang, results), buttons, document)


def used_this_year(dossiers: list[Dossier], year: int) -> dict[str, int]:
    """What the firm already received this year per item (TT06 Art. 3.5), from approved dossiers."""
    used: dict[str, int] = {}
    for d in dossiers:
        if d.status == "approved" and d.year == year:
            for item in d.items:
                if item.approved_vnd is not None:
                    used[item.item_id] = used.get(item.item_id, 0) + item.approved_vnd
    return used


def dossier_view(d: Dossier) -> DossierView:
    checklist = tuple((e, False) for e in d.data.get("checklist", []))
    return DossierView(
        ref=d.ref,
        status=d.status,
        created=d.created_at.date(),
        total_state_vnd=d.total_state_vnd,
        items=tuple((i.item_id, i.code, i.state_vnd) for i in d.items),
        checklist=checklist,
        attachments=int(d.data.get("attachments", 0)),
        request=d.data.get("request"),
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


EffectFn = Callable[[Session, User, str, Mapping[str, Any], dict[str, Any], str], Any]


def record_consent(
    s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    user.consent_at = _now()
    user.consent_version = str(data["version"])
    user.deleted_at = None
    repo.add_event(s, key, "consent", after={"version": data["version"], "lang": data.get("lang")})


def decline_consent(
    s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    """No consent, no data kept: the user row (and its state) goes."""
    s.delete(user)
    results["_forget"] = True


def save_profile(
    s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    profile = dict(data["profile"])
    repo.upsert_enterprise(s, user.id, str(profile.get("name", "")), profile.get("tax_code"), profile)


def file_dossier(
    s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
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
    for attachment in unlinked:
        attachment.dossier_id = dossier.id
    repo.add_event(s, key, "file", dossier_id=dossier.id, after={"status": "submitted", "ref": dossier.ref})
    results["dossier_ref"] = dossier.ref


def attach_file(
    s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    info = dict(data["file"])
    dossier = repo.dossier_by_ref(s, data["ref"]) if data.get("ref") else None
    if dossier is not None and dossier.user_id != user.id:
        dossier = None
    repo.add_attachment(
        s,
        user_id=user.id,
        dossier_id=dossier.id if dossier else None,
        filename=info["name"],
        mime=info["mime"],
        size_bytes=int(info["size_bytes"]),
        sha256=info["sha256"],
        path=info["path"],
    )
    if dossier is not None:
        dossier.data = {**dossier.data, "attachments": int(dossier.data.get("attachments", 0)) + 1}
        repo.add_event(s, key, "attach", dossier_id=dossier.id, note=info["name"])


def export_my_data(
    s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    results["mydata"] = repo.export_user_data(s, user.id)


def erase_me(
    s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    # Approved dossiers are records of state money (recoverable under ND80 Art. 31): kept with open ones.
    summary = repo.erase_user(s, user.id, keep_statuses=(*repo.OPEN_STATUSES, "approved"))
    kept = summary.get("kept_dossiers") or []
    results["erase_summary"] = (
        t("deleteme.kept_dossiers", lang, refs=", ".join(kept)) if kept else t("deleteme.nothing_kept", lang)
    )
    repo.add_event(s, key, "erase", after={"kept_dossiers": kept})
    results["_forget"] = True


def withdraw(
    s: Session, user: User, key: str, data: Mapping[str, Any], results: dict[str, Any], lang: str
) -> None:
    dossier = repo.dossier_by_ref(s, data["ref"])
    if dossier is None or dossier.user_id != user.id or dossier.status not in repo.OPEN_STATUSES:
        return
    before = dossier.status
    dossier.status = "withdrawn"
    dossier.version += 1
    repo.add_event(
        s, key, "withdraw", dossier_id=dossier.id, before={"status": before}, after={"status": "withdrawn"}
    )


EFFECTS: dict[str, EffectFn] = {
    "record_consent": record_consent,
    "decline_consent": decline_consent,
    "save_profile": save_profile,
    "file_dossier": file_dossier,
    "attach_file": attach_file,
    "export_my_data": export_my_data,
    "erase_me": erase_me,
    "withdraw": withdraw,
}
