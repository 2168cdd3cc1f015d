"""Writes of the household (unidad de convivencia) from the workspace.

Social services record the household of a person they attend: who lives with them
(``HouseholdMember`` rows, never deleted: a membership ends with an end date, so the
history is kept) and the household's economy (income, expenses, housing tenure, the 13
EU deprivation items and the months worked by each working-age member), which the
poverty indicators (``diagnostics.arope``) and their alert rules read.

The same checks as the record's sections (``cases.services``): the viewer's service must
own the category (``sharing.categories``: both household categories are social
services'), and the person must be in the viewer's organisation's caseload; a member
added must be in that caseload too, or be registered into it on the spot when they have no
DNI or NIE to be found by (``member_register``, through registration's own service). Every
write carries the household's version (optimistic locking): a composition change raises it
as an economy change does, since the economy form lists the working-age members. Rows are
saved through ``save()`` so that the change history (django-auditlog, ``cases.apps``)
records them, and every member of the household, and whoever just left it, is re-evaluated
once the transaction commits (``diagnostics.tasks.queue_person_evaluation``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ris.accounts.viewer import Viewer
from ris.reference.models import DeprivationItem
from sharing.caseload import organisation_attends, persons_attended_by
from sharing.categories import BY_CODE

from .identity import normalise_document
from .models import Household, HouseholdMember, Person
from .services import StaleVersion, person_register

COMPOSITION = "unidad_convivencia"
ECONOMY = "situacion_economica"
#: Ages whose months worked count for the work intensity (``diagnostics.arope``).
WORKING_AGE = (18, 64)
MINOR_AGE = 18


class HouseholdChanged(StaleVersion):
    """Someone saved the household (or gave the person one) after this form was read."""

    def __init__(self, message: str | None = None) -> None:
        ValidationError.__init__(
            self,
            message or _("Otra persona ha guardado cambios en esta unidad de convivencia mientras usted la "
                         "editaba. Sus datos no se han perdido: revise lo que consta ahora y vuelva a guardar "
                         "si sigue siendo correcto."),
            code="stale",
        )


# --- Reading ----------------------------------------------------------------------------------------------


def living_on(day: dt.date) -> Q:
    """Memberships in force on ``day`` (the end date is the first day apart, as in the record)."""
    return Q(start_date__lte=day) & (Q(end_date__isnull=True) | Q(end_date__gt=day))


def lives_on(member: HouseholdMember, day: dt.date) -> bool:
    return member.start_date <= day and (member.end_date is None or member.end_date > day)


def current_membership(person_id: int, day: dt.date | None = None) -> HouseholdMember | None:
    """The person's membership today, with its household: the first, as the record page takes it."""
    day = day or timezone.localdate()
    return (
        HouseholdMember.objects.filter(living_on(day), person_id=person_id)
        .select_related("household")
        .order_by("household_id", "start_date", "id")
        .first()
    )


def memberships_of(household_id: int) -> list[HouseholdMember]:
    """Every membership of the household, past and present, with its person: one query."""
    return list(
        HouseholdMember.objects.filter(household_id=household_id).select_related("person")
        .order_by("start_date", "id")
    )


def is_working_age(person: Person, day: dt.date) -> bool:
    return WORKING_AGE[0] <= person.age_on(day) <= WORKING_AGE[1]


def may_edit(viewer: Viewer, category: str) -> bool:
    """Only the service that owns the category records it (social services, for both)."""
    return BY_CODE[category].owner_service == viewer.service


def find_attended_person(*, viewer: Viewer, document_number: str, birth_date: dt.date) -> Person | None:
    """A person the viewer's organisation attends, by exact DNI/NIE and birth date (else None: a
    person outside the caseload is answered exactly like one that does not exist)."""
    return (
        persons_attended_by(viewer.organisation_id)
        .filter(document_type__in=(Person.DocumentType.DNI, Person.DocumentType.NIE),
                document_number=normalise_document(document_number), birth_date=birth_date,
                merged_into__isnull=True)
        .only("id", "first_name", "last_name_1", "last_name_2", "birth_date")
        .first()
    )


# --- Checks -----------------------------------------------------------------------------------------------


def _ensure_may_edit(viewer: Viewer, category: str, person_id: int) -> None:
    if not may_edit(viewer, category):
        raise PermissionDenied(_("Solo el servicio propietario puede registrar esta información."))
    if not organisation_attends(viewer.organisation_id, person_id):
        raise PermissionDenied


