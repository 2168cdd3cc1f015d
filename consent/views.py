from django.shortcuts import get_object_or_404, render

from ris.accounts.access import role_required
from ris.accounts.models import Role
from sharing.models import Channel
from sharing.record import visible_person

from .models import Consent
from .purposes import Purpose

RECEIPT_ROLES = (Role.SOCIAL_WORKER, Role.EMPLOYMENT_COUNSELLOR, Role.NGO_TECHNICIAN, Role.COORDINATOR)


@role_required(*RECEIPT_ROLES)
def consent_receipt(request, person_id: int, consent_id: int):
    """Printable receipt of a consent, for the person (only for organisations that attend them)."""
    visible_person(viewer=request.viewer, person_id=person_id, purpose=Purpose.FOLLOW_UP, channel=Channel.WEB,
                   request_id=getattr(request, "id", ""))
    consent = get_object_or_404(
        Consent.objects.select_related("person", "recorded_by", "recorded_by_org", "supersedes")
        .prefetch_related("grantee_organisations"),
        pk=consent_id, person_id=person_id,
    )
    return render(request, "consent/receipt.html", {"consent": consent})
