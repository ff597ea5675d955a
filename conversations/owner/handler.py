"""The owner's side of the bot: commands, consent, the menu, files, and the journey. Pure.

``handle(state, input, context) -> Outcome``: the new state, the replies and the effects that the shell
runs in the same transaction as saving the state.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from conversations import engine, open_programmes
from conversations.context import Context, DossierView
from conversations.effects import (
    AnswerRequest,
    AttachFile,
    DeclineConsent,
    DossierDocument,
    Effect,
    EraseMe,
    ExportMyData,
    OwnerMessage,
    RecordConsent,
    SaveProfile,
    Withdraw,
)
from conversations.engine import Input, Outcome, State, View, match_choice
from conversations.messages import Choice, Line, Money, Plain, Reply, Result, reply, say
from conversations.owner import journey, news
from conversations.owner.dossiers import dossier_detail, dossiers_reply
from conversations.owner.journey import JOURNEY
from conversations.steps import yes_no_choices
from locales import t
from rules.dossier import OPEN
from rules.evidence import PROVIDED_BY_BOT, required_evidence
from rules.text import fold

CONSENT_VERSION = "2026-12-01"
OPEN_STATUSES = OPEN
MENU = ("new", "mydossiers", "mydata", "help")


def menu_reply(lead: Line | None = None) -> Reply:
    choices = tuple(Choice(key, say(f"menu.{key}")) for key in MENU)
    lines: tuple[Line, ...] = (lead,) if lead else ()
    return Reply((*lines, say("menu.prompt")), engine.numbered(choices, 0))


def consent_reply() -> Reply:
    choices = (
        Choice("agree", say("consent.agree"), ("dong y", "agree", "yes", "co")),
        Choice("decline", say("consent.decline"), ("khong dong y", "decline", "no", "khong")),
        Choice("lang:en", say("consent.english"), ("english", "en")),
    )
    return Reply(
        (say("welcome.intro"), say("consent.text", version=CONSENT_VERSION)), engine.numbered(choices, 0)
    )


def start_journey(state: State, ctx: Context, lead: Line | None = None) -> Outcome:
    fresh = State(lang=state.lang, flow=journey.FLOW)
    asked = engine.ask(JOURNEY, fresh, ctx)
    return _prefix(asked, lead)


def _prefix(outcome: Outcome, lead: Line | None, effects: tuple[Effect, ...] = ()) -> Outcome:
    replies = outcome.replies
    if lead is not None:
        replies = (Reply((lead,)), *replies)
    return Outcome(outcome.state, replies, (*effects, *outcome.effects))


def resume(state: State, ctx: Context, lead: Line | None = None, error: Line | None = None) -> Outcome:
    """Show the question under the cursor again, or the menu when no journey is in progress."""
    if state.pending == "edit_pick":
        return _prefix(Outcome(state, (edit_pick_reply(state, ctx, error),)), lead)
    if state.pending == "deleteme":
        return _prefix(Outcome(state, (reply(say("deleteme.confirm"), choices=yes_no_choices()),)), lead)
    if state.flow != journey.FLOW:
        return Outcome(state, (menu_reply(lead),))
    return _prefix(engine.ask(JOURNEY, state, ctx, error), lead)


def edit_pick_reply(state: State, ctx: Context, error: Line | None = None) -> Reply:
    view = View(state, ctx)
    lines: tuple[Line, ...] = (error,) if error else ()
    choices = journey.edit_choices(view)
    shown, _ = engine.paginate(choices, state.page)
    start = state.page * engine.PAGE_SIZE if len(choices) > engine.PAGE_SIZE else 0
    return Reply((*lines, say("edit.pick")), engine.numbered(shown, max(start, 0)))


def returning_lead(ctx: Context) -> Line | None:
    """What a returning owner with a dossier in hand sees on /start instead of a new journey."""
    asked = next((d for d in ctx.dossiers if d.status == "needs_info"), None)
    if asked is not None:
        return say("returning.request", ref=asked.ref, items=Plain(asked.request or "—"))
    open_ = next((d for d in ctx.dossiers if d.status in OPEN_STATUSES), None)
    if open_ is not None:
        return say("returning.open", ref=open_.ref, status=say(f"status.{open_.status}"))
    if ctx.dossiers:  # decided: the outcome first; a new request is one tap away
        latest = ctx.dossiers[0]
        return say("returning.decided", ref=latest.ref, status=say(f"status.{latest.status}"))
    return None


def attach_target(ctx: Context) -> DossierView | None:
    """A file goes to the dossier an officer asked documents for, else to the newest open dossier."""
    asked = [d for d in ctx.dossiers if d.status == "needs_info"]
    if asked:
        return asked[0]
    open_ = [d for d in ctx.dossiers if d.status in OPEN_STATUSES]
    return open_[0] if open_ else None


def on_file(state: State, inp: Input, ctx: Context) -> Outcome:
    assert inp.file is not None
    target = attach_target(ctx)
    f = inp.file
    ref = target.ref if target else None
    effects: list[Effect] = [AttachFile(f.name, f.mime, f.size_bytes, f.sha256, f.path, ref)]
    lead = (
        say("file.attached", name=Plain(inp.file.name), ref=target.ref)
        if target
        else say("file.kept", name=Plain(inp.file.name))
    )
    if target is not None and target.status == "needs_info":
        effects.append(AnswerRequest(target.ref, inp.file.name))
        lead = say("answer.sent", ref=target.ref, progress=Result("request_progress"))
    outcome = resume(state, ctx, lead)
    return Outcome(outcome.state, outcome.replies, tuple(effects))


def on_answer_text(state: State, inp: Input, ctx: Context) -> Outcome | None:
    """While an officer waits for documents, the owner's message (outside a journey) answers them."""
    asked = next((d for d in ctx.dossiers if d.status == "needs_info"), None)
    if asked is None or state.flow is not None or state.pending or not inp.text.strip():
        return None
    if match_choice(tuple(Choice(k, say(f"menu.{k}")) for k in MENU), inp, state.lang) is not None:
        return None
    effect = AnswerRequest(asked.ref, inp.text.strip())
    lead = say("answer.sent", ref=asked.ref, progress=Result("request_progress"))
    return Outcome(state, (menu_reply(lead),), (effect,))


