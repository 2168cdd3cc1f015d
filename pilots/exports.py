"""CSV and XLSX downloads of a pilot's protected publication.

The rows are built from ``Cell.shown`` only: a suppressed cell is written as "<5",
never as its value, and there is no column that could carry a person (no name,
document or identifier: the only identifiers are of indicators, organisations,
territories and months).

A download holds the dashboard's selection: the period, and the territory or the
organisation if one is chosen (then its cells only), and says so in its first rows (the
information sheet of an XLSX, the header rows of a CSV), with whether its figures are
frozen or provisional; its file name says the same (``download_filename``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sharing.categories import BY_CODE

from .esf import SEXES, EsfTable
from .indicators import Publication, Scope
from .periods import Period
from .sdc import SUPPRESSED, THRESHOLD, Cell

BASIS_LABELS = {
    "consent": gettext_lazy("Consentimiento"),
    "legal_basis": gettext_lazy("Base jurídica"),
    "own_service": gettext_lazy("Servicio propio"),
    "break_glass": gettext_lazy("Acceso de emergencia"),
}


@dataclass
class Sheet:
    title: str
    header: list[str]
    rows: list[list]


def month_label(month) -> str:
    return month.strftime("%m/%Y")


def cell_value(cell: Cell | None):
    """What a download carries for a cell: the number, "<5", or empty (no data)."""
    if cell is None or cell.value is None and not cell.suppressed:
        return ""
    return SUPPRESSED if cell.suppressed else cell.value


def extra_label(dim: str, key: str) -> str:
    if dim == "category":
        category = BY_CODE.get(key)
        return category.label if category else (key or _("Sin categoría"))
    if dim == "basis":
        return str(BASIS_LABELS.get(key, key or _("Sin base")))
    return key or "—"


def download_filename(*, kind: str, pilot_code: str, period: Period, selection: str = "", provisional: bool,
                      version: int = 1, extension: str) -> str:
    """``ris-<kind>-<pilot>-<period>[-<selection>][-provisional|-vN].<extension>``, in plain
    ASCII (slugified): e.g. ``ris-indicadores-piloto-toledo-2026-T1-toledo.xlsx``."""
    parts = ["ris", slugify(kind), slugify(pilot_code), period.file_code]
    if selection:
        parts.append(slugify(selection))
    if provisional:
        parts.append("provisional")
    elif version > 1:
        parts.append(f"v{version}")
    name = "-".join(part for part in parts if part)
    return f"{name[:150]}.{extension}"


def metadata(scope: Scope, pilot, title: str, selection: str, state: str = "") -> list[list[str]]:
    rows = [
        [title],
        [_("Proyecto piloto"), pilot.name],
        [_("Periodo"), f"{scope.start:%d/%m/%Y} – {scope.end:%d/%m/%Y}"],
        [_("Selección"), selection],
        [_("Estado de los datos"), state],
        [_("Generado"), timezone.localtime().strftime("%d/%m/%Y %H:%M")],
        [_("Secreto estadístico"),
         _("«%(mark)s»: dato suprimido porque se basa en menos de %(n)s personas, o para que no pueda "
           "deducirse otro dato suprimido a partir de los totales. Los datos se publican por mes, trimestre o "
           "año naturales, o para todo el piloto, y todos esos periodos se protegen a la vez: restar periodos, "
           "territorios u organizaciones no permite deducir un dato suprimido.") % {
             "mark": SUPPRESSED, "n": THRESHOLD}],
    ]
    return rows


def indicator_sheet(publication: Publication, *, organisation_id: int | None = None,
                    territory: str | None = None) -> Sheet:
    """The cells of the selection: the whole pilot (every breakdown), a territory (its total,
    its months and its organisations) or an organisation (its total and its months). The
    "Total" rows are the selection's total, as in the dashboard's headline."""
    scope = publication.scope
    orgs = {o.id: o.name for o in scope.organisations}
    territories = scope.territory_labels
    if organisation_id is not None:
        shown_orgs: list[int] = [organisation_id]
    elif territory is not None:
        shown_orgs = scope.orgs_in(territory)
    else:
        shown_orgs = scope.org_ids
    whole = organisation_id is None and territory is None
    header = [_("Código"), _("Indicador"), _("Desglose"), _("Valor del desglose"), _("Valor")]
    rows: list[list] = []
    for table in publication.tables.values():
        measure = table.measure
        base = [measure.code, str(measure.label)]
        if not table.available:
            rows.append([*base, _("Total"), "", str(_("no disponible"))])
            continue
        total, months = table.selection(organisation_id=organisation_id, territory=territory)
        rows.append([*base, _("Total"), "", cell_value(total)])
        for month, cell in sorted(months.items()):
            rows.append([*base, _("Mes"), month_label(month), cell_value(cell)])
        if organisation_id is None:
            for org_id in shown_orgs:
                rows.append([*base, _("Organización"), orgs.get(org_id, ""), cell_value(table.by_org.get(org_id))])
        if whole:
            for code, cell in table.by_territory.items():
                rows.append([*base, _("Territorio"), territories.get(code, code), cell_value(cell)])
        if organisation_id is None:
            for org_id in shown_orgs:
                for month, cell in sorted(table.org_month.get(org_id, {}).items()):
                    rows.append([*base, _("Organización y mes"), f"{orgs.get(org_id, '')} · {month_label(month)}",
                                 cell_value(cell)])
        if whole:
            for code, by_month in table.territory_month.items():
                for month, cell in sorted(by_month.items()):
                    rows.append([*base, _("Territorio y mes"),
                                 f"{territories.get(code, code)} · {month_label(month)}", cell_value(cell)])
            labels = {dim: str(label) for dim, _column, label in table.source.extra_dims}
            for dim, cells in table.extra.items():
                for key, cell in sorted(cells.items()):
                    rows.append([*base, labels.get(dim, dim), extra_label(dim, key), cell_value(cell)])
    return Sheet(_("Indicadores"), header, rows)


def esf_sheet(tables: Sequence[EsfTable]) -> Sheet:
    header = [_("Tabla"), _("Código"), _("Indicador"), _("Referencia (Reglamento (UE) 2021/1057)"),
              *[str(label) for _code, label in SEXES], _("Total"), _("Aproximación")]
    rows = []
    for table in tables:
        for row in table.rows:
            indicator = row.indicator
            rows.append([
                str(table.title), indicator.code, str(indicator.label), indicator.reference,
                *[cell_value(row.cells[code]) for code, _label in SEXES], cell_value(row.total),
                _("sí") if indicator.approximation else _("no"),
            ])
    return Sheet(_("FSE+ participantes"), header, rows)


def definitions_sheet(publication: Publication | None, tables: Sequence[EsfTable] = ()) -> Sheet:
    rows = []
    if publication is not None:
        for table in publication.tables.values():
            reason = "" if table.available else str(table.reason)
            rows.append([table.measure.code, str(table.measure.label), str(table.measure.definition), reason])
    for table in tables:
        for row in table.rows:
            rows.append([row.indicator.code, str(row.indicator.label), str(row.indicator.definition), ""])
    return Sheet(_("Definiciones"), [_("Código"), _("Indicador"), _("Definición"), _("Disponibilidad")], rows)


def to_csv(meta: list[list], sheet: Sheet) -> bytes:
    """Semicolon-separated, UTF-8 with BOM and decimal comma: what a spreadsheet in Spanish expects."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for line in meta:
        writer.writerow(line)
    writer.writerow([])
    writer.writerow(sheet.header)
    for row in sheet.rows:
        writer.writerow([_csv_value(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_value(value):
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return value


def to_xlsx(meta: list[list], sheets: Iterable[Sheet]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    about = workbook.active
    about.title = _("Información")[:31]
    for line in meta:
        about.append(line)
    about["A1"].font = Font(bold=True, size=13)
    about.column_dimensions["A"].width = 22
    about.column_dimensions["B"].width = 90
    for sheet in sheets:
        worksheet = workbook.create_sheet(sheet.title[:31])
        worksheet.append(sheet.header)
        for cell in worksheet[1]:
            cell.font = Font(bold=True)
        for row in sheet.rows:
            worksheet.append(row)
        worksheet.freeze_panes = "A2"
        for column in ("A", "B", "C", "D"):
            worksheet.column_dimensions[column].width = 28
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

