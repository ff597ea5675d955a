"""An outbox notification in the reader's language, formatted when it is delivered (a decision with the
amounts per item, the officer's reason and what to do next)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from locales import t
from rules.money import format_vnd


def render_notification(payload: Mapping[str, Any], lang: str) -> str:
    """An outbox message in the owner's language, formatted when it is delivered."""
    params = {
        k: (format_vnd(int(v), lang) if k.endswith("_vnd") else v)
        for k, v in dict(payload.get("params", {})).items()
    }
    text = t(str(payload["key"]), lang, **params)
    if payload.get("lines"):  # one line per entry, each a key and its parameters (an officer's reminder)
        return "\n".join([text, *(render_notification(line, lang) for line in payload["lines"])])
    decision = payload.get("decision")
    if decision == "approve":
        lines = [text]
        for item in payload.get("items", ()):
            approved = item.get("approved_vnd")
            lines.append(
                t(
                    "decision.item",
                    lang,
                    code=item["code"],
                    title=item.get(f"title_{lang}") or item.get("title_vi", ""),
                    approved=format_vnd(int(approved or 0), lang),
                    asked=format_vnd(int(item["state_vnd"]), lang),
                )
            )
        if payload.get("note"):
            lines.append(t("decision.reason", lang, note=payload["note"]))
        lines.append(t("decision.see", lang, ref=params.get("ref", "")))
        return "\n".join(lines)
    if decision == "reject":
        agency = payload.get(f"agency_{lang}") or payload.get("agency_vi") or "—"
        return "\n".join(
            [
                text,
                t("decision.next", lang, agency=agency),
                t("decision.see", lang, ref=params.get("ref", "")),
            ]
        )
    return text
