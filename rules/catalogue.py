"""The support catalogue: programmes and their items, loaded from ``rules/data/programmes/*.yaml``.

Every rate, cap and unit is data with its citation (DESIGN.md "Data, not code, for the law").
The data is validated when it is loaded; an error names the file, the item and the field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rules.legal import Basis, Text
from rules.size import Size

DATA_DIR = Path(__file__).parent / "data"
PROGRAMME_DIR = DATA_DIR / "programmes"


class Entry(BaseModel):
    """An entry of a data list, known by its id (a content, an evidence document)."""

    id: str


M = TypeVar("M", bound=Entry)


class CatalogueError(ValueError):
    """The catalogue data is wrong; the message names the file, the item and the field."""


class Kind(StrEnum):
    """The kind of support, used to group items for the owner (issue 4, step 4)."""

    digital = "digital"  # technology / digital transformation, ND80 Art. 11
    consulting = "consulting"  # ND80 Art. 13
    training = "training"  # ND80 Art. 14
    startup = "startup"  # ND80 Art. 22
    cluster = "cluster"  # cluster / value chain, ND80 Art. 25
    khuyen_cong = "khuyen_cong"  # industrial promotion, Decree 45/2012 and 235/2025
    network = "network"  # consultant network management: agency-side costs, not for firms


class CapUnit(StrEnum):
    per_firm_year = "per_firm_year"
    per_contract_year = "per_contract_year"
    per_trainee_year = "per_trainee_year"
    per_month = "per_month"
    per_course = "per_course"
    per_product = "per_product"
    per_event = "per_event"
    per_establishment = "per_establishment"
    per_consultant = "per_consultant"
    per_conference = "per_conference"
    none = "none"


#: Units where the owner states a quantity (trainees, months, courses, products, events).
QUANTITY_UNITS = frozenset(
    {CapUnit.per_trainee_year, CapUnit.per_month, CapUnit.per_course, CapUnit.per_product, CapUnit.per_event}
)


class EntityType(StrEnum):
    enterprise = "enterprise"  # doanh nghiệp
    cooperative = "cooperative"  # hợp tác xã, liên hiệp hợp tác xã
    household = "household"  # hộ kinh doanh
    rural_establishment = "rural_establishment"  # cơ sở công nghiệp nông thôn (Decree 45/2012)


class Flag(StrEnum):
    women_owned = "women_owned"
    many_female_workers = "many_female_workers"
    social_enterprise = "social_enterprise"
    disadvantaged_area = "disadvantaged_area"
    startup = "startup"
    cluster = "cluster"
    value_chain = "value_chain"
    production_processing = "production_processing"
    converted_household = "converted_household"
    rural_industry = "rural_industry"


#: Served first among equals (ND80 Art. 4.1.b); the higher priority rows of Art. 13.2 and 14.3.b.
PRIORITY_GROUPS = frozenset({Flag.women_owned, Flag.many_female_workers, Flag.social_enterprise})


class DateKey(StrEnum):
    """Dates a time limit counts from; asked only where an item the owner may get depends on one."""

    first_registration = "first_registration"  # first enterprise registration (L04 Art. 17.1; TT06 Art. 12)
    lease_signed = "lease_signed"  # the incubator / co-working lease (ND80 Art. 22.1.b)
    ecommerce_account = (
        "ecommerce_account"  # the e-commerce account's registration (ND80 Art. 22.6.c, 25.3.d)
    )


class Procedure(StrEnum):
    request = "request"  # ND80 Art. 32.3: the agency answers the firm's request within 14 working days
    plan = "plan"  # ND80 Art. 32.2: the agency follows its approved plan and budget


class TimeLimit(BaseModel):
    """Support only within ``years`` of a date of the firm's (boundaries inclusive: "không quá")."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    years: int = Field(ge=1)
    since: DateKey
    basis: Basis
    to_year_end: bool = False  # counted in years "up to the year" (TT06 Art. 12): until 31 December
    waived_by: tuple[Flag, ...] = ()  # a firm with one of these flags is not bound by the limit


class Content(Entry):
    """A support content: what rows fund. Rows of one content are levels of it (ND80 Art. 4.2)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: Text
    basis: tuple[Basis, ...] = Field(min_length=1)
    procedure: Procedure
    consulting: bool = False  # TT06 Art. 3.9: only through a consultant of the network
    reading: Text | None = None  # where joining rows of different articles is our (unconfirmed) reading


class AnyOf(BaseModel):
    """The firm must have at least one of these flags."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    any_of: tuple[Flag, ...] = Field(min_length=1)


