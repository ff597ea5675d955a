"""Tax code check digit, Vietnamese mobile numbers, e-mail (issue 4, step 2)."""

from __future__ import annotations

import pytest

from conversations.validators import normalize_email, normalize_phone, normalize_tax_code, tax_check_digit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0100109106", "0100109106"),
        ("0100109106-001", "0100109106-001"),
        ("0100 109 106", "0100109106"),
        ("0100109107", None),  # wrong check digit
        ("010010910", None),  # 9 digits
        ("0100109106-1", None),  # branch needs 3 digits
        ("abcdefghij", None),
    ],
)
def test_tax_code(text: str, expected: str | None) -> None:
    assert normalize_tax_code(text) == expected


def test_check_digit_weights() -> None:
    # 0*31+1*29+0*23+0*19+1*17+0*13+9*7+1*5+0*3 = 114; 114 mod 11 = 4; 10 - 4 = 6
    assert tax_check_digit("010010910") == 6


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("0321234567", "0321234567"),
        ("0212345678", None),
        ("091234567", None),
        ("hello", None),
    ],
)
def test_phone(text: str, expected: str | None) -> None:
    assert normalize_phone(text) == expected


def test_email() -> None:
    assert normalize_email(" Lien.He@GomViet.vn ") == "lien.he@gomviet.vn"
    assert normalize_email("no-at-sign") is None
