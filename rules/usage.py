"""What a firm already received this year, per support content, in money and units (TT06 Art. 3.5).

Caps are per firm per year, whatever agency or programme paid (ND80 Art. 4.2; TT06 Art. 3.4-3.5): an
approval under one programme counts against the same content in every other. The shell gives the
approvals it knows (from every account and channel of the firm's tax code); the owner declares what
other agencies paid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rules.catalogue import Catalogue
from rules.estimate import NOTHING_USED, Used


@dataclass(frozen=True)
class Received:
    """One approved item: its catalogue id, the year, the approved amount and units, and the content it
    funded as recorded when it was filed (a programme closed since then is no longer in the catalogue, but
    what it paid still counts against the content's yearly cap)."""

    item_id: str
    year: int
    vnd: int
    units: int
    content: str | None = None


def used_this_year(received: Iterable[Received], year: int, catalogue: Catalogue) -> dict[str, Used]:
    """Content id -> what was received in ``year``: by the content recorded at filing, else the catalogue's
    (an item known to neither is skipped)."""
    used: dict[str, Used] = {}
    for r in received:
        known = catalogue.item(r.item_id).content if r.item_id in catalogue.items else None
        content = r.content or known
        if r.year != year or content is None:
            continue
        used[content] = used.get(content, NOTHING_USED) + Used(r.vnd, r.units)
    return used


def combined(*parts: Mapping[str, Used]) -> dict[str, Used]:
    out: dict[str, Used] = {}
    for part in parts:
        for content, used in part.items():
            out[content] = out.get(content, NOTHING_USED) + used
    return out
