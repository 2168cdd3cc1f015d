"""The person's record page (historia social única) and what is done from it.

Staff read it at /espacio/personas/<id>/, NGO technicians at /portal/personas/<id>/;
each space answers only its own roles (anyone else: 404). Everything the page shows of
the person's data comes from ``sharing.record.record_for``, with the diagnostics entries
(assessments, screenings) merged in on the same decisions by
``diagnostics.record.record_with_diagnostics``: ``record_page`` only arranges that
filtered view for reading (household and minors, benefits map, diary, categories by
service, attachments, the profiling proposal computed from what is shown) and adds what
is not person data but metadata of the sharing itself (the consents, the reference
professionals of the basic sheet).

Writes go through ``cases.services`` (sections, basic sheet, optimistic locking) and
``cases.attachments`` (documents); a stale form is shown again with what the user typed
next to what is saved now, so that nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import wraps

from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import connection, models
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template import engines
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from consent.models import Consent, ConsentRevocation, ConsentState
from consent.purposes import Purpose
from diagnostics.profiling import Profile
from diagnostics.record import ENTRY_MODELS as DIAGNOSTICS_MODELS
from diagnostics.record import profile_of, record_with_diagnostics, recording_actions
from ris.accounts.access import role_required
from ris.accounts.models import Organisation, Role
from ris.accounts.viewer import Viewer
from sharing.categories import BY_CODE, COMMON, EMPLOYMENT, SOCIAL, THIRD_SECTOR
from sharing.models import Channel
from sharing.policy import FULL, HIDDEN, INDICATOR, Facts, Reason, own_entry_q
from sharing.record import (
    GRANTED,
    SERVICE_LABELS,
    CategoryView,
    RecordView,
    benefits_in_force,
    instance_from_json,
    jsonb_value,
    visible_person,
)

from . import services
from .attachments import attachment_categories, attachment_for_download, attachment_upload
from .models import SECTION_MODELS, Attachment, Person, ServiceEntry
from .record_forms import (
    AttachmentForm,
    PersonForm,
    field_pairs,
    section_for,
    section_form_class,
    section_slug,
)

STAFF_ROLES = (Role.SOCIAL_WORKER, Role.EMPLOYMENT_COUNSELLOR, Role.COORDINATOR)
CASEWORKER_ROLES = (Role.SOCIAL_WORKER, Role.EMPLOYMENT_COUNSELLOR)
PORTAL_ROLES = (Role.NGO_TECHNICIAN,)
RECORD_ROLES = (*STAFF_ROLES, *PORTAL_ROLES)
#: Who edits sections and the basic sheet from the record page. NGO staff write their interventions
#: through the portal's own pages, and attachments and consents through the shared views served in
#: the portal (``ATTACHMENT_WRITERS``, ``consent.views.CONSENT_WRITERS``), which also check their agreement.
WRITER_ROLES = CASEWORKER_ROLES

SERVICE_ORDER = (SOCIAL, EMPLOYMENT, THIRD_SECTOR)
HOUSEHOLD_CATEGORIES = ("unidad_convivencia", "situacion_economica")
#: The benefits map: every income benefit of every system, "percibe prestación: sí/no". Planned
#: services (``servicios_planificados``) are not in it: they are social services' prestaciones
#: básicas (Plan Concertado: information, home help, alternative housing, inserción), planned or
#: under way, services of an intervention rather than an income the person receives, and they are
#: read with social services' information (the minimum incomes that programme speaks of are
#: recorded under ``rentas_minimas``, in the map). The Third Sector records no benefits.
BENEFIT_CATEGORIES = (("rentas_minimas", SOCIAL), ("prestaciones_estatales", EMPLOYMENT))
DIARY = "atenciones"
LEVEL_LABELS = {FULL: gettext_lazy("Información completa"), INDICATOR: gettext_lazy("Solo indicador")}

def _model_by_type() -> dict[tuple[str, str], type[ServiceEntry]]:
    """(category, entry type as the record names it in the active language) → section model (the
    diagnostics entries merged into the record too)."""
    return {(model.CATEGORY, str(model._meta.verbose_name)): model
            for model in (*SECTION_MODELS, *DIAGNOSTICS_MODELS)}


def _request_id(request) -> str:
    return getattr(request, "id", "")


def purpose_from(request) -> str:
    purpose = request.GET.get("finalidad", Purpose.FOLLOW_UP)
    return purpose if purpose in Purpose.values and purpose != Purpose.EVALUATION else Purpose.FOLLOW_UP


def person_purposes() -> list[tuple[str, str]]:
    return [(p.value, str(p.label)) for p in Purpose if p != Purpose.EVALUATION]


def own_space(view):
    """The staff workspace answers staff only, the portal NGO technicians only: anyone else gets 404."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        namespace = request.resolver_match.namespace if request.resolver_match else ""
        is_ngo = request.viewer.role == Role.NGO_TECHNICIAN
        if (namespace == "portal") != is_ngo:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def space_of(request) -> str:
    return "portal" if request.resolver_match and request.resolver_match.namespace == "portal" else "workspace"


