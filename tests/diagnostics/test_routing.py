"""Who receives an alert: the reference professional of each organisation that attends the
person, else the organisation's queue; only organisations that see every category the rule
reads; each delivery written to the disclosure log in one bulk append per batch."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases.models import DiaryEntry, JobSeekerRecord
from diagnostics import services
from diagnostics.models import AlertDelivery
from ris.accounts.models import Membership
from sharing.disclosure import disclosure_log_append
from sharing.models import DisclosureLogEntry, Enrolment

from .conftest import sweep, today

pytestmark = pytest.mark.django_db


def _silent_person(world, *, attended_by, professionals=True, consent=True):
    person = world.person(attended_by=attended_by, professionals=professionals)
    Enrolment.objects.filter(person=person).update(start_date=today() - dt.timedelta(days=400))
    if consent:
        world.consent(person)
    return person


def test_the_reference_professional_receives_it_personally(world):
    person = _silent_person(world, attended_by=("social", "employment"))
    sweep("sin_contacto")
    deliveries = {
        d.organisation_id: d.recipient_id
        for d in AlertDelivery.objects.filter(alert__person=person)
    }
    assert deliveries == {
        world.social.pk: world.social_worker.pk,
        world.employment.pk: world.employment_counsellor.pk,
    }


def test_without_a_reference_professional_it_goes_to_the_organisation_queue(world):
    person = _silent_person(world, attended_by=("social",), professionals=False)
    sweep("sin_contacto")
    [delivery] = AlertDelivery.objects.filter(alert__person=person)
    assert (delivery.organisation_id, delivery.recipient_id) == (world.social.pk, None)


def test_a_professional_who_left_the_organisation_is_replaced_by_the_queue(world, coordinator):
    person = _silent_person(world, attended_by=("social",))
    Membership.objects.filter(user=world.social_worker).update(is_active=False)
    sweep("sin_contacto")
    [delivery] = AlertDelivery.objects.filter(alert__person=person)
    assert delivery.recipient_id is None  # the coordinator still reads the centre's queue


def test_an_organisation_with_nobody_to_read_alerts_gets_no_delivery(world):
    person = _silent_person(world, attended_by=("social",))
    Membership.objects.filter(organisation=world.social).update(is_active=False)
    result = sweep("sin_contacto")
    assert (
        result.summary()["created"] == 1
        and not AlertDelivery.objects.filter(alert__person=person).exists()
    )


def test_an_organisation_that_does_not_see_every_category_read_gets_nothing(world):
    # long-term unemployment reads employment's data: social services without a basis do not get it
    person = world.person(attended_by=("social", "employment"))
    world.entry(
        JobSeekerRecord,
        person,
        by="employment",
        status="unemployed",
        unemployed_since=today() - dt.timedelta(days=800),
    )
    sweep("desempleo_larga_duracion_sin_plan")
    assert set(
        AlertDelivery.objects.filter(alert__person=person).values_list("organisation_id", flat=True)
    ) == {world.employment.pk}
    # with a consent for prevention they do, at the level the consent and the matrix allow
    other = world.person(attended_by=("social", "employment"))
    world.consent(other)
    world.entry(
        JobSeekerRecord,
        other,
        by="employment",
        status="unemployed",
        unemployed_since=today() - dt.timedelta(days=800),
    )
    sweep("desempleo_larga_duracion_sin_plan")
    social = AlertDelivery.objects.get(alert__person=other, organisation=world.social)
    assert (
        social.levels == {"demanda_empleo": "full"}
        and social.recipient_id == world.social_worker.pk
    )


def test_a_restricted_entry_reaches_other_services_as_an_indicator_only(world):
    person = world.person(attended_by=("social", "employment"))
    world.consent(person)
    world.entry(
        JobSeekerRecord,
        person,
        by="employment",
        status="unemployed",
        restricted=True,
        unemployed_since=today() - dt.timedelta(days=800),
    )
    sweep("desempleo_larga_duracion_sin_plan")
    social = AlertDelivery.objects.get(alert__person=person, organisation=world.social)
    own = AlertDelivery.objects.get(alert__person=person, organisation=world.employment)
    assert social.levels == {"demanda_empleo": "indicator"} and "desde el" not in social.text
    assert own.levels == {"demanda_empleo": "full"} and "desde el" in own.text


def test_every_delivery_is_in_the_disclosure_log_one_append_per_batch(world, monkeypatch):
    persons = [_silent_person(world, attended_by=("social", "employment")) for _ in range(5)]
    calls = []

    def counting(lines):
        calls.append(len(lines))
        return disclosure_log_append(lines)

    monkeypatch.setattr(services, "disclosure_log_append", counting)
    result = services.alerts_evaluate(codes=["sin_contacto"], batch_size=2)
    assert result.summary()["created"] == 5 and result.summary()["deliveries"] == 10
    assert len(calls) == 3  # batches of 2, 2 and 1 alerts
    lines = DisclosureLogEntry.objects.filter(event="alert", person__in=persons)
    assert lines.count() == 10  # one category read by this rule, one line per delivery
    assert set(lines.values_list("channel", "purpose", "category")) == {
        ("job", "prevencion", "atenciones")
    }
    personal = lines.get(person=persons[0], organisation=world.employment)
    assert (
        personal.user_id == world.employment_counsellor.pk
        and personal.role == "employment_counsellor"
    )
    assert personal.level == "full" and personal.basis


def test_the_sweep_reads_in_an_explicit_system_context(world, monkeypatch):
    seen = []
    original = services._deliver

    def spy(*args, **kwargs):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('ris.actor', true)")
            seen.append((cursor.fetchone()[0], services.current_system_job()))
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "_deliver", spy)
    _silent_person(world, attended_by=("social",))
    sweep("sin_contacto")
    assert seen == [("system:alerts.sin_contacto", "alerts.sin_contacto")]
    assert services.current_system_job() is None


def test_a_diary_contact_today_keeps_the_person_out(world):
    person = _silent_person(world, attended_by=("social",))
    world.entry(DiaryEntry, person, by="social", kind="phone_call", happened_at=timezone.now())
    assert sweep("sin_contacto").summary()["created"] == 0
