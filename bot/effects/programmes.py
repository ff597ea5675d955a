"""Runners of the programme effects (issue 16): a draft stored, a version published or closed (audited).
The live catalogue is rebuilt by the service after the commit (``Service.reload_programmes``)."""

from __future__ import annotations

from bot.effects.base import Ctx, runs
from bot.store import dossiers as dossiers_store
from bot.store import programmes
from conversations.programme_effects import ProgrammeDraft, ProgrammeStatus


@runs(ProgrammeDraft)
def programme_draft(e: ProgrammeDraft, ctx: Ctx) -> None:
    row = programmes.add_draft(ctx.s, e.programme_id, e.yaml_text, e.agency_id, ctx.key)
    dossiers_store.add_event(
        ctx.s, ctx.key, "programme_add", after={"programme": e.programme_id, "version": row.version}
    )


@runs(ProgrammeStatus)
def programme_status(e: ProgrammeStatus, ctx: Ctx) -> None:
    before = programmes.set_status(ctx.s, e.programme_id, e.version, e.status, ctx.key)
    dossiers_store.add_event(
        ctx.s,
        ctx.key,
        f"programme_{'publish' if e.status == 'published' else 'close'}",
        before={"programme": e.programme_id, "version": e.version, "status": before},
        after={"programme": e.programme_id, "version": e.version, "status": e.status},
    )