def attended_person(request, person_id: int) -> Facts:
    """Write pages need the person in the viewer's caseload (an emergency access only reads)."""
    facts = visible_person(viewer=request.viewer, person_id=person_id, purpose=Purpose.FOLLOW_UP,
                           channel=Channel.WEB, request_id=_request_id(request))
    if not facts.attends:
        raise Http404
    return facts


def _person_names(person_id: int) -> Person:
    return Person.objects.only("id", "first_name", "last_name_1", "last_name_2", "version").get(pk=person_id)


# --- Display helpers ---------------------------------------------------------------------------------


def _date_text(value) -> str:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") if timezone.is_aware(value) \
            else value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return "—"


def _amount_text(value) -> str:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    whole, _sep, cents = f"{amount:,.2f}".partition(".")
    return f"{whole.replace(',', '.')},{cents} €"


def _number_text(value) -> str:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    text = f"{number:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _size_text(size) -> str:
    size = int(size or 0)
    if size >= 1_048_576:
        return f"{size / 1_048_576:.1f} MB".replace(".", ",")
    return f"{max(1, round(size / 1024))} KB"


def _field_view(model: type[models.Model] | None, item: dict) -> dict:
    """One field of an entry, ready to print: text in Spanish format, and the machine value if any."""
    name, value, display = item["name"], item["value"], item["display"]
    # labels and displays may be lazy translations: made text once here, not at each use in the template
    out = {"name": name, "label": str(item["label"]), "value": value, "text": "—", "machine": "", "tag": ""}
    if value is None or value == "" or value == []:
        return out
    model_field = None
    if model is not None:
        try:
            model_field = model._meta.get_field(name)
        except FieldDoesNotExist:  # print the record's own display
            model_field = None
    if isinstance(model_field, models.DateField) and not getattr(model_field, "choices", None):
        out.update(text=_date_text(value), machine=str(value), tag="time")
    elif isinstance(model_field, models.DecimalField) and "€" in str(model_field.verbose_name):
        out.update(text=_amount_text(value), machine=str(value), tag="data")
    elif isinstance(model_field, models.DecimalField):  # a score, not an amount
        out.update(text=_number_text(value), machine=str(value), tag="data")
    elif isinstance(model_field, models.BooleanField):
        out["text"] = str(_("Sí") if value else _("No"))
    elif model is Attachment and name == "size":
        out["text"] = _size_text(value)
    elif isinstance(display, list):
        out["text"] = ", ".join(str(v) for v in display)
    else:
        out["text"] = str(display)
    return out


@functools.cache
def _diagnostics_edit_routes() -> dict[type[ServiceEntry], str]:
    from diagnostics.models import (
        BasicEmployabilityScreening,
        EmployabilityAssessment,
        ExclusionAssessment,
    )

    return {
        ExclusionAssessment: "exclusion_assessment_update",
        EmployabilityAssessment: "employability_assessment_update",
        BasicEmployabilityScreening: "screening_update",
    }


def _entry_view(category: str, entry: dict, *, editable: bool, models_by_type: dict | None = None,
                diagnostics_editor: int | None = None) -> dict:
    """A record entry, ready to print: sections and documents have fields, the household its own shape."""
    if "fields" not in entry:  # household composition or economy
        view = dict(entry)
        if "members" in entry:
            view["kind"] = "household"
            view["members"] = [
                {**m, "birth_date_text": _date_text(m.get("birth_date")), "since_text": _date_text(m.get("since"))}
                for m in entry["members"]
            ]
        else:
            view["kind"] = "economy"
            view["income_text"] = _amount_text(entry["monthly_income"]) if entry.get("monthly_income") else "—"
            view["expenses_text"] = _amount_text(entry["monthly_expenses"]) if entry.get("monthly_expenses") else "—"
            view["recorded_on_text"] = _date_text(entry.get("recorded_on")) if entry.get("recorded_on") else "—"
        return view
    document = bool(entry.get("document"))
    models_by_type = models_by_type if models_by_type is not None else _model_by_type()
    model = Attachment if document else models_by_type.get((category, entry["type"]))
    section = model is not None and not document and model in SECTION_MODELS
    # A diagnostic is edited on its own form, by the organisation that recorded it
    # (``diagnostics_editor``: the viewer's organisation, when it may record this kind).
    edit_route = ""
    if diagnostics_editor is not None and entry.get("recorded_by_org_id") == diagnostics_editor:
        edit_route = _diagnostics_edit_routes().get(model, "")
    return {
        "kind": "document" if document else "entry",
        "id": entry["id"],
        "type": str(entry["type"]),
        "recorded_by_org": str(entry["recorded_by_org"]),
        "recorded_at": entry["recorded_at"],
        "recorded_at_text": _date_text(entry["recorded_at"]),
        "fields": [_field_view(model, f) for f in entry["fields"]],
        "note": entry.get("note", ""),
        "slug": section_slug(model) if section else "",
        "editable": editable and section,
        "edit_route": edit_route,
    }


# --- The page model ----------------------------------------------------------------------------------


