"""The alert inbox (/espacio/alertas/): who may open it, what it lists, acknowledge and resolve,
a revoked consent taking effect on the next request, and a constant number of queries.

"Seen" is each organisation's; "resolved" is shared by all that received the alert, and the
resolution note is read only by the organisation that wrote it. The start-page counts show
exactly what the inbox would."""

from __future__ import annotations

import datetime as dt
import importlib
import types

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import DiaryEntry
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
    delivery.refresh_from_db()
    assert delivery.seen_at is not None and delivery.seen_by == world.social_worker
    alert = Alert.objects.get(pk=delivery.alert_id)
    assert alert.state == AlertState.OPEN  # seen is the organisation's, not the alert's

    response = client.post(
        reverse("alerts:resolve", args=[delivery.pk]), {"note": "  "}, follow=True
    )
    assert "Escriba qué se ha hecho" in response.content.decode()
    assert Alert.objects.get(pk=alert.pk).state == AlertState.OPEN

    client.post(
        reverse("alerts:resolve", args=[delivery.pk]), {"note": "Cita concertada para el lunes."}
    )
    alert.refresh_from_db()
    assert (
        alert.state,
        alert.resolved_by,
        alert.resolved_by_organisation,
        alert.resolution_note,
    ) == (
        AlertState.RESOLVED,
        world.social_worker,
        world.social,
        "Cita concertada para el lunes.",
    )
    # resolved for every organisation it reached: the situation was dealt with
    other = AlertDelivery.objects.get(alert=alert, organisation=world.employment)
    html = client_for(world.employment_counsellor).get(INBOX).content.decode()
    assert person.full_name not in html
    response = client_for(world.employment_counsellor).post(
        reverse("alerts:resolve", args=[other.pk]), {"note": "otra vez"}, follow=True
    )
    assert "ya estaba resuelta" in response.content.decode()


def _resolved_pages(world, client_for) -> tuple[str, str]:
    """The resolved alerts as social services and as the employment office read them."""
    return tuple(
        client_for(user).get(INBOX, {"estado": "resueltas"}).content.decode()
        for user in (world.social_worker, world.employment_counsellor)
    )


def test_the_resolution_note_is_read_only_by_the_organisation_that_wrote_it(world, client_for):
    person = _silent(world, attended_by=("social", "employment"))
    sweep("sin_contacto")
    delivery = AlertDelivery.objects.get(alert__person=person, organisation=world.social)
    client_for(world.social_worker).post(
        reverse("alerts:resolve", args=[delivery.pk]),
        {"note": "Vive con su hermana en Cuenca; la llamé el lunes."},
    )
    social, employment = _resolved_pages(world, client_for)
    assert "Vive con su hermana en Cuenca" in social
    assert "La resolvió otro servicio" not in social
    # the employment office knows it was dealt with, not what a social worker wrote about it
    assert person.full_name in employment
    assert "Vive con su hermana" not in employment and "Cuenca" not in employment
    assert "La resolvió otro servicio que atiende a la persona." in employment


def test_the_automatic_resolution_note_is_read_by_every_organisation(world, client_for):
    person = _silent(world, attended_by=("social", "employment"))
    sweep("sin_contacto")
    world.entry(DiaryEntry, person, by="social", kind="phone_call", happened_at=timezone.now())
    sweep("sin_contacto", person_ids=[person.pk])
    for html in _resolved_pages(world, client_for):
        assert person.full_name in html
        assert "Resuelta automáticamente: la condición de la regla ya no se cumple." in html
        assert "La resolvió otro servicio" not in html


def test_seen_is_per_organisation(world, client_for):
    """Social services opening the alert does not make it seen for the employment office."""
    person = _silent(world, attended_by=("social", "employment"))
    sweep("sin_contacto")
    social = AlertDelivery.objects.get(alert__person=person, organisation=world.social)
    employment = AlertDelivery.objects.get(alert__person=person, organisation=world.employment)

    def counts(user, organisation):
        return open_alert_counts_for(user_id=user.pk, organisation_id=organisation.pk)

    assert counts(world.social_worker, world.social) == {person.pk: 1}
    assert counts(world.employment_counsellor, world.employment) == {person.pk: 1}
    client_for(world.social_worker).post(reverse("alerts:acknowledge", args=[social.pk]))
    assert counts(world.social_worker, world.social) == {}
    assert counts(world.employment_counsellor, world.employment) == {person.pk: 1}
    employment.refresh_from_db()
    assert employment.seen_at is None
    assert "<strong>Vista</strong>" in client_for(world.social_worker).get(INBOX).content.decode()
    html = client_for(world.employment_counsellor).get(INBOX).content.decode()
    assert "<strong>Nueva</strong>" in html and "Marcar como vista" in html


