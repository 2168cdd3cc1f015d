"""Uploaded evidence: the file must be what it says, within the size limit, and is fingerprinted."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Content type → (accepted extensions, magic prefix)
ACCEPTED = {
    "application/pdf": ((".pdf",), b"%PDF-"),
    "image/png": ((".png",), b"\x89PNG\r\n\x1a\n"),
    "image/jpeg": ((".jpg", ".jpeg"), b"\xff\xd8\xff"),
}


@dataclass(frozen=True)
class CheckedUpload:
    content_type: str
    sha256: str
    size: int


def check_upload(upload) -> CheckedUpload:
    """Refuse a file whose content does not match its name, or that is too large or empty."""
    size = upload.size or 0
    if size == 0:
        raise ValidationError(_("El archivo está vacío."), code="empty")
    limit = settings.UPLOAD_MAX_BYTES
    if size > limit:
        raise ValidationError(
            _("El archivo ocupa %(size)s MB; el máximo es %(limit)s MB.")
            % {"size": round(size / 1_048_576, 1), "limit": round(limit / 1_048_576, 1)},
            code="too_large",
        )
    name = (upload.name or "").lower()
    upload.seek(0)
    head = upload.read(16)
    for content_type, (extensions, magic) in ACCEPTED.items():
        if name.endswith(extensions):
            if not head.startswith(magic):
                raise ValidationError(
                    _("El contenido del archivo no corresponde a su extensión: no es un %(kind)s válido.")
                    % {"kind": extensions[0].lstrip(".").upper()},
                    code="mismatch",
                )
            digest = hashlib.sha256()
            upload.seek(0)
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
            return CheckedUpload(content_type=content_type, sha256=digest.hexdigest(), size=size)
    raise ValidationError(_("Solo se admiten documentos PDF, PNG o JPEG."), code="type")
