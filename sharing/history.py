"""The change history of a record, filtered like the record itself.

Each event carries the person (or household), category and recording service it
belongs to (``get_additional_data`` on the models). An event is shown only when
its pair (category, recording service) is decided ``full`` for the viewer, and
then only the changed fields whose own catalogue category is full too (a
household row mixes composition and economy). Entries restricted by another
service (origin block) keep their history to themselves. So the history is never
a side door to what the record page hides.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Max, Q
from django.utils import timezone

from cases.catalogue import field_catalogue
from cases.merge import merged_ids
from cases.models import HouseholdMember, ServiceEntry
from ris.accounts.models import Organisation

from .categories import BY_CODE, COMMON
from .policy import FULL, Facts, decide, decide_all, is_own_entry


def _pair_for_field(category: str, event_source: str) -> tuple[str, str]:
    owner = BY_CODE[category].owner_service
    if category == "ficha_basica":
        return category, COMMON
    return category, (event_source if owner == COMMON else owner)


def _describe(value) -> tuple[object, object]:
    """auditlog stores [old, new] for fields and a dict for many-to-many changes."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return value[0], value[1]
    if isinstance(value, dict):
        objects = ", ".join(str(o) for o in value.get("objects", []))
        operation = {"add": "+", "delete": "−"}.get(value.get("operation"), value.get("operation", ""))
        return "", f"{operation} {objects}".strip()
    return "", value


def _restricted_objects(events: list[LogEntry], facts: Facts) -> set[tuple[int, str]]:
    """(content type, pk) of entries of another service that this viewer's history must skip: those
    restricted by their service, and those deleted since (the row's restriction can no longer be
    checked, and the record does not show them either). One query per model involved."""
    by_model: dict[type, list[str]] = defaultdict(list)
    for event in events:
        model = event.content_type.model_class()
        source = event.additional_data.get("source")
        if model and issubclass(model, ServiceEntry) and source not in (COMMON, facts.viewer.service):
            by_model[model].append(event.object_pk)
    restricted: set[tuple[int, str]] = set()
    for model, pks in by_model.items():
        content_type_id = next(e.content_type_id for e in events if e.content_type.model_class() is model)
        open_rows = {
            str(pk)
            for pk in model.objects.filter(pk__in=pks, restricted=False).values_list("pk", flat=True)
        }
        restricted.update((content_type_id, str(pk)) for pk in pks if str(pk) not in open_rows)
    return restricted | _foreign_objects(events, facts)


def _foreign_objects(events: list[LogEntry], facts: Facts) -> set[tuple[int, str]]:
    """(content type, pk) of entries of the viewer's own kind of service recorded by an
    organisation whose data is not the viewer's own (``policy.is_own_entry``), which the viewer
    has no basis of their own to read (``decide(..., foreign=True)``). A row deleted since is
    judged by the organisation its events carry. One query per model involved."""
    viewer = facts.viewer
    if not facts.attends:
        return set()
    by_model: dict[type, list[LogEntry]] = defaultdict(list)
    for event in events:
        model = event.content_type.model_class()
        if model and issubclass(model, ServiceEntry) and event.additional_data.get("source") == viewer.service:
            by_model[model].append(event)
    if not by_model:
        return set()
    rows_of = {
        model: {
            str(pk): (org, restricted)
            for pk, org, restricted in model.objects.filter(
                pk__in={e.object_pk for e in model_events}
            ).values_list("pk", "recorded_by_org_id", "restricted")
        }
        for model, model_events in by_model.items()
    }
    organisations = {org for rows in rows_of.values() for org, _restricted in rows.values()} | {
        e.additional_data.get("organisation") for events in by_model.values() for e in events
    }
    communities = dict(
        Organisation.objects.filter(pk__in=organisations - {None}).values_list("pk", "community_id")
    )
    allowed: dict[str, bool] = {}
    skipped: set[tuple[int, str]] = set()
    for model, model_events in by_model.items():
        rows = rows_of[model]
        for event in model_events:
            org, restricted = rows.get(
                str(event.object_pk), (event.additional_data.get("organisation"), False)
            )
            if org is None or is_own_entry(viewer, organisation_id=org, community_code=communities.get(org)):
                continue
            category = event.additional_data.get("category")
            if category not in allowed:
                allowed[category] = category in BY_CODE and decide(
                    facts, category, viewer.service, foreign=True
                ).level == FULL
            if restricted or not allowed[category]:
                skipped.add((event.content_type_id, str(event.object_pk)))
    return skipped


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def history_for(facts: Facts, limit: int = 200) -> list[dict]:
    full_pairs = {(d.category, d.source_service) for d in decide_all(facts) if d.level == FULL}
    if not full_pairs:
        return []
    records = merged_ids(facts.person_id)  # merged records too
    condition = Q(additional_data__person_id__in=records)
    # A household's own events count only until the person's membership was closed in the system
    # (the last change of a closed membership row: dates are often recorded after the fact), so the
    # household's later life (new members, new income) is not part of the history of who left.
    memberships = list(
        HouseholdMember.objects.filter(person_id__in=records).values_list("pk", "household_id", "end_date")
    )
    closed = [str(pk) for pk, _household, end in memberships if end is not None]
    closed_at = dict(
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(HouseholdMember), object_pk__in=closed
        )
        .values("object_pk")
        .annotate(last=Max("timestamp"))
        .values_list("object_pk", "last")
    ) if closed else {}
    for pk, household_id, end in memberships:
        during = Q(additional_data__household_id=household_id)
        if end is not None:
            during &= Q(timestamp__lte=closed_at.get(str(pk), _day_start(end + dt.timedelta(days=1))))
        condition |= during
    visible = Q()
    for category, source in full_pairs:
        visible |= Q(additional_data__category=category, additional_data__source=source)
    if {("unidad_convivencia", "social"), ("situacion_economica", "social")} & full_pairs:
        # A household row mixes composition and economy: its fields are filtered one by one below.
        visible |= Q(additional_data__household_id__isnull=False, additional_data__person_id__isnull=True)
    events = list(
        LogEntry.objects.filter(condition).filter(visible)
        .select_related("actor", "content_type")
        .order_by("-timestamp")[:limit]
    )
    restricted = _restricted_objects(events, facts)
    catalogue = field_catalogue()
    rows = []
    for event in events:
        if (event.content_type_id, str(event.object_pk)) in restricted:
            continue
        model = event.content_type.model_class()
        label_of = f"{model._meta.app_label}.{model._meta.object_name}" if model else ""
        fields_catalogue = catalogue.get(label_of, {})
        source = event.additional_data.get("source", "")
        changes = event.changes_dict if isinstance(event.changes_dict, dict) else {}
        fields = []
        for name, value in changes.items():
            category = fields_catalogue.get(name)
            if category is None or _pair_for_field(category, source) not in full_pairs:
                continue
            old, new = _describe(value)
            try:
                label = str(model._meta.get_field(name).verbose_name)
            except Exception:  # a field removed since the event was written
                label = name
            fields.append({"name": name, "label": label, "old": old, "new": new})
        if changes and not fields:
            continue  # every changed field belongs to a category the viewer does not see in full
        rows.append({
            "at": event.timestamp,
            "actor": str(event.actor) if event.actor_id else "",
            "action": event.get_action_display(),
            "what": str(model._meta.verbose_name) if model else event.content_type.model,
            "category": event.additional_data.get("category"),
            "source": source,
            "fields": fields,
        })
    return rows
