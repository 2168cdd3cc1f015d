"""The consent workflow, from the person's record: record, correct, revoke, print, and see the effect;
attach the signed form of a consent recorded without it, and download it (logged).

Staff use it from the workspace; NGO technicians record, revoke, print and see the effect from
the restricted portal (``sharing.portal_urls``), the same views under ``portal:``: for the persons
their organisation attends, under an agreement in force (``attended_for_writing``). Correcting
stays with the caseworkers.

Writes go through ``consent.services`` (``consent_record``, ``consent_correct``,
``consent_revoke``). Consents are metadata of the sharing: every organisation that
attends the person sees them. After recording or revoking, the scope page shows at once
what each organisation attending the person now gets, computed by the policy decision
point itself (``sharing.policy.load_facts`` + ``decide_all``) for a representative
viewer of each organisation: at most one evaluation per attending organisation.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from cases.merge import absorbed_q
from cases.models import Person
from cases.record_views import (
    CASEWORKER_ROLES,
    PORTAL_ROLES,
    attended_for_writing,
    attended_person,
    consent_lines,
    own_space,
    pdf_response,
    purpose_from,
    space_of,
)
from ris.accounts.access import role_required
from ris.accounts.models import Organisation, Role, ServiceKind
from ris.accounts.viewer import Viewer
from sharing.categories import BY_CODE, COMMON
from sharing.facts import load_facts_many
from sharing.models import PersonGroupObjectPermission
from sharing.policy import FULL, INDICATOR, decide_all, load_facts
from sharing.record import SERVICE_LABELS

from . import services
from .forms import (
    PERSON_PURPOSE_CHOICES,
    ConsentForm,
    RevocationForm,
    ScopePurposeForm,
    SignedFormForm,
)
from .models import Consent, ConsentState
from .purposes import Purpose

RECEIPT_ROLES = (Role.SOCIAL_WORKER, Role.EMPLOYMENT_COUNSELLOR, Role.NGO_TECHNICIAN, Role.COORDINATOR)
#: Who records and revokes a consent: the caseworkers, and NGO technicians from the portal.
CONSENT_WRITERS = (*CASEWORKER_ROLES, *PORTAL_ROLES)
#: Who corrects one (a correction replaces what the person signed): the caseworkers.
CONSENT_CORRECTORS = CASEWORKER_ROLES

#: Who stands for an organisation when we show what it can see: its caseworker role.
REPRESENTATIVE_ROLE = {
    ServiceKind.SOCIAL: Role.SOCIAL_WORKER,
    ServiceKind.EMPLOYMENT: Role.EMPLOYMENT_COUNSELLOR,
    ServiceKind.THIRD_SECTOR: Role.NGO_TECHNICIAN,
}


def _request_id(request) -> str:
    return getattr(request, "id", "")


def _consent_of(person_id: int, consent_id: int) -> Consent:
    return get_object_or_404(
        Consent.objects.select_related("person", "recorded_by", "recorded_by_org", "supersedes", "revocation",
                                       "superseded_by")
        .prefetch_related("grantee_organisations")
        .filter(absorbed_q(person_id)),
        pk=consent_id,
    )


def _grantable_organisations(viewer: Viewer):
    return Organisation.objects.filter(is_active=True, community_id=viewer.community_code).order_by("kind", "name")


# --- What each organisation attending the person can see now -----------------------------------------


@dataclass
class OrganisationAccess:
    organisation: Organisation
    role_label: str
    full: list[str] = field(default_factory=list)
    indicator: list[str] = field(default_factory=list)


def organisations_attending(person_id: int) -> list[Organisation]:
    groups = PersonGroupObjectPermission.objects.filter(
        content_object_id=person_id, permission__codename="view_person",
    ).values("group_id")
    return list(Organisation.objects.filter(is_active=True, group_id__in=groups).order_by("kind", "name"))


def access_by_organisation(*, viewer: Viewer, person_id: int, purpose: str) -> list[OrganisationAccess]:
    """For each organisation attending the person: the other services' categories it now gets at full or
    indicator for ``purpose``, from the policy. The one fact about the person the policy reads, whether
    they receive a minimum income (for legal bases with that condition), counts only when ``viewer``
    sees minimum incomes in full: otherwise such flows are shown as not open, whatever the truth."""
    own = load_facts(viewer=viewer, person_id=person_id, purpose=purpose)
    sees_income = any(d.level == FULL for d in decide_all(own) if d.category == "rentas_minimas")
    organisations = organisations_attending(person_id)
    representatives = [
        Viewer(user_id=0, membership_id=0, organisation_id=organisation.pk,
               organisation_name=organisation.name, service=organisation.kind,
               role=REPRESENTATIVE_ROLE[organisation.kind], community_code=organisation.community_id)
        for organisation in organisations
    ]
    # every organisation's facts in one batch: the page costs the same however many attend
    many = load_facts_many(pairs=[(r, person_id) for r in representatives], purpose=purpose)
    rows = []
    for organisation, representative, facts in zip(organisations, representatives, many, strict=True):
        access = OrganisationAccess(organisation=organisation,
                                    role_label=str(Role(representative.role).label))
        if not sees_income:
            facts = dataclasses.replace(facts, receives_minimum_income=False)
        for decision in decide_all(facts):
            if decision.source_service in (COMMON, organisation.kind):
                continue
            text = f"{BY_CODE[decision.category].label} ({SERVICE_LABELS[decision.source_service]})"
            if decision.level == FULL:
                access.full.append(text)
            elif decision.level == INDICATOR:
                access.indicator.append(text)
        rows.append(access)
    return rows


# --- Pages -------------------------------------------------------------------------------------------


def _scope_url(request, person_id: int, consent: Consent) -> str:
    url = reverse(f"{space_of(request)}:consent_scope", args=[person_id, consent.pk])
    return f"{url}?finalidad={consent.purposes[0] if consent.purposes else Purpose.FOLLOW_UP}"


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            target = {"supersedes": None, "document": "document"}.get(name, name)
            for error in errors:
                form.add_error(target if target in form.fields else None, error)
    else:
        form.add_error(None, exc)


def _consent_form_page(request, person_id: int, *, correcting: Consent | None = None):
    attended_for_writing(request, person_id)
    person = Person.objects.only("id", "first_name", "last_name_1", "last_name_2", "birth_date").get(pk=person_id)
    initial = ConsentForm.initial_from(correcting) if correcting is not None else None
    form = ConsentForm(request.POST or None, request.FILES or None, initial=initial,
                       organisations=_grantable_organisations(request.viewer))
    if request.method == "POST" and form.is_valid():
        try:
            if correcting is None:
                consent = services.consent_record(viewer=request.viewer, person=person, **form.service_kwargs())
            else:
                consent = services.consent_correct(viewer=request.viewer, consent=correcting,
                                                   **form.service_kwargs())
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Consentimiento registrado.") if correcting is None
                             else _("Consentimiento corregido: el anterior queda sustituido."))
            return redirect(_scope_url(request, person_id, consent))
    return render(request, "consent/consent_form.html", {
        "form": form, "person": person, "person_id": person_id, "ns": space_of(request), "correcting": correcting,
    })


@role_required(*CONSENT_WRITERS)
@own_space
def consent_create(request, person_id: int):
    return _consent_form_page(request, person_id)


@role_required(*CONSENT_CORRECTORS)
@own_space
def consent_correct(request, person_id: int, consent_id: int):
    attended_person(request, person_id)
    consent = _consent_of(person_id, consent_id)
    if consent.state_at() not in (ConsentState.ACTIVE, ConsentState.PENDING):
        messages.error(request, _("Solo se puede corregir un consentimiento vigente o pendiente de vigencia."))
        return redirect(reverse(f"{space_of(request)}:person_record", args=[person_id]) + "#consentimientos-title")
    return _consent_form_page(request, person_id, correcting=consent)


@role_required(*CONSENT_WRITERS)
@own_space
def consent_revoke(request, person_id: int, consent_id: int):
    attended_for_writing(request, person_id)
    consent = _consent_of(person_id, consent_id)
    form = RevocationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_revoke(viewer=request.viewer, consent=consent, channel=form.cleaned_data["channel"],
                                    reason=form.cleaned_data["reason"])
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Consentimiento revocado: deja de surtir efecto desde ahora."))
            return redirect(_scope_url(request, person_id, consent))
    template = "consent/_revoke_form.html" if request.htmx else "consent/revoke.html"
    return render(request, template, {
        "form": form, "consent": consent, "person_id": person_id, "ns": space_of(request),
        "lines": consent_lines(consent, consent.state_at()),
    })


@role_required(*RECEIPT_ROLES)
@own_space
def consent_scope(request, person_id: int, consent_id: int):
    """What each organisation attending the person can see now (after recording, correcting or revoking)."""
    attended_person(request, person_id)
    consent = _consent_of(person_id, consent_id)
    form = ScopePurposeForm(request.GET or None)
    purpose = request.GET.get("finalidad") if form.is_valid() and form.cleaned_data["finalidad"] else (
        consent.purposes[0] if consent.purposes else Purpose.FOLLOW_UP)
    state = consent.state_at()
    return render(request, "consent/scope.html", {
        "consent": consent, "state_label": ConsentState(state).label, "lines": consent_lines(consent, state),
        "rows": access_by_organisation(viewer=request.viewer, person_id=person_id, purpose=purpose), "purpose": purpose,
        "purpose_label": Purpose(purpose).label, "purposes": PERSON_PURPOSE_CHOICES, "person_id": person_id,
        "ns": space_of(request), "attach_url": _attach_url(request, person_id, consent),
    })


@role_required(*RECEIPT_ROLES)
@own_space
def consent_receipt(request, person_id: int, consent_id: int):
    """Printable receipt of a consent, for the person (only for organisations that attend them:
    an emergency access opens the record, not its consents)."""
    attended_person(request, person_id)
    consent = _consent_of(person_id, consent_id)
    return render(request, "consent/receipt.html", {
        "consent": consent, "lines": consent_lines(consent, consent.state_at()), "person_id": person_id,
        "ns": space_of(request), "attach_url": _attach_url(request, person_id, consent),
    })


@role_required(*RECEIPT_ROLES)
@own_space
def consent_receipt_pdf(request, person_id: int, consent_id: int):
    from cases.documents import consent_receipt, export_logged

    attended_person(request, person_id)
    consent = _consent_of(person_id, consent_id)
    content = consent_receipt(consent=consent, lines=consent_lines(consent, consent.state_at()))
    export_logged(viewer=request.viewer, person_id=person_id, purpose=Purpose.FOLLOW_UP, what="consentimiento",
                  request_id=_request_id(request))
    return pdf_response(content, f"consentimiento-{consent.pk}.pdf")


@role_required(*RECEIPT_ROLES)
@own_space
def consent_document(request, person_id: int, consent_id: int):
    """The scanned signed form, for the organisations that attend the person; each download is
    logged in the disclosure log (an export whose basis names the consent)."""
    attended_person(request, person_id)
    consent = _consent_of(person_id, consent_id)
    if not consent.document:
        raise Http404
    extension = services.DOCUMENT_EXTENSIONS.get(consent.document_content_type, "bin")
    try:
        handle = consent.document.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    try:
        services.document_download_logged(viewer=request.viewer, person_id=person_id, consent=consent,
                                          purpose=purpose_from(request), request_id=_request_id(request))
    except Exception:  # no line, no file
        handle.close()
        raise
    response = FileResponse(handle, as_attachment=True,
                            filename=f"consentimiento-{consent.pk}-firmado.{extension}",
                            content_type=consent.document_content_type or "application/octet-stream")
    response["Cache-Control"] = "no-store, private"
    return response


def attaching_organisation(viewer) -> int | None:
    """The organisation whose consents recorded without their signed form this viewer may
    complete (``consent_attach_document``): their own, when their role records consents."""
    return viewer.organisation_id if viewer.role in CONSENT_WRITERS else None


def _attach_url(request, person_id: int, consent: Consent) -> str | None:
    """Where to attach the consent's missing signed form, for the organisation that recorded it."""
    if consent.document or consent.recorded_by_org_id != attaching_organisation(request.viewer):
        return None
    return reverse(f"{space_of(request)}:consent_attach_document", args=[person_id, consent.pk])


@role_required(*CONSENT_WRITERS)
@own_space
def consent_attach_document(request, person_id: int, consent_id: int):
    """Attach the signed form of a consent recorded without it (only the organisation that recorded
    it; once: a form on file is never replaced)."""
    attended_for_writing(request, person_id)
    consent = _consent_of(person_id, consent_id)
    if consent.recorded_by_org_id != request.viewer.organisation_id:
        raise Http404
    back = reverse(f"{space_of(request)}:person_record", args=[person_id]) + f"#consentimiento-{consent.pk}"
    if consent.document:
        messages.info(request, _("Este consentimiento ya tiene su documento firmado: no se puede sustituir."))
        return redirect(back)
    posted = request.method == "POST"  # bound even when nothing was sent: say what is missing
    form = SignedFormForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        try:
            services.consent_attach_document(viewer=request.viewer, consent=consent,
                                             document=form.cleaned_data["document"])
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Documento firmado adjuntado al consentimiento nº %(n)s.") % {"n": consent.pk})
            return redirect(back)
    return render(request, "consent/attach_document.html", {
        "form": form, "consent": consent, "lines": consent_lines(consent, consent.state_at()),
        "person_id": person_id, "ns": space_of(request), "back": back,
    })
