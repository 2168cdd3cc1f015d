"""Writes of the record. A user creates or changes only entries of their own service,
for persons their organisation attends; every update carries the version it was read
at (optimistic locking), so a stale form never overwrites a newer save."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ris.accounts.models import Organisation, User
from ris.accounts.viewer import Viewer
from sharing.caseload import enrolment_open, organisation_attends
from sharing.categories import BY_CODE, COMMON

from .models import Person, ReferenceProfessional, ServiceEntry


def _reevaluate(person_id: int) -> None:
    """A change to the record may raise or settle a risk alert: re-evaluate after commit."""
    from diagnostics.tasks import queue_person_evaluation

    queue_person_evaluation(person_id)


class StaleVersion(ValidationError):
    def __init__(self) -> None:
        super().__init__(
            _("Otra persona ha guardado cambios en esta ficha mientras la editaba. Sus datos no se han "
              "perdido: revise la versión actual y vuelva a aplicar sus cambios."),
            code="stale",
        )


def _locked_at_version(model, pk: int, version: int):
    """Lock the row and check it is still at the version the user read; saves go through save()
    so that the change history records them."""
    current = model.objects.select_for_update().get(pk=pk)
    if current.version != version:
        raise StaleVersion()
    return current


def _ensure_may_write(viewer: Viewer, model: type[ServiceEntry], person_id: int) -> None:
    owner = BY_CODE[model.CATEGORY].owner_service
    if owner not in (COMMON, viewer.service):
        raise PermissionDenied(_("Solo el servicio propietario puede registrar esta información."))
    if not organisation_attends(viewer.organisation_id, person_id):
        raise PermissionDenied


@transaction.atomic
def person_register(*, viewer: Viewer, data: dict[str, Any]) -> Person:
    """Create a person, enrol them in the viewer's organisation and make the viewer their reference."""
    person = Person(**data)
    person.full_clean()
    person.save()
    organisation = Organisation.objects.get(pk=viewer.organisation_id)
    enrolment_open(organisation=organisation, person=person, origin="registration",
                   by=User.objects.get(pk=viewer.user_id))
    ReferenceProfessional.objects.get_or_create(
        person=person, organisation_id=viewer.organisation_id, defaults={"professional_id": viewer.user_id},
    )
    _reevaluate(person.pk)
    return person


@transaction.atomic
def person_update(*, viewer: Viewer, person: Person, version: int, data: dict[str, Any]) -> Person:
    if not organisation_attends(viewer.organisation_id, person.pk):
        raise PermissionDenied
    person = _locked_at_version(Person, person.pk, version)
    for name, value in data.items():
        setattr(person, name, value)
    person.full_clean()
    person.version = version + 1
    person.save()
    _reevaluate(person.pk)
    return person


@transaction.atomic
def entry_create(*, viewer: Viewer, model: type[ServiceEntry], person_id: int, data: dict[str, Any]) -> ServiceEntry:
    _ensure_may_write(viewer, model, person_id)
    entry = model(
        person_id=person_id, recorded_by_service=viewer.service, recorded_by_org_id=viewer.organisation_id,
        recorded_by_id=viewer.user_id, **data,
    )
    entry.full_clean()
    entry.save()
    _reevaluate(person_id)
    return entry


@transaction.atomic
def entry_update(*, viewer: Viewer, entry: ServiceEntry, version: int, data: dict[str, Any]) -> ServiceEntry:
    model = type(entry)
    _ensure_may_write(viewer, model, entry.person_id)
    if entry.recorded_by_service != viewer.service:
        raise PermissionDenied(_("Solo el servicio que registró la anotación puede modificarla."))
    entry = _locked_at_version(model, entry.pk, version)
    for name, value in data.items():
        setattr(entry, name, value)
    entry.full_clean()
    entry.version = version + 1
    entry.save()
    _reevaluate(entry.person_id)
    return entry
