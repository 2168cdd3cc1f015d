"""Attacks on the sharing rules through the paths the authorization matrix does not walk.

The generated matrix (``test_policy_matrix.py``, ``test_record_endpoint.py``) checks every
role × basis state × category on the record page, the API and the change history. This
file tries the side doors around it, one rule per test:

- search and the "ya consta" answer (what a searcher may learn about a person outside the
  caseload);
- coordination pages and printed documents (referrals, information requests, joint plans,
  case conferences) once the person is no longer attended, or the referral was not accepted;
- the change history and the printed social report (old values, deleted entries, households);
- risk alerts (what their texts and their very delivery say);
- "hidden" against "empty" on the pages and documents the matrix does not compare;
- guessed ids (IDOR) of attachments, consents, diary entries, referrals, plans, requests;
- writes: another person, an emergency access, owner fields smuggled into forms;
- the areas (workspace, portal) and the roles without record access.

A test that found a real leak is marked ``xfail(strict=True)`` with the leak in its reason:
it keeps stating the rule, and starts failing (XPASS) the day the leak is closed.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from urllib.parse import quote_plus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from django.utils.html import escape
from pypdf import PdfReader

from cases import models as m
from cases.models import Attachment, Household, HouseholdMember
from consent.models import Consent, ConsentRevocation, LegalBasis
from consent.purposes import Purpose
from coordination.models import InformationRequest, JointPlan, Referral
from diagnostics.models import AlertDelivery
from diagnostics.services import alerts_evaluate
from ris.accounts.models import Role, ServiceKind
from ris.accounts.viewer import SESSION_KEY
from sharing.caseload import enrolment_close
from sharing.models import BreakGlassAccess, DisclosureLogEntry, Enrolment, SharingAgreement
from tests.coordination.builders import (
    add_case,
    give_consent,
    make_action,
    make_commitment,
    make_conference,
    make_information_request,
    make_plan,
    make_referral,
)
from tests.factories import (
    ConsentFactory,
    MembershipFactory,
    OrganisationFactory,
    PersonFactory,
    UserFactory,
    enrol,
    make_attachment,
    make_section_entry,
    valid_dni,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SOCIAL, EMPLOYMENT, THIRD_SECTOR = (
    ServiceKind.SOCIAL.value,
    ServiceKind.EMPLOYMENT.value,
    ServiceKind.THIRD_SECTOR.value,
)
FOLLOW_UP = Purpose.FOLLOW_UP.value


def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


# --- Reading responses --------------------------------------------------------------------------

_CSRF_VALUE = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')
_PRINT_TIME = re.compile(r"\d{2}/\d{2}/\d{4}(?: \d{2}:\d{2})?")


def blank_csrf(body: bytes) -> bytes:
    """The CSRF token's mask is random on every render: nothing else may differ."""
    return _CSRF_VALUE.sub(b'name="csrfmiddlewaretoken" value="-"', body)


def pdf_text(response) -> str:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def pdf_text_without_print_times(response) -> str:
    """A printed document's text, without the moment it was printed (footer, place and date)."""
    return _PRINT_TIME.sub("<fecha>", pdf_text(response))


def assert_same_404(response, missing) -> None:
    """An object the viewer may not know answers exactly like an id that does not exist."""
    assert missing.status_code == 404, f"the control id answered {missing.status_code}"
    assert response.status_code == 404, f"answered {response.status_code}, not 404"
    assert response.content == missing.content
    assert response.get("Content-Type") == missing.get("Content-Type")


