"""Plain builders for the coordination tests (no fixtures: call them with the objects you have)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from consent.purposes import Purpose
from coordination.models import (
    CaseConference,
    ConferenceAgreement,
    ConferenceAttendee,
    ConferenceCase,
    InformationRequest,
    JointPlan,
    LinkRequest,
    PlanAction,
    PlanCommitment,
    PlanGoal,
    Referral,
    Resource,
)
from ris.accounts.models import Organisation, User
from ris.reference.models import AutonomousCommunity
from tests.factories import ConsentFactory, ConsentRevocationFactory, PersonFactory, enrol

TODAY = timezone.localdate


def give_consent(
    person,
    *,
    organisations=(),
    services=(),
    categories=None,
    denied=(),
    purposes=(Purpose.REFERRAL,),
    revoked: bool = False,
    **extra,
):
    """A consent in force from today: to these organisations and/or service kinds, for these
    categories (None: all), purposes and exceptions."""
    consent = ConsentFactory(
        person=person,
        grantee_services=list(services),
        all_categories=categories is None,
        permitted_categories=list(categories or []),
        denied_categories=list(denied),
        purposes=list(purposes),
        **extra,
    )
    if organisations:
        consent.grantee_organisations.add(*organisations)
    if revoked:
        ConsentRevocationFactory(consent=consent, revoked_by=consent.recorded_by)
    return consent


def make_referral(
    person,
    sender: Organisation,
    receiver: Organisation,
    sent_by: User,
    *,
    state: str = Referral.State.SENT,
    categories=("exclusion_social",),
    **extra,
) -> Referral:
    """A referral written straight to the table, in any state (services are tested apart)."""
    now = timezone.now()
    fields = dict(
        person=person,
        from_organisation=sender,
        to_organisation=receiver,
        reason="Motivo de prueba",
        categories=list(categories),
        sent_by=sent_by,
        state=state,
    )
    if state in (Referral.State.ACCEPTED, Referral.State.COMPLETED):
        fields.update(accepted_at=now, accepted_by=sent_by)
    if state == Referral.State.COMPLETED:
        fields.update(completed_at=now, completed_by=sent_by)
    if state == Referral.State.REJECTED:
        fields.update(rejected_at=now, rejected_by=sent_by, rejection_reason="Sin plazas")
    if state == Referral.State.CANCELLED:
        fields.update(cancelled_at=now, cancelled_by=sent_by)
    fields.update(extra)
    return Referral.objects.create(**fields)


def make_information_request(
    person,
    asker: Organisation,
    answerer: Organisation,
    asked_by: User,
    *,
    categories=("exclusion_social",),
    answer: str = "",
    answered_by: User | None = None,
    purpose: str = Purpose.FOLLOW_UP,
) -> InformationRequest:
    return InformationRequest.objects.create(
        person=person,
        from_organisation=asker,
        to_organisation=answerer,
        question="¿Cómo va la persona?",
        categories=list(categories),
        purpose=purpose,
        asked_by=asked_by,
        answer=answer,
        answered_at=timezone.now() if answer else None,
        answered_by=answered_by if answer else None,
    )


def make_plan(
    person, organiser: Organisation, created_by: User, *, participants=(), **extra
) -> JointPlan:
    fields = dict(
        person=person,
        title="Itinerario de inserción",
        start_date=TODAY(),
        review_date=TODAY() + dt.timedelta(days=90),
        state=JointPlan.State.ACTIVE,
        organising_organisation=organiser,
        created_by=created_by,
    )
    fields.update(extra)
    plan = JointPlan.objects.create(**fields)
    plan.organisations.add(organiser, *participants)
    return plan


def make_action(
    plan: JointPlan,
    owner: Organisation,
    created_by: User,
    *,
    category: str,
    description: str = "Acción de prueba",
    **extra,
) -> PlanAction:
    fields = dict(
        plan=plan,
        owner_organisation=owner,
        owner_service=owner.kind,
        action_type=PlanAction.Type.OTHER,
        description=description,
        category=category,
        start_date=TODAY(),
        created_by=created_by,
    )
    fields.update(extra)
    return PlanAction.objects.create(**fields)


def make_goal(
    plan: JointPlan,
    owner: Organisation,
    created_by: User,
    *,
    category: str,
    description: str = "Objetivo de prueba",
    **extra,
) -> PlanGoal:
    fields = dict(
        plan=plan,
        owner_organisation=owner,
        owner_service=owner.kind,
        description=description,
        category=category,
        start_date=TODAY(),
        created_by=created_by,
    )
    fields.update(extra)
    return PlanGoal.objects.create(**fields)


def make_commitment(
    plan: JointPlan,
    checker: Organisation,
    created_by: User,
    *,
    category: str,
    description: str = "Compromiso de prueba",
) -> PlanCommitment:
    return PlanCommitment.objects.create(
        plan=plan,
        description=description,
        category=category,
        checked_by_organisation=checker,
        checked_by_service=checker.kind,
        created_by=created_by,
    )


def make_conference(
    organiser: Organisation, created_by: User, *, attendees=(), **extra
) -> CaseConference:
    fields = dict(
        date=TODAY(),
        title="Comisión de inclusión de Valladolid",
        community=organiser.community,
        organising_organisation=organiser,
        created_by=created_by,
    )
    fields.update(extra)
    conference = CaseConference.objects.create(**fields)
    pairs = {(created_by, organiser), *attendees}
    ConferenceAttendee.objects.bulk_create(
        [ConferenceAttendee(conference=conference, user=u, organisation=o) for u, o in pairs]
    )
    return conference


def add_case(
    conference: CaseConference, person, presenter: Organisation, presented_by: User
) -> ConferenceCase:
    return ConferenceCase.objects.create(
        conference=conference,
        person=person,
        presented_by_organisation=presenter,
        presented_by=presented_by,
    )


def add_agreement(
    case: ConferenceCase,
    org: Organisation,
    user: User,
    text: str = "Acuerdo de prueba",
    *,
    category: str = "exclusion_social",
    service: str | None = None,
):
    """An agreement filed under ``category`` by ``org``'s kind of service (or ``service``)."""
    return ConferenceAgreement.objects.create(
        case=case,
        text=text,
        category=category,
        recorded_by_service=service or org.kind,
        recorded_by=user,
        recorded_by_org=org,
    )


