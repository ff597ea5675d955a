"""The owner's journey as one flow: saved profile -> enterprise -> size -> supports -> estimate -> filing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from conversations.context import Context
from conversations.effects import FileDossier
from conversations.engine import Input, Invalid, Prompt, State, Step, View, match_choice
from conversations.messages import Choice, Line, Money, Msg, Plain, say
from conversations.owner import firm
from conversations.owner.support import checklist as evidence_checklist
from conversations.owner.support import (
    chosen,
    declared_other,
    estimate_lines,
    estimates,
    procedure_lines,
    support_steps,
)
from locales import LANGUAGES, t
from rules import explain
from rules.agencies import route
from rules.catalogue import EntityType
from rules.estimate import NOTHING_USED, Refusal, programme_refusal
from rules.size import SizeResult

FLOW = "owner"


def _choice_step(name: str, prompt_fn: Any, choices: Sequence[Choice]) -> Step:
    def prompt(view: View) -> Prompt:
        return Prompt(tuple(prompt_fn(view)), tuple(choices))

    def parse(view: View, inp: Input) -> str:
        picked = match_choice(choices, inp, view.lang)
        if picked is None:
            raise Invalid("error.choice")
        return picked.payload

    return Step(name, prompt, parse, editable=False)


def saved_profile_lines(view: View) -> list[Line]:
    saved = view.ctx.saved_profile or {}
    preview = View(replace(view.state, answers=dict(saved)), view.ctx)
    lines: list[Line] = [say("saved.intro")]
    lines.extend(firm.summary_line(s, preview) for s in firm.profile_steps() if s.name in saved)
    return lines


def use_saved_step() -> Step:
    choices = (
        Choice("use", say("saved.use"), ("dung", "use", "ok")),
        Choice("edit", say("saved.edit"), ("sua", "edit")),
    )
    return _choice_step("use_saved", saved_profile_lines, choices)


def size_lines(result: SizeResult, answers: Mapping[str, Any], lang: str) -> list[Line]:
    if not result.is_sme:
        return [
            say("size.not_sme", reason=Plain(explain.size_reason(result, lang))),
            say("size.not_sme_next"),
        ]
    lines: list[Line] = [
        say("size.result_line", summary=Plain(explain.size_summary(result, lang))),
        say("size.reason_line", reason=Plain(explain.size_reason(result, lang))),
    ]
    alt = explain.size_alternatives(result, lang)
    if alt:
        lines.append(Plain(alt))
    flags = explain.flag_names(firm.flags_of(answers), lang)
    if flags:
        lines.append(say("size.flags", flags=Plain(", ".join(flags))))
    return lines


def size_step() -> Step:
    choices = (
        Choice("continue", say("size.continue"), ("tiep tuc", "continue", "ok")),
        Choice("edit", say("size.edit"), ("sua", "edit")),
    )

    def lines(view: View) -> list[Line]:
        if not firm.is_enterprise(view.answers):
            return establishment_lines(view)
        shown = size_lines(firm.size_of(view.answers), view.answers, view.lang)
        return shown + programme_lines(view)

    return _choice_step("size_ok", lines, choices)


def establishment_lines(view: View) -> list[Line]:
    """A household, cooperative or rural establishment: what it is not (a Decree 80 SME), what applies."""
    entity = firm.profile_of(view.answers).entity_type
    lines: list[Line] = [say("not_enterprise.title", entity=say(f"entity.{entity.value}"))]
    lines.extend(programme_lines(view))
    if entity is EntityType.household:
        lines.append(say("not_enterprise.conversion"))
    return lines


def programme_lines(view: View) -> list[Line]:
    """Every owner sees, before choosing items, which programmes apply and which do not, and why."""
    profile = firm.profile_of(view.answers)
    fits: list[Line] = []
    not_fits: list[Line] = []
    for programme in view.ctx.catalogue.programmes.values():
        if not any(item.for_firms for item in programme.items):
            continue
        title = Plain(programme.title.get(view.lang))
        why = programme_refusal(programme, profile, view.ctx.today)
        if why is None and not firm.programme_here(programme.region, view.answers):
            place = programme.region.commune or programme.region.province or ""
            if programme.region.commune:
                place = f"{programme.region.commune}, {programme.region.province}"
            why = Refusal("programme.region", {"place": place})
        if why is None:
            fits.append(
                say("programme.fits_line", title=title, authority=Plain(programme.authority.get(view.lang)))
            )
        else:
            reason = Plain(explain.refusal_text(why, view.lang))
            not_fits.append(say("programme.not_line", title=title, reason=reason))
    lines: list[Line] = [say("programme.fits_header"), *fits] if fits else [say("programme.none_fits")]
    if not_fits:
        lines += [say("programme.not_header"), *not_fits]
    return lines


def review_lines(view: View) -> list[Line]:
    offers = chosen(view)
    ests = estimates(view.answers, view.ctx, offers)
    lines: list[Line] = [say("review.title", name=Plain(str(view.answers.get("name", ""))))]
    for est in ests:
        lines.extend(estimate_lines(est, view.lang, view.ctx))
    total = sum(e.state_vnd for e in ests)
    lines.append(say("review.total", total=Money(total)))
    lines.extend(procedure_lines(ests, view.lang, view.ctx))
    if any(view.ctx.catalogue.contents[o.content].consulting for o in offers):
        lines.append(say("review.network_consultant"))
    lines.append(say("estimate.indicative"))
    return lines


def review_step() -> Step:
    choices = (
        Choice("file", say("review.file"), ("nop", "nop ho so", "file")),
        Choice("edit", say("review.edit"), ("sua", "edit")),
        Choice("cancel", say("review.cancel"), ("huy", "cancel")),
    )
    return _choice_step("review", review_lines, choices)


class OwnerJourney:
    name = FLOW

    def view(self, state: State, ctx: Context) -> View:
        return View(state, ctx)

    def steps(self, view: View) -> list[Step]:
        steps: list[Step] = []
        if view.ctx.saved_profile:
            steps.append(use_saved_step())
        steps.extend(firm.profile_steps())
        steps.extend(firm.declaration_steps(view.answers, view.ctx))
        needed = ("sector", "workers", "capital") if firm.is_enterprise(view.answers) else ("sector",)
        if not all(k in view.answers for k in needed):
            return steps
        steps.append(size_step())
        steps.extend(support_steps(view))
        steps.append(review_step())
        return steps


JOURNEY = OwnerJourney()


def editable_steps(view: View) -> list[Step]:
    return [s for s in JOURNEY.steps(view) if s.editable and s.name in view.answers]


def filing_data(view: View) -> dict[str, Any]:
    """Everything the shell stores for a new dossier: declaration, size, items, amounts, checklist."""
    answers = view.answers
    offers = chosen(view)
    ests = estimates(answers, view.ctx, offers)
    result = firm.size_of(answers) if firm.is_enterprise(answers) else None
    province, commune = firm.location(answers)
    items = []
    for offer, est in zip(offers, ests, strict=True):
        if not est.eligible:
            continue
        items.append(
            {
                "family": offer.family,
                "content": offer.content,
                "item_id": est.item.id,
                "code": est.item.code,
                "programme_id": view.ctx.catalogue.programme_of(est.item.id).id,
                "cost_vnd": est.cost_vnd * est.quantity,
                "quantity": est.quantity,
                "state_vnd": est.state_vnd,
                "enterprise_vnd": est.enterprise_vnd,
                "data": {
                    "title_vi": est.item.title.vi,
                    "title_en": est.item.title.en,
                    "unit_cost_vnd": est.cost_vnd,
                    "rate_percent": str(est.item.rate_percent) if est.item.rate_percent is not None else None,
                    "cap_vnd": est.amount.cap_total_vnd if est.amount else None,
                    "basis_vi": est.item.basis.cite("vi"),
                    "basis_en": est.item.basis.cite("en"),
                    "size_used": est.size.value if est.size else None,
                    "content": offer.content,  # counts against the content's yearly cap (TT06 Art. 3.5)
                    "supported_units": est.amount.supported_units if est.amount else 0,
                    "used_known_vnd": view.ctx.used.get(offer.content, NOTHING_USED).vnd,
                    "used_known_units": view.ctx.used.get(offer.content, NOTHING_USED).units,
                    "used_declared_vnd": declared_other(answers, offer).vnd,
                    "used_declared_units": declared_other(answers, offer).units,
                    "levels": est.levels,
                    "procedure": view.ctx.catalogue.contents[offer.content].procedure.value,
                    "windows": [
                        {"since": w.since.isoformat(), "until": w.until.isoformat(), "years": w.limit.years}
                        for w in est.windows
                    ],
                    "quote": bool(answers.get(f"quote:{offer.family}")),
                    "consultant_code": answers.get(f"consultant:{offer.family}") or None,
                    "evidence": list(est.item.evidence),
                },
            }
        )
    profile = {k: answers[k] for k in (*firm.PROFILE_STEPS, *firm.DECLARATION_STEPS) if k in answers}
    return {
        "profile": profile,
        "province": province,
        "commune": commune,
        **size_data(result, firm.profile_of(answers).entity_type),
        "flags": sorted(f.value for f in firm.flags_of(answers)),
        "items": items,
        "checklist": evidence_checklist(i["data"]["evidence"] for i in items),
        "year": view.ctx.today.year,
        "filed_on": view.ctx.today.isoformat(),
    }


def size_data(result: SizeResult | None, entity: EntityType) -> dict[str, Any]:
    """The size as the dossier records it; an establishment that is not an enterprise has none."""
    if result is None:
        text = {
            lang: t("not_enterprise.title", lang, entity=t(f"entity.{entity.value}", lang))
            for lang in LANGUAGES
        }
        return {
            "size": "none",
            "entity": entity.value,
            "size_summary_vi": t(f"entity.{entity.value}", "vi"),
            "size_summary_en": t(f"entity.{entity.value}", "en"),
            "size_reason_vi": text["vi"],
            "size_reason_en": text["en"],
            "alternatives": [],
        }
    return {
        "size": result.size.value,
        "entity": entity.value,
        "size_summary_vi": explain.size_summary(result, "vi"),
        "size_summary_en": explain.size_summary(result, "en"),
        "size_reason_vi": explain.size_reason(result, "vi"),
        "size_reason_en": explain.size_reason(result, "en"),
        "alternatives": [s.value for s in result.alternatives],
    }


def filing_effects(data: Mapping[str, Any], ctx: Context) -> list[FileDossier]:
    """One dossier per agency: an item goes to the agency handling its programme here (TT06 Art. 3.4)."""
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for item in data["items"]:
        agency = route(ctx.agencies, item["programme_id"], data["province"], data["commune"])
        groups.setdefault(agency.id if agency else None, []).append(item)
    effects = []
    for agency_id, items in groups.items():
        part = {**data, "items": items, "checklist": evidence_checklist(i["data"]["evidence"] for i in items)}
        effects.append(FileDossier(part, agency_id))
    return effects


def review_summary(view: View) -> list[Line]:
    return [firm.summary_line(s, view) for s in editable_steps(view)]


def edit_choices(view: View) -> list[Choice]:
    out = []
    for step in editable_steps(view):
        out.append(Choice(f"edit:{step.name}", firm.summary_line(step, view)))
    return out


def summary_msg(lines: Sequence[Line]) -> Msg:
    return say("summary.block", lines=list(lines))