class Item(BaseModel):
    """One support item: a row of a programme's table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    code: str = Field(min_length=1)  # the Annex / plan row, e.g. "III.A.2.1"
    group: str | None = None  # the parent row, e.g. "III.A.2"
    family: str | None = None  # rows that are variants of one support (sizes, priority groups): III.A
    kind: Kind
    title: Text
    basis: Basis
    rate_percent: Decimal | None = Field(default=None, ge=0, le=100)
    cap_vnd: int | None = Field(default=None, ge=0)
    cap_unit: CapUnit
    max_units: int | None = Field(default=None, ge=1)  # max trainees / months / courses per year
    yearly_cap_vnd: int | None = Field(default=None, ge=0)  # per firm per year over all units
    content: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")  # the support content it funds (contents.yaml)
    time_limits: tuple[TimeLimit, ...] = ()  # e.g. space rental at most 3 years from the lease
    planned: bool = False  # cap_vnd is a plan's planned amount per beneficiary, not a legal cap (seed 003)
    norm: Basis | None = None  # no cap in the row: the cost is paid by these spending norms
    for_firms: bool = True  # False: an agency-side cost (consultant network), never offered to owners
    sizes: tuple[Size, ...] = (Size.micro, Size.small, Size.medium)  # applies to enterprises only
    entity_types: tuple[EntityType, ...] = (EntityType.enterprise,)
    requires: tuple[AnyOf, ...] = ()
    priority_variant: bool = False  # the higher row for women-owned / many female workers / social ent.
    needs_network_consultant: bool = False  # TT06 Art. 3.9
    evidence: tuple[str, ...] = ()
    valid_from: dt.date
    valid_to: dt.date | None = None
    note: Text | None = None
    unconfirmed: bool = False

    @field_validator("rate_percent", mode="before")
    @classmethod
    def _rate_is_exact(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError("write the rate as an integer or a quoted decimal, never a float")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Item:
        if self.for_firms and self.rate_percent is None and self.cap_vnd is None:
            raise ValueError("an item for firms needs a rate_percent, a cap_vnd or both")
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        if self.unconfirmed and self.note is None:
            raise ValueError("an unconfirmed item must say why in its note")
        if self.planned and (self.cap_vnd is None or self.rate_percent is not None):
            raise ValueError("a planned amount is a cap_vnd with no rate_percent")
        return self

    @property
    def family_key(self) -> str:
        """What the owner chooses: a family of variant rows, or the row itself."""
        return self.family or self.code

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class Region(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    level: str = Field(pattern=r"^(national|province|commune)$")
    province: str | None = None
    commune: str | None = None


class Target(BaseModel):
    """Who a programme is for: entity types and enterprise sizes (ND80 Art. 2; L04 Art. 4; a plan)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    entity_types: tuple[EntityType, ...] = Field(min_length=1)
    sizes: tuple[Size, ...] = (Size.micro, Size.small, Size.medium)  # for enterprises
    basis: Basis
    note: Text | None = None
    unconfirmed: bool = False


