"""The printable evaluation report of a pilot and period (PDF, ReportLab).

It is drawn from the same protected objects as the dashboard (``Dashboard`` and the
ESF+ tables): a suppressed cell is printed "<5". It says whether the period's figures are
frozen or provisional. It names organisations, territories
and months, never a person; the follow-up of the dimensions is printed without the
name of the coordinator who wrote it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from xml.sax.saxutils import escape

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .esf import SEXES, EsfTable
from .models import Pilot
from .presentation import Dashboard, Grid
from .sdc import SUPPRESSED, THRESHOLD, Cell

PAGE = landscape(A4)
PAGE_COMPRESSION = 1  # the tests read the text of an uncompressed report
HEADER_BLUE = colors.HexColor("#0b3d6e")


def _styles():
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("title", parent=base["Title"], fontSize=17, alignment=TA_LEFT, spaceAfter=4),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontSize=12.5, textColor=HEADER_BLUE, spaceBefore=8),
        "body": ParagraphStyle("body", parent=base["BodyText"], fontSize=9, leading=11.5),
        "small": ParagraphStyle("small", parent=base["BodyText"], fontSize=7.5, leading=9.5,
                                textColor=colors.HexColor("#333333")),
        "cell": ParagraphStyle("cell", parent=base["BodyText"], fontSize=7.5, leading=9),
        "head": ParagraphStyle("head", parent=base["BodyText"], fontSize=7.5, leading=9, textColor=colors.white,
                               fontName="Helvetica-Bold"),
    }


def _p(text, style) -> Paragraph:
    return Paragraph(escape(str(text)), style)


def _text(cell: Cell | None) -> str:
    if cell is None:
        return "—"
    return cell.as_text()


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], styles, widths=None) -> Table:
    data = [[_p(h, styles["head"]) for h in header]]
    data += [[_p(value, styles["cell"]) for value in row] for row in rows]
    table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_BLUE),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9aa5b1")),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f2f5f8")]),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def _grid(grid: Grid, styles) -> list:
    header = [grid.first_column, *[str(t.measure.label) for t in grid.measures]]
    rows = [[row.label, *[_text(c) for c in row.cells]] for row in grid.rows]
    first = 55 * mm
    rest = (PAGE[0] - 30 * mm - first) / max(1, len(grid.measures))
    return [_p(grid.title, styles["h2"]), _table(header, rows, styles, [first] + [rest] * len(grid.measures))]


def _footer(canvas, doc) -> None:
    canvas.saveState()
    canvas.setFont("Helvetica", 7.5)
    canvas.setFillColor(colors.HexColor("#4a5360"))
    canvas.drawString(15 * mm, 8 * mm, _("RIS · Informe de evaluación con datos agregados y secreto estadístico"))
    canvas.drawRightString(PAGE[0] - 15 * mm, 8 * mm, _("Página %(n)s") % {"n": doc.page})
    canvas.restoreState()


def pilot_report_pdf(*, pilot: Pilot, dashboard: Dashboard, esf_tables: Sequence[EsfTable],
                     follow_ups: Sequence[tuple[str, str, object]], data_state: str = "") -> bytes:
    styles = _styles()
    scope = dashboard.publication.scope
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=PAGE, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=14 * mm, bottomMargin=15 * mm,
        title=_("Informe de evaluación · %(name)s") % {"name": pilot.name}, author="RIS", lang="es",
        pageCompression=PAGE_COMPRESSION,
    )
    story: list = [
        _p(_("Informe de evaluación · %(name)s") % {"name": pilot.name}, styles["title"]),
        _p(_("Periodo: %(start)s – %(end)s · Selección: %(sel)s · Generado el %(now)s") % {
            "start": scope.start.strftime("%d/%m/%Y"), "end": scope.end.strftime("%d/%m/%Y"),
            "sel": dashboard.selection_label, "now": timezone.localtime().strftime("%d/%m/%Y %H:%M")},
            styles["body"]),
        _p(data_state, styles["body"]),
        Spacer(1, 4),
        _p(_("Secreto estadístico: «%(mark)s» indica un dato suprimido porque se basa en menos de %(n)s personas, "
             "o suprimido además para que no pueda deducirse otro a partir de los totales. Este informe no "
             "contiene datos de ninguna persona.") % {"mark": SUPPRESSED, "n": THRESHOLD}, styles["small"]),
        _p(_("El proyecto piloto"), styles["h2"]),
    ]
    organisations = ", ".join(o.name for o in scope.organisations)
    story.append(_table([_("Dato"), _("Valor")], [
        [_("Comunidad autónoma"), str(pilot.community)],
        [_("Organizaciones participantes"), organisations],
        [_("Fechas"), f"{pilot.start_date:%d/%m/%Y} – {pilot.end_date:%d/%m/%Y}" if pilot.end_date
         else f"{pilot.start_date:%d/%m/%Y} –"],
        [_("Financiación"), "; ".join(pilot.funding_labels) + (f" ({pilot.funding_reference})"
                                                              if pilot.funding_reference else "")],
        [_("Objetivos"), pilot.objectives],
    ], styles, [55 * mm, PAGE[0] - 30 * mm - 55 * mm]))

    story.append(_p(_("Indicadores de la plataforma · %(sel)s") % {"sel": dashboard.selection_label},
                    styles["h2"]))
    story.append(_table([_("Indicador"), _("Valor"), _("Definición")], [
        [str(table.measure.label), _text(cell), str(table.measure.definition)]
        for table, cell in dashboard.headline
    ], styles, [70 * mm, 22 * mm, PAGE[0] - 30 * mm - 92 * mm]))
    if dashboard.unavailable:
        story.append(Spacer(1, 3))
        story.append(_p(_("No disponibles: ") + "; ".join(
            f"{t.measure.label} ({t.reason})" for t in dashboard.unavailable), styles["small"]))
    if dashboard.trend is not None:
        story.extend(_grid(dashboard.trend, styles))
    story.extend(_grid(dashboard.by_territory, styles))
    story.extend(_grid(dashboard.by_organisation, styles))
    for grid in dashboard.extras:
        story.append(KeepTogether(_grid(grid, styles)))

    for table in esf_tables:
        header = [_("Indicador"), _("Referencia"), *[str(label) for _code, label in SEXES], _("Total")]
        rows = [[str(r.indicator.label) + (" *" if r.indicator.approximation else ""), r.indicator.reference,
                 *[_text(r.cells[code]) for code, _label in SEXES], _text(r.total)] for r in table.rows]
        story.append(_p(f"{_('FSE+')} · {table.title} ({table.population})", styles["h2"]))
        story.append(_table(header, rows, styles, [95 * mm, 35 * mm, 30 * mm, 30 * mm, 45 * mm, 25 * mm]))
    story.append(_p(_("* Aproximación a partir de los datos del registro: véase la definición en la "
                      "documentación de indicadores FSE+."), styles["small"]))

    story.append(_p(_("Seguimiento de las dimensiones clave (último registro de cada una)"), styles["h2"]))
    rows = []
    for _code, label, follow_up in follow_ups:
        if follow_up is None:
            rows.append([str(label), "—", _("Sin seguimiento registrado"), "", ""])
        else:
            rows.append([str(label), formats.date_format(follow_up.date, "d/m/Y"), follow_up.get_state_display(),
                         follow_up.obstacles, follow_up.success_factors])
    story.append(_table([_("Dimensión"), _("Fecha"), _("Estado"), _("Obstáculos"), _("Factores de éxito")], rows,
                        styles, [35 * mm, 22 * mm, 30 * mm, 90 * mm, 90 * mm]))
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()
