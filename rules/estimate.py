"""The indicative amount of one support item for one firm.

state amount = rate x eligible cost, capped per unit and per year, minus what the firm already received
this year for the same item (TT06 Art. 3.5), rounded down to the đồng; enterprise share = cost - state.
Where several rows of a group fit the firm (size variants, priority variants) and where the firm may be
assessed at two sizes, the row that gives the larger amount is used (TT06 Art. 3.2; ND80 Art. 4.2).
An item the firm may not get is a normal answer (``eligible=False`` with a reason), not an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_FLOOR, Decimal

from rules.catalogue import QUANTITY_UNITS, EntityType, Flag, Item
from rules.legal import Basis
from rules.size import Size, SizeResult


@dataclass(frozen=True)
class Profile:
    """What the estimator needs to know about a firm."""

    sizes: tuple[Size, ...]  # the sizes it may be assessed as; the main one first; () = not an SME
    flags: frozenset[Flag] = frozenset()
    entity_type: EntityType = EntityType.enterprise

    @property
    def main_size(self) -> Size:
        return self.sizes[0] if self.sizes else Size.none

    @classmethod
    def of(
        cls,
        size: SizeResult,
        flags: frozenset[Flag] = frozenset(),
        entity_type: EntityType = EntityType.enterprise,
    ) -> Profile:
        return cls(size.candidate_sizes, flags, entity_type)


@dataclass(frozen=True)
class Refusal:
    """Why a row does not apply: a locale key and its parameters."""

    key: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Amount:
    total_cost_vnd: int
    supported_units: int
    cap_total_vnd: int | None
    state_vnd: int
    enterprise_vnd: int
    limited_by: str  # "rate", "cap", "used", "cost"


@dataclass(frozen=True)
class Estimate:
    eligible: bool
    item: Item
    size: Size | None
    cost_vnd: int
    quantity: int
    used_vnd: int
    amount: Amount | None
    refusal: Refusal | None = None
    favourable_size: bool = False  # the size used is not the main size: TT06 Art. 3.2 mattered
    unconfirmed_better: Item | None = None  # an unconfirmed row would give more; say so, do not use it

    @property
    def state_vnd(self) -> int:
        return self.amount.state_vnd if self.amount else 0

    @property
    def enterprise_vnd(self) -> int:
        if self.amount:
            return self.amount.enterprise_vnd
        return self.cost_vnd * self.quantity

    @property
    def basis(self) -> Basis:
        return self.item.basis


def refusal(item: Item, profile: Profile, on: dt.date) -> Refusal | None:
    """None when the row applies to the firm; otherwise why not."""
    if not item.for_firms:
        return Refusal("eligibility.not_for_firms")
    if not item.valid_on(on):
        return Refusal("eligibility.not_valid", {"date": on.isoformat()})
    if profile.entity_type not in item.entity_types:
        return Refusal("eligibility.entity_type", {"entity": profile.entity_type.value})
    if profile.entity_type is EntityType.enterprise:
        if not profile.sizes:
            return Refusal("eligibility.not_sme")
        if not set(profile.sizes) & set(item.sizes):
            return Refusal(
                "eligibility.size",
                {"size": profile.main_size.value, "sizes": ",".join(s.value for s in item.sizes)},
            )
    for condition in item.requires:
        if not profile.flags & set(condition.any_of):
            return Refusal("eligibility.requires", {"flags": ",".join(f.value for f in condition.any_of)})
    return None


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def _by_rate(item: Item, cost: Decimal) -> int:
    if item.rate_percent is None:  # a row with an amount but no rate: up to the amount, at most the cost
        return _floor(cost)
    return _floor(cost * item.rate_percent / 100)


def amount(item: Item, unit_cost_vnd: int, quantity: int = 1, used_vnd: int = 0) -> Amount:
    """The state amount of one row for a firm, with every cap applied."""
    if unit_cost_vnd < 0 or quantity < 1 or used_vnd < 0:
        raise ValueError("cost and used must not be negative; quantity must be at least 1")
    total_cost = unit_cost_vnd * quantity
    supported = min(quantity, item.max_units) if item.max_units else quantity
    by_rate = _by_rate(item, Decimal(unit_cost_vnd * supported))

    cap_total: int | None = None
    if item.cap_vnd is not None:
        per_unit = item.cap_unit in QUANTITY_UNITS
        cap_total = item.cap_vnd * supported if per_unit else item.cap_vnd
    if item.yearly_cap_vnd is not None:
        cap_total = item.yearly_cap_vnd if cap_total is None else min(cap_total, item.yearly_cap_vnd)

    state, limited_by = by_rate, "rate"
    if cap_total is not None and cap_total < state:
        state, limited_by = cap_total, "cap"
    if cap_total is not None and used_vnd:
        remaining = max(cap_total - used_vnd, 0)
        if remaining < state:
            state, limited_by = remaining, "used"
    if state > total_cost:
        state, limited_by = total_cost, "cost"
    return Amount(total_cost, supported, cap_total, state, total_cost - state, limited_by)


def plan_row(item: Item, quantity: int, total_cost_vnd: int) -> int:
    """A plan-table row (TT06 Annex 4, g = d x e): quantity firms/units sharing a total cost."""
    state = _by_rate(item, Decimal(total_cost_vnd))
    if item.cap_vnd is not None:
        state = min(state, item.cap_vnd * quantity)
    return min(state, total_cost_vnd)


def _size_for(item: Item, profile: Profile) -> Size | None:
    if profile.entity_type is not EntityType.enterprise:
        return None
    return next((s for s in profile.sizes if s in item.sizes), None)


def estimate(
    rows: Sequence[Item],
    profile: Profile,
    cost_vnd: int,
    quantity: int = 1,
    used_vnd: int = 0,
    on: dt.date | None = None,
) -> Estimate:
    """The best row of ``rows`` (one item, or the variants of one group) for this firm and cost."""
    if not rows:
        raise ValueError("no rows to estimate")
    on = on or dt.date.today()
    best: Estimate | None = None
    best_unconfirmed: tuple[Item, int] | None = None
    refusals: list[tuple[Item, Refusal]] = []
    for row in rows:
        why = refusal(row, profile, on)
        if why is not None:
            refusals.append((row, why))
            continue
        result = amount(row, cost_vnd, quantity, used_vnd)
        if row.unconfirmed:
            if best_unconfirmed is None or result.state_vnd > best_unconfirmed[1]:
                best_unconfirmed = (row, result.state_vnd)
            continue
        size = _size_for(row, profile)
        candidate = Estimate(
            True,
            row,
            size,
            cost_vnd,
            quantity,
            used_vnd,
            result,
            favourable_size=size is not None and size is not profile.main_size,
        )
        if best is None or _better(candidate, best, profile):
            best = candidate

    if best is None:
        if best_unconfirmed is not None:
            row = best_unconfirmed[0]
            return Estimate(
                False, row, None, cost_vnd, quantity, used_vnd, None, Refusal("eligibility.unconfirmed")
            )
        row, why = _most_relevant(refusals, profile)
        return Estimate(False, row, None, cost_vnd, quantity, used_vnd, None, why)
    if best_unconfirmed is not None and best_unconfirmed[1] > best.state_vnd:
        best = replace(best, unconfirmed_better=best_unconfirmed[0])
    return best


def _better(candidate: Estimate, current: Estimate, profile: Profile) -> bool:
    if candidate.state_vnd != current.state_vnd:
        return candidate.state_vnd > current.state_vnd
    # Equal amounts: keep the main size, then the plain row (fewer documents to prove).
    order = {s: i for i, s in enumerate(profile.sizes)}
    cand_rank = order.get(candidate.size, 99) if candidate.size else 0
    cur_rank = order.get(current.size, 99) if current.size else 0
    if cand_rank != cur_rank:
        return cand_rank < cur_rank
    return current.item.priority_variant and not candidate.item.priority_variant


def _most_relevant(refusals: list[tuple[Item, Refusal]], profile: Profile) -> tuple[Item, Refusal]:
    """The refusal an owner should read: a row of their own size first, then a non-variant row."""
    for row, why in refusals:
        if profile.main_size in row.sizes and not row.priority_variant and why.key != "eligibility.size":
            return row, why
    for row, why in refusals:
        if not row.priority_variant:
            return row, why
    return refusals[0]