class Programme(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: Text
    authority: Text
    basis: tuple[Basis, ...] = Field(min_length=1)
    region: Region
    valid_from: dt.date
    valid_to: dt.date | None = None
    budget_vnd: int | None = Field(default=None, ge=0)
    source: str | None = None  # the seed file or the published document this was read from
    note: Text | None = None
    target: Target
    items: tuple[Item, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _items_default_to_target(cls, raw: Any) -> Any:
        """An item names its entity types and sizes only where it is narrower than the programme's target."""
        if not isinstance(raw, dict) or not isinstance(raw.get("target"), dict):
            return raw
        target = raw["target"]
        items = raw.get("items")
        if isinstance(items, list):
            raw = {**raw, "items": [_with_target(it, target) for it in items]}
        return raw

    @model_validator(mode="after")
    def _consistent_items(self) -> Programme:
        seen: set[str] = set()
        for item in self.items:
            if item.id in seen:
                raise ValueError(f"item id {item.id!r} appears twice")
            seen.add(item.id)
            wider = set(item.entity_types) - set(self.target.entity_types)
            if wider:
                raise ValueError(f"item {item.id!r}: entity_types {sorted(wider)} are outside the target")
            if set(item.sizes) - set(self.target.sizes):
                raise ValueError(f"item {item.id!r}: sizes outside the programme's target")
        return self


def _with_target(item: Any, target: dict[str, Any]) -> Any:
    if not isinstance(item, dict):
        return item
    out = dict(item)
    if "entity_types" not in out and "entity_types" in target:
        out["entity_types"] = target["entity_types"]
    if "sizes" not in out and "sizes" in target:
        out["sizes"] = target["sizes"]
    return out


class Evidence(Entry):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    title: Text
    basis: Basis


def _node_at(node: yaml.Node | None, loc: Sequence[Any]) -> yaml.Node | None:
    """The YAML node at a validation error's location (keys and list indexes), as far as it goes."""
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((value for key, value in node.value if key.value == part), node)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
    return node


def _format_errors(name: str, raw: Any, root: yaml.Node | None, error: ValidationError) -> str:
    """Every error with its line, the item and the field (an officer fixes the file from this alone)."""
    lines = [f"{name}: invalid data"]
    for err in error.errors():
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        where = ".".join(str(p) for p in loc) or "(programme)"
        if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
            items = raw.get("items") if isinstance(raw, dict) else None
            item_id = "?"
            if isinstance(items, list) and loc[1] < len(items) and isinstance(items[loc[1]], dict):
                item_id = str(items[loc[1]].get("id", "?"))
            field = ".".join(str(p) for p in loc[2:]) or "(item)"
            where = f"item {item_id!r} field {field}"
        node = _node_at(root, loc)
        line = f"line {node.start_mark.line + 1}: " if node is not None else ""
        lines.append(f"  {line}{where}: {err['msg']}")
    return "\n".join(lines)


def parse_programme(text: str, name: str = "programme.yaml") -> Programme:
    """A programme from its YAML text (a shipped file, or one an officer sends); errors name the line,
    the item and the field."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{name}: not valid YAML: {exc}") from exc
    try:
        return Programme.model_validate(raw)
    except ValidationError as exc:
        raise CatalogueError(_format_errors(name, raw, root, exc)) from exc


def load_programme(path: Path) -> Programme:
    return parse_programme(path.read_text(encoding="utf-8"), path.name)


def _load_entries(path: Path, model: type[M], what: str) -> dict[str, M]:
    """A YAML list of entries with unique ids; an error names the file, the entry and the field."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: dict[str, M] = {}
    for entry in raw:
        try:
            value = model.model_validate(entry)
        except ValidationError as exc:
            raise CatalogueError(f"{path.name}: {what} {entry.get('id', '?')!r}: {exc}") from exc
        key = value.id
        if key in out:
            raise CatalogueError(f"{path.name}: {what} {key!r} appears twice")
        out[key] = value
    return out


def load_contents(path: Path = DATA_DIR / "contents.yaml") -> dict[str, Content]:
    return _load_entries(path, Content, "content")


class AmbiguousReference(ValueError):
    """A group reference names rows of different support contents; the caller must name one row."""

    def __init__(self, ref: str, rows: Sequence[Item]) -> None:
        self.ref = ref
        self.rows = tuple(rows)
        super().__init__(f"{ref}: rows of different supports: {', '.join(r.code for r in rows)}")


def load_evidence(path: Path = DATA_DIR / "evidence.yaml") -> dict[str, Evidence]:
    return _load_entries(path, Evidence, "evidence")


class Catalogue:
    """All programmes, indexed by programme id and item id."""

    def __init__(
        self,
        programmes: Iterable[Programme],
        evidence: dict[str, Evidence],
        contents: dict[str, Content] | None = None,
    ) -> None:
        self.programmes: dict[str, Programme] = {}
        self.items: dict[str, tuple[Programme, Item]] = {}
        self.evidence = evidence
        self.contents = contents if contents is not None else load_contents()
        self._by_content: dict[str, tuple[Item, ...]] | None = None
        self._found: dict[tuple[str, str | None], tuple[Item, ...]] = {}
        self._families: dict[str, tuple[Item, ...]] | None = None
        self._asking: dict[Flag, tuple[Programme, ...]] = {}
        for programme in programmes:
            if programme.id in self.programmes:
                raise CatalogueError(f"programme id {programme.id!r} appears twice")
            self.programmes[programme.id] = programme
            for item in programme.items:
                if item.id in self.items:
                    raise CatalogueError(f"{programme.id}: item id {item.id!r} is also in another programme")
                unknown = [e for e in item.evidence if e not in evidence]
                if unknown:
                    raise CatalogueError(
                        f"{programme.id}: item {item.id!r} field evidence: unknown document(s) {unknown}"
                    )
                self._check_content(programme, item)
                self.items[item.id] = (programme, item)

    def _check_content(self, programme: Programme, item: Item) -> None:
        content = self.contents.get(item.content)
        if content is None:
            raise CatalogueError(f"{programme.id}: item {item.id!r} field content: unknown {item.content!r}")
        if item.for_firms and content.consulting != item.needs_network_consultant:
            raise CatalogueError(
                f"{programme.id}: item {item.id!r} field needs_network_consultant: must be "
                f"{content.consulting} for content {content.id!r} (TT06 Art. 3.9)"
            )

    def content_of(self, item: Item) -> Content:
        return self.contents[item.content]

    def content_rows(self) -> dict[str, tuple[Item, ...]]:
        """Every content an owner can get (content id -> its rows in every programme), in catalogue order."""
        if self._by_content is None:
            out: dict[str, list[Item]] = {}
            for _, item in self.items.values():
                if item.for_firms:
                    out.setdefault(item.content, []).append(item)
            self._by_content = {k: tuple(v) for k, v in out.items()}
        return self._by_content

    def resolve(self, ref: str, programme: str | None = None) -> tuple[Item, ...]:
        """The rows a reference names, all of one content (ND80 Art. 4.2: choose among levels of one content).

        Raises ``AmbiguousReference`` when a group spans several contents (e.g. II.6.3: domestic and abroad).
        """
        rows = tuple(self.find(ref, programme))
        if len({r.content for r in rows}) > 1:
            raise AmbiguousReference(ref, rows)
        return rows

    def programmes_asking(self, flag: Flag) -> tuple[Programme, ...]:
        """The programmes with an item that can require ``flag`` (asked about only where one fits)."""
        if flag not in self._asking:
            self._asking[flag] = tuple(
                p
                for p in self.programmes.values()
                if any(flag in c.any_of for item in p.items for c in item.requires)
            )
        return self._asking[flag]

    def programme_of(self, item_id: str) -> Programme:
        return self.items[item_id][0]

    def item(self, item_id: str) -> Item:
        return self.items[item_id][1]

    def _pool(self, programme: str | None) -> list[Item]:
        return [it for pid, prog in self.programmes.items() if programme in (None, pid) for it in prog.items]

    def row(self, code: str, programme: str | None = None) -> Item | None:
        """The row with exactly this code."""
        return next((it for it in self._pool(programme) if it.code == code), None)

    def find(self, ref: str, programme: str | None = None) -> Sequence[Item]:
        """Items named by an id, a family ("III.A": its variant rows), a row code or a group."""
        key = (ref, programme)
        if key not in self._found:
            self._found[key] = self._find(ref, programme)
        return self._found[key]

    def families(self) -> dict[str, tuple[Item, ...]]:
        """Every support an owner can choose (family key -> its rows), in catalogue order."""
        if self._families is None:
            self._families = self._group_families()
        return self._families

    def _group_families(self) -> dict[str, tuple[Item, ...]]:
        out: dict[str, list[Item]] = {}
        for _, item in self.items.values():
            if item.for_firms:
                out.setdefault(item.family_key, []).append(item)
        return {k: tuple(v) for k, v in out.items()}

    def _find(self, ref: str, programme: str | None) -> tuple[Item, ...]:
        if ref in self.items:
            return (self.items[ref][1],)
        pool = self._pool(programme)
        for matches in (
            [it for it in pool if it.family == ref],
            [it for it in pool if it.code == ref],
            [it for it in pool if it.code.startswith(ref + ".")],
        ):
            if matches:
                return tuple(matches)
        return ()


def load_catalogue(directory: Path = PROGRAMME_DIR) -> Catalogue:
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise CatalogueError(f"no programme files in {directory}")
    return Catalogue((load_programme(p) for p in paths), load_evidence(), load_contents())


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    return load_catalogue()
