"""The staff workspace (/espacio/): start pages, search, registration, the record pages, and
the administrators' merge page.

Thin views: parse, call one selector or service, render. Every view declares who may
use it; anyone else gets a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ris.accounts.access import role_required
from ris.accounts.models import Role

from . import selectors
from .forms import MergeForm, PersonRegistrationForm, SearchForm
from .identity import DOCUMENT_REFUSED
from .merge import MergeRefused
from .merge import person_merge as merge_records
from .screening import screen_registration
from .search import check_identity, parse_query, search_caseload

STAFF_ROLES = (Role.SOCIAL_WORKER, Role.EMPLOYMENT_COUNSELLOR, Role.COORDINATOR)
CASEWORKER_ROLES = (Role.SOCIAL_WORKER, Role.EMPLOYMENT_COUNSELLOR)

#: The person a "link through a referral" request was verified for (set by person_link_request,
#: read by coordination's link request page).
LINK_SESSION_KEY = "ris_link_person_id"
#: coordination's page that starts the link through a referral.
LINK_REFERRAL_URL_NAME = "coordination:referral_link_request"


def _request_id(request) -> str:
    return getattr(request, "id", "")


# --- Start pages ----------------------------------------------------------------------------------


@role_required(*CASEWORKER_ROLES)
def workspace_home(request):
    viewer = request.viewer
    caseload = selectors.caseload_page(
        organisation_id=viewer.organisation_id,
        user_id=viewer.user_id,
        sort=request.GET.get("orden"),
        page_number=request.GET.get("page"),
    )
    context = {
        "caseload": caseload,
        "record_url_name": "workspace:person_record",
        "list_url": request.path,
    }
    if request.htmx:
        return render(request, "cases/_caseload_table.html", context)
    return render(request, "cases/workspace_home.html", context)


@role_required(Role.COORDINATOR)
def coordinator_home(request):
    viewer = request.viewer
    summary = selectors.coordinator_summary(
        organisation_id=viewer.organisation_id, user_id=viewer.user_id
    )
    return render(
        request,
        "cases/coordinator_home.html",
        {"summary": summary, "caseload_size": summary.caseload_size},
    )


# --- Search ---------------------------------------------------------------------------------------


@role_required(*STAFF_ROLES)
def person_search(request):
    form = SearchForm(request.GET or None)
    result = None
    if form.is_valid() and form.cleaned_data["q"]:
        result = search_caseload(
            viewer=request.viewer,
            query=parse_query(form.cleaned_data["q"]),
            request_id=_request_id(request),
        )
    context = {"form": form, "result": result}
    if request.htmx:
        return render(request, "cases/_search_results.html", context)
    return render(request, "cases/person_search.html", context)


# --- Registration ---------------------------------------------------------------------------------


def _link_context(document: str, birth_date) -> dict:
    return {"link_document": document, "link_birth_date": birth_date}


@role_required(*CASEWORKER_ROLES)
def person_register(request):
    """New person: valid form → same document anywhere? → similar in the caseload? → create."""
    viewer = request.viewer
    form = PersonRegistrationForm(request.POST or None)
    context: dict = {"form": form, "duplicates": [], "confirm": None}
    if request.method != "POST" or not form.is_valid():
        return render(request, "cases/person_register.html", context)

    data = form.person_data()
    screening = screen_registration(viewer=viewer, data=data, post=request.POST, request_id=_request_id(request))
    if screening.attended_id is not None:
        context["attended_person_id"] = screening.attended_id
        return render(request, "cases/person_register.html", context)
    if screening.elsewhere:
        context.update(exists_elsewhere=True, **_link_context(data["document_number"], data["birth_date"]))
        return render(request, "cases/person_register.html", context)
    if screening.refused:  # someone else's document: the answer does not say so (decision 0008)
        form.add_error("document_number", DOCUMENT_REFUSED)
        return render(request, "cases/person_register.html", context)
    if not screening.may_create:
        context.update(duplicates=screening.duplicates, confirm=screening.confirm,
                       duplicates_seen=screening.duplicates_seen)
        return render(request, "cases/person_register.html", context)

    from .services import person_register as register

    try:
        person = register(viewer=viewer, data=data)
    except ValidationError as exc:
        for field_name, errors in getattr(exc, "error_dict", {None: exc.error_list}).items():
            for error in errors:
                form.add_error(field_name if field_name in form.fields else None, error)
        return render(request, "cases/person_register.html", context)
    messages.success(
        request,
        _(
            "Persona dada de alta. Su organización la atiende y usted es su profesional "
            "de referencia."
        ),
    )
    return redirect("workspace:person_record", person_id=person.pk)


@role_required(*STAFF_ROLES)
@require_POST
def person_link_request(request):
    """After "esta persona ya consta en el sistema": link the existing record through a referral."""
    from sharing.forms import ExactLookupForm

    form = ExactLookupForm(
        {
            "document_number": request.POST.get("document_number", ""),
            "birth_date": request.POST.get("birth_date", ""),
        }
    )
    if not form.is_valid():
        raise Http404
    found = check_identity(
        viewer=request.viewer,
        document=form.cleaned_data["document_number"],
        birth_date=form.cleaned_data["birth_date"],
        context="referral",
        request_id=_request_id(request),
    )
    if found.attended_id is not None:
        return redirect("workspace:person_record", person_id=found.attended_id)
    if found.elsewhere_id is None:  # someone else's document, or nobody's: logged, and the same 404
        raise Http404
    person_id = found.elsewhere_id
    request.session[LINK_SESSION_KEY] = person_id
    try:
        return redirect(reverse(LINK_REFERRAL_URL_NAME))
    except NoReverseMatch:
        return render(request, "cases/person_link_request.html", {})


# --- Merge (administrators) -----------------------------------------------------------------------


@role_required(Role.ADMINISTRATOR)
def person_merge(request):
    """Merge two records of one person: a preview (the merge, rolled back), then the merge."""
    from django.contrib import admin

    if not admin.site.has_permission(request):  # the admin's rule: staff and administrator role
        raise Http404
    if request.method == "POST":
        form = MergeForm(request.POST)
    else:
        form = (
            MergeForm(
                {
                    "surviving": request.GET.get("permanece", ""),
                    "merged": request.GET.get("fusionado", ""),
                    "reason": "",
                }
            )
            if request.GET
            else MergeForm()
        )
    report = None
    if form.is_bound and form.is_valid():
        surviving, merged = form.cleaned_data["surviving"], form.cleaned_data["merged"]
        confirmed = request.method == "POST" and "confirm" in request.POST
        try:
            report = merge_records(
                viewer=request.viewer,
                surviving_id=surviving,
                merged_id=merged,
                reason=form.cleaned_data["reason"],
                dry_run=not confirmed,
            )
        except MergeRefused as exc:
            form.add_error("reason" if exc.code == "reason" else None, exc.messages[0])
            if exc.code == "reason":  # keep the preview on the page while the reason is added
                report = merge_records(
                    viewer=request.viewer,
                    surviving_id=surviving,
                    merged_id=merged,
                    reason="",
                    dry_run=True,
                )
        else:
            if confirmed:
                messages.success(
                    request,
                    _("Registros fusionados: %(merged)s → %(surviving)s.")
                    % {"merged": merged, "surviving": surviving},
                )
                return redirect("admin:cases_person_change", surviving)
    context = {
        **admin.site.each_context(request),
        "form": form,
        "report": report,
        "title": _("Fusionar dos registros de la misma persona"),
    }
    return render(request, "cases/person_merge.html", context)


# --- The record: superseded by cases.record_views (the URLconf uses those), kept unchanged until re