def menu_typed(inp: Input, lang: str) -> bool:
    """The menu picked as shown (a number or a label as it reads), not a guess from words of a message."""
    text = fold(inp.text).strip(" .!?")
    if text.isdigit():
        return 1 <= int(text) <= len(MENU)
    return any(text == fold(t(f"menu.{key}", lang)) for key in MENU)


def on_free_text(state: State, inp: Input, ctx: Context) -> Outcome | None:
    """After filing, what the owner writes that is not an answer goes to the officer with their open
    dossier (issue 15.2): kept, acknowledged, shown in /dossier. With no dossier open, what the bot can do."""
    text = inp.text.strip()
    if state.flow is not None or state.pending or not text or inp.payload is not None:
        return None
    if menu_typed(inp, state.lang) or not any(c.isalpha() for c in text):
        return None
    target = next((d for d in ctx.dossiers if d.status in OPEN_STATUSES), None)
    if target is None:
        return Outcome(state, (menu_reply(say("message.no_dossier")),))
    effect = OwnerMessage(target.ref, text[:2000])
    lead = say("message.sent", ref=target.ref, status=say(f"status.{target.status}"))
    return Outcome(state, (menu_reply(lead),), (effect,))


def on_command(state: State, name: str, arg: str, ctx: Context) -> Outcome | None:
    if name == "/start":
        if state.flow == journey.FLOW:
            return resume(state, ctx, say("resume.hello"))
        waiting = returning_lead(ctx) if state.pending is None else None
        if waiting is not None:  # a returning owner with a dossier in hand: not a new journey
            return Outcome(state, (menu_reply(waiting),))
        return start_journey(state, ctx)
    if name in ("/restart", "/new"):
        return start_journey(state, ctx, say("restart.done"))
    if name == "/cancel":
        had = state.flow is not None or state.pending is not None
        cleared = State(lang=state.lang)
        return Outcome(cleared, (menu_reply(say("cancel.done" if had else "cancel.nothing")),))
    if name == "/help":
        return resume(state, ctx, say("help.text"))
    if name == "/lang":
        lang = arg.strip().lower()
        if lang not in ("vi", "en"):
            return resume(state, ctx, say("lang.usage"))
        return resume(replace(state, lang=lang), ctx, say("lang.done"))
    if name == "/back":
        if state.flow != journey.FLOW:
            return resume(state, ctx, say("back.nothing"))
        moved = engine.back(JOURNEY, replace(state, pending=None), ctx)
        lead = say("back.first") if moved == state else None
        return resume(moved, ctx, lead)
    if name == "/mydossiers":
        return Outcome(state, (dossiers_reply(ctx, state.lang),))
    if name == "/mydata":
        return Outcome(state, (reply(say("mydata.sent"), attach="mydata"),), (ExportMyData(),))
    if name == "/deleteme":
        return resume(replace(state, pending="deleteme"), ctx)
    if name == "/withdraw":
        return withdraw(state, arg.strip().upper(), ctx)
    return None


