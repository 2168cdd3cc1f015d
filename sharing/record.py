"""The filtered record: the only way pages, the API and exports read a person's record.

``record_for`` decides every category with ``policy``, reads only the sections
the viewer may see (one query per section model, whatever the number of
entries), builds the view, and writes the request's disclosure log lines in one
insert. A hidden category is never read, so its absence cannot depend on whether
data exist.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, models, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import pgettext_lazy

from cases.catalogue import _SECTION_FIELDS, ATTACHMENT_FIELDS
from cases.models import (
    SECTION_MODELS,
    Attachment,
    Household,
    HouseholdMember,
    Person,
    ReferenceProfessional,
    ServiceEntry,
)
from ris.accounts.models import Organisation, ServiceKind, User
from ris.accounts.viewer import Viewer
from ris.reference.models import EducationLevel, Municipality

from .categories import BY_CODE, COMMON, SPECIAL
from .disclosure import LogLine, disclosure_log_append
from .models import DisclosureLogEntry
from .policy import (
    FULL,
    HIDDEN,
    INDICATOR,
    Decision,
    Facts,
    Reason,
    decide,
    decide_all,
    is_own_entry,
    load_facts,
)

CATEGORY_MODELS: dict[str, list[type[ServiceEntry]]] = defaultdict(list)
for _model in SECTION_MODELS:
    CATEGORY_MODELS[_model.CATEGORY].append(_model)
HOUSEHOLD_CATEGORIES = ("unidad_convivencia", "situacion_economica")

SERVICE_LABELS = {**dict(ServiceKind.choices), COMMON: pgettext_lazy("servicio", "Común")}


@dataclass
class CategoryView:
    code: str
    label: str
    source_service: str
    level: str
    basis: str
    sensitivity: str
    entries: list[dict] = field(default_factory=list)
    restricted_information: bool = False
    #: the basis on which entries of another organisation of the viewer's kind of service are
    #: shown (``policy.is_own_entry``): they are a disclosure like another service's data
    foreign_basis: str = ""

    @property
    def source_label(self) -> str:
        return str(SERVICE_LABELS[self.source_service])

    def as_json(self) -> dict:
        data = {
            "code": self.code,
            "label": self.label,
            "owner_service": self.source_service,
            "level": self.level,
            "basis": _basis_json(self.basis),
        }
        if self.level == FULL:
            data["entries"] = self.entries
            data["restricted_information"] = self.restricted_information
        return data


@dataclass
class RecordView:
    person: dict
    categories: list[CategoryView]
    not_visible: list[dict]
    break_glass: bool = False

    def as_json(self) -> dict:
        return {
            "person": self.person,
            "categories": [c.as_json() for c in self.categories],
            "not_visible": self.not_visible,
        }


def _basis_json(basis: str) -> dict:
    kind, _, ref = basis.partition(":")
    return {"kind": kind, "id": int(ref) if ref else None}


def _jsonable(value):
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _field_display(obj: models.Model, name: str) -> dict:
    f = obj._meta.get_field(name)
    if f.is_relation:
        related = getattr(obj, name)
        value, display = getattr(obj, f.attname), (str(related) if related is not None else "")
    else:
        value = getattr(obj, name)
        display = getattr(obj, f"get_{name}_display")() if f.choices else value
    return {"name": name, "label": str(f.verbose_name), "value": _jsonable(value), "display": _jsonable(display)}


def _entry_json(obj: ServiceEntry, label: str) -> dict:
    data = {
        "id": obj.pk,
        "type": str(obj._meta.verbose_name),
        "recorded_by_org": str(obj.recorded_by_org),
        "recorded_at": _jsonable(obj.created_at),
        "fields": [_field_display(obj, name) for name in _SECTION_FIELDS.get(label, ())],
    }
    if isinstance(obj, Attachment):
        data["fields"] = [_field_display(obj, name) for name in ATTACHMENT_FIELDS]
        data["document"] = True  # the file is downloaded through cases.attachments, never inlined
    return data


def basic_sheet(person: Person, professionals: list[ReferenceProfessional]) -> dict:
    return {
        "id": person.pk,
        "first_name": person.first_name,
        "last_name_1": person.last_name_1,
        "last_name_2": person.last_name_2,
        "full_name": person.full_name,
        "document_type": person.document_type,
        "document_number": person.document_number,
        "no_document_reason": person.no_document_reason,
        "birth_date": person.birth_date.isoformat(),
        "sex": person.sex,
        "nationality": person.nationality,
        "address_line": person.address_line,
        "postal_code": person.postal_code,
        "municipality": str(person.municipality) if person.municipality_id else "",
        "phone": person.phone,
        "email": person.email,
        "education_level": str(person.education_level) if person.education_level_id else "",
        "languages": list(person.languages),
        "reference_professionals": [
            {"organisation": str(p.organisation), "professional": str(p.professional),
             "service": p.organisation.kind}
            for p in professionals
        ],
        "version": person.version,
    }


#: The person with municipality and education level, and (when asked) the reference
#: professionals with their organisation and user: one query.
_PERSON_SQL = """
SELECT to_jsonb(p), to_jsonb(m), to_jsonb(e),
       CASE WHEN %(professionals)s THEN
           (SELECT jsonb_agg(jsonb_build_array(
                       to_jsonb(rp), to_jsonb(o),
                       jsonb_build_object('id', u.id, 'username', u.username,
                                          'first_name', u.first_name, 'last_name', u.last_name))
                   ORDER BY o.name, rp.id)
            FROM cases_referenceprofessional rp
            JOIN accounts_organisation o ON o.id = rp.organisation_id
            JOIN accounts_user u ON u.id = rp.professional_id
            WHERE rp.person_id = p.id)
       END
