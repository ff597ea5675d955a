"""Support items for the owner: which fit, what each costs, the estimate and the evidence checklist."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from conversations.context import Context
from conversations.engine import Input, Prompt, Step, View
from conversations.messages import Choice, Line, Plain, say
from conversations.owner.firm import (
    DECLARATION_STEPS,
    PROFILE_STEPS,
    date_key,
    date_step,
    profile_of,
    programme_here,
)
from conversations.steps import count_step, money_step, multi_step, text_step, yes_no_step
from rules import explain
from rules.catalogue import QUANTITY_UNITS, DateKey, Item, Kind, Programme
from rules.estimate import NOTHING_USED, Estimate, Profile, Request, Used, estimate, estimate_all, refusal
from rules.text import fold

KIND_ORDER = (Kind.consulting, Kind.digital, Kind.training, Kind.startup, Kind.cluster, Kind.khuyen_cong)
NOT_YET_WORDS = ("chua co", "chua", "khong", "none", "not yet", "no", "ko", "ko co", "khong co", "k")
#: "Nothing received from other agencies" (one tap away: the money question accepts these).
NONE_WORDS = ("chua", "chua co", "chua nhan", "khong", "khong co", "ko", "k", "none", "no", "nothing", "0")
#: The cost used to pick the row shown for a family in the list (the row that can give the most).
DISPLAY_COST = 10**12
#: The answer that keeps a journey to one programme's supports (a programme chosen from /programmes).
PROGRAMME = "programme"


@dataclass(frozen=True)
class Offer:
    """One support content the owner may choose: every row of it in the programmes that apply here.

    A content is offered once, never once per programme: its rows are levels of one support, and the
    firm gets the most favourable one (ND80 Art. 4.2; TT06 Art. 3.4).
    """

    family: str  # the content's code (its first Annex row, e.g. "III.A"): chosen, and answers keyed on it
    content: str  # the content id (rules/data/contents.yaml)
    programme_id: str  # the programme of the row shown in the list
    rows: tuple[Item, ...]
    shown: Item  # the row whose title the owner reads: the one that can give the most

    @property
    def kind(self) -> Kind:
        return self.shown.kind


def offers(answers: Mapping[str, Any], ctx: Context) -> list[Offer]:
    """The supports this profile may get here and today, grouped by kind then programme."""
    relevant = tuple((k, answers.get(k)) for k in _OFFER_KEYS)
    # the catalogue itself, not its id: a reloaded catalogue can never meet an old one's key
    key = (relevant, ctx.today, ctx.open_item_ids, ctx.catalogue)
    found = _OFFERS.get(key)
    if found is None:
        if len(_OFFERS) > 256:
            _OFFERS.clear()
        found = _OFFERS[key] = _offers(answers, ctx)
    return list(found)


_OFFERS: dict[tuple[Any, ...], tuple[Offer, ...]] = {}
#: The answers the offers depend on: free text (the firm's name, address...) does not decide them and
#: would make each key as big as what the owner typed.
_FREE_TEXT = ("name", "tax_code", "address", "phone", "email")
_OFFER_KEYS = (
    *(k for k in (*PROFILE_STEPS, *DECLARATION_STEPS) if k not in _FREE_TEXT),
    *(date_key(d) for d in DateKey),
    PROGRAMME,
)


def _offers(answers: Mapping[str, Any], ctx: Context) -> tuple[Offer, ...]:
    profile = listing_profile(answers)
    found: list[Offer] = []
    for content, rows in ctx.catalogue.content_rows().items():
        here = tuple(r for r in rows if _here(ctx.catalogue.programme_of(r.id), answers))
        fitting = tuple(
            r for r in here if not r.unconfirmed and refusal(r, profile, ctx.today, assume_dates=True) is None
        )
        if not fitting or any(r.id in ctx.open_item_ids for r in rows):
            continue
        best = estimate(fitting, profile, DISPLAY_COST, on=ctx.today, assume_dates=True)
        programme = ctx.catalogue.programme_of(best.item.id).id
        found.append(Offer(rows[0].family_key, content, programme, here, best.item))
    programme_order = {pid: i for i, pid in enumerate(ctx.catalogue.programmes)}
    found.sort(key=lambda o: (KIND_ORDER.index(o.kind), programme_order[o.programme_id]))
    return tuple(found)


def _here(programme: Programme, answers: Mapping[str, Any]) -> bool:
    """A row's programme is for the firm's place, and is the one chosen (when one was)."""
    chosen = answers.get(PROGRAMME)
    return programme_here(programme.region, answers) and (not chosen or programme.id == chosen)


def listing_profile(answers: Mapping[str, Any]) -> Profile:
    """The profile the list of supports is drawn from: the declaration only.

    Dates asked for a chosen item (the lease, the e-commerce account, the first registration of a firm that
    is not a start-up) are not used to draw the list: a chosen support must not vanish when its date is
    given; the estimate says instead that the time has passed, and why.
    """
    profile = profile_of(answers)
    keep = {DateKey.first_registration} if answers.get("startup") not in (None, "none") else set()
    return replace(profile, dates=tuple((k, d) for k, d in profile.dates if k in keep))


def blocked_by_open_dossier(answers: Mapping[str, Any], ctx: Context) -> int:
    """How many supports are left out because an open dossier already asks for them (TT06 Art. 3.4)."""
    return sum(
        1 for rows in ctx.catalogue.content_rows().values() if any(r.id in ctx.open_item_ids for r in rows)
    )


def offer_choices(view: View) -> list[Choice]:
    out = []
    for offer in offers(view.answers, view.ctx):
        label = say(
            "choice.offer",
            kind=say(f"kind.{offer.kind.value}"),
            code=offer.shown.code,
            title=Plain(offer.shown.title.get(view.lang)),
        )
        out.append(
            Choice(offer.family, label, (offer.shown.title.vi, offer.shown.title.en, offer.shown.code))
        )
    return out


def chosen(view: View) -> list[Offer]:
    picked = view.answers.get("items") or []
    by_family = {o.family: o for o in offers(view.answers, view.ctx)}
    return [by_family[f] for f in picked if f in by_family]


def items_step() -> Step:
    step = multi_step("items", "ask.items", offer_choices)
    base_prompt = step.prompt

    def prompt(view: View) -> Prompt:
        shown = base_prompt(view)
        lines: list[Line] = list(shown.lines)
        if not shown.choices:
            lines = [say("items.none")]
        blocked = blocked_by_open_dossier(view.answers, view.ctx)
        if blocked:
            lines.append(say("items.blocked", count=blocked))
        return Prompt(tuple(lines), shown.choices)

    return Step(step.name, prompt, step.parse, multi=True, summary=step.summary)


CONSULTANT_CODE = re.compile(r"[A-Z0-9][A-Z0-9./_-]{0,38}[A-Z0-9]")


def looks_like_consultant_code(value: object) -> bool:
    """A consultant's code as the network issues it ("TVV-0123"): letters, digits and -./_, with a digit."""
    text = str(value or "").strip().upper()
    return bool(CONSULTANT_CODE.fullmatch(text)) and any(c.isdigit() for c in text)


