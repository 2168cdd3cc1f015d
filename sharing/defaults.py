"""Catalogue sync and the default visibility matrix (editable afterwards in admin).

Defaults follow the domain brief: state benefit details are an indicator for
social services; family situation and health are an indicator for employment;
criminal records are hidden outside social services; NGO staff get full access
capped further by their agreement; evaluators, data protection officers and
administrators see no record content through the matrix (aggregates, the log and
configuration are their work).
"""

from __future__ import annotations

from ris.accounts.models import Role

from .categories import CATEGORIES

FULL, INDICATOR, HIDDEN = "full", "indicator", "hidden"

_STAFF_DEFAULTS: dict[str, dict[str, str]] = {
    Role.SOCIAL_WORKER: {"prestaciones_estatales": INDICATOR},
    Role.EMPLOYMENT_COUNSELLOR: {
        "situacion_familiar": INDICATOR, "salud": INDICATOR, "situacion_economica": INDICATOR,
        "antecedentes_penales": HIDDEN,
    },
    Role.NGO_TECHNICIAN: {
        "situacion_familiar": INDICATOR, "salud": INDICATOR, "prestaciones_estatales": INDICATOR,
        "antecedentes_penales": HIDDEN,
    },
    Role.COORDINATOR: {
        "situacion_familiar": INDICATOR, "salud": INDICATOR, "prestaciones_estatales": INDICATOR,
        "antecedentes_penales": HIDDEN,
    },
}
_NO_RECORD_ROLES = (Role.EVALUATOR, Role.DATA_PROTECTION_OFFICER, Role.ADMINISTRATOR)


def default_level(role: str, category: str) -> str:
    if role in _NO_RECORD_ROLES:
        return HIDDEN
    return _STAFF_DEFAULTS.get(role, {}).get(category, FULL)


def sync_catalogue(apps=None) -> None:
    """Upsert the categories and catalogue fields; add missing national matrix rows."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    category_model = apps.get_model("sharing", "DataCategory")
    rule_model = apps.get_model("sharing", "VisibilityRule")
    field_model = apps.get_model("sharing", "CatalogueField")
    category_model.objects.bulk_create(
        [
            category_model(code=c.code, label=c.source_label, owner_service=c.owner_service, sensitivity=c.sensitivity,
                           definition=c.source_definition, position=i)
            for i, c in enumerate(CATEGORIES)
        ],
        update_conflicts=True, unique_fields=["code"],
        update_fields=["label", "owner_service", "sensitivity", "definition", "position"],
    )
    existing = set(rule_model.objects.filter(community__isnull=True).values_list("role", "category_id"))
    rule_model.objects.bulk_create(
        [
            rule_model(role=role, category_id=c.code, level=default_level(role, c.code))
            for role in Role.values for c in CATEGORIES if (role, c.code) not in existing
        ]
    )
    from cases.catalogue import field_catalogue

    rows = [
        field_model(model=model, field=field, category_id=category)
        for model, fields in field_catalogue().items() for field, category in fields.items()
    ]
    field_model.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["model", "field"], update_fields=["category"],
    )
