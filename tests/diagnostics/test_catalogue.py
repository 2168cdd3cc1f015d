"""The diagnostics record models are in the project's one field catalogue (``cases/catalogue.py``).

Their fields are declared next to the sections of ``cases``, synced to ``sharing.CatalogueField``
like every other field, and shown on the record with the entry's own category. Alerts and their
deliveries are derived and instruments and rules are configuration: none of them is in the
catalogue.
"""

from __future__ import annotations

import importlib.util

import pytest
from django.apps import apps

from cases.catalogue import ENTRY_METADATA, field_catalogue
from cases.models import ServiceEntry
from diagnostics.models import ExclusionAnswer, ExclusionAreaResult
from sharing.categories import BY_CODE
from sharing.models import CatalogueField

DIAGNOSTICS_MODELS = list(apps.get_app_config("diagnostics").get_models())
RECORD_MODELS = [
    m
    for m in DIAGNOSTICS_MODELS
    if issubclass(m, ServiceEntry) or m in (ExclusionAnswer, ExclusionAreaResult)
]


def record_fields(model) -> list[str]:
    return [f.name for f in (*model._meta.concrete_fields, *model._meta.many_to_many)]


def test_there_is_one_catalogue():
    assert importlib.util.find_spec("diagnostics.catalogue") is None


def test_the_catalogue_lists_the_record_models_of_diagnostics_and_nothing_else_of_it():
    listed = {label for label in field_catalogue() if label.startswith("diagnostics.")}
    assert listed == {m._meta.label for m in RECORD_MODELS}
    assert {
        "diagnostics.ExclusionAssessment",
        "diagnostics.EmployabilityAssessment",
        "diagnostics.BasicEmployabilityScreening",
        "diagnostics.ExclusionAnswer",
        "diagnostics.ExclusionAreaResult",
    } == listed


@pytest.mark.parametrize("model", RECORD_MODELS, ids=lambda m: m._meta.label)
def test_every_field_of_a_diagnostics_record_model_has_a_category(model):
    declared = field_catalogue()[model._meta.label]
    assert sorted(declared) == sorted(record_fields(model))
    categories = set(declared.values())
    assert categories <= set(BY_CODE)
    if issubclass(model, ServiceEntry):
        assert categories == {model.CATEGORY}
        assert set(ENTRY_METADATA) <= set(declared)
    else:
        assert categories == {"exclusion_social"}


@pytest.mark.django_db
def test_the_diagnostics_fields_are_synced_to_the_catalogue_table():
    in_code = {
        (label, field, category)
        for label, fields in field_catalogue().items()
        if label.startswith("diagnostics.")
        for field, category in fields.items()
    }
    in_table = set(
        CatalogueField.objects.filter(model__startswith="diagnostics.").values_list(
            "model", "field", "category_id"
        )
    )
    assert in_table == in_code
    assert ("diagnostics.BasicEmployabilityScreening", "result", "empleabilidad") in in_table
