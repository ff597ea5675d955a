"""The owner's firm: enterprise profile and size declaration questions, and the profile they add up to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from conversations import places, understand
from conversations.context import Context
from conversations.engine import Input, Invalid, Prompt, Step, View
from conversations.messages import Choice, Line, Msg, Plain, say
from conversations.steps import (
    choice_step,
    count_step,
    free_text,
    money_step,
    text_step,
    yes_no_step,
)
from conversations.validators import (
    normalize_email,
    normalize_firm_code,
    normalize_personal_id,
    normalize_phone,
)
from rules import explain
from rules.catalogue import DateKey, EntityType, Flag, TimeLimit
from rules.dates import DateError, parse_date
from rules.estimate import Profile
from rules.legal import Basis
from rules.places import same_place
from rules.size import Declaration, Sector, SizeResult, classify, many_female_workers
from rules.text import fold

PROFILE_STEPS = ("name", "tax_code", "entity_type", "province", "commune", "address", "phone", "email")
DECLARATION_STEPS = (
    "sector",
    "workers",
    "female_workers",
    "revenue",
    "capital",
    "months",
    "women_owned",
    "social_enterprise",
    "disadvantaged_area",
    "production_processing",
    "startup",
    "linkage",
    "rural_industry",
)

ENTITY_TYPES: tuple[tuple[str, EntityType], ...] = (
    ("llc1", EntityType.enterprise),
    ("llc2", EntityType.enterprise),
    ("jsc", EntityType.enterprise),
    ("partnership", EntityType.enterprise),
    ("private", EntityType.enterprise),
    ("cooperative", EntityType.cooperative),
    ("household", EntityType.household),
    ("rural", EntityType.rural_establishment),
)
ENTITY_OF = dict(ENTITY_TYPES)
STARTUP_EVIDENCE = ("none", "prize", "patent", "st_certificate", "fund", "incubator", "council")
LINKAGE = ("none", "cluster", "value_chain", "both")
NO_REVENUE_WORDS = ("chua co", "chua co doanh thu", "khong co", "none", "no revenue", "0")
FULL_YEAR_WORDS = ("tren 1 nam", "hon 1 nam", "du 1 nam", "1 nam tro len", "more", "12+")


def _entity_choices(view: View) -> list[Choice]:
    return [Choice(key, say(f"entity_type.{key}")) for key, _ in ENTITY_TYPES]


def _entity_step() -> Step:
    """The type of establishment; an enterprise has a 10-digit enterprise code, never a personal ID."""
    base = choice_step("entity_type", "ask.entity_type", _entity_choices)

    def parse(view: View, inp: Input) -> Any:
        value = base.parse(view, inp)
        personal_id = normalize_personal_id(str(view.answers.get("tax_code") or "")) is not None
        if personal_id and ENTITY_OF.get(str(value)) is EntityType.enterprise:
            raise Invalid("error.entity_personal_id")
        return value

    return Step(base.name, base.prompt, parse, summary=base.summary)


def is_enterprise(answers: Mapping[str, Any]) -> bool:
    """Decree 80 applies to enterprises only (Art. 2; L04 Art. 4): not to households or cooperatives."""
    return ENTITY_OF.get(str(answers.get("entity_type")), EntityType.enterprise) is EntityType.enterprise


def _province_choices(view: View) -> list[Choice]:
    return [Choice(str(code), Plain(name), (places.short_name(name),)) for code, name in places.provinces()]


def _commune_choices(view: View) -> list[Choice]:
    province = int(view.answers.get("province") or 0)
    return [
        Choice(str(code), Plain(name), (places.short_name(name),)) for code, name in places.communes(province)
    ]


#: What owners call their line of business ("san xuat" is industry, "buon ban" is trade).
SECTOR_WORDS = {
    "agriculture": ("trong trot", "chan nuoi", "nuoi trong", "thuy san", "lam nghiep", "farming", "fishing"),
    "industry": ("san xuat", "che bien", "che tao", "tieu thu cong nghiep", "manufacturing", "factory"),
    "construction": ("xay lap", "building", "xay nha"),
    "trade": ("buon ban", "ban hang", "mua ban", "ban le", "ban buon", "retail", "wholesale", "shop"),
    "services": ("an uong", "nha hang", "van tai", "du lich", "khach san", "restaurant", "transport"),
}


def _sector_choices(view: View) -> list[Choice]:
    return [Choice(s.value, say(f"sector.{s.value}"), SECTOR_WORDS.get(s.value, ())) for s in Sector]


def _months_step() -> Step:
    def prompt(view: View) -> Prompt:
        return Prompt(
            (say("ask.months"),),
            (Choice("_full", say("choice.full_year"), FULL_YEAR_WORDS),),
            example=say("example.months"),
        )

    def parse(view: View, inp: Input) -> int | None:
        if inp.payload == "_full" or fold(inp.text) in FULL_YEAR_WORDS:
            return None
        return understand.read_months(inp.text)  # "8", "5 nam roi", "tren 12 thang", "2 nam ruoi"

    def summary(view: View, value: Any) -> Line:
        return say("choice.full_year") if value is None else say("summary.months", months=value)

    return Step("months", prompt, parse, summary=summary)


def _female_step() -> Step:
    def maximum(view: View) -> int | None:
        workers = view.answers.get("workers")
        return int(workers) if workers is not None else None

    return count_step("female_workers", "ask.female_workers", "example.female_workers", maximum=maximum)


def date_key(key: DateKey) -> str:
    return f"date:{key.value}"


#: Start-up support: at most 5 years from the first enterprise registration (L04 Art. 17.1).
STARTUP_LIMIT = TimeLimit(
    years=5, since=DateKey.first_registration, basis=Basis(document="L04", article=17, clause=1)
)


def date_step(limit: TimeLimit) -> Step:
    """The date a time limit counts from (asked once, wherever an item or the start-up status needs it),
    with the limit it decides."""
    key = limit.since

    def prompt(view: View) -> Prompt:
        why = "limit.note_year" if limit.to_year_end else "limit.note"
        note = say(why, years=limit.years, basis=Plain(limit.basis.cite(view.lang)))
        return Prompt((say(f"ask.date.{key.value}"), note), example=say("example.date"))

    def parse(view: View, inp: Input) -> str:
        try:
            day = parse_date(inp.text)
        except DateError as exc:
            raise Invalid(f"dates.error.{exc.code}") from exc
        if day > view.ctx.today:
            raise Invalid("dates.error.future")
        return day.isoformat()

    def summary(view: View, value: Any) -> Line:
        return Plain(explain.date_text(dt.date.fromisoformat(str(value)), view.lang))

    return Step(date_key(key), prompt, parse, summary=summary)


def profile_steps() -> list[Step]:
    return [
        text_step("name", "ask.name", free_text(2, 200), "error.name", "example.name"),
        text_step("tax_code", "ask.tax_code", normalize_firm_code, "error.tax_code", "example.tax_code"),
        _entity_step(),
        choice_step("province", "ask.province", _province_choices),
        choice_step("commune", "ask.commune", _commune_choices),
        text_step("address", "ask.address", free_text(5, 300), "error.address", "example.address"),
        text_step("phone", "ask.phone", normalize_phone, "error.phone", "example.phone"),
        text_step("email", "ask.email", normalize_email, "error.email", "example.email", optional=True),
    ]


def declaration_steps(answers: Mapping[str, Any], ctx: Context) -> list[Step]:
    if not is_enterprise(answers):
        return establishment_steps(answers, ctx)
    steps = [
        choice_step("sector", "ask.sector", _sector_choices),
        count_step("workers", "ask.workers", "example.workers"),
        _female_step(),
        money_step("revenue", "ask.revenue", "example.revenue", none_words=NO_REVENUE_WORDS),
        money_step("capital", "ask.capital", "example.capital"),
        _months_step(),
        yes_no_step("women_owned", "ask.women_owned"),
        yes_no_step("social_enterprise", "ask.social_enterprise"),
        yes_no_step("disadvantaged_area", "ask.disadvantaged_area"),
    ]
    if answers.get("sector") in (Sector.agriculture.value, Sector.industry.value, Sector.construction.value):
        steps.append(yes_no_step("production_processing", "ask.production_processing"))
    steps.append(
        choice_step(
            "startup", "ask.startup", lambda v: [Choice(k, say(f"startup.{k}")) for k in STARTUP_EVIDENCE]
        )
    )
    if answers.get("startup") not in (
        None,
        "none",
    ):  # at most 5 years from first registration (L04 Art. 17.1)
        steps.append(date_step(STARTUP_LIMIT))
    if linkage_can_matter(answers, ctx):
        steps.append(
            choice_step("linkage", "ask.linkage", lambda v: [Choice(k, say(f"linkage.{k}")) for k in LINKAGE])
        )
    if rural_programme_here(answers, ctx):
        steps.append(yes_no_step("rural_industry", "ask.rural_industry"))
    return steps


def location(answers: Mapping[str, Any]) -> tuple[str, str]:
    """(province name, commune name) of the head office."""
    province = int(answers.get("province") or 0)
    commune = int(answers.get("commune") or 0)
    return places.province_name(province), places.commune_name(province, commune)


def programme_here(region: Any, answers: Mapping[str, Any]) -> bool:
    """A national programme fits everyone; a provincial or commune one fits firms headquartered there."""
    if region.level == "national":
        return True
    province, commune = location(answers)
    same_province = same_place(province, region.province or "")
    if region.level == "province":
        return same_province
    return same_province and same_place(commune, region.commune or "")


def establishment_steps(answers: Mapping[str, Any], ctx: Context) -> list[Step]:
    """A household, cooperative or rural establishment: no Decree 80 size or priority questions."""
    steps = [choice_step("sector", "ask.sector", _sector_choices)]
    if answers.get("sector") in (Sector.agriculture.value, Sector.industry.value, Sector.construction.value):
        steps.append(yes_no_step("production_processing", "ask.production_processing"))
    if rural_programme_here(answers, ctx):
        steps.append(yes_no_step("rural_industry", "ask.rural_industry"))
    return steps


LINKAGE_FLAGS = frozenset({Flag.cluster, Flag.value_chain})


def linkage_can_matter(answers: Mapping[str, Any], ctx: Context) -> bool:
    """Ask about clusters and value chains only if an item here needs them and the firm meets the rest of
    its conditions (production/processing: TT06 Chapter II Section 4, Art. 5.1.b)."""
    flags = flags_of(answers)
    asking = (
        *ctx.catalogue.programmes_asking(Flag.cluster),
        *ctx.catalogue.programmes_asking(Flag.value_chain),
    )
    for programme in {p.id: p for p in asking}.values():  # by id: hashing a programme hashes all of it
        if not programme_here(programme.region, answers) or not programme_open(programme, ctx.today):
            continue
        for item in programme.items:
            linkage = [c for c in item.requires if LINKAGE_FLAGS & set(c.any_of)]
            others = [c for c in item.requires if not LINKAGE_FLAGS & set(c.any_of)]
            if linkage and all(flags & set(c.any_of) for c in others):
                return True
    return False


def rural_programme_here(answers: Mapping[str, Any], ctx: Context) -> bool:
    """A programme here and open today targets rural industry: only then is the question asked."""
    return any(
        programme_here(p.region, answers) and programme_open(p, ctx.today)
        for p in ctx.catalogue.programmes_asking(Flag.rural_industry)
    )


def programme_open(programme: Any, day: dt.date) -> bool:
    return bool(programme.valid_from <= day and (programme.valid_to is None or day <= programme.valid_to))


def declaration(answers: Mapping[str, Any]) -> Declaration:
    return Declaration(
        sector=Sector(answers["sector"]),
        workers=int(answers["workers"]),
        revenue_vnd=answers.get("revenue"),
        capital_vnd=int(answers["capital"]),
        months_operating=answers.get("months"),
        female_workers=answers.get("female_workers"),
    )


def size_of(answers: Mapping[str, Any]) -> SizeResult:
    return classify(declaration(answers))


def flags_of(answers: Mapping[str, Any]) -> frozenset[Flag]:
    flags: set[Flag] = set()
    workers, female = answers.get("workers"), answers.get("female_workers")
    if workers is not None and female is not None and many_female_workers(int(workers), int(female)):
        flags.add(Flag.many_female_workers)
    for key, flag in (
        ("women_owned", Flag.women_owned),
        ("social_enterprise", Flag.social_enterprise),
        ("disadvantaged_area", Flag.disadvantaged_area),
        ("production_processing", Flag.production_processing),
        ("rural_industry", Flag.rural_industry),
        ("converted_household", Flag.converted_household),
    ):
        if answers.get(key):
            flags.add(flag)
    if answers.get("startup") not in (None, "none"):
        flags.add(Flag.startup)
    linkage = answers.get("linkage")
    if linkage in ("cluster", "both"):
        flags.add(Flag.cluster)
    if linkage in ("value_chain", "both"):
        flags.add(Flag.value_chain)
    return frozenset(flags)


def dates_of(answers: Mapping[str, Any]) -> dict[DateKey, dt.date]:
    return {k: dt.date.fromisoformat(str(answers[date_key(k)])) for k in DateKey if answers.get(date_key(k))}


def profile_of(answers: Mapping[str, Any]) -> Profile:
    entity = ENTITY_OF.get(str(answers.get("entity_type")), EntityType.enterprise)
    if entity is not EntityType.enterprise:  # no SME size: Decree 80 does not apply (Art. 2)
        return Profile((), flags_of(answers), entity, tuple(sorted(dates_of(answers).items())))
    return Profile.of(size_of(answers), flags_of(answers), entity, dates_of(answers))


def summary_line(step: Step, view: View) -> Line:
    value = view.answers.get(step.name)
    shown = step.summary(view, value) if step.summary else Plain(str(value))
    return Msg("summary.line", {"label": say(f"label.{step.name.split(':', 1)[0]}"), "value": shown})