@dataclass
class CategoryBlock:
    """One (category, recording service) pair of the record as the viewer gets it."""

    view: CategoryView
    entries: list[dict]
    own: bool
    add_sections: list[tuple[str, str]] = field(default_factory=list)
    #: (route name in the page's namespace, label) of the diagnostics forms recorded in this block
    add_links: list[tuple[str, str]] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.view.code

    @property
    def source(self) -> str:
        return self.view.source_service

    @property
    def level(self) -> str:
        return self.view.level

    @functools.cached_property
    def level_label(self) -> str:
        return str(LEVEL_LABELS.get(self.view.level, ""))

    @functools.cached_property
    def label(self) -> str:
        return str(self.view.label)

    @functools.cached_property
    def source_label(self) -> str:
        return str(self.view.source_label)

    @property
    def records(self) -> list[dict]:
        return [e for e in self.entries if e["kind"] != "document"]

    @property
    def documents(self) -> list[dict]:
        return [e for e in self.entries if e["kind"] == "document"]


@dataclass
class BenefitRow:
    """One line of the benefits map: a benefit the viewer sees in full (``detail``: its kind, state,
    dates and amount), or the one line that stands for a system's benefits otherwise: "Sí"/"No" when
    the viewer may only know whether one is in force today (indicator level: nothing more, not even
    whether an earlier one existed), "No consta" when they are hidden (as when there are none), "No"
    when the viewer sees them in full and there are none."""

    system: str
    label: str
    answer: str  # yes | no | unknown
    answer_text: str
    #: the category block seen in full, on the first line of its system only: its entries, documents
    #: and editing links are shown once, under the map (and printed once in the social report)
    block: CategoryBlock | None = None
    detail: bool = False
    state: str = ""
    #: start, end and monthly amount, as ``_field_view`` makes them (text, machine value, tag)
    cells: list[dict] = field(default_factory=list)
    note: str = ""


@dataclass
class DiaryGroup:
    service: str
    service_label: str
    block: CategoryBlock | None
    professionals: list[str]


@dataclass
class ServiceGroup:
    service: str
    service_label: str
    blocks: list[CategoryBlock]


@dataclass
class ConsentCard:
    consent: Consent
    state: str
    state_label: str
    lines: list[str]
    may_change: bool


@dataclass
class RecordPage:
    person: dict
    sheet_full: bool
    break_glass: bool
    household: list[CategoryBlock]
    members: list[dict]
    minors: int | None
    benefits: list[BenefitRow]
    diary: list[DiaryGroup]
    services: list[ServiceGroup]
    documents: list[dict]
    not_visible: list[dict]
    consents: list[ConsentCard]
    may_write: bool
    upload_categories: list[tuple[str, str]]
    #: the profiling proposal, from what this page shows in full (advisory, GDPR art. 22)
    profile: Profile | None = None

    @property
    def birth_date_text(self) -> str:
        return _date_text(self.person.get("birth_date")) if self.person.get("birth_date") else "—"

    @property
    def minors_text(self) -> str:
        n = self.minors or 0
        return ngettext("Hay %(n)s menor en el hogar.", "Hay %(n)s menores en el hogar.", n) % {"n": n}

    @property
    def document_text(self) -> str:
        kind = dict(Person.DocumentType.choices).get(self.person.get("document_type"), "")
        number = self.person.get("document_number") or ""
        if not number:
            reason = dict(Person.NoDocumentReason.choices).get(self.person.get("no_document_reason"), "")
            return f"{kind}: {reason}" if reason else str(kind)
        return f"{kind} {number}"


#: The line that stands for a system's benefits when they are not listed one by one.
BENEFIT_LINE_LABELS = {
    "rentas_minimas": gettext_lazy("Renta mínima o prestación no estatal"),
    "prestaciones_estatales": gettext_lazy("Prestación estatal (desempleo, subsidio, RAI, pensión)"),
}
#: The field that names a benefit (``MinimumIncome.scheme``, ``UnemploymentBenefit.kind``).
_BENEFIT_NAME_FIELDS = ("scheme", "kind")
_BENEFIT_CELLS = ("start_date", "end_date", "monthly_amount")
_NO_CELL = {"text": "—", "machine": "", "tag": ""}
#: Why a category the viewer may see at indicator level is listed as not visible: it holds nothing.
_INDICATOR_REASONS = (Reason.INDICATOR_ONLY, Reason.AGREEMENT)


def _period(values: dict) -> tuple[dt.date | None, dt.date | None] | None:
    try:
        start = dt.date.fromisoformat(values["start_date"]) if values.get("start_date") else None
        end = dt.date.fromisoformat(values["end_date"]) if values.get("end_date") else None
    except (TypeError, ValueError):
        return None
    return start, end


def _in_force(entry: dict, today: dt.date) -> bool:
    """A benefit entry in force today (a minimum income must also be granted). ``sharing.record.in_force_q`` is
    the same rule in SQL, for the benefits the viewer does not see in full."""
    values = {f["name"]: f["value"] for f in entry["fields"]}
    if "status" in values and values["status"] != GRANTED:
        return False
    period = _period(values)
    if period is None:
        return False
    start, end = period
    return (start is None or start <= today) and (end is None or end >= today)


def _answer(in_force: bool) -> tuple[str, str]:
    return ("yes", _("Sí")) if in_force else ("no", _("No"))


