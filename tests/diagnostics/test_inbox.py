"""The alert inbox (/espacio/alertas/): who may open it, what it lists, acknowledge and resolve,
a revoked consent taking effect on the next request, and a constant number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consent.models import ConsentRevocation
from diagnostics.models import Alert, AlertDelivery, AlertState
from diagnostics.selectors import open_alert_counts_for
from sharing.caseload import enrolment_close
from sharing.models import Enrolment

from .conftest import sweep, today

pytestmark = pytest.mark.django_db

INBOX = reverse("alerts:inbox")


def _silent(world, *, attended_by=("social",), professionals=True, consent=True):
    person = world.person(attended_by=attended_by, professionals=professionals)
    Enrolment.objects.filter(person=person).update(start_date=today() - dt.timedelta(days=400))
    if consent:
        world.consent(person)
    return person


@pytest.mark.parametrize("persona", ["social_worker", "employment_counsellor", "coordinator"])
def test_the_staff_who_read_alerts_open_the_inbox(persona, request, client_for, world):
    response = client_for(request.getfixturevalue(persona)).get(INBOX)
    assert response.status_code == 200
    assert "Bandeja de mi organización" in response.content.decode()


@pytest.mark.parametrize(
    "persona", ["ngo_technician", "evaluator", "dpo", "administrator", "outsider"]
)
def test_everyone_else_gets_a_404(persona, request, client_for):
    """NGO technicians read their alerts in the portal, never under /espacio/."""
    assert client_for(request.getfixturevalue(persona)).get(INBOX).status_code == 404


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(INBOX)
    assert response.status_code == 302 and reverse("login") in response.url


def test_my_alerts_and_my_organisations_queue_and_nothing_else(world, client_for):
    mine = _silent(world)
    queued = _silent(world, professionals=False)
    elsewhere = _silent(world, attended_by=("employment",))
    sweep("sin_contacto")
    html = client_for(world.social_worker).get(INBOX).content.decode()
    assert mine.full_name in html and queued.full_name in html and elsewhere.full_name not in html
    assert (
        html.index(mine.full_name)
        < html.index("Bandeja de mi organización")
        < html.index(queued.full_name)
    )


def test_a_person_no_longer_attended_disappears_from_the_inbox(world, client_for):
    person = _silent(world)
    sweep("sin_contacto")
    enrolment_close(enrolment=Enrolment.objects.get(person=person, organisation=world.social))
    assert person.full_name not in client_for(world.social_worker).get(INBOX).content.decode()
    delivery = AlertDelivery.objects.get(alert__person=person)
    response = client_for(world.social_worker).post(
        reverse("alerts:acknowledge", args=[delivery.pk])
    )
    assert response.status_code == 404


def test_acknowledge_and_resolve(world, client_for):
    person = _silent(world, attended_by=("social", "employment"))
    sweep("sin_contacto")
    client = client_for(world.social_worker)
    delivery = AlertDelivery.objects.get(alert__person=person, organisation=world.social)
    assert client.get(reverse("alerts:acknowledge", args=[delivery.pk])).status_code == 405
    assert client.post(reverse("alerts:acknowledge", args=[delivery.pk])).status_code == 302
    alert = Alert.objects.get(pk=delivery.alert_id)
    assert (alert.state, alert.acknowledged_by) == (AlertState.ACKNOWLEDGED, world.social_worker)

    response = client.post(
        reverse("alerts:resolve", args=[delivery.pk]), {"note": "  "}, follow=True
    )
    assert "Escriba qué se ha hecho" in response.content.decode()
    assert Alert.objects.get(pk=alert.pk).state == AlertState.ACKNOWLEDGED

    client.post(
        reverse("alerts:resolve", args=[delivery.pk]), {"note": "Cita concertada para el lunes."}
    )
    alert.refresh_from_db()
    assert (alert.state, alert.resolved_by, alert.resolution_note) == (
        AlertState.RESOLVED,
        world.social_worker,
        "Cita concertada para el lunes.",
    )
    # resolved for every organisation it reached
    other = AlertDelivery.objects.get(alert=alert, organisation=world.employment)
    html = client_for(world.employment_counsellor).get(INBOX).content.decode()
    assert person.full_name not in html
    html = (
        client_for(world.employment_counsellor).get(INBOX, {"estado": "resueltas"}).content.decode()
    )
    assert person.full_name in html and "Cita concertada" in html
    response = client_for(world.employment_counsellor).post(
        reverse("alerts:resolve", args=[other.pk]), {"note": "otra vez"}, follow=True
    )
    assert "ya estaba resuelta" in response.content.decode()


def test_another_organisations_delivery_is_a_404(world, client_for):
    person = _silent(world, attended_by=("employment",))
    sweep("sin_contacto")
    delivery = AlertDelivery.objects.get(alert__person=person)
    client = client_for(world.social_worker)
    assert client.post(reverse("alerts:acknowledge", args=[delivery.pk])).status_code == 404
    assert (
        client.post(reverse("alerts:resolve", args=[delivery.pk]), {"note": "x"}).status_code == 404
    )
    assert client.post(reverse("alerts:acknowledge", args=[999999])).status_code == 404
    assert Alert.objects.get(pk=delivery.alert_id).state == AlertState.OPEN


def test_a_colleagues_personal_delivery_is_not_mine(world, client_for, coordinator):
    person = _silent(world)
    sweep("sin_contacto")
    delivery = AlertDelivery.objects.get(alert__person=person)
    assert delivery.recipient_id == world.social_worker.pk
    assert person.full_name not in client_for(coordinator).get(INBOX).content.decode()
    assert (
        client_for(coordinator).post(reverse("alerts:acknowledge", args=[delivery.pk])).status_code
        == 404
    )


def test_a_revoked_consent_takes_effect_on_the_next_request(world, client_for, pinned_thresholds):
    from decimal import Decimal

    person = world.person(attended_by=("social", "employment"))
    consent = world.consent(person)
    world.household([(person, 0), (9, None)], monthly_income=Decimal("300.00"))
    world.entry(
        _jobseeker_model(),
        person,
        by="employment",
        status="unemployed",
        unemployed_since=today() - dt.timedelta(days=800),
    )
    sweep("hogar_pobreza_con_menores", "desempleo_larga_duracion_sin_plan")
    social = client_for(world.social_worker)
    counsellor = client_for(world.employment_counsellor)
    assert "Menores en el hogar: 1." in counsellor.get(INBOX).content.decode()
    assert "En desempleo desde el" in social.get(INBOX).content.decode()
    ConsentRevocation.objects.create(
        consent=consent, revoked_by=world.social_worker, channel="in_person"
    )
    # the household categories are hidden from employment now: its poverty alert is gone
    assert "Riesgo de pobreza infantil" not in counsellor.get(INBOX).content.decode()
    # the employment category is hidden from social services now: so is that alert
    html = social.get(INBOX).content.decode()
    assert "Desempleo de larga duración" not in html and "Riesgo de pobreza infantil" in html


def _jobseeker_model():
    from cases.models import JobSeekerRecord

    return JobSeekerRecord


def test_the_inbox_costs_the_same_number_of_queries_with_more_alerts(world, client_for):
    client = client_for(world.social_worker)
    _silent(world)
    _silent(world, professionals=False)
    sweep("sin_contacto")
    client.get(INBOX)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(INBOX).status_code == 200
        return len(captured)

    few = queries()
    for i in range(12):
        _silent(
            world,
            professionals=bool(i % 2),
            attended_by=("social", "employment") if i % 3 else ("social",),
        )
    sweep("sin_contacto")
    assert AlertDelivery.objects.filter(organisation=world.social).count() == 14
    assert queries() == few


def test_open_alert_counts_for_the_start_page(world, coordinator, django_assert_num_queries):
    first = _silent(world)
    _silent(world)
    _silent(world, professionals=False)  # the centre's queue
    _silent(world, attended_by=("employment",))
    sweep("sin_contacto")
    with django_assert_num_queries(1):
        assert (
            open_alert_counts_for(user_id=world.social_worker.pk, organisation_id=world.social.pk)
            == 3
        )
    assert (
        open_alert_counts_for(user_id=coordinator.pk, organisation_id=world.social.pk) == 1
    )  # the queue only
    Alert.objects.filter(person=first).update(state=AlertState.ACKNOWLEDGED)
    assert (
        open_alert_counts_for(user_id=world.social_worker.pk, organisation_id=world.social.pk) == 2
    )
    assert (
        open_alert_counts_for(user_id=world.social_worker.pk, organisation_id=world.employment.pk)
        == 0
    )


# --- The portal inbox (NGO technicians) ------------------------------------------------------------

PORTAL_INBOX = "/portal/alertas/"


@pytest.mark.urls("tests.diagnostics.portal_urls")
def test_ngo_technicians_read_their_alerts_in_the_portal(world, client_for):
    person = _silent(world, attended_by=("ngo",))
    sweep("sin_contacto")
    client = client_for(world.ngo_technician)
    html = client.get(PORTAL_INBOX).content.decode()
    assert person.full_name in html and f"/portal/personas/{person.pk}/" in html
    delivery = AlertDelivery.objects.get(alert__person=person)
    response = client.post(f"/portal/alertas/{delivery.pk}/vista/")
    assert response.status_code == 302 and response.url == PORTAL_INBOX
    assert Alert.objects.get(pk=delivery.alert_id).state == AlertState.ACKNOWLEDGED
    client.post(f"/portal/alertas/{delivery.pk}/resolver/", {"note": "Acompañamiento retomado."})
    assert Alert.objects.get(pk=delivery.alert_id).state == AlertState.RESOLVED


@pytest.mark.urls("tests.diagnostics.portal_urls")
@pytest.mark.parametrize(
    "persona", ["social_worker", "employment_counsellor", "coordinator", "evaluator"]
)
def test_the_portal_inbox_is_for_ngo_technicians_only(persona, request, client_for):
    assert client_for(request.getfixturevalue(persona)).get(PORTAL_INBOX).status_code == 404


@pytest.mark.urls("tests.diagnostics.portal_urls")
def test_the_portal_inbox_costs_the_same_number_of_queries_with_more_alerts(world, client_for):
    client = client_for(world.ngo_technician)
    _silent(world, attended_by=("ngo",))
    sweep("sin_contacto")
    client.get(PORTAL_INBOX)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(PORTAL_INBOX).status_code == 200
        return len(captured)

    few = queries()
    for i in range(8):
        _silent(world, attended_by=("ngo",), professionals=bool(i % 2))
    sweep("sin_contacto")
    assert queries() == few
