"""The indicative amount of one support content for one firm.

state amount = rate x eligible cost, rounded down to the đồng, then capped: a cap per unit (trainee, month,
course, product, competition) binds each unit; a cap per contract binds this contract only (another contract
of the same content has its own, TT06 Art. 3.5); a yearly cap (per firm per year, or a row's yearly total)
binds what the firm gets for the content in the whole year, so what it already received this year — in money
and in units, from any programme or agency — is taken from the yearly caps and the yearly unit counts only.
Enterprise share = cost - state.
The rows passed in are the levels of one content (sizes, priority groups, programmes): the one that gives the
firm the larger amount is used (ND80 Art. 4.2; TT06 Art. 3.2 for the size criterion).
An item the firm may not get is a normal answer (``eligible=False`` with a reason), not an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_FLOOR, Decimal

from rules.catalogue import QUANTITY_UNITS, CapUnit, EntityType, Item
from rules.eligibility import (
    Profile,
    Refusal,
    TimeWindow,
    add_years,
    limit_end,
    programme_refusal,
    refusal,
    windows,
)
from rules.legal import Basis
from rules.size import Size

__all__ = [
    "NOTHING_USED",
    "YEARLY_UNITS",
    "Amount",
    "Estimate",
    "Profile",
    "Refusal",
    "Request",
    "TimeWindow",
    "Used",
    "add_use",
    "add_years",
    "amount",
    "estimate",
    "estimate_all",
    "limit_end",
    "plan_row",
    "programme_refusal",
    "refusal",
    "windows",
]


@dataclass(frozen=True)
class Used:
    """What the firm already received this year for one content: money and units (TT06 Art. 3.5)."""

    vnd: int = 0
    units: int = 0  # trainees, months, courses, products, competitions

    def __add__(self, other: Used) -> Used:
        return Used(self.vnd + other.vnd, self.units + other.units)


NOTHING_USED = Used()


@dataclass(frozen=True)
class Amount:
    total_cost_vnd: int
    supported_units: int
    cap_total_vnd: int | None  # the cap on this request before this year's use (unit, contract, yearly)
    state_vnd: int
    enterprise_vnd: int
    limited_by: str  # "rate", "cap", "used", "units", "cost"


@dataclass(frozen=True)
class Estimate:
    eligible: bool
    item: Item
    size: Size | None
    cost_vnd: int
    quantity: int
    used: Used
    amount: Amount | None
    refusal: Refusal | None = None
    favourable_size: bool = False  # the size used is not the main size: TT06 Art. 3.2 mattered
    unconfirmed_better: Item | None = None  # an unconfirmed row would give more; say so, do not use it
    windows: tuple[TimeWindow, ...] = ()  # the time limits the firm is within
    levels: int = 1  # how many fitting rows (levels, programmes) were compared (ND80 Art. 4.2)

    @property
    def used_vnd(self) -> int:
        return self.used.vnd

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


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def _by_rate(item: Item, cost: Decimal) -> int:
    if item.rate_percent is None:  # a row with an amount but no rate: up to the amount, at most the cost
        return _floor(cost)
    return _floor(cost * item.rate_percent / 100)


#: Caps that bind the firm's whole year for the content: what it already received is taken from them.
YEARLY_UNITS = frozenset({CapUnit.per_firm_year, CapUnit.per_establishment})


def amount(item: Item, unit_cost_vnd: int, quantity: int = 1, used: Used = NOTHING_USED) -> Amount:
    """The state amount of one row for a firm, with every cap applied to what it caps."""
    if unit_cost_vnd < 0 or quantity < 1 or used.vnd < 0 or used.units < 0:
        raise ValueError("cost and used must not be negative; quantity must be at least 1")
    total_cost = unit_cost_vnd * quantity
    supported = quantity
    if item.max_units is not None:  # at most N trainees / months / courses a year, counting those already had
        supported = min(quantity, max(item.max_units - used.units, 0))
    if supported == 0:
        cap = 0 if item.cap_vnd is not None or item.yearly_cap_vnd is not None else None
        return Amount(total_cost, 0, cap, 0, total_cost, "units")
    by_rate = _by_rate(item, Decimal(unit_cost_vnd * supported))

    request_cap: int | None = None  # per unit x units, or per contract / product / course: not reduced by use
    yearly_cap: int | None = None  # the year's total for the content: reduced by what was received
    if item.cap_vnd is not None:
        if item.cap_unit in YEARLY_UNITS:
            yearly_cap = item.cap_vnd
        elif item.cap_unit in QUANTITY_UNITS:
            request_cap = item.cap_vnd * supported
        else:
            request_cap = item.cap_vnd
    if item.yearly_cap_vnd is not None:
        yearly_cap = item.yearly_cap_vnd if yearly_cap is None else min(yearly_cap, item.yearly_cap_vnd)
    caps = [c for c in (request_cap, yearly_cap) if c is not None]
    cap_total = min(caps) if caps else None

    state, limited_by = by_rate, "rate"
    if cap_total is not None and cap_total < state:
        state, limited_by = cap_total, "cap"
    if yearly_cap is not None and used.vnd:
        remaining = max(yearly_cap - used.vnd, 0)
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
    used: Used = NOTHING_USED,
    on: dt.date | None = None,
    assume_dates: bool = False,
) -> Estimate:
    """The best row of ``rows`` (the levels of one content) for this firm and cost."""
    if not rows:
        raise ValueError("no rows to estimate")
    if len({r.content for r in rows}) > 1:
        raise ValueError("rows of different support contents cannot be compared (ND80 Art. 4.2)")
    on = on or dt.date.today()
    fitting = 0
    best: Estimate | None = None
    best_unconfirmed: tuple[Item, int] | None = None
    refusals: list[tuple[Item, Refusal]] = []
    for row in rows:
        why = refusal(row, profile, on, assume_dates)
        if why is not None:
            refusals.append((row, why))
            continue
        result = amount(row, cost_vnd, quantity, used)
        if row.unconfirmed:
            if best_unconfirmed is None or result.state_vnd > best_unconfirmed[1]:
                best_unconfirmed = (row, result.state_vnd)
            continue
        fitting += 1
        size = _size_for(row, profile)
        candidate = Estimate(
            True,
            row,
            size,
            cost_vnd,
            quantity,
            used,
            result,
            favourable_size=size is not None and size is not profile.main_size,
            windows=windows(row, profile),
        )
        if best is None or _better(candidate, best, profile):
            best = candidate

    if best is None:
        if best_unconfirmed is not None:
            row = best_unconfirmed[0]
            return Estimate(
                False, row, None, cost_vnd, quantity, used, None, Refusal("eligibility.unconfirmed")
            )
        row, why = _most_relevant(refusals, profile)
        return Estimate(False, row, None, cost_vnd, quantity, used, None, why)
    if best_unconfirmed is not None and best_unconfirmed[1] > best.state_vnd:
        best = replace(best, unconfirmed_better=best_unconfirmed[0])
    return replace(best, levels=fitting)


@dataclass(frozen=True)
class Request:
    """One content a firm asks for: its rows (levels), the cost per unit and the number of units."""

    rows: tuple[Item, ...]
    cost_vnd: int
    quantity: int = 1

    @property
    def content(self) -> str:
        return self.rows[0].content


def add_use(used: dict[str, Used], est: Estimate) -> None:
    """Count an estimate's amount and units as received for its content (for the next request)."""
    if est.amount is not None:
        before = used.get(est.item.content, NOTHING_USED)
        used[est.item.content] = before + Used(est.state_vnd, est.amount.supported_units)


def estimate_all(
    requests: Sequence[Request],
    profile: Profile,
    used: dict[str, Used] | None = None,
    on: dt.date | None = None,
) -> list[Estimate]:
    """Several requests of one firm: each sees what the year and the requests before it already used of
    its content, so one yearly cap is never counted twice (ND80 Art. 4.2; TT06 Art. 3.5)."""
    so_far = dict(used or {})
    out = []
    for request in requests:
        est = estimate(
            request.rows,
            profile,
            request.cost_vnd,
            request.quantity,
            so_far.get(request.content, NOTHING_USED),
            on,
        )
        add_use(so_far, est)
        out.append(est)
    return out


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
