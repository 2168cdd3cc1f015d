"""The change history of a record, filtered like the record itself.

Each event carries the person, category and recording service it belongs to
(``get_additional_data`` on the models). Only events of categories the viewer sees
in full are shown, with their changed fields; events of indicator or hidden
categories are left out, so the history is never a side door.
"""

from __future__ import annotations

from auditlog.models import LogEntry
from django.db.models import Q

from cases.models import HouseholdMember

from .policy import FULL, Facts, decide_all


def history_for(facts: Facts, limit: int = 200) -> list[dict]:
    full_pairs = {(d.category, d.source_service) for d in decide_all(facts) if d.level == FULL}
    if not full_pairs:
        return []
    household_ids = list(
        HouseholdMember.objects.filter(person_id=facts.person_id).values_list("household_id", flat=True)
    )
    condition = Q(additional_data__person_id=facts.person_id)
    if household_ids:
        condition |= Q(additional_data__household_id__in=household_ids)
    visible = Q()
    for category, source in full_pairs:
        visible |= Q(additional_data__category=category, additional_data__source=source)
    events = (
        LogEntry.objects.filter(condition).filter(visible)
        .select_related("actor", "content_type")
        .order_by("-timestamp")[:limit]
    )
    rows = []
    for event in events:
        model = event.content_type.model_class()
        changes = event.changes_dict if isinstance(event.changes_dict, dict) else {}
        fields = []
        for name, (old, new) in changes.items():
            try:
                label = str(model._meta.get_field(name).verbose_name) if model else name
            except Exception:  # a field removed since the event was written
                label = name
            fields.append({"name": name, "label": label, "old": old, "new": new})
        rows.append({
            "at": event.timestamp,
            "actor": str(event.actor) if event.actor_id else "",
            "action": event.get_action_display(),
            "what": str(model._meta.verbose_name) if model else event.content_type.model,
            "category": event.additional_data.get("category"),
            "source": event.additional_data.get("source"),
            "fields": fields,
        })
    return rows


__all__ = ["history_for"]
