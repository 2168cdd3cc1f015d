"""The alert inbox, and the forms that record assessments from the person's record.

Alerts: my alerts and my organisation's queue, acknowledge, resolve with a note. Staff
read them in the workspace (/espacio/alertas/); NGO technicians in their restricted portal
(the ``portal_*`` views, routed under /portal/alertas/ by ``sharing/portal_urls.py``),
never under /espacio/.

Assessments, under the record's URL space: the employment counsellor's employability
diagnosis and the social worker's exclusion assessment in the workspace
(/espacio/personas/<id>/diagnosticos/...), the basic employability screening in the
workspace for social services and in the portal (/portal/personas/<id>/diagnosticos/...)
for NGO technicians, whose organisation needs an agreement in force. Each needs the
person in the caseload (an emergency access only reads) and writes through
``diagnostics.services``.

The organisation that recorded an assessment edits it (``*_update``, .../<entry id>/);
for anyone else the entry does not exist (404). The form carries the version it was
read at: a save on a stale version is refused (409) and the page shows what the user
typed next to what is saved now, keeping the form as typed, like the record's sections.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.models import Person
from cases.record_views import (
    attended_for_writing,
    attended_person,
    form_at_version,
    own_space,
    space_of,
)
from cases.services import StaleVersion
from ris.accounts.access import role_required
from ris.accounts.models import Role
from sharing.categories import BY_CODE, COMMON
from sharing.policy import FULL, decide

from . import services
from .forms import (
    EmployabilityAssessmentForm,
    ExclusionAssessmentForm,
    ResolveForm,
    ScreeningForm,
    active_instruments,
    conflict_rows,
)
from .models import BasicEmployabilityScreening, EmployabilityAssessment, ExclusionAssessment
from .record import SCREENING_NOTE
from .selectors import delivery_for, inbox_for
from .services import alert_acknowledge, alert_resolve

WORKSPACE_ROLES = (Role.SOCIAL_WORKER, Role.EMPLOYMENT_COUNSELLOR, Role.COORDINATOR)

_ROUTES = {
    "alerts": {
        "inbox": "alerts:inbox",
        "acknowledge": "alerts:acknowledge",
        "resolve": "alerts:resolve",
        "person": "workspace:person_record",
    },
    "portal": {
        "inbox": "portal:alert_inbox",
        "acknowledge": "portal:alert_acknowledge",
        "resolve": "portal:alert_resolve",
        "person": "portal:person_record",
    },
}


def _inbox(request, routes: dict):
    resolved = request.GET.get("estado") == "resueltas"
    inbox = inbox_for(viewer=request.viewer, resolved=resolved)
    return render(
        request,
        "diagnostics/alert_inbox.html",
        {"inbox": inbox, "resolved": resolved, "form": ResolveForm(), "routes": routes},
    )


def _acknowledge(request, delivery_id: int, routes: dict):
    delivery = delivery_for(viewer=request.viewer, delivery_id=delivery_id)
    if alert_acknowledge(viewer=request.viewer, delivery=delivery):
        messages.success(request, _("Alerta marcada como vista."))
    return redirect(routes["inbox"])


def _resolve(request, delivery_id: int, routes: dict):
    delivery = delivery_for(viewer=request.viewer, delivery_id=delivery_id)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(routes["inbox"])
    try:
        alert_resolve(viewer=request.viewer, delivery=delivery, note=form.cleaned_data["note"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Alerta resuelta."))
    return redirect(routes["inbox"])


@role_required(*WORKSPACE_ROLES)
def alert_inbox(request):
    return _inbox(request, _ROUTES["alerts"])


@role_required(*WORKSPACE_ROLES)
@require_POST
def alert_acknowledge_view(request, delivery_id: int):
    return _acknowledge(request, delivery_id, _ROUTES["alerts"])


@role_required(*WORKSPACE_ROLES)
@require_POST
def alert_resolve_view(request, delivery_id: int):
    return _resolve(request, delivery_id, _ROUTES["alerts"])


@role_required(Role.NGO_TECHNICIAN)
def portal_alert_inbox(request):
    return _inbox(request, _ROUTES["portal"])


@role_required(Role.NGO_TECHNICIAN)
@require_POST
def portal_alert_acknowledge(request, delivery_id: int):
    return _acknowledge(request, delivery_id, _ROUTES["portal"])


@role_required(Role.NGO_TECHNICIAN)
@require_POST
def portal_alert_resolve(request, delivery_id: int):
    return _resolve(request, delivery_id, _ROUTES["portal"])


# --- Recording assessments from the record -------------------------------------------------------


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        form.add_error(None, exc)


def _record_url(request, person_id: int, anchor: str) -> str:
    return f"{reverse(f'{space_of(request)}:person_record', args=[person_id])}#{anchor}"


def _render_form(request, person_id: int, *, model, form, context=None, status: int = 200):
    person = Person.objects.only("id", "first_name", "last_name_1", "last_name_2").get(pk=person_id)
    return render(
        request,
        "diagnostics/assessment_form.html",
        {
            "form": form,
            "person": person,
            "person_id": person_id,
            "ns": space_of(request),
            "model_label": model._meta.verbose_name,
            "category_label": BY_CODE[model.CATEGORY].label,
            **(context or {}),
        },
        status=status,
    )


def _assessment_page(request, person_id: int, *, model, form, record, done: str, context=None):
    """Validate, record through ``record(form)``, and go back to the record; or show the errors."""
    if request.method == "POST" and form.is_valid():
        try:
            entry = record(form)
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect(
                _record_url(request, person_id, f"cat-{entry.CATEGORY}-{entry.recorded_by_service}")
            )
    return _render_form(request, person_id, model=model, form=form, context=context)


def _own_entry(request, model, person_id: int, entry_id: int):
    """An entry of the person recorded by the viewer's organisation; any other, or none: 404."""
    entry = model.objects.filter(
        pk=entry_id,
        person_id=person_id,
        recorded_by_org_id=request.viewer.organisation_id,
        recorded_by_service=request.viewer.service,
    ).first()
    if entry is None:
        raise Http404
    return entry


