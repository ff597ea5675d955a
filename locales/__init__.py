"""Message catalogues: Vietnamese first (``vi.yaml``), English complete (``en.yaml``).

Keys are dotted names; values are ``str.format`` templates. A missing key or parameter is a bug that
the catalogue test catches, never a crash in front of a user: :func:`t` falls back to Vietnamese, then
to the key itself.
"""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
_DIR = Path(__file__).parent


def _flatten(prefix: str, node: Any, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out)
    else:
        out[prefix] = str(node)


@lru_cache(maxsize=len(LANGUAGES))
def catalogue(lang: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for path in catalogue_files(lang):
        _flatten("", yaml.safe_load(path.read_text(encoding="utf-8")), out)
    return out


def catalogue_files(lang: str) -> list[Path]:
    """``vi.yaml`` then ``vi.<part>.yaml`` (the chat, the officer side...)."""
    return [_DIR / f"{lang}.yaml", *sorted(_DIR.glob(f"{lang}.*.yaml"))]


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def has(key: str) -> bool:
    return key in catalogue(DEFAULT_LANGUAGE)


def t(key: str, lang: str = DEFAULT_LANGUAGE, /, **params: Any) -> str:
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    template = catalogue(lang).get(key) or catalogue(DEFAULT_LANGUAGE).get(key)
    if template is None:
        return key
    return template.format(**params) if params else template
