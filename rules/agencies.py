"""Support agencies and routing: a dossier goes to the agency that handles its programme where the firm is
(TT06 Art. 3.4: one content, one agency at a time). The agencies are data: ``rules/data/agencies.yaml``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rules.places import same_place

DEFAULT_AGENCIES = Path(__file__).parent / "data" / "agencies.yaml"


@dataclass(frozen=True)
class Agency:
    id: str
    name_vi: str
    name_en: str
    programmes: frozenset[str]
    province: str | None = None
    commune: str | None = None

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_vi

    @property
    def level(self) -> int:
        """2 commune, 1 province, 0 national: the more specific agency wins."""
        return 2 if self.commune else 1 if self.province else 0

    def covers(self, programme_id: str, province: str, commune: str) -> bool:
        if programme_id not in self.programmes:
            return False
        if self.province and not same_place(province, self.province):
            return False
        return not self.commune or same_place(commune, self.commune)


def parse_agencies(raw: Iterable[Mapping[str, Any]]) -> dict[str, Agency]:
    out: dict[str, Agency] = {}
    for entry in raw:
        agency = Agency(
            id=str(entry["id"]),
            name_vi=str(entry["name"]["vi"]),
            name_en=str(entry["name"]["en"]),
            programmes=frozenset(entry.get("programmes") or ()),
            province=entry.get("province"),
            commune=entry.get("commune"),
        )
        if agency.id in out:
            raise ValueError(f"agency {agency.id!r} appears twice")
        out[agency.id] = agency
    return out


def load_agencies(path: Path = DEFAULT_AGENCIES) -> dict[str, Agency]:
    return parse_agencies(yaml.safe_load(path.read_text(encoding="utf-8")) or [])


def route(agencies: Sequence[Agency], programme_id: str, province: str, commune: str) -> Agency | None:
    """The most specific agency handling this programme for a firm headquartered here, if any."""
    fitting = [a for a in agencies if a.covers(programme_id, province, commune)]
    return max(fitting, key=lambda a: a.level) if fitting else None
