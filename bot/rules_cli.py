"""``smebot classify | estimate | items``: the rules engine on the command line (a stable contract).

Exit 0 for every answer, an ineligible one included; bad input exits 2 with one line on stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from locales import t
from rules import explain
from rules.catalogue import Catalogue, Flag, Item, default_catalogue
from rules.estimate import Estimate, Profile, estimate, refusal
from rules.money import MoneyError, parse_vnd
from rules.size import Declaration, Sector, Size, SizeResult, classify, many_female_workers
from rules.text import fold


class UsageError(Exception):
    """Bad input on the command line: one line for stderr, exit 2."""


FLAG_OPTIONS: dict[str, Flag] = {
    "women_owned": Flag.women_owned,
    "female_workers": Flag.many_female_workers,
    "social_enterprise": Flag.social_enterprise,
    "startup": Flag.startup,
    "cluster": Flag.cluster,
    "value_chain": Flag.value_chain,
    "disadvantaged_area": Flag.disadvantaged_area,
    "production_processing": Flag.production_processing,
}

SECTOR_ALIASES: dict[str, Sector] = {
    **{s.value: s for s in Sector},
    "nong nghiep": Sector.agriculture,
    "lam nghiep": Sector.agriculture,
    "thuy san": Sector.agriculture,
    "forestry": Sector.agriculture,
    "fisheries": Sector.agriculture,
    "cong nghiep": Sector.industry,
    "manufacturing": Sector.industry,
    "xay dung": Sector.construction,
    "thuong mai": Sector.trade,
    "dich vu": Sector.services,
    "service": Sector.services,
}


def money_arg(name: str, lang: str) -> Any:
    def parse(text: str) -> int:
        try:
            return parse_vnd(text)
        except MoneyError as exc:
            message = t(f"money.error.{exc.code}", lang, text=text)
            raise UsageError(t("cli.error.money", lang, arg=name, message=message)) from exc

    return parse


def count_arg(name: str, lang: str) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError as exc:
            raise UsageError(f"{name}: '{text}' is not a whole number") from exc
        if value < 0:
            raise UsageError(t("cli.error.negative", lang, arg=name, value=text))
        return value

    return parse


def sector_arg(text: str, lang: str) -> Sector:
    sector = SECTOR_ALIASES.get(fold(text))
    if sector is None:
        raise UsageError(t("cli.error.sector", lang, value=text, choices=", ".join(s.value for s in Sector)))
    return sector


def add_profile_options(parser: argparse.ArgumentParser, size_option: bool) -> None:
    if size_option:
        parser.add_argument("--size", choices=[s.value for s in Size if s is not Size.none])
    parser.add_argument("--sector")
    parser.add_argument("--employees")
    parser.add_argument("--female-employees")
    parser.add_argument("--revenue")
    parser.add_argument("--capital")
    parser.add_argument("--months-operating")
    parser.add_argument("--women-owned", action="store_true")
    parser.add_argument("--female-workers", action="store_true", help="many female workers (ND80 Art. 3.8)")
    parser.add_argument("--social-enterprise", action="store_true")
    parser.add_argument("--disadvantaged-area", action="store_true")
    parser.add_argument("--production-processing", action="store_true")
    parser.add_argument("--startup", action="store_true")
    parser.add_argument("--cluster", action="store_true")
    parser.add_argument("--value-chain", action="store_true")


def declaration_from(args: argparse.Namespace, lang: str) -> Declaration | None:
    given = [args.sector, args.employees, args.revenue, args.capital]
    if all(v is None for v in given):
        return None
    if args.sector is None or args.employees is None or args.capital is None:
        raise UsageError(t("cli.error.profile", lang))
    workers = count_arg("--employees", lang)(args.employees)
    female = count_arg("--female-employees", lang)(args.female_employees) if args.female_employees else None
    if female is not None and female > workers:
        raise UsageError(t("cli.error.female", lang))
    months = count_arg("--months-operating", lang)(args.months_operating) if args.months_operating else None
    return Declaration(
        sector=sector_arg(args.sector, lang),
        workers=workers,
        revenue_vnd=money_arg("--revenue", lang)(args.revenue) if args.revenue is not None else None,
        capital_vnd=money_arg("--capital", lang)(args.capital),
        months_operating=months,
        female_workers=female,
    )


def flags_from(args: argparse.Namespace, decl: Declaration | None) -> frozenset[Flag]:
    flags = {flag for option, flag in FLAG_OPTIONS.items() if getattr(args, option, False)}
    if (
        decl is not None
        and decl.female_workers is not None
        and many_female_workers(decl.workers, decl.female_workers)
    ):
        flags.add(Flag.many_female_workers)
    return frozenset(flags)


def profile_from(
    args: argparse.Namespace, lang: str, required: bool
) -> tuple[Profile | None, SizeResult | None]:
    decl = declaration_from(args, lang)
    flags = flags_from(args, decl)
    if decl is not None:
        result = classify(decl)
        return Profile.of(result, flags), result
    if getattr(args, "size", None):
        return Profile((Size(args.size),), flags), None
    if required:
        raise UsageError(t("cli.error.profile", lang))
    return None, None


def on_date(year: int | None) -> dt.date:
    today = dt.date.today()
    if year is None or year == today.year:
        return today
    return dt.date(year, 12, 31)


def classify_json(result: SizeResult, decl: Declaration, flags: frozenset[Flag], lang: str) -> dict[str, Any]:
    return {
        "size": result.size.value,
        "alternatives": [s.value for s in result.alternatives],
        "sector": decl.sector.value,
        "sector_group": result.sector_group,
        "criterion": result.criterion,
        "revenue_used": result.revenue_used,
        "workers": decl.workers,
        "revenue_vnd": decl.revenue_vnd,
        "capital_vnd": decl.capital_vnd,
        "basis": result.basis.cite(lang),
        "summary": explain.size_summary(result, lang),
        "reason": explain.size_reason(result, lang),
        "flags": sorted(f.value for f in flags),
    }


def estimate_json(est: Estimate, catalogue: Catalogue, lang: str) -> dict[str, Any]:
    amount = est.amount
    return {
        "eligible": est.eligible,
        "item": est.item.id,
        "row": est.item.code,
        "programme": catalogue.programme_of(est.item.id).id,
        "title": est.item.title.get(lang),
        "size": est.size.value if est.size else None,
        "favourable_size": est.favourable_size,
        "rate_percent": str(est.item.rate_percent) if est.item.rate_percent is not None else None,
        "cap_vnd": est.item.cap_vnd,
        "cap_unit": est.item.cap_unit.value,
        "cap_total_vnd": amount.cap_total_vnd if amount else None,
        "cost_vnd": est.cost_vnd,
        "quantity": est.quantity,
        "supported_quantity": amount.supported_units if amount else 0,
        "total_cost_vnd": est.cost_vnd * est.quantity,
        "used_vnd": est.used_vnd,
        "state_vnd": est.state_vnd,
        "enterprise_vnd": est.enterprise_vnd,
        "limited_by": amount.limited_by if amount else None,
        "basis": est.item.basis.cite(lang),
        "reason": " ".join(explain.estimate_lines(est, lang)),
        "unconfirmed_better": est.unconfirmed_better.id if est.unconfirmed_better else None,
        "indicative": True,
    }


def item_json(item: Item, catalogue: Catalogue, lang: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "code": item.code,
        "programme": catalogue.programme_of(item.id).id,
        "kind": item.kind.value,
        "title": item.title.get(lang),
        "rate_percent": str(item.rate_percent) if item.rate_percent is not None else None,
        "cap_vnd": item.cap_vnd,
        "cap_unit": item.cap_unit.value,
        "max_units": item.max_units,
        "yearly_cap_vnd": item.yearly_cap_vnd,
        "sizes": [s.value for s in item.sizes],
        "requires": [[f.value for f in c.any_of] for c in item.requires],
        "basis": item.basis.cite(lang),
        "unconfirmed": item.unconfirmed,
    }


def run_classify(args: argparse.Namespace) -> int:
    lang = args.lang
    decl = declaration_from(args, lang)
    if decl is None:
        raise UsageError(t("cli.error.profile", lang))
    result = classify(decl)
    flags = flags_from(args, decl)
    if args.json:
        print(json.dumps(classify_json(result, decl, flags, lang), ensure_ascii=False))
        return 0
    print(t("cli.classify.title", lang) + ": " + explain.size_summary(result, lang))
    print(t("cli.classify.sector", lang, group=t(f"size.group.{result.sector_group}", lang)))
    print(t("cli.classify.reason", lang, reason=explain.size_reason(result, lang)))
    alt = explain.size_alternatives(result, lang)
    if alt:
        print(alt)
    if flags:
        print(t("cli.classify.flags", lang, flags=", ".join(explain.flag_names(flags, lang))))
    return 0


def run_estimate(args: argparse.Namespace) -> int:
    lang = args.lang
    catalogue = default_catalogue()
    cost = money_arg("--cost", lang)(args.cost)
    quantity = count_arg("--quantity", lang)(args.quantity) if args.quantity else 1
    if quantity < 1:
        raise UsageError(f"--quantity: {args.quantity} (>= 1)")
    used = money_arg("--used", lang)(args.used) if args.used else 0
    rows = catalogue.find(args.item)
    if not rows:
        raise UsageError(t("cli.error.item", lang, value=args.item))
    profile, _ = profile_from(args, lang, required=True)
    assert profile is not None
    est = estimate(rows, profile, cost, quantity, used, on_date(args.year))
    if args.json:
        print(json.dumps(estimate_json(est, catalogue, lang), ensure_ascii=False))
        return 0
    for line in explain.estimate_lines(est, lang):
        print(line)
    print(t("estimate.indicative", lang))
    return 0


def run_items(args: argparse.Namespace) -> int:
    lang = args.lang
    catalogue = default_catalogue()
    if args.programme and args.programme not in catalogue.programmes:
        raise UsageError(
            t("cli.error.programme", lang, value=args.programme, choices=", ".join(catalogue.programmes))
        )
    profile, _ = profile_from(args, lang, required=False)
    day = on_date(args.year)
    items = [
        item
        for prog_id, prog in catalogue.programmes.items()
        if args.programme in (None, prog_id)
        for item in prog.items
        if item.for_firms and (refusal(item, profile, day) is None if profile else item.valid_on(day))
    ]
    if args.json:
        print(json.dumps({"items": [item_json(i, catalogue, lang) for i in items]}, ensure_ascii=False))
        return 0
    if not items:
        print(t("cli.items.none", lang))
        return 0
    print(t("cli.items.header", lang, count=len(items)))
    for item in items:
        print("  " + explain.item_line(item, lang))
    return 0


def add_rules_commands(sub: Any) -> None:
    p = sub.add_parser("classify", help="SME size (ND80 Art. 5-9)")
    add_profile_options(p, size_option=False)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_classify)

    p = sub.add_parser("estimate", help="indicative state support for one item")
    p.add_argument("--item", required=True)
    p.add_argument("--cost", required=True)
    p.add_argument("--quantity")
    p.add_argument("--used")
    p.add_argument("--year", type=int)
    add_profile_options(p, size_option=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_estimate)

    p = sub.add_parser("items", help="support items that apply")
    p.add_argument("--programme")
    p.add_argument("--year", type=int)
    add_profile_options(p, size_option=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_items)


def fail(message: str) -> int:
    print(f"smebot: {message}", file=sys.stderr)
    return 2
