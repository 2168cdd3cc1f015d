"""The demo world lets alerts reach other services: some of its consents authorise the purpose
"prevención (alertas)", so a risk seen in one service's data is delivered to the other services
that attend the person (decision 0007), as in a real pilot. The synthetic bulk does the same,
set-based.

The world is built once for this module, inside a transaction rolled back at the end."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from cases import demo
from cases.models import Person
from consent.models import Consent
from consent.purposes import Purpose
from diagnostics.models import AlertDelivery
from diagnostics.services import alerts_evaluate
from sharing.categories import CATEGORIES, SOCIAL

pytestmark = pytest.mark.django_db

PREVENTION = Purpose.PREVENTION.value
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker) -> Iterator[None]:
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHER):
        with transaction.atomic():
            call_command("seed_demo", stdout=io.StringIO())
            yield
            transaction.set_rollback(True)


def test_some_demo_consents_authorise_prevention(demo_world):
    demo_consents = Consent.objects.filter(recorded_by_org__code__in=demo.ORGANISATION_CODES)
    with_prevention = demo_consents.filter(purposes__contains=[PREVENTION])
    assert with_prevention.exists()
    assert with_prevention.count() < demo_consents.count()  # some, not all


def test_in_the_demo_alerts_on_social_data_reach_the_employment_service(demo_world):
    alerts_evaluate()
    social_categories = [c.code for c in CATEGORIES if c.owner_service == SOCIAL]
    crossing = AlertDelivery.objects.filter(
        organisation__kind="employment", alert__rule__categories__overlap=social_categories
    )
    assert crossing.exists()
    # delivered only where the person's consent authorises prevention
    for delivery in crossing.select_related("alert"):
        assert Consent.objects.filter(
            person=delivery.alert.person_id, purposes__contains=[PREVENTION]
        ).exists()


def test_synthetic_consents_authorise_prevention_for_some_persons(demo_world):
    last = Person.objects.order_by("-pk").values_list("pk", flat=True).first()
    call_command("seed_demo", "--persons", "60", stdout=io.StringIO())
    synthetic = Consent.objects.filter(person__gt=last)
    assert synthetic.exists()
    with_prevention = synthetic.filter(purposes__contains=[PREVENTION]).count()
    assert 0 < with_prevention < synthetic.count()
    assert set(synthetic.filter(purposes__contains=[PREVENTION]).first().purposes) == {
        str(p) for p in demo.PREVENTION_PURPOSES
    }