def withdraw(state: State, ref: str, ctx: Context) -> Outcome:
    mine = {d.ref: d for d in ctx.dossiers}
    if not ref:
        return resume(state, ctx, say("withdraw.usage"))
    if ref not in mine:
        return resume(state, ctx, say("withdraw.unknown", ref=ref))
    if mine[ref].status not in OPEN_STATUSES:
        return resume(state, ctx, say("withdraw.closed", ref=ref, status=say(f"status.{mine[ref].status}")))
    outcome = resume(state, ctx, say("withdraw.done", ref=ref))
    return Outcome(outcome.state, outcome.replies, (Withdraw(ref),))


def on_pending(state: State, inp: Input, ctx: Context) -> Outcome:
    if state.pending == "deleteme":
        picked = match_choice(yes_no_choices(), inp, state.lang)
        if picked is None:
            return resume(state, ctx, error=say("error.yes_no"))
        cleared = State(lang=state.lang)
        if picked.payload == "no":
            return Outcome(cleared, (menu_reply(say("deleteme.kept")),))
        return Outcome(cleared, (reply(say("deleteme.done", kept=Result("erase_summary"))),), (EraseMe(),))
    # edit_pick
    choices = journey.edit_choices(View(state, ctx))
    step = engine.page_move(inp)  # "Trang sau" pressed or typed as shown
    if step:
        return resume(replace(state, page=max(0, state.page + step)), ctx)
    picked = match_choice(choices, inp, state.lang, state.page)  # a number only from the page shown
    if picked is None:
        return resume(state, ctx, error=say("error.choice"))
    target = picked.payload.split(":", 1)[1]
    return resume(engine.edit(replace(state, pending=None), target), ctx)


def on_consent(state: State, inp: Input, ctx: Context) -> Outcome:
    choices = consent_reply().choices
    picked = match_choice(choices, inp, state.lang)
    if picked is None:
        return Outcome(state, (consent_reply(),))
    if picked.payload == "lang:en":
        return Outcome(replace(state, lang="en"), (consent_reply(),))
    if picked.payload == "decline":
        return Outcome(State(lang=state.lang), (reply(say("consent.declined")),), (DeclineConsent(),))
    consent = RecordConsent(CONSENT_VERSION, state.lang)
    started = start_journey(state, ctx, say("consent.thanks"))
    return Outcome(started.state, started.replies, (consent, *started.effects))


def after_answer(state: State, ctx: Context) -> tuple[State, tuple[Reply, ...], tuple[Effect, ...]] | None:
    """Answers that are actions rather than data: a saved profile, the size screen, the final review."""
    answers = dict(state.answers)
    if answers.get("use_saved") in ("use", "edit") and ctx.saved_profile and "name" not in answers:
        choice = answers["use_saved"]
        merged = {**dict(ctx.saved_profile), **answers}
        first = engine.first_unanswered(JOURNEY.steps(View(replace(state, answers=merged), ctx)), merged)
        state = replace(state, answers=merged, cursor=first.name if first else None)
        if choice == "edit":
            state = replace(state, pending="edit_pick", page=0)
        return state, (), ()
    if answers.get("size_ok") == "edit":
        answers.pop("size_ok")
        return replace(state, answers=answers, pending="edit_pick", page=0), (), ()
    action = answers.get("review")
    if action is None:
        return None
    answers.pop("review")
    if action == "edit":
        return replace(state, answers=answers, pending="edit_pick", page=0), (), ()
    if action == "cancel":
        return State(lang=state.lang), (menu_reply(say("cancel.done")),), ()
    view = View(replace(state, answers=answers), ctx)
    data = required_only(journey.filing_data(view))
    if not data["items"]:
        return replace(state, answers=answers), (reply(say("review.nothing")),), ()
    effects: tuple[Effect, ...] = (SaveProfile(data["profile"]), *journey.filing_effects(data, ctx))
    lines: list[Line] = [
        say("filed.done", ref=Result("dossier_ref"), total=Money(sum(i["state_vnd"] for i in data["items"])))
    ]
    for evidence_id in data["checklist"]:
        ev = ctx.catalogue.evidence.get(evidence_id)
        name = Plain(ev.title.get(state.lang) if ev else evidence_id)
        provided = evidence_id in PROVIDED_BY_BOT
        lines.append(say("filed.evidence_provided" if provided else "filed.evidence", name=name))
    procedures = dict.fromkeys(i["data"]["procedure"] for i in data["items"])  # how the agency answers
    lines.extend(say(f"estimate.procedure.{p}") for p in procedures)
    lines.append(say("filed.next"))
    done, offer = news.after_filing(State(lang=state.lang), ctx)  # programme news: asked on its own, once
    return done, (reply(*lines, attach="dossier"), *offer, menu_reply()), effects