def _benefit_detail(system: str, entry: dict, today: dt.date) -> BenefitRow:
    """A benefit seen in full: its kind, its state (as recorded, or from its dates), its dates and
    amount, and whether it is in force today."""
    fields = {f["name"]: f for f in entry["fields"]}
    name = next((fields[n]["text"] for n in _BENEFIT_NAME_FIELDS if n in fields and fields[n]["value"]), "")
    status = fields.get("status")
    if status is not None and status["value"]:
        state = status["text"]
    else:
        start, end = _period({n: f["value"] for n, f in fields.items()}) or (None, None)
        if start is not None and start > today:
            state = _("Aún no ha empezado")
        elif end is not None and end < today:
            state = _("Extinguida")
        else:
            state = _("En vigor")
    answer, text = _answer(_in_force(entry, today))
    return BenefitRow(system, name or capfirst(entry["type"]), answer, text, detail=True, state=str(state),
                      cells=[fields.get(n) or _NO_CELL for n in _BENEFIT_CELLS])


def _indicator_without_entries(record: RecordView, code: str, source: str) -> bool:
    """The viewer may know whether the pair holds anything, and it holds nothing (``record_for``
    lists it as not visible, with the reason of an indicator)."""
    return any(nv["code"] == code and nv["owner_service"] == source and nv["reason"] in _INDICATOR_REASONS
               for nv in record.not_visible)


def benefits_map(*, record: RecordView, blocks: dict[tuple[str, str], CategoryBlock], viewer: Viewer,
                 person_id: int, today: dt.date) -> list[BenefitRow]:
    """Every benefit of every system the viewer sees in full, one line each; for what the viewer sees
    only as an indicator, one line "Sí"/"No": in force today or not, whatever else there is; for what
    is hidden, "No consta", byte for byte as when there is nothing. At most one query (whether a
    benefit not shown in full is in force), run or not whatever the record holds."""
    levels = {}
    for pair in BENEFIT_CATEGORIES:
        block = blocks.get(pair)
        if block is not None:
            levels[pair] = block.level
        else:
            levels[pair] = INDICATOR if _indicator_without_entries(record, *pair) else HIDDEN
    wanted: dict[tuple[str, str], models.Q | None] = {}
    for pair, level in levels.items():
        own = pair[1] in (COMMON, viewer.service)
        if level == INDICATOR:  # the rows ``record_for`` counts for an indicator
            wanted[pair] = own_entry_q(viewer) if own else None
        elif level == FULL and not own:  # another service's restricted entries: an indicator too
            wanted[pair] = models.Q(restricted=True)
    in_force = benefits_in_force(person_id, wanted, today)

    rows: list[BenefitRow] = []
    for pair, level in levels.items():
        system, line = str(SERVICE_LABELS[pair[1]]), str(BENEFIT_LINE_LABELS[pair[0]])
        if level == HIDDEN:
            rows.append(BenefitRow(system, line, "unknown", _("No consta")))
            continue
        if level == INDICATOR:
            answer, text = _answer(pair in in_force)
            rows.append(BenefitRow(system, line, answer, text,
                                   note=_("Sin detalle: solo puede saber si percibe alguna hoy.")))
            continue
        block = blocks[pair]
        lines = [_benefit_detail(system, entry, today) for entry in block.records]
        lines.sort(key=lambda row: row.cells[0]["machine"], reverse=True)  # the latest start first,
        lines.sort(key=lambda row: row.answer != "yes")  # after those in force (the sort is stable)
        if not lines:
            if block.documents:  # a document may be about a benefit nobody recorded
                lines = [BenefitRow(system, line, "unknown", _("No consta"))]
            else:
                lines = [BenefitRow(system, line, "no", _("No"), note=_("Ninguna registrada."))]
        if block.view.restricted_information and pair in wanted:
            answer, text = _answer(pair in in_force)
            lines.append(BenefitRow(system, line, answer, text,
                                    note=_("Otras, restringidas por el servicio que las registró: sin detalle.")))
        lines[0].block = block
        rows += lines
    return rows


def form_at_version(request, current, make_form):
    """After a stale save: the form again with what the user typed, now at the stored version,
    so that saving it once more is a deliberate overwrite of the change they were shown."""
    data = request.POST.copy()
    data["version"] = str(current.version)
    form = make_form(data)
    form.is_valid()
    return form


