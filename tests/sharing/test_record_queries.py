"""The record costs a constant number of SQL queries, whatever the size of the record.

The same bound holds for a person with one entry per section and for one with 30
entries per section, 10 consents and a household; and the two counts are equal
(no query per entry, per consent or per related object).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from cases import models as m
from ris.reference.models import BasicSocialService, Occupation
from sharing.caseload import enrolment_open
from sharing.policy import decide_all, load_facts

#: The most queries one record request may run (session, viewer, facts with the records merged
#: into the person, sections, consents, diagnostics, log).
QUERY_BOUND = 55

_OWNER = {
    "social": (
        "competencias",
        "motivacion",
        "servicios_planificados",
        "rentas_minimas",
        "situacion_familiar",
        "exclusion_social",
        "trabajo_informal",
        "situacion_juridica",
        "salud",
        "antecedentes_penales",
    ),
    "employment": (
        "demanda_empleo",
        "prestaciones_estatales",
        "empleabilidad",
        "itinerario_empleo",
    ),
    "third_sector": ("carpeta_social", "intermediacion", "pobreza_infantil"),
}


def _fields(model, i: int) -> dict:
    today = timezone.localdate()
    occupation = Occupation.objects.order_by("code").first()
    service = BasicSocialService.objects.order_by("code").first()
    return {
        m.SocialCompetences: dict(
            assessed_on=today, pre_work_skills=f"habilidades {i}", can_follow_itinerary=True
        ),
        m.MotivationAssessment: dict(
            assessed_on=today, motivation_level="high", emotional_factors=f"f {i}"
        ),
        m.PlannedService: dict(
            basic_service=service, description=f"servicio {i}", start_date=today
        ),
        m.MinimumIncome: dict(
            scheme="imv", status="granted", monthly_amount=Decimal("500.00"), start_date=today
        ),
        m.FamilySituation: dict(description=f"situación {i}", single_parent=True),
        m.ExclusionSituation: dict(
            assessed_on=today, severity="moderate", need_assessment=f"necesidad {i}"
        ),
        m.InformalWork: dict(activity=f"actividad {i}", hours_per_week=10),
        m.LegalStatus: dict(
            residence_status="residence_work", valid_until=today + dt.timedelta(days=300)
        ),
        m.HealthRecord: dict(description=f"salud {i}", disability_degree=33, dependency_grade="I"),
        m.CriminalRecord: dict(description=f"penal {i}"),
        m.JobSeekerRecord: dict(
            status="unemployed", registered_on=today, occupation_sought=occupation
        ),
        m.EmploymentHistoryEntry: dict(
            employer=f"empresa {i}",
            occupation=occupation,
            start_date=today - dt.timedelta(days=100),
        ),
        m.UnemploymentBenefit: dict(kind="rai", monthly_amount=Decimal("480.00"), start_date=today),
        m.EmployabilityLevel: dict(assessed_on=today, level="medium", factors=f"factores {i}"),
        m.ActivePolicyItinerary: dict(programme=f"programa {i}", start_date=today),
        m.SocialFolderIntervention: dict(
            date=today, kind="training", description=f"intervención {i}"
        ),
        m.CompanyIntermediation: dict(date=today, company=f"empresa {i}", position="puesto"),
        m.ChildPovertyDetection: dict(
            detected_on=today, minors_affected=1, description=f"pobreza {i}"
        ),
        m.DiaryEntry: dict(
            kind="phone_call",
            happened_at=timezone.now() - dt.timedelta(hours=i + 1),
            demand=f"demanda {i}",
            resource=service,
        ),
    }[model]


def add_section_entries(world, person, per_section: int) -> None:
    """``per_section`` entries of every section model (the diary: of every service), some
    restricted."""
    for model in m.SECTION_MODELS:
        sources = (
            ("social", "employment", "third_sector")
            if model is m.DiaryEntry
            else (next(s for s, cats in _OWNER.items() if model.CATEGORY in cats),)
        )
        rows = []
        for source in sources:
            for i in range(per_section):
                rows.append(
                    model(
                        person=person,
                        recorded_by_service=source,
                        recorded_by_org=world.recorders[source],
                        recorded_by=world.recorder_user,
                        restricted=(i % 3 == 2),
                        **_fields(model, i),
                    )
                )
        model.objects.bulk_create(rows)


def add_consents(world, person, n: int) -> None:
    """``n`` consents in force that the query must read but that open nothing more to the viewer
    (another organisation, another service kind, another purpose, or revoked), so that both
    persons get the same decisions and any difference in queries comes from the data's size."""
    from consent.models import Consent, ConsentRevocation

    today = timezone.localdate()
    for i in range(n):
        consent = Consent.objects.create(
            person=person,
            given_on=today,
            valid_from=today - dt.timedelta(days=i),
            valid_until=today + dt.timedelta(days=90),
            grantee_services=[oracle_other_service(world)] if i % 2 else [],
            all_categories=i % 3 == 0,
            permitted_categories=["exclusion_social", "salud", "carpeta_social"],
            denied_categories=["salud"] if i % 4 else [],
            purposes=["seguimiento", "itinerario"] if i % 5 else ["itinerario"],
            privacy_notice_version="2025-1",
            recorded_by=world.recorder_user,
            recorded_by_org=world.recorders["social"],
        )
        consent.grantee_organisations.set([world.orgs["other"], world.recorders["third_sector"]])
        if i == n - 1:
            consent.grantee_organisations.add(world.orgs["viewer"])
            ConsentRevocation.objects.create(
                consent=consent, revoked_by=world.recorder_user, channel="phone"
            )


