"""Writes of the sharing app: break-the-glass and its review."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.identity import normalise_document
from cases.models import Person
from ris.accounts.models import Role
from ris.accounts.viewer import Viewer

from .disclosure import LogLine, disclosure_log_append
from .models import BreakGlassAccess, Channel, DisclosureLogEntry


def person_exact_match(*, document_number: str, birth_date: dt.date) -> Person | None:
    """Exact DNI/NIE and birth date: the only way to find a person outside the caseload."""
    number = normalise_document(document_number)
    if not number:
        return None
    return Person.objects.filter(
        document_type__in=[Person.DocumentType.DNI, Person.DocumentType.NIE],
        document_number=number, birth_date=birth_date,
    ).first()


@transaction.atomic
def break_glass_open(*, viewer: Viewer, document_number: str, birth_date: dt.date, reason: str,
                     hours: int = BreakGlassAccess.MAX_DURATION_HOURS, request_id: str = "") -> BreakGlassAccess:
    if viewer.role != Role.SOCIAL_WORKER:
        raise PermissionDenied
    reason = (reason or "").strip()
    if len(reason) < 15:
        raise ValidationError({"reason": _("Explique la urgencia (al menos 15 caracteres).")})
    if not 1 <= hours <= BreakGlassAccess.MAX_DURATION_HOURS:
        raise ValidationError({"hours": _("El acceso de emergencia dura como máximo 4 horas.")})
    person = person_exact_match(document_number=document_number, birth_date=birth_date)
    if person is None:
        raise ValidationError(_("No hay ninguna persona con ese documento y esa fecha de nacimiento."))
    now = timezone.now()
    access = BreakGlassAccess.objects.create(
        user_id=viewer.user_id, organisation_id=viewer.organisation_id, person=person, reason=reason,
        started_at=now, expires_at=now + dt.timedelta(hours=hours),
    )
    disclosure_log_append([
        LogLine(event=DisclosureLogEntry.Event.BREAK_GLASS, channel=Channel.WEB, user_id=viewer.user_id,
                organisation_id=viewer.organisation_id, role=viewer.role, person_id=person.pk,
                basis=f"break_glass:{access.pk}", request_id=request_id)
    ])
    return access


@transaction.atomic
def break_glass_review(*, viewer: Viewer, access: BreakGlassAccess, outcome: str, note: str) -> BreakGlassAccess:
    if viewer.role != Role.DATA_PROTECTION_OFFICER:
        raise PermissionDenied
    if outcome not in (BreakGlassAccess.Outcome.JUSTIFIED, BreakGlassAccess.Outcome.UNJUSTIFIED):
        raise ValidationError({"outcome": _("Indique si el acceso estaba justificado.")})
    updated = BreakGlassAccess.objects.filter(pk=access.pk, reviewed_at__isnull=True).update(
        outcome=outcome, review_note=note, reviewed_at=timezone.now(), reviewed_by_id=viewer.user_id,
    )
    if updated != 1:
        raise ValidationError(_("Este acceso ya fue revisado."))
    access.refresh_from_db()
    return access
