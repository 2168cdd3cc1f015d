"""Plain helpers that write the rows the other apps' services would write, backdated.

The indicators are about *when* things happened, so these helpers set the dates the
services would set to "now". They write through the ORM only (no raw SQL).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from cases.models import Person
from coordination.models import CaseConference, ConferenceCase, JointPlan, PlanAction, Referral
from ris.accounts.models import Organisation
from tests.factories import UserFactory


def staff():
    """A professional to sign the row (who it is does not matter to the indicators)."""
    return UserFactory()


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def referral(person: Person, sender: Organisation, receiver: Organisation, sent: dt.datetime, *,
             accepted_after: int | None = None, rejected_after: int | None = None) -> Referral:
    state = Referral.State.SENT
    accepted_at = rejected_at = None
    if accepted_after is not None:
        state, accepted_at = Referral.State.ACCEPTED, sent + dt.timedelta(days=accepted_after)
    if rejected_after is not None:
        state, rejected_at = Referral.State.REJECTED, sent + dt.timedelta(days=rejected_after)
    return Referral.objects.create(
        person=person, from_organisation=sender, to_organisation=receiver, reason="Itinerario de inserción",
        categories=["competencias"], sent_by=staff(), sent_at=sent, state=state, accepted_at=accepted_at,
        rejected_at=rejected_at, rejection_reason="Sin plazas" if rejected_at else "",
    )


def plan(person: Person, organiser: Organisation, start: dt.date) -> JointPlan:
    return JointPlan.objects.create(
        person=person, title="Itinerario conjunto", start_date=start, review_date=start + dt.timedelta(days=90),
        organising_organisation=organiser, created_by=staff(), state=JointPlan.State.ACTIVE,
    )


def action(plan_: JointPlan, owner: Organisation, *, state: str, end: dt.date | None) -> PlanAction:
    return PlanAction.objects.create(
        plan=plan_, owner_organisation=owner, owner_service=owner.kind, action_type=PlanAction.Type.GUIDANCE,
        description="Orientación laboral", category="itinerario_empleo", start_date=plan_.start_date,
        end_date=end, state=state, created_by=staff(),
    )


def conference(organiser: Organisation, day: dt.date, persons: list[Person]) -> CaseConference:
    meeting = CaseConference.objects.create(
        date=day, title="Comisión técnica", community=organiser.community, organising_organisation=organiser,
        created_by=staff(),
    )
    for person in persons:
        ConferenceCase.objects.create(conference=meeting, person=person, presented_by_organisation=organiser,
                                      presented_by=staff())
    return meeting