def _edit_page(request, person_id: int, *, entry, make_form, save, done: str, context=None):
    """Edit ``entry`` with ``make_form(data, entry)``, saving through ``save(form)``. A stale
    version is refused with the user's values kept and shown next to the saved ones (409)."""
    model = type(entry)
    form = make_form(request.POST or None, entry)
    conflict = None
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            save(form)
        except StaleVersion as exc:
            current = model.objects.get(pk=entry.pk)
            conflict = {
                "message": exc.messages[0],
                "rows": conflict_rows(form, make_form(None, current)),
            }
            form = form_at_version(request, current, lambda data: make_form(data, current))
            status = 409
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect(
                _record_url(request, person_id, f"cat-{entry.CATEGORY}-{entry.recorded_by_service}")
            )
    context = {**(context or {}), "editing": True, "entry": entry, "conflict": conflict}
    return _render_form(request, person_id, model=model, form=form, context=context, status=status)


@role_required(Role.EMPLOYMENT_COUNSELLOR)
@own_space
def employability_assessment_create(request, person_id: int):
    """The employment service's employability diagnosis (/espacio/personas/<id>/diagnosticos/...)."""
    facts = attended_person(request, person_id)
    initial = {"assessed_on": timezone.localdate()}
    if decide(facts, "ficha_basica", COMMON).level == FULL:  # prefilled from the basic sheet only
        person = Person.objects.only("birth_date", "languages", "education_level").get(pk=person_id)
        initial.update(
            age=person.age_on(timezone.localdate()),
            languages=", ".join(person.languages),
            education_level=person.education_level_id,
        )
    form = EmployabilityAssessmentForm(request.POST or None, initial=initial)
    return _assessment_page(
        request,
        person_id,
        model=EmployabilityAssessment,
        form=form,
        record=lambda f: services.employability_assessment_record(
            viewer=request.viewer, person_id=person_id, **f.service_data
        ),
        done=_("Diagnóstico de empleabilidad guardado."),
        context={
            "intro": _(
                "El nivel de empleabilidad lo decide usted. Los factores (desempleo, formación, "
                "ocupación, edad, idiomas, permiso de conducir y trabajo reciente) sugieren un "
                "nivel que se guarda a su lado como orientación."
            )
        },
    )