def consent_lines(consent: Consent, state: str, organisations: list | None = None) -> list[str]:
    """The scope of a consent in plain Spanish, as the person signed it (``organisations``: its grantee
    organisations, when the caller has read them already)."""
    lines = []
    given = consent.given_on.strftime("%d/%m/%Y")
    if consent.grantor == Consent.Grantor.REPRESENTATIVE:
        lines.append(_("Firmado el %(d)s por su representante legal, %(name)s (%(rel)s).")
                     % {"d": given, "name": consent.representative_name, "rel": consent.representative_relation})
    else:
        lines.append(_("Firmado el %(d)s por la propia persona.") % {"d": given})
    grantees = [_("%(s)s (cualquier organización de ese tipo que la atienda)") % {"s": s}
                for s in consent.grantee_service_labels]
    grantees += [str(o) for o in (consent.grantee_organisations.all() if organisations is None else organisations)]
    lines.append(_("Autoriza a: %(g)s.") % {"g": "; ".join(grantees) or "—"})
    if consent.all_categories:
        shared = _("toda la información de los demás servicios")
    else:
        shared = ", ".join(consent.permitted_category_labels)
    if consent.denied_categories:
        shared = _("%(shared)s, excepto: %(denied)s") % {"shared": shared,
                                                        "denied": ", ".join(consent.denied_category_labels)}
    lines.append(_("Pueden ver: %(what)s.") % {"what": shared})
    lines.append(_("Solo para: %(p)s.") % {"p": ", ".join(consent.purpose_labels)})
    lines.append(_("Vigencia: del %(a)s al %(b)s.") % {"a": consent.valid_from.strftime("%d/%m/%Y"),
                                                      "b": consent.valid_until.strftime("%d/%m/%Y")})
    if state == ConsentState.REVOKED:
        revocation = consent.revocation
        lines.append(_("Revocado el %(d)s (%(c)s). Desde entonces no autoriza nada.")
                     % {"d": timezone.localtime(revocation.revoked_at).strftime("%d/%m/%Y"),
                        "c": revocation.get_channel_display().lower()})
    elif state == ConsentState.SUPERSEDED:
        lines.append(_("Sustituido por una corrección: lo que vale es el consentimiento que lo corrige."))
    elif state == ConsentState.ACTIVE:
        lines.append(_("En vigor: cada organización lo ve además limitado por su perfil y, si es una entidad, "
                       "por su convenio."))
    return lines


#: Every consent of the person and of the records merged into it, newest first, with its
#: revocation, its correction (both ways), the recording organisation and the names of its
#: grantee organisations: one query. The merged ids are read first, as an array the consent
#: index serves (``person_id = ANY``), not as a join.
_CONSENTS_SQL = """
SELECT to_jsonb(c), to_jsonb(r), to_jsonb(corrected_by), to_jsonb(corrects), to_jsonb(o),
       (SELECT coalesce(jsonb_agg(g.name ORDER BY g.name), '[]'::jsonb)
        FROM consent_consent_grantee_organisations cg
        JOIN accounts_organisation g ON g.id = cg.organisation_id
        WHERE cg.consent_id = c.id)
FROM consent_consent c
LEFT JOIN consent_consentrevocation r ON r.consent_id = c.id
LEFT JOIN consent_consent corrected_by ON corrected_by.supersedes_id = c.id
LEFT JOIN consent_consent corrects ON corrects.id = c.supersedes_id
LEFT JOIN accounts_organisation o ON o.id = c.recorded_by_org_id
WHERE c.person_id = ANY(ARRAY(
    SELECT %(person)s::bigint UNION SELECT p.id FROM cases_person p WHERE p.merged_into_id = %(person)s
))
ORDER BY c.recorded_at DESC, c.id DESC
"""


def consents_of(person_id: int, *, may_change: bool) -> list[ConsentCard]:
    """Every consent of the person (metadata of the sharing, seen by every organisation attending
    them), in one query."""
    with connection.cursor() as cursor:
        cursor.execute(_CONSENTS_SQL, {"person": person_id})
        rows = cursor.fetchall()
    moment = timezone.now()
    cards = []
    for data, revocation, corrected_by, corrects, organisation, grantees in rows:
        consent = instance_from_json(Consent, jsonb_value(data))
        cache = consent._state.fields_cache
        for name, model, value in (
            ("revocation", ConsentRevocation, revocation),
            ("superseded_by", Consent, corrected_by),
            ("supersedes", Consent, corrects),
            ("recorded_by_org", Organisation, organisation),
        ):
            value = jsonb_value(value)
            cache[name] = instance_from_json(model, value) if value else None
        state = consent.state_at(moment)
        cards.append(ConsentCard(
            consent=consent, state=state, state_label=str(ConsentState(state).label),
            lines=consent_lines(consent, state, jsonb_value(grantees)),
            may_change=may_change and state in (ConsentState.ACTIVE, ConsentState.PENDING),
        ))
    return cards


