"""``/programmes`` for an owner (issue 16): the open programmes that fit their saved profile and region,
each with the most they could get ("up to") and until when; they apply with ``/new``.

The same checks as the journey's list of programmes (:func:`conversations.owner.journey.programme_lines`):
:func:`rules.estimate.programme_refusal` and the head office's place; a programme counts only if one of
its rows is open to the firm.
"""

from __future__ import annotations

from conversations.context import Context
from conversations.messages import Line, Money, Plain, Reply, say
from conversations.owner import firm
from rules.catalogue import Item, Programme
from rules.estimate import Profile, programme_refusal, refusal


def most(item: Item) -> int | None:
    """The largest state amount one row can give a firm in a year, when the row has an amount."""
    if item.yearly_cap_vnd is not None:
        return item.yearly_cap_vnd
    if item.cap_vnd is not None:
        return item.cap_vnd * (item.max_units or 1)
    return None


def up_to(programme: Programme, profile: Profile, ctx: Context) -> tuple[bool, int | None]:
    """(some row is open to the firm, the largest amount of those rows)."""
    rows = [
        item
        for item in programme.items
        if item.for_firms and refusal(item, profile, ctx.today, assume_dates=True) is None
    ]
    amounts = [a for a in map(most, rows) if a is not None]
    return bool(rows), max(amounts) if amounts else None


def open_programmes(ctx: Context, lang: str) -> tuple[Reply, ...]:
    saved = ctx.saved_profile
    if not saved:
        return (Reply((say("programmes.owner_no_profile"),)),)
    profile = firm.profile_of(saved)
    lines: list[Line] = []
    for programme in ctx.catalogue.programmes.values():
        if programme_refusal(programme, profile, ctx.today) is not None:
            continue
        if not firm.programme_here(programme.region, saved):
            continue
        fits, amount = up_to(programme, profile, ctx)
        if not fits:
            continue
        lines.append(
            say(
                "programmes.owner_line",
                title=Plain(programme.title.get(lang)),
                authority=Plain(programme.authority.get(lang)),
                amount=say("programmes.owner_up_to", amount=Money(amount))
                if amount is not None
                else say("programmes.owner_by_norms"),
                until=say("programmes.owner_until", date=programme.valid_to.strftime("%d/%m/%Y"))
                if programme.valid_to
                else say("programmes.owner_no_end"),
            )
        )
    if not lines:
        return (Reply((say("programmes.owner_none"),)),)
    return (Reply((say("programmes.owner_title", count=len(lines)), *lines, say("programmes.owner_apply"))),)
