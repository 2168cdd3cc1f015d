"""The data catalogue lines of the diagnostics record models (to merge into ``cases/catalogue.py``).

Every field of a model that holds person data belongs to a category. The assessments
are service entries: their bookkeeping fields (``ENTRY_METADATA``) take the entry's
category like the sections of ``cases``. Answers and area results belong to their
assessment's category. Alerts and deliveries are derived, shown only through
``AlertDelivery`` texts decided per recipient, and are not record categories.
"""

from __future__ import annotations

from cases.catalogue import ENTRY_METADATA

_EXCLUSION = "exclusion_social"
_EMPLOYABILITY = "empleabilidad"

SECTION_FIELDS: dict[str, tuple[str, ...]] = {
    "diagnostics.ExclusionAssessment": (
        "instrument",
        "assessed_on",
        "total_score",
        "level",
        "notes",
    ),
    "diagnostics.EmployabilityAssessment": (
        "assessed_on",
        "level",
        "suggested_level",
        "months_unemployed",
        "education_level",
        "occupation",
        "age",
        "languages",
        "driving_licence",
        "months_worked_last_two_years",
        "factors",
    ),
    "diagnostics.BasicEmployabilityScreening": (
        "screened_on",
        "has_work_experience",
        "completed_compulsory_education",
        "speaks_spanish",
        "available_for_work",
        "has_driving_licence",
        "basic_digital_skills",
        "result",
        "refer_to_employment",
        "notes",
    ),
}

FIELDS: dict[str, dict[str, str]] = {
    "diagnostics.ExclusionAssessment": {
        f: _EXCLUSION for f in (*ENTRY_METADATA, *SECTION_FIELDS["diagnostics.ExclusionAssessment"])
    },
    "diagnostics.ExclusionAnswer": {
        f: _EXCLUSION for f in ("id", "assessment", "item", "present", "score")
    },
    "diagnostics.ExclusionAreaResult": {
        f: _EXCLUSION for f in ("id", "assessment", "area", "score", "level")
    },
    "diagnostics.EmployabilityAssessment": {
        f: _EMPLOYABILITY
        for f in (*ENTRY_METADATA, *SECTION_FIELDS["diagnostics.EmployabilityAssessment"])
    },
    "diagnostics.BasicEmployabilityScreening": {
        f: _EMPLOYABILITY
        for f in (*ENTRY_METADATA, *SECTION_FIELDS["diagnostics.BasicEmployabilityScreening"])
    },
}
