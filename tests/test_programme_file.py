"""A programme is a YAML file an officer can write: every error names its line, the item and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.catalogue import PROGRAMME_DIR, CatalogueError, parse_programme

QUANG_TRI = (PROGRAMME_DIR / "quang-tri-2025-cluster.yaml").read_text(encoding="utf-8")


def line_of(text: str, needle: str, nth: int = 1) -> int:
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == nth:
                return number
    raise AssertionError(needle)


@pytest.mark.parametrize("path", sorted(PROGRAMME_DIR.glob("*.yaml")), ids=lambda p: Path(p).stem)
def test_shipped_programmes_parse(path: Path) -> None:
    programme = parse_programme(path.read_text(encoding="utf-8"), path.name)
    assert programme.items and programme.target.entity_types


def test_errors_name_the_line_the_item_and_the_field() -> None:
    bad = QUANG_TRI.replace("    rate_percent: 100\n", "    rate_percent: 150\n", 1)
    bad = bad.replace("cap_unit: per_contract_year", "cap_unit: per_contrakt", 1)
    with pytest.raises(CatalogueError) as refused:
        parse_programme(bad, "qt.yaml")
    message = str(refused.value)
    assert (
        f"line {line_of(bad, 'rate_percent: 150')}: item 'qt-consulting-micro' field rate_percent" in message
    )
    assert f"line {line_of(bad, 'per_contrakt')}: item 'qt-ip-domestic' field cap_unit" in message


def test_a_missing_target_and_bad_yaml_are_said_plainly() -> None:
    without_target = QUANG_TRI.replace("target:\n", "targets:\n", 1)
    with pytest.raises(CatalogueError, match="target"):
        parse_programme(without_target, "qt.yaml")
    with pytest.raises(CatalogueError, match="not valid YAML"):
        parse_programme("items: [\n", "broken.yaml")