def _locked_household(*, household_id: int, version: int, person_id: int, today: dt.date) -> Household:
    """Lock the household, check the person lives there and that it is still at ``version``."""
    household = Household.objects.select_for_update().filter(pk=household_id).first()
    memberships = HouseholdMember.objects.filter(household_id=household_id, person_id=person_id)
    if household is None or not memberships.exists():
        raise PermissionDenied  # not this person's household: the same answer as a missing page
    if household.version != version or not memberships.filter(living_on(today)).exists():
        raise HouseholdChanged()
    return household


def _raise_version(household: Household, version: int) -> None:
    """A composition change: the household's own fields do not change, so nothing to log for it."""
    Household.objects.filter(pk=household.pk).update(version=version + 1, updated_at=timezone.now())
    household.version = version + 1


def _overlap_error(person_id: int, household_id: int, start_date: dt.date) -> ValidationError | None:
    """A person lives in one household at a time: a clear message before the database constraint."""
    other = (
        HouseholdMember.objects.filter(person_id=person_id)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=start_date))
        .values_list("household_id", flat=True)
        .first()
    )
    if other is None:
        return None
    if other == household_id:
        return ValidationError(_("Esta persona ya figura en esta unidad de convivencia en esas fechas."),
                               code="already_member")
    return ValidationError(
        _("Esta persona figura en otra unidad de convivencia en esas fechas. Si se ha mudado, dé de baja "
          "primero esa convivencia desde su propia historia, o indique una fecha de alta posterior a la baja."),
        code="other_household",
    )


def _save_member(member: HouseholdMember) -> None:
    member.full_clean()
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError as exc:  # two saves raced past the checks: the constraint decides
        raise ValidationError(_("Esta persona ya figura en una unidad de convivencia en esas fechas."),
                              code="overlap") from exc


def _reevaluate(person_ids: Iterable[int]) -> None:
    """The household's data feed the poverty alerts of every member: re-evaluate each after commit."""
    from diagnostics.tasks import queue_person_evaluation

    for person_id in sorted(set(person_ids)):
        queue_person_evaluation(person_id)


def _living_person_ids(household_id: int, today: dt.date) -> list[int]:
    return list(
        HouseholdMember.objects.filter(living_on(today), household_id=household_id).values_list("person_id", flat=True)
    )


# --- Writes -----------------------------------------------------------------------------------------------


@transaction.atomic
def household_create(*, viewer: Viewer, person_id: int, relationship: str, start_date: dt.date,
                     address_line: str = "") -> Household:
    """A household for a person who has none today, with the person as its first member."""
    _ensure_may_edit(viewer, COMPOSITION, person_id)
    today = timezone.localdate()
    list(Person.objects.select_for_update().filter(pk=person_id).values_list("pk", flat=True))  # one at a time
    if current_membership(person_id, today) is not None:
        raise HouseholdChanged(created_meanwhile_message())
    if start_date > today:
        raise ValidationError({"start_date": _("La fecha no puede ser posterior a hoy.")})
    overlap = _overlap_error(person_id, 0, start_date)
    if overlap is not None:
        raise ValidationError({"start_date": overlap})
    household = Household(address_line=address_line)
    household.full_clean()
    household.save()
    _save_member(HouseholdMember(household=household, person_id=person_id, relationship=relationship,
                                 start_date=start_date))
    _reevaluate([person_id])
    return household


def _check_joining(*, household_id: int, relationship: str, start_date: dt.date, today: dt.date) -> None:
    """What any new membership of the household must meet: a start date not in the future, one holder."""
    if start_date > today:
        raise ValidationError({"start_date": _("La fecha no puede ser posterior a hoy.")})
    if relationship == HouseholdMember.Relationship.HOLDER and HouseholdMember.objects.filter(
        living_on(today), household_id=household_id, relationship=HouseholdMember.Relationship.HOLDER,
    ).exists():
        raise ValidationError({"relationship": _("Esta unidad de convivencia ya tiene una persona titular.")})


@transaction.atomic
def member_add(*, viewer: Viewer, person_id: int, household_id: int, version: int, member_person_id: int,
               relationship: str, start_date: dt.date) -> HouseholdMember:
    """Add a person the organisation attends to the household of ``person_id``."""
    _ensure_may_edit(viewer, COMPOSITION, person_id)
    today = timezone.localdate()
    household = _locked_household(household_id=household_id, version=version, person_id=person_id, today=today)
    if not organisation_attends(viewer.organisation_id, member_person_id):
        raise ValidationError({"document_number": not_found_message()})
    _check_joining(household_id=household_id, relationship=relationship, start_date=start_date, today=today)
    overlap = _overlap_error(member_person_id, household_id, start_date)
    if overlap is not None:
        raise overlap
    member = HouseholdMember(household=household, person_id=member_person_id, relationship=relationship,
                             start_date=start_date)
    _save_member(member)
    _raise_version(household, version)
    _reevaluate([*_living_person_ids(household_id, today), member_person_id])
    return member


