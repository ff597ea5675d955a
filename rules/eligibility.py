"""Who may get a row: the firm's profile, the programme's target, the row's sizes, conditions, period and
time limits (start-up 5 years, L04 Art. 17.1; rent 3 years, ND80 Art. 22.1.b; ...). A refusal is an answer
with its reason (a locale key and parameters), never an error."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from rules.catalogue import DateKey, EntityType, Flag, Item, Programme, TimeLimit
from rules.size import Size, SizeResult


@dataclass(frozen=True)
class Profile:
    """What the estimator needs to know about a firm."""

    sizes: tuple[Size, ...]  # the sizes it may be assessed as; the main one first; () = not an SME
    flags: frozenset[Flag] = frozenset()
    entity_type: EntityType = EntityType.enterprise
    dates: tuple[tuple[DateKey, dt.date], ...] = ()  # first registration, lease, e-commerce account

    @property
    def main_size(self) -> Size:
        return self.sizes[0] if self.sizes else Size.none

    def date(self, key: DateKey) -> dt.date | None:
        return next((day for k, day in self.dates if k is key), None)

    def with_dates(self, dates: dict[DateKey, dt.date]) -> Profile:
        known = dict(self.dates)
        known.update(dates)
        return replace(self, dates=tuple(sorted(known.items())))

    @classmethod
    def of(
        cls,
        size: SizeResult,
        flags: frozenset[Flag] = frozenset(),
        entity_type: EntityType = EntityType.enterprise,
        dates: dict[DateKey, dt.date] | None = None,
    ) -> Profile:
        return cls(size.candidate_sizes, flags, entity_type, tuple(sorted((dates or {}).items())))


@dataclass(frozen=True)
class Refusal:
    """Why a row does not apply: a locale key and its parameters."""

    key: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TimeWindow:
    """A time limit that was checked: from when, until when (shown in the reason)."""

    limit: TimeLimit
    since: dt.date
    until: dt.date


def limit_end(limit: TimeLimit, since: dt.date) -> dt.date:
    """The last day of a time limit counted from ``since``."""
    if limit.to_year_end:
        return dt.date(since.year + limit.years, 12, 31)
    return add_years(since, limit.years)


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later (29 February -> 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def windows(item: Item, profile: Profile) -> tuple[TimeWindow, ...]:
    """The item's time limits for this firm, where the firm gave the date they count from."""
    out = []
    for limit in item.time_limits:
        since = profile.date(limit.since)
        if since is not None and not set(limit.waived_by) & profile.flags:
            out.append(TimeWindow(limit, since, limit_end(limit, since)))
    return tuple(out)


def _time_refusal(item: Item, profile: Profile, on: dt.date, assume_dates: bool) -> Refusal | None:
    for limit in item.time_limits:
        if set(limit.waived_by) & profile.flags:
            continue
        since = profile.date(limit.since)
        if since is None:
            if assume_dates:
                continue
            return Refusal("eligibility.date_missing", {"date": limit.since.value})
        until = limit_end(limit, since)
        if since > on:
            return Refusal("eligibility.date_future", {"date": limit.since.value, "since": since.isoformat()})
        if on > until:
            return Refusal(
                "eligibility.time_limit",
                {
                    "date": limit.since.value,
                    "since": since.isoformat(),
                    "until": until.isoformat(),
                    "years": str(limit.years),
                    "basis": limit.basis.model_dump_json(),
                },
            )
    return None


def refusal(item: Item, profile: Profile, on: dt.date, assume_dates: bool = False) -> Refusal | None:
    """None when the row applies to the firm; otherwise why not.

    ``assume_dates``: a date the firm has not given yet is not a refusal (used to list what may fit before
    the date is asked).
    """
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
    return _time_refusal(item, profile, on, assume_dates)


def programme_refusal(programme: Programme, profile: Profile, on: dt.date) -> Refusal | None:
    """None when the programme is open and its target includes the firm; otherwise why not (its place is
    checked by the caller, who knows the owner's commune)."""
    if on < programme.valid_from or (programme.valid_to is not None and on > programme.valid_to):
        until = programme.valid_to.isoformat() if programme.valid_to else ""
        return Refusal("programme.period", {"since": programme.valid_from.isoformat(), "until": until})
    target = programme.target
    if profile.entity_type not in target.entity_types:
        return Refusal("programme.entity", {"entities": ",".join(e.value for e in target.entity_types)})
    if profile.entity_type is EntityType.enterprise and not set(profile.sizes) & set(target.sizes):
        return Refusal("programme.size", {"sizes": ",".join(s.value for s in target.sizes)})
    return None
