"""Consents, their revocations and the disclosure log are written once and never changed.

The database refuses UPDATE and DELETE on those tables (django-pgtrigger), so neither
the ORM nor raw SQL can rewrite history. A consent's state is computed from its dates,
its revocation and its correction; its scope is the permitted categories minus the
denied ones.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from consent.models import Consent, ConsentRevocation, ConsentState
from sharing.disclosure import LogLine, disclosure_log_append
from sharing.models import Channel, DisclosureLogEntry
from tests.factories import ConsentFactory, ConsentRevocationFactory, PersonFactory

pytestmark = pytest.mark.django_db


def log_entry() -> DisclosureLogEntry:
    line = LogLine(
        event=DisclosureLogEntry.Event.DISCLOSURE,
        channel=Channel.WEB,
        person_id=PersonFactory().pk,
        category="competencias",
        level="full",
    )
    [entry] = disclosure_log_append([line])
    return entry


APPEND_ONLY = {
    "consent": ConsentFactory,
    "revocation": ConsentRevocationFactory,
    "disclosure_log": log_entry,
}


@pytest.fixture(params=list(APPEND_ONLY))
def written_row(request):
    return APPEND_ONLY[request.param]()


@contextmanager
def refused():
    """The trigger's error, raised inside a savepoint so that the test can go on."""
    with pytest.raises(DatabaseError, match="pgtrigger"), transaction.atomic():
        yield


def test_saving_a_change_through_the_orm_is_refused(written_row):
    model = type(written_row)
    with refused():
        written_row.save()
    assert model.objects.filter(pk=written_row.pk).exists()


def test_queryset_update_is_refused(written_row):
    model = type(written_row)
    column = {
        Consent: "privacy_notice_version",
        ConsentRevocation: "reason",
        DisclosureLogEntry: "basis",
    }[model]
    with refused():
        model.objects.filter(pk=written_row.pk).update(**{column: "reescrito"})
    assert model.objects.filter(pk=written_row.pk).exclude(**{column: "reescrito"}).exists()


def test_delete_through_the_orm_is_refused(written_row):
    model = type(written_row)
    with refused():
        model.objects.filter(pk=written_row.pk).delete()
    assert model.objects.filter(pk=written_row.pk).exists()


def test_instance_delete_is_refused(written_row):
    with refused():
        written_row.delete()
    assert type(written_row).objects.filter(pk=written_row.pk).exists()


def test_raw_sql_update_is_refused(written_row):
    table = written_row._meta.db_table
    with refused(), connection.cursor() as cursor:
        cursor.execute(f'UPDATE "{table}" SET id = id WHERE id = %s', [written_row.pk])


def test_raw_sql_delete_is_refused(written_row):
    table = written_row._meta.db_table
    with refused(), connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM "{table}" WHERE id = %s', [written_row.pk])
    assert type(written_row).objects.filter(pk=written_row.pk).exists()


def test_new_rows_can_still_be_added():
    consent = ConsentFactory()
    ConsentRevocationFactory(consent=consent)
    log_entry()
    assert Consent.objects.count() == 1 and ConsentRevocation.objects.count() == 1
    assert DisclosureLogEntry.objects.count() == 1


# --- State ------------------------------------------------------------------------------

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)


def reloaded(consent: Consent) -> Consent:
    return Consent.objects.get(pk=consent.pk)


def test_a_consent_within_its_period_is_active():
    consent = ConsentFactory(valid_from=TODAY - DAY, valid_until=TODAY + DAY)
    assert consent.state_at() == ConsentState.ACTIVE


def test_a_consent_is_active_on_its_first_and_last_day():
    assert (
        ConsentFactory(valid_from=TODAY, valid_until=TODAY + DAY).state_at() == ConsentState.ACTIVE
    )
    assert (
        ConsentFactory(valid_from=TODAY - DAY, valid_until=TODAY).state_at() == ConsentState.ACTIVE
    )


def test_a_consent_past_its_period_is_expired():
    consent = ConsentFactory(
        given_on=TODAY - 400 * DAY, valid_from=TODAY - 400 * DAY, valid_until=TODAY - DAY
    )
    assert consent.state_at() == ConsentState.EXPIRED


def test_a_consent_before_its_period_is_pending():
    consent = ConsentFactory(valid_from=TODAY + DAY, valid_until=TODAY + 365 * DAY)
    assert consent.state_at() == ConsentState.PENDING


def test_a_revoked_consent_is_revoked_from_the_moment_of_revocation():
    consent = ConsentFactory(valid_from=TODAY - 10 * DAY)
    revoked_at = timezone.now() - dt.timedelta(hours=1)
    ConsentRevocationFactory(consent=consent, revoked_at=revoked_at)
    consent = reloaded(consent)
    assert consent.state_at() == ConsentState.REVOKED
    assert consent.state_at(revoked_at - dt.timedelta(minutes=1)) == ConsentState.ACTIVE


def test_a_corrected_consent_is_superseded_and_the_correction_is_active():
    original = ConsentFactory(valid_from=TODAY - DAY)
    correction = ConsentFactory(person=original.person, valid_from=TODAY - DAY, supersedes=original)
    assert reloaded(original).state_at() == ConsentState.SUPERSEDED
    assert reloaded(correction).state_at() == ConsentState.ACTIVE


def test_in_force_at_agrees_with_state_at():
    active = ConsentFactory(valid_from=TODAY - DAY)
    ConsentFactory(valid_from=TODAY + DAY, valid_until=TODAY + 10 * DAY)
    ConsentFactory(given_on=TODAY - 10 * DAY, valid_from=TODAY - 10 * DAY, valid_until=TODAY - DAY)
    ConsentRevocationFactory(consent=ConsentFactory(valid_from=TODAY - DAY))
    ConsentFactory(
        supersedes=ConsentFactory(valid_from=TODAY - DAY),
        valid_from=TODAY + DAY,
        valid_until=TODAY + 10 * DAY,
    )
    assert list(Consent.objects.in_force_at(timezone.now())) == [active]
    assert [c for c in Consent.objects.all() if c.state_at() == ConsentState.ACTIVE] == [active]


# --- Scope ------------------------------------------------------------------------------


def test_all_categories_except_the_denied_ones():
    consent = ConsentFactory.build(all_categories=True, denied_categories=["salud"])
    assert consent.covers_category("competencias")
    assert consent.covers_category("empleabilidad")
    assert not consent.covers_category("salud")


def test_only_the_permitted_categories():
    consent = ConsentFactory.build(
        all_categories=False, permitted_categories=["competencias", "empleabilidad"]
    )
    assert consent.covers_category("competencias")
    assert not consent.covers_category("salud")


def test_a_denied_category_wins_over_a_permitted_one():
    consent = ConsentFactory.build(
        all_categories=False,
        permitted_categories=["competencias", "salud"],
        denied_categories=["salud"],
    )
    assert consent.covers_category("competencias")
    assert not consent.covers_category("salud")