def money_spellings(amount: str) -> tuple[str, ...]:
    """1234.56 as the pages, the PDFs and the change history may spell it."""
    whole, cents = amount.split(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return (amount, f"{whole},{cents}", f"{grouped},{cents}")


# --- Shared world ---------------------------------------------------------------------------------


@pytest.fixture
def second_social_centre(db):
    return OrganisationFactory(name="CEAS Valladolid Sur", code="ceas-valladolid-sur", kind=SOCIAL)


@pytest.fixture
def shared_person(social_services_centre, employment_office):
    """Attended by the social services centre and by the employment office."""
    person = PersonFactory(
        first_name="Filomena",
        last_name_1="Carrascal",
        last_name_2="Ortigosa",
        birth_date=dt.date(1983, 2, 17),
    )
    enrol(person, social_services_centre)
    enrol(person, employment_office)
    return person


def consent_for(person, *services: str, purposes=(FOLLOW_UP,), **extra):
    """A consent in force today to these kinds of service, for every category (unless limited)."""
    return give_consent(person, services=services, purposes=purposes, **extra)


def agreement_for(organisation, categories=("carpeta_social", "atenciones")):
    return SharingAgreement.objects.create(
        organisation=organisation,
        title="Convenio de colaboración",
        community_id="07",
        categories=list(categories),
        purposes=[p for p in Purpose.values if p != Purpose.EVALUATION],
        valid_from=today() - dt.timedelta(days=30),
        valid_until=today() + dt.timedelta(days=300),
        processing_terms="Encargo de tratamiento (art. 28 RGPD)",
    )


def social_entry(model, person, organisation, user, **values):
    return make_section_entry(
        model, person=person, organisation=organisation, recorded_by=user, **values
    )


# =================================================================================================
# 1. Search and the "ya consta" answer
# =================================================================================================

SEARCH = "/espacio/buscar/"

#: The person outside the caseload and a person who does not exist, with the same shape of data.
OUTSIDE = {
    "first": "Eustaquio",
    "last": "Villaverde",
    "last2": "Quintanar",
    "typo": "Vilaverde",
    "dni": valid_dni(7_100_001),
    "date": dt.date(1979, 5, 23),
    "other_date": dt.date(1979, 5, 24),
}
NOBODY = {
    "first": "Anacleto",
    "last": "Robledillo",
    "last2": "Fuenmayor",
    "typo": "Robledilo",
    "dni": valid_dni(7_100_002),
    "date": dt.date(1962, 8, 9),
    "other_date": dt.date(1962, 8, 10),
}

SEARCH_QUERIES = {
    "name": "{first} {last}",
    "full_name": "{first} {last} {last2}",
    "surname_with_a_typo": "{typo}",
    "lowercase_surname_and_birth_date": "{last_lower} {date}",
    "document_alone": "{dni}",
    "document_lowercase_with_dash": "{dni_dashed}",
    "birth_date_alone": "{date}",
    "document_and_another_birth_date": "{dni} {other_date}",
    "name_document_and_birth_date": "{first} {dni} {date}",
}


def _query(template: str, who: dict) -> str:
    return template.format(
        first=who["first"],
        last=who["last"],
        last2=who["last2"],
        typo=who["typo"],
        last_lower=who["last"].lower(),
        dni=who["dni"],
        dni_dashed=f"{who['dni'][:8]}-{who['dni'][8:].lower()}",
        date=who["date"].strftime("%d/%m/%Y"),
        other_date=who["other_date"].strftime("%d/%m/%Y"),
    )


@pytest.mark.parametrize("shape", list(SEARCH_QUERIES), ids=list(SEARCH_QUERIES))
def test_a_search_about_someone_outside_the_caseload_answers_as_about_nobody(
    shape, client_for, social_worker, employment_office
):
    """Outside the caseload, anything but exactly "document + birth date" finds nothing and says
    nothing: the page is byte for byte the page of a search for someone who does not exist (the
    typed query aside), and nothing is logged about the person."""
    person = PersonFactory(
        first_name=OUTSIDE["first"],
        last_name_1=OUTSIDE["last"],
        last_name_2=OUTSIDE["last2"],
        document_number=OUTSIDE["dni"],
        birth_date=OUTSIDE["date"],
    )
    enrol(person, employment_office)
    client = client_for(social_worker)
    bodies = []
    for who in (OUTSIDE, NOBODY):
        query = _query(SEARCH_QUERIES[shape], who)
        response = client.get(SEARCH, {"q": query})
        assert response.status_code == 200
        body = blank_csrf(response.content)
        for echoed in (
            escape(query),
            escape(quote_plus(query)),
        ):  # the box, and the language form's "next"
            body = body.replace(echoed.encode(), b"<consulta>")
        bodies.append(body)
    assert "Ninguna de las personas que atiende su organización coincide".encode() in bodies[0]
    assert bodies[0] == bodies[1]
    assert not DisclosureLogEntry.objects.filter(person=person).exists()


def test_the_ya_consta_answer_says_that_the_person_exists_and_nothing_else(
    client_for, social_worker, employment_office, ngo
):
    """The exact document + birth date of someone outside the caseload answers "ya consta" and a
    button to ask for the link: the same page for any two persons (their document and date
    aside), with no name, address, organisation or id; the link request answers the same too.
    Each answer is one ``lookup`` line (basic sheet, indicator)."""
    first = PersonFactory(
        first_name="Eustaquio",
        last_name_1="Villaverde",
        last_name_2="Quintanar",
        document_number=valid_dni(7_100_011),
        birth_date=dt.date(1979, 5, 23),
        address_line="Calle del Secreto 13",
        phone="600111222",
    )
    second = PersonFactory(
        first_name="Remedios",
        last_name_1="Altamira",
        last_name_2="Zubiri",
        document_number=valid_dni(7_100_012),
        birth_date=dt.date(1991, 11, 2),
        address_line="Avenida Oculta 2",
        phone="699888777",
    )
    enrol(first, employment_office)
    enrol(second, ngo)
    client = client_for(social_worker)

    def normalised(response, person) -> bytes:
        """The typed document and date are echoed (in the box, the hidden fields of the link
        button and the language form's "next"): blank them, and only them."""
        date = person.birth_date.strftime("%d/%m/%Y")
        body = blank_csrf(response.content)
        for typed, mark in ((person.document_number, b"<doc>"), (date, b"<fecha>")):
            body = body.replace(typed.encode(), mark).replace(quote_plus(typed).encode(), mark)
        return body

    answers, links = [], []
    for person in (first, second):
        date = person.birth_date.strftime("%d/%m/%Y")
        # at registration (the search page answers only within the caseload)
        answer = client.post(
            "/espacio/personas/nueva/",
            {
                "first_name": "Nombre", "last_name_1": "Apellido", "last_name_2": "",
                "document_type": "dni", "document_number": person.document_number,
                "no_document_reason": "", "birth_date": date, "sex": "F", "nationality": "ES",
                "address_line": "Calle Nueva 1", "postal_code": "47001", "phone": "", "email": "",
            },
        )
        assert answer.status_code == 200
        assert "Esta persona ya consta en el sistema" in answer.content.decode()
        answers.append(normalised(answer, person))
        link = client.post(
            "/espacio/personas/vincular/",
            {"document_number": person.document_number, "birth_date": date},
        )
        links.append((link.status_code, link.get("Location", ""), normalised(link, person)))
        for response in (answer, link):
            body = response.content.decode() + response.get("Location", "")
            for secret in (
                person.first_name,
                person.last_name_1,
                person.address_line,
                person.phone,
                f"/personas/{person.pk}/",
                "Oficina de Empleo",
                "Fundación",
            ):
                assert secret not in body, f"the answer about {person} shows {secret!r}"
    assert answers[0] == answers[1]
    assert links[0] == links[1]
    lines = DisclosureLogEntry.objects.filter(person__in=[first, second], user=social_worker)
    assert {(line.event, line.category, line.level) for line in lines} == {
        ("lookup", "ficha_basica", "indicator")
    }
    assert sorted(lines.values_list("basis", flat=True)) == sorted(
        ["lookup:registration", "lookup:referral"] * 2
    )


def _sheet_post_data(person) -> dict:
    """The basic-sheet form as the page would post it back, unchanged."""
    from cases.record_forms import PersonForm

    form = PersonForm(instance=person)
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, dt.date):
            value = value.strftime("%d/%m/%Y")
        elif isinstance(value, (list, tuple)):
            value = ",".join(value)
        data[name] = "" if value is None else value
    return data


def test_the_basic_sheet_form_is_no_unlogged_oracle_for_documents_outside_the_caseload(
    client_for, social_worker, social_services_centre, employment_office
):
    """Outside the caseload, whether a document exists is answered only where decision 0008 allows
    it, and every such answer is a ``lookup`` line in the disclosure log. Typing someone else's
    document into the basic sheet of a person one attends must not be a way round it: either the
    form says nothing about it, or the answer is logged like registration's."""
    outside = PersonFactory(document_number=valid_dni(7_200_001))
    enrol(outside, employment_office)
    own = PersonFactory(document_number=valid_dni(7_200_002))
    enrol(own, social_services_centre)
    client = client_for(social_worker)
    url = f"/espacio/personas/{own.pk}/ficha/"
    data = _sheet_post_data(own)
    taken = client.post(url, {**data, "document_number": outside.document_number})
    told = "Ya existe una persona registrada con ese documento" in taken.content.decode()
    logged = DisclosureLogEntry.objects.filter(
        person=outside, event="lookup", user=social_worker
    ).exists()
    free = client.post(url, {**data, "document_number": valid_dni(7_200_003)})
    assert free.status_code == 302  # control: the form was valid but for the document typed
    assert not told or logged, "the form says the document exists, and nothing is logged"


# =================================================================================================
# 2. Coordination pages and documents
# =================================================================================================


def referral_pdf_url(person_id, referral_id) -> str:
    return f"/espacio/personas/{person_id}/derivaciones/{referral_id}/resumen.pdf"


@pytest.mark.parametrize("state", [Referral.State.REJECTED, Referral.State.CANCELLED])
def test_a_referral_that_was_never_accepted_shows_the_receiver_nothing_of_the_person(
    state,
    client_for,
    social_worker,
    employment_counsellor,
    social_services_centre,
    employment_office,
):
    """A receiver that rejected the referral, or whose referral was cancelled, never attended the
    person: the detail and the list show neither name nor birth date (even with the consent still
    in force), and the printed summary is a 404 like a referral that does not exist."""
    person = PersonFactory(
        first_name="Filomena", last_name_1="Carrascal", birth_date=dt.date(1983, 2, 17)
    )
    enrol(person, social_services_centre)
    give_consent(person, services=[EMPLOYMENT], purposes=(Purpose.REFERRAL,))
    referral = make_referral(
        person, social_services_centre, employment_office, social_worker, state=state
    )
    client = client_for(employment_counsellor)
    pages = {
        f"/espacio/derivaciones/{referral.pk}/": f"Derivación {referral.pk}",
        "/espacio/derivaciones/": f'href="/espacio/derivaciones/{referral.pk}/"',
    }
    for url, shown in pages.items():
        response = client.get(url)
        assert response.status_code == 200
        body = response.content.decode()
        assert shown in body  # the receiver does see its referral
        assert "Carrascal" not in body and "17/02/1983" not in body, url
    assert_same_404(
        client.get(referral_pdf_url(person.pk, referral.pk)),
        client.get(referral_pdf_url(person.pk, referral.pk + 100_000)),
    )


