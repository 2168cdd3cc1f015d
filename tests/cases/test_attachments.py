"""Documents attached to the record (padrón, resolutions, ID copies, reports).

A document is checked on upload (its content must match its extension, within the size
limit) and fingerprinted (SHA-256). It belongs to a category chosen by the service that
uploads it, among those it records, and is then exactly as visible as that category:
listed and downloadable only where the viewer gets the category in full; a download of
another service's document is logged as a disclosure.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases.models import Attachment
from consent.purposes import Purpose
from sharing.models import DisclosureLogEntry, SharingAgreement
from tests.factories import ConsentFactory, PersonFactory, enrol

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def person(social_services_centre, employment_office):
    person = PersonFactory()
    enrol(person, social_services_centre)
    enrol(person, employment_office)
    return person


def upload_url(person) -> str:
    return f"/espacio/personas/{person.pk}/documentos/nuevo/"


def upload(client, person, *, content=PDF, name="padron.pdf", category="exclusion_social", kind="padron",
           title="Certificado de empadronamiento 2025", restricted=False):
    data = {"category": category, "kind": kind, "title": title,
            "file": SimpleUploadedFile(name, content, content_type="application/pdf")}
    if restricted:
        data["restricted"] = "on"
    return client.post(upload_url(person), data)


def download_url(person, attachment, prefix="/espacio") -> str:
    return f"{prefix}/personas/{person.pk}/documentos/{attachment.pk}/"


def grant(person, services, social_worker, org, **extra):
    values = dict(person=person, grantee_services=list(services), purposes=[Purpose.FOLLOW_UP],
                  recorded_by=social_worker, recorded_by_org=org)
    values.update(extra)
    return ConsentFactory(**values)


# --- Upload ---------------------------------------------------------------------------------------------


def test_a_pdf_is_stored_with_its_fingerprint(client_for, social_worker, person, django_assert_max_num_queries):
    client = client_for(social_worker)
    client.get(upload_url(person))
    with django_assert_max_num_queries(15):
        assert client.get(upload_url(person)).status_code == 200
    response = upload(client, person)
    assert response.status_code == 302
    attachment = Attachment.objects.get(person=person)
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (attachment.size, attachment.content_type, attachment.original_name) == (len(PDF), "application/pdf",
                                                                                    "padron.pdf")
    assert (attachment.category, attachment.recorded_by_service, attachment.kind) == ("exclusion_social", "social",
                                                                                      "padron")
    assert "padron" not in attachment.file.name  # the stored name says nothing about the person
    with attachment.file.open("rb") as stored:
        assert stored.read() == PDF


def test_a_file_whose_content_does_not_match_its_extension_is_refused(client_for, social_worker, person):
    response = upload(client_for(social_worker), person, content=PNG, name="resolucion.pdf")
    html = response.content.decode()
    assert response.status_code == 200
    assert "El contenido del archivo no corresponde a su extensión: no es un PDF válido." in html
    assert not Attachment.objects.exists()


def test_a_file_of_another_type_is_refused(client_for, social_worker, person):
    html = upload(client_for(social_worker), person, content=b"MZ\x90\x00", name="programa.exe").content.decode()
    assert "Solo se admiten documentos PDF, PNG o JPEG." in html
    assert not Attachment.objects.exists()


def test_a_file_too_large_is_refused(client_for, social_worker, person, settings):
    settings.UPLOAD_MAX_BYTES = 1_048_576
    html = upload(client_for(social_worker), person, content=PDF + b"0" * 1_572_864).content.decode()
    assert "El archivo ocupa 1.5 MB; el máximo es 1.0 MB." in html
    assert not Attachment.objects.exists()


def test_a_service_files_documents_only_under_its_own_categories(client_for, social_worker, employment_counsellor,
                                                                 person):
    html = upload(client_for(social_worker), person, category="demanda_empleo").content.decode()
    assert "Escoja una opción válida" in html
    assert not Attachment.objects.exists()
    response = upload(client_for(employment_counsellor), person, category="demanda_empleo", kind="resolucion")
    assert response.status_code == 302
    assert Attachment.objects.get().recorded_by_service == "employment"


def test_the_diary_takes_documents_of_any_service(client_for, employment_counsellor, person):
    assert upload(client_for(employment_counsellor), person, category="atenciones").status_code == 302


def test_uploading_for_a_person_outside_the_caseload_is_a_404(client_for, social_worker):
    stranger = PersonFactory()
    assert upload(client_for(social_worker), stranger).status_code == 404
    assert not Attachment.objects.exists()


# --- Access through sharing ---------------------------------------------------------------------------------


def test_the_uploading_service_lists_and_downloads_its_document(client_for, social_worker, person):
    client = client_for(social_worker)
    upload(client, person, title="Resolución de la renta mínima", category="rentas_minimas", kind="resolucion")
    attachment = Attachment.objects.get()
    html = client.get(f"/espacio/personas/{person.pk}/").content.decode()
    assert "Resolución de la renta mínima" in html
    response = client.get(download_url(person, attachment))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith('attachment; filename="padron.pdf"')
    assert response["Cache-Control"] == "no-store, private"
    assert not DisclosureLogEntry.objects.filter(event="disclosure", category="rentas_minimas").exists()


def test_another_service_downloads_with_consent_and_the_disclosure_is_logged(
    client_for, social_worker, employment_counsellor, person, social_services_centre,
):
    upload(client_for(social_worker), person, title="Informe de exclusión")
    attachment = Attachment.objects.get()
    client = client_for(employment_counsellor)
    assert client.get(download_url(person, attachment)).status_code == 404  # no consent yet
    grant(person, ("employment",), social_worker, social_services_centre)
    assert "Informe de exclusión" in client.get(f"/espacio/personas/{person.pk}/").content.decode()
    response = client.get(download_url(person, attachment), {"finalidad": Purpose.FOLLOW_UP})
    assert response.status_code == 200
    line = DisclosureLogEntry.objects.filter(event="disclosure", category="exclusion_social",
                                             user=employment_counsellor).latest("id")
    assert (line.level, line.purpose, line.basis.startswith("consent:")) == ("full", "seguimiento", True)


def test_a_document_of_a_category_seen_only_as_indicator_is_not_downloadable(
    client_for, social_worker, employment_counsellor, person, social_services_centre,
):
    """Health is an indicator for employment counsellors: the document is never listed nor served."""
    upload(client_for(social_worker), person, category="salud", kind="informe", title="Informe médico")
    attachment = Attachment.objects.get()
    grant(person, ("employment",), social_worker, social_services_centre)
    client = client_for(employment_counsellor)
    html = client.get(f"/espacio/personas/{person.pk}/").content.decode()
    assert "Informe médico" not in html
    assert "Hay información en el área «Salud y discapacidad» registrada por Servicios sociales." in html
    assert client.get(download_url(person, attachment)).status_code == 404


def test_a_restricted_document_stays_with_its_service(client_for, social_worker, employment_counsellor, person,
                                                      social_services_centre):
    upload(client_for(social_worker), person, title="Documento reservado", restricted=True)
    attachment = Attachment.objects.get()
    grant(person, ("employment",), social_worker, social_services_centre)
    client = client_for(employment_counsellor)
    assert "Documento reservado" not in client.get(f"/espacio/personas/{person.pk}/").content.decode()
    assert client.get(download_url(person, attachment)).status_code == 404
    assert client_for(social_worker).get(download_url(person, attachment)).status_code == 200


def test_a_hidden_document_leaves_the_page_byte_identical(client_for, social_worker, employment_counsellor, person):
    client = client_for(employment_counsellor)
    before = CSRF.sub("", client.get(f"/espacio/personas/{person.pk}/").content.decode())
    upload(client_for(social_worker), person, title="Documento oculto")
    after = CSRF.sub("", client.get(f"/espacio/personas/{person.pk}/").content.decode())
    assert after == before


def test_a_document_of_another_person_or_a_missing_one_is_a_404(client_for, social_worker, person,
                                                                social_services_centre):
    other = PersonFactory()
    enrol(other, social_services_centre)
    client = client_for(social_worker)
    upload(client, other)
    attachment = Attachment.objects.get()
    assert client.get(download_url(person, attachment)).status_code == 404
    assert client.get(f"/espacio/personas/{person.pk}/documentos/999999/").status_code == 404


def test_ngo_staff_download_through_the_portal_only(client_for, social_worker, ngo_technician, ngo, person,
                                                    social_services_centre):
    enrol(person, ngo)
    today = timezone.localdate()
    SharingAgreement.objects.create(
        organisation=ngo, title="Convenio", community=ngo.community, categories=["exclusion_social"],
        purposes=[Purpose.FOLLOW_UP], valid_from=today - dt.timedelta(days=1), valid_until=today + dt.timedelta(days=9),
        processing_terms="Encargo",
    )
    grant(person, ("third_sector",), social_worker, social_services_centre)
    upload(client_for(social_worker), person)
    attachment = Attachment.objects.get()
    client = client_for(ngo_technician)
    assert client.get(download_url(person, attachment, "/espacio")).status_code == 404
    assert client.get(download_url(person, attachment, "/portal")).status_code == 200
    assert client_for(social_worker).get(download_url(person, attachment, "/portal")).status_code == 404


# --- How sharing.record files them -------------------------------------------------------------------------


def test_the_record_files_a_document_under_its_own_category_not_the_models(
    client_for, social_worker, employment_counsellor, person, social_services_centre,
):
    """Attachments have no class-level category: sharing.record groups each row by its ``category``."""
    client = client_for(social_worker)
    upload(client, person, category="competencias", kind="informe", title="Informe de competencias")
    upload(client, person, category="salud", kind="informe", title="Informe médico")
    grant(person, ("employment",), social_worker, social_services_centre)
    data = client_for(employment_counsellor).get(f"/api/v1/persons/{person.pk}/record/",
                                                 {"purpose": Purpose.FOLLOW_UP}).json()
    shown = {(c["code"], c["owner_service"]): c for c in data["categories"]}
    documents = shown[("competencias", "social")]["entries"]
    assert [d["document"] for d in documents] == [True]
    assert {f["name"]: f["value"] for f in documents[0]["fields"]}["title"] == "Informe de competencias"
    assert shown[("salud", "social")]["level"] == "indicator" and "entries" not in shown[("salud", "social")]
    assert "Informe médico" not in str(data)
    assert all(not e.get("document") for c in data["categories"] for e in c.get("entries", [])
               if c["code"] != "competencias")


def test_a_padron_certificate_sits_with_the_household(client_for, social_worker, person):
    from tests.factories import HouseholdFactory, HouseholdMemberFactory

    household = HouseholdFactory()
    HouseholdMemberFactory(household=household, person=person)
    client = client_for(social_worker)
    upload(client, person, category="unidad_convivencia", kind="padron", title="Padrón colectivo")
    html = client.get(f"/espacio/personas/{person.pk}/").content.decode()
    section = html.split('aria-labelledby="cat-unidad_convivencia-social">', 1)[1].split("</section>", 1)[0]
    assert "Personas que conviven" in section and "Padrón colectivo" in section


def test_a_document_in_an_otherwise_empty_category_makes_the_indicator_appear(
    client_for, social_worker, employment_counsellor, person, social_services_centre,
):
    grant(person, ("employment",), social_worker, social_services_centre)
    client = client_for(employment_counsellor)
    sentence = "Hay información en el área «Situación personal y familiar» registrada por Servicios sociales."
    assert sentence not in client.get(f"/espacio/personas/{person.pk}/").content.decode()
    upload(client_for(social_worker), person, category="situacion_familiar", kind="informe", title="Informe familiar")
    html = client.get(f"/espacio/personas/{person.pk}/").content.decode()
    assert sentence in html
    assert "Informe familiar" not in html
