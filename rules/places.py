"""Place names as owners and plans write them: "Xã Vĩnh Thủy" = "Vĩnh Thủy" = "vinh thuy"."""

from __future__ import annotations

from rules.text import fold

PREFIXES = ("Thành phố ", "Tỉnh ", "Phường ", "Xã ", "Đặc khu ")


def short_name(name: str) -> str:
    """ "Thành phố Hà Nội" -> "Hà Nội", "Xã Vĩnh Thủy" -> "Vĩnh Thủy": what owners type."""
    for prefix in PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def same_place(official: str, written: str) -> bool:
    """An official name (with its prefix) and a name as a plan or an agency writes it, accents optional."""
    return fold(short_name(official)) == fold(short_name(written))
