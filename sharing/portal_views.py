from django.core.paginator import Paginator
from django.shortcuts import render

from ris.accounts.access import role_required
from ris.accounts.models import Role

from .caseload import persons_attended_by


@role_required(Role.NGO_TECHNICIAN)
def portal_home(request):
    persons = persons_attended_by(request.viewer.organisation_id).order_by("last_name_1", "first_name")
    page = Paginator(persons.only("id", "first_name", "last_name_1", "last_name_2", "birth_date"), 25).get_page(
        request.GET.get("page")
    )
    return render(request, "sharing/portal_home.html", {"page": page})
