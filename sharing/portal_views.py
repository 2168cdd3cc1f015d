"""The NGO restricted portal (/portal/): Third-Sector technicians only.

An NGO works with the persons its organisation attends under a sharing agreement
(convenio) in force: without one, the portal lists nobody and records nothing. The
record page (``cases.record_views.portal_person_record``) is the filtered record of
``sharing.record.record_for``, where the agreement's categories and the person's
consent decide what the NGO sees of other services' data. Technicians record
interventions in the person's carpeta social and child-poverty detections, always
through ``cases.services.entry_create`` (own-service rule, caseload check).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.forms import ChildPovertyDetectionForm, SocialFolderInterventionForm
from cases.models import ChildPovertyDetection, Person, SocialFolderIntervention
from cases.selectors import caseload_page
from cases.services import entry_create
from ris.accounts.access import role_required
from ris.accounts.models import Role

from .caseload import organisation_attends
from .models import SharingAgreement


def agreement_in_force(organisation_id: int) -> bool:
    today = timezone.localdate()
    return SharingAgreement.objects.filter(
        organisation_id=organisation_id,
        valid_from__lte=today,
        valid_until__gte=today,
    ).exists()


@role_required(Role.NGO_TECHNICIAN)
def portal_home(request):
    viewer = request.viewer
    has_agreement = agreement_in_force(viewer.organisation_id)
    caseload = None
    if has_agreement:
        caseload = caseload_page(
            organisation_id=viewer.organisation_id,
            user_id=viewer.user_id,
            sort=request.GET.get("orden"),
            page_number=request.GET.get("page"),
        )
    context = {
        "caseload": caseload,
        "has_agreement": has_agreement,
        "record_url_name": "portal:person_record",
        "list_url": request.path,
    }
    if request.htmx and caseload is not None:
        return render(request, "cases/_caseload_table.html", context)
    return render(request, "sharing/portal_home.html", context)


def _person_for_entry(request, person_id: int) -> Person:
    """The person, if the NGO attends them under an agreement in force; else 404 (as if absent)."""
    viewer = request.viewer
    if not (
        organisation_attends(viewer.organisation_id, person_id)
        and agreement_in_force(viewer.organisation_id)
    ):
        raise Http404
    return Person.objects.only("id", "first_name", "last_name_1", "last_name_2").get(pk=person_id)


def _entry_form_view(request, person_id: int, *, model, form_class, template: str, done: str):
    person = _person_for_entry(request, person_id)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            entry_create(
                viewer=request.viewer, model=model, person_id=person.pk, data=form.cleaned_data
            )
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as exc:
            for field_name, errors in getattr(exc, "error_dict", {None: exc.error_list}).items():
                for error in errors:
                    form.add_error(field_name if field_name in form.fields else None, error)
        else:
            messages.success(request, done)
            return redirect("portal:person_record", person_id=person.pk)
    return render(request, template, {"form": form, "person": person})


@role_required(Role.NGO_TECHNICIAN)
def intervention_new(request, person_id: int):
    return _entry_form_view(
        request,
        person_id,
        model=SocialFolderIntervention,
        form_class=SocialFolderInterventionForm,
        template="sharing/portal_intervention_form.html",
        done=_("Intervención registrada en la carpeta social."),
    )


@role_required(Role.NGO_TECHNICIAN)
def child_poverty_new(request, person_id: int):
    return _entry_form_view(
        request,
        person_id,
        model=ChildPovertyDetection,
        form_class=ChildPovertyDetectionForm,
        template="sharing/portal_child_poverty_form.html",
        done=_("Detección de pobreza infantil registrada."),
    )
