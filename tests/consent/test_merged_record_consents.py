"""Consents recorded on a record that was later merged into another.

A merged record's consents stay on it (append-only) and are listed on the surviving record, with
the links of the organisation that recorded them ("Adjuntar documento firmado", "Revocar"). The
merge moved that organisation's enrolment to the surviving record, so attending the surviving
record is what lets it attach the signed form or revoke the consent there.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.merge import person_merge
from consent.models import Consent
from ris.accounts.viewer import Viewer
from tests.factories import ConsentFactory, PersonFactory, enrol

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%firmado\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def merged_world(social_worker, social_services_centre, administrator):
    """Two records of one person, both attended by the centre, the second merged into the first;
    the centre had recorded a consent (without its signed form) on the second."""
    surviving, merged = PersonFactory(), PersonFactory()
    enrol(surviving, social_services_centre)
    enrol(merged, social_services_centre)
    consent = ConsentFactory(person=merged, recorded_by=social_worker, recorded_by_org=social_services_centre)
    admin = Viewer.from_membership(administrator.memberships.select_related("organisation").get())
    person_merge(viewer=admin, surviving_id=surviving.pk, merged_id=merged.pk, reason="Duplicado")
    return surviving, consent


def test_the_form_of_a_merged_records_consent_is_attached_from_the_surviving_record(
    client_for, social_worker, merged_world,
):
    surviving, consent = merged_world

    client = client_for(social_worker)
    record = client.get(f"/espacio/personas/{surviving.pk}/").content.decode()
    link = f"/espacio/personas/{surviving.pk}/consentimientos/{consent.pk}/documento/adjuntar/"
    assert f'href="{link}"' in record  # the page offers it
    response = client.post(link, {"document": SimpleUploadedFile("firmado.pdf", PDF)})
    assert response.status_code == 302, response.status_code
    consent = Consent.objects.get(pk=consent.pk)
    assert consent.document and consent.document_added_by_id == social_worker.pk


def test_a_merged_records_consent_is_revoked_from_the_surviving_record(
    client_for, social_worker, merged_world,
):
    """The record lists the merged record's consent with "Revocar": the revocation works there."""
    surviving, consent = merged_world

    client = client_for(social_worker)
    revoke = f"/espacio/personas/{surviving.pk}/consentimientos/{consent.pk}/revocar/"
    assert f'href="{revoke}"' in client.get(f"/espacio/personas/{surviving.pk}/").content.decode()
    response = client.post(revoke, {"channel": "in_person", "reason": "La persona lo pide"})
    assert response.status_code == 302, response.status_code
    assert Consent.objects.get(pk=consent.pk).state_at() == "revoked"
