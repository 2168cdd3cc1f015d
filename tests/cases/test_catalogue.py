"""Every field of the record belongs to a category of the data catalogue.

A field added to a model of ``cases`` without a line in ``cases/catalogue.py`` fails
here, so no data reaches a page, an export or another service unclassified.
"""

from __future__ import annotations

import pytest
from django.apps import apps

from cases.catalogue import field_catalogue
from cases.models import SECTION_MODELS, ServiceEntry
from sharing.categories import (
    BY_CODE,
    CATEGORIES,
    COMMON,
    CRIMINAL,
    EMPLOYMENT,
    ORDINARY,
    SOCIAL,
    SPECIAL,
    THIRD_SECTOR,
)
from sharing.models import CatalogueField, DataCategory

CASES_MODELS = list(apps.get_app_config("cases").get_models())
#: The record models of diagnostics share the catalogue (tests/diagnostics/test_catalogue.py).
DIAGNOSTICS_RECORD_MODELS = [
    m for m in apps.get_app_config("diagnostics").get_models()
    if issubclass(m, ServiceEntry) or m._meta.object_name in ("ExclusionAnswer", "ExclusionAreaResult")
]


def record_fields(model) -> list[str]:
    """The model's own columns and many-to-many fields (not reverse relations)."""
    return [f.name for f in (*model._meta.concrete_fields, *model._meta.many_to_many)]


@pytest.mark.parametrize("model", CASES_MODELS, ids=lambda m: m._meta.label)
def test_every_field_of_the_record_is_in_the_catalogue(model):
    declared = field_catalogue().get(model._meta.label)
    assert declared is not None, f"{model._meta.label} is not in cases.catalogue"
    missing = [name for name in record_fields(model) if name not in declared]
    assert missing == [], f"{model._meta.label}: fields without a category: {missing}"


@pytest.mark.parametrize("model", CASES_MODELS, ids=lambda m: m._meta.label)
def test_the_catalogue_declares_no_field_that_does_not_exist(model):
    stale = set(field_catalogue()[model._meta.label]) - set(record_fields(model))
    assert stale == set()


def test_the_catalogue_covers_only_models_of_the_record():
    assert set(field_catalogue()) == {m._meta.label for m in (*CASES_MODELS, *DIAGNOSTICS_RECORD_MODELS)}


def test_every_catalogued_category_exists():
    unknown = {
        (label, field, category)
        for label, fields in field_catalogue().items()
        for field, category in fields.items()
        if category not in BY_CODE
    }
    assert unknown == set()


def test_every_section_is_listed_and_has_a_category():
    from cases.models import Attachment

    sections = {m for m in CASES_MODELS if issubclass(m, ServiceEntry)}
    # Attachments carry their category on each row (decision 0009), so they are not a section.
    assert sections == set(SECTION_MODELS) | {Attachment}
    for model in SECTION_MODELS:
        assert model.category_code() in BY_CODE, model
    assert Attachment.CATEGORY == ""
    assert {c for c, _ in Attachment._meta.get_field("category").choices} <= set(BY_CODE)


@pytest.mark.django_db
def test_the_synced_catalogue_table_matches_the_code():
    in_code = {
        (label, field, category)
        for label, fields in field_catalogue().items()
        for field, category in fields.items()
    }
    in_table = set(CatalogueField.objects.values_list("model", "field", "category_id"))
    assert in_table == in_code


@pytest.mark.django_db
def test_the_synced_category_table_matches_the_code():
    in_code = {(c.code, c.label, c.owner_service, c.sensitivity, c.definition) for c in CATEGORIES}
    in_table = set(
        DataCategory.objects.values_list(
            "code", "label", "owner_service", "sensitivity", "definition"
        )
    )
    assert in_table == in_code


@pytest.mark.parametrize("category", CATEGORIES, ids=lambda c: c.code)
def test_every_category_is_defined(category):
    assert category.label.strip() and category.definition.strip()
    # The definitions are written for Spanish-speaking professionals: whole sentences.
    assert category.definition[0].isupper() and category.definition.rstrip().endswith(".")
    assert category.owner_service in {SOCIAL, EMPLOYMENT, THIRD_SECTOR, COMMON}
    assert category.sensitivity in {ORDINARY, SPECIAL, CRIMINAL}


def test_category_codes_are_unique():
    assert len(BY_CODE) == len(CATEGORIES)


def test_health_is_special_and_criminal_records_are_criminal():
    assert BY_CODE["salud"].sensitivity == SPECIAL
    assert BY_CODE["antecedentes_penales"].sensitivity == CRIMINAL


def test_health_and_criminal_sections_use_those_categories():
    from cases.models import CriminalRecord, HealthRecord

    assert HealthRecord.category_code() == "salud"
    assert CriminalRecord.category_code() == "antecedentes_penales"