@transaction.atomic
def member_register(*, viewer: Viewer, person_id: int, household_id: int, version: int,
                    person_data: dict[str, Any], relationship: str, start_date: dt.date) -> HouseholdMember:
    """A member who is not in RIS yet (a baby, a minor without a document of their own, a person with no
    DNI or NIE) joins the household of ``person_id``: registered as registration registers anyone
    (``cases.services.person_register``: the basic sheet validated with every constraint, the
    organisation's enrolment, the viewer as reference professional, the change history) and added in
    the same transaction, at the household's version. The caller has looked for the same document and
    for likely duplicates first, as registration does (``cases.household_views``)."""
    _ensure_may_edit(viewer, COMPOSITION, person_id)
    today = timezone.localdate()
    household = _locked_household(household_id=household_id, version=version, person_id=person_id, today=today)
    _check_joining(household_id=household_id, relationship=relationship, start_date=start_date, today=today)
    birth_date = person_data.get("birth_date")
    if birth_date is not None and start_date < birth_date:
        raise ValidationError({"start_date": before_birth_message()})
    living = _living_person_ids(household_id, today)
    # the new member lives here: the household's address is theirs (the form asks for none)
    person_data = {"address_line": household.address_line, "municipality_id": household.municipality_id,
                   **person_data}
    member_person = person_register(viewer=viewer, data=person_data)  # queues the new person's evaluation
    member = HouseholdMember(household=household, person=member_person, relationship=relationship,
                             start_date=start_date)
    _save_member(member)
    _raise_version(household, version)
    _reevaluate(living)
    return member


@transaction.atomic
def member_end(*, viewer: Viewer, person_id: int, household_id: int, version: int, member_id: int,
               end_date: dt.date) -> HouseholdMember:
    """End a membership: the person no longer lives in the household from ``end_date`` on (kept as history)."""
    _ensure_may_edit(viewer, COMPOSITION, person_id)
    today = timezone.localdate()
    household = _locked_household(household_id=household_id, version=version, person_id=person_id, today=today)
    member = HouseholdMember.objects.select_for_update().filter(living_on(today), pk=member_id,
                                                                household_id=household_id).first()
    if member is None:
        raise ValidationError({"member": _("Esa persona ya no convive en esta unidad de convivencia.")})
    if end_date > today:
        raise ValidationError({"end_date": _("La fecha no puede ser posterior a hoy.")})
    living = _living_person_ids(household_id, today)
    member.end_date = end_date
    member.full_clean()
    member.save()
    _raise_version(household, version)
    _reevaluate([*living, member.person_id])
    return member


@transaction.atomic
def economy_update(*, viewer: Viewer, person_id: int, household_id: int, version: int, data: dict[str, Any],
                   deprivation_codes: Iterable[str], months: dict[int, int | None]) -> Household:
    """The household's economy: its own fields, its deprivation items and the months worked last year by
    each working-age member (``months``: membership id → months, None when it does not apply)."""
    _ensure_may_edit(viewer, ECONOMY, person_id)
    today = timezone.localdate()
    household = _locked_household(household_id=household_id, version=version, person_id=person_id, today=today)
    for name, value in data.items():
        setattr(household, name, value)
    household.full_clean()
    household.version = version + 1
    household.save()

    codes = set(deprivation_codes)
    items = list(DeprivationItem.objects.filter(code__in=codes))
    if len(items) != len(codes):
        raise ValidationError({"deprivation_items": _("Escoja solo carencias de la lista.")})
    if codes != set(household.deprivation_items.values_list("code", flat=True)):
        household.deprivation_items.set(items)  # the change history records what was added and removed

    living = {m.pk: m for m in HouseholdMember.objects.filter(living_on(today), household_id=household_id)
              .select_related("person")}
    for member_id, value in months.items():
        member = living.get(member_id)
        if member is None or not is_working_age(member.person, today):
            raise HouseholdChanged()
        if member.months_worked_last_year != value:
            member.months_worked_last_year = value
            member.full_clean()
            member.save()
    _reevaluate(m.person_id for m in living.values())
    return household


def created_meanwhile_message() -> str:
    return _("Otra persona ha registrado ya una unidad de convivencia para esta persona mientras usted la "
             "editaba. Sus datos no se han perdido: revise la que consta ahora.")


def not_found_message() -> str:
    return _("No consta ninguna persona atendida por su organización con ese DNI o NIE y esa fecha de "
             "nacimiento. Compruebe los datos; si la persona no está registrada, regístrela primero.")


def before_birth_message() -> str:
    return _("La fecha desde la que convive no puede ser anterior a su fecha de nacimiento.")
