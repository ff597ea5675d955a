"""Checks of what owners type: tax code, phone, e-mail. Pure functions, no I/O."""

from __future__ import annotations

import re

TAX_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
_TAX = re.compile(r"^([0-9]{10})(?:-([0-9]{3}))?$")
# Vietnamese mobile prefixes after the 2018 renumbering: 03x, 05x, 07x, 08x, 09x.
_MOBILE = re.compile(r"^0(3[2-9]|5[2689]|7[06-9]|8[1-9]|9[0-9])[0-9]{7}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
#: A label people type before the value: "MST: 0100109106", "sđt 0912 345 678", "email: a@b.vn".
_LABEL = re.compile(
    r"^\s*(?:mst|mã số thuế|ma so thue|msdn|mã số doanh nghiệp|ma so doanh nghiep|mã số|ma so|tax code|"
    r"sđt|sdt|số điện thoại|so dien thoai|điện thoại|dien thoai|đt|dt|phone|tel|mobile|zalo|"
    r"e-mail|email|mail)\s*(?:là|la|is)?\s*[:.\-]?\s*",
    re.IGNORECASE,
)


def _unlabelled(text: str) -> str:
    return _LABEL.sub("", text, count=1).strip().rstrip(".")


def tax_check_digit(first_nine: str) -> int:
    """Check digit of an enterprise/tax code: 10 - (weighted sum mod 11); "10" is never valid."""
    total = sum(int(d) * w for d, w in zip(first_nine, TAX_WEIGHTS, strict=True))
    return 10 - total % 11


def normalize_tax_code(text: str) -> str | None:
    """ "0100109106" or "0100109106-001" (a branch) when the check digit holds; else None."""
    compact = re.sub(r"[\s.]", "", _unlabelled(text))
    match = _TAX.match(compact)
    if not match:
        return None
    code = match.group(1)
    if tax_check_digit(code[:9]) != int(code[9]):
        return None
    return compact


def normalize_phone(text: str) -> str | None:
    """Vietnamese mobile numbers: 0912 345 678, +84 912345678, 84912345678 -> 0912345678."""
    digits = re.sub(r"[\s.\-()]", "", _unlabelled(text))
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits if _MOBILE.match(digits) else None


def normalize_email(text: str) -> str | None:
    value = _unlabelled(text)
    return value.lower() if _EMAIL.match(value) else None


_PERSONAL_ID = re.compile(r"^(0[0-9]{2})[0-9]{9}$")


def normalize_personal_id(text: str) -> str | None:
    """A 12-digit personal identification number (căn cước): a household business's tax code since
    1 July 2025 (Circular 86/2024/TT-BTC). Its first three digits are a province code, 001 to 096."""
    compact = re.sub(r"[\s.]", "", _unlabelled(text))
    match = _PERSONAL_ID.match(compact)
    return compact if match and 1 <= int(match.group(1)) <= 96 else None


def normalize_firm_code(text: str) -> str | None:
    """An enterprise/tax code (10 digits, check digit) or a household's 12-digit personal ID."""
    return normalize_tax_code(text) or normalize_personal_id(text)
