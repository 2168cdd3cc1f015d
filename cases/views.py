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
