"""Employability diagnosis (employment) and the basic screening (any service, orientative).

The catalogue lines of the diagnostics record models are tested in ``test_catalogue.py``."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from cases.models import Level
from diagnostics.employability import (
    employability_factors,
    screening_result,
    suggested_employability_level,
)
from diagnostics.models import BasicEmployabilityScreening, EmployabilityAssessment
from diagnostics.services import employability_assessment_record, screening_record
from ris.accounts.viewer import Viewer
from ris.reference.models import EducationLevel, Occupation
from sharing.categories import BY_CODE

from .conftest import today

BASE = {
    "months_unemployed": 0,
    "isced_level": 3,
    "occupation_major_group": "5",
    "age": 35,
    "languages": ["es"],
    "driving_licence": True,
    "months_worked_last_two_years": 20,
}


@pytest.mark.parametrize(
    ("changes", "points", "level"),
    [
        ({}, 0, Level.HIGH),
        ({"months_unemployed": 12, "isced_level": 2}, 3, Level.HIGH),  # 2 + 1
        ({"months_unemployed": 12, "isced_level": 2, "driving_licence": False}, 4, Level.MEDIUM),
        ({"months_unemployed": 30, "isced_level": 1, "age": 57}, 7, Level.LOW),  # 3 + 2 + 2
        (
            {
                "months_unemployed": 6,
                "occupation_major_group": "9",
                "languages": ["ar"],
                "age": 22,
                "months_worked_last_two_years": 0,
            },
            6,
            Level.MEDIUM,
        ),  # 1 + 1 + 1 + 1 + 2
    ],
)
def test_the_suggested_employability_level_adds_the_points_of_each_factor(changes, points, level):
    factors = {**BASE, **changes}
    assert sum(f.points for f in employability_factors(**factors)) == points
    assert suggested_employability_level(**factors) == level


@pytest.mark.parametrize(
    ("negatives", "level"),
    [
        (0, Level.HIGH),
        (1, Level.HIGH),
        (2, Level.MEDIUM),
        (3, Level.MEDIUM),
        (4, Level.LOW),
        (6, Level.LOW),
    ],
)
def test_the_screening_result_counts_the_answers_no(negatives, level):
    questions = [
        "has_work_experience",
        "completed_compulsory_education",
        "speaks_spanish",
        "available_for_work",
        "has_driving_licence",
        "basic_digital_skills",
    ]
    answers = {q: i >= negatives for i, q in enumerate(questions)}
    assert screening_result(answers) == level


@pytest.mark.django_db
def test_the_employment_service_records_the_diagnosis_with_the_suggestion_beside_its_own_level(
    world,
):
    person = world.person(attended_by=("employment", "social"))
    counsellor = Viewer.from_membership(world.employment_counsellor.memberships.get())
    entry = employability_assessment_record(
        viewer=counsellor,
        person_id=person.pk,
        assessed_on=today(),
        level=Level.MEDIUM,
        months_unemployed=30,
        education_level=EducationLevel.objects.filter(isced_level=1).first(),
        occupation=Occupation.objects.filter(major_group="9").first(),
        age=57,
        languages=["es"],
        driving_licence=True,
        months_worked_last_two_years=0,
        factors="Disponibilidad de mañana",
    )
    assert entry.level == Level.MEDIUM and entry.suggested_level == Level.LOW
    assert entry.recorded_by_service == "employment" and entry.CATEGORY == "empleabilidad"
    social = Viewer.from_membership(world.social_worker.memberships.get())
    with pytest.raises(PermissionDenied):
        employability_assessment_record(
            viewer=social,
            person_id=person.pk,
            assessed_on=today(),
            level=Level.LOW,
            months_unemployed=1,
            age=40,
            languages=[],
            driving_licence=False,
            months_worked_last_two_years=0,
        )


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["social_worker", "ngo_technician", "employment_counsellor"])
def test_any_service_that_attends_the_person_may_record_a_screening(world, who):
    key = {
        "social_worker": "social",
        "ngo_technician": "ngo",
        "employment_counsellor": "employment",
    }[who]
    person = world.person(attended_by=(key,))
    viewer = Viewer.from_membership(getattr(world, who).memberships.get())
    answers = {
        "has_work_experience": False,
        "completed_compulsory_education": False,
        "speaks_spanish": True,
        "available_for_work": True,
        "has_driving_licence": False,
        "basic_digital_skills": True,
    }
    entry = screening_record(
        viewer=viewer, person_id=person.pk, screened_on=today(), answers=answers
    )
    assert entry.result == Level.MEDIUM and entry.recorded_by_service == viewer.service
    assert "orientativo" in str(BasicEmployabilityScreening._meta.verbose_name)
    stranger = world.person(attended_by=())
    with pytest.raises(PermissionDenied):
        screening_record(viewer=viewer, person_id=stranger.pk, screened_on=today(), answers=answers)


def test_the_assessments_are_record_sections_of_their_categories():
    assert (
        EmployabilityAssessment.CATEGORY == BasicEmployabilityScreening.CATEGORY == "empleabilidad"
    )
    assert BY_CODE["empleabilidad"].owner_service == "employment"
