"""/stats and /export: the transaction records what to draw and tabulate, as plain data (the year, the
agency, the rows); the PNG, the XLSX and the CSV are rendered after the commit, in the worker pool
(:func:`render_chart`, :func:`render_export`), never while the writer holds the database."""

from __future__ import annotations

from bot import documents
from bot.documents.charts import stats_png
from bot.effects.base import XLSX, ChartDocument, Ctx, Document, ExportDocuments, runs
from bot.effects.views import csv_row, export_item, status_at
from bot.store import dossiers as dossiers_store
from conversations.effects import Chart, Export
from locales import t
from rules.catalogue import Catalogue
from rules.dossier import OPEN


@runs(Chart)
def chart(e: Chart, ctx: Ctx) -> None:
    lang = ctx.lang
    series = tuple((t(f"status.{k}", lang), int(v)) for k, v in e.series)
    title = t(e.title_key, lang, year=e.year)
    request = ChartDocument(e.year, title, t("officer.chart_axis", lang), series, lang)
    ctx.results.documents["chart"] = [request]


def render_chart(request: ChartDocument) -> list[Document]:
    """Pure CPU (matplotlib), no session: run in the worker pool."""
    png = stats_png(request.title, dict(request.series), request.lang, xlabel=request.xlabel)
    return [Document(f"smebot-stats-{request.year}.png", png, "image/png")]


@runs(Export)
def export(e: Export, ctx: Ctx) -> None:
    """Which dossiers count, on which sheet, and the summary the officer reads: a short read and counts."""
    env, lang = ctx.env, ctx.lang
    year, on = e.year, env.today
    _, agency = env.staff.role(ctx.s, ctx.key)
    dossiers = [
        d for d in dossiers_store.agency_dossiers(ctx.s, agency.id if agency else None) if d.year == year
    ]
    at_date = [(d, status_at(d, on)) for d in dossiers]
    counted = [(d, st) for d, st in at_date if st is not None]
    approved_d = [d for d, st in counted if st == "approved"]
    open_d = [d for d, st in counted if st in OPEN]
    approved = tuple(export_item(i, i.approved_vnd or 0) for d in approved_d for i in d.items)
    submitted = tuple(export_item(i, i.state_vnd) for d in open_d for i in d.items)
    agency_name = agency.name(lang) if agency else t("doc.all_agencies", lang)
    date = on.strftime("%d/%m/%Y")
    scopes = (
        t("export.scope_approved", lang, date=date, count=len(approved_d)),
        t("export.scope_submitted", lang, date=date, count=len(open_d)),
    )
    programmes: tuple[str, ...] | None = None
    if agency is not None and documents.NATIONAL not in agency.programmes:
        programmes = tuple(sorted(agency.programmes))
        known = env.catalogue.programmes
        titles = [known[p].title.get(lang) for p in programmes if p in known]
        layout = t("export.layout_programme", lang, programmes="; ".join(titles))
    else:
        layout = t("export.layout_annex4", lang)
    sheet_of = {st: t("doc.plan.sheet_submitted", lang) for st in OPEN}
    sheet_of["approved"] = t("doc.plan.sheet_approved", lang)
    rows = tuple(
        {**csv_row(d, env), "status": st or "", "sheet": sheet_of.get(st or "", "")} for d, st in at_date
    )
    closed = len(counted) - len(approved_d) - len(open_d)
    ctx.results.export_summary = t(
        "export.summary",
        lang,
        year=year,
        date=date,
        count=len(counted),
        approved=len(approved_d),
        open=len(open_d),
        closed=closed,
        layout=layout,
    )
    request = ExportDocuments(year, lang, agency_name, programmes, approved, submitted, scopes, rows)
    ctx.results.documents["export"] = [request]


def render_export(request: ExportDocuments, catalogue: Catalogue) -> list[Document]:
    """Pure CPU (openpyxl, csv), no session: run in the worker pool."""
    r = request
    if r.programmes is not None:
        workbook = documents.programme_plan_xlsx(
            catalogue,
            list(r.programmes),
            list(r.approved),
            list(r.submitted),
            agency=r.agency,
            year=r.year,
            scopes=r.scopes,
            lang=r.lang,
        )
    else:
        workbook = documents.plan_xlsx(
            catalogue,
            list(r.approved),
            list(r.submitted),
            agency=r.agency,
            year=r.year,
            lang=r.lang,
            scopes=r.scopes,
        )
    return [
        Document(f"smebot-ke-hoach-{r.year}.xlsx", workbook, XLSX),
        Document(f"smebot-ho-so-{r.year}.csv", documents.dossiers_csv(list(r.rows)), "text/csv"),
    ]
