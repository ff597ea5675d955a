"""The firm on the command line: options -> a size declaration, priority flags, dates, a rules Profile.

Shared by ``classify``, ``estimate`` and ``items``; money and counts are read as the chat reads them
("2,5 tỷ"), and a bad value is a one-line usage error naming the option.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from bot.cli.parser import UsageError
from locales import t
from rules.catalogue import DateKey, EntityType, Flag
from rules.dates import DateError, parse_date
from rules.estimate import Profile
from rules.money import MoneyError, parse_vnd
from rules.size import Declaration, Sector, Size, SizeResult, classify, many_female_workers
from rules.text import fold

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


def date_arg(name: str, text: str, lang: str) -> dt.date:
    try:
        return parse_date(text)
    except DateError as exc:
        raise UsageError(f"{name}: {t(f'dates.error.{exc.code}', lang)}") from exc


DATE_OPTIONS: dict[str, DateKey] = {
    "first_registration": DateKey.first_registration,
    "lease_signed": DateKey.lease_signed,
    "ecommerce_account": DateKey.ecommerce_account,
}


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
    parser.add_argument(
        "--entity", choices=[e.value for e in EntityType], default=EntityType.enterprise.value
    )
    parser.add_argument("--first-registration", help="date of first enterprise registration (L04 Art. 17.1)")
    parser.add_argument("--lease-signed", help="date the incubator lease was signed (ND80 Art. 22.1.b)")
    parser.add_argument("--ecommerce-account", help="date the e-commerce account was registered")


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
    entity = EntityType(getattr(args, "entity", EntityType.enterprise.value))
    dates = {
        key: date_arg("--" + option.replace("_", "-"), getattr(args, option), lang)
        for option, key in DATE_OPTIONS.items()
        if getattr(args, option, None)
    }
    if decl is not None:
        result = classify(decl)
        return Profile.of(result, flags, entity, dates), result
    if getattr(args, "size", None):
        return Profile((Size(args.size),), flags, entity, tuple(sorted(dates.items()))), None
    if required:
        raise UsageError(t("cli.error.profile", lang))
    return None, None


def on_date(year: int | None) -> dt.date:
    today = dt.date.today()
    if year is None or year == today.year:
        return today
    return dt.date(year, 12, 31)