def test_a_pending_referral_names_the_person_to_the_receiver_but_prints_nothing(
    client_for, social_worker, employment_counsellor, social_services_centre, employment_office
):
    """Before accepting, the receiver sees the name and birth date (consent "derivación" in force,
    logged) but not the record: the referral summary, built from the record, is a 404."""
    person = PersonFactory(
        first_name="Filomena", last_name_1="Carrascal", birth_date=dt.date(1983, 2, 17)
    )
    enrol(person, social_services_centre)
    give_consent(person, services=[EMPLOYMENT], purposes=(Purpose.REFERRAL,))
    social_entry(
        m.ExclusionSituation,
        person,
        social_services_centre,
        social_worker,
        need_assessment="VALOREXCLUSION",
    )
    referral = make_referral(person, social_services_centre, employment_office, social_worker)
    client = client_for(employment_counsellor)
    assert "Carrascal" in client.get(f"/espacio/derivaciones/{referral.pk}/").content.decode()
    assert_same_404(
        client.get(referral_pdf_url(person.pk, referral.pk)),
        client.get(referral_pdf_url(person.pk, referral.pk + 100_000)),
    )


def test_a_sender_that_stops_attending_the_person_loses_the_person_from_its_referral(
    client_for, social_worker, social_services_centre, employment_office
):
    """Once the sending organisation's enrolment is closed, its referral no longer names the
    person and the summary cannot be printed."""
    person = PersonFactory(
        first_name="Filomena", last_name_1="Carrascal", birth_date=dt.date(1983, 2, 17)
    )
    enrolment = enrol(person, social_services_centre)
    referral = make_referral(person, social_services_centre, employment_office, social_worker)
    client = client_for(social_worker)
    assert "Carrascal" in client.get(f"/espacio/derivaciones/{referral.pk}/").content.decode()
    enrolment_close(enrolment=enrolment)
    for url in (f"/espacio/derivaciones/{referral.pk}/", "/espacio/derivaciones/"):
        body = client.get(url).content.decode()
        assert "Carrascal" not in body and "17/02/1983" not in body, url
    assert_same_404(
        client.get(referral_pdf_url(person.pk, referral.pk)),
        client.get(referral_pdf_url(person.pk, referral.pk + 100_000)),
    )


def test_a_referral_summary_is_printed_only_under_its_own_person(
    client_for, social_worker, social_services_centre, employment_office
):
    """The summary URL names a person and a referral: a referral of another person (both attended)
    is a 404, and nothing of either record is printed."""
    referred = PersonFactory()
    other = PersonFactory()
    for person in (referred, other):
        enrol(person, social_services_centre)
    social_entry(
        m.ExclusionSituation,
        other,
        social_services_centre,
        social_worker,
        need_assessment="VALOROTRAPERSONA",
    )
    referral = make_referral(referred, social_services_centre, employment_office, social_worker)
    client = client_for(social_worker)
    assert client.get(referral_pdf_url(referred.pk, referral.pk)).status_code == 200
    assert_same_404(
        client.get(referral_pdf_url(other.pk, referral.pk)),
        client.get(referral_pdf_url(other.pk, referral.pk + 100_000)),
    )


def test_an_information_request_is_gone_once_the_asker_stops_attending_the_person(
    client_for,
    social_worker,
    employment_counsellor,
    shared_person,
    social_services_centre,
    employment_office,
):
    """Requests are about persons both organisations attend: when the asker's enrolment is
    closed, the request (and its answer) is a 404 like a missing one, and leaves the list."""
    info = make_information_request(
        shared_person,
        social_services_centre,
        employment_office,
        social_worker,
        answer="RESPUESTAEMPLEO",
        answered_by=employment_counsellor,
    )
    client = client_for(social_worker)
    assert client.get(f"/espacio/consultas/{info.pk}/").status_code == 200
    enrolment_close(
        enrolment=Enrolment.objects.get(person=shared_person, organisation=social_services_centre)
    )
    assert_same_404(
        client.get(f"/espacio/consultas/{info.pk}/"),
        client.get(f"/espacio/consultas/{info.pk + 100_000}/"),
    )
    listing = client.get("/espacio/consultas/").content.decode()
    assert "Carrascal" not in listing and f"/consultas/{info.pk}/" not in listing


def test_a_joint_plan_is_gone_for_a_participant_that_stops_attending_the_person(
    client_for,
    social_worker,
    employment_counsellor,
    shared_person,
    social_services_centre,
    employment_office,
):
    """A participant organisation that no longer attends the person gets 404 on every page and
    document of the plan, like a plan that does not exist; the plan leaves its list."""
    plan = make_plan(
        shared_person,
        social_services_centre,
        social_worker,
        participants=[employment_office],
        title="ITINERARIOCARRASCAL",
    )
    make_action(
        plan,
        social_services_centre,
        social_worker,
        category="exclusion_social",
        description="ACCIONSOCIAL",
    )
    client = client_for(employment_counsellor)
    assert client.get(f"/espacio/itinerarios/{plan.pk}/").status_code == 200
    enrolment_close(
        enrolment=Enrolment.objects.get(person=shared_person, organisation=employment_office)
    )
    missing = plan.pk + 100_000
    for route in (
        "/espacio/itinerarios/{}/",
        "/espacio/itinerarios/{}/editar/",
        "/espacio/itinerarios/{}/acciones/nueva/",
        "/espacio/itinerarios/{}/compromisos/nuevo/",
        f"/espacio/personas/{shared_person.pk}/itinerarios/{{}}/itinerario.pdf",
    ):
        assert_same_404(client.get(route.format(plan.pk)), client.get(route.format(missing)))
    listing = client.get("/espacio/itinerarios/").content.decode()
    assert "ITINERARIOCARRASCAL" not in listing and "Carrascal" not in listing


def test_the_printed_joint_plan_gives_an_indicator_area_without_its_content(
    client_for,
    social_worker,
    employment_counsellor,
    shared_person,
    social_services_centre,
    employment_office,
):
    """Health and family situation are an indicator for employment counsellors even with consent:
    the printed plan says that there are actions and commitments in those areas, never what."""
    consent_for(shared_person, EMPLOYMENT, purposes=(Purpose.ITINERARY,))
    plan = make_plan(
        shared_person, social_services_centre, social_worker, participants=[employment_office]
    )
    make_action(
        plan,
        social_services_centre,
        social_worker,
        category="salud",
        description="ACCIONSALUDMENTAL",
    )
    make_action(
        plan,
        social_services_centre,
        social_worker,
        category="exclusion_social",
        description="ACCIONEXCLUSION",
    )
    make_commitment(
        plan,
        social_services_centre,
        social_worker,
        category="situacion_familiar",
        description="COMPROMISOFAMILIAR",
    )
    text = pdf_text(
        client_for(employment_counsellor).get(
            f"/espacio/personas/{shared_person.pk}/itinerarios/{plan.pk}/itinerario.pdf"
        )
    )
    assert "ACCIONEXCLUSION" in text  # full with the consent: the document does show what it may
    assert "ACCIONSALUDMENTAL" not in text and "COMPROMISOFAMILIAR" not in text
    assert "Hay acciones en el área «Salud y discapacidad»" in text
    assert "Hay compromisos en el área «Situación personal y familiar»" in text


