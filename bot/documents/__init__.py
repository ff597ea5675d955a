"""The documents the shell hands out, rendered from plain data (dicts, the catalogue): bytes or text out.

No database and no I/O: the effects hand these functions what the store read, and run them after the
commit (in the render workers for the dossier). One module per document:

- ``view``: every string of a dossier document in one language (:class:`DossierView`), from
  ``locales/*.documents.yaml``; ``html`` and ``docx`` lay it out (the Decree 80 annex form, the estimate,
  the checklist);
- ``plan_xlsx``: the year's plan in the layout of Circular 06 Annex 4 "Biểu 2" (the tree is ``rules.plan``);
  ``programme_xlsx``: the plan of a programme that is not Decree 80's (a commune khuyến công plan);
  ``sheet``: what the two workbooks share;
- ``csv``: the dossier list; ``charts``: the officer's statistics as a PNG (imported on its own: matplotlib).
"""

from __future__ import annotations

from bot.documents.csv import CSV_COLUMNS, dossiers_csv
from bot.documents.docx import dossier_docx
from bot.documents.html import dossier_html
from bot.documents.plan_xlsx import FIRST_DATA_ROW, NATIONAL, plan_xlsx
from bot.documents.programme_xlsx import programme_plan_xlsx
from bot.documents.view import Check, DossierView, EstimateRow, Line, dossier_view

__all__ = [
    "CSV_COLUMNS",
    "FIRST_DATA_ROW",
    "NATIONAL",
    "Check",
    "DossierView",
    "EstimateRow",
    "Line",
    "dossier_docx",
    "dossier_html",
    "dossier_view",
    "dossiers_csv",
    "plan_xlsx",
    "programme_plan_xlsx",
]
