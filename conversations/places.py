"""The administrative map since 1 July 2025 (34 provinces, communes/wards), from `vietnam-provinces`."""

from __future__ import annotations

from functools import lru_cache

from vietnam_provinces import Province, ProvinceCode, Ward

from rules.places import short_name

__all__ = ["commune_name", "communes", "province_name", "provinces", "short_name"]


@lru_cache(maxsize=1)
def provinces() -> tuple[tuple[int, str], ...]:
    return tuple((int(p.code), p.name) for p in Province.iter_all())


@lru_cache(maxsize=64)
def communes(province_code: int) -> tuple[tuple[int, str], ...]:
    if province_code not in _province_names():
        return ()
    return tuple(
        sorted(
            ((int(w.code), w.name) for w in Ward.iter_by_province(ProvinceCode(province_code))),
            key=lambda x: x[1],
        )
    )


@lru_cache(maxsize=1)
def _province_names() -> dict[int, str]:
    return dict(provinces())


@lru_cache(maxsize=64)
def _commune_names(province_code: int) -> dict[int, str]:
    return dict(communes(province_code))


def province_name(code: int) -> str:
    return _province_names().get(code, "")


def commune_name(province_code: int, code: int) -> str:
    return _commune_names(province_code).get(code, "")
