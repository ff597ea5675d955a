"""The catalogue data: every Circular 06 Annex 4 "Biểu 2" row with its rate and cap; programmes as files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from rules.catalogue import CapUnit, CatalogueError, EntityType, Kind, default_catalogue, load_programme
from tests.annex4 import SEED, parse_seed, read_golden

ANNEX = read_golden()


def test_annex_has_every_row_from_I_1_1_to_IV_5_3() -> None:
    codes = [r.code for r in ANNEX]
    assert len(codes) == 53
    assert codes[0] == "I.1.1"
    assert codes[-1] == "IV.5.3"


@pytest.mark.skipif(not SEED.exists(), reason="the seed documents are not beside this checkout")
def test_annex_golden_file_matches_the_seed_tt06_annex4() -> None:
    assert parse_seed(SEED.read_text(encoding="utf-8")) == ANNEX


@pytest.mark.parametrize("row", ANNEX, ids=[r.code for r in ANNEX])
def test_catalogue_row_equals_the_annex_tt06_annex4(row: object) -> None:
    from tests.annex4 import AnnexRow

    assert isinstance(row, AnnexRow)
    item = default_catalogue().row(row.code, programme="nd80-national")
    assert item is not None, f"Annex row {row.code} missing from nd80-national"
    expected_rate = None if row.rate_percent is None else Decimal(row.rate_percent)
    assert item.rate_percent == expected_rate
    assert item.cap_vnd == row.amount_vnd
    assert item.basis.document == "ND80"
    assert item.title.vi and item.title.en


def test_annex_rows_cite_the_nd80_article_of_their_section() -> None:
    articles = {"I": 11, "II": 22, "III": 13, "IV": 25}
    for row in ANNEX:
        item = default_catalogue().row(row.code, programme="nd80-national")
        assert item is not None
        assert item.basis.article == articles[row.code.split(".")[0]], row.code


def test_consultant_network_rows_are_not_offered_to_firms() -> None:
    for code in ("III.B.1", "III.B.2", "III.B.3", "III.C"):
        item = default_catalogue().row(code)
        assert item is not None and not item.for_firms and item.kind is Kind.network


def test_notes_column_caps_trainees_and_months() -> None:
    cat = default_catalogue()
    domestic = cat.row("II.5.1")
    assert domestic and domestic.cap_unit is CapUnit.per_trainee_year
    assert (domestic.max_units, domestic.yearly_cap_vnd) == (3, 15_000_000)
    abroad = cat.row("II.5.2")
    assert abroad and (abroad.max_units, abroad.yearly_cap_vnd) == (2, 100_000_000)
    cluster = cat.row("IV.1.2")
    assert cluster and (cluster.max_units, cluster.yearly_cap_vnd) == (3, 30_000_000)
    rent = cat.row("II.1.2")
    assert rent and rent.cap_unit is CapUnit.per_month and rent.yearly_cap_vnd == 60_000_000


def test_nd80_art14_training_items_present() -> None:
    cat = default_catalogue()
    for code, rate in [("T.I.1", 100), ("T.I.2", 70), ("T.I.3", 70), ("T.I.4", 70), ("T.I.5", 100)]:
        item = cat.row(code)
        assert item is not None and item.kind is Kind.training and item.rate_percent == rate
        assert item.basis.article == 14


def test_unconfirmed_rows_say_why() -> None:
    for _, item in default_catalogue().items.values():
        if item.unconfirmed:
            assert item.note is not None and item.note.vi and item.note.en


def test_programmes_are_files() -> None:
    cat = default_catalogue()
    assert {"nd80-national", "quang-tri-2025-cluster", "vinh-thuy-2026-khuyen-cong"} <= set(cat.programmes)
    qt = cat.programmes["quang-tri-2025-cluster"]
    assert qt.region.level == "province" and qt.region.province == "Quảng Trị"
    vt = cat.programmes["vinh-thuy-2026-khuyen-cong"]
    assert vt.region.level == "commune"
    caps = sorted(i.cap_vnd or 0 for i in vt.items)
    assert caps == [10_000_000, 20_000_000, 20_000_000, 20_000_000]
    assert all(EntityType.household in i.entity_types for i in vt.items)


def test_every_item_has_evidence_known_to_the_checklist() -> None:
    cat = default_catalogue()
    for _, item in cat.items.values():
        if item.kind is Kind.khuyen_cong:  # Decree 45/2012: its own application, not the ND80 form
            assert "khuyen_cong_application" in item.evidence, item.id
        elif item.for_firms and item.kind is not Kind.training:
            assert "declaration_form" in item.evidence, item.id


BAD = """
id: bad-programme
title: {vi: "x", en: "x"}
authority: {vi: "x", en: "x"}
basis: [{document: ND80}]
region: {level: national}
valid_from: 2026-01-01
items:
  - id: broken-item
    code: "X.1"
    kind: consulting
    title: {vi: "x", en: "x"}
    basis: {document: ND80, article: 13}
    rate_percent: 150
    cap_unit: per_firm_year
    valid_from: 2026-01-01
"""


def test_validation_error_names_file_item_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad-programme.yaml"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(CatalogueError) as info:
        load_programme(path)
    message = str(info.value)
    assert "bad-programme.yaml" in message
    assert "broken-item" in message
    assert "rate_percent" in message


def test_float_rate_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "float.yaml"
    path.write_text(BAD.replace("rate_percent: 150", "rate_percent: 50.5"), encoding="utf-8")
    with pytest.raises(CatalogueError, match="float"):
        load_programme(path)
