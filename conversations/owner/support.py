"""Support items for the owner: which fit, what each costs, the estimate and the evidence checklist."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conversations.context import Context
from conversations.engine import Prompt, Step, View
from conversations.messages import Choice, Line, Plain, say
from conversations.owner.firm import DECLARATION_STEPS, PROFILE_STEPS, profile_of, programme_here
from conversations.steps import count_step, money_step, multi_step, text_step, yes_no_step
from rules import explain
from rules.catalogue import QUANTITY_UNITS, Item, Kind
from rules.estimate import Estimate, Profile, estimate, refusal
from rules.text import fold

KIND_ORDER = (Kind.consulting, Kind.digital, Kind.training, Kind.startup, Kind.cluster, Kind.khuyen_cong)
NOT_YET_WORDS = ("chua co", "chua", "khong", "none", "not yet", "no", "ko", "ko co", "khong co", "k")
#: The cost used to pick the row shown for a family in the list (the row that can give the most).
DISPLAY_COST = 10**12


@dataclass(frozen=True)
class Offer:
    family: str
    programme_id: str
    rows: tuple[Item, ...]
    shown: Item  # the row whose title the owner reads

    @property
    def kind(self) -> Kind:
        return self.shown.kind


def offers(answers: Mapping[str, Any], ctx: Context) -> list[Offer]:
    """The supports this profile may get here and today, grouped by kind then programme."""
    relevant = tuple((k, answers.get(k)) for k in (*PROFILE_STEPS, *DECLARATION_STEPS))
    key = (relevant, ctx.today, ctx.open_item_ids, id(ctx.catalogue))
    found = _OFFERS.get(key)
    if found is None:
        if len(_OFFERS) > 256:
            _OFFERS.clear()
        found = _OFFERS[key] = _offers(answers, ctx)
    return list(found)


_OFFERS: dict[tuple[Any, ...], tuple[Offer, ...]] = {}


def _offers(answers: Mapping[str, Any], ctx: Context) -> tuple[Offer, ...]:
    profile = profile_of(answers)
    found: list[Offer] = []
    for family, rows in ctx.catalogue.families().items():
        programme = ctx.catalogue.programme_of(rows[0].id)
        if not programme_here(programme.region, answers):
            continue
        fitting = tuple(r for r in rows if not r.unconfirmed and refusal(r, profile, ctx.today) is None)
        if not fitting or any(r.id in ctx.open_item_ids for r in rows):
            continue
        best = estimate(fitting, profile, DISPLAY_COST, on=ctx.today)
        found.append(Offer(family, programme.id, rows, best.item))
    programme_order = {pid: i for i, pid in enumerate(ctx.catalogue.programmes)}
    found.sort(key=lambda o: (KIND_ORDER.index(o.kind), programme_order[o.programme_id]))
    return tuple(found)


def blocked_by_open_dossier(answers: Mapping[str, Any], ctx: Context) -> int:
    """How many supports are left out because an open dossier already asks for them (TT06 Art. 3.4)."""
    return sum(
        1 for rows in ctx.catalogue.families().values() if any(r.id in ctx.open_item_ids for r in rows)
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


def _consultant_code(text: str) -> str | None:
    value = text.strip().upper()
    if fold(text) in NOT_YET_WORDS:
        return ""
    return value if 2 <= len(value) <= 40 and not value.startswith("/") else None


def item_steps(offer: Offer, lang: str) -> list[Step]:
    row = offer.shown
    title = row.title.get(lang)
    per_unit = row.cap_unit in QUANTITY_UNITS
    steps: list[Step] = []
    if per_unit:
        steps.append(_quantity_step(offer, title))
    cost = money_step(f"cost:{offer.family}", "ask.cost_unit" if per_unit else "ask.cost", "example.cost")
    steps.append(_titled(cost, title, row))
    steps.append(_titled(yes_no_step(f"quote:{offer.family}", "ask.quote"), title, row))
    if any(r.needs_network_consultant for r in offer.rows):
        code = text_step(
            f"consultant:{offer.family}",
            "ask.consultant",
            _consultant_code,
            "error.consultant",
            "example.consultant",
        )
        steps.append(_titled(code, title, row))
    return steps


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
        steps.extend(item_steps(offer, view.lang))
    return steps


def estimates(answers: Mapping[str, Any], ctx: Context, offers_: Sequence[Offer]) -> list[Estimate]:
    profile: Profile = profile_of(answers)
    out = []
    for offer in offers_:
        cost = int(answers.get(f"cost:{offer.family}") or 0)
        quantity = int(answers.get(f"qty:{offer.family}") or 1)
        used = sum(ctx.used_vnd.get(r.id, 0) for r in offer.rows)
        out.append(estimate(offer.rows, profile, cost, quantity, used, ctx.today))
    return out


def checklist(evidence_per_item: Iterable[Iterable[str]]) -> list[str]:
    """Evidence ids a dossier needs for its items, each once, in first-seen order (REFERENCE §4-5)."""
    seen: list[str] = []
    for evidence_ids in evidence_per_item:
        for evidence in evidence_ids:
            if evidence not in seen:
                seen.append(evidence)
    return seen


def estimate_lines(est: Estimate, lang: str) -> list[Line]:
    return [Plain(line) for line in explain.estimate_lines(est, lang)]