def test_an_alert_acknowledged_before_seen_became_per_organisation_is_still_unresolved(
    world, client_for
):
    person = _silent(world)
    sweep("sin_contacto")
    Alert.objects.filter(person=person).update(state=AlertState.ACKNOWLEDGED)
    delivery = AlertDelivery.objects.get(alert__person=person)
    assert person.full_name in client_for(world.social_worker).get(INBOX).content.decode()
    assert open_alert_counts_for(
        user_id=world.social_worker.pk, organisation_id=world.social.pk
    ) == {person.pk: 1}
    assert sweep("sin_contacto").summary()["created"] == 0  # not opened a second time
    client_for(world.social_worker).post(
        reverse("alerts:resolve", args=[delivery.pk]), {"note": "Hecho."}
    )
    assert Alert.objects.get(person=person).state == AlertState.RESOLVED


def test_the_migration_moves_each_acknowledgement_to_its_organisations_delivery(world):
    """Data of before 0005: the acknowledging user's organisation's delivery is marked seen, the
    others stay new; a resolution by hand gets the resolving user's organisation."""
    migration = importlib.import_module("diagnostics.migrations.0005_alert_seen_per_delivery")
    acknowledged, resolved = (
        _silent(world, attended_by=("social", "employment")) for _ in range(2)
    )
    sweep("sin_contacto")
    when = timezone.now()
    Alert.objects.filter(person=acknowledged).update(
        state=AlertState.ACKNOWLEDGED, acknowledged_at=when, acknowledged_by=world.social_worker
    )
    Alert.objects.filter(person=resolved).update(
        state=AlertState.RESOLVED,
        resolved_at=when,
        resolved_by=world.employment_counsellor,
        resolution_note="Nota de empleo",
    )
    migration.forwards(apps, types.SimpleNamespace(connection=connection))
    seen = {
        d.organisation_id: (d.seen_at, d.seen_by_id)
        for d in AlertDelivery.objects.filter(alert__person=acknowledged)
    }
    assert seen == {
        world.social.pk: (when, world.social_worker.pk),
        world.employment.pk: (None, None),
    }
    assert Alert.objects.get(person=acknowledged).state == AlertState.OPEN
    assert Alert.objects.get(person=resolved).resolved_by_organisation == world.employment


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
    delivery.refresh_from_db()
    assert delivery.seen_at is None
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


def test_open_alert_counts_for_the_start_page(world, coordinator, django_assert_max_num_queries):
    """New alerts per person: the user's and the queue's for a caseworker, every one of the
    organisation for the coordinator; in a constant number of queries."""
    first = _silent(world)
    second = _silent(world)
    queued = _silent(world, professionals=False)  # the centre's queue
    _silent(world, attended_by=("employment",))
    sweep("sin_contacto")

    def counts(user, organisation=world.social, **kwargs):
        return open_alert_counts_for(user_id=user.pk, organisation_id=organisation.pk, **kwargs)

    with CaptureQueriesContext(connection) as few:
        assert counts(world.social_worker) == {first.pk: 1, second.pk: 1, queued.pk: 1}
    assert counts(coordinator) == {}  # the coordinator is no caseworker
    assert counts(coordinator, whole_organisation=True) == {
        first.pk: 1,
        second.pk: 1,
        queued.pk: 1,
    }
    AlertDelivery.objects.filter(alert__person=first).update(seen_at=dt.datetime.now(dt.UTC))
    assert counts(world.social_worker) == {second.pk: 1, queued.pk: 1}
    assert counts(world.social_worker, world.employment) == {}
    for _ in range(6):
        _silent(world, professionals=False)
    sweep("sin_contacto")
    with django_assert_max_num_queries(len(few)):
        assert sum(counts(world.social_worker).values()) == 8
    with django_assert_max_num_queries(len(few)):
        assert sum(counts(coordinator, whole_organisation=True).values()) == 8


def test_a_hidden_alert_is_not_counted(world, client_for):
    """After a revocation the inbox no longer shows the alert: the count must not reveal it."""
    person = world.person(attended_by=("social", "employment"))
    consent = world.consent(person)
    world.entry(
        _jobseeker_model(),
        person,
        by="employment",
        status="unemployed",
        unemployed_since=today() - dt.timedelta(days=800),
    )
    sweep("desempleo_larga_duracion_sin_plan")
    assert open_alert_counts_for(
        user_id=world.social_worker.pk, organisation_id=world.social.pk
    ) == {person.pk: 1}
    ConsentRevocation.objects.create(
        consent=consent, revoked_by=world.social_worker, channel="in_person"
    )
    assert "Desempleo de larga duración" not in (
        client_for(world.social_worker).get(INBOX).content.decode()
    )
    assert open_alert_counts_for(
        user_id=world.social_worker.pk, organisation_id=world.social.pk
    ) == {}
    # the employment office, whose own data it is, still has it
    assert open_alert_counts_for(
        user_id=world.employment_counsellor.pk, organisation_id=world.employment.pk
    ) == {person.pk: 1}


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
    delivery.refresh_from_db()
    assert delivery.seen_by == world.ngo_technician
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
