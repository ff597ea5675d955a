"""Issue 12: the rules of law behind the golden cases, checked on the data, the words and the CLI."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from rules import explain
from rules.catalogue import AmbiguousReference, DateKey, Flag, Procedure, default_catalogue
from rules.dates import DateError, parse_date
from rules.estimate import Profile, estimate
from rules.size import Size
from tests.test_cli_rules import smebot

CAT = default_catalogue()
TODAY = dt.date(2026, 6, 1)


def test_every_row_names_the_content_it_funds_nd80_art4_2() -> None:
    for _, item in CAT.items.values():
        assert item.content in CAT.contents, item.id


def test_quang_tri_rows_share_the_national_contents_nd80_art4_2() -> None:
    pairs = {
        "QT.1.1": "III.A.1.1",
        "QT.1.2": "IV.3.4",
        "QT.1.3": "IV.3.5",
        "QT.1.4": "IV.4.1.2",
        "QT.1.5": "IV.5.1",
    }
    for provincial, national in pairs.items():
        assert CAT.row(provincial) is not None and CAT.row(national) is not None
        assert CAT.row(provincial).content == CAT.row(national).content  # type: ignore[union-attr]


def test_every_consulting_content_needs_a_network_consultant_tt06_art3_9() -> None:
    consulting = {c.id for c in CAT.contents.values() if c.consulting}
    assert {
        "digital-consulting",
        "ip-establish",
        "tech-transfer-consulting",
        "consulting",
        "capacity-assessment",
        "technical-upgrade",
        "brand-promotion",
        "ecommerce-registration",
    } <= consulting
    for _, item in CAT.items.values():
        if item.for_firms:
            assert item.needs_network_consultant == (item.content in consulting), item.id
            if item.needs_network_consultant:
                assert "network_consultant_contract" in item.evidence, item.id


def test_cluster_rows_require_production_or_processing_tt06_art5_1_b() -> None:
    for _, item in CAT.items.values():
        needs_linkage = any({Flag.cluster, Flag.value_chain} & set(c.any_of) for c in item.requires)
        if needs_linkage:
            assert any(Flag.production_processing in c.any_of for c in item.requires), item.id


def test_a_group_resolves_only_within_one_content_nd80_art4_2() -> None:
    with pytest.raises(AmbiguousReference) as refused:
        CAT.resolve("II.6.3")
    assert [r.code for r in refused.value.rows] == ["II.6.3.1", "II.6.3.2"]
    assert [r.code for r in CAT.resolve("III.A")][:2] == ["III.A.1.1", "III.A.1.2"]


def test_procedure_per_content_nd80_art32() -> None:
    assert CAT.contents["consulting"].procedure is Procedure.request  # Art. 32.3.a: 14 working days
    assert CAT.contents["training-in-company"].procedure is Procedure.plan  # Art. 32.2: the agency's plan
    est = estimate(CAT.resolve("T.I.2"), Profile((Size.small,)), 30_000_000, on=TODAY)
    words = " ".join(explain.context_lines(est, CAT, "vi"))
    assert "khoản 2 Điều 32" in words and "14 ngày làm việc" in words  # "not the 14-day answer"


def test_training_rows_are_paid_by_spending_norms_not_unlimited() -> None:
    est = estimate(
        CAT.resolve("T.I.1"),
        Profile((Size.small,), dates=((DateKey.first_registration, TODAY),)),
        20_000_000,
        on=TODAY,
    )
    line = " ".join(explain.estimate_lines(est, "vi"))
    assert "Thông tư 52/2023/TT-BTC" in line and "không giới hạn" not in line
    assert "Circular 52/2023/TT-BTC" in " ".join(explain.estimate_lines(est, "en"))


def test_commune_plan_amounts_are_planned_not_a_rate() -> None:
    row = CAT.row("VT.1")
    assert row is not None and row.planned and row.rate_percent is None
    assert "Vĩnh Thủy" in row.basis.cite("vi")
    line = explain.item_line(row, "vi")
    assert "dự kiến" in line and "%" not in line


def test_evidence_citations_tt06_and_nd80() -> None:
    cite = {k: e.basis.cite("vi") for k, e in CAT.evidence.items()}
    assert cite["declaration_form"] == "Điểm a khoản 4 Điều 32 Nghị định 80/2021/NĐ-CP"
    assert cite["invoices"] == "Điểm c khoản 5 Điều 32 Nghị định 80/2021/NĐ-CP"
    assert cite["provider_quote"] == "Điểm a khoản 1 Điều 5 Thông tư 06/2022/TT-BKHĐT"
    assert cite["training_registration"] == "Mẫu 1 Phụ lục 3.3 Thông tư 06/2022/TT-BKHĐT"


def test_network_rows_cite_art13_1_as_seed_002_does_and_only_iii_c_stays_unconfirmed() -> None:
    network = {i.code: i for _, i in CAT.items.values() if i.content == "consultant-network"}
    assert not network["III.B.1"].unconfirmed and not network["III.B.2"].unconfirmed
    assert network["III.C"].unconfirmed


def test_time_limit_reason_names_the_dates_law04_art17_1() -> None:
    profile = Profile(
        (Size.micro,), frozenset({Flag.startup}), dates=((DateKey.first_registration, dt.date(2020, 1, 2)),)
    )
    est = estimate(CAT.resolve("II.3.3"), profile, 40_000_000, on=TODAY)
    reason = explain.refusal_text(est.refusal, "vi") if est.refusal else ""
    assert "02/01/2020" in reason and "02/01/2025" in reason and "Luật 04/2017/QH14" in reason


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("15/3/2022", dt.date(2022, 3, 15)),
        ("15-03-2022", dt.date(2022, 3, 15)),
        ("2022-03-15", dt.date(2022, 3, 15)),
        ("ngay 15 thang 3 nam 2022", dt.date(2022, 3, 15)),
        ("15.3.2022", dt.date(2022, 3, 15)),
    ],
)
def test_dates_as_owners_type_them(text: str, day: dt.date) -> None:
    assert parse_date(text) == day


@pytest.mark.parametrize(
    ("text", "code"), [("3/2022", "no_day"), ("31/2/2022", "invalid"), ("hom qua", "format")]
)
def test_dates_refused_with_a_reason(text: str, code: str) -> None:
    with pytest.raises(DateError) as refused:
        parse_date(text)
    assert refused.value.code == code


def test_cli_several_items_share_the_caps_and_report_a_total() -> None:
    out = smebot(
        "estimate",
        "--item",
        "IV.1.2=12trx2",
        "--item",
        "IV.1.2=12trx2",
        "--size",
        "small",
        "--cluster",
        "--production-processing",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    # 50% of 12 M, at most 10 M a trainee: two trainees 12 M, then only a third: 6 M (ND80 Art. 25.1.b)
    assert [e["state_vnd"] for e in data["items"]] == [12_000_000, 6_000_000]
    assert data["total_vnd"] == 18_000_000 and data["items"][1]["row"] == "IV.1.2"


def test_cli_group_of_two_contents_is_an_error_listing_the_rows() -> None:
    out = smebot("estimate", "--item", "II.6.3", "--cost", "40tr", "--size", "small", "--startup")
    assert out.returncode == 2 and "II.6.3.1" in out.stderr and "II.6.3.2" in out.stderr


def test_cli_items_mark_unconfirmed_rows() -> None:
    out = smebot("items")
    assert out.returncode == 0
    unconfirmed = [line for line in out.stdout.splitlines() if "CHƯA XÁC NHẬN" in line]
    assert any("T.I.2.N20" in line for line in unconfirmed)
