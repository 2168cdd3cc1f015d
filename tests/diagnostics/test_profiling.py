"""Profiling: the documented table exclusion × employability → who leads, with its reasons; advisory only."""

from __future__ import annotations

import pytest
from django.http import Http404

from cases.models import ExclusionSituation, Level
from diagnostics.models import EmployabilityAssessment
from diagnostics.profiling import TABLE, Lead, profile
from diagnostics.selectors import profiling_for
from ris.accounts.viewer import Viewer
from sharing.models import DisclosureLogEntry

from .conftest import PREVENTION, today

S, E, J = Lead.SOCIAL, Lead.EMPLOYMENT, Lead.JOINT
EXPECTED = {
    "integration": {"high": E, "medium": E, "low": E},
    "risk": {"high": E, "medium": E, "low": J},
    "moderate": {"high": J, "medium": J, "low": S},
    "severe": {"high": J, "medium": S, "low": S},
}


@pytest.mark.parametrize("exclusion", list(EXPECTED))
@pytest.mark.parametrize("employability", ["high", "medium", "low"])
def test_the_table(exclusion, employability):
    result = profile(exclusion_level=exclusion, employability_level=employability)
    assert result.lead == EXPECTED[exclusion][employability]
    assert len(result.reasons) == 2 and all(r.endswith(".") for r in result.reasons)
    assert "art. 22" in result.advisory_note


def test_the_table_is_complete():
    assert len(TABLE) == 12


def test_the_reasons_name_both_levels():
    result = profile(exclusion_level="severe", employability_level="medium")
    assert "exclusión grave" in result.reasons[0] and "empleabilidad media" in result.reasons[0]
    assert result.lead_label == "Lidera servicios sociales"


@pytest.mark.parametrize(
    ("exclusion", "employability"), [(None, "high"), ("risk", None), (None, None)]
)
def test_no_proposal_without_both_levels(exclusion, employability):
    result = profile(exclusion_level=exclusion, employability_level=employability)
    assert result.lead is None and result.reasons
    assert result.lead_label == "Sin propuesta"


@pytest.mark.django_db
def test_profiling_through_sharing_uses_only_what_the_viewer_sees(world):
    person = world.person(attended_by=("social", "employment"))
    world.entry(ExclusionSituation, person, by="social", severity="moderate", assessed_on=today())
    world.entry(
        EmployabilityAssessment,
        person,
        by="employment",
        level=Level.LOW,
        suggested_level=Level.LOW,
        assessed_on=today(),
        age=50,
    )
    social = Viewer.from_membership(world.social_worker.memberships.get())
    without_consent = profiling_for(viewer=social, person_id=person.pk, purpose=PREVENTION)
    assert (
        without_consent.exclusion_level == "moderate"
        and without_consent.employability_level is None
    )
    assert without_consent.lead is None
    assert not DisclosureLogEntry.objects.filter(person=person, event="disclosure").exists()

    world.consent(person)
    with_consent = profiling_for(viewer=social, person_id=person.pk, purpose=PREVENTION)
    assert with_consent.lead == Lead.SOCIAL
    logged = DisclosureLogEntry.objects.get(person=person, event="disclosure")
    assert logged.category == "empleabilidad" and logged.basis.startswith("consent:")


@pytest.mark.django_db
def test_profiling_outside_the_caseload_is_a_404(world):
    person = world.person(attended_by=("employment",))
    social = Viewer.from_membership(world.social_worker.memberships.get())
    with pytest.raises(Http404):
        profiling_for(viewer=social, person_id=person.pk, purpose=PREVENTION)
