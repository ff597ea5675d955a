"""Words for the rules' answers, in the owner's language (texts live in ``locales/``)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from locales import t
from rules.catalogue import Catalogue, Flag, Item
from rules.estimate import Estimate, Refusal, TimeWindow
from rules.legal import Basis
from rules.money import format_vnd
from rules.size import Size, SizeResult


def size_name(size: Size, lang: str = "vi") -> str:
    return t(f"size.name.{size.value}", lang)


def size_reason(result: SizeResult, lang: str = "vi") -> str:
    params: dict[str, Any] = dict(result.reason_params)
    for key in ("max_revenue", "max_capital"):
        if key in params:
            params[key] = format_vnd(int(params[key]), lang)
    return t(result.reason_key, lang, **params)


def size_summary(result: SizeResult, lang: str = "vi") -> str:
    """ "Doanh nghiệp nhỏ (theo tiêu chí tổng nguồn vốn, Khoản 2 Điều 5 Nghị định 80/2021/NĐ-CP)"."""
    if not result.is_sme:
        return size_name(result.size, lang)
    criterion = "capital" if not result.revenue_used else result.criterion
    return t(
        "size.result",
        lang,
        size=size_name(result.size, lang),
        criterion=t(f"size.criterion.{criterion}", lang),
        basis=result.basis.cite(lang),
    )


def size_alternatives(result: SizeResult, lang: str = "vi") -> str | None:
    if not result.alternatives:
        return None
    names = ", ".join(size_name(s, lang).lower() for s in result.alternatives)
    return t("size.alternative", lang, sizes=names)


def flag_names(flags: frozenset[Flag] | set[Flag], lang: str = "vi") -> list[str]:
    return [t(f"flag.{f.value}", lang) for f in Flag if f in flags]


def rate_text(rate: Decimal | None, lang: str = "vi") -> str:
    if rate is None:
        return t("estimate.rate_none", lang)
    text = f"{rate.normalize():f}"
    return (text.replace(".", ",") if lang == "vi" else text) + "%"


def cap_text(vnd: int | None, lang: str = "vi", norm: Basis | None = None) -> str:
    """A cap in words; a row without one is paid by spending norms (training) — never "no limit"."""
    if vnd is not None:
        return format_vnd(vnd, lang)
    if norm is not None:
        return t("estimate.norm", lang, norm=norm.cite(lang))
    return t("estimate.cap_none", lang)


def date_text(day: dt.date, lang: str = "vi") -> str:
    return day.strftime("%d/%m/%Y") if lang == "vi" else day.isoformat()


def window_text(window: TimeWindow, lang: str = "vi") -> str:
    return t(
        "estimate.window",
        lang,
        years=window.limit.years,
        date=t(f"date.{window.limit.since.value}", lang),
        since=date_text(window.since, lang),
        until=date_text(window.until, lang),
        basis=window.limit.basis.cite(lang),
    )


def refusal_text(why: Refusal, lang: str = "vi") -> str:
    params: dict[str, str] = dict(why.params)
    if "flags" in params:
        params["flags"] = t("eligibility.flags_or", lang).join(
            t(f"flag.{name}", lang) for name in params["flags"].split(",")
        )
    if "sizes" in params:
        params["sizes"] = ", ".join(size_name(Size(s), lang).lower() for s in params["sizes"].split(","))
    if "entity" in params:
        params["entity"] = t(f"entity.{params['entity']}", lang).lower()
    if "entities" in params:
        params["entities"] = ", ".join(t(f"entity.{e}", lang).lower() for e in params["entities"].split(","))
    if "date" in params:
        params["date"] = t(f"date.{params['date']}", lang)
    for key in ("since", "until"):
        if params.get(key):
            params[key] = date_text(dt.date.fromisoformat(params[key]), lang)
    if "basis" in params:
        params["basis"] = Basis.model_validate(json.loads(params["basis"])).cite(lang)
    return t(why.key, lang, **params)


def item_line(item: Item, lang: str = "vi") -> str:
    line = t(
        "cli.items.planned_line" if item.planned else "cli.items.line",
        lang,
        code=item.code,
        id=item.id,
        title=item.title.get(lang),
        rate=rate_text(item.rate_percent, lang),
        cap=cap_text(item.cap_vnd, lang, item.norm),
        unit=t(f"unit.{item.cap_unit.value}", lang),
        basis=item.basis.cite(lang),
    )
    if item.unconfirmed:
        line += " " + t("cli.items.unconfirmed", lang)
    return line


def programme_name(catalogue: Catalogue, item: Item, lang: str = "vi") -> str:
    return catalogue.programme_of(item.id).title.get(lang)


def context_lines(est: Estimate, catalogue: Catalogue, lang: str = "vi") -> list[str]:
    """Which programme's level was chosen and why, the content's reading, and how the agency answers."""
    lines = level_lines(est, catalogue, lang)
    if est.eligible:
        lines.append(procedure_line(est, catalogue, lang))
    return lines


def procedure_line(est: Estimate, catalogue: Catalogue, lang: str = "vi") -> str:
    """How and when the agency answers for this content (ND80 Art. 32.2 or 32.3.a)."""
    return t(f"estimate.procedure.{catalogue.content_of(est.item).procedure.value}", lang)


def level_lines(est: Estimate, catalogue: Catalogue, lang: str = "vi") -> list[str]:
    """Several levels of one content fitted: the most favourable was chosen, under which programme."""
    lines: list[str] = []
    content = catalogue.content_of(est.item)
    if est.eligible and est.levels > 1:
        lines.append(
            t("estimate.levels", lang, count=est.levels, programme=programme_name(catalogue, est.item, lang))
        )
        if content.reading is not None:
            lines.append(t("estimate.reading", lang, reading=content.reading.get(lang)))
    return lines


def estimate_lines(est: Estimate, lang: str = "vi") -> list[str]:
    """The estimate of one item in words: the line, then any notes that matter."""
    title = est.item.title.get(lang)
    if not est.eligible or est.amount is None:
        reason = refusal_text(est.refusal, lang) if est.refusal else ""
        return [t("estimate.ineligible", lang, title=title, reason=reason)]
    cap = est.amount.cap_total_vnd
    key = "estimate.line" if cap is not None else "estimate.line_nocap"
    if est.item.planned:
        key = "estimate.planned_line"
    elif cap is None and est.item.norm is not None:
        key = "estimate.line_norm"
    lines = [
        t(
            key,
            lang,
            title=title,
            cost=format_vnd(est.amount.total_cost_vnd, lang),
            rate=rate_text(est.item.rate_percent, lang),
            cap=cap_text(cap, lang),
            planned=cap_text(est.item.cap_vnd, lang),
            unit=t(f"unit.{est.item.cap_unit.value}", lang),
            norm=est.item.norm.cite(lang) if est.item.norm else "",
            state=format_vnd(est.state_vnd, lang),
            enterprise=format_vnd(est.enterprise_vnd, lang),
            basis=est.item.basis.cite(lang),
        )
    ]
    if est.favourable_size and est.size is not None:
        lines.append(t("estimate.favourable", lang, size=size_name(est.size, lang).lower()))
    if est.used.vnd or est.used.units:
        lines.append(t("estimate.used", lang, used=format_vnd(est.used.vnd, lang)))
    if est.used.units and est.item.max_units is not None:
        lines.append(
            t(
                "estimate.used_units",
                lang,
                units=est.used.units,
                unit=t(f"unit.{est.item.cap_unit.value}", lang),
                max=est.item.max_units,
                supported=est.amount.supported_units,
            )
        )
    lines.extend(window_text(w, lang) for w in est.windows)
    if est.unconfirmed_better is not None:
        lines.append(t("estimate.unconfirmed_better", lang, title=est.unconfirmed_better.title.get(lang)))
    return lines
