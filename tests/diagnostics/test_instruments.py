"""The social exclusion instrument: loaded with its source, scored by data, cut-offs per area and total."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory

from diagnostics.admin import instrument_duplicate
from diagnostics.instruments import level_for, score
from diagnostics.models import (
    AreaKind,
    CutOff,
    ExclusionAnswer,
    ExclusionAreaResult,
    ExclusionAssessment,
    Instrument,
    Item,
)
from diagnostics.services import exclusion_assessment_record
from ris.accounts.viewer import Viewer

from .conftest import today

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[2] / "diagnostics" / "data"


@pytest.fixture
def foessa() -> Instrument:
    return Instrument.objects.get(code="foessa-35", version="2014-recuento")


def items_of(instrument, *codes) -> list[int]:
    return list(
        Item.objects.filter(area__instrument=instrument, code__in=codes).values_list(
            "pk", flat=True
        )
    )


def test_the_foessa_instrument_is_loaded_with_its_source_and_what_is_unverified(foessa):
    items = Item.objects.filter(area__instrument=foessa)
    assert items.count() == 35
    assert set(items.values_list("source_dimension", flat=True)) == {
        "Empleo",
        "Consumo",
        "Participación política",
        "Educación",
        "Vivienda",
        "Salud",
        "Conflicto social",
        "Aislamiento social",
    }
    assert set(foessa.areas.values_list("kind", flat=True)) == set(AreaKind.values)
    assert "FOESSA" in foessa.source and foessa.source_url.startswith("https://")
    assert "no está contrastado" in foessa.unverified
    assert not items.filter(
        verified=True
    ).exists()  # nobody read the original table: said so, item by item
    total = dict(
        CutOff.objects.filter(instrument=foessa, area__isnull=True).values_list(
            "level", "min_score"
        )
    )
    assert total == {"integration": 0, "risk": 1, "moderate": 2, "severe": 4}
    assert not CutOff.objects.filter(
        instrument=foessa, area__isnull=True, from_source=False
    ).exists()
    assert not CutOff.objects.filter(
        instrument=foessa, area__isnull=False, from_source=True
    ).exists()


def test_the_data_files_cite_their_sources():
    for name in (
        "foessa_exclusion_35.csv",
        "foessa_exclusion_35_cutoffs.csv",
        "ine_umbral_riesgo_pobreza_complemento.csv",
        "ine_umbral_riesgo_pobreza_estimaciones.csv",
    ):
        text = (DATA / name).read_text(encoding="utf-8")
        assert "http" in text and ("NOT VERIFIED" in text or "RIS convention" in text), name
    with open(DATA / "foessa_exclusion_35.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    assert len(rows) == 35 and len({r["code"] for r in rows}) == 35


@pytest.mark.parametrize(
    ("codes", "level"),
    [
        ((), "integration"),
        (("E1",), "risk"),
        (("E1", "V1"), "moderate"),
        (("E1", "V1", "S1"), "moderate"),
        (("E1", "V1", "S1", "F1"), "severe"),
        (("E1", "E2", "E3", "E4", "E5", "E6", "V1"), "severe"),
    ],
)
def test_total_score_and_level_by_counting(foessa, codes, level):
    result = score(foessa, items_of(foessa, *codes))
    assert result.total == len(codes)
    assert result.level == level
    assert len(result.answers) == 35 and sum(
        1 for _, present, _ in result.answers if present
    ) == len(codes)


def test_area_scores_and_levels(foessa):
    result = score(foessa, items_of(foessa, "V1", "V2", "V3", "V4", "C1", "C2", "S1"))
    areas = {a.kind: (a.score, a.level) for a in result.areas}
    assert areas["housing"] == (4, "severe")
    assert areas["economic"] == (2, "moderate")  # two items: the most this area can reach
    assert areas["health"] == (1, "risk")
    assert areas["employment"] == (0, "integration")


def test_level_for_takes_the_highest_cut_off_reached():
    cutoffs = [
        ("severe", Decimal(10)),
        ("integration", Decimal(0)),
        ("risk", Decimal("2.5")),
        ("moderate", Decimal(5)),
    ]
    assert [level_for(Decimal(s), cutoffs) for s in ("0", "2.49", "2.5", "9.99", "10", "40")] == [
        "integration",
        "integration",
        "risk",
        "moderate",
        "severe",
        "severe",
    ]
    assert level_for(Decimal(3), []) == ""
    assert level_for(Decimal(1), [("risk", Decimal(2))]) == ""


def test_the_instrument_is_data_a_new_version_scores_with_its_own_weights(foessa):
    version = instrument_duplicate(foessa)
    Item.objects.filter(area__instrument=version, code="V1").update(score=4)
    assert score(version, items_of(version, "V1")).level == "severe"
    assert score(foessa, items_of(foessa, "V1")).level == "risk"
    assert Item.objects.filter(area__instrument=version).count() == 35
    assert version.cutoffs.count() == foessa.cutoffs.count() and not version.is_active


def test_a_social_worker_records_an_assessment_with_answers_and_area_results(world, foessa):
    person = world.person()
    viewer = Viewer.from_membership(world.social_worker.memberships.get())
    assessment = exclusion_assessment_record(
        viewer=viewer,
        person_id=person.pk,
        instrument=foessa,
        present_item_ids=items_of(foessa, "E1", "E6", "V5"),
        assessed_on=today(),
        notes="Primera valoración",
    )
    assessment.refresh_from_db()
    assert (assessment.total_score, assessment.level) == (3, "moderate")
    assert assessment.recorded_by_service == "social" and assessment.CATEGORY == "exclusion_social"
    assert ExclusionAnswer.objects.filter(assessment=assessment).count() == 35
    assert ExclusionAnswer.objects.filter(assessment=assessment, present=True).count() == 3
    results = dict(
        ExclusionAreaResult.objects.filter(assessment=assessment).values_list("area__kind", "level")
    )
    assert (
        results["employment"] == "moderate"
        and results["housing"] == "risk"
        and results["health"] == "integration"
    )


def test_editing_an_item_later_does_not_rewrite_past_answers(world, foessa):
    person = world.person()
    viewer = Viewer.from_membership(world.social_worker.memberships.get())
    assessment = exclusion_assessment_record(
        viewer=viewer,
        person_id=person.pk,
        instrument=foessa,
        present_item_ids=items_of(foessa, "E1"),
        assessed_on=today(),
    )
    Item.objects.filter(area__instrument=foessa, code="E1").update(score=9)
    answer = ExclusionAnswer.objects.get(assessment=assessment, item__code="E1")
    assessment.refresh_from_db()
    assert answer.score == 1 and assessment.total_score == 1


def test_only_social_services_that_attend_the_person_record_it(world, foessa):
    person = world.person(attended_by=("social", "employment"))
    counsellor = Viewer.from_membership(world.employment_counsellor.memberships.get())
    with pytest.raises(PermissionDenied):
        exclusion_assessment_record(
            viewer=counsellor,
            person_id=person.pk,
            instrument=foessa,
            present_item_ids=[],
            assessed_on=today(),
        )
    stranger = world.person(attended_by=("employment",))
    social = Viewer.from_membership(world.social_worker.memberships.get())
    with pytest.raises(PermissionDenied):
        exclusion_assessment_record(
            viewer=social,
            person_id=stranger.pk,
            instrument=foessa,
            present_item_ids=[],
            assessed_on=today(),
        )
    assert not ExclusionAssessment.objects.exists()


def test_answers_from_another_instrument_or_a_future_date_are_refused(world, foessa):
    person = world.person()
    viewer = Viewer.from_membership(world.social_worker.memberships.get())
    other = instrument_duplicate(foessa)
    with pytest.raises(ValidationError):
        exclusion_assessment_record(
            viewer=viewer,
            person_id=person.pk,
            instrument=foessa,
            present_item_ids=items_of(other, "E1"),
            assessed_on=today(),
        )
    with pytest.raises(ValidationError):
        exclusion_assessment_record(
            viewer=viewer,
            person_id=person.pk,
            instrument=foessa,
            present_item_ids=[],
            assessed_on=today() + dt.timedelta(days=1),
        )
    assert not ExclusionAssessment.objects.exists()


def test_a_used_instrument_is_read_only_in_the_admin(world, foessa, administrator):
    request = RequestFactory().get("/admin/")
    request.user = administrator
    model_admin = admin.site._registry[Instrument]
    assert model_admin.has_change_permission(request, foessa)
    viewer = Viewer.from_membership(world.social_worker.memberships.get())
    exclusion_assessment_record(
        viewer=viewer,
        person_id=world.person().pk,
        instrument=foessa,
        present_item_ids=[],
        assessed_on=today(),
    )
    assert not model_admin.has_change_permission(request, foessa)
    assert not admin.site._registry[Item].has_change_permission(
        request, Item.objects.filter(area__instrument=foessa).first()
    )
