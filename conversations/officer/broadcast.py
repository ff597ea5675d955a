"""``/broadcast <programme>`` (issue 16): the officer composes a programme's news, pure.

The draft lives in the officer's state (``pending`` "broadcast…", ``answers["broadcast"]``): the
programme, the texts the officer replaced, the filters. Each step shows the preview: who it reaches (the
subscribers the programme fits, in the agency's area, narrowed by the filters: :mod:`audience`), how
many read Vietnamese or English, the message in both languages (generated from the programme, with how to
start and how to stop), and the choices: send, replace the Vietnamese or the English text, narrow, cancel.
Sending is the effect :class:`StartBroadcast`; the state is cleared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from conversations.broadcast_effects import StartBroadcast
from conversations.effects import AuditRefused, Effect
from conversations.engine import Input, Outcome, State, match_choice, numbered
from conversations.messages import Choice, Line, Msg, Plain, Reply, Result, render_line, say
from conversations.officer import audience
from conversations.officer.context import OfficerContext, ProgrammeRecord
from conversations.officer.programmes import covers
from rules.catalogue import Programme
from rules.text import fold

DRAFT = "broadcast"  # the state's pending mark: the preview waits for a choice
TEXT = "broadcast:text:"  # + language: the replacement text is awaited
NARROW = "broadcast:audience"  # the filters are awaited
LANGS = ("vi", "en")
MAX_TEXT = 3500  # a Telegram message holds 4,096 characters; the footer is added
BROADCASTABLE = ("published", "shipped")
DEFAULT_WORDS = ("mac dinh", "default", "ban mac dinh")


def _draft(state: State) -> dict[str, Any]:
    return dict(state.answers.get("broadcast") or {})


def _with(state: State, pending: str, draft: Mapping[str, Any]) -> State:
    return State(lang=state.lang, pending=pending, answers={"broadcast": dict(draft)})


def candidates(ctx: OfficerContext) -> list[str]:
    return [r.id for r in ctx.programmes if r.status in BROADCASTABLE and _ours(r, ctx)]


def _ours(record: ProgrammeRecord, ctx: OfficerContext) -> bool:
    """An admin broadcasts any programme; an officer one their agency sent (or an admin sent for their
    area), or a shipped one their agency handles."""
    agency = ctx.agency
    if agency is None:
        return True
    if record.status == "shipped":
        return record.id in agency.programmes
    if record.agency_id is not None:
        return record.agency_id == agency.id
    return covers(agency, record.programme.region)


def check(programme_id: str, ctx: OfficerContext) -> ProgrammeRecord | tuple[Msg, tuple[Effect, ...]]:
    """The programme, if this officer may broadcast it today; otherwise what to say (and an audit row)."""
    ids = ", ".join(candidates(ctx)) or "—"
    if not programme_id:
        return say("news.bc.usage", ids=ids), ()
    record = ctx.programme(programme_id)
    if record is None:
        return say("news.bc.unknown", id=programme_id, ids=ids), ()
    if record.status not in BROADCASTABLE:
        return say(f"news.bc.not_published.{record.status}", id=programme_id), ()
    if not _ours(record, ctx):
        return say("news.bc.not_yours", id=programme_id, ids=ids), (
            AuditRefused(f"/broadcast {programme_id}"),
        )
    ends = record.programme.valid_to
    if ends is not None and ends < ctx.today:
        return say("news.bc.ended", id=programme_id, date=ends.strftime("%d/%m/%Y")), ()
    return record


def _region(p: Programme) -> Line:
    if p.region.level == "national":
        return say("news.bc.region_national")
    if p.region.level == "province":
        return Plain(p.region.province or "")
    return Plain(f"{p.region.commune}, {p.region.province}")


def default_text(p: Programme, lang: str) -> str:
    """The message generated from the programme: title, who runs it, what it supports, where, when, and
    how to start."""
    rows = [i for i in p.items if i.for_firms]
    kinds = ", ".join(dict.fromkeys(render_line(say(f"kind.{i.kind.value}"), lang) for i in rows))
    titles = [f"• {i.title.get(lang)}" for i in rows[:5]] + (["• …"] if len(rows) > 5 else [])
    end = say("news.bc.until", date=p.valid_to.strftime("%d/%m/%Y")) if p.valid_to else say("news.bc.no_end")
    until = render_line(end, lang)
    return render_line(
        say(
            "news.bc.default",
            title=Plain(p.title.get(lang)),
            authority=Plain(p.authority.get(lang)),
            kinds=Plain(kinds),
            items=Plain("\n".join(titles)),
            region=_region(p),
            since=p.valid_from.strftime("%d/%m/%Y"),
            until=until,
        ),
        lang,
    )


def body(p: Programme, draft: Mapping[str, Any], lang: str) -> str:
    """The officer's text in ``lang``, or the generated one."""
    return str((draft.get("texts") or {}).get(lang) or default_text(p, lang))


