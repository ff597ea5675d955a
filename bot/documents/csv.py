"""The dossier list as CSV: one line per dossier, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

CSV_COLUMNS = (
    "ref",
    "status",
    "filed_on",
    "firm",
    "tax_code",
    "province",
    "commune",
    "size",
    "total_state_vnd",
    "approved_vnd",
    "agency",
    "sheet",  # the plan sheet that counts it at the export date (none: rejected, withdrawn, later)
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, int | Decimal):
        return str(value)
    text = str(value)
    # A spreadsheet runs a cell that starts like a formula; a firm's name must stay text (CSV injection).
    return "'" + text if text.startswith(_FORMULA_START) else text


def dossiers_csv(rows: list[dict[str, Any]]) -> bytes:
    """One line per dossier, UTF-8 with a BOM so that Excel shows Vietnamese correctly."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(row.get(column)) for column in CSV_COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")
