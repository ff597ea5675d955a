"""Words for the rules' answers, in the owner's language (texts live in ``locales/``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from locales import t
from rules.catalogue import Flag, Item
from rules.estimate import Estimate, Refusal
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


def cap_text(vnd: int | None, lang: str = "vi") -> str:
    return format_vnd(vnd, lang) if vnd is not None else t("estimate.cap_none", lang)


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
    return t(why.key, lang, **params)


def item_line(item: Item, lang: str = "vi") -> str:
    return t(
        "cli.items.line",
        lang,
        code=item.code,
        id=item.id,
        title=item.title.get(lang),
        rate=rate_text(item.rate_percent, lang),
        cap=cap_text(item.cap_vnd, lang),
        unit=t(f"unit.{item.cap_unit.value}", lang),
        basis=item.basis.cite(lang),
    )


def estimate_lines(est: Estimate, lang: str = "vi") -> list[str]:
    """The estimate of one item in words: the line, then any notes that matter."""
    title = est.item.title.get(lang)
    if not est.eligible or est.amount is None:
        reason = refusal_text(est.refusal, lang) if est.refusal else ""
        return [t("estimate.ineligible", lang, title=title, reason=reason)]
    cap = est.amount.cap_total_vnd
    lines = [
        t(
            "estimate.line" if cap is not None else "estimate.line_nocap",
            lang,
            title=title,
            cost=format_vnd(est.amount.total_cost_vnd, lang),
            rate=rate_text(est.item.rate_percent, lang),
            cap=cap_text(cap, lang),
            state=format_vnd(est.state_vnd, lang),
            enterprise=format_vnd(est.enterprise_vnd, lang),
            basis=est.item.basis.cite(lang),
        )
    ]
    if est.favourable_size and est.size is not None:
        lines.append(t("estimate.favourable", lang, size=size_name(est.size, lang).lower()))
    if est.used_vnd:
        lines.append(t("estimate.used", lang, used=format_vnd(est.used_vnd, lang)))
    if est.unconfirmed_better is not None:
        lines.append(t("estimate.unconfirmed_better", lang, title=est.unconfirmed_better.title.get(lang)))
    return lines
