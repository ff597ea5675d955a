"""Officer and admin commands: queue, dossier, files, assign, claim, ask, approve, reject, note, stats,
export, officers, reassign.

Pure: ``handle(command, argument, context, state) -> Outcome``, the engine's outcome like the owner's: the
state as it was, replies in the officer's language and effects for the shell (status moves with an
optimistic version check, audit rows, owner notifications). Each command answers an :class:`Answer`.
"""

from __future__ import annotations

from conversations.engine import Outcome, State
from conversations.officer.admin import officer_add, officer_remove, officers
from conversations.officer.base import ADMIN_COMMANDS, OFFICER_COMMANDS, split_version
from conversations.officer.context import OfficerContext
from conversations.officer.moves import approve, ask, claim, note, reassign, reject
from conversations.officer.programmes import programme_add, programme_close, programme_publish, programmes
from conversations.officer.queue import queue
from conversations.officer.reports import export, stats
from conversations.officer.view import assign, dossier, files


def allowed(command: str, role: str) -> bool:
    if command in ADMIN_COMMANDS:
        return role == "admin"
    return command in OFFICER_COMMANDS and role in ("officer", "admin")


#: commands that only read: decided off the event loop, in a read snapshot (bot/service.py)
READS = frozenset({"/queue", "/stats", "/export", "/officers", "/programmes"})


def is_staff_command(command: str) -> bool:
    return command in OFFICER_COMMANDS or command in ADMIN_COMMANDS


def handle(command: str, arg: str, ctx: OfficerContext, state: State) -> Outcome:
    arg, version = split_version(arg)
    answered = COMMANDS[command](arg.strip(), ctx, state.lang, version)
    return Outcome(state, answered.replies, answered.effects)


COMMANDS = {
    "/queue": queue,
    "/dossier": dossier,
    "/files": files,
    "/assign": assign,
    "/reassign": reassign,
    "/claim": claim,
    "/ask": ask,
    "/approve": approve,
    "/reject": reject,
    "/note": note,
    "/stats": stats,
    "/export": export,
    "/officer_add": officer_add,
    "/officer_remove": officer_remove,
    "/officers": officers,
    "/programme_add": programme_add,
    "/programme_publish": programme_publish,
    "/programme_close": programme_close,
    "/programmes": programmes,
}