def oracle_other_service(world) -> str:
    services = ["social", "employment", "third_sector"]
    return services[(services.index(world.profile.service) + 1) % 3]


def _count(client, url: str, params: dict, bound: int, django_assert_max_num_queries) -> int:
    with django_assert_max_num_queries(bound) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "profile_key,state_name",
    [
        ("orientador", "consent_org"),
        ("trabajadora_social", "legal_basis_by_law"),
        ("tecnico_entidad", "consent_org"),
        ("coordinacion_social", "legal_basis_minimum_income_met"),
        ("trabajadora_social", "break_glass"),
    ],
)
@pytest.mark.parametrize("channel", ["api", "html"])
def test_the_record_runs_in_a_constant_number_of_queries(
    profile_key,
    state_name,
    channel,
    make_world,
    oracle,
    django_assert_max_num_queries,
):
    from cases.models import Person
    from sharing.models import BreakGlassAccess

    profile, state = oracle.BY_KEY[profile_key], oracle.STATE[state_name]
    non_household = tuple(p for p in oracle.PAIRS if p[0] not in oracle.HOUSEHOLD_CATEGORIES)
    world = make_world(
        profile, state, skip=non_household
    )  # the household, the bases; no entries yet
    small = world.person
    add_section_entries(world, small, 1)

    big = oracle.make_person()
    if oracle.attends(state, profile):
        enrolment_open(organisation=world.orgs["viewer"], person=big, origin="registration")
    else:
        now = timezone.now()
        BreakGlassAccess.objects.create(
            user=world.user,
            organisation=world.orgs["viewer"],
            person=big,
            reason="Urgencia",
            started_at=now,
            expires_at=now + dt.timedelta(hours=1),
        )
    oracle.add_household(big, world.recorder_user)
    add_section_entries(world, big, 30)
    add_consents(world, big, 10)
    for consent_id in world.consent_ids:  # the state's own consents, for the big person too
        from consent.models import Consent

        original = Consent.objects.get(pk=consent_id)
        copy = Consent.objects.create(
            **{
                f.name: getattr(original, f.name)
                for f in Consent._meta.concrete_fields
                if f.name not in ("id", "person", "supersedes")
            },
            person=big,
        )
        copy.grantee_organisations.set(original.grantee_organisations.all())
    for basis_id in world.legal_basis_ids.values():
        from consent.models import Objection

        if Objection.objects.filter(person=small, legal_basis_id=basis_id).exists():
            Objection.objects.create(
                person=big, legal_basis_id=basis_id, recorded_by=world.recorder_user
            )
    levels = [
        [
            d.level
            for d in decide_all(
                load_facts(viewer=world.viewer, person_id=p.pk, purpose=oracle.PURPOSE)
            )
        ]
        for p in (small, big)
    ]
    assert levels[0] == levels[1], (
        "both persons must get the same decisions for the counts to be comparable"
    )
    assert Person.objects.filter(pk__in=[small.pk, big.pk]).count() == 2

    client = Client()
    client.force_login(world.user)
    prefix = (
        "/api/v1/persons/{}/record/"
        if channel == "api"
        else "/portal/personas/{}/"
        if profile.role == "ngo_technician"
        else "/espacio/personas/{}/"
    )
    params = {"purpose": oracle.PURPOSE} if channel == "api" else {"finalidad": oracle.PURPOSE}
    client.get(prefix.format(small.pk), params)  # warm the session and the content types
    n_small = _count(
        client, prefix.format(small.pk), params, QUERY_BOUND, django_assert_max_num_queries
    )
    n_big = _count(
        client, prefix.format(big.pk), params, QUERY_BOUND, django_assert_max_num_queries
    )
    assert n_big == n_small, (
        f"{n_small} queries for 1 entry per section, {n_big} for 30 entries and 10 consents"
    )


def test_the_big_record_is_really_big(make_world, oracle):
    """Guards the test above: the big person's entries are read and shown."""
    world = make_world(
        oracle.BY_KEY["orientador"],
        oracle.STATE["consent_org"],
        skip=tuple(p for p in oracle.PAIRS if p[0] not in oracle.HOUSEHOLD_CATEGORIES),
    )
    add_section_entries(world, world.person, 30)
    client = Client()
    client.force_login(world.user)
    data = client.get(world.api_url, {"purpose": oracle.PURPOSE}).json()
    entries = {
        (c["code"], c["owner_service"]): len(c.get("entries", [])) for c in data["categories"]
    }
    assert (
        entries[("demanda_empleo", "employment")] == 60
    )  # two section models, own service: restricted too
    assert (
        entries[("exclusion_social", "social")] == 20
    )  # another service: its restricted third is withheld
    assert entries[("atenciones", "employment")] == 30
