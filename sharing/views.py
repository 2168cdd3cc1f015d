"""Pages of the sharing app: break-the-glass for social workers, the DPO's log and reviews."""

import csv

from django.contrib import messages
from django.core.paginator import Paginator
from django.core.exceptions import ValidationError
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
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


#: Lines of the access report per page; the CSV download holds every line.
ACCESS_REPORT_PAGE = 1000


def _report_person(person_id: int):
    from cases.models import Person

    return get_object_or_404(Person.objects.only("id", "first_name", "last_name_1", "last_name_2",
                                                 "document_number"), pk=person_id)


@role_required(Role.DATA_PROTECTION_OFFICER)
def dpo_access_report(request, person_id: int):
    """Every line of the disclosure log about the person, newest first, by pages: the page says
    how many there are in all, and the CSV download (``dpo_access_report_csv``) holds them all."""
    person = _report_person(person_id)
    page = Paginator(access_report(person_id=person_id), ACCESS_REPORT_PAGE).get_page(request.GET.get("pagina"))
    return render(request, "sharing/dpo_access_report.html", {"person": person, "page": page,
                                                               "entries": page.object_list})


class _Echo:
    def write(self, value):
        return value


@role_required(Role.DATA_PROTECTION_OFFICER)
def dpo_access_report_csv(request, person_id: int):
    """The whole access report as CSV (read in chunks, written as it is read)."""
    person = _report_person(person_id)
    writer = csv.writer(_Echo())
    header = [_("Fecha y hora"), _("Evento"), _("Organización"), _("Profesional"), _("Categoría"), _("Nivel"),
              _("Finalidad"), _("Base")]

    def rows():
        yield writer.writerow(header)
        for e in access_report(person_id=person_id).iterator(chunk_size=2000):
            yield writer.writerow([
                timezone.localtime(e.at).strftime("%d/%m/%Y %H:%M:%S"), e.get_event_display(),
                str(e.organisation or ""), str(e.user or ""), e.category, e.level, e.purpose, e.basis,
            ])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="registro-accesos-persona-{person.pk}.csv"'
    return response


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