def _consultant_code(text: str) -> str | None:
    """The code, "" for "not yet" ("chua co", "toi chua co ma"); None (asked again) for anything else."""
    value = text.strip().upper()
    folded = fold(text)
    words = folded.split()
    if folded in NOT_YET_WORDS or "chua" in words or "not yet" in folded or words[:1] in (["khong"], ["ko"]):
        return ""
    return value if looks_like_consultant_code(value) else None


def item_steps(offer: Offer, view: View) -> list[Step]:
    row = offer.shown
    title = row.title.get(view.lang)
    per_unit = row.cap_unit in QUANTITY_UNITS
    content = view.ctx.catalogue.contents[offer.content]
    steps: list[Step] = []
    for limit in (lim for r in offer.rows for lim in r.time_limits):
        if all(date_key(limit.since) != s.name for s in steps) and (
            date_key(limit.since) not in view.answers or not _asked_before(view, limit.since)
        ):
            steps.append(_titled(date_step(limit), title, row))
    steps.extend(_titled(s, title, row) for s in _waiver_steps(offer, view))
    if _out_of_time(offer, view):
        return steps  # the date shows the support is out of time: the review says why; nothing else to ask
    if per_unit:
        steps.append(_quantity_step(offer, title))
    cost = money_step(f"cost:{offer.family}", "ask.cost_unit" if per_unit else "ask.cost", "example.cost")
    steps.append(_titled(cost, title, row))
    steps.append(_titled(yes_no_step(f"quote:{offer.family}", "ask.quote"), title, row))
    if content.consulting:
        code = text_step(
            f"consultant:{offer.family}",
            "ask.consultant",
            _consultant_code,
            "error.consultant",
            "example.consultant",
        )
        steps.append(_titled(code, title, row))
    if any(r.basis.document == "ND80" for r in offer.rows):  # yearly caps per firm (TT06 Art. 3.5)
        steps.append(_titled(other_agency_step(offer), title, row))
    if view.answers.get(f"other:{offer.family}") and any(r.max_units for r in offer.rows):
        units = count_step(f"other_units:{offer.family}", "ask.other_units", "example.quantity")
        steps.append(_titled(units, title, row))
    return steps


