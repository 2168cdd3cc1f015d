"""Spanish identity documents, validated as the Ministerio del Interior defines them.

DNI: eight digits and a control letter, the remainder of the number divided by 23
indexing ``TRWAGMYFPDXBNJZSQVHLCKE`` (RD 1553/2005). NIE: X, Y or Z, seven digits
and a control letter, computed like the DNI after replacing X, Y, Z by 0, 1, 2.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

CONTROL_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"

#: The answer when a document is another record's and this birth date is not its own, or when a
#: record would take another's document: outside the caseload no page but registration and the
#: start of a referral says that a document is registered (docs/decisions/0008), so the refusal
#: asks to check the data, as for a document typed wrong, and says nothing of anyone holding it.
DOCUMENT_REFUSED = gettext_lazy(
    "No se puede usar este número de documento con esta fecha de nacimiento. Compruebe los dos "
    "datos en el documento de la persona."
)
_DNI = re.compile(r"^(\d{8})([A-Z])$")
_NIE = re.compile(r"^([XYZ])(\d{7})([A-Z])$")


def normalise_document(value: str) -> str:
    """Upper case, without spaces, dots or hyphens: ``12.345.678-z`` → ``12345678Z``."""
    return re.sub(r"[\s.\-]", "", value or "").upper()


def control_letter(number: int) -> str:
    return CONTROL_LETTERS[number % 23]


def validate_dni(value: str) -> str:
    doc = normalise_document(value)
    match = _DNI.match(doc)
    if not match:
        raise ValidationError(
            _("El DNI debe tener 8 cifras seguidas de una letra (por ejemplo, 12345678Z)."),
            code="dni_format",
        )
    expected = control_letter(int(match.group(1)))
    if match.group(2) != expected:
        raise ValidationError(
            _("La letra del DNI no es correcta: para %(number)s corresponde la letra %(letter)s.")
            % {"number": match.group(1), "letter": expected},
            code="dni_letter",
        )
    return doc


def validate_nie(value: str) -> str:
    doc = normalise_document(value)
    match = _NIE.match(doc)
    if not match:
        raise ValidationError(
            _("El NIE debe empezar por X, Y o Z, seguir con 7 cifras y terminar en una letra "
              "(por ejemplo, X1234567L)."),
            code="nie_format",
        )
    number = int("XYZ".index(match.group(1)).__str__() + match.group(2))
    expected = control_letter(number)
    if match.group(3) != expected:
        raise ValidationError(
            _("La letra del NIE no es correcta: corresponde la letra %(letter)s.") % {"letter": expected},
            code="nie_letter",
        )
    return doc