def texts(p: Programme, draft: Mapping[str, Any]) -> dict[str, str]:
    """Each language's whole message: its body, then how to stop (always there, never edited away)."""
    return {lang: f"{body(p, draft, lang)}\n\n{render_line(say('news.bc.footer'), lang)}" for lang in LANGS}


def _filters_line(filters: Mapping[str, Any], lang: str) -> Line:
    if not filters:
        return say("news.bc.no_filters")
    names = {"sizes": "size.name.", "sectors": "sector.", "flags": "flag."}
    parts = []
    for key, values in filters.items():
        shown = [render_line(say(names[key] + v), lang) if key in names else v for v in values]
        parts.append(f"{render_line(say(f'news.bc.filter.{key}'), lang)}: {', '.join(shown)}")
    return Plain("; ".join(parts))


def menu(count: int) -> tuple[Choice, ...]:
    choices = [
        Choice("bc:edit:vi", say("news.bc.menu.edit_vi"), ("sua tieng viet", "sua vi")),
        Choice("bc:edit:en", say("news.bc.menu.edit_en"), ("sua tieng anh", "sua en")),
        Choice("bc:narrow", say("news.bc.menu.narrow"), ("thu hep", "loc", "narrow")),
        Choice("bc:cancel", say("news.bc.menu.cancel"), ("huy", "cancel", "bo")),
    ]
    if count:
        choices.insert(
            0, Choice("bc:send", say("news.bc.menu.send", count=count), ("gui", "send", "xac nhan"))
        )
    return numbered(choices, 0)


def preview(state: State, ctx: OfficerContext, record: ProgrammeRecord, *lead: Line) -> Outcome:
    draft = _draft(state)
    filters = draft.get("filters") or {}
    reached = _audience(record, ctx, filters)
    by_lang = {
        lang: sum(1 for s in reached if (s.lang if s.lang in LANGS else "vi") == lang) for lang in LANGS
    }
    p = record.programme
    written = texts(p, draft)
    area = (
        say("news.bc.area_of", agency=Plain(ctx.agency.name(state.lang)))
        if ctx.agency
        else say("news.bc.area_all")
    )
    lines: list[Line] = [
        *lead,
        say("news.bc.head", id=p.id, title=Plain(p.title.get(state.lang))),
        say("news.bc.reach", count=len(reached), area=area, filters=_filters_line(filters, state.lang)),
        say("news.bc.langs", vi=by_lang["vi"], en=by_lang["en"]),
        say("news.bc.preview.vi", text=Plain(written["vi"])),
        say("news.bc.preview.en", text=Plain(written["en"])),
    ]
    if not reached:
        lines.append(say("news.bc.empty"))
    lines.append(say("news.bc.pick"))
    return Outcome(_with(state, DRAFT, draft), (Reply(tuple(lines), menu(len(reached))),))


def _audience(record: ProgrammeRecord, ctx: OfficerContext, filters: Mapping[str, Any]) -> tuple[Any, ...]:
    subscribers = ctx.news.subscribers() if ctx.news is not None else ()
    return audience.audience(record.programme, subscribers, ctx.agency, filters, ctx.today)


def start(arg: str, state: State, ctx: OfficerContext) -> Outcome:
    found = check(arg.strip().split(" ")[0].lower(), ctx)
    if not isinstance(found, ProgrammeRecord):
        msg, effects = found
        return Outcome(state, (Reply((msg,)),), effects)
    return preview(_with(state, DRAFT, {"programme": found.id}), ctx, found)