# =================================================================================================
# 3. The change history and the printed social report
# =================================================================================================


def history_url(person) -> str:
    return f"/espacio/personas/{person.pk}/historial/"


def test_a_restricted_entry_keeps_its_history_to_its_service_even_once_deleted(
    client_for,
    social_worker,
    employment_counsellor,
    administrator,
    shared_person,
    social_services_centre,
):
    """Origin block: entries restricted by the recording service keep their history to that
    service; deleting the entry must not release its old values to the others."""
    consent_for(shared_person, EMPLOYMENT)
    entry = social_entry(
        m.ExclusionSituation,
        shared_person,
        social_services_centre,
        social_worker,
        need_assessment="VALORRESTRINGIDO",
        restricted=True,
    )
    counsellor = client_for(employment_counsellor)
    assert "VALORRESTRINGIDO" not in counsellor.get(history_url(shared_person)).content.decode()
    deleted = client_for(administrator).post(
        f"/admin/cases/exclusionsituation/{entry.pk}/delete/", {"post": "yes"}
    )
    assert deleted.status_code == 302
    assert not m.ExclusionSituation.objects.filter(pk=entry.pk).exists()
    body = counsellor.get(history_url(shared_person)).content.decode()
    assert "VALORRESTRINGIDO" not in body


def test_the_history_never_shows_household_economy_to_a_viewer_who_sees_it_as_an_indicator(
    client_for, employment_counsellor, shared_person
):
    """Employment counsellors see the household composition in full (with consent) but its
    economy only as an indicator: no income, old or new, reaches them through the history."""
    consent_for(shared_person, EMPLOYMENT)
    household = Household.objects.create(
        address_line="Calle Conviviente 4",
        monthly_income=Decimal("1111.11"),
        monthly_expenses=Decimal("444.44"),
    )
    HouseholdMember.objects.create(
        household=household,
        person=shared_person,
        relationship="holder",
        start_date=today() - dt.timedelta(days=100),
        months_worked_last_year=3,
    )
    household.monthly_income = Decimal("2222.22")
    household.save()
    body = client_for(employment_counsellor).get(history_url(shared_person)).content.decode()
    assert "Calle Conviviente 4" in body  # composition: full, so the household's events are read
    for amount in ("1111.11", "2222.22", "444.44"):
        for spelling in money_spellings(amount):
            assert spelling not in body, f"the history shows {spelling}"


def test_the_history_shows_nothing_of_a_household_after_the_person_left_it(
    client_for, social_worker, social_services_centre
):
    """A household's later life (new members, new income) is not part of the record of someone who
    left it: neither the record page nor its history may show it."""
    person = PersonFactory()
    enrol(person, social_services_centre)
    household = Household.objects.create(
        address_line="Calle Antigua 8", monthly_income=Decimal("900.00")
    )
    HouseholdMember.objects.create(
        household=household,
        person=person,
        relationship="holder",
        start_date=today() - dt.timedelta(days=700),
        end_date=today() - dt.timedelta(days=200),
    )
    newcomer = PersonFactory(first_name="Segismundo", last_name_1="Barrachina")
    newcomer_since = today() - dt.timedelta(days=100)
    HouseholdMember.objects.create(
        household=household, person=newcomer, relationship="partner", start_date=newcomer_since
    )
    household.monthly_income = Decimal("3333.33")
    household.save()
    client = client_for(social_worker)
    record = client.get(f"/espacio/personas/{person.pk}/").content.decode()
    assert "Barrachina" not in record and "3.333,33" not in record
    body = client.get(history_url(person)).content.decode()
    assert (
        "Calle Antigua 8" in body
    )  # the household while the person lived there: part of the record
    assert "Barrachina" not in body
    for spelling in money_spellings("3333.33"):
        assert spelling not in body, "the income recorded after the person left is shown"
    assert ">partner<" not in body and newcomer_since.isoformat() not in body, (
        "the membership of someone who joined after the person left is shown"
    )


# =================================================================================================
# 4. Hidden looks like empty, on the pages and documents the matrix does not compare
# =================================================================================================


def _hidden_world(
    social_services_centre,
    employment_office,
    ngo,
    social_worker,
    employment_counsellor,
    shared_person,
):
    """The orientador attends the person with no consent: every social category is hidden. He
    sends a referral to an NGO and presents the case to a conference of his office."""
    referral = make_referral(
        shared_person,
        employment_office,
        ngo,
        employment_counsellor,
        categories=("exclusion_social", "salud", "situacion_familiar", "atenciones"),
    )
    conference = make_conference(employment_office, employment_counsellor)
    case = add_case(conference, shared_person, employment_office, employment_counsellor)
    social_entry(
        m.JobSeekerRecord,
        shared_person,
        employment_office,
        employment_counsellor,
        status="unemployed",
        occupation_sought=None,
    )
    return referral, conference, case


def _add_social_data(person, organisation, user):
    """Data in every social category the orientador may not see, and a change to one of them."""
    exclusion = social_entry(
        m.ExclusionSituation, person, organisation, user, need_assessment="OCULTOEXCL"
    )
    exclusion.need_assessment = "OCULTOEXCL2"
    exclusion.save()
    social_entry(m.HealthRecord, person, organisation, user, description="OCULTOSALUD")
    social_entry(m.FamilySituation, person, organisation, user, description="OCULTOFAMILIA")
    social_entry(m.CriminalRecord, person, organisation, user, description="OCULTOPENAL")
    social_entry(
        m.DiaryEntry,
        person,
        organisation,
        user,
        kind="interview",
        happened_at=timezone.now() - dt.timedelta(days=2),
        notes="OCULTODIARIO",
    )
    make_attachment(
        person=person, organisation=organisation, recorded_by=user, category="salud", title="OCULTOINFORME"
    )
    household = Household.objects.create(
        address_line="OCULTOHOGAR", monthly_income=Decimal("1234.56")
    )
    HouseholdMember.objects.create(
        household=household,
        person=person,
        relationship="holder",
        start_date=today() - dt.timedelta(days=30),
    )


HIDDEN_CHANNELS = [
    "historial",
    "informe_social",
    "resumen_derivacion",
    "caso_comision",
    "api_comision",
]


