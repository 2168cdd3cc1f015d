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
    HouseholdMember,
    Person,
    ReferenceProfessional,
    ServiceEntry,
)
from ris.accounts.models import ServiceKind
from ris.accounts.viewer import Viewer

from .categories import BY_CODE, COMMON, SPECIAL
from .disclosure import LogLine, disclosure_log_append
from .models import DisclosureLogEntry
from .policy import FULL, HIDDEN, INDICATOR, Decision, Facts, Reason, decide_all, load_facts

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
            {"organisation": str(p.organisation), "professional": str(p.professional)} for p in professionals
        ],
        "version": person.version,
    }


def _section_entries(decisions: list[Decision], person_id: int, viewer: Viewer) -> dict[tuple[str, str], list]:
    """The entries of every section whose category is shown to the viewer: one query for all the
    section models (``section_rows``) and one for the attachments, whatever the record holds."""
    shown = {(d.category, d.source_service) for d in decisions if d.level != HIDDEN}
    wanted = []
    for model in SECTION_MODELS:
        sources = sorted(s for (c, s) in shown if c == model.CATEGORY)
        if sources:
            wanted.append((model, sources))
    found: dict[tuple[str, str], list] = defaultdict(list)
    for obj in section_rows(person_id, wanted):
        found[(obj.CATEGORY, obj.recorded_by_service)].append(obj)
    # Attachments carry their category on the row, not on the class: one query for the shown
    # (category, service) pairs, grouped by each row's own category.
    if shown:
        pairs = models.Q()
        for category, source in shown:
            pairs |= models.Q(category=category, recorded_by_service=source)
        for obj in Attachment.objects.filter(pairs, person_id=person_id).select_related("recorded_by_org"):
            found[(obj.category, obj.recorded_by_service)].append(obj)
    return found


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
def _branch_sql(model: type[ServiceEntry], index: int) -> str:
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
        f"WHERE t.person_id = %s AND t.recorded_by_service = ANY(%s)"
    )


def _from_json(model: type[models.Model], data: dict) -> models.Model:
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


def section_rows(person_id: int, wanted: list[tuple[type[ServiceEntry], list[str]]]) -> list[ServiceEntry]:
    """The entries of ``wanted`` (model, recording services) for one person, in one query, each
    model's rows in its ``Meta.ordering`` then id, with their related objects loaded."""
    if not wanted:
        return []
    sql = " UNION ALL ".join(_branch_sql(model, i) for i, (model, _s) in enumerate(wanted))
    params: list = []
    for _model, sources in wanted:
        params += [person_id, list(sources)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT branch, row, related FROM ({sql}) AS entries ORDER BY branch, n", params)
        rows = cursor.fetchall()
    out = []
    for branch, data, related in rows:
        if isinstance(data, str):  # Django loads jsonb as text, for JSONField to parse
            data, related = json.loads(data, parse_float=Decimal), json.loads(related, parse_float=Decimal)
        model = wanted[branch][0]
        obj = _from_json(model, data)
        for fk in _relations(model):
            value = related.get(fk.name)
            obj._state.fields_cache[fk.name] = _from_json(fk.related_model, value) if value else None
        out.append(obj)
    return out


def _household_entries(person_id: int, today: dt.date) -> dict[str, list[dict]]:
    current = models.Q(start_date__lte=today) & (models.Q(end_date__isnull=True) | models.Q(end_date__gt=today))
    # The members of the household the person lives in today, found and read in one query.
    household_today = HouseholdMember.objects.filter(current, person_id=person_id).order_by("household", "start_date", "pk")
    members = list(
        HouseholdMember.objects.filter(current, household_id=models.Subquery(household_today.values("household_id")[:1]))
        .select_related("person", "household")
        .order_by("start_date", "pk")
    )
    if not members:
        return {}
    household = members[0].household
    items = list(household.deprivation_items.order_by("code").values_list("code", "label"))
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
    person = Person.objects.select_related("municipality", "education_level").get(pk=person_id)
    decisions = decide_all(facts)
    by_pair = {(d.category, d.source_service): d for d in decisions}
    ficha = by_pair[("ficha_basica", COMMON)]
    professionals = []
    if ficha.level == FULL:
        professionals = list(
            ReferenceProfessional.objects.filter(person_id=person_id).select_related("organisation", "professional")
        )
    sheet = basic_sheet(person, professionals) if ficha.level == FULL else {"id": person.pk}

    entries = _section_entries(decisions, person_id, viewer)
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
            basis=decision.basis, sensitivity=meta.sensitivity, restricted_information=bool(restricted),
        )
        if level == FULL:
            view.entries = [
                _entry_json(r, _model_label(r)) if isinstance(r, ServiceEntry) else r for r in open_rows
            ]
        categories.append(view)

    disclosure_log_append(_log_lines(facts, categories, decisions, channel, request_id))
    return RecordView(person=sheet, categories=categories, not_visible=not_visible,
                      break_glass=not facts.attends)


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


def _log_lines(facts: Facts, categories: list[CategoryView], decisions: list[Decision], channel: str,
               request_id: str) -> list[LogLine]:
    viewer = facts.viewer
    lines = [line for view in categories
             if (line := category_log_line(facts, view, channel=channel, request_id=request_id)) is not None]
    for decision in decisions:
        if decision.level == HIDDEN and decision.reason in (
            Reason.NO_BASIS, Reason.DENIED_BY_CONSENT, Reason.OBJECTION,
        ):
            lines.append(LogLine(event=DisclosureLogEntry.Event.REFUSED, channel=channel, user_id=viewer.user_id,
                                 organisation_id=viewer.organisation_id, role=viewer.role,
                                 person_id=facts.person_id, purpose=facts.purpose, request_id=request_id,
                                 category=decision.category, level=HIDDEN))
    return lines
