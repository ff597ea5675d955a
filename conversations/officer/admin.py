"""``/officer_add``, ``/officer_remove``, ``/officers``: who works for which agency (admins only)."""

from __future__ import annotations

from conversations.effects import OfficerAdd, OfficerRemove
from conversations.messages import Line, Plain, say
from conversations.officer.base import USER_KEY, Answer, answer
from conversations.officer.context import OfficerContext


def officer_add(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Answer:
    parts = arg.split()
    if len(parts) != 2:
        return answer(say("admin.add_usage", agencies=", ".join(ctx.agencies)))
    user_key, agency_id = parts[0].lower(), parts[1]
    if not USER_KEY.match(user_key):
        return answer(say("admin.bad_user", value=parts[0]))
    if agency_id not in ctx.agencies:
        return answer(say("admin.bad_agency", value=agency_id, agencies=", ".join(ctx.agencies)))
    name = ctx.agencies[agency_id].name(lang)
    effect = OfficerAdd(user_key, agency_id)
    return answer(say("admin.added", user=user_key, agency=Plain(name)), effects=(effect,))


def officer_remove(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Answer:
    user_key = arg.strip().lower()
    if not any(key == user_key for key, _ in ctx.officers):
        return answer(say("admin.not_officer", user=user_key or "—"))
    return answer(say("admin.removed", user=user_key), effects=(OfficerRemove(user_key),))


def officers(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Answer:
    if not ctx.officers:
        return answer(say("admin.none"))
    lines: list[Line] = [say("admin.list_title", count=len(ctx.officers))]
    for key, agency_id in ctx.officers:
        agency = ctx.agencies.get(agency_id)
        lines.append(
            say("admin.list_line", user=key, agency=Plain(agency.name(lang) if agency else agency_id))
        )
    return answer(*lines)