@pytest.mark.parametrize("channel", HIDDEN_CHANNELS)
def test_hidden_categories_with_data_look_exactly_like_empty_ones(
    channel,
    client_for,
    social_worker,
    employment_counsellor,
    shared_person,
    social_services_centre,
    employment_office,
    ngo,
):
    """ "A hidden value and a missing value must look the same": adding data (and a change) in every
    category the orientador may not see leaves the history page, the social report, the referral
    summary and the case-conference summary exactly as they were."""
    referral, conference, case = _hidden_world(
        social_services_centre,
        employment_office,
        ngo,
        social_worker,
        employment_counsellor,
        shared_person,
    )
    client = client_for(employment_counsellor)
    person = shared_person

    def fetch() -> bytes:
        if channel == "historial":
            response = client.get(history_url(person))
            assert response.status_code == 200
            return blank_csrf(response.content)
        if channel == "informe_social":
            response = client.get(f"/espacio/personas/{person.pk}/informe-social.pdf")
            return pdf_text_without_print_times(response).encode()
        if channel == "resumen_derivacion":
            return pdf_text_without_print_times(
                client.get(referral_pdf_url(person.pk, referral.pk))
            ).encode()
        if channel == "caso_comision":
            response = client.get(f"/espacio/comisiones/{conference.pk}/casos/{case.pk}/")
            assert response.status_code == 200
            return blank_csrf(response.content)
        response = client.get(
            f"/api/v1/persons/{person.pk}/record/", {"purpose": Purpose.CASE_CONFERENCE}
        )
        assert response.status_code == 200
        return response.content

    before = fetch()
    assert before, "nothing was fetched"
    _add_social_data(person, social_services_centre, social_worker)
    after = fetch()
    for marker in (b"OCULTO", b"1234.56", b"1.234,56"):
        assert marker not in after
    assert after == before


def test_the_history_of_own_data_is_shown_so_the_comparison_above_can_fail(
    client_for, employment_counsellor, shared_person, employment_office
):
    """Control: the orientador's own entries do appear in his history."""
    entry = social_entry(
        m.JobSeekerRecord,
        shared_person,
        employment_office,
        employment_counsellor,
        status="unemployed",
        occupation_sought=None,
    )
    entry.status = "employed"
    entry.save()
    body = client_for(employment_counsellor).get(history_url(shared_person)).content.decode()
    assert "Demanda de empleo e historial laboral" in body


def test_the_consent_scope_page_does_not_reveal_a_minimum_income_the_viewer_may_not_see(
    client_for, ngo_technician, shared_person, ngo, social_services_centre, social_worker
):
    """The scope page is policy only: for a technician who may not see the minimum income, the
    page is byte-identical whether that income was granted or only applied for."""
    enrol(shared_person, ngo)
    consent = consent_for(shared_person, EMPLOYMENT, categories=["competencias"])
    LegalBasis.objects.create(
        name="Coordinación de la renta garantizada",
        reference="Ley autonómica de servicios sociales",
        community_id="07",
        from_service=SOCIAL,
        to_service=EMPLOYMENT,
        categories=["exclusion_social"],
        purposes=[FOLLOW_UP],
        mode="by_law",
        condition="minimum_income",
        is_active=True,
    )
    income = social_entry(
        m.MinimumIncome,
        shared_person,
        social_services_centre,
        social_worker,
        scheme="regional",
        status="applied",
        monthly_amount=Decimal("480.00"),
        start_date=today() - dt.timedelta(days=60),
        end_date=None,
    )
    client = client_for(ngo_technician)
    api = client.get(f"/api/v1/persons/{shared_person.pk}/record/", {"purpose": FOLLOW_UP}).json()
    assert "rentas_minimas" not in {
        c["code"] for c in api["categories"]
    }  # hidden for the technician
    scope = f"/portal/personas/{shared_person.pk}/consentimientos/{consent.pk}/alcance/"
    url = f"{scope}?finalidad={FOLLOW_UP}"
    applied = client.get(url)
    assert applied.status_code == 200
    m.MinimumIncome.objects.filter(pk=income.pk).update(status="granted")
    granted = client.get(url)
    assert blank_csrf(granted.content) == blank_csrf(applied.content)


# =================================================================================================
# 5. Risk alerts
# =================================================================================================


def test_the_no_contact_alert_does_not_date_a_diary_entry_restricted_by_another_service(
    client_for,
    social_worker,
    employment_counsellor,
    shared_person,
    social_services_centre,
    employment_office,
):
    """An entry restricted by its service reaches the others as an indicator at most, in the
    record and in alert texts alike: its date is the social service's to see."""
    Enrolment.objects.filter(person=shared_person).update(
        start_date=today() - dt.timedelta(days=400)
    )
    consent_for(shared_person, SOCIAL, EMPLOYMENT, THIRD_SECTOR, purposes=(Purpose.PREVENTION,))
    when = timezone.now() - dt.timedelta(days=123)
    social_entry(
        m.DiaryEntry,
        shared_person,
        social_services_centre,
        social_worker,
        kind="home_visit",
        happened_at=when,
        notes="Visita restringida",
        restricted=True,
    )
    counsellor = client_for(employment_counsellor)
    record = counsellor.get(
        f"/api/v1/persons/{shared_person.pk}/record/", {"purpose": Purpose.PREVENTION}
    ).json()
    diary = {c["owner_service"]: c for c in record["categories"] if c["code"] == "atenciones"}
    assert diary[SOCIAL]["level"] == "indicator"  # the record hides the restricted entry's date
    alerts_evaluate(codes=["sin_contacto"])
    delivery = AlertDelivery.objects.get(
        alert__person=shared_person, organisation=employment_office
    )
    date_text = timezone.localtime(when).strftime("%d/%m/%Y")
    inbox = counsellor.get("/espacio/alertas/").content.decode()
    assert "Sin contacto" in inbox
    assert date_text not in delivery.text
    assert date_text not in inbox


def test_an_unanswered_referral_alert_reaches_only_the_organisations_of_the_referral(
    social_worker,
    employment_counsellor,
    shared_person,
    social_services_centre,
    employment_office,
    ngo,
):
    """A referral is visible to its sender and its receiver only; an alert about it must not tell
    another organisation that attends the person that it exists."""
    make_referral(
        shared_person,
        social_services_centre,
        ngo,
        social_worker,
        sent_at=timezone.now() - dt.timedelta(days=40),
    )
    alerts_evaluate(codes=["derivacion_sin_respuesta"])
    reached = set(
        AlertDelivery.objects.filter(alert__person=shared_person).values_list(
            "organisation_id", flat=True
        )
    )
    assert social_services_centre.pk in reached  # the sender is told, so the rule did fire
    assert employment_office.pk not in reached


def test_the_poverty_alert_carries_no_household_income_to_the_orientador_or_the_ngo(
    client_for,
    social_worker,
    employment_counsellor,
    ngo_technician,
    shared_person,
    ngo,
    social_services_centre,
):
    """Household income is an indicator for employment counsellors and outside the NGO's agreement
    here: their alert says "revisar con servicios sociales", never the amounts, in the stored text
    and in both inboxes."""
    from ris.reference.models import PovertyThreshold

    year = today().year
    PovertyThreshold.objects.update_or_create(
        survey_year=year,
        defaults={
            "income_year": year - 1,
            "one_person_eur_year": Decimal("12000.00"),
            "two_adults_two_children_eur_year": Decimal("25200.00"),
            "source": "test",
        },
    )
    enrol(shared_person, ngo)
    agreement_for(ngo, categories=("carpeta_social", "unidad_convivencia"))
    consent_for(shared_person, SOCIAL, EMPLOYMENT, THIRD_SECTOR, purposes=(Purpose.PREVENTION,))
    household = Household.objects.create(
        address_line="Calle Pobreza 1", monthly_income=Decimal("321.09")
    )
    HouseholdMember.objects.create(
        household=household,
        person=shared_person,
        relationship="holder",
        start_date=today() - dt.timedelta(days=300),
    )
    child = PersonFactory(birth_date=today() - dt.timedelta(days=365 * 6))
    HouseholdMember.objects.create(
        household=household,
        person=child,
        relationship="child",
        start_date=today() - dt.timedelta(days=300),
    )
    alerts_evaluate(codes=["hogar_pobreza_con_menores"])
    deliveries = {
        d.organisation_id: d for d in AlertDelivery.objects.filter(alert__person=shared_person)
    }
    own = deliveries[social_services_centre.pk].text
    assert "2.963,91" in own  # 321.09 × 12 / 1.3: the social services see the income in full
    inboxes = {
        "orientador": client_for(employment_counsellor).get("/espacio/alertas/").content.decode(),
        "entidad": client_for(ngo_technician).get("/portal/alertas/").content.decode(),
    }
    texts = [
        d.text + d.plain_text for org, d in deliveries.items() if org != social_services_centre.pk
    ]
    assert len(texts) == 2
    for where, body in [*inboxes.items(), *(("texto", t) for t in texts)]:
        assert "Riesgo de pobreza infantil" in body, where
        for amount in ("321.09", "3853.08", "2963.91"):
            for spelling in money_spellings(amount):
                assert spelling not in body, f"{where} shows {spelling}"


