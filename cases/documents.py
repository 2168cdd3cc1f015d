"""Documents to print and sign, as PDF (reportlab: a pure-Python wheel, decision 0009).

Every document is built from what the printing user may see: the social report from the
record page model (``cases.record_views.record_page`` over ``sharing.record.record_for``),
the referral summary and the joint plan from ``coordination``'s filtered views, the
consent receipt from the consent (metadata of the sharing, seen by every organisation
attending the person). Printing is an export: ``export_logged`` writes the disclosure
log line with event "export".
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ris.accounts.viewer import Viewer
from sharing.disclosure import LogLine, disclosure_log_append
from sharing.models import Channel, DisclosureLogEntry

_STYLES = getSampleStyleSheet()
TITLE = ParagraphStyle("ris-title", parent=_STYLES["Title"], fontSize=17, spaceAfter=6)
H2 = ParagraphStyle("ris-h2", parent=_STYLES["Heading2"], fontSize=12.5, spaceBefore=10, spaceAfter=4,
                    textColor=colors.HexColor("#0b3d6e"))
H3 = ParagraphStyle("ris-h3", parent=_STYLES["Heading3"], fontSize=10.5, spaceBefore=6, spaceAfter=2)
BODY = ParagraphStyle("ris-body", parent=_STYLES["BodyText"], fontSize=9.5, leading=12.5)
SMALL = ParagraphStyle("ris-small", parent=BODY, fontSize=8, leading=10, textColor=colors.HexColor("#4a5360"))
CENTER = ParagraphStyle("ris-center", parent=SMALL, alignment=TA_CENTER)

_GRID = TableStyle([
    ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5b1")),
    ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f5f8")),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), 4),
    ("RIGHTPADDING", (0, 0), (-1, -1), 4),
])
_HEADED = TableStyle([
    ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5b1")),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e1e8f0")),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
])


def p(text, style=BODY) -> Paragraph:
    """A paragraph of plain text (escaped: values never become markup)."""
    return Paragraph(escape(str(text if text not in (None, "") else "—")).replace("\n", "<br/>"), style)


def key_values(rows: Iterable[tuple[str, str]], widths=(5.2 * cm, 11.8 * cm)) -> Table:
    table = Table([[p(k, BODY), p(v, BODY)] for k, v in rows], colWidths=list(widths))
    table.setStyle(_GRID)
    return table


def headed_table(header: list[str], rows: list[list[str]], widths: list[float]) -> Table:
    table = Table([[p(h, BODY) for h in header], *[[p(c, BODY) for c in row] for row in rows]],
                  colWidths=widths, repeatRows=1)
    table.setStyle(_HEADED)
    return table


def _signatures(left: str, right: str) -> Table:
    table = Table([[p(left, SMALL), p(right, SMALL)], ["", ""]], colWidths=[8.5 * cm, 8.5 * cm],
                  rowHeights=[None, 2.2 * cm])
    table.setStyle(TableStyle([("BOX", (0, 1), (0, 1), 0.5, colors.grey), ("BOX", (1, 1), (1, 1), 0.5, colors.grey)]))
    return table


def _build(story: list, *, title: str) -> bytes:
    buffer = io.BytesIO()
    printed = timezone.localtime().strftime("%d/%m/%Y %H:%M")

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(colors.HexColor("#4a5360"))
        canvas.drawString(2 * cm, 1.2 * cm, _("RIS · Documento confidencial con datos personales (RGPD, LOPDGDD). "
                                              "Impreso el %(d)s.") % {"d": printed})
        canvas.drawRightString(A4[0] - 2 * cm, 1.2 * cm, _("Página %(n)s") % {"n": doc.page})
        canvas.restoreState()

    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=2 * cm, rightMargin=2 * cm, topMargin=1.8 * cm,
                            bottomMargin=2 * cm, title=title, author="RIS", lang="es-ES")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def export_logged(*, viewer: Viewer, person_id: int, purpose: str, what: str, request_id: str = "") -> None:
    """The disclosure log line of a printed document (event "export")."""
    disclosure_log_append([
        LogLine(event=DisclosureLogEntry.Event.EXPORT, channel=Channel.EXPORT, user_id=viewer.user_id,
                organisation_id=viewer.organisation_id, role=viewer.role, person_id=person_id, purpose=purpose,
                basis=f"documento:{what}", request_id=request_id)
    ])


# --- Informe social -----------------------------------------------------------------------------------


def _block_story(block) -> list:
    """One category of the record: its entries at full, the indicator sentence at indicator."""
    story = [p(f"{block.label} · {block.source_label}", H3)]
    if block.level != "full":
        story.append(p(_("Hay información en el área «%(area)s» registrada por %(service)s.")
                       % {"area": block.label, "service": block.source_label}, BODY))
        return story
    if not block.entries:
        story.append(p(_("Sin anotaciones."), SMALL))
    for entry in block.entries:
        if entry["kind"] == "household":
            rows = [[m["name"], m["relationship"], m["birth_date_text"], _("Sí") if m["minor"] else _("No")]
                    for m in entry["members"]]
            story.append(headed_table([_("Nombre"), _("Parentesco"), _("Nacimiento"), _("Menor")], rows,
                                      [6 * cm, 4 * cm, 3.5 * cm, 3.5 * cm]))
        elif entry["kind"] == "economy":
            story.append(key_values([
                (_("Ingresos mensuales del hogar"), entry["income_text"]),
                (_("Gastos mensuales del hogar"), entry["expenses_text"]),
                (_("Régimen de tenencia"), entry.get("housing_tenure") or "—"),
                (_("Carencias materiales y sociales"),
                 "; ".join(i["label"] for i in entry.get("deprivation_items", [])) or "—"),
                (_("Fecha de los datos"), entry["recorded_on_text"]),
            ]))
        else:
            heading = f"{capfirst(entry['type'])} · {entry['recorded_by_org']} · {entry['recorded_at_text']}"
            story.append(p(heading, SMALL))
            story.append(key_values([(capfirst(f["label"]), f["text"]) for f in entry["fields"]]))
        story.append(Spacer(1, 4))
    if block.view.restricted_information:
        story.append(p(_("Hay además información restringida por el servicio que la registró."), SMALL))
    return story


def social_report(*, page, viewer: Viewer, author: str, purpose_label: str) -> bytes:
    """Informe social: only what ``page`` (built from the viewer's filtered record) holds."""
    person = page.person
    name = person.get("full_name") or _("Persona %(id)s") % {"id": person.get("id")}
    story = [
        p(_("Informe social"), TITLE),
        p(_("Elaborado por %(who)s · %(org)s · %(role)s. Finalidad: %(purpose)s.")
          % {"who": author, "org": viewer.organisation_name, "role": viewer.role_label, "purpose": purpose_label},
          SMALL),
        p(_("Contiene solo la información que su autor/a puede ver de la historia social única."), SMALL),
        p(_("Ficha básica"), H2),
    ]
    if page.sheet_full:
        story.append(key_values([
            (_("Nombre y apellidos"), name),
            (_("Documento"), page.document_text),
            (_("Fecha de nacimiento"), page.birth_date_text),
            (_("Domicilio"), " ".join(x for x in (person.get("address_line"), person.get("postal_code"),
                                                   person.get("municipality")) if x)),
            (_("Teléfono y correo"), " ".join(x for x in (person.get("phone"), person.get("email")) if x)),
            (_("Nivel de formación"), person.get("education_level") or "—"),
            (_("Profesionales de referencia"),
             "; ".join(f"{r['professional']} ({r['organisation']})"
                       for r in person.get("reference_professionals", []))),
        ]))
    else:
        story.append(p(_("Sin acceso a la ficha básica."), BODY))

    story.append(p(_("Unidad de convivencia"), H2))
    if page.household:
        if page.minors is not None:
            story.append(p(_("Menores en el hogar: %(n)s.") % {"n": page.minors}, BODY))
        for block in page.household:
            story.extend(_block_story(block))
    else:
        story.append(p(_("No consta."), BODY))

    story.append(p(_("Mapa de prestaciones"), H2))
    story.append(headed_table(
        [_("Sistema"), _("Prestación"), _("¿La percibe?")],
        [[row.system, row.label, row.answer_text] for row in page.benefits],
        [4.5 * cm, 7.5 * cm, 5 * cm],
    ))
    for row in page.benefits:
        if row.block is not None and row.block.level == "full" and row.block.entries:
            story.extend(_block_story(row.block))

    for group in page.services:
        blocks = [b for b in group.blocks if b.level != "full" or b.entries]  # no empty areas on paper
        if blocks:
            story.append(p(_("Información de %(service)s") % {"service": group.service_label}, H2))
            for block in blocks:
                story.extend(_block_story(block))

    if page.diary:
        story.append(p(_("Diario de atenciones"), H2))
        for group in page.diary:
            story.append(p(group.service_label, H3))
            if group.professionals:
                story.append(p(_("Profesional de referencia: %(p)s") % {"p": "; ".join(group.professionals)}, SMALL))
            if group.block is not None:
                story.extend(_block_story(group.block)[1:])

    if page.not_visible:
        story.append(p(_("Información no incluida"), H2))
        story.append(headed_table(
            [_("Área"), _("Motivo")],
            [[f"{nv['label']}", nv["reason_text"]] for nv in page.not_visible],
            [7 * cm, 10 * cm],
        ))

    story.append(Spacer(1, 14))
    story.append(KeepTogether([
        p(_("Lugar y fecha: ______________________, a %(d)s") % {"d": timezone.localdate().strftime("%d/%m/%Y")},
          BODY),
        Spacer(1, 6),
        _signatures(_("Firma del/de la profesional: %(who)s") % {"who": author},
                    _("Firma de la persona usuaria (o su representante legal)")),
    ]))
    return _build(story, title=_("Informe social"))


# --- Justificante de consentimiento --------------------------------------------------------------------


def consent_receipt(*, consent, lines: list[str]) -> bytes:
    """The receipt the person keeps: who, what, for what, until when, and how to revoke."""
    person = consent.person
    story = [
        p(_("Justificante de consentimiento informado"), TITLE),
        p(_("Consentimiento nº %(id)s, registrado el %(d)s por %(who)s (%(org)s).")
          % {"id": consent.pk, "d": timezone.localtime(consent.recorded_at).strftime("%d/%m/%Y %H:%M"),
             "who": consent.recorded_by, "org": consent.recorded_by_org}, SMALL),
        p(_("Persona"), H2),
        key_values([
            (_("Nombre y apellidos"), person.full_name),
            (_("Documento"), person.document_number or "—"),
        ]),
        p(_("Alcance"), H2),
        key_values([
            (_("Otorgante"), consent.get_grantor_display()
             + (f": {consent.representative_name} ({consent.representative_relation})"
                if consent.representative_name else "")),
            (_("Fecha de firma"), consent.given_on.strftime("%d/%m/%Y")),
            (_("Vigencia"), f"{consent.valid_from:%d/%m/%Y} – {consent.valid_until:%d/%m/%Y}"),
            (_("Base jurídica"), consent.legal_basis_refs),
            (_("Información de privacidad"), _("versión %(v)s") % {"v": consent.privacy_notice_version}),
        ]),
        Spacer(1, 4),
        *[p(f"• {line}", BODY) for line in lines],
    ]
    if consent.document_sha256:
        story.append(p(_("Huella del documento firmado (SHA-256): %(h)s") % {"h": consent.document_sha256}, SMALL))
    story += [
        Spacer(1, 8),
        p(_("Puede revocar este consentimiento en cualquier momento, sin que ello afecte a la licitud del "
            "tratamiento anterior (art. 7.3 RGPD), en cualquier centro que le atienda. También puede ejercer sus "
            "derechos de acceso, rectificación, supresión, oposición y limitación."), BODY),
        Spacer(1, 14),
        _signatures(_("Firma de la persona (o su representante legal)"), _("Firma y sello del servicio")),
    ]
    return _build(story, title=_("Justificante de consentimiento"))


# --- Resumen de derivación e itinerario conjunto (coordination) ----------------------------------------


def referral_summary(*, referral, page, author: str) -> bytes:
    """A referral and the part of the record it hands over, as the printing user sees it."""
    story = [
        p(_("Resumen de derivación"), TITLE),
        key_values([
            (_("Persona"), page.person.get("full_name") or "—"),
            (_("Deriva"), str(referral.from_organisation)),
            (_("Recibe"), str(referral.to_organisation)),
            (_("Fecha"), timezone.localtime(referral.sent_at).strftime("%d/%m/%Y")),
            (_("Estado"), referral.get_state_display()),
            (_("Finalidad"), referral.get_purpose_display()),
            (_("Motivo"), referral.reason),
            (_("Categorías que se envían con la derivación"), ", ".join(referral.category_labels)),
        ]),
        p(_("Son las que recoge este resumen. Una vez aceptada la derivación, la organización receptora "
            "ve de la historia lo que permita el consentimiento vigente de la persona, no solo estas "
            "categorías."), SMALL),
    ]
    wanted = set(referral.categories)
    blocks = [b for g in page.services for b in g.blocks if b.code in wanted]
    blocks += [b for b in page.household if b.code in wanted]
    blocks += [r.block for r in page.benefits if r.block is not None and r.block.code in wanted]
    blocks += [g.block for g in page.diary if g.block is not None and g.block.code in wanted]
    story.append(p(_("Información de la persona (según lo que puede ver quien imprime)"), H2))
    if not blocks:
        story.append(p(_("Ninguna de las áreas derivadas es visible para quien imprime."), BODY))
    for block in blocks:
        story.extend(_block_story(block))
    story += [Spacer(1, 14), _signatures(_("Firma de quien deriva: %(who)s") % {"who": author},
                                         _("Recibido por"))]
    return _build(story, title=_("Resumen de derivación"))


def _dates(start, end, review) -> str:
    """Start – end, and the review date on a second line (the plan page's "Fechas" column)."""
    text = start.strftime("%d/%m/%Y")
    if end:
        text += " – " + end.strftime("%d/%m/%Y")
    if review:
        text += "\n" + _("Revisión: %(d)s") % {"d": review.strftime("%d/%m/%Y")}
    return text


def _plan_actions_table(actions) -> Table:
    """Actions shown in full, as the plan page's table: type and text, owner, dates, state."""
    return headed_table(
        [_("Acción"), _("Responsable"), _("Fechas"), _("Estado")],
        [[f"{a.get_action_type_display()}: {a.description}", str(a.owner_organisation),
          _dates(a.start_date, a.end_date, a.review_date), a.get_state_display()] for a in actions],
        [7 * cm, 4 * cm, 3.5 * cm, 2.5 * cm],
    )


def joint_plan(*, plan_view, person_name: str, author: str) -> bytes:
    """The joint plan filtered like the record (coordination.selectors.plan_view): what the plan
    page shows, no more, in the same order. Each goal the viewer sees in full with the actions
    linked to it that the viewer sees in full; then the actions without a goal the viewer sees
    (no goal, or one it sees only as an indicator or not at all: never named). Goals, actions
    and commitments seen in full carry their dates and the compliance records; at indicator level
    only their area and service; hidden ones nothing."""
    plan = plan_view.plan
    if plan.person_agreed:
        agreement = _("Firmado el %(d)s") % {"d": plan.signed_on.strftime("%d/%m/%Y")}
    else:
        agreement = _("Pendiente de firma")
    story = [
        p(_("Itinerario conjunto de inserción"), TITLE),
        key_values([
            (_("Persona"), person_name),
            (_("Título"), plan.title),
            (_("Estado"), plan.get_state_display()),
            (_("Inicio"), plan.start_date.strftime("%d/%m/%Y")),
            (_("Próxima revisión"), plan.review_date.strftime("%d/%m/%Y")),
            (_("Acuerdo de la persona"), agreement),
            (_("Organizaciones participantes"), ", ".join(str(o) for o in plan_view.participants)),
        ]),
        p(_("Objetivos"), H2),
    ]
    for group in plan_view.goal_groups:
        goal = group.goal
        story.append(p(goal.description, H3))
        story.append(key_values([
            (_("Área"), goal.get_category_display()),
            (_("Responsable"), str(goal.owner_organisation)),
            (_("Fechas"), _dates(goal.start_date, goal.target_date, goal.review_date)),
            (_("Estado"), goal.get_state_display()),
        ]))
        story.append(Spacer(1, 3))
        if group.actions:
            story.append(_plan_actions_table(group.actions))
        else:
            story.append(p(_("Ninguna acción visible vinculada a este objetivo."), SMALL))
    if not plan_view.goal_groups:
        story.append(p(_("Ningún objetivo visible."), BODY))
    for indicator in plan_view.goal_indicators:
        story.append(p(_("Hay objetivos en el área «%(a)s» a cargo de %(s)s.")
                       % {"a": indicator.category_label, "s": indicator.service_label}, SMALL))
    story.append(p(_("Acciones"), H2))
    if plan_view.unlinked_actions:
        story.append(p(_("Acciones sin objetivo"), H3))
        story.append(p(_("También las vinculadas a un objetivo que usted no puede ver."), SMALL))
        story.append(_plan_actions_table(plan_view.unlinked_actions))
    if not plan_view.actions:
        story.append(p(_("Ninguna acción visible."), BODY))
    if plan_view.action_indicators:
        story.append(p(_("Otras acciones"), H3))
    for indicator in plan_view.action_indicators:
        story.append(p(_("Hay acciones en el área «%(a)s» a cargo de %(s)s.")
                       % {"a": indicator.category_label, "s": indicator.service_label}, SMALL))
    story.append(p(_("Compromisos de la persona"), H2))
    if plan_view.commitments:
        for commitment in plan_view.commitments:
            story.append(p(f"• {commitment.description} ({commitment.checked_by_organisation})", BODY))
            records = list(commitment.compliance_records.all())
            if records:
                story.append(headed_table(
                    [_("Fecha"), _("¿Cumplido?"), _("Observaciones")],
                    [[r.date.strftime("%d/%m/%Y"), _("Sí") if r.complied else _("No"), r.note or "—"]
                     for r in records],
                    [3 * cm, 3 * cm, 11 * cm],
                ))
            else:
                story.append(p(_("Sin seguimiento todavía."), SMALL))
    else:
        story.append(p(_("Ningún compromiso visible."), BODY))
    for indicator in plan_view.commitment_indicators:
        story.append(p(_("Hay compromisos en el área «%(a)s» verificados por %(s)s.")
                       % {"a": indicator.category_label, "s": indicator.service_label}, SMALL))
    story += [Spacer(1, 14), _signatures(_("Firma de la persona usuaria"),
                                         _("Firma del/de la profesional: %(who)s") % {"who": author})]
    return _build(story, title=_("Itinerario conjunto"))
