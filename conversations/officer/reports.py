"""``/stats`` and ``/export``: the year's figures and the plan tables (rendered after the commit)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from conversations.effects import Chart, Export
from conversations.messages import Line, Money, Msg, Plain, Reply, Result, say
from conversations.officer.base import Answer, answer
from conversations.officer.context import OfficerContext


def _year(arg: str, ctx: OfficerContext) -> int | None:
    text = arg.strip()
    if not text:
        return ctx.today.year
    return int(text) if re.fullmatch(r"20\d\d", text) else None


def decimal_text(value: float, lang: str) -> str:
    """1.5 -> "1,5" in Vietnamese (a decimal comma), "1.5" in English; one decimal."""
    text = f"{value:.1f}"
    return text.replace(".", ",") if lang == "vi" else text


def stats(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Answer:
    year = _year(arg, ctx)
    if year is None:
        return answer(say("officer.bad_year", value=arg))
    rows = [d for d in ctx.dossiers if d.filed_on.year == year]
    if not rows:
        return answer(say("officer.stats_empty", year=year))
    by_status = Counter(d.status for d in rows)
    by_size = Counter(d.size for d in rows)
    by_province = Counter(d.province for d in rows)
    by_kind: Counter[str] = Counter()
    for d in rows:
        for item in d.items:
            kind = (
                ctx.catalogue.item(item.item_id).kind.value
                if item.item_id in ctx.catalogue.items
                else "other"
            )
            by_kind[kind] += 1
    decided = [d for d in rows if d.decided_on is not None]
    days = [ctx.calendar.working_days_between(d.filed_on, d.decided_on) for d in decided if d.decided_on]
    average = decimal_text(sum(days) / len(days), lang) if days else "—"

    def pairs(counter: Counter[str], label: Any) -> list[Msg]:
        return [say("officer.stats_pair", label=label(k), n=v) for k, v in counter.most_common()]

    approved = sum(d.approved_vnd for d in rows if d.status == "approved")
    lines: list[Line] = [
        say("officer.stats_title", year=year, count=len(rows)),
        say("officer.stats_status", items=pairs(by_status, lambda k: say(f"status.{k}"))),
        say("officer.stats_size", items=pairs(by_size, lambda k: say(f"size.name.{k}"))),
        say(
            "officer.stats_kind",
            items=pairs(by_kind, lambda k: say(f"kind.{k}")),
        ),
        say("officer.stats_province", items=pairs(by_province, lambda k: Plain(k or "—"))),
        say(
            "officer.stats_money",
            requested=Money(sum(d.total_state_vnd for d in rows)),
            approved=Money(approved),
        ),
        say("officer.stats_days", days=average, n=len(days)),
    ]
    chart = Chart("officer.chart_title", year, tuple(by_status.most_common()))
    out = Reply(tuple(lines), (), attach="chart")
    return Answer((out,), (chart,))


def export(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Answer:
    year = _year(arg, ctx)
    if year is None:
        return answer(say("officer.bad_year", value=arg))
    # the counts are the export's own (one classification of the dossiers for the sheets, the CSV and this)
    out = Reply((Msg("officer.outcome", {"text": Result("export_summary")}),), (), attach="export")
    return Answer((out,), (Export(year),))
