"""The consent workflow in the NGO portal (/portal/): the workspace's own views, the same rules.

- An NGO technician records the consent a person the NGO attends gives, with its scope and the
  scanned signed form (checked by its content, fingerprinted), sees at once what each
  organisation attending the person can now see, prints the receipt and revokes a consent.
- A revocation takes effect on the very next request of the organisation it authorised.
- A file that is not what its name says is refused in Spanish, and nothing is saved.
- For a person the NGO does not attend, or without an agreement in force, every one of these
  routes answers exactly like an id that does not exist; staff get a 404 on all of them.
- Correcting a consent stays with the caseworkers: the portal has no such route.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from cases import models as m
from consent.models import Consent, ConsentRevocation, ConsentState
from consent.purposes import Purpose
from sharing.models import DisclosureLogEntry, SharingAgreement
from tests.factories import ConsentFactory, PersonFactory, enrol, make_section_entry

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%firmado en la entidad\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def agreement(organisation, *, days_left: int = 300) -> SharingAgreement:
    today = timezone.localdate()
    return SharingAgreement.objects.create(
        organisation=organisation,
        title="Convenio de colaboración",
        community_id="07",
        categories=["ficha_basica", "carpeta_social", "exclusion_social"],
        purposes=[p for p in Purpose.values if p != Purpose.EVALUATION],
        valid_from=today - dt.timedelta(days=100),
        valid_until=today + dt.timedelta(days=days_left),
        processing_terms="Encargo de tratamiento (art. 28 RGPD)",
    )


@pytest.fixture
def with_agreement(ngo) -> SharingAgreement:
    return agreement(ngo)


@pytest.fixture
def person(ngo, social_services_centre):
    """Attended by the NGO and by the social services centre."""
    person = PersonFactory(first_name="Rocío", last_name_1="Benavente")
    enrol(person, ngo)
    enrol(person, social_services_centre)
    return person


def portal(person, tail: str = "") -> str:
    return f"/portal/personas/{person.pk}/{tail}"


def consent_url(person_id: int, consent_id: int, tail: str) -> str:
    return f"/portal/personas/{person_id}/consentimientos/{consent_id}/{tail}"


def form_data(**changes) -> dict:
    """The person lets social services see the carpeta social, for follow-up, for a year."""
    today = timezone.localdate()
    data = {
        "grantor": "person",
        "representative_name": "",
        "representative_relation": "",
        "representative_evidence": "",
        "given_on": today.strftime("%d/%m/%Y"),
        "valid_from": today.strftime("%d/%m/%Y"),
        "valid_until": (today + dt.timedelta(days=365)).strftime("%d/%m/%Y"),
        "grantee_services": ["social"],
        "permitted_categories": ["carpeta_social"],
        "purposes": ["seguimiento"],
        "privacy_notice_version": "2025.1",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def stored_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def org_access(html: str, organisation) -> tuple[str, str]:
    """(full, indicator) texts of one organisation on the scope page."""
    block = html.split(f'aria-labelledby="org-{organisation.pk}"', 1)[1].split("</section>", 1)[0]
    full = block.split("<dt>Ve completa</dt><dd>", 1)[1].split("</dd>", 1)[0]
    indicator = block.split("<dt>Solo sabe si existe información</dt><dd>", 1)[1].split("</dd>", 1)[
        0
    ]
    return full, indicator


# --- Recording, with the signed form --------------------------------------------------------------


def test_the_ngo_records_a_consent_with_its_signed_form_and_sees_its_effect(
    client_for,
    ngo_technician,
    ngo,
    person,
    social_services_centre,
    with_agreement,
    django_assert_max_num_queries,
):
    client = client_for(ngo_technician)
    client.get(portal(person, "consentimientos/nuevo/"))
    with django_assert_max_num_queries(20):
        form = client.get(portal(person, "consentimientos/nuevo/"))
    assert form.status_code == 200
    html = form.content.decode()
    assert 'name="document"' in html and 'enctype="multipart/form-data"' in html
    assert f'href="/portal/personas/{person.pk}/#consentimientos-title"' in html

    response = client.post(
        portal(person, "consentimientos/nuevo/"),
        {**form_data(), "document": SimpleUploadedFile("firmado.pdf", PDF)},
    )
    consent = Consent.objects.get(person=person)
    assert response.status_code == 302
    assert response.url == consent_url(person.pk, consent.pk, "alcance/?finalidad=seguimiento")
    assert (consent.recorded_by_id, consent.recorded_by_org_id) == (ngo_technician.pk, ngo.pk)
    assert (consent.grantee_services, consent.permitted_categories, consent.purposes) == (
        ["social"],
        ["carpeta_social"],
        ["seguimiento"],
    )
    assert consent.document_sha256 == hashlib.sha256(PDF).hexdigest()
    assert consent.document_content_type == "application/pdf"

    # at once: what each organisation attending the person can now see
    scope = client.get(response.url)
    assert scope.status_code == 200
    full, _indicator = org_access(scope.content.decode(), social_services_centre)
    assert "Carpeta social: intervenciones del Tercer Sector (Entidad del Tercer Sector)" in full
    full, _indicator = org_access(scope.content.decode(), ngo)
    assert full == "Nada de otros servicios"  # the consent authorises social services only

    record = client.get(portal(person)).content.decode()
    assert f"Consentimiento nº {consent.pk}" in record
    assert "Autoriza a: Servicios sociales" in record
    download = client.get(consent_url(person.pk, consent.pk, "documento/"))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF


@pytest.mark.parametrize(
    "name,content,message",
    [
        (
            "firmado.pdf",
            PNG,
            "El contenido del archivo no corresponde a su extensión: no es un PDF válido.",
        ),
        (
            "firmado.jpg",
            PDF,
            "El contenido del archivo no corresponde a su extensión: no es un JPG válido.",
        ),
        ("firmado.exe", b"MZ\x90\x00", "Solo se admiten documentos PDF, PNG o JPEG."),
    ],
)
def test_a_signed_form_that_is_not_what_it_says_is_refused_and_nothing_is_saved(
    name,
    content,
    message,
    client_for,
    ngo_technician,
    person,
    with_agreement,
    settings,
):
    response = client_for(ngo_technician).post(
        portal(person, "consentimientos/nuevo/"),
        {
            **form_data(privacy_notice_version="2025.7"),
            "document": SimpleUploadedFile(name, content),
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert 'value="2025.7"' in html  # what was typed is kept
    assert not Consent.objects.exists()
    assert stored_files(settings) == []


def test_a_signed_form_too_large_is_refused(
    client_for, ngo_technician, person, with_agreement, settings
):
    settings.UPLOAD_MAX_BYTES = 1_048_576
    html = (
        client_for(ngo_technician)
        .post(
            portal(person, "consentimientos/nuevo/"),
            {**form_data(), "document": SimpleUploadedFile("firmado.pdf", PDF + b"0" * 1_572_864)},
        )
        .content.decode()
    )
    assert "El archivo ocupa 1.5 MB; el máximo es 1.0 MB." in html
    assert not Consent.objects.exists()
    assert stored_files(settings) == []


def test_a_bad_scope_is_explained_in_spanish_in_the_portal_too(
    client_for, ngo_technician, person, with_agreement
):
    html = (
        client_for(ngo_technician)
        .post(portal(person, "consentimientos/nuevo/"), form_data(grantee_services=None))
        .content.decode()
    )
    assert "Indique a qué servicios u organizaciones autoriza." in html
    assert not Consent.objects.exists()


# --- Printing -------------------------------------------------------------------------------------


def test_the_receipt_prints_from_the_portal(
    client_for, ngo_technician, ngo, person, with_agreement
):
    client = client_for(ngo_technician)
    client.post(portal(person, "consentimientos/nuevo/"), form_data())
    consent = Consent.objects.get()
    page = client.get(consent_url(person.pk, consent.pk, "justificante/"))
    html = page.content.decode()
    assert page.status_code == 200
    assert (
        "Justificante de consentimiento informado" in html
        and "Fundación Inserta Valladolid" in html
    )
    assert f'href="{consent_url(person.pk, consent.pk, "justificante.pdf")}"' in html

    pdf = client.get(consent_url(person.pk, consent.pk, "justificante.pdf"))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert pdf["Content-Disposition"] == f'attachment; filename="consentimiento-{consent.pk}.pdf"'
    line = DisclosureLogEntry.objects.filter(event="export", person=person).latest("id")
    assert (line.user_id, line.organisation_id, line.basis) == (
        ngo_technician.pk,
        ngo.pk,
        "documento:consentimiento",
    )


# --- Revocation -----------------------------------------------------------------------------------


def test_a_revocation_in_the_portal_removes_the_grantees_view_on_the_next_request(
    client_for,
    ngo_technician,
    social_worker,
    ngo,
    person,
    social_services_centre,
    with_agreement,
):
    make_section_entry(
        m.SocialFolderIntervention,
        person=person,
        organisation=ngo,
        recorded_by=ngo_technician,
        description="MARCA-CARPETA-entidad",
    )
    ngo_client, worker = client_for(ngo_technician), client_for(social_worker)
    staff_record = f"/espacio/personas/{person.pk}/"
    assert "MARCA-CARPETA-entidad" not in worker.get(staff_record).content.decode()
    ngo_client.post(portal(person, "consentimientos/nuevo/"), form_data())
    consent = Consent.objects.get()
    assert "MARCA-CARPETA-entidad" in worker.get(staff_record).content.decode()

    record = ngo_client.get(portal(person)).content.decode()
    revoke = consent_url(person.pk, consent.pk, "revocar/")
    assert f'href="{revoke}"' in record
    inline = ngo_client.get(revoke, HTTP_HX_REQUEST="true").content.decode()
    assert (
        inline.startswith("<form") and f'action="{revoke}"' in inline and 'name="channel"' in inline
    )
    assert ngo_client.get(revoke).status_code == 200

    response = ngo_client.post(revoke, {"channel": "in_person", "reason": "Ya no quiere compartir"})
    assert response.status_code == 302
    assert response.url == consent_url(person.pk, consent.pk, "alcance/?finalidad=seguimiento")
    assert consent.state_at() == ConsentState.REVOKED
    assert ConsentRevocation.objects.get(consent=consent).revoked_by_id == ngo_technician.pk
    full, _indicator = org_access(
        ngo_client.get(response.url).content.decode(), social_services_centre
    )
    assert full == "Nada de otros servicios"

    assert (
        "MARCA-CARPETA-entidad" not in worker.get(staff_record).content.decode()
    )  # the very next request
    after = ngo_client.get(portal(person)).content.decode()
    assert "Revocado" in after and f'href="{revoke}"' not in after
    again = ngo_client.post(revoke, {"channel": "phone"}).content.decode()
    assert "No se puede revocar un consentimiento en estado «Revocado»." in again


def test_the_ngo_records_a_revocation_of_a_consent_another_organisation_recorded(
    client_for,
    ngo_technician,
    social_worker,
    person,
    social_services_centre,
    with_agreement,
):
    """The person may revoke at any organisation that attends them (the receipt says so): the
    workspace's rule, unchanged in the portal."""
    consent = ConsentFactory(
        person=person, recorded_by=social_worker, recorded_by_org=social_services_centre
    )
    response = client_for(ngo_technician).post(
        consent_url(person.pk, consent.pk, "revocar/"), {"channel": "phone"}
    )
    assert response.status_code == 302
    assert consent.state_at() == ConsentState.REVOKED


