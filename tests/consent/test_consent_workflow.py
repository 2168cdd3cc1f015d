"""The consent workflow from the person's record: record, see the effect, revoke, correct, print.

A consent is recorded with its scope (who, what with exceptions, for what, until when,
signed by whom) through ``consent.services``; right after, a page shows what each
organisation attending the person can now see, computed by the policy itself. A revocation
takes effect on the very next request. A person under 14 cannot sign for themselves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases import models as m
from consent.models import Consent, ConsentState
from consent.purposes import Purpose
from sharing.models import SharingAgreement
from tests.factories import (
    ConsentFactory,
    OrganisationFactory,
    PersonFactory,
    enrol,
    make_section_entry,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%firmado\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def person(social_services_centre, employment_office):
    person = PersonFactory(first_name="Lucía", last_name_1="Marín")
    enrol(person, social_services_centre)
    enrol(person, employment_office)
    return person


def new_url(person) -> str:
    return f"/espacio/personas/{person.pk}/consentimientos/nuevo/"


def form_data(**changes) -> dict:
    today = timezone.localdate()
    data = {
        "grantor": "person", "representative_name": "", "representative_relation": "", "representative_evidence": "",
        "given_on": today.strftime("%d/%m/%Y"), "valid_from": today.strftime("%d/%m/%Y"),
        "valid_until": (today + dt.timedelta(days=365)).strftime("%d/%m/%Y"),
        "grantee_services": ["employment"], "all_categories": "on", "denied_categories": ["salud"],
        "purposes": ["seguimiento"], "privacy_notice_version": "2025.1",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def record_html(client, person, purpose=Purpose.FOLLOW_UP) -> str:
    response = client.get(f"/espacio/personas/{person.pk}/", {"finalidad": purpose})
    assert response.status_code == 200
    return response.content.decode()


# --- End to end --------------------------------------------------------------------------------------------


def org_access(html: str, organisation) -> tuple[str, str]:
    """(full, indicator) texts of one organisation on the scope page."""
    block = html.split(f'aria-labelledby="org-{organisation.pk}"', 1)[1].split("</section>", 1)[0]
    full = block.split("<dt>Ve completa</dt><dd>", 1)[1].split("</dd>", 1)[0]
    indicator = block.split("<dt>Solo sabe si existe información</dt><dd>", 1)[1].split("</dd>", 1)[0]
    return full, indicator


def test_record_consent_then_the_orientador_sees_social_data_then_revoke_hides_it(
    client_for, social_worker, employment_counsellor, person, social_services_centre, employment_office,
    django_assert_max_num_queries,
):
    make_section_entry(m.ExclusionSituation, person=person, organisation=social_services_centre,
                       recorded_by=social_worker, need_assessment="VALOR-EXCLUSION")
    make_section_entry(m.HealthRecord, person=person, organisation=social_services_centre,
                       recorded_by=social_worker, description="VALOR-SALUD")
    worker, orientador = client_for(social_worker), client_for(employment_counsellor)
    assert "VALOR-EXCLUSION" not in record_html(orientador, person)

    response = worker.post(new_url(person), form_data())
    consent = Consent.objects.get(person=person)
    assert response.status_code == 302
    assert response.url == f"/espacio/personas/{person.pk}/consentimientos/{consent.pk}/alcance/?finalidad=seguimiento"
    assert (consent.grantee_services, consent.all_categories, consent.denied_categories, consent.recorded_by_id) == (
        ["employment"], True, ["salud"], social_worker.pk)

    # At once: what each organisation attending the person can now see (two organisations, bounded queries).
    worker.get(response.url)
    with django_assert_max_num_queries(40):
        scope = worker.get(response.url).content.decode()
    full, indicator = org_access(scope, employment_office)
    assert "Situación de exclusión social (Servicios sociales)" in full
    assert "Salud y discapacidad" not in full + indicator  # denied in the consent
    assert "Situación personal y familiar (Servicios sociales)" in indicator  # the orientador's matrix cap
    full, _indicator = org_access(scope, social_services_centre)
    assert full == "Nada de otros servicios"  # the consent grants employment only

    page = record_html(orientador, person)
    assert "VALOR-EXCLUSION" in page and "VALOR-SALUD" not in page

    form = worker.get(f"/espacio/personas/{person.pk}/consentimientos/{consent.pk}/revocar/")
    assert form.status_code == 200 and 'name="channel"' in form.content.decode()
    revoked = worker.post(f"/espacio/personas/{person.pk}/consentimientos/{consent.pk}/revocar/",
                          {"channel": "in_person", "reason": "Ya no quiere compartir"})
    assert revoked.status_code == 302
    consent.refresh_from_db()
    assert consent.state_at() == ConsentState.REVOKED
    assert consent.revocation.reason == "Ya no quiere compartir"
    full, _indicator = org_access(worker.get(revoked.url).content.decode(), employment_office)
    assert full == "Nada de otros servicios"

    page = record_html(orientador, person)  # the very next request
    assert "VALOR-EXCLUSION" not in page
    assert "Revocado" in page


def test_the_record_page_shows_the_new_consent_at_once(client_for, social_worker, person):
    client = client_for(social_worker)
    client.post(new_url(person), form_data())
    html = record_html(client, person)
    consent = Consent.objects.get()
    assert f"Consentimiento nº {consent.pk}" in html
    assert "excepto: Salud y discapacidad" in html


def test_revoking_twice_is_explained(client_for, social_worker, person, social_services_centre):
    consent = ConsentFactory(person=person, recorded_by=social_worker, recorded_by_org=social_services_centre)
    client = client_for(social_worker)
    url = f"/espacio/personas/{person.pk}/consentimientos/{consent.pk}/revocar/"
    assert client.post(url, {"channel": "phone"}).status_code == 302
    html = client.post(url, {"channel": "phone"}).content.decode()
    assert "No se puede revocar un consentimiento en estado «Revocado»." in html


def test_a_revocation_needs_its_channel(client_for, social_worker, person, social_services_centre):
    consent = ConsentFactory(person=person, recorded_by=social_worker, recorded_by_org=social_services_centre)
    html = client_for(social_worker).post(
        f"/espacio/personas/{person.pk}/consentimientos/{consent.pk}/revocar/", {"channel": ""}).content.decode()
    assert "Indique el canal de la revocación." in html
    assert consent.state_at() == ConsentState.ACTIVE


def test_with_htmx_the_revocation_form_comes_inline(client_for, social_worker, person, social_services_centre):
    consent = ConsentFactory(person=person, recorded_by=social_worker, recorded_by_org=social_services_centre)
    response = client_for(social_worker).get(f"/espacio/personas/{person.pk}/consentimientos/{consent.pk}/revocar/",
                                             HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.startswith("<form") and "<html" not in html


# --- Who signs ------------------------------------------------------------------------------------------------


def minor(years: int):
    today = timezone.localdate()
    return PersonFactory(birth_date=today.replace(year=today.year - years) - dt.timedelta(days=10))


def test_a_child_under_14_cannot_sign_for_themselves(client_for, social_worker, social_services_centre):
    child = minor(12)
    enrol(child, social_services_centre)
    response = client_for(social_worker).post(new_url(child), form_data())
    html = response.content.decode()
    assert response.status_code == 200
    assert "Una persona menor de 14 años no puede consentir por sí misma" in html
    assert not Consent.objects.exists()


def test_under_14_the_legal_representative_signs(client_for, social_worker, social_services_centre):
    child = minor(12)
    enrol(child, social_services_centre)
    client = client_for(social_worker)
    html = client.post(new_url(child), form_data(grantor="representative", representative_name="Rosa Gil")).content
    assert "Indique la relación del representante con la persona." in html.decode()
    response = client.post(new_url(child), form_data(grantor="representative", representative_name="Rosa Gil",
                                                     representative_relation="madre",
                                                     representative_evidence="Libro de familia"))
    assert response.status_code == 302
    consent = Consent.objects.get()
    assert (consent.grantor, consent.representative_name, consent.representative_relation) == (
        "representative", "Rosa Gil", "madre")


def test_from_14_a_minor_signs_personally(client_for, social_worker, social_services_centre):
    teenager = minor(15)
    enrol(teenager, social_services_centre)
    assert client_for(social_worker).post(new_url(teenager), form_data()).status_code == 302
    assert Consent.objects.get().grantor == "person"


# --- Scope validation ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("changes,message", [
    ({"grantee_services": None}, "Indique a qué servicios u organizaciones autoriza."),
    ({"all_categories": None, "denied_categories": None},
     "Indique al menos una categoría, o marque toda la información."),
    ({"all_categories": None, "permitted_categories": ["competencias"]},
     "Una exclusión solo tiene sentido dentro de lo que se comparte"),
    ({"purposes": None}, "Indique al menos una finalidad."),
    ({"purposes": ["evaluacion"]}, "Escoja una opción válida"),
    ({"valid_until": "01/01/2020"}, "El final de la vigencia no puede ser anterior a su inicio."),
    ({"given_on": "40/01/2025"}, "Escriba la fecha como dd/mm/aaaa"),
    ({"given_on": (timezone.localdate() + dt.timedelta(days=3)).strftime("%d/%m/%Y")},
     "La fecha de firma no puede ser posterior a hoy."),
])
def test_a_bad_scope_is_explained_in_spanish(changes, message, client_for, social_worker, person):
    html = client_for(social_worker).post(new_url(person), form_data(**changes)).content.decode()
    assert message in html
    assert not Consent.objects.exists()


def test_a_consent_to_named_organisations(client_for, social_worker, person, ngo):
    response = client_for(social_worker).post(new_url(person), form_data(
        grantee_services=None, grantee_organisations=[str(ngo.pk)], all_categories=None, denied_categories=None,
        permitted_categories=["competencias", "exclusion_social"],
    ))
    assert response.status_code == 302
    consent = Consent.objects.get()
    assert list(consent.grantee_organisations.all()) == [ngo]
    assert sorted(consent.permitted_categories) == ["competencias", "exclusion_social"]


# --- The signed form ---------------------------------------------------------------------------------------------


def test_the_signed_form_is_checked_and_fingerprinted(client_for, social_worker, person):
    client = client_for(social_worker)
    bad = client.post(new_url(person), {**form_data(), "document": SimpleUploadedFile("firmado.pdf", b"GIF89a...")})
    assert "no es un PDF válido" in bad.content.decode()
    assert not Consent.objects.exists()
    good = client.post(new_url(person), {**form_data(), "document": SimpleUploadedFile("firmado.pdf", PDF)})
    assert good.status_code == 302
    consent = Consent.objects.get()
    assert consent.document_sha256 == hashlib.sha256(PDF).hexdigest()
    download = client.get(f"/espacio/personas/{person.pk}/consentimientos/{consent.pk}/documento/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF


# --- Correction ------------------------------------------------------------------------------------------------------


def test_a_correction_supersedes_the_consent(client_for, social_worker, person, social_services_centre):
    old = ConsentFactory(person=person, grantee_services=["employment"], purposes=["seguimiento"],
                         recorded_by=social_worker, recorded_by_org=social_services_centre)
    client = client_for(social_worker)
    url = f"/espacio/personas/{person.pk}/consentimientos/{old.pk}/corregir/"
    form = client.get(url).content.decode()
    assert re.search(r'name="grantee_services" value="employment"[^>]*checked', form)  # starts from the old scope
    assert not re.search(r'name="grantee_services" value="social"[^>]*checked', form)
    response = client.post(url, form_data(denied_categories=["salud", "antecedentes_penales"]))
    assert response.status_code == 302
    new = Consent.objects.exclude(pk=old.pk).get()
    old.refresh_from_db()
    assert new.supersedes_id == old.pk
    assert old.state_at() == ConsentState.SUPERSEDED and new.state_at() == ConsentState.ACTIVE
    again = client.get(url)
    assert again.status_code == 302  # a superseded consent cannot be corrected again


# --- Receipt and access ------------------------------------------------------------------------------------------


def test_the_receipt_keeps_working(client_for, social_worker, coordinator, person, social_services_centre):
    consent = ConsentFactory(person=person, recorded_by=social_worker, recorded_by_org=social_services_centre)
    for user in (social_worker, coordinator):
        response = client_for(user).get(f"/espacio/personas/{person.pk}/consentimientos/{consent.pk}/justificante/")
        assert response.status_code == 200
        assert "Justificante de consentimiento informado" in response.content.decode()


def test_only_caseworkers_of_an_organisation_attending_the_person_record_consents(
    client_for, coordinator, social_worker, ngo_technician, person,
):
    assert client_for(coordinator).get(new_url(person)).status_code == 404
    assert client_for(ngo_technician).get(new_url(person)).status_code == 404
    stranger = PersonFactory()
    assert client_for(social_worker).get(new_url(stranger)).status_code == 404
    assert client_for(social_worker).post(new_url(stranger), form_data()).status_code == 404
    assert not Consent.objects.exists()


def test_the_scope_page_costs_the_same_however_many_organisations_attend(
    client_for, social_worker, person, social_services_centre, django_assert_max_num_queries,
):
    consent = ConsentFactory(person=person, recorded_by=social_worker, recorded_by_org=social_services_centre)
    client = client_for(social_worker)
    url = f"/espacio/personas/{person.pk}/consentimientos/{consent.pk}/alcance/"

    def with_agreement(organisation):
        today = timezone.localdate()
        SharingAgreement.objects.create(
            organisation=organisation, title="Convenio", community_id=organisation.community_id,
            categories=[], purposes=[Purpose.FOLLOW_UP.value], valid_from=today,
            valid_until=today + dt.timedelta(days=30), processing_terms="Art. 28 RGPD",
        )
        return organisation

    for kind in ("third_sector", "employment"):
        enrol(person, with_agreement(OrganisationFactory(kind=kind)))
    client.get(url)
    with django_assert_max_num_queries(40) as few:
        assert client.get(url).status_code == 200
    for kind in ("third_sector", "third_sector", "employment", "social"):
        enrol(person, with_agreement(OrganisationFactory(kind=kind)))
    with django_assert_max_num_queries(40) as many:
        html = client.get(url).content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)
    assert html.count('class="org-access"') == 8
