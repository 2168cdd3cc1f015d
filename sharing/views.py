"""Pages of the sharing app: break-the-glass for social workers, the DPO's log and reviews."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ris.accounts.access import role_required
from ris.accounts.models import Role

from .forms import BreakGlassForm, BreakGlassReviewForm, ExactLookupForm
from .models import BreakGlassAccess
from .selectors import access_report, break_glass_pending
from .services import break_glass_open, break_glass_review, person_exact_match


@role_required(Role.SOCIAL_WORKER)
def break_glass(request):
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            access = break_glass_open(
                viewer=request.viewer, document_number=form.cleaned_data["document_number"],
                birth_date=form.cleaned_data["birth_date"], reason=form.cleaned_data["reason"],
                hours=form.cleaned_data["hours"], request_id=getattr(request, "id", ""),
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                form.add_error(None, exc)
        else:
            messages.warning(request, _("Acceso de emergencia abierto hasta las %(t)s. Queda registrado.")
                             % {"t": access.expires_at.astimezone().strftime("%H:%M")})
            return redirect("workspace:person_record", person_id=access.person_id)
    return render(request, "sharing/break_glass.html", {"form": form})


@role_required(Role.DATA_PROTECTION_OFFICER)
def dpo_home(request):
    form = ExactLookupForm(request.GET or None)
    if request.GET and form.is_valid():
        person = person_exact_match(document_number=form.cleaned_data["document_number"],
                                    birth_date=form.cleaned_data["birth_date"])
        if person is not None:
            return redirect("dpo:access_report", person_id=person.pk)
        form.add_error(None, _("No hay ninguna persona con ese documento y esa fecha de nacimiento."))
    pending = list(break_glass_pending()[:100])
    return render(request, "sharing/dpo_home.html", {"form": form, "pending": pending})


@role_required(Role.DATA_PROTECTION_OFFICER)
def dpo_access_report(request, person_id: int):
    from cases.models import Person

    person = get_object_or_404(Person.objects.only("id", "first_name", "last_name_1", "last_name_2",
                                                   "document_number"), pk=person_id)
    entries = list(access_report(person_id=person_id)[:2000])
    return render(request, "sharing/dpo_access_report.html", {"person": person, "entries": entries})


@role_required(Role.DATA_PROTECTION_OFFICER)
@require_POST
def dpo_break_glass_review(request, access_id: int):
    access = get_object_or_404(BreakGlassAccess, pk=access_id)
    form = BreakGlassReviewForm(request.POST)
    if not form.is_valid():
        raise Http404
    try:
        break_glass_review(viewer=request.viewer, access=access, outcome=form.cleaned_data["outcome"],
                           note=form.cleaned_data["note"])
        messages.success(request, _("Revisión registrada."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("dpo:home")
