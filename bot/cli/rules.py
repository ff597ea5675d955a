"""``smebot classify | estimate | items``: the rules engine on the command line (a stable contract).

Exit 0 for every answer, an ineligible one included; bad input exits 2 with one line on stderr.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot.cli.parser import UsageError
from bot.cli.profile import (
    add_profile_options,
    count_arg,
    declaration_from,
    flags_from,
    money_arg,
    on_date,
    profile_from,
)
from locales import t
from rules import explain
from rules.catalogue import AmbiguousReference, Catalogue, Flag, Item, default_catalogue
from rules.estimate import NOTHING_USED, Estimate, Request, Used, estimate_all, refusal
from rules.money import format_vnd
from rules.size import Declaration, SizeResult, classify


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
        "used_vnd": est.used.vnd,
        "used_units": est.used.units,
        "content": est.item.content,
        "levels": est.levels,
        "state_vnd": est.state_vnd,
        "enterprise_vnd": est.enterprise_vnd,
        "limited_by": amount.limited_by if amount else None,
        "basis": est.item.basis.cite(lang),
        "reason": " ".join(explain.estimate_lines(est, lang) + explain.context_lines(est, catalogue, lang)),
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
        "content": item.content,
        "planned": item.planned,
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


def split_units(text: str) -> tuple[str, int]:
    """ "12trx3" -> ("12tr", 3); "12tr" -> ("12tr", 1)."""
    head, sep, tail = text.strip().lower().rpartition("x")
    if sep and tail.strip().isdigit() and head.strip():
        return head.strip(), int(tail)
    return text, 1


def rows_for(catalogue: Catalogue, ref: str, lang: str) -> tuple[Item, ...]:
    """The rows a reference names, all levels of one content (ND80 Art. 4.2), or a usage error."""
    try:
        rows = catalogue.resolve(ref)
    except AmbiguousReference as exc:
        listed = ", ".join(f"{r.code} ({r.title.get(lang)})" for r in exc.rows)
        raise UsageError(t("cli.error.ambiguous", lang, ref=ref, rows=listed)) from exc
    if not rows:
        raise UsageError(t("cli.error.item", lang, value=ref))
    return rows


def requests_from(args: argparse.Namespace, catalogue: Catalogue, lang: str) -> tuple[list[Request], bool]:
    """The requests of the command line and whether they were given in the ITEM=COST form."""
    pairs = [ref for ref in args.item if "=" in ref]
    if not pairs:
        if len(args.item) != 1 or args.cost is None:
            raise UsageError(t("cli.error.item_cost", lang, value=" ".join(args.item)))
        quantity = count_arg("--quantity", lang)(args.quantity) if args.quantity else 1
        if quantity < 1:
            raise UsageError(f"--quantity: {args.quantity} (>= 1)")
        cost = money_arg("--cost", lang)(args.cost)
        return [Request(rows_for(catalogue, args.item[0], lang), cost, quantity)], False
    if len(pairs) != len(args.item) or args.cost is not None:
        raise UsageError(t("cli.error.item_cost", lang, value=" ".join(args.item)))
    requests = []
    for pair in pairs:
        ref, _, value = pair.partition("=")
        money, quantity = split_units(value)
        if quantity < 1:
            raise UsageError(t("cli.error.item_cost", lang, value=pair))
        requests.append(
            Request(rows_for(catalogue, ref.strip(), lang), money_arg("--item", lang)(money), quantity)
        )
    return requests, True


def used_from(
    args: argparse.Namespace, catalogue: Catalogue, requests: list[Request], lang: str
) -> dict[str, Used]:
    """--used MONEY[xN] (the one item's content) or --used ITEM=MONEY[xN], repeated."""
    used: dict[str, Used] = {}
    for value in args.used or []:
        if "=" in value:
            ref, _, amount = value.partition("=")
            content = rows_for(catalogue, ref.strip(), lang)[0].content
        else:
            if len({r.content for r in requests}) != 1:
                raise UsageError(t("cli.error.item_cost", lang, value=value))
            content, amount = requests[0].content, value
        money, units = split_units(amount)
        units = units if "x" in amount.lower() else 0
        used[content] = used.get(content, NOTHING_USED) + Used(money_arg("--used", lang)(money), units)
    return used


def run_estimate(args: argparse.Namespace) -> int:
    lang = args.lang
    catalogue = default_catalogue()
    requests, many = requests_from(args, catalogue, lang)
    used = used_from(args, catalogue, requests, lang)
    profile, _ = profile_from(args, lang, required=True)
    assert profile is not None
    ests = estimate_all(requests, profile, used, on_date(args.year))
    if args.json:
        if many:
            entries = [estimate_json(e, catalogue, lang) for e in ests]
            out: Any = {"items": entries, "total_vnd": sum(e.state_vnd for e in ests)}
        else:
            out = estimate_json(ests[0], catalogue, lang)
        print(json.dumps(out, ensure_ascii=False))
        return 0
    for est in ests:
        for line in explain.estimate_lines(est, lang) + explain.context_lines(est, catalogue, lang):
            print(line)
    if many:
        print(t("cli.total", lang, total=format_vnd(sum(e.state_vnd for e in ests), lang)))
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
        if item.for_firms
        and (refusal(item, profile, day, assume_dates=True) is None if profile else item.valid_on(day))
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

    p = sub.add_parser("estimate", help="indicative state support for one item or several of one firm")
    p.add_argument(
        "--item", required=True, action="append", help="ITEM (with --cost) or ITEM=COST[xN], repeated"
    )
    p.add_argument("--cost")
    p.add_argument("--quantity")
    p.add_argument("--used", action="append", help="MONEY[xN] or ITEM=MONEY[xN]: received this year")
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
