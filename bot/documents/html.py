"""The dossier as one standalone HTML page: the view through ``locales/templates/dossier.html.j2``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

import locales
from bot.documents.view import dossier_view

TEMPLATES = Path(locales.__file__).parent / "templates"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def dossier_html(doc: dict[str, Any], lang: str = "vi") -> str:
    """A complete standalone UTF-8 page (inline styles, no external assets) of the dossier."""
    return _environment().get_template("dossier.html.j2").render(v=dossier_view(doc, lang))
