"""rules.estimate: rate x cost, caps per unit and per year, used amounts (TT06 Art. 3.5), most favourable
size and row (TT06 Art. 3.2, ND80 Art. 4.2), and refusals as normal answers."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from rules.catalogue import DateKey, EntityType, Flag, default_catalogue
from rules.estimate import Profile, Used, amount, estimate
from rules.size import Size

CAT = default_catalogue()
TODAY = dt.date(2026, 6, 1)
STARTUP = frozenset({Flag.startup})
YOUNG = ((DateKey.first_registration, dt.date(2024, 1, 15)),)  # a start-up registered 2.5 years ago


def test_most_favourable_size_tt06_art3_2() -> None:
    # micro by revenue, small by capital: for a 200 M contract small (50 % up to 100 M) beats micro (50 M)
    profile = Profile((Size.micro, Size.small))
    est = estimate(CAT.find("III.A"), profile, 200_000_000, on=TODAY)
    assert (est.item.code, est.size, est.state_vnd, est.favourable_size) == (
        "III.A.2.1",
        Size.small,
        100_000_000,
        True,
    )
    # for a 40 M contract micro (100 %) beats small (50 %)
    est = estimate(CAT.find("III.A"), profile, 40_000_000, on=TODAY)
    assert (est.item.code, est.state_vnd, est.favourable_size) == ("III.A.1.1", 40_000_000, False)


def test_priority_variant_nd80_art13_2_point_a() -> None:
    est = estimate(
        CAT.find("III.A"), Profile((Size.micro,), frozenset({Flag.social_enterprise})), 90_000_000, on=TODAY
    )
    assert (est.item.code, est.state_vnd, est.enterprise_vnd) == ("III.A.1.2", 70_000_000, 20_000_000)


def test_used_this_year_is_deducted_tt06_art3_5() -> None:
    est = estimate(CAT.find("III.A"), Profile((Size.small,)), 200_000_000, used=Used(70_000_000), on=TODAY)
    assert est.state_vnd == 30_000_000
    assert est.amount is not None and est.amount.limited_by == "used"
    spent = estimate(CAT.find("III.A"), Profile((Size.small,)), 200_000_000, used=Used(150_000_000), on=TODAY)
    assert spent.eligible and spent.state_vnd == 0


def test_micro_not_covered_by_dx_consulting_nd80_art11_1() -> None:
    est = estimate(CAT.find("I.1"), Profile((Size.micro,)), 60_000_000, on=TODAY)
    assert not est.eligible
    assert est.refusal is not None and est.refusal.key == "eligibility.size"


def test_cluster_membership_required_nd80_art25() -> None:
    est = estimate(CAT.find("IV.2.2"), Profile((Size.small,)), 60_000_000, on=TODAY)
    assert not est.eligible and est.refusal is not None and est.refusal.key == "eligibility.requires"
    flags = frozenset({Flag.value_chain, Flag.production_processing})
    ok = estimate(CAT.find("IV.2.2"), Profile((Size.small,), flags), 60_000_000, on=TODAY)
    assert ok.eligible and ok.state_vnd == 60_000_000


def test_not_an_sme_is_refused_nd80_art5() -> None:
    est = estimate(CAT.find("III.A"), Profile(()), 60_000_000, on=TODAY)
    assert not est.eligible and est.refusal is not None and est.refusal.key == "eligibility.not_sme"


def test_trainees_capped_per_trainee_and_count_nd80_art22_5() -> None:
    # 50 % up to 5 M per trainee, at most 3 trainees, 15 M per firm per year
    est = estimate(CAT.find("II.5.1"), Profile((Size.small,), STARTUP, dates=YOUNG), 12_000_000, 5, on=TODAY)
    assert est.amount is not None
    assert (est.amount.supported_units, est.state_vnd, est.enterprise_vnd) == (3, 15_000_000, 45_000_000)


def test_trade_fair_without_rate_up_to_the_amount_nd80_art22_6() -> None:
    est = estimate(CAT.find("II.6.3.1"), Profile((Size.micro,), STARTUP, dates=YOUNG), 25_000_000, on=TODAY)
    assert est.state_vnd == 25_000_000
    est = estimate(CAT.find("II.6.3.1"), Profile((Size.micro,), STARTUP, dates=YOUNG), 45_000_000, on=TODAY)
    assert est.state_vnd == 30_000_000


def test_rounded_down_to_the_dong() -> None:
    # 30 % of 333.333.333 = 99.999.999,9 -> 99.999.999
    est = estimate(CAT.find("III.A"), Profile((Size.medium,)), 333_333_333, on=TODAY)
    assert est.state_vnd == 99_999_999
    assert est.enterprise_vnd == 333_333_333 - 99_999_999


def test_unconfirmed_nd20_row_is_not_used_but_mentioned() -> None:
    est = estimate(CAT.find("T.I.2"), Profile((Size.small,)), 30_000_000, on=TODAY)
    assert est.item.code == "T.I.2" and est.state_vnd == 21_000_000
    assert est.unconfirmed_better is not None and est.unconfirmed_better.unconfirmed


def test_khuyen_cong_is_for_households_not_only_smes() -> None:
    profile = Profile((), frozenset({Flag.rural_industry}), EntityType.household)
    rows = [i for i in CAT.programmes["vinh-thuy-2026-khuyen-cong"].items if i.cap_vnd == 10_000_000]
    est = estimate(rows, profile, 15_000_000, on=dt.date(2026, 5, 1))
    assert est.eligible and est.state_vnd == 10_000_000
    assert not estimate(rows, profile, 15_000_000, on=dt.date(2027, 5, 1)).eligible  # programme ended


def test_nd80_items_refuse_households() -> None:
    est = estimate(CAT.find("III.A"), Profile((), entity_type=EntityType.household), 10_000_000, on=TODAY)
    assert not est.eligible and est.refusal is not None and est.refusal.key == "eligibility.entity_type"


FIRM_ITEMS = [i for _, i in CAT.items.values() if i.for_firms]


@given(
    st.sampled_from(FIRM_ITEMS),
    st.integers(min_value=0, max_value=10**12),
    st.integers(min_value=1, max_value=40),
    st.integers(min_value=0, max_value=10**9),
)
def test_state_never_exceeds_cap_rate_or_cost(item: object, cost: int, quantity: int, used: int) -> None:
    from rules.catalogue import Item

    assert isinstance(item, Item)
    result = amount(item, cost, quantity, Used(used))
    assert 0 <= result.state_vnd <= result.total_cost_vnd
    if result.cap_total_vnd is not None:
        assert result.state_vnd <= result.cap_total_vnd
    if item.rate_percent is not None:
        assert result.state_vnd * 100 <= item.rate_percent * cost * quantity
    assert result.state_vnd + result.enterprise_vnd == cost * quantity
    assert isinstance(result.state_vnd, int)
