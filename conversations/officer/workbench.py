"""The officer's workbench (issue 15.6): officers and admins get their own greeting and /help, never the
owner's consent screen. Pure.

The shell asks :func:`concerns` first (cheap: no role needed), looks the role up only then, and hands staff
inputs to :func:`route`. A staff member can still file a dossier for a firm of their own: ``/new`` takes
them to the owner's consent screen, and their answers go to the owner's side until they consent.
"""

from __future__ import annotations

from dataclasses import replace

from conversations.engine import Input, Outcome, State, match_choice, numbered
from conversations.messages import Choice, Line, Reply, say
from conversations.officer import broadcast_status, handler
from conversations.officer.context import OfficerContext
from rules import dossier as status
from rules.deadline import review_deadline

OWNER_CONSENT = "staff_consent"  # the state's pending mark: a staff member is answering the consent screen
GREETING_COMMANDS = ("/queue", "/stats", "/export", "/help")
#: The owner's commands a staff member may type before consenting (answered with the greeting).
OWNER_COMMANDS = frozenset(
    {"/start", "/cancel", "/back", "/mydossiers", "/mydata", "/deleteme", "/withdraw", "/programmes", "/file"}
)
ADMIN_MENU = ("/officers",)


def concerns(command: str | None, consented: bool, pending: str | None) -> bool:
    """Whether this input may be a staff member's workbench input (the role is looked up only then)."""
    if command in ("/start", "/help") or broadcast_status.concerns(command, pending):
        return True
    if consented:
        return False
    return pending != OWNER_CONSENT or command in ("/lang", "/new", "/restart")


def menu(role: str) -> tuple[Choice, ...]:
    commands = (*GREETING_COMMANDS, *(ADMIN_MENU if role == "admin" else ()), "/new")
    return numbered(tuple(Choice(c, say(f"workbench.menu.{c[1:]}")) for c in commands), 0)


def greeting(ctx: OfficerContext, lang: str) -> Reply:
    open_ = [d for d in ctx.dossiers if d.status in status.OPEN]
    mine = [d for d in open_ if d.claimed_by == ctx.actor]
    overdue = [
        d
        for d in open_
        if d.status != "needs_info" and review_deadline(d.filed_on, ctx.today, ctx.calendar).overdue
    ]
    where: Line = say("workbench.all")
    if ctx.agency is not None:
        where = say("workbench.agency", agency=ctx.agency.name(lang))
    lines: tuple[Line, ...] = (
        say(f"workbench.hello.{ctx.role}", user=ctx.actor, where=where),
        say("workbench.counts", open=len(open_), mine=len(mine), overdue=len(overdue)),
        say("workbench.prompt"),
    )
    return Reply(lines, menu(ctx.role))


def help_reply(role: str) -> Reply:
    lines: list[Line] = [say("workbench.help.officer"), say("programmes.help"), say("news.officer_help")]
    if role == "admin":
        lines.append(say("workbench.help.admin"))
    lines.append(say("workbench.help.owner"))
    return Reply(tuple(lines), menu(role))


def route(state: State, inp: Input, ctx: OfficerContext) -> tuple[State, Outcome | None]:
    """The workbench's answer, or (the state to use, None) to let the owner's side answer."""
    command = inp.command
    name = command[0] if command else None
    if broadcast_status.concerns(name, state.pending):  # programme news: /broadcast and its draft
        drafted = broadcast_status.route(state, inp, ctx)
        return drafted.state, drafted
    if name == "/help":
        return state, Outcome(state, (help_reply(ctx.role),))
    if name == "/lang":
        lang = command[1].strip().lower() if command else ""
        new = replace(state, lang=lang) if lang in ("vi", "en") else state
        return new, Outcome(new, (greeting(ctx, new.lang),))
    if name in ("/new", "/restart"):  # the owner's journey, consent first
        return replace(state, pending=OWNER_CONSENT), None
    if name is not None:  # /start, or an owner's command before consenting: the greeting
        if state.pending == OWNER_CONSENT:  # they left the consent screen
            state = replace(state, pending=None)
        hello = greeting(ctx, state.lang)
        if name not in OWNER_COMMANDS:  # a typo ("/aprove"): say so, then the greeting
            hello = Reply((say("error.unknown_command"), *hello.lines), hello.choices)
        return state, Outcome(state, (hello,))
    picked = match_choice(menu(ctx.role), inp, state.lang)
    if picked is None:
        return state, Outcome(state, (greeting(ctx, state.lang),))
    if picked.payload == "/help":
        return state, Outcome(state, (help_reply(ctx.role),))
    if picked.payload == "/new":
        return replace(state, pending=OWNER_CONSENT), None
    return state, handler.handle(picked.payload, "", ctx, state)
