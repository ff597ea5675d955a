"""Who a broadcast reaches (issue 16), pure: the subscribers the programme fits (its period and target,
:func:`rules.estimate.programme_refusal`; its region; one of its rows open to the firm; a kind of support
they asked for), in the officer's agency's area, narrowed by the filters the officer typed.

Filters are typed as clauses ``key: value, value; key: value`` (keys and values in Vietnamese or English,
accents optional): ``tỉnh``/``province``, ``xã``/``phường``/``commune``, ``quy mô``/``size``,
``lĩnh vực``/``ngành``/``sector``, ``nhóm``/``ưu tiên``/``flag``. A subscriber must match every clause and
one value of each (``quy mô: nhỏ, siêu nhỏ``: small or micro). ``tất cả`` clears them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from conversations import places
from conversations.messages import Msg, render_line, say
from conversations.officer.context import Subscriber
from rules.agencies import Agency
from rules.catalogue import Flag, Programme
from rules.estimate import programme_refusal, refusal
from rules.places import same_place
from rules.size import Sector, Size
from rules.text import fold

Filters = dict[str, list[str]]  # provinces, communes, sizes, sectors, flags -> values (official names, ids)

KEYS = {
    "provinces": ("tinh", "tinh thanh", "thanh pho", "province", "provinces"),
    "communes": ("xa", "phuong", "xa phuong", "commune", "communes", "ward", "wards"),
    "sizes": ("quy mo", "size", "sizes"),
    "sectors": ("linh vuc", "nganh", "nganh nghe", "sector", "sectors"),
    "flags": ("nhom", "uu tien", "nhom uu tien", "dac diem", "flag", "flags", "group"),
}
CLEAR_WORDS = ("tat ca", "all", "bo loc", "xoa loc", "khong loc", "everyone", "clear")
SIZE_WORDS = {
    Size.micro: ("sieu nho", "micro"),
    Size.small: ("nho", "small"),
    Size.medium: ("vua", "medium"),
}
SECTOR_WORDS = {Sector.agriculture: ("nong nghiep", "nong lam thuy san")}
_CLAUSES = re.compile(r"[;\n]+")


def in_area(agency: Agency | None, province: str, commune: str) -> bool:
    """An officer reaches only owners of their agency's area: a national agency (or an admin) everyone, a
    province's the province, a commune's the commune."""
    if agency is None or agency.province is None:
        return True
    if not same_place(province, agency.province):
        return False
    return agency.commune is None or same_place(commune, agency.commune)


def programme_fits(programme: Programme, sub: Subscriber, today: dt.date) -> bool:
    """The programme is open today, targets the firm, is for its place, has a row open to it, and is of a
    kind of support the subscriber asked for."""
    if programme_refusal(programme, sub.profile, today) is not None:
        return False
    region = programme.region
    if region.level != "national":
        if not same_place(sub.province, region.province or ""):
            return False
        if region.level == "commune" and not same_place(sub.commune, region.commune or ""):
            return False
    rows = [
        i
        for i in programme.items
        if i.for_firms and refusal(i, sub.profile, today, assume_dates=True) is None
    ]
    if not rows:
        return False
    return not sub.topics or bool(sub.topics & {i.kind.value for i in rows})


def narrowed(sub: Subscriber, filters: Mapping[str, Sequence[str]]) -> bool:
    if filters.get("provinces") and not any(same_place(sub.province, p) for p in filters["provinces"]):
        return False
    if filters.get("communes") and not any(same_place(sub.commune, c) for c in filters["communes"]):
        return False
    if filters.get("sizes") and not (sub.profile.sizes and sub.profile.main_size.value in filters["sizes"]):
        return False
    if filters.get("sectors") and sub.sector not in filters["sectors"]:
        return False
    return not filters.get("flags") or bool({f.value for f in sub.profile.flags} & set(filters["flags"]))


def audience(
    programme: Programme,
    subscribers: Sequence[Subscriber],
    agency: Agency | None,
    filters: Mapping[str, Sequence[str]],
    today: dt.date,
) -> tuple[Subscriber, ...]:
    return tuple(
        s
        for s in subscribers
        if in_area(agency, s.province, s.commune)
        and narrowed(s, filters)
        and programme_fits(programme, s, today)
    )


def _labels(key: str) -> tuple[str, ...]:
    return tuple(fold(render_line(say(key), lang)) for lang in ("vi", "en"))


def _one(value: str, options: Mapping[str, tuple[str, ...]], exact: bool) -> str | None:
    """The option a value names: by an exact word, else (``exact`` off) by a unique part of a label."""
    hits = [o for o, words in options.items() if value in words]
    if not hits and not exact:
        hits = [o for o, words in options.items() if any(value in w for w in words)]
    return hits[0] if len(hits) == 1 else None


def _options(field: str) -> dict[str, tuple[str, ...]]:
    if field == "sizes":
        return {s.value: (*SIZE_WORDS[s], s.value, *_labels(f"size.name.{s.value}")) for s in SIZE_WORDS}
    if field == "sectors":
        return {s.value: (s.value, *SECTOR_WORDS.get(s, ()), *_labels(f"sector.{s.value}")) for s in Sector}
    return {f.value: (f.value, fold(f.value.replace("_", " ")), *_labels(f"flag.{f.value}")) for f in Flag}


def _place(field: str, value: str, agency: Agency | None, chosen: Filters) -> str | Msg:
    """The official name of a province or commune typed, in the agency's area; or why not."""
    if field == "provinces":
        found = [name for _, name in places.provinces() if same_place(name, value)]
        if not found:
            return say("news.filter_unknown_place", value=value)
        if agency is not None and agency.province is not None and not same_place(found[0], agency.province):
            return say("news.filter_outside_area", value=found[0])
        return found[0]
    provinces = [code for code, name in places.provinces() if _province_allowed(name, agency, chosen)]
    found = [name for code in provinces for _, name in places.communes(code) if same_place(name, value)]
    if not found:
        return say("news.filter_unknown_place", value=value)
    if agency is not None and agency.commune is not None and not same_place(found[0], agency.commune):
        return say("news.filter_outside_area", value=found[0])
    return found[0]