def required_only(data: dict[str, Any]) -> dict[str, Any]:
    """The filing data with each item's evidence cut to what the owner's answers require."""
    flags = set(data.get("flags", ()))
    items = []
    for item in data["items"]:
        quote = bool(item["data"].get("quote"))
        evidence = required_evidence(item["data"].get("evidence", ()), flags, quote)
        items.append({**item, "data": {**item["data"], "evidence": evidence}})
    checklist = [e for i in items for e in i["data"]["evidence"]]
    return {**data, "items": items, "checklist": list(dict.fromkeys(checklist))}


def on_menu(state: State, inp: Input, ctx: Context) -> Outcome:
    choices = tuple(Choice(key, say(f"menu.{key}")) for key in MENU)
    picked = match_choice(choices, inp, state.lang)
    if picked is None:
        return Outcome(state, (menu_reply(),))
    command = {"new": "/new", "mydossiers": "/mydossiers", "mydata": "/mydata", "help": "/help"}[
        picked.payload
    ]
    result = on_command(state, command, "", ctx)
    assert result is not None
    return result


def handle(state: State, inp: Input, ctx: Context) -> Outcome:
    """One input from the owner."""
    state, answered = news.intercept(state, inp, ctx, resume)  # programme news (issue 16)
    if answered is None:  # a programme chosen from /programmes
        state, answered = open_programmes.intercept(state, inp, ctx)
    if answered is not None:
        return answered
    command = inp.command
    if not ctx.consented:
        if command and command[0] == "/lang":
            lang = command[1].strip().lower()
            state = replace(state, lang=lang if lang in ("vi", "en") else state.lang)
            return Outcome(state, (consent_reply(),))
        if command and command[0] == "/help":
            return Outcome(state, (reply(say("help.text")), consent_reply()))
        return on_consent(state, inp, ctx)
    typed_ref = inp.text.strip().upper()  # a dossier's button typed as it reads ("HS-2026-000001")
    if inp.payload is None and state.flow is None and any(d.ref == typed_ref for d in ctx.dossiers):
        inp = Input(payload=f"dossier:{typed_ref}")
    if inp.payload and inp.payload.startswith("dossier:"):
        ref = inp.payload.split(":", 1)[1]
        found = next((d for d in ctx.dossiers if d.ref == ref), None)
        if found is None:
            return resume(state, ctx, say("withdraw.unknown", ref=ref))
        shown = dossier_detail(found, ctx, state.lang)
        return Outcome(state, (shown,), (DossierDocument(found.ref),))
    if command is not None:
        result = on_command(state, command[0], command[1], ctx)
        if result is not None:
            return result
        return resume(state, ctx, say("error.unknown_command"))
    if inp.file is not None:
        return on_file(state, inp, ctx)
    if state.pending:
        return on_pending(state, inp, ctx)
    answered = on_answer_text(state, inp, ctx) or on_free_text(state, inp, ctx)
    if answered is not None:
        return answered
    if state.flow != journey.FLOW:
        return on_menu(state, inp, ctx)
    new_state, error = engine.answer(JOURNEY, state, ctx, inp)
    special = after_answer(new_state, ctx) if error is None else None
    if special is not None:
        new_state, replies, effects = special
        if replies:
            return Outcome(new_state, replies, effects)
        return resume(new_state, ctx)
    return resume(new_state, ctx, error=error)