def test_the_portal_does_not_correct_consents(client_for, ngo_technician, person, with_agreement):
    consent = ConsentFactory(person=person)
    with pytest.raises(NoReverseMatch):
        reverse("portal:consent_correct", args=[person.pk, consent.pk])
    client = client_for(ngo_technician)
    assert client.get(consent_url(person.pk, consent.pk, "corregir/")).status_code == 404
    assert "corregir/" not in client.get(portal(person)).content.decode()


# --- Who may act ----------------------------------------------------------------------------------


def assert_same_404(response, missing) -> None:
    assert missing.status_code == 404
    assert response.status_code == 404
    assert response.content == missing.content
    assert response.get("Content-Type") == missing.get("Content-Type")


@pytest.fixture
def not_attended(social_services_centre, social_worker):
    """A person only social services attend, with a consent and its signed form."""
    person = PersonFactory()
    enrol(person, social_services_centre)
    consent = ConsentFactory(
        person=person,
        recorded_by=social_worker,
        recorded_by_org=social_services_centre,
        document=SimpleUploadedFile("firmado.pdf", PDF),
        document_sha256="0" * 64,
        document_content_type="application/pdf",
    )
    return person, consent


CONSENT_TAILS = ("revocar/", "justificante/", "justificante.pdf", "alcance/", "documento/")


