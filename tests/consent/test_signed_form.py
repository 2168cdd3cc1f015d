"""The consent's signed form: attached with the consent or later, downloaded with a log line.

A consent may be recorded (and be in force) before its signed form is scanned: the form is
then attached later, once, by the organisation that recorded it, with the same checks as
when it is recorded with the consent. Until then the consent's pages say "Sin documento
firmado". Each download of the form is written in the disclosure log (an export whose basis
names the consent); an organisation that does not attend the person gets a 404 and no line.
The database lets a consent row change only to receive its missing form (see
``test_append_only`` for everything else).
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, transaction
from django.utils import timezone

from consent import services
from consent.models import Consent
from ris.accounts.viewer import Viewer
from sharing.models import Channel, DisclosureLogEntry
from tests.factories import ConsentFactory, PersonFactory, enrol

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%firmado\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def person(social_services_centre, employment_office):
    person = PersonFactory(first_name="Lucía", last_name_1="Marín")
    enrol(person, social_services_centre)
    enrol(person, employment_office)
    return person


@pytest.fixture
def unsigned(person, social_worker, social_services_centre) -> Consent:
    """A consent in force that the centre recorded without its signed form."""
    return ConsentFactory(person=person, recorded_by=social_worker, recorded_by_org=social_services_centre)


def url(consent: Consent, what: str) -> str:
    return f"/espacio/personas/{consent.person_id}/consentimientos/{consent.pk}/{what}"


def attach(client, consent, name="firmado.pdf", content=PDF):
    return client.post(url(consent, "documento/adjuntar/"), {"document": SimpleUploadedFile(name, content)})


def export_lines(consent: Consent):
    return DisclosureLogEntry.objects.filter(basis=f"consentimiento:{consent.pk}")


# --- Attaching the signed form later -------------------------------------------------------------


def test_a_consent_without_its_form_says_so_and_offers_to_attach_it(client_for, social_worker, unsigned):
    client = client_for(social_worker)
    for page in ("alcance/", "justificante/"):
        html = client.get(url(unsigned, page)).content.decode()
        assert "Sin documento firmado" in html
        assert f'href="{url(unsigned, "documento/adjuntar/")}"' in html
        assert "Adjuntar documento firmado" in html
    form = client.get(url(unsigned, "documento/adjuntar/"))
    assert form.status_code == 200
    html = form.content.decode()
    assert 'enctype="multipart/form-data"' in html and 'name="document"' in html
    assert 'accept=".pdf,.png,.jpg,.jpeg"' in html


def test_the_signed_form_is_attached_later_once(client_for, social_worker, unsigned, person):
    client = client_for(social_worker)
    response = attach(client, unsigned)
    assert response.status_code == 302
    assert response.url == f"/espacio/personas/{person.pk}/#consentimiento-{unsigned.pk}"
    consent = Consent.objects.get(pk=unsigned.pk)
    assert consent.document and consent.document.name.startswith("consents/")
    assert "Marín" not in consent.document.name and "firmado" not in consent.document.name
    assert (consent.document_sha256, consent.document_content_type) == (
        hashlib.sha256(PDF).hexdigest(), "application/pdf")
    assert consent.document_added_by_id == social_worker.pk
    assert consent.document_added_at is not None
    # what the person signed has not changed
    assert (consent.valid_until, consent.purposes, consent.recorded_at) == (
        unsigned.valid_until, unsigned.purposes, unsigned.recorded_at)

    download = client.get(url(consent, "documento/"))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    scope = client.get(url(consent, "alcance/")).content.decode()
    assert "Sin documento firmado" not in scope and "Adjuntar documento firmado" not in scope
    assert f'href="{url(consent, "documento/")}"' in scope
    receipt = client.get(url(consent, "justificante/")).content.decode()
    assert f"Adjuntado el {timezone.localdate():%d/%m/%Y}" in receipt
    # the record page links the form (it reads the consent row)
    record = client.get(f"/espacio/personas/{person.pk}/").content.decode()
    assert f'href="{url(consent, "documento/")}"' in record

    # a form on file is never replaced
    again = attach(client, consent, "otro.png", PNG)
    assert again.status_code == 302
    assert Consent.objects.get(pk=consent.pk).document_sha256 == hashlib.sha256(PDF).hexdigest()
    assert client.get(url(consent, "documento/adjuntar/")).status_code == 302


def test_a_png_or_jpeg_scan_is_accepted(client_for, social_worker, unsigned):
    assert attach(client_for(social_worker), unsigned, "firmado.png", PNG).status_code == 302
    assert Consent.objects.get(pk=unsigned.pk).document_content_type == "image/png"


@pytest.mark.parametrize("name,content,message", [
    ("firmado.pdf", b"GIF89a...", "El contenido del archivo no corresponde a su extensión: no es un PDF válido."),
    ("firmado.jpg", PDF, "El contenido del archivo no corresponde a su extensión: no es un JPG válido."),
    ("firmado.docx", PDF, "Solo se admiten documentos PDF, PNG o JPEG."),
    (None, None, "Elija el archivo del documento firmado."),
])
def test_a_file_that_is_not_what_it_says_is_refused_in_spanish(
    name, content, message, client_for, social_worker, unsigned,
):
    client = client_for(social_worker)
    if name is None:
        response = client.post(url(unsigned, "documento/adjuntar/"), {})
    else:
        response = attach(client, unsigned, name, content)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'role="alert"' in html  # the error summary
    assert not Consent.objects.get(pk=unsigned.pk).document


def test_the_size_limit_applies_as_when_recording(client_for, social_worker, unsigned, settings):
    settings.UPLOAD_MAX_BYTES = 10
    html = attach(client_for(social_worker), unsigned).content.decode()
    assert "el máximo es" in html
    assert not Consent.objects.get(pk=unsigned.pk).document


def test_only_the_organisation_that_recorded_it_attaches_the_form(
    client_for, employment_counsellor, coordinator, unsigned,
):
    """The employment office attends the person too, and sees the consent: not its page to attach."""
    orientador = client_for(employment_counsellor)
    scope = orientador.get(url(unsigned, "alcance/")).content.decode()
    assert "Sin documento firmado" in scope and "Adjuntar documento firmado" not in scope
    assert orientador.get(url(unsigned, "documento/adjuntar/")).status_code == 404
    assert attach(orientador, unsigned).status_code == 404
    # the centre's coordinator does not record consents
    assert attach(client_for(coordinator), unsigned).status_code == 404
    assert not Consent.objects.get(pk=unsigned.pk).document


def test_nobody_attaches_a_form_for_a_person_their_organisation_does_not_attend(
    client_for, social_worker, social_services_centre,
):
    stranger = PersonFactory()
    consent = ConsentFactory(person=stranger, recorded_by=social_worker, recorded_by_org=social_services_centre)
    assert attach(client_for(social_worker), consent).status_code == 404
    assert not Consent.objects.get(pk=consent.pk).document


def test_the_service_refuses_a_second_form_and_another_organisation(
    unsigned, social_worker, employment_counsellor, social_services_centre, employment_office,
):
    centre = Viewer(user_id=social_worker.pk, membership_id=0, organisation_id=social_services_centre.pk,
                    organisation_name="", service="social", role="social_worker", community_code="07")
    office = Viewer(user_id=employment_counsellor.pk, membership_id=0, organisation_id=employment_office.pk,
                    organisation_name="", service="employment", role="employment_counsellor",
                    community_code="07")
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.consent_attach_document(viewer=office, consent=unsigned,
                                         document=SimpleUploadedFile("f.pdf", PDF))
    services.consent_attach_document(viewer=centre, consent=unsigned, document=SimpleUploadedFile("f.pdf", PDF))
    with pytest.raises(ValidationError) as refused:
        services.consent_attach_document(viewer=centre, consent=unsigned,
                                         document=SimpleUploadedFile("g.png", PNG))
    assert "ya tiene su documento firmado" in str(refused.value)


def test_recording_with_the_form_says_who_attached_it(client_for, social_worker, person):
    from tests.consent.test_consent_workflow import form_data, new_url

    response = client_for(social_worker).post(
        new_url(person), {**form_data(), "document": SimpleUploadedFile("firmado.pdf", PDF)})
    assert response.status_code == 302
    consent = Consent.objects.get()
    assert consent.document_added_by_id == social_worker.pk
    assert consent.document_added_at == consent.recorded_at


# --- Downloading it is logged -------------------------------------------------------------------


@pytest.fixture
def signed(unsigned, social_worker, social_services_centre) -> Consent:
    centre = Viewer(user_id=social_worker.pk, membership_id=0, organisation_id=social_services_centre.pk,
                    organisation_name="", service="social", role="social_worker", community_code="07")
    return services.consent_attach_document(viewer=centre, consent=unsigned,
                                            document=SimpleUploadedFile("f.pdf", PDF))


@pytest.mark.parametrize("finalidad,purpose", [(None, "seguimiento"), ("valoracion", "valoracion")])
def test_downloading_the_signed_form_is_logged(
    finalidad, purpose, client_for, social_worker, social_services_centre, signed, person,
):
    params = {"finalidad": finalidad} if finalidad else {}
    response = client_for(social_worker).get(url(signed, "documento/"), params)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment;")
    [line] = export_lines(signed)
    assert (line.event, line.channel) == (DisclosureLogEntry.Event.EXPORT, Channel.EXPORT)
    assert (line.user_id, line.organisation_id, line.role, line.person_id, line.purpose) == (
        social_worker.pk, social_services_centre.pk, "social_worker", person.pk, purpose)
    client_for(social_worker).get(url(signed, "documento/"))
    assert export_lines(signed).count() == 2  # every download


def test_another_organisation_attending_the_person_downloads_it_logged(
    client_for, employment_counsellor, employment_office, signed,
):
    assert client_for(employment_counsellor).get(url(signed, "documento/")).status_code == 200
    [line] = export_lines(signed)
    assert (line.user_id, line.organisation_id, line.role) == (
        employment_counsellor.pk, employment_office.pk, "employment_counsellor")


def test_an_organisation_that_does_not_attend_the_person_gets_404_and_no_line(
    client_for, social_worker, social_services_centre, employment_counsellor,
):
    only_ours = PersonFactory()
    enrol(only_ours, social_services_centre)
    consent = ConsentFactory(person=only_ours, recorded_by=social_worker, recorded_by_org=social_services_centre,
                             document=SimpleUploadedFile("f.pdf", PDF), document_sha256="0" * 64,
                             document_content_type="application/pdf")
    assert client_for(employment_counsellor).get(url(consent, "documento/")).status_code == 404
    assert not export_lines(consent).exists()
    assert not DisclosureLogEntry.objects.filter(event=DisclosureLogEntry.Event.EXPORT).exists()
    # the same download by the organisation that attends her is logged: the check above can fail
    assert client_for(social_worker).get(url(consent, "documento/")).status_code == 200
    assert export_lines(consent).count() == 1


def test_no_form_no_download_and_no_line(client_for, social_worker, unsigned):
    assert client_for(social_worker).get(url(unsigned, "documento/")).status_code == 404
    assert not export_lines(unsigned).exists()


# --- The database admits filling in the missing form, and nothing else ------------------------------


@contextmanager
def refused():
    with pytest.raises(DatabaseError, match="pgtrigger"), transaction.atomic():
        yield


FORM = {"document": "consents/x.pdf", "document_sha256": "a" * 64, "document_content_type": "application/pdf"}


def test_the_database_lets_a_missing_form_be_filled_in_once(unsigned):
    rows = Consent.objects.filter(pk=unsigned.pk)
    with refused():  # not with another change
        rows.update(**FORM, privacy_notice_version="reescrito")
    with refused():  # not half of it
        rows.update(document="consents/x.pdf")
    assert rows.update(**FORM, document_added_at=timezone.now()) == 1
    with refused():  # never replaced
        rows.update(document="consents/y.pdf", document_sha256="b" * 64)
    with refused():  # never removed
        rows.update(document="", document_sha256="", document_content_type="")
    with refused():
        rows.update(document_added_at=None)
    with refused():
        rows.delete()
    assert rows.get().document.name == "consents/x.pdf"


# --- On the person's record, in the workspace and in the portal ----------------------------------


def _consent_card(html: str, consent: Consent) -> str:
    start = html.index(f'id="consentimiento-{consent.pk}"')
    return html[start:html.index("</article>", start)]


def test_the_record_marks_the_missing_form_and_only_the_recorder_gets_the_link(
    client_for, social_worker, employment_counsellor, coordinator, unsigned,
):
    record = f"/espacio/personas/{unsigned.person_id}/"
    card = _consent_card(client_for(social_worker).get(record).content.decode(), unsigned)
    assert "Sin documento firmado" in card
    assert f'href="{url(unsigned, "documento/adjuntar/")}"' in card
    # the employment office attends the person and reads the consent, but did not record it
    card = _consent_card(client_for(employment_counsellor).get(record).content.decode(), unsigned)
    assert "Sin documento firmado" in card and "documento/adjuntar/" not in card
    # the centre's coordinator does not record consents: no link to a page that would refuse
    card = _consent_card(client_for(coordinator).get(record).content.decode(), unsigned)
    assert "Sin documento firmado" in card and "documento/adjuntar/" not in card


def test_once_attached_the_record_links_the_form_instead(client_for, social_worker, unsigned):
    client = client_for(social_worker)
    assert attach(client, unsigned).status_code == 302
    card = _consent_card(client.get(f"/espacio/personas/{unsigned.person_id}/").content.decode(), unsigned)
    assert "Sin documento firmado" not in card and "documento/adjuntar/" not in card
    assert f'href="{url(unsigned, "documento/")}"' in card


def test_the_ngo_attaches_the_form_of_its_consent_in_the_portal(client_for, ngo_technician, ngo, person):
    enrol(person, ngo)
    consent = ConsentFactory(person=person, recorded_by=ngo_technician, recorded_by_org=ngo)
    client = client_for(ngo_technician)
    portal = f"/portal/personas/{person.pk}/consentimientos/{consent.pk}/documento/adjuntar/"
    card = _consent_card(client.get(f"/portal/personas/{person.pk}/").content.decode(), consent)
    assert "Sin documento firmado" in card and f'href="{portal}"' in card
    response = client.post(portal, {"document": SimpleUploadedFile("firmado.pdf", PDF)})
    assert response.status_code == 302 and response["Location"].startswith(f"/portal/personas/{person.pk}/")
    stored = Consent.objects.get(pk=consent.pk)
    assert stored.document and stored.document_added_by == ngo_technician
    # the workspace route is not the portal's: staff routes do not answer NGO staff
    assert client.get(url(consent, "documento/adjuntar/")).status_code == 404


def test_an_unknown_or_another_persons_consent_is_a_404_like_a_missing_one(client_for, social_worker, unsigned,
                                                                            social_services_centre):
    client = client_for(social_worker)
    other = PersonFactory()
    enrol(other, social_services_centre)
    for path in (f"/espacio/personas/{unsigned.person_id}/consentimientos/999999/documento/adjuntar/",
                 f"/espacio/personas/{other.pk}/consentimientos/{unsigned.pk}/documento/adjuntar/"):
        assert client.get(path).status_code == 404
        assert client.post(path, {"document": SimpleUploadedFile("firmado.pdf", PDF)}).status_code == 404
    assert not Consent.objects.get(pk=unsigned.pk).document


def test_the_attach_page_costs_the_same_whatever_the_person_holds(
    client_for, social_worker, social_services_centre, unsigned,
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(social_worker)

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    pages = [url(unsigned, "documento/adjuntar/"), url(unsigned, "alcance/")]
    few = [queries(path) for path in pages]
    for _ in range(15):  # more consents, also without their form, on the same person
        ConsentFactory(person=unsigned.person, recorded_by=social_worker, recorded_by_org=social_services_centre)
    assert [queries(path) for path in pages] == few
    assert few[0] <= 12
