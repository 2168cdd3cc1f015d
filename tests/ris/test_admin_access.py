"""The Django admin is the administrators' tool, in Spanish.

Being staff is not enough to enter: the administrator role (or a superuser) is. Every
registered model has a list, a search and a detail page that open; append-only tables
can be added to and read, never changed or deleted; synced and logged tables are
only read. Lists cost the same number of queries whatever their length.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from auditlog.models import LogEntry as ChangeHistoryEntry
from django.apps import apps
from django.contrib import admin
from django.core import checks
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from cases.models import (
    SECTION_MODELS,
    HouseholdMember,
    Person,
    ReferenceProfessional,
    SocialCompetences,
)
from consent.models import Consent, ConsentRevocation, LegalBasis, Objection
from consent.purposes import Purpose
from ris.accounts.models import Membership, Role
from ris.reference.models import AutonomousCommunity
from sharing.caseload import organisation_attends
from sharing.disclosure import LogLine, disclosure_log_append
from sharing.models import (
    BreakGlassAccess,
    Channel,
    DisclosureLogEntry,
    Enrolment,
    PersonGroupObjectPermission,
    SharingAgreement,
    VisibilityRule,
)
from tests.factories import (
    ConsentFactory,
    ConsentRevocationFactory,
    HouseholdMemberFactory,
    MembershipFactory,
    OrganisationFactory,
    PersonFactory,
    UserFactory,
    enrol,
    make_section_entry,
)

pytestmark = pytest.mark.django_db

# Apps whose admin pages are opened by their own suites (tests/pilots/test_admin.py,
# tests/diagnostics/test_admin.py).
OWN_ADMIN_SUITES = ("pilots", "diagnostics")
REGISTERED = [m for m in admin.site._registry if m._meta.app_label not in OWN_ADMIN_SUITES]
OUR_APPS = ("accounts", "reference", "cases", "consent", "sharing", "diagnostics", "coordination", "pilots")


def admin_url(model, action: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


def log_entry(person: Person) -> DisclosureLogEntry:
    [entry] = disclosure_log_append(
        [
            LogLine(
                event=DisclosureLogEntry.Event.DISCLOSURE,
                channel=Channel.WEB,
                person_id=person.pk,
                category="competencias",
                level="full",
            )
        ]
    )
    return entry


@pytest.fixture
def rows(administrator, social_worker, social_services_centre, employment_office, ngo):
    """At least one row in every table the admin shows."""
    person = PersonFactory()
    member = HouseholdMemberFactory(person=person)
    ReferenceProfessional.objects.create(
        person=person, organisation=social_services_centre, professional=social_worker
    )
    for model in SECTION_MODELS:
        make_section_entry(model, person=person, recorded_by=social_worker)
    consent = ConsentFactory(
        person=person, recorded_by=social_worker, recorded_by_org=social_services_centre
    )
    consent.grantee_organisations.add(employment_office)
    ConsentRevocationFactory(consent=ConsentFactory(person=member.person), revoked_by=social_worker)
    basis = LegalBasis.objects.create(
        name="Ley de servicios sociales de Castilla y León",
        reference="Ley 16/2010, art. 14",
        community=AutonomousCommunity.objects.get(code="07"),
        from_service="social",
        to_service="employment",
        categories=["competencias"],
        purposes=[Purpose.REFERRAL],
        mode=LegalBasis.Mode.UNLESS_OBJECTION,
    )
    Objection.objects.create(person=person, legal_basis=basis, recorded_by=social_worker)
    enrol(person, social_services_centre, by=social_worker)
    assign_perm("cases.view_person", social_worker, person)
    agreement = SharingAgreement.objects.create(
        organisation=ngo,
        title="Convenio de inserción 2025",
        community=ngo.community,
        categories=["carpeta_social"],
        purposes=[Purpose.ITINERARY],
        valid_from=dt.date(2025, 1, 1),
        valid_until=dt.date(2026, 12, 31),
        processing_terms="Encargo de tratamiento (art. 28 RGPD).",
    )
    agreement.parties.add(social_services_centre)
    log_entry(person)
    BreakGlassAccess.objects.create(
        user=social_worker,
        organisation=social_services_centre,
        person=person,
        reason="Persona desorientada en urgencias sin documentación.",
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    from cases.models import Attachment
    from tests.coordination.builders import coordination_rows

    Attachment.objects.create(
        person=person, recorded_by_service="social", recorded_by_org=social_services_centre,
        recorded_by=social_worker, category="situacion_economica", kind="padron",
        title="Certificado de empadronamiento",
    )

    coordination_rows(person=person, sender=social_services_centre, receiver=employment_office, user=social_worker)
    from cases.models import PersonMerge

    duplicate = PersonFactory(first_name="Duplicado")
    PersonMerge.objects.create(
        surviving=person, merged=duplicate, merged_by=social_worker, reason="Alta duplicada",
        moved={"entradas": 0},
    )
    return person


# --- Who may enter ------------------------------------------------------------------------


def test_staff_without_the_administrator_role_is_sent_to_the_admin_login(
    client_for, social_services_centre
):
    staff = UserFactory(is_staff=True)
    MembershipFactory(user=staff, organisation=social_services_centre, role=Role.SOCIAL_WORKER)
    client = client_for(staff)
    for url in (reverse("admin:index"), admin_url(Person, "changelist"), admin_url(Consent, "add")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("admin:login")), url
    login_page = client.get(reverse("admin:login")).content.decode()
    assert "no está autorizado" in login_page


def test_staff_without_any_membership_is_refused(client_for):
    response = client_for(UserFactory(is_staff=True)).get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_the_administrator_role_without_staff_status_is_refused(client_for, regional_office):
    user = UserFactory(is_staff=False)
    MembershipFactory(user=user, organisation=regional_office, role=Role.ADMINISTRATOR)
    assert client_for(user).get(reverse("admin:index")).status_code == 302


def test_an_inactive_administrator_membership_is_refused(client_for, administrator):
    Membership.objects.filter(user=administrator).update(is_active=False)
    assert client_for(administrator).get(reverse("admin:index")).status_code == 302


def test_a_superuser_enters(client_for):
    user = UserFactory(is_staff=True, is_superuser=True)
    assert client_for(user).get(reverse("admin:index")).status_code == 200


def test_the_admin_index_is_in_spanish_and_lists_every_model(client_for, administrator):
    response = client_for(administrator).get(reverse("admin:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="es"' in html
    assert "RIS · Administración" in html
    assert "Administración de la plataforma" in html
    assert "Cerrar sesión" in html
    for model in REGISTERED:
        assert admin_url(model, "changelist") in html, model


# --- Every model opens -------------------------------------------------------------------


def test_every_model_of_our_apps_is_in_the_admin():
    missing = [
        m._meta.label
        for app in OUR_APPS
        for m in apps.get_app_config(app).get_models()
        if not admin.site.is_registered(m)
    ]
    assert missing == []


def test_the_change_history_is_not_in_the_admin():
    """It is shown only through sharing.history, filtered like the record (decision 0005)."""
    assert not admin.site.is_registered(ChangeHistoryEntry)


def test_every_table_has_rows(rows):
    empty = [m._meta.label for m in REGISTERED if not m._default_manager.exists()]
    assert empty == []


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_every_list_search_and_detail_page_opens(model, rows, administrator, client_for):
    client = client_for(administrator)
    model_admin = admin.site._registry[model]

    response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1

    if model_admin.search_fields:
        assert client.get(admin_url(model, "changelist"), {"q": "García 12"}).status_code == 200

    obj = model._default_manager.order_by("pk").first()
    assert client.get(admin_url(model, "change", obj.pk)).status_code == 200

    response = client.get(admin_url(model, "add"))
    assert response.status_code == (
        200 if model_admin.has_add_permission(_request(administrator)) else 403
    )


def test_admin_configuration_passes_the_system_checks():
    errors = checks.run_checks(tags=[checks.Tags.admin])
    assert errors == []


def test_a_person_is_found_by_a_document_typed_loosely(rows, administrator, client_for):
    person = PersonFactory(document_number="12345678Z")
    response = client_for(administrator).get(admin_url(Person, "changelist"), {"q": "12.345.678-z"})
    assert list(response.context["cl"].result_list) == [person]


# --- Append-only, synced and logged tables ------------------------------------------------


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.mark.parametrize("model", [Consent, ConsentRevocation])
def test_consents_and_revocations_can_be_added_and_read_but_not_changed(model, administrator):
    model_admin = admin.site._registry[model]
    request = _request(administrator)
    assert model_admin.has_add_permission(request)
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


@pytest.mark.parametrize(
    "model",
    [
        DisclosureLogEntry,
        BreakGlassAccess,
        PersonGroupObjectPermission,
        *[
            m
            for m in REGISTERED
            if m._meta.app_label == "reference"
            or m._meta.model_name in ("datacategory", "cataloguefield")
        ],
    ],
    ids=lambda m: m._meta.label,
)
def test_logged_synced_and_reference_tables_are_only_read(model, administrator):
    model_admin = admin.site._registry[model]
    request = _request(administrator)
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_posting_a_change_to_a_consent_is_forbidden(rows, administrator, client_for):
    consent = Consent.objects.first()
    client = client_for(administrator)
    response = client.post(
        admin_url(Consent, "change", consent.pk), {"privacy_notice_version": "reescrita"}
    )
    assert response.status_code == 403
    assert client.post(admin_url(Consent, "delete", consent.pk), {"post": "yes"}).status_code == 403
    assert Consent.objects.filter(pk=consent.pk, privacy_notice_version="2025.1").exists()


def test_the_disclosure_log_cannot_be_deleted_from_the_list(rows, administrator, client_for):
    entry = DisclosureLogEntry.objects.first()
    response = client_for(administrator).post(
        admin_url(DisclosureLogEntry, "changelist"),
        {
            "action": "delete_selected",
            admin.helpers.ACTION_CHECKBOX_NAME: [entry.pk],
            "post": "yes",
        },
    )
    assert DisclosureLogEntry.objects.filter(pk=entry.pk).exists()
    assert response.status_code in (200, 302)


def consent_form(person, grantee, recorded_by_org, **extra) -> dict:
    today = timezone.localdate()
    return {
        "person": person.pk,
        "grantor": Consent.Grantor.PERSON,
        "given_on": today.strftime("%d/%m/%Y"),
        "valid_from": today.strftime("%d/%m/%Y"),
        "valid_until": (today + dt.timedelta(days=365)).strftime("%d/%m/%Y"),
        "grantee_organisations": [grantee.pk],
        "grantee_services": ["employment"],
        "permitted_categories": ["competencias", "empleabilidad"],
        "denied_categories": ["salud"],
        "purposes": [Purpose.REFERRAL],
        "legal_basis_refs": "RGPD art. 6.1.a",
        "privacy_notice_version": "2025.1",
        "recorded_by_org": recorded_by_org.pk,
        **extra,
    }


def test_a_consent_is_recorded_through_the_admin(
    administrator, social_services_centre, employment_office, client_for
):
    person = PersonFactory()
    response = client_for(administrator).post(
        admin_url(Consent, "add"), consent_form(person, employment_office, social_services_centre)
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    consent = Consent.objects.get(person=person)
    assert consent.recorded_by == administrator
    assert consent.permitted_categories == ["competencias", "empleabilidad"]
    assert consent.denied_categories == ["salud"]
    assert list(consent.grantee_organisations.all()) == [employment_office]


def test_a_signed_document_uploaded_in_the_admin_is_checked_and_fingerprinted(
    administrator, social_services_centre, employment_office, client_for, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client = client_for(administrator)
    person = PersonFactory()
    fake = SimpleUploadedFile("firma.pdf", b"esto no es un PDF", content_type="application/pdf")
    response = client.post(
        admin_url(Consent, "add"),
        consent_form(person, employment_office, social_services_centre, document=fake),
    )
    assert response.status_code == 200
    assert "no corresponde a su extensión" in response.content.decode()
    assert not Consent.objects.filter(person=person).exists()

    content = b"%PDF-1.7\n% consentimiento firmado\n"
    signed = SimpleUploadedFile("firma.pdf", content, content_type="application/pdf")
    response = client.post(
        admin_url(Consent, "add"),
        consent_form(person, employment_office, social_services_centre, document=signed),
    )
    assert response.status_code == 302
    consent = Consent.objects.get(person=person)
    assert consent.document_sha256 == hashlib.sha256(content).hexdigest()
    assert consent.document_content_type == "application/pdf"


def test_an_enrolment_added_in_the_admin_grants_the_caseload_permission(
    administrator, employment_office, client_for
):
    person = PersonFactory()
    response = client_for(administrator).post(
        admin_url(Enrolment, "add"),
        {
            "organisation": employment_office.pk,
            "person": person.pk,
            "origin": Enrolment.Origin.REGISTRATION,
        },
    )
    assert response.status_code == 302
    assert Enrolment.objects.filter(
        organisation=employment_office, person=person, end_date__isnull=True
    ).exists()
    assert organisation_attends(employment_office.pk, person.pk)


def test_closing_enrolments_from_the_list_removes_the_caseload_permission(
    rows, administrator, social_services_centre, client_for
):
    enrolment = Enrolment.objects.get(person=rows, organisation=social_services_centre)
    client_for(administrator).post(
        admin_url(Enrolment, "changelist"),
        {
            "action": "close_enrolments",
            admin.helpers.ACTION_CHECKBOX_NAME: [enrolment.pk],
        },
    )
    enrolment.refresh_from_db()
    assert enrolment.end_date == timezone.localdate()
    assert not organisation_attends(social_services_centre.pk, rows.pk)


def test_the_visibility_level_is_edited_in_the_list(administrator, client_for):
    rule = VisibilityRule.objects.get(
        role=Role.EMPLOYMENT_COUNSELLOR, category_id="salud", community=None
    )
    assert rule.level == "indicator"
    client = client_for(administrator)
    url = admin_url(VisibilityRule, "changelist")
    query = {"role__exact": Role.EMPLOYMENT_COUNSELLOR, "category__code__exact": "salud"}
    response = client.get(url, query)
    formset = response.context["cl"].formset
    data = {
        f"form-{k}": v
        for k, v in {
            "TOTAL_FORMS": formset.total_form_count(),
            "INITIAL_FORMS": formset.initial_form_count(),
            "MIN_NUM_FORMS": 0,
            "MAX_NUM_FORMS": 1000,
        }.items()
    }
    for i, form in enumerate(formset.forms):
        data[f"form-{i}-id"] = form.instance.pk
        data[f"form-{i}-level"] = "hidden" if form.instance.pk == rule.pk else form.instance.level
    data["_save"] = "Guardar"
    response = client.post(
        f"{url}?role__exact={Role.EMPLOYMENT_COUNSELLOR}&category__code__exact=salud", data
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.level == "hidden"


# --- Query counts ---------------------------------------------------------------------------


def _more_rows(model, n: int, rows: Person) -> None:
    for _ in range(n):
        person = PersonFactory()
        if model is Person:
            continue
        if model is Consent:
            ConsentFactory(person=person)
        elif model is ConsentRevocation:
            ConsentRevocationFactory(consent=ConsentFactory(person=person))
        elif model is Membership:
            MembershipFactory(organisation=OrganisationFactory())
        elif model is Enrolment:
            enrol(person, OrganisationFactory())
        elif model is HouseholdMember:
            HouseholdMemberFactory(person=person)
        elif model is DisclosureLogEntry:
            log_entry(person)
        elif model is SocialCompetences:
            make_section_entry(SocialCompetences, person=person)
        else:
            raise AssertionError(model)


@pytest.mark.parametrize(
    "model",
    [
        Person,
        Consent,
        ConsentRevocation,
        Membership,
        Enrolment,
        HouseholdMember,
        DisclosureLogEntry,
        SocialCompetences,
    ],
    ids=lambda m: m._meta.label,
)
def test_lists_cost_the_same_with_more_rows(model, rows, administrator, client_for):
    client = client_for(administrator)
    url = admin_url(model, "changelist")
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    before = count()
    _more_rows(model, 5, rows)
    assert count() == before


def test_the_admin_shows_no_section_content_and_no_household_economy(
    client_for, administrator, social_services_centre, social_worker
):
    """Administrators configure the platform; section contents are read only through sharing."""
    from cases.models import HealthRecord

    person = PersonFactory()
    enrol(person, social_services_centre, by=social_worker)
    entry = HealthRecord.objects.create(
        person=person, recorded_by_service="social", recorded_by_org=social_services_centre,
        recorded_by=social_worker, description="marcador-salud-secreto-4711", disability_degree=42,
    )
    household = HouseholdMemberFactory(person=person).household
    household.monthly_income = "987.65"
    household.save()
    client = client_for(administrator)
    for url in (
        admin_url(HealthRecord, "change", entry.pk),
        admin_url(HealthRecord, "changelist"),
        admin_url(type(household), "change", household.pk),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "marcador-salud-secreto-4711" not in body
        assert "987" not in body
    assert client.get(admin_url(HealthRecord, "add")).status_code == 403
