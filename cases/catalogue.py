"""The field catalogue: every field of the record belongs to a category.

``FIELDS`` maps each model of the record to its fields and their category: the models of
``cases`` and the record models of ``diagnostics`` (assessments, screenings and their
answers), so there is one catalogue, synced to ``sharing.CatalogueField``. A new field
that is not declared here fails the catalogue tests (``tests/cases/test_catalogue.py``,
``tests/diagnostics/test_catalogue.py``), so it cannot reach a page unclassified. The
bookkeeping fields that every service entry carries (who recorded it, when, its
version and origin block) are in ``ENTRY_METADATA``: they describe the entry and
are shown with the entry's own category.
"""

from __future__ import annotations

from sharing.categories import BY_CODE

ENTRY_METADATA = (
    "id", "person", "recorded_by_service", "recorded_by_org", "recorded_by", "restricted",
    "created_at", "updated_at", "version",
)

_FICHA = "ficha_basica"

#: The fields of an attachment that the record shows (the file itself is a download).
ATTACHMENT_FIELDS = ("kind", "title", "original_name", "size", "sha256")

FIELDS: dict[str, dict[str, str]] = {
    "cases.Person": {
        **{f: _FICHA for f in (
            "id", "first_name", "last_name_1", "last_name_2", "document_type", "document_number",
            "no_document_reason", "birth_date", "sex", "nationality", "address_line", "postal_code",
            "municipality", "phone", "email", "education_level", "languages", "created_at",
            "updated_at", "version", "search_name", "merged_into",
        )},
    },
    # The account of a merge of two records of the person (administrators; docs/decisions/0008).
    "cases.PersonMerge": {
        f: _FICHA for f in ("id", "surviving", "merged", "merged_by", "merged_at", "reason", "moved")
    },
    "cases.ReferenceProfessional": {f: _FICHA for f in ("id", "person", "organisation", "professional", "since")},
    "cases.Household": {
        "id": "unidad_convivencia",
        "address_line": "unidad_convivencia",
        "municipality": "unidad_convivencia",
        "housing_tenure": "situacion_economica",
        "monthly_income": "situacion_economica",
        "monthly_expenses": "situacion_economica",
        "deprivation_items": "situacion_economica",
        "economy_recorded_on": "situacion_economica",
        "created_at": "unidad_convivencia",
        "updated_at": "unidad_convivencia",
        "version": "unidad_convivencia",
    },
    "cases.HouseholdMember": {
        "id": "unidad_convivencia",
        "household": "unidad_convivencia",
        "person": "unidad_convivencia",
        "relationship": "unidad_convivencia",
        "start_date": "unidad_convivencia",
        "end_date": "unidad_convivencia",
        "months_worked_last_year": "situacion_economica",
    },
    # An attachment belongs to the category chosen on each row (Attachment.category), which is
    # what sharing decides on; the table needs one code per field, so it files them under the
    # diary, the one category every service records.
    "cases.Attachment": {f: "atenciones" for f in (*ENTRY_METADATA, "category", *ATTACHMENT_FIELDS, "file",
                                                   "content_type")},
    # The answers and area results of an exclusion assessment belong to its category. Alerts and their
    # deliveries are derived (texts decided per recipient, decision 0007) and are not record categories;
    # instruments and alert rules are configuration, not person data.
    "diagnostics.ExclusionAnswer": {
        f: "exclusion_social" for f in ("id", "assessment", "item", "present", "score")
    },
    "diagnostics.ExclusionAreaResult": {
        f: "exclusion_social" for f in ("id", "assessment", "area", "score", "level")
    },
}

_SECTION_FIELDS: dict[str, tuple[str, ...]] = {
    "cases.SocialCompetences": ("assessed_on", "pre_work_skills", "can_follow_itinerary", "notes"),
    "cases.MotivationAssessment": ("assessed_on", "motivation_level", "emotional_factors"),
    "cases.PlannedService": ("basic_service", "description", "start_date", "end_date"),
    "cases.MinimumIncome": ("scheme", "status", "monthly_amount", "start_date", "end_date"),
    "cases.FamilySituation": ("description", "caring_responsibilities", "single_parent"),
    "cases.ExclusionSituation": ("assessed_on", "severity", "need_assessment"),
    "cases.InformalWork": ("activity", "hours_per_week", "notes"),
    "cases.LegalStatus": ("residence_status", "valid_until", "notes"),
    "cases.HealthRecord": ("description", "disability_degree", "dependency_grade"),
    "cases.CriminalRecord": ("description", "measure_until"),
    "cases.JobSeekerRecord": ("status", "registered_on", "unemployed_since", "occupation_sought", "driving_licence"),
    "cases.EmploymentHistoryEntry": ("employer", "occupation", "start_date", "end_date"),
    "cases.UnemploymentBenefit": ("kind", "monthly_amount", "start_date", "end_date"),
    "cases.EmployabilityLevel": ("assessed_on", "level", "factors"),
    "cases.ActivePolicyItinerary": ("programme", "start_date", "end_date", "status"),
    "cases.SocialFolderIntervention": ("date", "kind", "description"),
    "cases.CompanyIntermediation": ("date", "company", "position", "outcome"),
    "cases.ChildPovertyDetection": ("detected_on", "minors_affected", "description"),
    "cases.DiaryEntry": ("kind", "happened_at", "demand", "assessment", "resource", "notes"),
    # diagnostics: the instrument assessments and the employability diagnosis and screening are
    # service entries of the record like the sections above (their category is the model's CATEGORY).
    "diagnostics.ExclusionAssessment": ("instrument", "assessed_on", "total_score", "level", "notes"),
    "diagnostics.EmployabilityAssessment": (
        "assessed_on", "level", "suggested_level", "months_unemployed", "education_level", "occupation", "age",
        "languages", "driving_licence", "months_worked_last_two_years", "factors",
    ),
    "diagnostics.BasicEmployabilityScreening": (
        "screened_on", "has_work_experience", "completed_compulsory_education", "speaks_spanish",
        "available_for_work", "has_driving_licence", "basic_digital_skills", "result", "refer_to_employment",
        "notes",
    ),
}


def _section_entries() -> dict[str, dict[str, str]]:
    from django.apps import apps

    out: dict[str, dict[str, str]] = {}
    for label, fields in _SECTION_FIELDS.items():
        category = apps.get_model(label).CATEGORY
        out[label] = {f: category for f in (*ENTRY_METADATA, *fields)}
    return out


def field_catalogue() -> dict[str, dict[str, str]]:
    """Model label → field name → category code, for every model of the record."""
    catalogue = {**FIELDS, **_section_entries()}
    for fields in catalogue.values():
        for category in fields.values():
            if category not in BY_CODE:
                raise LookupError(f"Unknown category {category!r} in the field catalogue")
    return catalogue