def test_the_ngo_cannot_act_on_a_person_it_does_not_attend(
    client_for,
    ngo_technician,
    not_attended,
    with_agreement,
):
    person, consent = not_attended
    missing_id = person.pk + 1000
    client = client_for(ngo_technician)
    for method in ("get", "post"):
        send = getattr(client, method)
        assert_same_404(
            send(f"/portal/personas/{person.pk}/consentimientos/nuevo/", form_data()),
            send(f"/portal/personas/{missing_id}/consentimientos/nuevo/", form_data()),
        )
        for tail in CONSENT_TAILS:
            assert_same_404(
                send(consent_url(person.pk, consent.pk, tail), {"channel": "phone"}),
                send(consent_url(missing_id, consent.pk, tail), {"channel": "phone"}),
            )
    assert Consent.objects.count() == 1
    assert not ConsentRevocation.objects.exists()


def test_a_consent_of_another_person_is_a_404_like_a_missing_one(
    client_for,
    ngo_technician,
    person,
    not_attended,
    with_agreement,
):
    _theirs, consent = not_attended
    client = client_for(ngo_technician)
    for tail in CONSENT_TAILS:
        assert_same_404(
            client.get(consent_url(person.pk, consent.pk, tail)),
            client.get(consent_url(person.pk, consent.pk + 1000, tail)),
        )
    assert_same_404(
        client.post(consent_url(person.pk, consent.pk, "revocar/"), {"channel": "phone"}),
        client.post(consent_url(person.pk, consent.pk + 1000, "revocar/"), {"channel": "phone"}),
    )
    assert consent.state_at() == ConsentState.ACTIVE


