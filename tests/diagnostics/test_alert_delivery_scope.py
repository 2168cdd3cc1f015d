"""No delivery is lost, and none reaches where it should not.

- A personal delivery whose recipient no longer reads alerts in the organisation (left,
  deactivated, another role) is read from the organisation's queue.
- An organisation that starts attending a person (an enrolment opened, a referral accepted)
  while an alert is open receives it at the person's next evaluation, queued on commit by the
  change itself, or at the nightly sweep: built from what that organisation may see and
  written to the disclosure log like any delivery, once.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import JobSeekerRecord, ReferenceProfessional
from consent.purposes import Purpose
from consent.services import consent_record
from coordination import services as coordination_services
from diagnostics import tasks
from diagnostics.models import Alert, AlertDelivery
from diagnostics.selectors import open_alert_counts_for
from diagnostics.services import LATE_DELIVERY_DAYS
from ris.accounts.models import Membership, Role
from ris.accounts.viewer import Viewer
from sharing.caseload import enrolment_close, enrolment_open
from sharing.models import DisclosureLogEntry, Enrolment
from tests.factories import MembershipFactory

from .conftest import sweep, today
from .test_queued_on_change import published  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

INBOX = reverse("alerts:inbox")
QUEUE = "Bandeja de mi organización"


def viewer_of(user) -> Viewer:
    return Viewer.from_membership(user.memberships.select_related("organisation").get())


def _silent(world, *, attended_by=("social",), professionals=True):
    """Attended for 400 days with no contact recorded: "sin contacto" fires; consent to all."""
    person = world.person(attended_by=attended_by, professionals=professionals)
    Enrolment.objects.filter(person=person).update(start_date=today() - dt.timedelta(days=400))
    world.consent(person)
    return person


def _queued(html: str, name: str) -> bool:
    return name in html and html.index(name) > html.index(QUEUE)


# --- A recipient who no longer reads alerts there -------------------------------------------


def _left(user):
    Membership.objects.filter(user=user).update(is_active=False)


def _deactivated(user):
    user.is_active = False
    user.save(update_fields=["is_active"])


def _became_evaluator(user):
    Membership.objects.filter(user=user).update(role=Role.EVALUATOR)


@pytest.mark.parametrize("change", [_left, _deactivated, _became_evaluator])
def test_a_personal_delivery_whose_recipient_no_longer_reads_alerts_goes_to_the_queue(
    change, world, client_for
):
    colleague = MembershipFactory(organisation=world.social, role=Role.SOCIAL_WORKER).user
    person = _silent(world)
    sweep("sin_contacto")
    delivery = AlertDelivery.objects.get(alert__person=person)
    assert delivery.recipient_id == world.social_worker.pk
    client = client_for(colleague)
    assert person.full_name not in client.get(INBOX).content.decode()  # Ana's, not the queue's
    assert open_alert_counts_for(user_id=colleague.pk, organisation_id=world.social.pk) == {}

    change(world.social_worker)
    assert _queued(client.get(INBOX).content.decode(), person.full_name)
    assert open_alert_counts_for(user_id=colleague.pk, organisation_id=world.social.pk) == {
        person.pk: 1
    }
    assert client.post(reverse("alerts:acknowledge", args=[delivery.pk])).status_code == 302
    delivery.refresh_from_db()
    assert delivery.seen_by == colleague


# --- An organisation that starts attending the person ---------------------------------------


def test_opening_or_closing_an_enrolment_queues_the_person(world, published):  # noqa: F811
    person = world.person()
    with published as sent:
        enrolment = enrolment_open(
            organisation=world.employment, person=person, origin=Enrolment.Origin.REGISTRATION
        )
    assert sent == [person.pk]
    with published as sent:
        enrolment_open(
            organisation=world.employment, person=person, origin=Enrolment.Origin.REGISTRATION
        )
    assert sent == []  # already attended: nothing changed
    with published as sent:
        enrolment_close(enrolment=enrolment)
    assert sent == [person.pk]


def test_a_new_organisation_receives_the_open_alert_at_the_next_evaluation(
    world, published  # noqa: F811
):
    person = _silent(world)
    sweep("sin_contacto")
    assert set(
        AlertDelivery.objects.filter(alert__person=person).values_list("organisation", flat=True)
    ) == {world.social.pk}
    with published as sent:
        enrolment_open(
            organisation=world.employment, person=person, origin=Enrolment.Origin.REGISTRATION
        )
    assert sent == [person.pk]

    summary = tasks.evaluate_person.apply(args=(person.pk,)).get()
    assert (summary["created"], summary["late_deliveries"]) == (0, 1)
    late = AlertDelivery.objects.get(alert__person=person, organisation=world.employment)
    assert late.recipient_id is None  # no reference professional there yet: the queue

    # the same text, levels and log as for an organisation that attended from the start
    both = _silent(world, attended_by=("social", "employment"), professionals=False)
    sweep("sin_contacto")
    usual = AlertDelivery.objects.get(alert__person=both, organisation=world.employment)
    assert (late.text, late.plain_text, late.levels) == (usual.text, usual.plain_text, usual.levels)
    logged = DisclosureLogEntry.objects.filter(
        event="alert", person=person, organisation=world.employment
    )
    assert list(logged.values_list("channel", "purpose", "category", "level")) == [
        ("job", "prevencion", "atenciones", late.levels["atenciones"])
    ]

    again = tasks.evaluate_person.apply(args=(person.pk,)).get()
    assert again["late_deliveries"] == 0
    assert AlertDelivery.objects.filter(alert__person=person).count() == 2
    assert logged.count() == 1


def test_the_nightly_sweep_catches_up_too(world):
    """Redis was down when the enrolment was opened: the sweep delivers it."""
    person = _silent(world)
    sweep("sin_contacto")
    enrolment_open(organisation=world.ngo, person=person, origin=Enrolment.Origin.REGISTRATION)
    ReferenceProfessional.objects.create(
        person=person, organisation=world.ngo, professional=world.ngo_technician
    )
    summary = sweep().summary()
    assert (summary["created"], summary["late_deliveries"]) == (0, 1)
    delivery = AlertDelivery.objects.get(alert__person=person, organisation=world.ngo)
    assert delivery.recipient_id == world.ngo_technician.pk
    assert sweep().summary()["late_deliveries"] == 0


def test_a_new_organisation_that_may_not_see_the_alert_gets_nothing_until_it_may(world):
    """Long-term unemployment reads the employment office's data: social services, starting to
    attend the person, receive it only once a consent lets them see it."""
    person = world.person(attended_by=("employment",))
    world.entry(
        JobSeekerRecord,
        person,
        by="employment",
        status="unemployed",
        unemployed_since=today() - dt.timedelta(days=800),
    )
    sweep("desempleo_larga_duracion_sin_plan")
    enrolment_open(organisation=world.social, person=person, origin=Enrolment.Origin.REGISTRATION)
    assert sweep(person_ids=[person.pk]).summary()["late_deliveries"] == 0
    assert not AlertDelivery.objects.filter(alert__person=person, organisation=world.social)
    world.consent(person)
    assert sweep(person_ids=[person.pk]).summary()["late_deliveries"] == 1
    delivery = AlertDelivery.objects.get(alert__person=person, organisation=world.social)
    assert delivery.levels == {"demanda_empleo": "full"}
    assert "En desempleo desde el" in delivery.text


def test_an_accepted_referral_brings_the_open_alert_to_the_receiver(world, published):  # noqa: F811
    person = _silent(world)
    consent_record(
        viewer=viewer_of(world.social_worker),
        person=person,
        given_on=today(),
        valid_from=today(),
        valid_until=today() + dt.timedelta(days=365),
        purposes=[Purpose.REFERRAL, Purpose.FOLLOW_UP, Purpose.PREVENTION],
        grantee_services=["employment"],
        all_categories=True,
    )
    sweep("sin_contacto")
    referral = coordination_services.referral_send(
        viewer=viewer_of(world.social_worker),
        person_id=person.pk,
        to_organisation_id=world.employment.pk,
        reason="Búsqueda activa de empleo",
        categories=["unidad_convivencia"],
    )
    with published as sent:
        coordination_services.referral_accept(
            viewer=viewer_of(world.employment_counsellor), referral_id=referral.pk
        )
    assert sent == [person.pk]  # once, for the enrolment and the answer together
    tasks.evaluate_person.apply(args=(person.pk,)).get()
    delivery = AlertDelivery.objects.get(alert__person=person, organisation=world.employment)
    assert delivery.recipient_id == world.employment_counsellor.pk  # the one who accepted


def test_the_sweep_catches_up_the_last_week_and_a_person_s_evaluation_everything(world):
    """The enrolment queued the person's evaluation when it was opened; the nightly sweep only
    makes up for evaluations lost in the last ``LATE_DELIVERY_DAYS`` (a broker outage)."""
    person = _silent(world)
    sweep("sin_contacto")
    Alert.objects.filter(person=person).update(created_at=_days_ago(30))
    enrolment = enrolment_open(
        organisation=world.employment, person=person, origin=Enrolment.Origin.REGISTRATION
    )
    Enrolment.objects.filter(pk=enrolment.pk).update(
        start_date=today() - dt.timedelta(days=LATE_DELIVERY_DAYS + 1)
    )
    assert sweep().summary()["late_deliveries"] == 0
    Enrolment.objects.filter(pk=enrolment.pk).update(
        start_date=today() - dt.timedelta(days=LATE_DELIVERY_DAYS)
    )
    assert sweep().summary()["late_deliveries"] == 1
    AlertDelivery.objects.filter(organisation=world.employment).delete()
    Enrolment.objects.filter(pk=enrolment.pk).update(start_date=today() - dt.timedelta(days=20))
    assert sweep(person_ids=[person.pk]).summary()["late_deliveries"] == 1


def _days_ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)
