"""ND80 Art. 32.3.a: the answer is due within 14 working days, counted on Vietnam's calendar."""

from __future__ import annotations

import datetime as dt

from rules.deadline import Calendar, review_deadline, review_rule

D = dt.date


def test_rule_is_data_with_its_citation_nd80_art32_3_a() -> None:
    rule = review_rule()
    assert rule.working_days == 14
    assert rule.basis.cite("vi") == "Điểm a khoản 3 Điều 32 Nghị định 80/2021/NĐ-CP"


def test_across_tet_2027_and_weekends() -> None:
    # Filed Friday 29 Jan 2027. Working days: 1-3 Feb; Tết 4-10 Feb (public holidays); 11, 12 Feb;
    # 15-19 Feb; 22-25 Feb -> the 14th working day is Thursday 25 Feb 2027.
    deadline = review_deadline(D(2027, 1, 29), D(2027, 1, 29), Calendar())
    assert deadline.due == D(2027, 2, 25)
    assert deadline.days_left == 14
    assert review_deadline(D(2027, 1, 29), D(2027, 2, 10), Calendar()).days_left == 11  # Tết counts nothing
    assert review_deadline(D(2027, 1, 29), D(2027, 2, 25), Calendar()).days_left == 0
    late = review_deadline(D(2027, 1, 29), D(2027, 3, 1), Calendar())  # Mon: Fri 26 + Mon 1 over
    assert late.overdue and late.days_left == -2


def test_an_extra_day_off_moves_the_deadline() -> None:
    plain = review_deadline(D(2026, 12, 1), D(2026, 12, 1), Calendar())
    assert plain.due == D(2026, 12, 21)  # 2-4, 7-11, 14-18, 21 December 2026
    bridged = review_deadline(D(2026, 12, 1), D(2026, 12, 1), Calendar([D(2026, 12, 4)]))
    assert bridged.due == D(2026, 12, 22)


def test_weekend_is_not_a_working_day() -> None:
    cal = Calendar()
    assert not cal.is_working_day(D(2026, 12, 5))  # Saturday
    assert not cal.is_working_day(D(2026, 9, 2))  # National Day
    assert cal.is_working_day(D(2026, 12, 7))
    assert cal.working_days_between(D(2026, 12, 4), D(2026, 12, 7)) == 1