FROM cases_person p
LEFT JOIN reference_municipality m ON m.code = p.municipality_id
LEFT JOIN reference_educationlevel e ON e.code = p.education_level_id
WHERE p.id = %(person)s
"""


def person_with_professionals(
    person_id: int, *, professionals: bool = True
) -> tuple[Person, list[ReferenceProfessional]]:
    """The person (municipality and education level loaded) and, if ``professionals``, the
    reference professional of each organisation (organisation and user loaded), in one query;
    ``Person.DoesNotExist`` if there is no such person."""
    with connection.cursor() as cursor:
        cursor.execute(_PERSON_SQL, {"person": person_id, "professionals": professionals})
        row = cursor.fetchone()
    if row is None:
        raise Person.DoesNotExist(person_id)
    person = instance_from_json(Person, jsonb_value(row[0]))
    for name, model, data in (("municipality", Municipality, row[1]), ("education_level", EducationLevel, row[2])):
        data = jsonb_value(data)
        person._state.fields_cache[name] = instance_from_json(model, data) if data else None
    found = []
    for professional, organisation, user in jsonb_value(row[3]) or []:
        reference = instance_from_json(ReferenceProfessional, professional)
        reference._state.fields_cache["organisation"] = instance_from_json(Organisation, organisation)
        reference._state.fields_cache["professional"] = instance_from_json(User, user)
        found.append(reference)
    return person, found


def _section_entries(
    decisions: list[Decision],
    person_id: int,
    viewer: Viewer,
    extra: list[tuple[type[ServiceEntry], list[str]]] = (),
) -> tuple[dict[tuple[str, str], list], list[ServiceEntry]]:
    """The entries of every section whose category is shown to the viewer, the attachments filed
    under them, and the rows of ``extra`` (returned apart): one query (``section_rows``), whatever
    the record holds."""
    shown = {(d.category, d.source_service) for d in decisions if d.level != HIDDEN}
    wanted = []
    for model in SECTION_MODELS:
        sources = sorted(s for (c, s) in shown if c == model.CATEGORY)
        if sources:
            wanted.append((model, sources))
    found: dict[tuple[str, str], list] = defaultdict(list)
    # Attachments carry their category on the row, not on the class: read in the same statement
    # for the shown (category, service) pairs, grouped by each row's own category.
    extra_models = {model for model, _sources in extra}
    extra_rows = []
    for obj in section_rows(person_id, [*wanted, *extra], attachments=sorted(shown)):
        if type(obj) in extra_models:
            extra_rows.append(obj)
            continue
        category = obj.category if isinstance(obj, Attachment) else obj.CATEGORY
        found[(category, obj.recorded_by_service)].append(obj)
    return found, extra_rows


# --- Reading many section models in one statement ---------------------------------------------------
#
# The ORM needs one query per model (17 for a full record), and compiling them cost more than the
# sharing decision. ``section_rows`` sends one UNION ALL: each branch returns the row and its
# related rows (organisation, occupation, resource...) as jsonb, which are turned back into model
# instances with the related objects cached, as ``select_related`` would leave them.

_SKIPPED_RELATIONS = ("person", "recorded_by")


@functools.cache
def _relations(model: type[models.Model]) -> list[models.ForeignKey]:
    return [f for f in model._meta.concrete_fields if f.is_relation and f.name not in _SKIPPED_RELATIONS]


@functools.cache
def _branch_sql(model: type[models.Model], index: int) -> str:
    table = connection.ops.quote_name(model._meta.db_table)
    joins, related = [], []
    for i, fk in enumerate(_relations(model)):
        target = connection.ops.quote_name(fk.related_model._meta.db_table)
        joins.append(
            f"LEFT JOIN {target} r{i} ON r{i}.{connection.ops.quote_name(fk.target_field.column)} "
            f"= t.{connection.ops.quote_name(fk.column)}"
        )
        related.append(f"'{fk.name}', to_jsonb(r{i})")
    order = []
    for name in (*(model._meta.ordering or ()), "pk"):
        descending = name.startswith("-")
        field = model._meta.pk if name.lstrip("-") == "pk" else model._meta.get_field(name.lstrip("-"))
        order.append(f"t.{connection.ops.quote_name(field.column)}{' DESC' if descending else ''}")
    return (
        f"SELECT {index} AS branch, row_number() OVER (ORDER BY {', '.join(order)}) AS n, "
        f"to_jsonb(t) AS row, jsonb_build_object({', '.join(related)}) AS related "
        f"FROM {table} t {' '.join(joins)} "
        f"WHERE t.person_id = %s AND "
        + (
            # attachments carry their category on the row: match (category, service) pairs
            "(t.category, t.recorded_by_service) IN (SELECT * FROM unnest(%s::text[], %s::text[]))"
            if model is Attachment
            else "t.recorded_by_service = ANY(%s::text[])"
        )
    )


def instance_from_json(model: type[models.Model], data: dict) -> models.Model:
    fields = model._meta.concrete_fields
    values = []
    for f in fields:
        raw = data.get(f.column)
        if raw is None:
            values.append(None)
        elif isinstance(f, models.DateTimeField):
            values.append(parse_datetime(raw))
        elif isinstance(f, models.DateField):
            values.append(dt.date.fromisoformat(raw))
        elif isinstance(f, models.DecimalField):  # at the column's scale, as the database keeps it
            values.append(Decimal(str(raw)).quantize(Decimal(1).scaleb(-f.decimal_places)))
        else:
            values.append(raw)
    return model.from_db(connection.alias, [f.attname for f in fields], values)


def section_rows(
    person_id: int,
    wanted: list[tuple[type[ServiceEntry], list[str]]],
    attachments: list[tuple[str, str]] | None = None,
) -> list[models.Model]:
    """The entries of ``wanted`` (model, recording services) for one person, in one query, each
    model's rows in its ``Meta.ordering`` then id, with their related objects loaded; and, in the
    same query, the person's attachments filed under the (category, service) pairs given."""
    branches: list = [*wanted, (Attachment, attachments)] if attachments else list(wanted)
    if not branches:
        return []
    sql = " UNION ALL ".join(_branch_sql(model, i) for i, (model, _s) in enumerate(branches))
    params: list = []
    for model, sources in branches:
        if model is Attachment:
            params += [person_id, [c for c, _s in sources], [s for _c, s in sources]]
        else:
            params += [person_id, list(sources)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT branch, row, related FROM ({sql}) AS entries ORDER BY branch, n", params)
        rows = cursor.fetchall()
    out = []
    for branch, data, related in rows:
        data, related = jsonb_value(data), jsonb_value(related)
        model = branches[branch][0]
        obj = instance_from_json(model, data)
        for fk in _relations(model):
            value = related.get(fk.name)
            obj._state.fields_cache[fk.name] = instance_from_json(fk.related_model, value) if value else None
        out.append(obj)
    return out


#: The household the person lives in on %(day)s (the first, should the records overlap), its
#: members living there that day with their person rows, and its deprivation items: one query.
_HOUSEHOLD_SQL = """
WITH current_household AS (
    SELECT m.household_id FROM cases_householdmember m
    WHERE m.person_id = %(person)s AND m.start_date <= %(day)s
      AND (m.end_date IS NULL OR m.end_date > %(day)s)
    ORDER BY m.household_id, m.start_date, m.id LIMIT 1
)
SELECT to_jsonb(h),
       (SELECT coalesce(jsonb_agg(jsonb_build_array(i.code, i.label) ORDER BY i.code), '[]'::jsonb)
        FROM cases_household_deprivation_items d
        JOIN reference_deprivationitem i ON i.code = d.deprivationitem_id
        WHERE d.household_id = h.id),
       (SELECT jsonb_agg(jsonb_build_array(to_jsonb(m), to_jsonb(p)) ORDER BY m.start_date, m.id)
        FROM cases_householdmember m JOIN cases_person p ON p.id = m.person_id
        WHERE m.household_id = h.id AND m.start_date <= %(day)s
          AND (m.end_date IS NULL OR m.end_date > %(day)s))
FROM current_household c JOIN cases_household h ON h.id = c.household_id
"""


def jsonb_value(value):
    """jsonb as the driver hands it over: text (Django leaves parsing to JSONField) or parsed."""
    return json.loads(value, parse_float=Decimal) if isinstance(value, str) else value


def _household_entries(person_id: int, today: dt.date) -> dict[str, list[dict]]:
    with connection.cursor() as cursor:
        cursor.execute(_HOUSEHOLD_SQL, {"person": person_id, "day": today})
        row = cursor.fetchone()
    if row is None:
        return {}
    household = instance_from_json(Household, jsonb_value(row[0]))
    items = [tuple(item) for item in jsonb_value(row[1])]
    members = []
    for member_data, person_data in jsonb_value(row[2]) or []:
        member = instance_from_json(HouseholdMember, member_data)
        member._state.fields_cache["person"] = instance_from_json(Person, person_data)
        members.append(member)
    composition = {
        "id": household.pk,
        "type": "Unidad de convivencia",
        "members": [
            {
                "name": m.person.full_name,
                "relationship": m.get_relationship_display(),
                "birth_date": m.person.birth_date.isoformat(),
                "minor": m.person.age_on(today) < 18,
                "since": m.start_date.isoformat(),
            }
            for m in members
        ],
        "minors": sum(1 for m in members if m.person.age_on(today) < 18),
        "address_line": household.address_line,
    }
    economy = {
        "id": household.pk,
        "type": "Economía del hogar",
        "monthly_income": _jsonable(household.monthly_income),
        "monthly_expenses": _jsonable(household.monthly_expenses),
        "housing_tenure": household.get_housing_tenure_display(),
        "deprivation_items": [{"code": c, "label": label} for c, label in items],
        "deprivation_count": len(items),
        # A total only: per-member figures would name who lives in the household, which is
        # composition (unidad_convivencia), decided separately.
        "months_worked_total": sum(m.months_worked_last_year or 0 for m in members),
        "recorded_on": _jsonable(household.economy_recorded_on),
    }
    has_economy = bool(
        items or household.monthly_income is not None or household.monthly_expenses is not None
        or household.housing_tenure or household.economy_recorded_on
        or any(m.months_worked_last_year is not None for m in members)
    )
    return {"unidad_convivencia": [composition], "situacion_economica": [economy] if has_economy else []}


#: a minimum income counts as received only once granted
GRANTED = "granted"


def in_force_q(model: type[ServiceEntry], today: dt.date) -> models.Q:
    """The rows of a benefit model in force on ``today`` (a minimum income must also be granted)."""
    condition = models.Q(start_date__lte=today) & (models.Q(end_date__isnull=True) | models.Q(end_date__gte=today))
    if any(f.name == "status" for f in model._meta.concrete_fields):
        condition &= models.Q(status=GRANTED)
    return condition


def benefits_in_force(person_id: int, wanted: dict[tuple[str, str], models.Q | None],
                      today: dt.date) -> set[tuple[str, str]]:
    """Which (category, service) pairs of ``wanted`` have a benefit in force today among the rows
    the condition keeps (``None``: all of them): one query, the answer only (no row is read).

    This is what an indicator of the benefits map may say ("percibe prestación: sí/no"); the
    caller asks only for pairs ``decide`` gives the viewer at least as an indicator."""
    checks: dict[str, tuple[str, str]] = {}
    annotations = {}
    for i, (pair, condition) in enumerate(wanted.items()):
        for model in (m for m in SECTION_MODELS if m.CATEGORY == pair[0]):
            rows = model.objects.filter(person_id=person_id, recorded_by_service=pair[1]).filter(
                in_force_q(model, today))
            if condition is not None:
                rows = rows.filter(condition)
            name = f"in_force_{i}_{model._meta.model_name}"
            checks[name] = pair
            annotations[name] = models.Exists(rows)
    if not annotations:
        return set()
    found = Person.objects.filter(pk=person_id).annotate(**annotations).values(*annotations).first() or {}
    return {pair for name, pair in checks.items() if found.get(name)}


def visible_person(*, viewer: Viewer, person_id: int, purpose: str, channel: str, request_id: str = "") -> Facts:
    """The facts for a person the viewer may know exists, or Http404.

    A refusal for a person that exists is logged and committed before the 404 is
    raised, so callers must not wrap this in a transaction they roll back.
    """
    facts = load_facts(viewer=viewer, person_id=person_id, purpose=purpose)
    if not facts.visible:
        if Person.objects.filter(pk=person_id).exists():
            disclosure_log_append([
                LogLine(event=DisclosureLogEntry.Event.REFUSED, channel=channel, user_id=viewer.user_id,
                        organisation_id=viewer.organisation_id, role=viewer.role, person_id=person_id,
                        purpose=purpose, request_id=request_id)
            ])
        raise Http404
    return facts


def record_for(*, viewer: Viewer, person_id: int, purpose: str, channel: str, request_id: str = "") -> RecordView:
    """The record as this viewer may see it; its log lines are written in the same transaction."""
    facts = visible_person(viewer=viewer, person_id=person_id, purpose=purpose, channel=channel,
                           request_id=request_id)
    with transaction.atomic():
        return _build_record(facts, viewer, person_id, channel, request_id)


def _build_record(facts: Facts, viewer: Viewer, person_id: int, channel: str, request_id: str) -> RecordView:
    record, lines, _extra = assemble_record(facts, viewer, person_id, channel, request_id)
    disclosure_log_append(lines)
    return record


def assemble_record(
    facts: Facts,
    viewer: Viewer,
    person_id: int,
    channel: str,
    request_id: str,
    extra: list[tuple[type[ServiceEntry], list[str]]] = (),
) -> tuple[RecordView, list[LogLine], list[ServiceEntry]]:
    """The record, the disclosure lines it owes (not written: the caller writes every line of the
    request in one append) and the rows of ``extra`` (models and recording services another
    module decides on, e.g. the diagnostics), read in the same statement as the sections."""
    decisions = decide_all(facts)
    by_pair = {(d.category, d.source_service): d for d in decisions}
    ficha = by_pair[("ficha_basica", COMMON)]
    person, professionals = person_with_professionals(person_id, professionals=ficha.level == FULL)
    sheet = basic_sheet(person, professionals) if ficha.level == FULL else {"id": person.pk}

    entries, extra_rows = _section_entries(decisions, person_id, viewer, extra)
    if any(by_pair[(c, BY_CODE[c].owner_service)].level != HIDDEN for c in HOUSEHOLD_CATEGORIES):
        for code, rows in _household_entries(person_id, timezone.localdate(facts.moment)).items():
            pair = (code, BY_CODE[code].owner_service)
            entries[pair] = [*rows, *entries.get(pair, [])]  # keep the attachments filed under it

    categories: list[CategoryView] = []
    not_visible: list[dict] = []
    for decision in decisions:
        if decision.category == "ficha_basica":
            continue
        meta = BY_CODE[decision.category]
        level = decision.level
        rows = entries.get((decision.category, decision.source_service), [])
        own = decision.source_service in (COMMON, viewer.service)
        foreign_basis, foreign_withheld = "", False
        if own and facts.attends and decision.level != HIDDEN:
            rows, foreign_basis, foreign_withheld = split_foreign_entries(facts, decision, rows)
        restricted = [r for r in rows if isinstance(r, ServiceEntry) and r.restricted and not own]
        open_rows = [r for r in rows if not (isinstance(r, ServiceEntry) and r.restricted and not own)]
        if level == FULL and rows and not open_rows:
            level = INDICATOR  # origin block: the recording service restricted every entry
        if level == HIDDEN or (level == INDICATOR and not rows):
            reason = decision.reason or Reason.MATRIX
            not_visible.append({
                "code": decision.category, "label": meta.label, "owner_service": decision.source_service,
                "reason": reason, "reason_text": str(_reason_text(reason)),
            })
            continue
        view = CategoryView(
            code=decision.category, label=meta.label, source_service=decision.source_service, level=level,
            basis=decision.basis, sensitivity=meta.sensitivity,
            restricted_information=bool(restricted) or foreign_withheld, foreign_basis=foreign_basis,
        )
        if level == FULL:
            view.entries = [
                _entry_json(r, _model_label(r)) if isinstance(r, ServiceEntry) else r for r in open_rows
            ]
        categories.append(view)

    record = RecordView(person=sheet, categories=categories, not_visible=not_visible,
                        break_glass=not facts.attends)
    return record, _log_lines(facts, categories, decisions, channel, request_id), extra_rows


def entry_is_own(viewer: Viewer, row) -> bool:
    """``policy.is_own_entry`` for a row of ``section_rows`` (its organisation is loaded with it);
    rows that are not entries of an organisation (the household) are the service's own."""
    if not isinstance(row, ServiceEntry):
        return True
    organisation = row.recorded_by_org
    return is_own_entry(viewer, organisation_id=organisation.pk, community_code=organisation.community_id)


def split_foreign_entries(facts: Facts, decision: Decision, rows: list) -> tuple[list, str, bool]:
    """The rows of an own-service (category, service) pair that the viewer may read: their own,
    and another organisation's only on a basis of their own (``decide(..., foreign=True)``: a
    consent or a legal basis, as for another service's data) and never when restricted.

    Returns (rows kept, basis of the other organisations' rows shown or "", whether some rows
    were kept back although the viewer may know they exist (indicator level))."""
    kept, foreign = [], None
    basis, withheld = "", False
    for row in rows:
        if entry_is_own(facts.viewer, row):
            kept.append(row)
            continue
        if foreign is None:
            foreign = decide(facts, decision.category, decision.source_service, foreign=True)
        if foreign.level == FULL and not row.restricted:
            kept.append(row)
            basis = foreign.basis
        elif foreign.level != HIDDEN:
            withheld = True
    return kept, basis, withheld


def _reason_text(reason: str):
    from .policy import REASON_TEXT

    return REASON_TEXT.get(reason, "")


def _model_label(obj: models.Model) -> str:
    return f"{obj._meta.app_label}.{obj._meta.object_name}"


def category_log_line(facts: Facts, view: CategoryView, *, channel: str, request_id: str) -> LogLine | None:
    """The disclosure line a shown (category, service) pair writes, if any: another service's
    data, special-category data, or anything read under emergency access."""
    viewer = facts.viewer
    cross = view.source_service not in (COMMON, viewer.service)
    special = view.sensitivity == SPECIAL
    if facts.attends and not (cross or special):
        return None
    if not facts.attends:
        event = DisclosureLogEntry.Event.BREAK_GLASS
    elif cross:
        event = DisclosureLogEntry.Event.DISCLOSURE
    else:
        event = DisclosureLogEntry.Event.SPECIAL_READ
    return LogLine(event=event, channel=channel, user_id=viewer.user_id, organisation_id=viewer.organisation_id,
                   role=viewer.role, person_id=facts.person_id, purpose=facts.purpose, request_id=request_id,
                   category=view.code, level=view.level, basis=view.basis)


def foreign_log_line(facts: Facts, view: CategoryView, *, channel: str, request_id: str) -> LogLine | None:
    """The disclosure line owed when a view shows another organisation's entries of the viewer's
    own kind of service, on a basis of their own (``split_foreign_entries``)."""
    if not (view.foreign_basis and view.level == FULL):
        return None
    viewer = facts.viewer
    return LogLine(event=DisclosureLogEntry.Event.DISCLOSURE, channel=channel, user_id=viewer.user_id,
                   organisation_id=viewer.organisation_id, role=viewer.role, person_id=facts.person_id,
                   purpose=facts.purpose, request_id=request_id, category=view.code, level=view.level,
                   basis=view.foreign_basis)


def _log_lines(facts: Facts, categories: list[CategoryView], decisions: list[Decision], channel: str,
               request_id: str) -> list[LogLine]:
    viewer = facts.viewer
    lines = [line for view in categories
             if (line := category_log_line(facts, view, channel=channel, request_id=request_id)) is not None]
    lines += [line for view in categories
              if (line := foreign_log_line(facts, view, channel=channel, request_id=request_id)) is not None]
    for decision in decisions:
        if decision.level == HIDDEN and decision.reason in (
            Reason.NO_BASIS, Reason.DENIED_BY_CONSENT, Reason.OBJECTION,
        ):
            lines.append(LogLine(event=DisclosureLogEntry.Event.REFUSED, channel=channel, user_id=viewer.user_id,
                                 organisation_id=viewer.organisation_id, role=viewer.role,
                                 person_id=facts.person_id, purpose=facts.purpose, request_id=request_id,
                                 category=decision.category, level=HIDDEN))
    return lines