@pytest.mark.parametrize("state", ["none", "expired"])
def test_without_an_agreement_in_force_the_portal_records_and_revokes_nothing(
    state,
    client_for,
    ngo_technician,
    ngo,
    person,
    social_worker,
    social_services_centre,
):
    SharingAgreement.objects.filter(organisation=ngo).delete()
    if state == "expired":
        SharingAgreement.objects.filter(pk=agreement(ngo).pk).update(
            valid_from=timezone.localdate() - dt.timedelta(days=400),
            valid_until=timezone.localdate() - dt.timedelta(days=1),
        )
    consent = ConsentFactory(
        person=person, recorded_by=social_worker, recorded_by_org=social_services_centre
    )
    client = client_for(ngo_technician)
    missing = client.get(f"/portal/personas/{person.pk + 1000}/consentimientos/nuevo/")
    assert_same_404(client.get(portal(person, "consentimientos/nuevo/")), missing)
    assert_same_404(client.post(portal(person, "consentimientos/nuevo/"), form_data()), missing)
    assert_same_404(
        client.post(consent_url(person.pk, consent.pk, "revocar/"), {"channel": "phone"}), missing
    )
    assert Consent.objects.count() == 1 and consent.state_at() == ConsentState.ACTIVE


@pytest.mark.parametrize("staff", ["social_worker", "employment_counsellor", "coordinator"])
def test_staff_get_a_404_on_the_portal_consent_routes(
    staff,
    request,
    client_for,
    person,
    employment_office,
    social_services_centre,
    with_agreement,
):
    enrol(person, employment_office)
    consent = ConsentFactory(person=person, recorded_by_org=social_services_centre)
    client = client_for(request.getfixturevalue(staff))
    urls = [
        portal(person, "consentimientos/nuevo/"),
        *(consent_url(person.pk, consent.pk, t) for t in CONSENT_TAILS),
    ]
    answered = [
        f"{method} {url}"
        for url in urls
        for method in ("get", "post")
        if getattr(client, method)(url, {**form_data(), "channel": "phone"}).status_code != 404
    ]
    assert answered == []
    assert Consent.objects.count() == 1 and consent.state_at() == ConsentState.ACTIVE
