"""Caseload: which organisations attend which persons.

The ``Enrolment`` is the record of truth; the guardian object permission
``cases.view_person`` granted to the organisation's group is written in the same
transaction, and is what list queries join on.

Opening or closing an enrolment changes who attends the person, which the alerts depend on
(an organisation that starts attending receives the alerts still open, decision 0007): both
queue the person's evaluation for when the transaction commits.
"""

from __future__ import annotations

from django.db import transaction
from django.contrib.auth.models import Permission
from django.db.models import QuerySet, Subquery
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from cases.models import Person
from ris.accounts.models import Organisation

from .models import Enrolment, PersonGroupObjectPermission

VIEW_PERSON = "cases.view_person"


@transaction.atomic
def enrolment_open(
    *, organisation: Organisation, person: Person, origin: str, by=None, evaluate: bool = True
) -> Enrolment:
    """The organisation starts attending the person (nothing changes if it already does).

    ``evaluate=False``: the caller queues the person's evaluation itself, once for the whole
    change (``coordination.services.referral_accept``)."""
    existing = Enrolment.objects.filter(organisation=organisation, person=person, end_date__isnull=True).first()
    if existing is not None:
        return existing
    enrolment = Enrolment.objects.create(organisation=organisation, person=person, origin=origin, created_by=by)
    assign_perm(VIEW_PERSON, organisation.group, person)
    if evaluate:
        _queue_evaluation(person.pk)
    return enrolment


@transaction.atomic
def enrolment_close(*, enrolment: Enrolment) -> None:
    Enrolment.objects.filter(pk=enrolment.pk).update(end_date=timezone.localdate())
    remove_perm(VIEW_PERSON, enrolment.organisation.group, enrolment.person)
    _queue_evaluation(enrolment.person_id)


def _queue_evaluation(person_id: int) -> None:
    """Re-evaluate the person's alerts once the transaction commits (never raises for the
    broker)."""
    from diagnostics.tasks import queue_person_evaluation

    queue_person_evaluation(person_id)


def _group_and_permission(organisation_id: int) -> dict:
    """Scalar subqueries, so the planner sees two equality filters on the permission index
    instead of joins it misestimates on a large population."""
    return {
        "group_id": Subquery(Organisation.objects.filter(pk=organisation_id).values("group_id")[:1]),
        "permission_id": Subquery(
            Permission.objects.filter(codename="view_person", content_type__app_label="cases").values("pk")[:1]
        ),
    }


def persons_attended_by(organisation_id: int) -> QuerySet[Person]:
    """The caseload as a queryset, filtered in SQL through the guardian table."""
    granted = PersonGroupObjectPermission.objects.filter(**_group_and_permission(organisation_id)).values(
        "content_object_id"
    )
    return Person.objects.filter(pk__in=granted)


def organisation_attends(organisation_id: int, person_id: int) -> bool:
    return PersonGroupObjectPermission.objects.filter(
        content_object_id=person_id, **_group_and_permission(organisation_id)
    ).exists()