def make_link_request(
    person, requester: Organisation, requested_by: User, *, reason: str = "Motivo de prueba"
) -> LinkRequest:
    return LinkRequest.objects.create(
        person=person, from_organisation=requester, requested_by=requested_by, reason=reason
    )


def make_resource(
    owner: Organisation,
    *,
    name: str = "Programa de orientación",
    community_code: str = "07",
    **extra,
) -> Resource:
    fields = dict(
        name=name,
        owner_organisation=owner,
        description="Descripción del recurso",
        community=AutonomousCommunity.objects.get(code=community_code),
        target_group=Resource.TargetGroup.GENERAL,
        funding_source=Resource.Funding.ESF_PLUS,
        start_date=TODAY(),
    )
    fields.update(extra)
    return Resource.objects.create(**fields)


def attended_persons(n: int, *organisations: Organisation) -> list:
    persons = []
    for _ in range(n):
        p = PersonFactory()
        for org in organisations:
            enrol(p, org)
        persons.append(p)
    return persons


def coordination_rows(*, person, sender: Organisation, receiver: Organisation, user: User) -> None:
    """One row in every coordination table (admin tests); ``sender`` attends ``person``."""
    make_referral(person, sender, receiver, user)
    make_link_request(person, receiver, user)
    make_information_request(person, sender, receiver, user, answer="Respuesta", answered_by=user)
    resource = make_resource(sender)
    plan = make_plan(person, sender, user, participants=[receiver])
    action = make_action(plan, sender, user, category="exclusion_social", resource=resource)
    make_goal(plan, sender, user, category="exclusion_social")
    commitment = make_commitment(plan, sender, user, category="rentas_minimas")
    commitment.compliance_records.create(
        date=TODAY(), complied=True, recorded_by=user, recorded_by_org=sender
    )
    conference = make_conference(sender, user)
    case = add_case(conference, person, sender, user)
    agreement = add_agreement(case, sender, user)
    agreement.plan_action = action
    agreement.save(update_fields=["plan_action"])
