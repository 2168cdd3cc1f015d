"""``manage.py seed_demo``: the demo world, its idempotence, and the synthetic persons for benchmarks.

Building the world takes several seconds, so it is built once for this module, inside a
transaction rolled back when the module ends; each test runs in a savepoint inside it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import connection, models, transaction
from django.test import override_settings

from cases import demo
from cases.identity import validate_dni
from cases.models import (
    SECTION_MODELS,
    DiaryEntry,
    HouseholdMember,
    JobSeekerRecord,
    MinimumIncome,
    Person,
    ReferenceProfessional,
    UnemploymentBenefit,
)
from consent.models import Consent, ConsentState, LegalBasis, Objection
from ris.accounts.models import Membership, Organisation, Role, ServiceKind
from sharing.models import Enrolment, PersonGroupObjectPermission

pytestmark = pytest.mark.django_db

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # as tests/conftest.py sets per test


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def table_counts() -> dict[str, int]:
    """Rows in every table of every installed model, many-to-many tables included."""
    tables = set(connection.introspection.table_names())
    return {
        model._meta.db_table: model._base_manager.count()
        for model in apps.get_models(include_auto_created=True) if model._meta.db_table in tables
    }


def printed_accounts(output: str) -> dict[str, tuple[str, str]]:
    """username -> (password, "role  organisations"), read back from the printed table."""
    lines = output.split("Cuentas de demostración:", 1)[1].strip().splitlines()
    accounts = {}
    for line in lines[1:]:
        username, password, rest = re.split(r"\s{2,}", line.strip(), maxsplit=2)
        accounts[username] = (password, rest)
    return accounts


def orphan_references(model: type[models.Model], rows: models.QuerySet) -> list[str]:
    """Foreign keys of ``rows`` that point at no row (the synthetic bulk may skip the FK triggers)."""
    broken = []
    for field in model._meta.concrete_fields:
        if not field.is_relation:
            continue
        targets = field.related_model._base_manager.values(field.target_field.attname)
        dangling = rows.exclude(**{f"{field.attname}__isnull": True}).exclude(**{f"{field.attname}__in": targets})
        if dangling.exists():
            broken.append(f"{model.__name__}.{field.name}")
    return broken


@pytest.fixture(scope="module")
def demo_output(django_db_setup, django_db_blocker) -> Iterator[str]:
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHER):
        with transaction.atomic():
            output = seed()
            yield output
            transaction.set_rollback(True)


def test_builds_a_believable_world(demo_output):
    assert "Mundo de demostración creado." in demo_output
    organisations = Organisation.objects.filter(code__in=demo.ORGANISATION_CODES)
    assert sorted((o.kind, o.community_id) for o in organisations) == sorted(
        (kind, community) for kind in ServiceKind.values for community in ("07", "08")
    )
    persons = Person.objects.all()
    assert 55 <= persons.count() <= 65
    assert persons.filter(document_type=Person.DocumentType.NIE).count() >= 5
    assert persons.filter(document_type=Person.DocumentType.PASSPORT).count() >= 2
    assert 2 <= persons.filter(document_type=Person.DocumentType.NONE).exclude(no_document_reason="").count() <= 3
    assert persons.filter(birth_date__year__gte=2010, birth_date__year__lte=2023).count() >= 15
    # Everyone lives in one household today; one young adult has moved out of the family home.
    assert HouseholdMember.objects.filter(end_date__isnull=True).count() == persons.count()
    assert HouseholdMember.objects.filter(end_date__isnull=False).count() == 1
    # The territory's social services centre attends everyone, employment about half, NGOs about ten.
    enrolments = Enrolment.objects.filter(end_date__isnull=True)
    social = enrolments.filter(organisation__kind=ServiceKind.SOCIAL).count()
    employment = enrolments.filter(organisation__kind=ServiceKind.EMPLOYMENT).count()
    ngo = enrolments.filter(organisation__kind=ServiceKind.THIRD_SECTOR).count()
    assert social == persons.count()
    assert persons.count() * 0.35 <= employment <= persons.count() * 0.65
    assert 8 <= ngo <= 14
    for enrolment in enrolments.select_related("organisation", "person"):
        assert enrolment.person.municipality_id == enrolment.organisation.municipality_id
    assert PersonGroupObjectPermission.objects.count() == enrolments.count()
    assert ReferenceProfessional.objects.count() == enrolments.count()
    assert LegalBasis.objects.filter(community="08", mode=LegalBasis.Mode.BY_LAW,
                                     condition=LegalBasis.Condition.MINIMUM_INCOME).exists()
    assert LegalBasis.objects.filter(community="07", mode=LegalBasis.Mode.CONSENT_ONLY).exists()
    assert Objection.objects.count() == 1


def test_every_section_has_entries_recorded_by_their_service(demo_output):
    for model in SECTION_MODELS:
        entries = list(model.objects.select_related("recorded_by_org"))
        assert entries, model.__name__
        for entry in entries:
            assert entry.recorded_by_service == entry.recorded_by_org.kind
            assert Membership.objects.filter(user=entry.recorded_by_id, organisation=entry.recorded_by_org).exists()
    restricted = [model.__name__ for model in SECTION_MODELS if model.objects.filter(restricted=True).exists()]
    assert {"HealthRecord", "CriminalRecord", "FamilySituation"} <= set(restricted)
    assert set(DiaryEntry.objects.values_list("kind", flat=True)) == set(DiaryEntry.Kind.values)


def test_consents_exist_in_every_state(demo_output):
    consents = list(Consent.objects.select_related("revocation", "superseded_by"))
    assert {consent.state_at() for consent in consents} == set(ConsentState.values)
    active = [c for c in consents if c.state_at() == ConsentState.ACTIVE]
    assert any(ServiceKind.EMPLOYMENT in c.grantee_services and c.all_categories
               and c.denied_categories == ["salud"] for c in active)
    assert any(not c.all_categories and c.permitted_categories for c in active)
    assert any(c.grantor == Consent.Grantor.REPRESENTATIVE and c.representative_relation
               and c.person.age_on(c.given_on) < 18 for c in consents)
    assert Consent.objects.filter(grantee_organisations__kind=ServiceKind.THIRD_SECTOR).exists()
    corrected = next(c for c in consents if c.supersedes_id)
    assert corrected.supersedes.state_at() == ConsentState.SUPERSEDED


def test_running_it_again_changes_nothing(demo_output):
    before = table_counts()
    again = seed()
    assert "ya existía" in again
    assert table_counts() == before
    assert printed_accounts(again) == printed_accounts(demo_output)


def test_each_role_has_an_account_that_signs_in_with_the_printed_password(demo_output):
    accounts = printed_accounts(demo_output)
    assert {password for password, _rest in accounts.values()} == {demo.DEMO_PASSWORD}
    roles = set()
    for username, (password, _rest) in accounts.items():
        user = authenticate(username=username, password=password)
        assert user is not None, username
        roles |= set(user.memberships.values_list("role", flat=True))
    assert roles == set(Role.values)
    assert authenticate(username="ts.toledo", password="otra-contraseña") is None
    coordinator = Membership.objects.filter(role=Role.COORDINATOR, user__username="coord.toledo")
    assert set(coordinator.values_list("organisation__kind", flat=True)) == {"social", "employment"}
    assert Membership.objects.filter(role=Role.DATA_PROTECTION_OFFICER).count() > 1
    assert Membership.objects.get(role=Role.ADMINISTRATOR).user.is_staff


def test_synthetic_persons_come_with_documents_households_and_caseloads(demo_output, monkeypatch):
    last_demo_person = Person.objects.order_by("-pk").values_list("pk", flat=True).first()
    output = seed("--persons", "500")
    assert "500 personas sintéticas" in output
    new = Person.objects.filter(pk__gt=last_demo_person)
    assert new.count() == 500
    for number in new.values_list("document_number", flat=True):
        validate_dni(number)
    full_names = set(new.values_list("first_name", "last_name_1", "last_name_2"))
    assert len(full_names) >= 400, "synthetic names vary like a real population's"
    members = HouseholdMember.objects.filter(person__in=new)
    assert members.count() == 500
    children = members.filter(relationship=HouseholdMember.Relationship.CHILD).select_related("person")
    holders = {
        m.household_id: m.person
        for m in members.filter(relationship=HouseholdMember.Relationship.HOLDER).select_related("person")
    }
    assert children.exists()
    for child in children:  # children carry the holder's first surname
        assert child.person.last_name_1 == holders[child.household_id].last_name_1
    assert 195 <= members.values("household").distinct().count() <= 205
    enrolments = Enrolment.objects.filter(person__in=new)
    assert enrolments.filter(organisation__kind=ServiceKind.SOCIAL).count() == 500
    assert 200 <= enrolments.filter(organisation__kind=ServiceKind.EMPLOYMENT).count() <= 300
    assert enrolments.filter(organisation__kind=ServiceKind.THIRD_SECTOR).exists()
    permissions = PersonGroupObjectPermission.objects.filter(content_object__in=new)
    assert set(permissions.values_list("content_object_id", "group__organisation", "permission__codename")) == {
        (person, organisation, "view_person") for person, organisation in enrolments.values_list(
            "person_id", "organisation_id")
    }
    for model in (JobSeekerRecord, UnemploymentBenefit, MinimumIncome, DiaryEntry):
        assert model.objects.filter(person__in=new).exists(), model.__name__
    assert Consent.objects.filter(person__in=new).count() >= 150
    for model in (Person, HouseholdMember, Enrolment, PersonGroupObjectPermission, ReferenceProfessional,
                  DiaryEntry, Consent):
        assert orphan_references(model, model._base_manager.all()) == []

    # A second run numbers its documents after the first, here with every foreign key checked.
    monkeypatch.setattr(demo, "_may_skip_foreign_key_checks", lambda cursor: False)
    more = seed("--persons", "10")
    assert "10 personas sintéticas" in more and "sin comprobar" not in more
    numbers = list(Person.objects.filter(pk__gt=last_demo_person).values_list("document_number", flat=True))
    assert len(numbers) == len(set(numbers)) == 510
