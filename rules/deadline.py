"""The 14-working-day answer deadline (ND80 Art. 32.3.a), on Vietnam's calendar.

Working days are Monday to Friday less public holidays (the maintained `holidays` package) and the
extra days off an administrator configures (e.g. the bridge days the Government adds around Tết).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import holidays
import yaml

from rules.legal import Basis

PROCEDURE = Path(__file__).parent / "data" / "procedure.yaml"


@dataclass(frozen=True)
class ReviewRule:
    working_days: int
    basis: Basis
    weekend: frozenset[int]


@lru_cache(maxsize=1)
def review_rule() -> ReviewRule:
    data = yaml.safe_load(PROCEDURE.read_text(encoding="utf-8"))
    review = data["review"]
    return ReviewRule(
        int(review["working_days"]), Basis.model_validate(review["basis"]), frozenset(data["weekend"])
    )


@lru_cache(maxsize=16)
def _public_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("VN", years=year))


class Calendar:
    """Working days in Vietnam, with extra days off."""

    def __init__(self, extra_days_off: Iterable[dt.date] = (), weekend: frozenset[int] | None = None) -> None:
        self.extra = frozenset(extra_days_off)
        self.weekend = weekend if weekend is not None else review_rule().weekend

    def is_working_day(self, day: dt.date) -> bool:
        return (
            day.weekday() not in self.weekend
            and day not in self.extra
            and day not in _public_holidays(day.year)
        )

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The ``days``-th working day after ``start`` (``start`` itself is not counted)."""
        day = start
        counted = 0
        while counted < days:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days d with start < d <= end (negative when end is before start)."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(
            1 for n in range(1, (end - start).days + 1) if self.is_working_day(start + dt.timedelta(days=n))
        )


@dataclass(frozen=True)
class Deadline:
    due: dt.date
    days_left: int  # working days left after today; negative = overdue by that many working days

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


def review_deadline(filed: dt.date, today: dt.date, calendar: Calendar) -> Deadline:
    due = calendar.add_working_days(filed, review_rule().working_days)
    return Deadline(due, calendar.working_days_between(today, due))
