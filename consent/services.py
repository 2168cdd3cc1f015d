"""Writes of the consent app: record, revoke and correct consents; attach a signed form
recorded later; objections; the disclosure log line of a signed form's download.

A given consent is never updated: revoking adds a ``ConsentRevocation`` and
correcting adds a new consent that supersedes the old one. Every action is
checked against the state transition table first. The one UPDATE the database
admits fills in the signed form of a consent recorded without it, once
(``consent_attach_document``; see ``consent.models``).
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.merge import surviving_id
from cases.models import Person
from ris.accounts.viewer import Viewer
from ris.uploads import CheckedUpload, check_upload
from sharing.caseload import organisation_attends
from sharing.disclosure import LogLine, disclosure_log_append
from sharing.models import Channel, DisclosureLogEntry

from .models import TRANSITIONS, Consent, ConsentRevocation, LegalBasis, Objection


def _reevaluate(person_id: int) -> None:
    """Who may receive an alert, and the consent-expiry rule, follow consents: re-evaluate after commit."""
    from diagnostics.tasks import queue_person_evaluation

    queue_person_evaluation(person_id)


def _ensure_attends(viewer: Viewer, person: Person) -> None:
    if not organisation_attends(viewer.organisation_id, person.pk):
        raise PermissionDenied


def _ensure_attends_record_of(viewer: Viewer, consent: Consent) -> None:
    """For acting on an existing consent: a merged record's consents stay on it, and the
    organisation attends the record it was merged into (the merge moved its enrolment there)."""
    if not organisation_attends(viewer.organisation_id, surviving_id(consent.person_id)):
        raise PermissionDenied


def _ensure_transition(consent: Consent, action: str) -> None:
    from .models import ConsentState

    state = ConsentState(consent.state_at())
    if action not in TRANSITIONS[state]:
        raise ValidationError(
            _("No se puede %(action)s un consentimiento en estado «%(state)s».")
            % {"action": {"revoke": _("revocar"), "correct": _("corregir")}[action],
               "state": state.label},
            code="transition",
        )


@transaction.atomic
def consent_record(
    *, viewer: Viewer, person: Person, given_on: dt.date, valid_from: dt.date, valid_until: dt.date,
    purposes: list[str], grantee_services: list[str] | None = None, grantee_organisation_ids: list[int] | None = None,
    all_categories: bool = False, permitted_categories: list[str] | None = None,
    denied_categories: list[str] | None = None, privacy_notice_version: str = "1.0",
    grantor: str = Consent.Grantor.PERSON, representative_name: str = "", representative_relation: str = "",
    representative_evidence: str = "", document=None, supersedes: Consent | None = None,
) -> Consent:
    _ensure_attends(viewer, person)
    consent = Consent(
        person=person, grantor=grantor, representative_name=representative_name,
        representative_relation=representative_relation, representative_evidence=representative_evidence,
        given_on=given_on, valid_from=valid_from, valid_until=valid_until, grantee_services=grantee_services or [],
        all_categories=all_categories, permitted_categories=permitted_categories or [],
        denied_categories=denied_categories or [], purposes=purposes,
        privacy_notice_version=privacy_notice_version, supersedes=supersedes,
        recorded_by_id=viewer.user_id, recorded_by_org_id=viewer.organisation_id,
    )
    if not grantee_services and not grantee_organisation_ids:
        raise ValidationError({"grantee_services": _("Indique a qué servicios u organizaciones autoriza.")})
    if document is not None:
        checked = checked_document(document)
        consent.document = document
        consent.document_sha256 = checked.sha256
        consent.document_content_type = checked.content_type
        consent.document_added_at = consent.recorded_at
        consent.document_added_by_id = viewer.user_id
    consent.full_clean()
    consent.save()
    if grantee_organisation_ids:
        consent.grantee_organisations.set(grantee_organisation_ids)
    _reevaluate(person.pk)
    return consent


def checked_document(document) -> CheckedUpload:
    """The signed form's checks, the same when it is recorded with the consent and when it is
    attached later: a PDF, PNG or JPEG whose content is what its name says, not empty, within
    the size limit (``ris.uploads.check_upload``), fingerprinted."""
    try:
        return check_upload(document)
    except ValidationError as exc:
        raise ValidationError({"document": exc.messages}) from exc


#: A signed form's file extension, from the type its content was checked to be.
DOCUMENT_EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


@transaction.atomic
def consent_attach_document(*, viewer: Viewer, consent: Consent, document) -> Consent:
    """Attach the signed form of a consent recorded without it: by the organisation that
    recorded it, while it attends the person, once (a form on file is never replaced). Whatever
    the consent's state: the form proves what was signed, even after a revocation."""
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if consent.recorded_by_org_id != viewer.organisation_id:
        raise PermissionDenied
    _ensure_attends_record_of(viewer, consent)
    if consent.document:
        raise ValidationError(
            {"document": _("Este consentimiento ya tiene su documento firmado: no se puede sustituir.")},
            code="has_document",
        )
    checked = checked_document(document)
    # The stored name says nothing about the person.
    consent.document.save(f"{uuid.uuid4().hex}.{DOCUMENT_EXTENSIONS[checked.content_type]}", document,
                          save=False)
    consent.document_sha256, consent.document_content_type = checked.sha256, checked.content_type
    consent.document_added_at, consent.document_added_by_id = timezone.now(), viewer.user_id
    try:  # the one UPDATE the table's trigger admits: the empty document columns filled in
        consent.save(update_fields=["document", "document_sha256", "document_content_type",
                                    "document_added_at", "document_added_by"])
    except Exception:
        consent.document.delete(save=False)  # never leave a file nobody points to
        raise
    return consent


def document_download_logged(
    *, viewer: Viewer, person_id: int, consent: Consent, purpose: str, request_id: str = "",
) -> None:
    """The disclosure log line of a download of the signed form: an export, as for the printed
    documents, whose basis names the consent (``consentimiento:<id>``). ``person_id``: the record
    it was downloaded from (a merged record's consents are shown on the surviving one)."""
    disclosure_log_append([
        LogLine(event=DisclosureLogEntry.Event.EXPORT, channel=Channel.EXPORT, user_id=viewer.user_id,
                organisation_id=viewer.organisation_id, role=viewer.role, person_id=person_id,
                purpose=purpose, basis=f"consentimiento:{consent.pk}", request_id=request_id)
    ])


@transaction.atomic
def consent_revoke(*, viewer: Viewer, consent: Consent, channel: str, reason: str = "") -> ConsentRevocation:
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    _ensure_attends_record_of(viewer, consent)
    _ensure_transition(consent, "revoke")
    revocation = ConsentRevocation.objects.create(
        consent=consent, revoked_by_id=viewer.user_id, channel=channel, reason=reason, revoked_at=timezone.now(),
    )
    _reevaluate(consent.person_id)
    return revocation


@transaction.atomic
def consent_correct(*, viewer: Viewer, consent: Consent, **fields) -> Consent:
    """A correction is a new consent that supersedes the old one (the old row is untouched)."""
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    _ensure_transition(consent, "correct")
    return consent_record(viewer=viewer, person=consent.person, supersedes=consent, **fields)


@transaction.atomic
def objection_record(*, viewer: Viewer, person: Person, legal_basis: LegalBasis, reason: str = "") -> Objection:
    _ensure_attends(viewer, person)
    objection, _created = Objection.objects.get_or_create(
        person=person, legal_basis=legal_basis, defaults={"recorded_by_id": viewer.user_id, "reason": reason},
    )
    _reevaluate(person.pk)
    return objection