# =================================================================================================
# 6. Guessed ids (IDOR)
# =================================================================================================


@pytest.fixture
def foreign(second_social_centre, employment_office, ngo, employment_counsellor):
    """A person the social worker's centre does not attend, with one object of each kind. The
    diary entry is of another social services centre: same service, so only the caseload check
    stands between the social worker and it."""
    person = PersonFactory(first_name="Clodoveo", last_name_1="Peñalver")
    enrol(person, employment_office)
    enrol(person, second_social_centre)
    colleague = UserFactory()
    MembershipFactory(user=colleague, organisation=second_social_centre, role=Role.SOCIAL_WORKER)
    objects = {
        "person": person,
        "attachment": make_attachment(
            person=person, organisation=employment_office, recorded_by=employment_counsellor,
            category="demanda_empleo", kind="otro", title="Vida laboral", name="vida-laboral.pdf",
        ),
        "consent": consent_for(
            person,
            SOCIAL,
            document=SimpleUploadedFile("firmado.pdf", PDF),
            document_content_type="application/pdf",
        ),
        "diary": social_entry(
            m.DiaryEntry,
            person,
            second_social_centre,
            colleague,
            kind="interview",
            happened_at=timezone.now() - dt.timedelta(days=1),
            notes="NOTAAJENA",
        ),
        "referral": make_referral(person, employment_office, ngo, employment_counsellor),
        "plan": make_plan(
            person, employment_office, employment_counsellor, participants=[second_social_centre]
        ),
        "request": make_information_request(
            person, employment_office, second_social_centre, employment_counsellor
        ),
    }
    return objects


@pytest.fixture
def own(social_services_centre, employment_office, social_worker, employment_counsellor):
    """A person the social worker's centre attends (with the employment office), with one object of
    each kind: the same routes answer 200 for these, so a 404 above is the rule, not a bad URL."""
    person = PersonFactory()
    enrol(person, social_services_centre)
    enrol(person, employment_office)
    return {
        "person": person,
        "attachment": make_attachment(
            person=person, organisation=social_services_centre, recorded_by=social_worker,
            category="exclusion_social", kind="padron", title="Padrón", name="padron.pdf",
        ),
        "consent": consent_for(
            person,
            EMPLOYMENT,
            document=SimpleUploadedFile("firmado.pdf", PDF),
            document_content_type="application/pdf",
        ),
        "diary": social_entry(
            m.DiaryEntry,
            person,
            social_services_centre,
            social_worker,
            kind="interview",
            happened_at=timezone.now() - dt.timedelta(days=1),
            notes="NOTAPROPIA",
        ),
        "referral": make_referral(person, social_services_centre, employment_office, social_worker),
        "plan": make_plan(
            person, social_services_centre, social_worker, participants=[employment_office]
        ),
        "request": make_information_request(
            person, social_services_centre, employment_office, social_worker
        ),
    }


PERSON_ROUTES = {
    "attachment_download": ("attachment", "/espacio/personas/{p}/documentos/{o}/"),
    "consent_receipt": ("consent", "/espacio/personas/{p}/consentimientos/{o}/justificante/"),
    "consent_receipt_pdf": (
        "consent",
        "/espacio/personas/{p}/consentimientos/{o}/justificante.pdf",
    ),
    "consent_scope": ("consent", "/espacio/personas/{p}/consentimientos/{o}/alcance/"),
    "consent_document": ("consent", "/espacio/personas/{p}/consentimientos/{o}/documento/"),
    "consent_revoke": ("consent", "/espacio/personas/{p}/consentimientos/{o}/revocar/"),
    "consent_correct": ("consent", "/espacio/personas/{p}/consentimientos/{o}/corregir/"),
    "entry_update": ("diary", "/espacio/personas/{p}/secciones/diaryentry/{o}/"),
    "referral_summary_pdf": ("referral", "/espacio/personas/{p}/derivaciones/{o}/resumen.pdf"),
    "joint_plan_pdf": ("plan", "/espacio/personas/{p}/itinerarios/{o}/itinerario.pdf"),
}
OBJECT_ROUTES = {
    "referral_detail": ("referral", "/espacio/derivaciones/{o}/"),
    "plan_detail": ("plan", "/espacio/itinerarios/{o}/"),
    "plan_edit": ("plan", "/espacio/itinerarios/{o}/editar/"),
    "action_create": ("plan", "/espacio/itinerarios/{o}/acciones/nueva/"),
    "commitment_create": ("plan", "/espacio/itinerarios/{o}/compromisos/nuevo/"),
    "request_detail": ("request", "/espacio/consultas/{o}/"),
}


@pytest.mark.parametrize("route", list(PERSON_ROUTES), ids=list(PERSON_ROUTES))
def test_a_guessed_id_under_a_person_outside_the_caseload_is_a_plain_404(
    route, foreign, own, client_for, social_worker
):
    """Whether the URL names the foreign person or one the viewer attends, an object of a person
    outside the caseload answers exactly like an id that does not exist."""
    kind, template = PERSON_ROUTES[route]
    obj, mine = foreign[kind], own[kind]
    client = client_for(social_worker)
    control = template.format(p=own["person"].pk, o=mine.pk)
    assert resolve(control).url_name == route
    assert client.get(control).status_code == 200, "the route does serve the viewer's own object"
    missing = client.get(template.format(p=own["person"].pk, o=obj.pk + 100_000))
    for person_id in (foreign["person"].pk, own["person"].pk):
        assert_same_404(client.get(template.format(p=person_id, o=obj.pk)), missing)


@pytest.mark.parametrize("route", list(OBJECT_ROUTES), ids=list(OBJECT_ROUTES))
def test_a_guessed_coordination_id_of_a_person_outside_the_caseload_is_a_plain_404(
    route, foreign, own, client_for, social_worker
):
    """Referrals, plans and requests of other organisations' persons answer like missing ids."""
    kind, template = OBJECT_ROUTES[route]
    obj = foreign[kind]
    client = client_for(social_worker)
    control = template.format(o=own[kind].pk)
    assert resolve(control).url_name == route
    assert client.get(control).status_code == 200, "the route does serve the viewer's own object"
    assert_same_404(
        client.get(template.format(o=obj.pk)), client.get(template.format(o=obj.pk + 100_000))
    )