def record_page(*, record: RecordView, viewer: Viewer, person_id: int, may_write: bool,
                with_consents: bool = True) -> RecordPage:
    """Arrange the filtered record for reading. Constant number of queries (one: the consents)."""
    today = timezone.localdate()
    attends = not record.break_glass
    writable_models = defaultdict(list)
    if may_write and attends:
        from .record_forms import sections_of

        for model in sections_of(viewer.service):
            writable_models[model.CATEGORY].append((section_slug(model), str(model._meta.verbose_name)))
    # the diagnostics forms (NGO technicians record their screenings through the portal)
    diagnostics_actions = recording_actions(viewer) if attends else {}

    models_by_type = _model_by_type()
    blocks: dict[tuple[str, str], CategoryBlock] = {}
    for view in record.categories:
        own = view.source_service in (COMMON, viewer.service)
        editable = may_write and attends and own and view.source_service == viewer.service
        pair = (view.code, view.source_service)
        editor = viewer.organisation_id if pair in diagnostics_actions else None
        entries = [_entry_view(view.code, e, editable=editable, models_by_type=models_by_type,
                               diagnostics_editor=editor)
                   for e in view.entries] if view.level == FULL else []
        blocks[(view.code, view.source_service)] = CategoryBlock(
            view=view, entries=entries, own=own,
            add_sections=writable_models.get(view.code, []) if editable and view.level == FULL else [],
            add_links=diagnostics_actions.get((view.code, view.source_service), []) if view.level == FULL else [],
        )

    household = [blocks[(c, BY_CODE[c].owner_service)] for c in HOUSEHOLD_CATEGORIES
                 if (c, BY_CODE[c].owner_service) in blocks]
    members: list[dict] = []
    minors = None
    composition = blocks.get(("unidad_convivencia", SOCIAL))
    if composition is not None and composition.level == FULL:
        for entry in composition.entries:
            if entry.get("kind") == "household":
                members = entry["members"]
                minors = entry.get("minors", 0)

    benefits = benefits_map(record=record, blocks=blocks, viewer=viewer, person_id=person_id, today=today)

    professionals: dict[str, list[str]] = defaultdict(list)
    sheet_full = bool(record.person.get("full_name"))
    # read with the basic sheet (ordered by organisation), so the diary costs no query of its own
    for ref in record.person.get("reference_professionals", []) if sheet_full else []:
        professionals[ref["service"]].append(f"{ref['professional']} ({ref['organisation']})")
    diary = []
    for service in SERVICE_ORDER:
        block = blocks.get((DIARY, service))
        if block is not None or professionals.get(service):
            diary.append(DiaryGroup(service, str(SERVICE_LABELS[service]), block, professionals.get(service, [])))

    skip = {*HOUSEHOLD_CATEGORIES, DIARY, *(c for c, _s in BENEFIT_CATEGORIES)}
    groups = []
    for service in SERVICE_ORDER:
        service_blocks = [b for (code, source), b in blocks.items() if source == service and code not in skip]
        if service_blocks:
            groups.append(ServiceGroup(service, str(SERVICE_LABELS[service]), service_blocks))

    documents = []
    for block in blocks.values():
        for entry in block.documents:
            documents.append({**entry, "category_label": block.label, "source_label": block.source_label})
    documents.sort(key=lambda d: d["recorded_at"], reverse=True)

    consents = consents_of(person_id, may_change=may_write) if with_consents and attends else []
    return RecordPage(
        person=record.person, sheet_full=sheet_full, break_glass=record.break_glass, household=household,
        members=members, minors=minors, benefits=benefits, diary=diary, services=groups, documents=documents,
        # a benefit category the viewer gets as an indicator is answered by the map's sí/no line
        # alone: listing it here when nothing is recorded would tell "none at all" from "none in
        # force", which is more than the indicator may say
        not_visible=[{**nv, "owner_label": str(SERVICE_LABELS.get(nv["owner_service"], ""))}
                     for nv in record.not_visible
                     if not ((nv["code"], nv["owner_service"]) in BENEFIT_CATEGORIES
                             and nv["reason"] in (Reason.INDICATOR_ONLY, Reason.AGREEMENT))],
        consents=consents, may_write=may_write and attends,
        upload_categories=attachment_categories(viewer.service) if may_write and attends else [],
        profile=profile_of(record),
    )


# --- The record page ---------------------------------------------------------------------------------


def _record_context(request, person_id: int, *, channel: str = Channel.WEB) -> dict:
    viewer = request.viewer
    purpose = purpose_from(request)
    record = record_with_diagnostics(viewer=viewer, person_id=person_id, purpose=purpose, channel=channel,
                                     request_id=_request_id(request), keep=recording_actions(viewer))
    page = record_page(record=record, viewer=viewer, person_id=person_id, may_write=viewer.role in WRITER_ROLES,
                       with_consents=channel == Channel.WEB)
    from consent.views import attaching_organisation

    return {"record": record, "page": page, "purpose": purpose, "purposes": person_purposes(),
            "purpose_label": str(Purpose(purpose).label), "person_id": person_id, "ns": space_of(request),
            # the consents this organisation recorded without their signed form: it attaches them
            "attaches_forms_of": None if record.break_glass else attaching_organisation(viewer)}


def _record_body(request, context: dict) -> str:
    """The record body, rendered by the Jinja2 engine (decision 0013)."""
    body = engines["jinja2"].get_template("record/body.html").render(context, request)
    return mark_safe(body)  # noqa: S308 - Jinja2 escaped every value (autoescape on)


def _render_record(request, template: str, person_id: int):
    context = _record_context(request, person_id)
    body = _record_body(request, context)
    if request.htmx and request.htmx.target == "record-body":
        return HttpResponse(body)
    return render(request, template, {**context, "record_body": body})


@role_required(*STAFF_ROLES)
@own_space
def person_record(request, person_id: int):
    return _render_record(request, "cases/person_record.html", person_id)


@role_required(*PORTAL_ROLES)
@own_space
def portal_person_record(request, person_id: int):
    return _render_record(request, "sharing/portal_person_record.html", person_id)