def _waiver_steps(offer: Offer, view: View) -> list[Step]:
    """A date past its limit, where a flag waives the limit (a firm converted from a household, TT06
    Art. 12): ask about the flag rather than refuse."""
    profile = profile_of(view.answers)
    steps: list[Step] = []
    for row in offer.rows:
        why = refusal(row, profile, view.ctx.today)
        stale = why is not None and why.key == "eligibility.time_limit"
        for limit in row.time_limits:
            for flag in limit.waived_by:
                if (stale or flag.value in view.answers) and all(s.name != flag.value for s in steps):
                    steps.append(yes_no_step(flag.value, f"ask.{flag.value}"))
    return steps


def _asked_before(view: View, key: DateKey) -> bool:
    """The date was asked in the declaration (a start-up's first registration), not for this item."""
    return key is DateKey.first_registration and view.answers.get("startup") not in (None, "none")


def _out_of_time(offer: Offer, view: View) -> bool:
    """Every row the firm could get is refused on a time limit that the owner's dates decide."""
    listing, profile, today = listing_profile(view.answers), profile_of(view.answers), view.ctx.today
    candidates = [r for r in offer.rows if not r.unconfirmed and refusal(r, listing, today, True) is None]
    whys = [refusal(r, profile, today) for r in candidates]
    return bool(whys) and all(
        w is not None and w.key in ("eligibility.time_limit", "eligibility.date_future") for w in whys
    )


def other_agency_step(offer: Offer) -> Step:
    """What other agencies paid this year for the content, with "none" one tap away (TT06 Art. 3.5)."""
    money = money_step(
        f"other:{offer.family}", "ask.other_agency", "example.other_agency", none_words=NONE_WORDS
    )
    none = Choice("_none", say("choice.none_received"), NONE_WORDS)

    def prompt(view: View) -> Prompt:
        shown = money.prompt(view)
        return Prompt(shown.lines, (none,), shown.example)

    def parse(view: View, inp: Input) -> int | None:
        if inp.payload == none.payload:
            return None
        value: int | None = money.parse(view, inp)
        return value or None

    return Step(money.name, prompt, parse, summary=money.summary)


def _quantity_step(offer: Offer, title: str) -> Step:
    step = count_step(f"qty:{offer.family}", "ask.quantity", "example.quantity", minimum=1)
    return _titled(step, title, offer.shown)


def _titled(step: Step, title: str, row: Item) -> Step:
    """The same question with the item's title and unit in it."""
    base = step.prompt

    def prompt(view: View) -> Prompt:
        shown = base(view)
        head = say("ask.for_item", title=Plain(title), unit=say(f"unit.{row.cap_unit.value}"))
        return Prompt((head, *shown.lines), shown.choices, shown.example, shown.buttons_only_after_tries)

    return Step(step.name, prompt, step.parse, step.optional, step.multi, step.summary, step.editable)


def support_steps(view: View) -> list[Step]:
    steps = [items_step()]
    for offer in chosen(view):
        steps.extend(item_steps(offer, view))
    return steps


def declared_other(answers: Mapping[str, Any], offer: Offer) -> Used:
    """What the owner says other agencies already paid this year for the content (TT06 Art. 3.5)."""
    money = int(answers.get(f"other:{offer.family}") or 0)
    return Used(money, int(answers.get(f"other_units:{offer.family}") or 0))


def used_for(answers: Mapping[str, Any], ctx: Context, offer: Offer) -> Used:
    """Received this year for the content: approvals smebot knows of, plus what the owner declared."""
    return ctx.used.get(offer.content, NOTHING_USED) + declared_other(answers, offer)


def estimates(answers: Mapping[str, Any], ctx: Context, offers_: Sequence[Offer]) -> list[Estimate]:
    profile: Profile = profile_of(answers)
    requests = [
        Request(
            offer.rows,
            int(answers.get(f"cost:{offer.family}") or 0),
            int(answers.get(f"qty:{offer.family}") or 1),
        )
        for offer in offers_
    ]
    used = {offer.content: used_for(answers, ctx, offer) for offer in offers_}
    return estimate_all(requests, profile, used, ctx.today)


def checklist(evidence_per_item: Iterable[Iterable[str]]) -> list[str]:
    """Evidence ids a dossier needs for its items, each once, in first-seen order (REFERENCE §4-5)."""
    seen: list[str] = []
    for evidence_ids in evidence_per_item:
        for evidence in evidence_ids:
            if evidence not in seen:
                seen.append(evidence)
    return seen


def estimate_lines(est: Estimate, lang: str, ctx: Context) -> list[Line]:
    lines = explain.estimate_lines(est, lang) + explain.level_lines(est, ctx.catalogue, lang)
    return [Plain(line) for line in lines]


def procedure_lines(ests: Sequence[Estimate], lang: str, ctx: Context) -> list[Line]:
    """How the agency answers, once per kind of procedure among the supports the owner may get."""
    seen: list[str] = []
    for est in ests:
        if est.eligible:
            line = explain.procedure_line(est, ctx.catalogue, lang)
            if line not in seen:
                seen.append(line)
    return [Plain(line) for line in seen]
