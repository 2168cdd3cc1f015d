"""Documents attached to the record: upload (own service) and download (through sharing).

An attachment belongs to the category its uploader chooses, among those their service
records (or the common diary). It is data of that category like any entry: the record
shows it only where ``sharing`` gives the viewer the category in full, and the download
asks the policy decision point again, for the attachment's own (category, recording
service) pair, and logs the disclosure when the file crosses a service boundary.
"""

from __future__ import annotations

import os
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from ris.accounts.viewer import Viewer
from ris.uploads import check_upload
from sharing.caseload import organisation_attends
from sharing.categories import BY_CODE, COMMON, SPECIAL
from sharing.disclosure import LogLine, disclosure_log_append
from sharing.models import DisclosureLogEntry
from sharing.policy import FULL, decide
from sharing.record import entry_is_own, visible_person

from .models import Attachment


def attachment_categories(service: str) -> list[tuple[str, str]]:
    """The categories a service may file a document under: its own, and the common diary."""
    return [
        (c.code, c.label)
        for c in BY_CODE.values()
        if c.code != "ficha_basica" and c.owner_service in (COMMON, service)
    ]


@transaction.atomic
def attachment_upload(*, viewer: Viewer, person_id: int, category: str, kind: str, title: str, upload,
                      restricted: bool = False) -> Attachment:
    """Check the file (type by its content, size, fingerprint) and file it under ``category``."""
    if not organisation_attends(viewer.organisation_id, person_id):
        raise PermissionDenied
    if category not in dict(attachment_categories(viewer.service)):
        raise ValidationError({"category": _("Su servicio solo puede adjuntar documentos a las áreas que registra.")})
    try:
        checked = check_upload(upload)
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages}) from exc
    original_name = os.path.basename(upload.name or "")[:255]
    extension = os.path.splitext(original_name)[1].lower()
    attachment = Attachment(
        person_id=person_id, recorded_by_service=viewer.service, recorded_by_org_id=viewer.organisation_id,
        recorded_by_id=viewer.user_id, category=category, kind=kind, title=title, restricted=restricted,
        original_name=original_name, content_type=checked.content_type, size=checked.size, sha256=checked.sha256,
    )
    attachment.full_clean(exclude=["file"])
    # The stored name says nothing about the person: the original name is kept in the row.
    attachment.file.save(f"{uuid.uuid4().hex}{extension}", upload, save=False)
    attachment.save()
    return attachment


def attachment_for_download(*, viewer: Viewer, person_id: int, attachment_id: int, purpose: str, channel: str,
                            request_id: str = "") -> Attachment:
    """The attachment if the viewer gets its category in full for ``purpose``, else Http404.

    The decision is the record's own (``sharing.policy.decide`` for the attachment's
    category and recording service), plus the origin block; a document of another
    service, of a special category or seen under break-the-glass is logged.
    """
    facts = visible_person(viewer=viewer, person_id=person_id, purpose=purpose, channel=channel,
                           request_id=request_id)
    attachment = (
        Attachment.objects.filter(pk=attachment_id, person_id=person_id).exclude(file="")
        .select_related("recorded_by_org").first()
    )
    if attachment is None:
        raise Http404
    own = attachment.recorded_by_service in (COMMON, viewer.service)
    # another organisation of the viewer's kind of service: its document needs a basis too
    foreign = own and facts.attends and not entry_is_own(viewer, attachment)
    decision = decide(facts, attachment.category, attachment.recorded_by_service, foreign=foreign)
    if decision.level != FULL or (attachment.restricted and not (own and not foreign)):
        raise Http404
    cross = not own or foreign
    special = BY_CODE[attachment.category].sensitivity == SPECIAL
    if cross or special or not facts.attends:
        event = (
            DisclosureLogEntry.Event.BREAK_GLASS if not facts.attends
            else DisclosureLogEntry.Event.DISCLOSURE if cross
            else DisclosureLogEntry.Event.SPECIAL_READ
        )
        disclosure_log_append([
            LogLine(event=event, channel=channel, user_id=viewer.user_id, organisation_id=viewer.organisation_id,
                    role=viewer.role, person_id=person_id, category=attachment.category, level=decision.level,
                    purpose=purpose, basis=decision.basis, request_id=request_id)
        ])
    return attachment