def test_guessed_ids_change_nothing_when_posted(foreign, own, client_for, social_worker):
    """Posting to a foreign consent, diary entry or information request: 404 and nothing changes."""
    client = client_for(social_worker)
    diary, consent, info = foreign["diary"], foreign["consent"], foreign["request"]
    for person_id in (foreign["person"].pk, own["person"].pk):
        revoke = client.post(
            f"/espacio/personas/{person_id}/consentimientos/{consent.pk}/revocar/",
            {"channel": "in_person", "reason": "Revocación ajena"},
        )
        edit = client.post(
            f"/espacio/personas/{person_id}/secciones/diaryentry/{diary.pk}/",
            {
                "kind": "phone_call",
                "happened_at": "01/01/2025 10:00",
                "notes": "SOBRESCRITA",
                "version": str(diary.version),
            },
        )
        assert (revoke.status_code, edit.status_code) == (404, 404)
    answer = client.post(f"/espacio/consultas/{info.pk}/responder/", {"answer": "RESPUESTAINTRUSA"})
    assert answer.status_code == 404
    assert not ConsentRevocation.objects.filter(consent=consent).exists()
    diary.refresh_from_db()
    assert (diary.notes, diary.version) == ("NOTAAJENA", 1)
    assert InformationRequest.objects.get(pk=info.pk).answer == ""


# =================================================================================================
# 7. Writes
# =================================================================================================


def test_a_new_entry_ignores_owner_fields_smuggled_into_the_form(
    client_for, social_worker, employment_counsellor, social_services_centre, employment_office
):
    """Who recorded an entry, for whom and at which version is set by the service, never by the
    form: extra fields naming another person, service, organisation or version are ignored."""
    own, other = PersonFactory(), PersonFactory()
    for person in (own, other):
        enrol(person, social_services_centre)
    response = client_for(social_worker).post(
        f"/espacio/personas/{own.pk}/secciones/exclusionsituation/nueva/",
        {
            "assessed_on": "01/02/2024",
            "severity": "risk",
            "need_assessment": "INYECTADA",
            "person": other.pk,
            "person_id": other.pk,
            "recorded_by_service": EMPLOYMENT,
            "recorded_by_org": employment_office.pk,
            "recorded_by_org_id": employment_office.pk,
            "recorded_by": employment_counsellor.pk,
            "version": "9",
            "created_at": "01/01/2000 10:00",
        },
    )
    assert response.status_code == 302
    entry = m.ExclusionSituation.objects.get(need_assessment="INYECTADA")
    assert (
        entry.person_id,
        entry.recorded_by_service,
        entry.recorded_by_org_id,
        entry.recorded_by_id,
        entry.version,
    ) == (own.pk, SOCIAL, social_services_centre.pk, social_worker.pk, 1)
    assert entry.created_at.year != 2000


