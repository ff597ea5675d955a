"""``/programmes`` for an owner (issue 16): the open programmes that fit their saved profile and region,
each with the most they could get ("up to") and until when; they apply with ``/new``.

The same checks as the journey's list of programmes (:func:`conversations.owner.journey.programme_lines`):
:func:`rules.estimate.programme_refusal` and the head office's place; a programme counts only if one of
its rows is open to the firm.

Each programme is a choice: picking one (its button, its number, its title) starts the journey with only
that programme's supports (the journey's ``programme`` answer, :func:`conversations.owner.support.offers`).
Anything else is handled as usual, as if the list had not been shown.
"""

from __future__ import annotations

from dataclasses import replace

from conversations import engine
from conversations.context import Context
from conversations.engine import Input, Outcome, State
from conversations.messages import Choice, Line, Money, Plain, Reply, say
from conversations.owner import firm, journey, support
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


PICK = "pick_programme"  # the state's pending mark: the list of open programmes waits for a choice
CHOSEN = "programme:"  # a choice's payload: + the programme id


def open_programmes(state: State, ctx: Context) -> Outcome:
    """The list, each programme a choice (numbered); the state waits for one."""
    replies, choices = _listing(ctx, state.lang)
    if not choices:
        return Outcome(state, replies)
    return Outcome(replace(state, pending=PICK), replies)


def _fitting(ctx: Context) -> list[Programme]:
    saved = ctx.saved_profile or {}
    profile = firm.profile_of(saved)
    return [
        p
        for p in ctx.catalogue.programmes.values()
        if programme_refusal(p, profile, ctx.today) is None
        and firm.programme_here(p.region, saved)
        and up_to(p, profile, ctx)[0]
    ]


def _choices(programmes: list[Programme], lang: str) -> tuple[Choice, ...]:
    choices = (
        Choice(CHOSEN + p.id, Plain(p.title.get(lang)), (p.id, p.title.vi, p.title.en)) for p in programmes
    )
    return engine.numbered(tuple(choices), 0)


def intercept(state: State, inp: Input, ctx: Context) -> tuple[State, Outcome | None]:
    """A programme chosen from the list starts a journey with its supports only."""
    waiting = state.pending == PICK
    if not (waiting or (inp.payload or "").startswith(CHOSEN)) or not ctx.consented:
        return state, None
    if waiting:
        state = replace(state, pending=None)
    if inp.command is not None or inp.file is not None or not ctx.saved_profile:
        return state, None
    picked = engine.match_choice(_choices(_fitting(ctx), state.lang), inp, state.lang)
    if picked is None:  # not a choice of the list: handled as usual
        return state, None
    programme = ctx.catalogue.programmes[picked.payload[len(CHOSEN) :]]
    fresh = State(lang=state.lang, flow=journey.FLOW, answers={support.PROGRAMME: programme.id})
    asked = engine.ask(journey.JOURNEY, fresh, ctx)
    lead = Reply((say("news.programme_chosen", title=Plain(programme.title.get(state.lang))),))
    return state, Outcome(asked.state, (lead, *asked.replies), asked.effects)


def _listing(ctx: Context, lang: str) -> tuple[tuple[Reply, ...], tuple[Choice, ...]]:
    saved = ctx.saved_profile
    if not saved:
        return (Reply((say("programmes.owner_no_profile"),)),), ()
    profile = firm.profile_of(saved)
    fitting = _fitting(ctx)
    if not fitting:
        return (Reply((say("programmes.owner_none"),)),), ()
    lines: list[Line] = [say("programmes.owner_title", count=len(fitting))]
    for programme in fitting:
        amount = up_to(programme, profile, ctx)[1]
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
    choices = _choices(fitting, lang)
    return (Reply((*lines, say("programmes.owner_apply"), say("news.programme_pick")), choices),), choices