@role_required(*RECORD_ROLES)
@own_space
def person_history(request, person_id: int):
    from sharing.history import history_for

    facts = visible_person(viewer=request.viewer, person_id=person_id, purpose=purpose_from(request),
                           channel=Channel.WEB, request_id=_request_id(request))
    events = history_for(facts)
    for event in events:
        meta = BY_CODE.get(event.get("category") or "")
        event["category_label"] = meta.label if meta else ""
        event["source_label"] = str(SERVICE_LABELS.get(event.get("source") or "", ""))
        event["day"] = timezone.localtime(event["at"]).date()
        for change in event["fields"]:  # the change history writes "None" for an empty value
            change["old"] = "" if change["old"] in (None, "None") else change["old"]
            change["new"] = "" if change["new"] in (None, "None") else change["new"]
    return render(request, "cases/person_history.html", {
        "events": events, "person_id": person_id, "ns": space_of(request), "purpose": purpose_from(request),
        "purposes": person_purposes(), "break_glass": not facts.attends,
    })


# --- Editing the sections of the viewer's own service --------------------------------------------------


def _record_url(request, person_id: int, anchor: str = "") -> str:
    url = reverse(f"{space_of(request)}:person_record", args=[person_id])
    return f"{url}#{anchor}" if anchor else url


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        form.add_error(None, exc)


def _section_model(request, section: str) -> type[ServiceEntry]:
    model = section_for(section, request.viewer.service)
    if model is None:
        raise Http404
    return model


