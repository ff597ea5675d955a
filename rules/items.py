"""The shape of the law as data: support items, programmes with their targets, support contents, evidence.

Every rate, cap and unit is data with its citation (DESIGN.md "Data, not code, for the law"); these models
validate it when it is loaded.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rules.legal import Basis, Text
from rules.size import Size


class Entry(BaseModel):
    """An entry of a data list, known by its id (a content, an evidence document)."""

    id: str


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