def test_an_edit_ignores_owner_fields_smuggled_into_the_form(
    client_for, social_worker, employment_counsellor, social_services_centre, employment_office
):
    own, other = PersonFactory(), PersonFactory()
    for person in (own, other):
        enrol(person, social_services_centre)
    entry = social_entry(
        m.ExclusionSituation, own, social_services_centre, social_worker, need_assessment="ORIGINAL"
    )
    response = client_for(social_worker).post(
        f"/espacio/personas/{own.pk}/secciones/exclusionsituation/{entry.pk}/",
        {
            "assessed_on": "01/02/2024",
            "severity": "severe",
            "need_assessment": "EDITADA",
            "version": "1",
            "person": other.pk,
            "recorded_by_service": EMPLOYMENT,
            "recorded_by_org": employment_office.pk,
            "recorded_by": employment_counsellor.pk,
        },
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (
        entry.need_assessment,
        entry.person_id,
        entry.recorded_by_service,
        entry.recorded_by_org_id,
        entry.recorded_by_id,
        entry.version,
    ) == ("EDITADA", own.pk, SOCIAL, social_services_centre.pk, social_worker.pk, 2)


def test_an_ngo_intervention_is_always_the_ngos_own(
    client_for, ngo_technician, ngo, social_services_centre, social_worker
):
    """The portal's forms write the technician's own service and organisation for the person in the
    URL, whatever else is posted."""
    agreement_for(ngo)
    own, other = PersonFactory(), PersonFactory()
    enrol(own, ngo)
    enrol(other, ngo)
    response = client_for(ngo_technician).post(
        f"/portal/personas/{own.pk}/intervenciones/nueva/",
        {
            "date": today().strftime("%d/%m/%Y"),
            "kind": "guidance",
            "description": "INTERVENCIONX",
            "person": other.pk,
            "recorded_by_service": SOCIAL,
            "recorded_by_org": social_services_centre.pk,
            "recorded_by": social_worker.pk,
        },
    )
    assert response.status_code == 302
    entry = m.SocialFolderIntervention.objects.get(description="INTERVENCIONX")
    assert (
        entry.person_id,
        entry.recorded_by_service,
        entry.recorded_by_org_id,
        entry.recorded_by_id,
    ) == (own.pk, THIRD_SECTOR, ngo.pk, ngo_technician.pk)


@pytest.fixture
def emergency(social_worker, social_services_centre, employment_office, employment_counsellor):
    """A person the social worker's centre does not attend, opened by her in an emergency."""
    person = PersonFactory(first_name="Urbano", last_name_1="Emergencias")
    enrol(person, employment_office)
    now = timezone.now()
    BreakGlassAccess.objects.create(
        user=social_worker,
        organisation=social_services_centre,
        person=person,
        reason="Persona sin hogar en riesgo esta noche",
        started_at=now - dt.timedelta(minutes=5),
        expires_at=now + dt.timedelta(hours=2),
    )
    consent = ConsentFactory(
        person=person,
        grantee_services=[SOCIAL],
        purposes=[FOLLOW_UP],
        recorded_by=employment_counsellor,
        recorded_by_org=employment_office,
    )
    return person, consent


def test_an_emergency_access_reads_but_writes_nothing(
    client_for, social_worker, emergency, employment_office
):
    """Break-the-glass opens the record for reading: every write page is a 404 and nothing is
    written (sections, documents, basic sheet, consents, referrals, requests, plans)."""
    person, _consent = emergency
    client = client_for(social_worker)
    assert client.get(f"/espacio/personas/{person.pk}/").status_code == 200  # the access does work
    base = f"/espacio/personas/{person.pk}"
    posts = {
        f"{base}/secciones/exclusionsituation/nueva/": {
            "assessed_on": "01/02/2024",
            "severity": "risk",
            "need_assessment": "URGENTE",
        },
        f"{base}/documentos/nuevo/": {
            "category": "exclusion_social",
            "kind": "padron",
            "title": "URGENTE",
            "file": SimpleUploadedFile("padron.pdf", PDF, content_type="application/pdf"),
        },
        f"{base}/ficha/": {"first_name": "Cambiado", "last_name_1": "Emergencias", "version": "1"},
        f"{base}/consentimientos/nuevo/": {"grantor": "person"},
        f"{base}/derivar/": {
            "to_organisation": employment_office.pk,
            "reason": "URGENTE",
            "categories": ["exclusion_social"],
            "purpose": Purpose.REFERRAL,
        },
        f"{base}/consultar/": {
            "to_organisation": employment_office.pk,
            "question": "URGENTE",
            "categories": ["exclusion_social"],
            "purpose": FOLLOW_UP,
        },
        f"{base}/itinerarios/nuevo/": {
            "title": "URGENTE",
            "start_date": "01/02/2025",
            "review_date": "01/05/2025",
            "state": "draft",
        },
    }
    answered = {url: client.post(url, data).status_code for url, data in posts.items()}
    assert answered == {url: 404 for url in posts}
    assert not m.ExclusionSituation.objects.filter(person=person).exists()
    assert not Attachment.objects.filter(person=person).exists()
    assert not Referral.objects.filter(person=person).exists()
    assert not InformationRequest.objects.filter(person=person).exists()
    assert not JointPlan.objects.filter(person=person).exists()
    assert Consent.objects.filter(person=person).count() == 1
    person.refresh_from_db()
    assert person.first_name == "Urbano"


@pytest.mark.parametrize("route", ["justificante.pdf", "alcance/", "revocar/", "corregir/"])
def test_an_emergency_access_does_not_open_the_persons_consents(
    route, client_for, social_worker, emergency
):
    """The record read in an emergency lists no consents (they are for the organisations that
    attend the person): their receipt, scope and changes are 404 like a missing consent."""
    person, consent = emergency
    client = client_for(social_worker)
    assert "Consentimiento nº" not in client.get(f"/espacio/personas/{person.pk}/").content.decode()
    base = f"/espacio/personas/{person.pk}/consentimientos"
    assert resolve(f"{base}/{consent.pk}/{route}").url_name.startswith("consent_")
    assert_same_404(
        client.get(f"{base}/{consent.pk}/{route}"),
        client.get(f"{base}/{consent.pk + 100_000}/{route}"),
    )


def test_an_emergency_access_does_not_open_the_consent_receipt_page(
    client_for, social_worker, emergency
):
    person, consent = emergency
    client = client_for(social_worker)
    base = f"/espacio/personas/{person.pk}/consentimientos"
    assert_same_404(
        client.get(f"{base}/{consent.pk}/justificante/"),
        client.get(f"{base}/{consent.pk + 100_000}/justificante/"),
    )


def test_a_coordinator_reads_the_record_but_writes_nothing(
    client_for, coordinator, shared_person, social_services_centre, social_worker
):
    """Coordinators read (by their row of the matrix) and never write the record."""
    consent = consent_for(shared_person, SOCIAL)
    client = client_for(coordinator)
    assert client.get(f"/espacio/personas/{shared_person.pk}/").status_code == 200
    base = f"/espacio/personas/{shared_person.pk}"
    posts = {
        f"{base}/secciones/exclusionsituation/nueva/": {
            "assessed_on": "01/02/2024",
            "severity": "risk",
            "need_assessment": "COORDINA",
        },
        f"{base}/documentos/nuevo/": {
            "category": "exclusion_social",
            "kind": "padron",
            "title": "COORDINA",
            "file": SimpleUploadedFile("padron.pdf", PDF, content_type="application/pdf"),
        },
        f"{base}/ficha/": {"first_name": "Cambiado", "version": "1"},
        f"{base}/consentimientos/nuevo/": {"grantor": "person"},
        f"{base}/consentimientos/{consent.pk}/revocar/": {"channel": "in_person", "reason": "x"},
    }
    assert {url: client.post(url, data).status_code for url, data in posts.items()} == {
        url: 404 for url in posts
    }
    assert not m.ExclusionSituation.objects.filter(person=shared_person).exists()
    assert not Attachment.objects.filter(person=shared_person).exists()
    assert not ConsentRevocation.objects.filter(consent=consent).exists()


# =================================================================================================
# 8. Areas and roles
# =================================================================================================


def _person_routes() -> list[str]:
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                if "<int:person_id>" in route:
                    found.append(route)

    walk(get_resolver().url_patterns, "")
    return found


_CONVERTER = re.compile(r"<(?:(?P<kind>\w+):)?(?P<name>\w+)>")


def _fill(route: str, person_id: int, object_id: int) -> str:
    def value(match) -> str:
        if match["name"] == "person_id":
            return str(person_id)
        return "diaryentry" if match["kind"] == "slug" else str(object_id)

    return "/" + _CONVERTER.sub(value, route)


def test_the_walk_finds_the_person_routes_of_every_area():
    routes = _person_routes()
    assert {
        "espacio/personas/<int:person_id>/",
        "portal/personas/<int:person_id>/",
        "api/v1/persons/<int:person_id>/record/",
        "espacio/personas/<int:person_id>/informe-social.pdf",
        "portal/personas/<int:person_id>/historial/",
        "espacio/personas/<int:person_id>/derivar/",
    } <= set(routes)
    assert len(routes) >= 30


@pytest.mark.parametrize("persona", ["evaluator", "dpo", "administrator"])
def test_roles_without_record_access_reach_no_person_route(
    persona, request, client_for, regional_office, social_worker
):
    """Evaluators, data protection officers and administrators reach no page, document, download or
    API answer about a person, even one their organisation attends and with real object ids
    (the DPO's own access report aside); nothing is disclosed in the log."""
    person = PersonFactory()
    enrol(person, regional_office)
    consent = consent_for(person, SOCIAL)
    attachment = make_attachment(
        person=person, organisation=regional_office, recorded_by=social_worker,
        category="exclusion_social", kind="padron", title="Padrón", name="padron.pdf",
    )
    user = request.getfixturevalue(persona)
    client = client_for(user)
    client.raise_request_exception = False
    answered = []
    for route in _person_routes():
        if persona == "dpo" and route.startswith("dpd/"):
            continue
        for object_id in {consent.pk, attachment.pk}:
            url = _fill(route, person.pk, object_id)
            methods = ("get",) if route.startswith("api/") else ("get", "post")
            for method in methods:
                params = {"purpose": FOLLOW_UP} if route.startswith("api/") else {}
                status = getattr(client, method)(url, params).status_code
                if status != 404:
                    answered.append(f"{method.upper()} {url} → {status}")
    assert answered == []
    assert not DisclosureLogEntry.objects.filter(person=person).exclude(event="refused").exists()


def test_a_user_cannot_act_through_someone_elses_membership(
    client_for, employment_counsellor, social_worker, social_services_centre
):
    """Choosing the membership to act in only offers one's own: posting a colleague's membership of
    another organisation leaves the user as they were."""
    person = PersonFactory()
    enrol(person, social_services_centre)
    client = client_for(employment_counsellor)
    client.post("/cambiar-perfil/", {"membership": social_worker.memberships.get().pk})
    assert client.session.get(SESSION_KEY) is None
    assert client.get(f"/espacio/personas/{person.pk}/").status_code == 404
    assert (
        client.get(f"/api/v1/persons/{person.pk}/record/", {"purpose": FOLLOW_UP}).status_code
        == 404
    )


def test_an_ngo_technician_reads_a_person_only_through_the_portal(
    client_for, ngo_technician, ngo, social_services_centre
):
    """The same person, attended by the NGO: /portal/ answers, every /espacio/ page about them is a
    404 identical to a page about nobody (the middleware answers before any view)."""
    agreement_for(ngo)
    person = PersonFactory()
    enrol(person, ngo)
    client = client_for(ngo_technician)
    assert client.get(f"/portal/personas/{person.pk}/").status_code == 200
    for route in (r for r in _person_routes() if r.startswith("espacio/")):
        assert_same_404(client.get(_fill(route, person.pk, 1)), client.get("/espacio/no-existe/"))
