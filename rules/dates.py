"""Dates as owners type them: "15/3/2022", "15-03-2022", "15.3.2022", "2022-03-15", "15 thang 3 nam 2022"."""

from __future__ import annotations

import datetime as dt
import re

from rules.text import fold

#: Vietnam's time (UTC+7, no daylight saving since 1975): dates of filing, deadlines and reminders
VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")

_DMY = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_WORDS = re.compile(r"^(?:ngay\s+)?(\d{1,2})\s+thang\s+(\d{1,2})\s+(?:nam\s+)?(\d{4})$")


class DateError(ValueError):
    """Not a full calendar date; ``code`` names the message (``dates.error.<code>``)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def parse_date(text: str) -> dt.date:
    """A day, month and year; a month and year alone is refused (a time limit needs the day)."""
    value = fold(text).strip().rstrip(".")
    for pattern, order in ((_DMY, "dmy"), (_ISO, "ymd"), (_WORDS, "dmy")):
        found = pattern.match(value)
        if found:
            a, b, c = (int(g) for g in found.groups())
            day, month, year = (a, b, c) if order == "dmy" else (c, b, a)
            try:
                return dt.date(year, month, day)
            except ValueError as exc:
                raise DateError("invalid") from exc
    if re.match(r"^(?:thang\s+)?\d{1,2}\s*[/.\-\s]\s*(?:nam\s+)?\d{4}$", value):
        raise DateError("no_day")
    raise DateError("format")