def _province_allowed(name: str, agency: Agency | None, chosen: Filters) -> bool:
    if agency is not None and agency.province is not None and not same_place(name, agency.province):
        return False
    wanted = chosen.get("provinces")
    return not wanted or any(same_place(name, p) for p in wanted)


def parse_filters(text: str, agency: Agency | None, current: Mapping[str, Any]) -> Filters | Msg:
    """The filters typed, added to ``current`` (a clause replaces that key's values); or what is wrong,
    naming the clause."""
    if fold(text).strip(" .!?") in CLEAR_WORDS:
        return {}
    out: Filters = {k: list(v) for k, v in current.items() if k in KEYS}
    clauses = [c.strip() for c in _CLAUSES.split(text) if c.strip()]
    if not clauses:
        return say("news.filter_usage")
    for clause in clauses:
        key, colon, rest = clause.partition(":")
        field = next((f for f, words in KEYS.items() if fold(key).strip() in words), None)
        if not colon or field is None:
            return say("news.filter_bad_clause", clause=clause)
        values = [v.strip() for v in rest.split(",") if v.strip()]
        if not values:
            return say("news.filter_bad_clause", clause=clause)
        picked: list[str] = []
        for value in values:
            if field in ("provinces", "communes"):
                place = _place(field, value, agency, out)
                if isinstance(place, Msg):
                    return place
                picked.append(place)
                continue
            found = _one(fold(value), _options(field), exact=field == "sizes")
            if found is None:
                return say("news.filter_unknown_value", value=value, name=key.strip())
            picked.append(found)
        out[field] = list(dict.fromkeys(picked))
    return {k: v for k, v in out.items() if v}
