"""A URLconf for one test only: a minimal page that records a screening and queues an evaluation
(the real record pages are covered in test_queued_on_change.py)."""

from django.http import HttpResponse
from django.urls import path
from django.utils import timezone

from diagnostics.services import screening_record
from ris.accounts.access import role_required
from ris.accounts.models import Role


@role_required(Role.SOCIAL_WORKER)
def record_screening(request, person_id: int):
    answers = {
        q: True
        for q in (
            "has_work_experience",
            "completed_compulsory_education",
            "speaks_spanish",
            "available_for_work",
            "has_driving_licence",
            "basic_digital_skills",
        )
    }
    screening_record(
        viewer=request.viewer,
        person_id=person_id,
        screened_on=timezone.localdate(),
        answers=answers,
    )
    return HttpResponse("guardado")


urlpatterns = [path("cribado/<int:person_id>/", record_screening, name="record_screening")]