@role_required(Role.SOCIAL_WORKER, Role.EMPLOYMENT_COUNSELLOR, Role.NGO_TECHNICIAN)
@own_space
def screening_create(request, person_id: int):
    """The basic screening: social services and employment in the workspace, NGOs in the portal."""
    attended_for_writing(request, person_id)  # in the portal, only under an agreement in force
    form = ScreeningForm(request.POST or None, initial={"screened_on": timezone.localdate()})
    return _assessment_page(
        request,
        person_id,
        model=BasicEmployabilityScreening,
        form=form,
        record=lambda f: services.screening_record(
            viewer=request.viewer, person_id=person_id, **f.service_data
        ),
        done=_("Cribado básico de empleabilidad guardado."),
        context={"intro": SCREENING_NOTE, "screening": True},
    )


@role_required(Role.SOCIAL_WORKER)
@own_space
def exclusion_assessment_create(request, person_id: int):
    """The social services' exclusion assessment with an instrument in use (the newest by default)."""
    attended_person(request, person_id)
    instruments = list(active_instruments())
    if not instruments:
        messages.error(request, _("No hay ningún instrumento de valoración en uso."))
        return redirect(_record_url(request, person_id, "cat-exclusion_social-social"))
    chosen = request.POST.get("instrumento") or request.GET.get("instrumento")
    instrument = next((i for i in instruments if str(i.pk) == chosen), instruments[0])
    form = ExclusionAssessmentForm(
        request.POST or None, instrument=instrument, initial={"assessed_on": timezone.localdate()}
    )
    return _assessment_page(
        request,
        person_id,
        model=ExclusionAssessment,
        form=form,
        record=lambda f: services.exclusion_assessment_record(
            viewer=request.viewer, person_id=person_id, **f.service_data
        ),
        done=_("Valoración de la exclusión social guardada."),
        context={
            "instrument": instrument,
            "instruments": instruments,
            "intro": _(
                "Marque las situaciones que se dan. La puntuación y la situación (por áreas y total) "
                "las calcula el instrumento con sus puntos de corte."
            ),
        },
    )


# --- Editing an assessment (the organisation that recorded it) ------------------------------------


@role_required(Role.EMPLOYMENT_COUNSELLOR)
@own_space
def employability_assessment_update(request, person_id: int, entry_id: int):
    attended_person(request, person_id)
    entry = _own_entry(request, EmployabilityAssessment, person_id, entry_id)
    return _edit_page(
        request,
        person_id,
        entry=entry,
        make_form=lambda data, current: EmployabilityAssessmentForm(data, entry=current),
        save=lambda f: services.employability_assessment_update(
            viewer=request.viewer,
            entry=entry,
            version=f.cleaned_data["version"],
            **f.service_data,
        ),
        done=_("Diagnóstico de empleabilidad modificado."),
    )


@role_required(Role.SOCIAL_WORKER, Role.EMPLOYMENT_COUNSELLOR, Role.NGO_TECHNICIAN)
@own_space
def screening_update(request, person_id: int, entry_id: int):
    attended_for_writing(request, person_id)  # in the portal, only under an agreement in force
    entry = _own_entry(request, BasicEmployabilityScreening, person_id, entry_id)
    return _edit_page(
        request,
        person_id,
        entry=entry,
        make_form=lambda data, current: ScreeningForm(data, entry=current),
        save=lambda f: services.screening_update(
            viewer=request.viewer,
            entry=entry,
            version=f.cleaned_data["version"],
            **f.service_data,
        ),
        done=_("Cribado básico de empleabilidad modificado."),
        context={"intro": SCREENING_NOTE, "screening": True},
    )


@role_required(Role.SOCIAL_WORKER)
@own_space
def exclusion_assessment_update(request, person_id: int, entry_id: int):
    """The answers of the same instrument; changing the instrument is a new assessment."""
    attended_person(request, person_id)
    entry = _own_entry(request, ExclusionAssessment, person_id, entry_id)

    def save(form):
        data = form.service_data
        return services.exclusion_assessment_update(
            viewer=request.viewer,
            assessment=entry,
            version=form.cleaned_data["version"],
            present_item_ids=data["present_item_ids"],
            assessed_on=data["assessed_on"],
            notes=data["notes"],
            restricted=data["restricted"],
        )

    return _edit_page(
        request,
        person_id,
        entry=entry,
        make_form=lambda data, current: ExclusionAssessmentForm(
            data, instrument=current.instrument, entry=current
        ),
        save=save,
        done=_("Valoración de la exclusión social modificada."),
        context={
            "instrument": entry.instrument,
            "intro": _(
                "Marque las situaciones que se dan. Si cambian las respuestas, la puntuación y la "
                "situación se calculan de nuevo con el instrumento."
            ),
        },
    )
