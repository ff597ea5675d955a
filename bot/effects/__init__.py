"""What the shell does for the core's effects, inside the message's transaction.

Each effect type of :mod:`conversations.effects` has one runner, ``run(effect, ctx)``, registered by type
in the module of its concern: ``owner`` (consent, profile, filing, files, requests, messages),
``privacy`` (a copy of one's data, erasure, no consent), ``officer`` (moves, notes, audits,
reassignment, files, assignment, officers) and ``reports`` (/stats, /export). They write into the typed
:class:`Results`. Slow documents (a dossier's DOCX, a chart, an export) are recorded as requests and
rendered after the commit, in the worker pool (:func:`render_deferred`).
"""

from __future__ import annotations

from typing import get_args

from bot.effects import broadcasts, officer, owner, privacy, programmes, reports
from bot.effects.base import (
    DOCX,
    RUNNERS,
    XLSX,
    ChartDocument,
    Ctx,
    Deferred,
    Document,
    DossierDocuments,
    Env,
    ExportDocuments,
    Results,
    deferred_from_json,
    deferred_to_json,
    run,
)
from bot.effects.notifications import render_notification
from bot.effects.reports import render_chart, render_export
from bot.effects.views import document_data, render_dossier_documents
from conversations.effects import Effect

_missing = {kind.__name__ for kind in get_args(Effect)} - {kind.__name__ for kind in RUNNERS}
if _missing:  # every effect the core may ask for has its runner, or the shell does not start
    raise TypeError(f"effects without a runner: {', '.join(sorted(_missing))}")

__all__ = [
    "DOCX",
    "RUNNERS",
    "XLSX",
    "ChartDocument",
    "Ctx",
    "Deferred",
    "Document",
    "DossierDocuments",
    "Env",
    "ExportDocuments",
    "Results",
    "broadcasts",
    "deferred_from_json",
    "deferred_to_json",
    "document_data",
    "officer",
    "owner",
    "privacy",
    "programmes",
    "render_chart",
    "render_dossier_documents",
    "render_export",
    "render_notification",
    "reports",
    "run",
]