def _send(state: State, ctx: OfficerContext, record: ProgrammeRecord) -> Outcome:
    draft = _draft(state)
    filters = draft.get("filters") or {}
    reached = _audience(record, ctx, filters)
    if not reached:
        return preview(state, ctx, record, say("news.bc.empty_send"))
    agency_id = ctx.agency.id if ctx.agency else record.agency_id
    effect = StartBroadcast(
        programme_id=record.id,
        agency_id=agency_id,
        texts=texts(record.programme, draft),
        audience={"filters": filters, "area": ctx.agency.id if ctx.agency else None, "count": len(reached)},
        user_ids=tuple(s.user_id for s in reached),
        done=say("news.bc.started", count=len(reached), programme=record.id),
    )
    done = Reply((Msg("officer.outcome", {"text": Result("outcome")}),))
    return Outcome(State(lang=state.lang), (done,), (effect,))


def step(state: State, inp: Input, ctx: OfficerContext) -> Outcome:
    """An input while a draft is open (the officer's commands other than these were answered before)."""
    draft = _draft(state)
    command = inp.command
    name = command[0] if command else None
    if name == "/cancel":
        return Outcome(State(lang=state.lang), (Reply((say("news.bc.dropped"),)),))
    found = check(str(draft.get("programme") or ""), ctx)
    if not isinstance(found, ProgrammeRecord):  # closed or moved since the draft began
        msg, effects = found
        return Outcome(State(lang=state.lang), (Reply((msg, say("news.bc.dropped"))),), effects)
    pending = state.pending or DRAFT
    if inp.payload is not None:  # a button of the preview, pressed while a text or filters were awaited
        pending = DRAFT
    if name == "/back" or (pending != DRAFT and name is not None):
        return preview(state, ctx, found)
    if pending.startswith(TEXT):
        return _replace_text(state, inp, ctx, found, pending[len(TEXT) :])
    if pending == NARROW:
        filters = audience.parse_filters(inp.text, ctx.agency, draft.get("filters") or {})
        if isinstance(filters, Msg):
            return Outcome(state, (Reply((filters, say("news.filter_usage"))),))
        return preview(
            _with(state, DRAFT, {**draft, "filters": filters}), ctx, found, say("news.bc.narrowed")
        )
    picked = match_choice(menu(len(_audience(found, ctx, draft.get("filters") or {}))), inp, state.lang)
    if picked is None:
        wanted = match_choice(menu(1), inp, state.lang)  # "gui" typed when nobody can be sent to
        sending = wanted is not None and wanted.payload == "bc:send" and not inp.text.strip().isdigit()
        return preview(state, ctx, found, say("news.bc.empty_send" if sending else "news.bc.not_a_choice"))
    if picked.payload == "bc:send":
        return _send(state, ctx, found)
    if picked.payload == "bc:cancel":
        return Outcome(State(lang=state.lang), (Reply((say("news.bc.dropped"),)),))
    if picked.payload == "bc:narrow":
        return Outcome(replace(state, pending=NARROW), (Reply((say("news.filter_usage"),)),))
    lang = picked.payload.rsplit(":", 1)[1]
    current = body(found.programme, draft, lang)
    prompt = say("news.bc.text_prompt", lang=say(f"news.bc.lang.{lang}"), text=Plain(current))
    return Outcome(replace(state, pending=TEXT + lang), (Reply((prompt,)),))


def _replace_text(
    state: State, inp: Input, ctx: OfficerContext, record: ProgrammeRecord, lang: str
) -> Outcome:
    draft = _draft(state)
    text = inp.text.strip()
    if not text:
        return Outcome(state, (Reply((say("news.bc.text_empty"),)),))
    if len(text) > MAX_TEXT:
        return Outcome(state, (Reply((say("news.bc.text_long", max=MAX_TEXT, length=len(text)),)),))
    custom = dict(draft.get("texts") or {})
    if fold(text).strip(" .!") in DEFAULT_WORDS:
        custom.pop(lang, None)
    else:
        custom[lang] = text
    lead = say("news.bc.text_saved", lang=say(f"news.bc.lang.{lang}"))
    return preview(_with(state, DRAFT, {**draft, "texts": custom}), ctx, record, lead)
