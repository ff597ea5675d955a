"""Programme news for owners (issue 16): a consent of its own (Decree 13/2023), never bundled with the
dossier's: offered once, after the first dossier is filed, or asked for with ``/subscribe``; the kinds of
support they want to hear about (``/topics``, every kind by default); ``/unsubscribe`` at any time, even
before any other consent. Pure.

:func:`intercept` runs before the owner's other handlers: it answers the news commands and words
("dang ky nhan tin", "huy nhan tin"), the answer to the offer and the choice of topics; anything else goes
on as usual (an offer not answered is not asked again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from conversations import engine, understand
from conversations.broadcast_effects import ChooseTopics, Subscribe, Unsubscribe
from conversations.context import Context
from conversations.effects import Effect
from conversations.engine import Input, Outcome, State
from conversations.messages import Choice, Line, Plain, Reply, render_line, reply, say
from rules.catalogue import Catalogue, Kind
from rules.text import fold

#: The version of the news consent text (locales: news.offer); kept with the subscription.
NEWS_CONSENT_VERSION = "2026-12-06"
OFFER = "news_offer"  # the state's pending mark: the offer of news waits for yes or no
TOPICS = "news_topics"  # the choice of topics waits for an answer
YES = "news:yes"
NO = "news:no"
YES_WORDS = ("co", "dong y", "dang ky", "yes", "ok", "nhan tin", "co nhan tin", "subscribe")
NO_WORDS = ("khong", "ko", "k", "no", "khong nhan", "thoi", "huy", "khong dong y")
SUBSCRIBE_WORDS = ("dang ky nhan tin", "dang ky tin", "nhan tin chuong trinh", "subscribe")
UNSUBSCRIBE_WORDS = (
    *("huy nhan tin", "huy dang ky", "huy dang ky nhan tin", "dung nhan tin", "ngung nhan tin"),
    *("khong nhan tin nua", "unsubscribe", "stop news"),
)

#: How the owner's handler shows the question under the cursor (or the menu) after a lead line.
Resume = Callable[[State, Context, Line | None], Outcome]


def topics_of(catalogue: Catalogue) -> tuple[Kind, ...]:
    """The kinds of support of the catalogue's rows open to firms, in the catalogue's order of kinds."""
    kinds = {item.kind for _, item in catalogue.items.values() if item.for_firms}
    return tuple(k for k in Kind if k in kinds)


def topic_names(topics: tuple[str, ...], lang: str) -> Plain:
    if not topics:
        return Plain(render_line(say("news.topics_all"), lang))
    return Plain(", ".join(render_line(say(f"kind.{t}"), lang) for t in topics))


def offer_reply() -> Reply:
    """The question, on its own: what is kept (region from the profile, topics), what is sent, how to stop."""
    choices = (
        Choice(YES, say("news.offer_yes"), YES_WORDS),
        Choice(NO, say("news.offer_no"), NO_WORDS),
    )
    return reply(say("news.offer", version=NEWS_CONSENT_VERSION), choices=choices)


def after_filing(done: State, ctx: Context) -> tuple[State, tuple[Reply, ...]]:
    """After the first dossier is filed, the offer of news, once (never with the dossier's consent)."""
    if ctx.news is not None or ctx.dossiers:
        return done, ()
    return replace(done, pending=OFFER), (offer_reply(),)


def _offer_answer(inp: Input) -> bool | None:
    if inp.payload in (YES, NO):
        return inp.payload == YES
    if inp.payload is not None or inp.command is not None:
        return None
    words = fold(inp.text).strip(" .!?")
    if words in YES_WORDS:
        return True
    if words in NO_WORDS:
        return False
    if words and not words.isdigit():  # a button typed as it reads (a number goes to the menu below it)
        picked = engine.match_choice(offer_reply().choices, inp, "vi") or engine.match_choice(
            offer_reply().choices, inp, "en"
        )
        if picked is not None:
            return picked.payload == YES
    return understand.yes_no(inp.text)


def _subscribed_lines(topics: tuple[str, ...], ctx: Context, lang: str, key: str) -> tuple[Line, ...]:
    lines: list[Line] = [say(key, topics=topic_names(topics, lang)), say("news.how_topics")]
    if not ctx.saved_profile:
        lines.append(say("news.need_profile"))
    lines.append(say("news.how_stop"))
    return tuple(lines)


def subscribe(state: State, ctx: Context, resume: Resume) -> Outcome:
    if ctx.news is not None and ctx.news.subscribed:
        lines = _subscribed_lines(ctx.news.topics, ctx, state.lang, "news.already")
        return _with_lead(resume(state, ctx, None), lines)
    return Outcome(replace(state, pending=OFFER), (offer_reply(),))


def unsubscribe(state: State, ctx: Context, resume: Resume) -> Outcome:
    if ctx.news is None or not ctx.news.subscribed:
        return resume(state, ctx, say("news.not_subscribed"))
    done = resume(state, ctx, say("news.unsubscribed"))
    return Outcome(done.state, done.replies, (Unsubscribe(), *done.effects))


def topic_choices(ctx: Context) -> tuple[Choice, ...]:
    return engine.numbered(
        tuple(Choice(k.value, say(f"kind.{k.value}"), (k.value,)) for k in topics_of(ctx.catalogue)), 0
    )


def topics_reply(ctx: Context, lang: str, error: Line | None = None) -> Reply:
    current = ctx.news.topics if ctx.news else ()
    lines: tuple[Line, ...] = (error,) if error else ()
    return reply(
        *lines,
        say("news.topics_prompt", topics_current=topic_names(current, lang)),
        choices=topic_choices(ctx),
    )


def topics(state: State, ctx: Context, resume: Resume) -> Outcome:
    if ctx.news is None or not ctx.news.subscribed:
        return resume(state, ctx, say("news.topics_need_subscription"))
    return Outcome(replace(state, pending=TOPICS), (topics_reply(ctx, state.lang),))


def _chosen_topics(state: State, inp: Input, ctx: Context, resume: Resume) -> Outcome:
    choices = topic_choices(ctx)
    if inp.payload is not None:
        found = engine.match_choice(choices, inp, state.lang)
        picked = [found] if found is not None else None
    else:
        picked = engine.match_many(choices, inp.text, state.lang)
    if not picked:
        return Outcome(state, (topics_reply(ctx, state.lang, say("news.topics_invalid")),))
    chosen = tuple(dict.fromkeys(c.payload for c in picked))
    kept = () if set(chosen) == {c.payload for c in choices} else chosen  # every kind: stored as "all"
    done = resume(
        replace(state, pending=None), ctx, say("news.topics_done", topics=topic_names(kept, state.lang))
    )
    return Outcome(done.state, done.replies, (ChooseTopics(kept), *done.effects))


def _offer(state: State, answer: bool, ctx: Context, resume: Resume) -> Outcome:
    cleared = replace(state, pending=None)
    if not answer:
        return resume(cleared, ctx, say("news.declined"))
    lines = _subscribed_lines((), ctx, state.lang, "news.subscribed")
    done = _with_lead(resume(cleared, ctx, None), lines)
    return Outcome(done.state, done.replies, (Subscribe(NEWS_CONSENT_VERSION), *done.effects))


def _with_lead(outcome: Outcome, lines: tuple[Line, ...], effects: tuple[Effect, ...] = ()) -> Outcome:
    return Outcome(outcome.state, (Reply(lines), *outcome.replies), (*effects, *outcome.effects))


def intercept(state: State, inp: Input, ctx: Context, resume: Resume) -> tuple[State, Outcome | None]:
    """The news' answer, or (the state to go on with, None) to let the owner's other handlers answer."""
    command = inp.command
    name = command[0] if command else None
    if state.pending and state.pending.startswith("broadcast"):  # a staff draft, from a role since removed
        state = replace(state, pending=None, answers={})
    if not ctx.consented:  # how to stop always works; nothing else here before the dossier's consent
        if name == "/unsubscribe":
            return state, Outcome(state, (reply(say("news.not_subscribed")),))
        return state, None
    if name == "/subscribe":
        return state, subscribe(replace(state, pending=None), ctx, resume)
    if name == "/unsubscribe":
        return state, unsubscribe(replace(state, pending=None), ctx, resume)
    if name == "/topics":
        return state, topics(replace(state, pending=None), ctx, resume)
    if inp.payload in (YES, NO) and state.pending != OFFER:  # the offer's button, pressed later on
        if ctx.news is not None and ctx.news.subscribed:  # "yes": their topics stay; "no": they stop
            return state, (subscribe if inp.payload == YES else unsubscribe)(state, ctx, resume)
        return state, _offer(state, inp.payload == YES, ctx, resume)
    if state.pending == OFFER:
        answer = _offer_answer(inp)
        if answer is None:  # not an answer: asked once, not again; the input is handled as usual
            return replace(state, pending=None), None
        return state, _offer(state, answer, ctx, resume)
    if state.pending == TOPICS:
        if name is not None or inp.file is not None:
            return replace(state, pending=None), None
        return state, _chosen_topics(state, inp, ctx, resume)
    if name is None and state.flow is None and not state.pending and inp.payload is None:
        words = fold(inp.text).strip(" .!?")
        if words in SUBSCRIBE_WORDS:
            return state, subscribe(state, ctx, resume)
        if words in UNSUBSCRIBE_WORDS:
            return state, unsubscribe(state, ctx, resume)
    return state, None
