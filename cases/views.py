from django.core.paginator import Paginator
from django.shortcuts import render

from ris.accounts.access import role_required
from ris.accounts.models import Role
from sharing.caseload import persons_attended_by

STAFF_ROLES = (Role.SOCIAL_WORKER, Role.EMPLOYMENT_COUNSELLOR, Role.COORDINATOR)


@role_required(Role.SOCIAL_WORKER, Role.EMPLOYMENT_COUNSELLOR)
def workspace_home(request):
    viewer = request.viewer
    persons = persons_attended_by(viewer.organisation_id).order_by("last_name_1", "last_name_2", "first_name")
    page = Paginator(persons.only("id", "first_name", "last_name_1", "last_name_2", "birth_date"), 25).get_page(
        request.GET.get("page")
    )
    return render(request, "cases/workspace_home.html", {"page": page})


@role_required(Role.COORDINATOR)
def coordinator_home(request):
    viewer = request.viewer
    total = persons_attended_by(viewer.organisation_id).count()
    return render(request, "cases/coordinator_home.html", {"caseload_size": total})


def _purpose_from(request) -> str:
    from consent.purposes import Purpose

    purpose = request.GET.get("finalidad", Purpose.FOLLOW_UP)
    return purpose if purpose in Purpose.values and purpose != Purpose.EVALUATION else Purpose.FOLLOW_UP


def _render_record(request, template: str, person_id: int):
    from consent.purposes import Purpose
    from sharing.models import Channel
    from sharing.record import record_for

    purpose = _purpose_from(request)
    record = record_for(viewer=request.viewer, person_id=person_id, purpose=purpose, channel=Channel.WEB,
                        request_id=getattr(request, "id", ""))
    purposes = [(p.value, p.label) for p in Purpose if p != Purpose.EVALUATION]
    return render(request, template, {"record": record, "purpose": purpose, "purposes": purposes})


@role_required(*STAFF_ROLES)
def person_record(request, person_id: int):
    return _render_record(request, "cases/person_record.html", person_id)


@role_required(Role.NGO_TECHNICIAN)
def portal_person_record(request, person_id: int):
    return _render_record(request, "sharing/portal_person_record.html", person_id)


@role_required(*STAFF_ROLES, Role.NGO_TECHNICIAN)
def person_history(request, person_id: int):
    from sharing.history import history_for
    from sharing.models import Channel
    from sharing.record import visible_person

    facts = visible_person(viewer=request.viewer, person_id=person_id, purpose=_purpose_from(request),
                           channel=Channel.WEB, request_id=getattr(request, "id", ""))
    return render(request, "cases/person_history.html", {"events": history_for(facts), "person_id": person_id})
