"""Every user-visible string exists in Vietnamese and English, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from locales import LANGUAGES, catalogue, catalogue_files, placeholders

ROOT = Path(__file__).resolve().parents[1]


def test_catalogues_have_the_same_keys() -> None:
    vi, en = catalogue("vi"), catalogue("en")
    assert set(vi) == set(en), sorted(set(vi) ^ set(en))


def test_placeholders_match() -> None:
    vi, en = catalogue("vi"), catalogue("en")
    for key in vi:
        assert placeholders(vi[key]) == placeholders(en[key]), key


def test_no_key_is_defined_twice_across_files() -> None:
    for lang in LANGUAGES:
        seen: dict[str, str] = {}
        for path in catalogue_files(lang):
            flat: dict[str, str] = {}

            def walk(prefix: str, node: object, flat: dict[str, str] = flat) -> None:
                if isinstance(node, dict):
                    for k, v in node.items():
                        walk(f"{prefix}.{k}" if prefix else str(k), v)
                else:
                    flat[prefix] = str(node)

            walk("", yaml.safe_load(path.read_text(encoding="utf-8")))
            for key in flat:
                assert key not in seen, f"{key} in {path.name} and {seen[key]}"
                seen[key] = path.name


def test_vietnamese_has_diacritics() -> None:
    vi = catalogue("vi")
    texts = [v for k, v in vi.items() if not k.startswith(("nav.numbered", "summary.", "choice.offer"))]
    with_marks = [
        v
        for v in texts
        if re.search(r"[àáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ]", v, re.I)
    ]
    assert len(with_marks) / len(texts) > 0.8


def test_every_key_used_in_code_exists() -> None:
    vi = catalogue("vi")
    pattern = re.compile(r"""(?:say|Msg|Invalid|t)\(\s*["']([a-z_]+\.[a-z_.]+)["']""")
    missing = set()
    for folder in ("conversations", "bot", "rules"):
        for path in (ROOT / folder).rglob("*.py"):
            for key in pattern.findall(path.read_text(encoding="utf-8")):
                if key not in vi:
                    missing.add(f"{path.name}: {key}")
    assert not missing, sorted(missing)
