"""Documents in the NGO portal (/portal/): the workspace's upload and download, the same rules.

- An NGO technician attaches a document to the areas the NGO's service records (the carpeta
  social, company intermediation, child-poverty detection) or to the common diary; the file is
  checked by its content and size and fingerprinted; the NGO lists and downloads it.
- Another service's document is listed and served only where sharing gives the NGO that area in
  full (consent, matrix and agreement); otherwise it is a 404.
- For a person the NGO does not attend, or without an agreement in force, the upload answers
  like an id that does not exist; staff get a 404 on the portal's document routes.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases.models import Attachment
from consent.purposes import Purpose
from sharing.models import DisclosureLogEntry, SharingAgreement
from tests.factories import ConsentFactory, PersonFactory, enrol, make_attachment

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def agreement(
    organisation, categories=("ficha_basica", "carpeta_social", "exclusion_social")
) -> SharingAgreement:
    today = timezone.localdate()
    return SharingAgreement.objects.create(
        organisation=organisation,
        title="Convenio de colaboración",
        community_id="07",
        categories=list(categories),
        purposes=[p for p in Purpose.values if p != Purpose.EVALUATION],
        valid_from=today - dt.timedelta(days=100),
        valid_until=today + dt.timedelta(days=300),
        processing_terms="Encargo de tratamiento (art. 28 RGPD)",
    )


@pytest.fixture
def with_agreement(ngo) -> SharingAgreement:
    return agreement(ngo)


@pytest.fixture
def person(ngo, social_services_centre):
    person = PersonFactory()
    enrol(person, ngo)
    enrol(person, social_services_centre)
    return person


def upload_url(person_id: int) -> str:
    return f"/portal/personas/{person_id}/documentos/nuevo/"


def download_url(person_id: int, attachment_id: int) -> str:
    return f"/portal/personas/{person_id}/documentos/{attachment_id}/"


def upload(
    client,
    person_id: int,
    *,
    content=PDF,
    name="acompanamiento.pdf",
    category="carpeta_social",
    kind="informe",
    title="Informe de acompañamiento",
):
    return client.post(
        upload_url(person_id),
        {
            "category": category,
            "kind": kind,
            "title": title,
            "file": SimpleUploadedFile(name, content, content_type="application/pdf"),
        },
    )


def social_services_document(
    person,
    social_worker,
    organisation,
    *,
    category="exclusion_social",
    title="Informe de servicios sociales",
) -> Attachment:
    return make_attachment(
        person=person, organisation=organisation, recorded_by=social_worker, category=category, title=title
    )


# --- Upload and download on the NGO's own areas ---------------------------------------------------


def test_the_ngo_attaches_a_document_to_its_carpeta_social_and_downloads_it(
    client_for,
    ngo_technician,
    ngo,
    person,
    with_agreement,
    django_assert_max_num_queries,
):
    client = client_for(ngo_technician)
    client.get(upload_url(person.pk))
    with django_assert_max_num_queries(15):
        form = client.get(upload_url(person.pk))
    html = form.content.decode()
    assert form.status_code == 200
    assert 'value="carpeta_social"' in html and 'value="atenciones"' in html
    assert 'value="exclusion_social"' not in html and 'value="demanda_empleo"' not in html
    assert f'href="/portal/personas/{person.pk}/"' in html

    response = upload(client, person.pk)
    assert response.status_code == 302
    assert response.url == f"/portal/personas/{person.pk}/#documentos-title"
    attachment = Attachment.objects.get(person=person)
    assert (
        attachment.category,
        attachment.recorded_by_service,
        attachment.recorded_by_org_id,
        attachment.recorded_by_id,
    ) == ("carpeta_social", "third_sector", ngo.pk, ngo_technician.pk)
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (attachment.size, attachment.content_type) == (len(PDF), "application/pdf")

    record = client.get(f"/portal/personas/{person.pk}/").content.decode()
    assert "Informe de acompañamiento" in record
    assert f'href="{download_url(person.pk, attachment.pk)}?finalidad=seguimiento"' in record
    download = client.get(download_url(person.pk, attachment.pk))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Cache-Control"] == "no-store, private"


def test_the_ngo_files_documents_only_under_its_own_areas(
    client_for, ngo_technician, person, with_agreement
):
    client = client_for(ngo_technician)
    html = upload(client, person.pk, category="exclusion_social").content.decode()
    assert "Escoja una opción válida" in html
    assert not Attachment.objects.exists()
    assert upload(client, person.pk, category="atenciones").status_code == 302  # the common diary
    assert upload(client, person.pk, category="pobreza_infantil").status_code == 302


@pytest.mark.parametrize(
    "name,content,message",
    [
        (
            "informe.pdf",
            PNG,
            "El contenido del archivo no corresponde a su extensión: no es un PDF válido.",
        ),
        ("programa.exe", b"MZ\x90\x00", "Solo se admiten documentos PDF, PNG o JPEG."),
    ],
)
def test_a_file_that_is_not_what_it_says_is_refused(
    name, content, message, client_for, ngo_technician, person, with_agreement
):
    response = upload(client_for(ngo_technician), person.pk, content=content, name=name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Attachment.objects.exists()


# --- Another service's documents ------------------------------------------------------------------


def test_another_services_document_only_where_sharing_gives_the_area_in_full(
    client_for,
    ngo_technician,
    social_worker,
    person,
    social_services_centre,
    with_agreement,
):
    exclusion = social_services_document(person, social_worker, social_services_centre)
    health = social_services_document(
        person, social_worker, social_services_centre, category="salud", title="Informe médico"
    )
    client = client_for(ngo_technician)
    assert client.get(download_url(person.pk, exclusion.pk)).status_code == 404  # no consent yet
    ConsentFactory(
        person=person,
        grantee_services=["third_sector"],
        purposes=[Purpose.FOLLOW_UP],
        recorded_by=social_worker,
        recorded_by_org=social_services_centre,
    )
    response = client.get(download_url(person.pk, exclusion.pk), {"finalidad": Purpose.FOLLOW_UP})
    assert response.status_code == 200
    line = DisclosureLogEntry.objects.filter(
        event="disclosure", category="exclusion_social", user=ngo_technician
    ).latest("id")
    assert line.basis.startswith("consent:")
    # health is at most an indicator for an NGO: never listed nor served, whatever the consent
    record = client.get(f"/portal/personas/{person.pk}/").content.decode()
    assert "Informe de servicios sociales" in record and "Informe médico" not in record
    assert client.get(download_url(person.pk, health.pk)).status_code == 404


def test_a_document_of_an_area_outside_the_agreement_is_not_served(
    client_for,
    ngo_technician,
    social_worker,
    person,
    ngo,
    social_services_centre,
):
    agreement(ngo, categories=("ficha_basica", "carpeta_social"))
    document = social_services_document(person, social_worker, social_services_centre)
    ConsentFactory(
        person=person,
        grantee_services=["third_sector"],
        purposes=[Purpose.FOLLOW_UP],
        recorded_by=social_worker,
        recorded_by_org=social_services_centre,
    )
    assert client_for(ngo_technician).get(download_url(person.pk, document.pk)).status_code == 404


# --- Who may act ----------------------------------------------------------------------------------


def assert_same_404(response, missing) -> None:
    assert missing.status_code == 404
    assert response.status_code == 404
    assert response.content == missing.content
    assert response.get("Content-Type") == missing.get("Content-Type")


def test_for_a_person_the_ngo_does_not_attend_the_upload_is_a_404_like_a_missing_one(
    client_for,
    ngo_technician,
    social_worker,
    social_services_centre,
    with_agreement,
):
    theirs = PersonFactory()
    enrol(theirs, social_services_centre)
    document = social_services_document(theirs, social_worker, social_services_centre)
    client = client_for(ngo_technician)
    missing = theirs.pk + 1000
    assert_same_404(client.get(upload_url(theirs.pk)), client.get(upload_url(missing)))
    assert_same_404(upload(client, theirs.pk), upload(client, missing))
    assert_same_404(
        client.get(download_url(theirs.pk, document.pk)),
        client.get(download_url(missing, document.pk)),
    )
    assert Attachment.objects.count() == 1


def test_without_an_agreement_in_force_the_ngo_attaches_nothing(client_for, ngo_technician, ngo, person):
    SharingAgreement.objects.filter(organisation=ngo).delete()
    client = client_for(ngo_technician)
    missing = person.pk + 1000
    assert_same_404(client.get(upload_url(person.pk)), client.get(upload_url(missing)))
    assert_same_404(upload(client, person.pk), upload(client, missing))
    assert not Attachment.objects.exists()


@pytest.mark.parametrize("staff", ["social_worker", "employment_counsellor", "coordinator"])
def test_staff_get_a_404_on_the_portal_document_routes(
    staff,
    request,
    client_for,
    social_worker,
    person,
    employment_office,
    social_services_centre,
    with_agreement,
):
    enrol(person, employment_office)
    document = social_services_document(person, social_worker, social_services_centre)
    client = client_for(request.getfixturevalue(staff))
    assert client.get(upload_url(person.pk)).status_code == 404
    assert upload(client, person.pk, category="exclusion_social").status_code == 404
    assert client.get(download_url(person.pk, document.pk)).status_code == 404
    assert Attachment.objects.count() == 1
