"""SME size: micro / small / medium / not an SME (ND80 Art. 5-9, L04 Art. 4), with the reason.

Headcount AND (revenue OR capital). The thresholds are data (``rules/data/size.yaml``).
The money criterion that decided, and the other sizes the firm could be assessed as by choosing the
other money criterion (TT06 Art. 3.2), are part of the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict

from rules.legal import Basis

SIZE_DATA = Path(__file__).parent / "data" / "size.yaml"


class Size(StrEnum):
    micro = "micro"
    small = "small"
    medium = "medium"
    none = "none"  # not an SME


SME_SIZES: tuple[Size, ...] = (Size.micro, Size.small, Size.medium)


class Sector(StrEnum):
    agriculture = "agriculture"  # incl. forestry and fisheries
    industry = "industry"
    construction = "construction"
    trade = "trade"
    services = "services"


Criterion = Literal["revenue", "capital", "both", "headcount", "none"]


class Tier(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    size: Size
    max_workers: int
    max_revenue_vnd: int
    max_capital_vnd: int
    basis: Basis


class SectorGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    sectors: tuple[Sector, ...]
    basis: Basis
    tiers: tuple[Tier, ...]


class FemaleShare(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    basis: Basis
    workers_threshold: int
    percent_below: int
    percent_at_or_above: int


class WomenOwned(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    basis: Basis
    min_women_capital_percent: int


class SizeRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    basis: Basis
    groups: dict[str, SectorGroup]
    min_months_for_revenue: int
    female_share: FemaleShare
    women_owned: WomenOwned

    def group_of(self, sector: Sector) -> str:
        for name, group in self.groups.items():
            if sector in group.sectors:
                return name
        raise ValueError(f"no sector group for {sector}")


@lru_cache(maxsize=1)
def size_rules() -> SizeRules:
    return SizeRules.model_validate(yaml.safe_load(SIZE_DATA.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Declaration:
    """What the owner declares for the size (the ND80 annex form)."""

    sector: Sector
    workers: int  # yearly average of insured workers (ND80 Art. 7)
    revenue_vnd: int | None  # previous-year revenue; None = no revenue yet
    capital_vnd: int  # total capital (ND80 Art. 8)
    months_operating: int | None = None  # None = a full year or more
    female_workers: int | None = None

    def __post_init__(self) -> None:
        if self.workers < 0:
            raise ValueError("workers must not be negative")
        if self.capital_vnd < 0 or (self.revenue_vnd is not None and self.revenue_vnd < 0):
            raise ValueError("money must not be negative")
        if self.female_workers is not None and not 0 <= self.female_workers <= self.workers:
            raise ValueError("female workers must be between 0 and the number of workers")


@dataclass(frozen=True)
class SizeResult:
    size: Size
    sector_group: str
    criterion: Criterion
    alternatives: tuple[Size, ...]
    revenue_used: bool
    basis: Basis
    reason_key: str
    reason_params: dict[str, str | int] = field(default_factory=dict)

    @property
    def is_sme(self) -> bool:
        return self.size is not Size.none

    @property
    def candidate_sizes(self) -> tuple[Size, ...]:
        """Every size the firm may be assessed as: the main one first, then the alternatives."""
        return (self.size, *self.alternatives) if self.is_sme else ()


def revenue_counts(decl: Declaration, rules: SizeRules | None = None) -> bool:
    """ND80 Art. 9: under one year of operation, or no revenue yet, the size rests on capital."""
    rules = rules or size_rules()
    if decl.revenue_vnd is None:
        return False
    return decl.months_operating is None or decl.months_operating >= rules.min_months_for_revenue


def _first_tier(
    tiers: tuple[Tier, ...], workers: int, revenue: int | None, capital: int | None
) -> Tier | None:
    for tier in tiers:
        if workers > tier.max_workers:
            continue
        if revenue is not None and revenue <= tier.max_revenue_vnd:
            return tier
        if capital is not None and capital <= tier.max_capital_vnd:
            return tier
    return None


def classify(decl: Declaration, rules: SizeRules | None = None) -> SizeResult:
    rules = rules or size_rules()
    group_name = rules.group_of(decl.sector)
    tiers = rules.groups[group_name].tiers
    use_revenue = revenue_counts(decl, rules)
    revenue = decl.revenue_vnd if use_revenue else None

    by_revenue = _first_tier(tiers, decl.workers, revenue, None) if revenue is not None else None
    by_capital = _first_tier(tiers, decl.workers, None, decl.capital_vnd)
    chosen = _first_tier(tiers, decl.workers, revenue, decl.capital_vnd)
    params: dict[str, str | int] = {"workers": decl.workers}

    if chosen is None:
        largest = tiers[-1]
        over_headcount = decl.workers > largest.max_workers
        params["max_workers"] = largest.max_workers
        params["max_revenue"] = largest.max_revenue_vnd
        params["max_capital"] = largest.max_capital_vnd
        key = "size.reason.none_headcount" if over_headcount else "size.reason.none_money"
        if not over_headcount and revenue is None:
            key = "size.reason.none_capital_only"
        return SizeResult(
            Size.none,
            group_name,
            "headcount" if over_headcount else "none",
            (),
            use_revenue,
            rules.basis,
            key,
            params,
        )

    criterion: Criterion
    if by_revenue is not None and by_revenue.size == chosen.size:
        criterion = "both" if by_capital is not None and by_capital.size == chosen.size else "revenue"
    else:
        criterion = "capital"
    others = {t.size for t in (by_revenue, by_capital) if t is not None} - {chosen.size}
    alternatives = tuple(s for s in SME_SIZES if s in others)
    params["max_workers"] = chosen.max_workers
    params["max_revenue"] = chosen.max_revenue_vnd
    params["max_capital"] = chosen.max_capital_vnd
    key = f"size.reason.{criterion}"
    if not use_revenue:
        key = "size.reason.capital_only"
    return SizeResult(
        chosen.size, group_name, criterion, alternatives, use_revenue, chosen.basis, key, params
    )


def many_female_workers(workers: int, female_workers: int, rules: SizeRules | None = None) -> bool:
    """ND80 Art. 3.8: women >= 50 % of insured workers below 100 workers, >= 30 % from 100 on."""
    rules = rules or size_rules()
    share = rules.female_share
    if workers <= 0:
        return False
    percent = share.percent_below if workers < share.workers_threshold else share.percent_at_or_above
    return female_workers * 100 >= percent * workers


def women_owned(women_capital_percent: int, woman_executive: bool, rules: SizeRules | None = None) -> bool:
    """L04 Art. 3.1: women own >= 51 % of charter capital and one of them is an executive manager."""
    rules = rules or size_rules()
    return woman_executive and women_capital_percent >= rules.women_owned.min_women_capital_percent
