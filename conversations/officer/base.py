"""What every officer command shares: its outcome, replies, the version a button carries, and the guard
of the commands about one dossier."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from conversations.effects import Effect
from conversations.messages import Choice, Line, Reply, reply, say
from conversations.officer.context import DossierRecord, OfficerContext
from rules import dossier as status

OFFICER_COMMANDS = frozenset(
    {
        *("/queue", "/dossier", "/files", "/assign", "/claim", "/ask", "/approve", "/reject", "/note"),
        *("/stats", "/export"),
        *("/programme_add", "/programme_publish", "/programme_close", "/programmes"),
    }
)


ADMIN_COMMANDS = frozenset({"/officer_add", "/officer_remove", "/officers", "/reassign"})


STATUSES = status.STATUSES


_VERSION = re.compile(r"\s*@v(\d+)\s*$")


USER_KEY = re.compile(r"^(console|telegram|zalo|zalo_oa):[\w.\-]{1,64}$")  # channel:id, as users.user_key


@dataclass(frozen=True)
class Answer:
    replies: tuple[Reply, ...]
    effects: tuple[Effect, ...] = field(default_factory=tuple)


def answer(*lines: Line, choices: tuple[Choice, ...] = (), effects: tuple[Effect, ...] = ()) -> Answer:
    return Answer((reply(*lines, choices=choices),), effects)


def split_version(arg: str) -> tuple[str, int | None]:
    """ "HS-2026-000001 @v3" (from a button) -> ("HS-2026-000001", 3)."""
    match = _VERSION.search(arg)
    if not match:
        return arg, None
    return arg[: match.start()], int(match.group(1))


Command = Callable[[str, OfficerContext, str, int | None], Answer]


OnDossier = Callable[[DossierRecord, str, OfficerContext, str, int | None], Answer]


def on_dossier(handler: OnDossier, usage: str = "officer.need_ref") -> Command:
    """A command about one dossier ("/claim HS-2026-000001 ..."): the reference is checked once, here;
    the handler gets the dossier and the rest of the line. ``usage``: what to say when there is no
    reference."""

    def command(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Answer:
        ref, _, rest = arg.partition(" ")
        if not ref:
            return answer(say(usage))
        found = ctx.find(ref)
        if found is None:
            return answer(say("officer.not_found", ref=ref.upper()))
        return handler(found, rest.strip(), ctx, lang, version)

    return functools.wraps(handler)(command)
