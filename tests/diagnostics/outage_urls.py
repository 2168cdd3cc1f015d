"""A URLconf for one test only: a page that writes to the record and queues an evaluation, as
``cases`` views will once ``queue_person_evaluation`` is hooked into ``cases.services``."""

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
