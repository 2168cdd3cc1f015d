"""Each risk rule at its thresholds: just below, at and just above; and what the sweep does with it.

Every boundary is checked with the per-person query; the first case of each rule also
with the whole-population query (the same SQL without the narrowing), so both paths are
the same rule. The coordination rules (unanswered referral, duplicated plan action, the
joint-plan part of long-term unemployment) are tested against the coordination models
when they exist, and skipped with the reason otherwise.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.models import (
    DiaryEntry,
    ExclusionSituation,
    JobSeekerRecord,
    MinimumIncome,
    PlannedService,
    UnemploymentBenefit,
)
from consent.models import ConsentRevocation
from diagnostics.models import Alert, AlertDelivery, AlertRule, AlertState
from diagnostics.rules import RULES
from diagnostics.services import AUTO_RESOLUTION_NOTE, alert_resolve
from diagnostics.workdays import nth_working_day_back
from ris.accounts.viewer import Viewer
from ris.reference.models import BasicSocialService
from sharing.models import Enrolment
from tests.factories import OrganisationFactory, make_section_entry

from .conftest import (
    IMV_MONTHLY,
    POVERTY_THRESHOLD,
    fires,
    fires_in_sweep,
    open_alerts,
    rule,
    sweep,
    today,
)

pytestmark = pytest.mark.django_db


def _coordination_model(name: str):
    try:
        return apps.get_model("coordination", name)
    except LookupError:
        return None


Referral = _coordination_model("Referral")
JointPlan = _coordination_model("JointPlan")
PlanAction = _coordination_model("PlanAction")
needs_referral = pytest.mark.skipif(
    Referral is None,
    reason="coordination.Referral does not exist yet (written in parallel): rule untested",
)
needs_plans = pytest.mark.skipif(
    JointPlan is None or PlanAction is None,
    reason="coordination.JointPlan/PlanAction do not exist yet (written in parallel): rule untested",
)


def test_every_programmed_rule_has_its_row_with_valid_default_thresholds():
    assert set(AlertRule.objects.values_list("code", flat=True)) == set(RULES)
    for row in AlertRule.objects.all():
        assert RULES[row.code].parameters(row.thresholds) == RULES[row.code].all_defaults
        assert set(row.categories) == set(RULES[row.code].categories)
        assert row.description.strip()


def test_thresholds_are_checked():
    definition = RULES["sin_contacto"]
    assert definition.parameters({"days": 30})["days"] == 30
    for bad in ({"days": -1}, {"days": "90"}, {"dias": 90}, {"days": True}):
        with pytest.raises((TypeError, ValueError)):
            definition.parameters(bad)


# --- 1. Unemployment benefit ends within 60 days, household with minors, no other income ------


def _benefit_case(
    world, *, ends_in: int, income=Decimal("560.00"), minors: int = 1, amount=Decimal("560.00")
):
    person = world.person(attended_by=("social", "employment"))
    world.household([(person, 0), *[(8, None)] * minors], monthly_income=income)
    world.entry(
        UnemploymentBenefit,
        person,
        by="employment",
        kind=UnemploymentBenefit.Kind.ASSISTANCE,
        monthly_amount=amount,
        start_date=today() - dt.timedelta(days=300),
        end_date=today() + dt.timedelta(days=ends_in),
    )
    return person


@pytest.mark.parametrize(
    ("ends_in", "expected"), [(-1, False), (0, True), (59, True), (60, True), (61, False)]
)
def test_benefit_ending_at_the_60_day_threshold(world, ends_in, expected):
    person = _benefit_case(world, ends_in=ends_in)
    assert fires("fin_prestacion_con_menores", person) is expected


def test_benefit_ending_is_found_by_the_whole_population_query(world):
    assert fires_in_sweep("fin_prestacion_con_menores", _benefit_case(world, ends_in=30))


def test_benefit_ending_needs_minors_in_the_household(world):
    assert not fires("fin_prestacion_con_menores", _benefit_case(world, ends_in=30, minors=0))


@pytest.mark.parametrize(
    ("income", "expected"), [("560.00", True), ("560.01", False), ("0.00", True)]
)
def test_benefit_ending_needs_no_other_income(world, income, expected):
    person = _benefit_case(world, ends_in=30, income=Decimal(income))
    assert fires("fin_prestacion_con_menores", person) is expected


def test_benefit_ending_not_when_another_member_keeps_a_benefit_or_a_minimum_income(world):
    person = _benefit_case(world, ends_in=30)
    partner = world.person()
    household = person.household_memberships.get().household
    household.members.create(
        person=partner, relationship="partner", start_date=today() - dt.timedelta(days=10)
    )
    world.entry(
        MinimumIncome,
        partner,
        by="social",
        scheme=MinimumIncome.Scheme.REGIONAL,
        status=MinimumIncome.Status.GRANTED,
        start_date=today() - dt.timedelta(days=30),
        end_date=None,
    )
    assert not fires("fin_prestacion_con_menores", person)


# --- 2. Long-term unemployment without an active joint plan -----------------------------------


def _seeker(world, since: dt.date, status=JobSeekerRecord.Status.UNEMPLOYED):
    person = world.person(attended_by=("employment",))
    world.entry(
        JobSeekerRecord,
        person,
        by="employment",
        status=status,
        unemployed_since=since,
        registered_on=since,
    )
    return person


@pytest.mark.parametrize(("days_from_boundary", "expected"), [(1, False), (0, True), (-1, True)])
def test_long_term_unemployment_at_12_months(world, days_from_boundary, expected):
    since = today() - relativedelta(months=12) + dt.timedelta(days=days_from_boundary)
    assert fires("desempleo_larga_duracion_sin_plan", _seeker(world, since)) is expected


def test_long_term_unemployment_in_the_sweep_and_only_for_the_latest_record(world):
    person = _seeker(world, today() - relativedelta(months=20))
    assert fires_in_sweep("desempleo_larga_duracion_sin_plan", person)
    world.entry(
        JobSeekerRecord,
        person,
        by="employment",
        status=JobSeekerRecord.Status.EMPLOYED,
        unemployed_since=None,
    )
    assert not fires("desempleo_larga_duracion_sin_plan", person)


@pytest.mark.skipif(
    JointPlan is None, reason="coordination.JointPlan does not exist yet: joint-plan part untested"
)
@pytest.mark.parametrize(
    ("state", "expected"), [("active", False), ("draft", True), ("closed", True)]
)
def test_long_term_unemployment_not_with_an_active_joint_plan(world, state, expected):
    person = _seeker(world, today() - relativedelta(months=20))
    JointPlan.objects.create(
        person=person,
        title="Itinerario",
        start_date=today() - dt.timedelta(days=10),
        review_date=today() + dt.timedelta(days=60),
        state=state,
        organising_organisation=world.social,
        created_by=world.social_worker,
    )
    assert fires("desempleo_larga_duracion_sin_plan", person) is expected


# --- 3. Household below the poverty threshold, with minors --------------------------------------


def _poverty_case(world, monthly_income: Decimal, *, child_age: int = 15):
    person = world.person()
    world.household([(person, 0), (child_age, None)], monthly_income=monthly_income)
    return person


def test_poverty_threshold_is_the_pinned_one(pinned_thresholds):
    from diagnostics.arope import poverty_threshold_for

    assert poverty_threshold_for(today().year).one_person_eur_year == POVERTY_THRESHOLD


@pytest.mark.parametrize(
    ("monthly", "expected"), [("1499.99", True), ("1500.00", False), ("1500.01", False)]
)
def test_poverty_with_minors_at_the_threshold(world, pinned_thresholds, monthly, expected):
    # an adult and a minor aged 14+: 1.5 consumption units; 12,000 × 1.5 / 12 = 1,500.00 a month
    assert fires("hogar_pobreza_con_menores", _poverty_case(world, Decimal(monthly))) is expected


def test_poverty_with_a_child_under_14_uses_0_3_units(world, pinned_thresholds):
    # 12,000 × 1.3 / 12 = 1,300.00
    assert fires("hogar_pobreza_con_menores", _poverty_case(world, Decimal("1299.99"), child_age=5))
    assert not fires(
        "hogar_pobreza_con_menores", _poverty_case(world, Decimal("1300.00"), child_age=5)
    )


def test_poverty_needs_minors_and_a_recorded_income(world, pinned_thresholds):
    adult = world.person()
    world.household([(adult, 0), (30, 0)], monthly_income=Decimal("100.00"))
    assert not fires("hogar_pobreza_con_menores", adult)
    unknown = world.person()
    world.household([(unknown, 0), (5, None)], monthly_income=None)
    assert not fires("hogar_pobreza_con_menores", unknown)
    assert fires_in_sweep("hogar_pobreza_con_menores", _poverty_case(world, Decimal("100.00")))


def test_poverty_alerts_adults_not_children(world, pinned_thresholds):
    person = _poverty_case(world, Decimal("500.00"))
    household = person.household_memberships.get().household
    child = household.members.exclude(person=person).get().person
    hits = fires("hogar_pobreza_con_menores", person), fires("hogar_pobreza_con_menores", child)
    assert hits == (True, False)


# --- 4. Possible minimum income (IMV) beneficiary --------------------------------------------------


def _imv_case(world, monthly_income: Decimal, size: int = 2):
    person = world.person()
    world.household([(person, 0), *[(30, 0)] * (size - 1)], monthly_income=monthly_income)
    return person


@pytest.mark.parametrize(
    ("monthly", "expected"), [("909.99", True), ("910.00", False), ("910.01", False)]
)
def test_possible_imv_at_the_threshold_for_two_members(world, pinned_thresholds, monthly, expected):
    assert fires("posible_beneficiario_imv", _imv_case(world, Decimal(monthly))) is expected


def test_possible_imv_households_larger_than_the_table_use_its_largest_row(
    world, pinned_thresholds
):
    assert fires(
        "posible_beneficiario_imv", _imv_case(world, IMV_MONTHLY[5] - Decimal("0.01"), size=7)
    )
    assert not fires("posible_beneficiario_imv", _imv_case(world, IMV_MONTHLY[5], size=7))


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (MinimumIncome.Status.GRANTED, False),
        (MinimumIncome.Status.APPLIED, False),
        (MinimumIncome.Status.DENIED, True),
        (MinimumIncome.Status.ENDED, True),
    ],
)
def test_possible_imv_not_when_receiving_or_applied(world, pinned_thresholds, status, expected):
    person = _imv_case(world, Decimal("100.00"))
    world.entry(
        MinimumIncome,
        person,
        by="social",
        scheme=MinimumIncome.Scheme.IMV,
        status=status,
        start_date=today() - dt.timedelta(days=20),
    )
    assert fires("posible_beneficiario_imv", person) is expected


def test_possible_imv_in_the_sweep(world, pinned_thresholds):
    assert fires_in_sweep("posible_beneficiario_imv", _imv_case(world, Decimal("100.00")))


# --- 5. Exclusion level worsened since the last assessment --------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("moderate", "risk", False),
        ("moderate", "moderate", False),
        ("moderate", "severe", True),
        ("integration", "risk", True),
    ],
)
def test_exclusion_worsened(world, before, after, expected):
    person = world.person()
    world.entry(
        ExclusionSituation,
        person,
        by="social",
        severity=before,
        assessed_on=today() - dt.timedelta(days=90),
    )
    world.entry(
        ExclusionSituation,
        person,
        by="social",
        severity=after,
        assessed_on=today() - dt.timedelta(days=2),
    )
    assert fires("empeora_exclusion", person) is expected


def test_exclusion_worsened_compares_instrument_assessments_with_the_social_section(world):
    from diagnostics.models import Instrument, Item
    from diagnostics.services import exclusion_assessment_record

    person = world.person()
    world.entry(
        ExclusionSituation,
        person,
        by="social",
        severity="risk",
        assessed_on=today() - dt.timedelta(days=90),
    )
    instrument = Instrument.objects.get(code="foessa-35")
    items = list(Item.objects.filter(area__instrument=instrument).values_list("pk", flat=True)[:4])
    viewer = Viewer.from_membership(world.social_worker.memberships.get())
    exclusion_assessment_record(
        viewer=viewer,
        person_id=person.pk,
        instrument=instrument,
        present_item_ids=items,
        assessed_on=today(),
    )
    assert fires("empeora_exclusion", person)
    assert fires_in_sweep("empeora_exclusion", person)


def test_exclusion_with_one_assessment_does_not_fire(world):
    person = world.person()
    world.entry(ExclusionSituation, person, by="social", severity="severe", assessed_on=today())
    assert not fires("empeora_exclusion", person)


# --- 6. Consent expires within 30 days ------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_left", "expected"), [(-1, False), (0, True), (29, True), (30, True), (31, False)]
)
def test_consent_expiring_at_30_days(world, days_left, expected):
    person = world.person()
    world.consent(
        person,
        valid_from=today() - dt.timedelta(days=300),
        given_on=today() - dt.timedelta(days=300),
        valid_until=today() + dt.timedelta(days=days_left),
    )
    assert fires("consentimiento_caduca", person) is expected


def test_consent_expiring_not_when_renewed_or_revoked(world):
    person = world.person()
    world.consent(
        person,
        valid_from=today() - dt.timedelta(days=300),
        given_on=today() - dt.timedelta(days=300),
        valid_until=today() + dt.timedelta(days=10),
    )
    assert fires_in_sweep("consentimiento_caduca", person)
    world.consent(person, valid_until=today() + dt.timedelta(days=400))
    assert not fires("consentimiento_caduca", person)

    other = world.person()
    consent = world.consent(
        other,
        valid_from=today() - dt.timedelta(days=300),
        given_on=today() - dt.timedelta(days=300),
        valid_until=today() + dt.timedelta(days=10),
    )
    ConsentRevocation.objects.create(
        consent=consent, revoked_by=world.social_worker, channel="in_person"
    )
    assert not fires("consentimiento_caduca", other)


# --- 7. Referral unanswered for more than 10 working days -----------------------------------------


def _referral(world, person, sent_on: dt.date, state="sent"):
    sent_at = timezone.make_aware(dt.datetime.combine(sent_on, dt.time(10, 0)))
    return Referral.objects.create(
        person=person,
        from_organisation=world.social,
        to_organisation=world.employment,
        reason="Orientación laboral",
        categories=["ficha_basica"],
        state=state,
        sent_at=sent_at,
        sent_by=world.social_worker,
    )


@needs_referral
@pytest.mark.parametrize(("working_days", "expected"), [(10, False), (11, True), (12, True)])
def test_referral_unanswered_at_10_working_days(world, working_days, expected):
    person = world.person()
    # sent on the n-th working day back, counting today if it is one: n-1 working days have passed since
    sent_on = nth_working_day_back(today(), working_days + 1, world.employment.community_id)
    _referral(world, person, sent_on)
    assert fires("derivacion_sin_respuesta", person) is expected


@needs_referral
def test_referral_answered_does_not_fire_and_the_sweep_finds_pending_ones(world):
    old = today() - dt.timedelta(days=60)
    answered, pending = world.person(), world.person()
    _referral(world, answered, old, state="accepted")
    _referral(world, pending, old)
    assert not fires("derivacion_sin_respuesta", answered)
    assert fires_in_sweep("derivacion_sin_respuesta", pending)


def test_working_days_skip_weekends_and_regional_holidays():
    from diagnostics.workdays import is_working_day, working_days_between

    assert not is_working_day(dt.date(2025, 4, 23), "07")  # 23 April: Castilla y León's day
    assert is_working_day(dt.date(2025, 4, 23), "08")  # a working Wednesday in Castilla-La Mancha
    assert not is_working_day(dt.date(2025, 10, 12), None)  # Sunday
    assert not is_working_day(dt.date(2025, 12, 8), "07")  # Inmaculada (national)
    # Friday 18 April 2025 (Good Friday) to Friday 25 April in Castilla y León: 21, 22, 24, 25
    assert working_days_between(dt.date(2025, 4, 18), dt.date(2025, 4, 25), "07") == 4


# --- 8. No diary contact for 90 days ---------------------------------------------------------------


def _contact_case(world, days_ago: int | None, *, attended_since_days: int = 400):
    """A person attended by social services; with a consent for prevention, so that the social
    worker sees the diary of every service (the rule reads all of them) and receives the alert."""
    person = world.person()
    world.consent(person)
    Enrolment.objects.filter(person=person).update(
        start_date=today() - dt.timedelta(days=attended_since_days)
    )
    if days_ago is not None:
        world.entry(
            DiaryEntry,
            person,
            by="social",
            kind=DiaryEntry.Kind.INTERVIEW,
            happened_at=noon(days_ago),
        )
    return person


def noon(days_ago: int) -> dt.datetime:
    """Midday, local time, ``days_ago`` days before today: a date no time zone shift can move."""
    return timezone.make_aware(
        dt.datetime.combine(today() - dt.timedelta(days=days_ago), dt.time(12))
    )


@pytest.mark.parametrize(("days_ago", "expected"), [(89, False), (90, True), (91, True)])
def test_no_contact_at_90_days(world, days_ago, expected):
    assert fires("sin_contacto", _contact_case(world, days_ago)) is expected


def test_no_contact_counts_from_the_enrolment_when_there_is_no_diary(world):
    assert fires_in_sweep("sin_contacto", _contact_case(world, None, attended_since_days=90))
    assert not fires("sin_contacto", _contact_case(world, None, attended_since_days=89))


def test_no_contact_counts_from_the_enrolment_when_it_is_later_than_the_last_contact(world):
    # attended for 30 days; another service's last contact was 200 days ago: not 90 days yet
    assert not fires("sin_contacto", _contact_case(world, 200, attended_since_days=30))


def test_a_future_appointment_is_not_a_contact(world):
    person = _contact_case(world, 120)
    world.entry(
        DiaryEntry,
        person,
        by="social",
        kind=DiaryEntry.Kind.APPOINTMENT,
        happened_at=timezone.now() + dt.timedelta(days=3),
    )
    assert fires("sin_contacto", person)


# --- 9. The same resource given by two organisations at once ----------------------------------------


def _planned(world, person, organisation, service_code=1, *, ended_days_ago: int | None = None):
    end = today() - dt.timedelta(days=ended_days_ago) if ended_days_ago is not None else None
    return make_section_entry(
        PlannedService,
        person=person,
        organisation=organisation,
        basic_service=BasicSocialService.objects.get(pk=service_code),
        start_date=today() - dt.timedelta(days=100),
        end_date=end,
    )


def test_duplicated_resource(world):
    regional = OrganisationFactory()
    once, twice, different, ended = (world.person() for _ in range(4))
    _planned(world, once, world.social)
    for org in (world.social, regional):
        _planned(world, twice, org)
    _planned(world, different, world.social, 1)
    _planned(world, different, regional, 2)
    _planned(world, ended, world.social)
    _planned(world, ended, regional, ended_days_ago=1)
    assert [fires("duplicidad_recurso", p) for p in (once, twice, different, ended)] == [
        False,
        True,
        False,
        False,
    ]
    assert fires_in_sweep("duplicidad_recurso", twice)


@needs_plans
def test_duplicated_plan_action_type(world):
    person = world.person()
    plan = JointPlan.objects.create(
        person=person,
        title="Itinerario",
        start_date=today() - dt.timedelta(days=10),
        review_date=today() + dt.timedelta(days=60),
        state="active",
        organising_organisation=world.social,
        created_by=world.social_worker,
    )
    for org in (world.social, world.employment):
        PlanAction.objects.create(
            plan=plan,
            owner_organisation=org,
            owner_service=org.kind,
            action_type="orientacion",
            description="Orientación",
            category="itinerario_empleo",
            start_date=today() - dt.timedelta(days=5),
            state="en_curso",
            created_by=world.social_worker,
        )
    assert fires("duplicidad_recurso", person)


def _plan_with_two_orientations(world, person, *, participants, category="itinerario_empleo"):
    """An active joint plan of ``participants`` in which social services and the employment
    office both give "orientacion" (the same action type twice), under ``category``."""
    plan = JointPlan.objects.create(
        person=person,
        title="Itinerario",
        start_date=today() - dt.timedelta(days=10),
        review_date=today() + dt.timedelta(days=60),
        state="active",
        organising_organisation=world.social,
        created_by=world.social_worker,
    )
    plan.organisations.set(participants)
    for org in (world.social, world.employment):
        PlanAction.objects.create(
            plan=plan,
            owner_organisation=org,
            owner_service=org.kind,
            action_type="orientacion",
            description="Orientación",
            category=category,
            start_date=today() - dt.timedelta(days=5),
            state="en_curso",
            created_by=world.social_worker,
        )
    return plan


@needs_plans
def test_a_duplicated_plan_action_reaches_the_plan_s_participants_only(world):
    """An entity that attends the person but takes no part in the plan hears nothing of it."""
    person = world.person(attended_by=("social", "employment", "ngo"))
    world.consent(person)
    _plan_with_two_orientations(world, person, participants=[world.social, world.employment])
    sweep("duplicidad_recurso")
    deliveries = {
        d.organisation_id: d for d in AlertDelivery.objects.filter(alert__person=person)
    }
    assert set(deliveries) == {world.social.pk, world.employment.pk}
    employment = deliveries[world.employment.pk]
    # read under the action's own category, not as a planned social service
    assert employment.levels == {"itinerario_empleo": "full"}
    assert "Recursos: orientacion." in employment.text
    assert set(deliveries[world.social.pk].levels) == {"itinerario_empleo"}


@needs_plans
def test_an_entity_in_the_plan_hears_of_it(world):
    person = world.person(attended_by=("social", "employment", "ngo"))
    world.consent(person)
    _plan_with_two_orientations(
        world, person, participants=[world.social, world.employment, world.ngo]
    )
    sweep("duplicidad_recurso")
    ngo = AlertDelivery.objects.get(alert__person=person, organisation=world.ngo)
    assert set(ngo.levels) == {"itinerario_empleo"}


@needs_plans
def test_an_outside_entity_hears_only_of_the_record_s_duplicated_services(world):
    """The same person has a basic social service planned twice (the record, for everyone who
    attends them) and a duplicated plan action (for the plan's participants): the entity outside
    the plan gets the alert for the first only."""
    person = world.person(attended_by=("social", "employment", "ngo"))
    world.consent(person)
    _plan_with_two_orientations(world, person, participants=[world.social, world.employment])
    for organisation in (world.social, OrganisationFactory()):
        _planned(world, person, organisation, 2)
    sweep("duplicidad_recurso")
    ngo = AlertDelivery.objects.get(alert__person=person, organisation=world.ngo)
    assert set(ngo.levels) == {"servicios_planificados"}
    assert "orientacion" not in ngo.text and "orientacion" not in ngo.plain_text
    social = AlertDelivery.objects.get(alert__person=person, organisation=world.social)
    assert set(social.levels) == {"servicios_planificados", "itinerario_empleo"}
    label = BasicSocialService.objects.get(pk=2).label
    assert label in social.text and "orientacion" in social.text


# --- The sweep: dedup, automatic resolution, silence --------------------------------------------------


def test_running_the_sweep_again_never_duplicates(world):
    person = _contact_case(world, 120)
    first = sweep("sin_contacto")
    again = sweep("sin_contacto")
    assert first.summary()["created"] >= 1
    assert again.summary()["created"] == 0 and again.summary()["deliveries"] == 0
    assert open_alerts("sin_contacto", person).count() == 1
    sweep("sin_contacto", person_ids=[person.pk])
    assert open_alerts("sin_contacto", person).count() == 1
    assert AlertDelivery.objects.filter(alert__person=person).count() == 1


def test_the_database_refuses_a_second_unresolved_alert(world):
    person = world.person()
    Alert.objects.create(rule=rule("sin_contacto"), person=person)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(
            rule=rule("sin_contacto"), person=person, state=AlertState.ACKNOWLEDGED
        )
    Alert.objects.create(
        rule=rule("sin_contacto"),
        person=person,
        state=AlertState.RESOLVED,
        resolved_at=timezone.now(),
    )


def test_an_alert_whose_condition_no_longer_holds_is_resolved_automatically(world):
    person = _contact_case(world, 120)
    sweep("sin_contacto")
    world.entry(
        DiaryEntry,
        person,
        by="social",
        kind=DiaryEntry.Kind.PHONE_CALL,
        happened_at=timezone.now() - dt.timedelta(hours=1),
    )
    result = sweep("sin_contacto", person_ids=[person.pk])
    alert = Alert.objects.get(rule__code="sin_contacto", person=person)
    assert result.summary()["resolved"] == 1
    assert alert.state == AlertState.RESOLVED and alert.resolved_by is None
    assert alert.resolution_note == AUTO_RESOLUTION_NOTE


def test_the_per_person_evaluation_leaves_other_persons_alone(world):
    first, second = _contact_case(world, 120), _contact_case(world, 120)
    sweep("sin_contacto")
    world.entry(
        DiaryEntry,
        second,
        by="social",
        kind=DiaryEntry.Kind.PHONE_CALL,
        happened_at=timezone.now() - dt.timedelta(hours=1),
    )
    sweep("sin_contacto", person_ids=[first.pk])
    assert open_alerts("sin_contacto", second).count() == 1


def test_a_rule_resolved_by_a_person_stays_silent_for_its_silence_days(world):
    person = _contact_case(world, 120)
    sweep("sin_contacto")
    delivery = AlertDelivery.objects.get(alert__person=person)
    viewer = Viewer.from_membership(world.social_worker.memberships.get())
    alert_resolve(
        viewer=viewer, delivery=delivery, note="Llamada pendiente, hablado con la familia."
    )
    assert sweep("sin_contacto").summary()["created"] == 0
    Alert.objects.filter(person=person).update(resolved_at=timezone.now() - dt.timedelta(days=31))
    assert sweep("sin_contacto").summary()["created"] == 1


def test_a_silenced_person_does_not_silence_anyone_else(world):
    silenced, other = _contact_case(world, 120), _contact_case(world, 120)
    sweep("sin_contacto")
    delivery = AlertDelivery.objects.get(alert__person=silenced)
    viewer = Viewer.from_membership(world.social_worker.memberships.get())
    alert_resolve(viewer=viewer, delivery=delivery, note="Visita concertada.")
    Alert.objects.filter(person=other).delete()
    assert sweep("sin_contacto").summary()["created"] == 1
    assert open_alerts("sin_contacto", other).count() == 1
    assert not open_alerts("sin_contacto", silenced).exists()


def test_an_inactive_rule_does_not_run_and_bad_thresholds_skip_the_rule(world):
    person = _contact_case(world, 120)
    AlertRule.objects.filter(code="sin_contacto").update(is_active=False)
    assert sweep("sin_contacto").summary()["created"] == 0
    AlertRule.objects.filter(code="sin_contacto").update(
        is_active=True, thresholds={"days": "noventa"}
    )
    result = sweep("sin_contacto")
    assert "sin_contacto" in result.summary()["skipped"]
    assert not open_alerts("sin_contacto", person).exists()


def test_thresholds_edited_by_the_administrator_apply(world):
    person = _contact_case(world, 40)
    assert not fires("sin_contacto", person)
    AlertRule.objects.filter(code="sin_contacto").update(thresholds={"days": 30})
    assert fires("sin_contacto", person)
