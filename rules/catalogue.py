"""The support catalogue: programmes and their items, loaded from ``rules/data/programmes/*.yaml``.

Every rate, cap and unit is data with its citation (DESIGN.md "Data, not code, for the law").
The data is validated when it is loaded; an error names the file, the item and the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from rules.items import (
    PRIORITY_GROUPS,
    QUANTITY_UNITS,
    AnyOf,
    CapUnit,
    Content,
    DateKey,
    EntityType,
    Entry,
    Evidence,
    Flag,
    Item,
    Kind,
    Procedure,
    Programme,
    Region,
    Target,
    TimeLimit,
)

__all__ = [
    "DATA_DIR",
    "PRIORITY_GROUPS",
    "PROGRAMME_DIR",
    "QUANTITY_UNITS",
    "AmbiguousReference",
    "AnyOf",
    "CapUnit",
    "Catalogue",
    "CatalogueError",
    "Content",
    "DateKey",
    "EntityType",
    "Entry",
    "Evidence",
    "Flag",
    "Item",
    "Kind",
    "Procedure",
    "Programme",
    "Region",
    "Target",
    "TimeLimit",
    "default_catalogue",
    "load_catalogue",
    "load_contents",
    "load_evidence",
    "load_programme",
    "parse_programme",
]

DATA_DIR = Path(__file__).parent / "data"
PROGRAMME_DIR = DATA_DIR / "programmes"


M = TypeVar("M", bound=Entry)


class CatalogueError(ValueError):
    """The catalogue data is wrong; the message names the file, the item and the field."""


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
