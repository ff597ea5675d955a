"""``/broadcast_status [id]`` and ``/broadcast_cancel <id>`` (issue 16), and where the broadcast commands
enter the officer's workbench (:func:`concerns`, :func:`route`). Pure.

An officer sees the broadcasts of their agency (and their own); an admin every one.
"""

from __future__ import annotations

from conversations.broadcast_effects import CancelBroadcast
from conversations.engine import Input, Outcome, State
from conversations.messages import Line, Msg, Plain, Reply, Result, say
from conversations.officer import broadcast
from conversations.officer.context import BroadcastRecord, OfficerContext

COMMANDS = ("/broadcast", "/broadcast_status", "/broadcast_cancel")
STATUSES = ("sending", "done", "cancelled")
SHOWN = 10  # the newest broadcasts listed without an id


def concerns(command: str | None, pending: str | None) -> bool:
    """A broadcast command, or an input while a draft is open (but the commands of the workbench)."""
    if command in COMMANDS:
        return True
    drafting = bool(pending and pending.startswith(broadcast.DRAFT))
    return drafting and command in (None, "/cancel", "/back")


def visible(b: BroadcastRecord, ctx: OfficerContext) -> bool:
    if ctx.agency is None:
        return True
    return b.agency_id == ctx.agency.id or b.officer_key == ctx.actor


def _mine(ctx: OfficerContext) -> list[BroadcastRecord]:
    found = ctx.news.broadcasts() if ctx.news is not None else ()
    return sorted((b for b in found if visible(b, ctx)), key=lambda b: b.id, reverse=True)


def line(b: BroadcastRecord) -> Line:
    status: Line = say(f"news.bc_status.{b.status}") if b.status in STATUSES else Plain(b.status)
    return say(
        "news.bc.status_line",
        id=b.id,
        programme=b.programme_id,
        status=status,
        sent=b.sent,
        total=b.total,
        failed=b.failed,
        blocked=b.blocked,
        remaining=b.remaining,
        date=b.created.strftime("%d/%m/%Y %H:%M"),
    )


def _number(arg: str) -> int | None:
    word = arg.strip().lstrip("#").split(" ")[0]
    return int(word) if word.isdigit() else None


def _find(arg: str, ctx: OfficerContext, usage: str) -> BroadcastRecord | Msg:
    number = _number(arg)
    if number is None:
        return say(usage, arg=arg.strip())
    found = next((b for b in _mine(ctx) if b.id == number), None)
    return found if found is not None else say("news.bc.no_such", id=number)


def status(arg: str, ctx: OfficerContext) -> tuple[Reply, ...]:
    if arg.strip():
        found = _find(arg, ctx, "news.bc.status_usage")
        if isinstance(found, Msg):
            return (Reply((found,)),)
        lines: list[Line] = [line(found)]
        if found.status == "sending":
            lines.append(say("news.bc.cancel_hint", id=found.id))
        return (Reply(tuple(lines)),)
    mine = _mine(ctx)
    if not mine:
        return (Reply((say("news.bc.none"),)),)
    return (Reply((say("news.bc.status_title", count=len(mine)), *map(line, mine[:SHOWN]))),)


def cancel(arg: str, ctx: OfficerContext) -> tuple[tuple[Reply, ...], tuple[CancelBroadcast, ...]]:
    if not arg.strip():
        return (Reply((say("news.bc.cancel_need"),)),), ()
    found = _find(arg, ctx, "news.bc.cancel_usage")
    if isinstance(found, Msg):
        return (Reply((found,)),), ()
    if found.status != "sending":
        status_line: Line = (
            say(f"news.bc_status.{found.status}") if found.status in STATUSES else Plain(found.status)
        )
        return (Reply((say("news.bc.not_running", id=found.id, status=status_line),)),), ()
    done = say("news.bc.cancelled", id=found.id, sent=found.sent, stopped=found.remaining)
    effect = CancelBroadcast(found.id, done)
    return (Reply((Msg("officer.outcome", {"text": Result("outcome")}),)),), (effect,)


def route(state: State, inp: Input, ctx: OfficerContext) -> Outcome:
    command = inp.command
    name, arg = command if command else (None, "")
    if name == "/broadcast":
        return broadcast.start(arg, state, ctx)
    if name == "/broadcast_status":
        return Outcome(state, status(arg, ctx))
    if name == "/broadcast_cancel":
        replies, effects = cancel(arg, ctx)
        return Outcome(state, replies, effects)
    return broadcast.step(state, inp, ctx)