@role_required(*WRITER_ROLES)
@own_space
def entry_create(request, person_id: int, section: str):
    model = _section_model(request, section)
    attended_person(request, person_id)
    form = section_form_class(model)(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.entry_create(viewer=request.viewer, model=model, person_id=person_id,
                                          data=form.model_data)
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Anotación guardada: %(what)s.") % {"what": model._meta.verbose_name})
            return redirect(_record_url(request, person_id, f"cat-{entry.CATEGORY}-{entry.recorded_by_service}"))
    return render(request, "cases/record/entry_form.html", {
        "form": form, "model_label": model._meta.verbose_name, "person": _person_names(person_id),
        "person_id": person_id, "ns": space_of(request), "creating": True,
        "category_label": BY_CODE[model.CATEGORY].label,
    })


@role_required(*WRITER_ROLES)
@own_space
def entry_update(request, person_id: int, section: str, entry_id: int):
    model = _section_model(request, section)
    attended_person(request, person_id)
    entry = model.objects.filter(pk=entry_id, person_id=person_id, recorded_by_service=request.viewer.service).first()
    if entry is None:  # another service's entry, or none: the same answer
        raise Http404
    form_class = section_form_class(model)
    form = form_class(request.POST or None, instance=entry)
    conflict = None
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.entry_update(viewer=request.viewer, entry=entry, version=form.cleaned_data["version"],
                                  data=form.model_data)
        except services.StaleVersion as exc:
            current = model.objects.get(pk=entry.pk)
            conflict = {"message": exc.messages[0], "rows": field_pairs(form, current)}
            form = form_at_version(request, current, lambda data: form_class(data, instance=current))
            status = 409
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Cambios guardados: %(what)s.") % {"what": model._meta.verbose_name})
            return redirect(_record_url(request, person_id, f"cat-{model.CATEGORY}-{request.viewer.service}"))
    return render(request, "cases/record/entry_form.html", {
        "form": form, "model_label": model._meta.verbose_name, "person": _person_names(person_id),
        "person_id": person_id, "ns": space_of(request), "creating": False, "conflict": conflict,
        "category_label": BY_CODE[model.CATEGORY].label, "entry": entry,
    }, status=status)


@role_required(*WRITER_ROLES)
@own_space
def person_update(request, person_id: int):
    attended_person(request, person_id)
    person = Person.objects.select_related("municipality", "education_level").get(pk=person_id)
    form = PersonForm(request.POST or None, instance=person)
    conflict = None
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.person_update(viewer=request.viewer, person=person, version=form.cleaned_data["version"],
                                   data=form.model_data)
        except services.StaleVersion as exc:
            current = Person.objects.get(pk=person_id)
            conflict = {"message": exc.messages[0], "rows": field_pairs(form, current)}
            form = form_at_version(request, current, lambda data: PersonForm(data, instance=current))
            status = 409
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Ficha básica guardada."))
            return redirect(_record_url(request, person_id, "ficha-title"))
    if request.method == "POST":  # the page is shown again: it may say the document is taken
        _log_document_taken(request, person_id, form)
    return render(request, "cases/record/person_form.html", {
        "form": form, "person": person, "person_id": person_id, "ns": space_of(request), "conflict": conflict,
    }, status=status)


def _log_document_taken(request, person_id: int, form) -> None:
    """Saying that a document is already registered tells its existence: like registration's
    "ya consta" (docs/decisions/0008), the answer is a ``lookup`` line on that other record."""
    from sharing.disclosure import LogLine, disclosure_log_append
    from sharing.models import DisclosureLogEntry

    from .identity import normalise_document
    from .search import organisation_attends

    document = normalise_document(form.data.get("document_number", ""))
    if not document:
        return
    other = (
        Person.objects.filter(document_number=document).exclude(pk=person_id).values_list("pk", flat=True).first()
    )
    if other is None or organisation_attends(request.viewer.organisation_id, other):
        return
    viewer = request.viewer
    disclosure_log_append([LogLine(
        event=DisclosureLogEntry.Event.LOOKUP, channel=Channel.WEB, user_id=viewer.user_id,
        organisation_id=viewer.organisation_id, role=viewer.role, person_id=other, category="ficha_basica",
        level="indicator", basis="lookup:basic_sheet", request_id=_request_id(request),
    )])


# --- Attachments -----------------------------------------------------------------------------------

#: Who attaches documents: the caseworkers from the record, NGO technicians from the portal (always
#: under their own service's categories, ``cases.attachments.attachment_categories``).
ATTACHMENT_WRITERS = (*WRITER_ROLES, *PORTAL_ROLES)


def attended_for_writing(request, person_id: int) -> Facts:
    """``attended_person``, and for an NGO technician a sharing agreement in force too: without
    one the portal records nothing (``sharing.portal_views``). Else the 404 of a missing person."""
    from sharing.portal_views import agreement_in_force

    facts = attended_person(request, person_id)
    viewer = request.viewer
    if viewer.role == Role.NGO_TECHNICIAN and not agreement_in_force(viewer.organisation_id):
        raise Http404
    return facts


@role_required(*ATTACHMENT_WRITERS)
@own_space
def attachment_create(request, person_id: int):
    attended_for_writing(request, person_id)
    categories = attachment_categories(request.viewer.service)
    form = AttachmentForm(request.POST or None, request.FILES or None, categories=categories,
                          initial={"category": request.GET.get("area", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            attachment = attachment_upload(viewer=request.viewer, person_id=person_id, category=data["category"],
                                           kind=data["kind"], title=data["title"], upload=data["file"],
                                           restricted=data["restricted"])
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Documento adjuntado: %(t)s.") % {"t": attachment.title})
            return redirect(_record_url(request, person_id, "documentos-title"))
    return render(request, "cases/record/attachment_form.html", {
        "form": form, "person": _person_names(person_id), "person_id": person_id, "ns": space_of(request),
    })


@role_required(*RECORD_ROLES)
@own_space
def attachment_download(request, person_id: int, attachment_id: int):
    attachment = attachment_for_download(viewer=request.viewer, person_id=person_id, attachment_id=attachment_id,
                                         purpose=purpose_from(request), channel=Channel.WEB,
                                         request_id=_request_id(request))
    response = FileResponse(attachment.file.open("rb"), as_attachment=True,
                            filename=attachment.original_name or f"documento-{attachment.pk}",
                            content_type=attachment.content_type or "application/octet-stream")
    response["Cache-Control"] = "no-store, private"
    return response


# --- Documents to print ------------------------------------------------------------------------------


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store, private"
    return response


@role_required(*RECORD_ROLES)
@own_space
def social_report_pdf(request, person_id: int):
    """Informe social: the record as this user may see it, to print and sign."""
    from .documents import export_logged, social_report

    context = _record_context(request, person_id, channel=Channel.EXPORT)
    content = social_report(page=context["page"], viewer=request.viewer, author=str(request.user),
                            purpose_label=context["purpose_label"])
    export_logged(viewer=request.viewer, person_id=person_id, purpose=context["purpose"],
                  what="informe_social", request_id=_request_id(request))
    return pdf_response(content, f"informe-social-{person_id}.pdf")



@role_required(*RECORD_ROLES)
@own_space
def referral_summary_pdf(request, person_id: int, referral_id: int):
    """Resumen de derivación: the referral, and the referred categories as this user sees them."""
    from coordination.selectors import referral_for_viewer

    from .documents import export_logged, referral_summary

    referral = referral_for_viewer(viewer=request.viewer, referral_id=referral_id)
    if referral.person_id != person_id:
        raise Http404
    record = record_with_diagnostics(viewer=request.viewer, person_id=person_id, purpose=referral.purpose,
                                     channel=Channel.EXPORT, request_id=_request_id(request))
    page = record_page(record=record, viewer=request.viewer, person_id=person_id, may_write=False,
                       with_consents=False)
    content = referral_summary(referral=referral, page=page, author=str(request.user))
    export_logged(viewer=request.viewer, person_id=person_id, purpose=referral.purpose, what="derivacion",
                  request_id=_request_id(request))
    return pdf_response(content, f"derivacion-{referral.pk}.pdf")


@role_required(*RECORD_ROLES)
@own_space
def joint_plan_pdf(request, person_id: int, plan_id: int):
    """Itinerario conjunto, filtered like the record (coordination.selectors.plan_view)."""
    import dataclasses

    from coordination.selectors import plan_for_viewer, plan_view
    from sharing.disclosure import disclosure_log_append

    from .documents import export_logged, joint_plan

    attended_person(request, person_id)
    plan = plan_for_viewer(viewer=request.viewer, plan_id=plan_id)
    if plan.person_id != person_id:
        raise Http404
    view = plan_view(viewer=request.viewer, plan=plan, request_id=_request_id(request))
    disclosure_log_append([dataclasses.replace(line, channel=Channel.EXPORT) for line in view.log_lines])
    content = joint_plan(plan_view=view, person_name=_person_names(person_id).full_name, author=str(request.user))
    export_logged(viewer=request.viewer, person_id=person_id, purpose=Purpose.ITINERARY, what="itinerario",
                  request_id=_request_id(request))
    return pdf_response(content, f"itinerario-{plan.pk}.pdf")
