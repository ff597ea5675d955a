"""Runners of the programme news effects (issue 16): an owner's subscription, its topics and its end
(each written to the audit table: the record of a consent, Decree 13/2023), and the broadcasts an officer
starts or stops (the rows are written by :mod:`bot.store.broadcasts`; the broadcaster sends them)."""

from __future__ import annotations

from bot.effects.base import Ctx, runs
from bot.store import broadcasts as broadcasts_store
from bot.store import dossiers as dossiers_store
from bot.store import subscriptions
from conversations.broadcast_effects import (
    CancelBroadcast,
    ChooseTopics,
    StartBroadcast,
    Subscribe,
    Unsubscribe,
)
from conversations.messages import Msg, render_line
from locales import t


@runs(Subscribe)
def subscribe(e: Subscribe, ctx: Ctx) -> None:
    subscriptions.subscribe(ctx.s, ctx.user.id, e.version, e.topics)
    after = {"version": e.version, "topics": list(e.topics)}
    dossiers_store.add_event(ctx.s, ctx.key, "news_subscribe", after=after)


@runs(ChooseTopics)
def choose_topics(e: ChooseTopics, ctx: Ctx) -> None:
    if subscriptions.choose_topics(ctx.s, ctx.user.id, e.topics):
        dossiers_store.add_event(ctx.s, ctx.key, "news_topics", after={"topics": list(e.topics)})


@runs(Unsubscribe)
def unsubscribe(e: Unsubscribe, ctx: Ctx) -> None:
    if subscriptions.unsubscribe(ctx.s, ctx.user.id):
        dossiers_store.add_event(ctx.s, ctx.key, "news_unsubscribe")


@runs(StartBroadcast)
def start_broadcast(e: StartBroadcast, ctx: Ctx) -> None:
    """The broadcast and one row per recipient, in this transaction: the sender starts once it commits.
    Who is still subscribed, not erased and reachable is checked again here."""
    recipients = subscriptions.recipients(ctx.s, e.user_ids)
    broadcast_id = broadcasts_store.create(
        ctx.s,
        programme_id=e.programme_id,
        agency_id=e.agency_id,
        officer_key=ctx.key,
        texts=dict(e.texts),
        audience=dict(e.audience),
        recipients=recipients,
    )
    dossiers_store.add_event(
        ctx.s,
        ctx.key,
        "broadcast_start",
        after={"broadcast": broadcast_id, "programme": e.programme_id, "recipients": len(recipients)},
    )
    params = {**e.done.params, "id": broadcast_id, "count": len(recipients)}
    ctx.results.outcome = render_line(Msg(e.done.key, params), ctx.lang)


@runs(CancelBroadcast)
def cancel_broadcast(e: CancelBroadcast, ctx: Ctx) -> None:
    progress = broadcasts_store.cancel(ctx.s, e.broadcast_id)
    if progress is None:  # it finished, or someone cancelled it, since the command was read
        ctx.results.outcome = t("news.bc.cancel_late", ctx.lang, id=e.broadcast_id)
        return
    dossiers_store.add_event(
        ctx.s,
        ctx.key,
        "broadcast_cancel",
        after={"broadcast": e.broadcast_id, "sent": progress.sent, "cancelled": progress.cancelled},
    )
    params = {**e.done.params, "sent": progress.sent, "stopped": progress.cancelled}
    ctx.results.outcome = render_line(Msg(e.done.key, params), ctx.lang)
