"""An alert shown to a user never contains a value of a category that user sees as an
indicator or not at all — for every rule and every role that reads alerts.

Two persons for whom every rule fires, with distinctive values: one has a reference
professional in each organisation that attends them (personal deliveries), the other
has none at social services (the centre's queue, read by its social worker and its
coordinator) and an unemployment benefit restricted by the employment office (origin
block). The world is built in three consent states. Each user's levels are computed
here, independently, with ``sharing.policy.load_facts`` and ``decide``; every value of
every category below full must be absent from every text the user is shown.

Then, rule by rule, a person built so that one recipient sees a category of the rule as an
indicator, another in full and a third one of its categories hidden: the values recorded reach
the second (delivery, inbox, page) and never the first, and the third gets nothing. Last, the
origin block of an exclusion assessment, the no-contact rule's withheld date, and what each
party to an overdue referral is told.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from cases.models import (
    DiaryEntry,
    ExclusionSituation,
    JobSeekerRecord,
    Person,
    PlannedService,
    ReferenceProfessional,
    UnemploymentBenefit,
)
from consent.purposes import Purpose
from diagnostics.models import AlertDelivery, ExclusionLevel
from diagnostics.rules import RULES
from diagnostics.selectors import inbox_for
from diagnostics.services import rule_hits
from diagnostics.text import fmt_date, fmt_eur
from ris.accounts.models import Role
from ris.accounts.viewer import Viewer
from ris.reference.models import AutonomousCommunity, BasicSocialService
from sharing.models import Enrolment, SharingAgreement, VisibilityRule
from sharing.policy import FULL, decide, load_facts, min_level, source_services
from tests.factories import OrganisationFactory, make_section_entry

from .conftest import IMV_MONTHLY, POVERTY_THRESHOLD, PREVENTION, rule, sweep, today

pytestmark = pytest.mark.django_db

READERS = ("social_worker", "employment_counsellor", "ngo_technician", "coordinator")
INCOME = Decimal("612.34")


def _referral_model():
    try:
        return apps.get_model("coordination", "Referral")
    except LookupError:
        return None


def _at_risk_person(world, *, social_professional: bool, restricted_benefit: bool, consent: str):
    person = world.person(attended_by=("social", "employment", "ngo"), professionals=False)
    for key in ("social", "employment", "ngo"):
        if key != "social" or social_professional:
            ReferenceProfessional.objects.create(
                person=person,
                organisation=getattr(world, key),
                professional=world.professional_of(key),
            )
    Enrolment.objects.filter(person=person).update(start_date=today() - dt.timedelta(days=400))
    world.household([(person, 0), (8, None), (15, None)], monthly_income=INCOME)
    world.entry(
        UnemploymentBenefit,
        person,
        by="employment",
        kind="assistance",
        monthly_amount=INCOME,
        start_date=today() - dt.timedelta(days=500),
        end_date=today() + dt.timedelta(days=37),
        restricted=restricted_benefit,
    )
    world.entry(
        JobSeekerRecord,
        person,
        by="employment",
        status="unemployed",
        unemployed_since=today() - relativedelta(months=19, days=3),
    )
    world.entry(
        ExclusionSituation,
        person,
        by="social",
        severity="risk",
        assessed_on=today() - dt.timedelta(days=211),
    )
    world.entry(
        ExclusionSituation,
        person,
        by="social",
        severity="severe",
        assessed_on=today() - dt.timedelta(days=6),
    )
    world.entry(
        DiaryEntry,
        person,
        by="social",
        kind="interview",
        happened_at=timezone.now() - dt.timedelta(days=137),
    )
    for organisation in (world.social, OrganisationFactory()):
        make_section_entry(
            PlannedService,
            person=person,
            organisation=organisation,
            basic_service=BasicSocialService.objects.get(pk=2),
            start_date=today() - dt.timedelta(days=50),
        )
    expiring = {
        "valid_from": today() - dt.timedelta(days=300),
        "given_on": today() - dt.timedelta(days=300),
        "valid_until": today() + dt.timedelta(days=23),
    }
    if consent == "all":
        world.consent(person, **expiring)
    elif consent == "no_economy":
        world.consent(
            person, denied_categories=["situacion_economica", "prestaciones_estatales"], **expiring
        )
    else:  # a consent that does not cover prevention: the consent rule fires, nothing is shared
        world.consent(person, purposes=(Purpose.FOLLOW_UP.value,), **expiring)
    Referral = _referral_model()
    if Referral is not None:
        Referral.objects.create(
            person=person,
            from_organisation=world.social,
            to_organisation=world.employment,
            reason="Orientación",
            categories=["ficha_basica"],
            sent_at=timezone.now() - dt.timedelta(days=40),
            sent_by=world.social_worker,
        )
    return person


def build_scenario(world, coordinator, state: str):
    SharingAgreement.objects.create(
        organisation=world.ngo,
        title="Convenio",
        community=AutonomousCommunity.objects.get(code="07"),
        categories=[
            "unidad_convivencia",
            "exclusion_social",
            "atenciones",
            "servicios_planificados",
        ],
        purposes=[PREVENTION],
        valid_from=today() - dt.timedelta(days=10),
        valid_until=today() + dt.timedelta(days=90),
        processing_terms="art. 28 RGPD",
    )
    persons = [
        _at_risk_person(world, social_professional=True, restricted_benefit=False, consent=state),
        _at_risk_person(world, social_professional=False, restricted_benefit=True, consent=state),
    ]
    sweep()
    users = {
        "social_worker": world.social_worker,
        "employment_counsellor": world.employment_counsellor,
        "ngo_technician": world.ngo_technician,
        "coordinator": coordinator,
    }
    return state, persons, users


@pytest.fixture(params=["all", "no_economy", "none"])
def scenario(request, world, coordinator, pinned_thresholds):
    return build_scenario(world, coordinator, request.param)


def value_strings(value) -> set[str]:
    """The ways a fact value could appear in a Spanish text."""
    if value is None or isinstance(value, bool):
        return set()
    if isinstance(value, dict):
        return set().union(set(), *(value_strings(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(set(), *(value_strings(v) for v in value))
    if isinstance(value, int):
        out = {
            f": {value}.",
            f"({value} ",
            f" {value} días",
            f" {value} meses",
            f"{value} miembros",
        }
        return out | ({str(value)} if value >= 1000 else set())
    if isinstance(value, float | Decimal):
        return {fmt_eur(value), str(value)}
    if isinstance(value, str):
        out = {value}
        try:
            out.add(fmt_date(value))
        except ValueError:
            pass
        labels = {**dict(ExclusionLevel.choices), **dict(UnemploymentBenefit.Kind.choices)}
        if value in labels:
            out.add(str(labels[value]))
        return out
    raise TypeError(value)


def levels_seen_by(user, person, blocked) -> dict[str, str]:
    membership = user.memberships.get()
    viewer = Viewer.from_membership(membership)
    facts = load_facts(viewer=viewer, person_id=person.pk, purpose=PREVENTION)
    categories = {c for r in RULES.values() for c in r.categories}
    levels = {
        c: min_level(*(decide(facts, c, s).level for s in source_services(c))) for c in categories
    }
    for category, by_service in blocked:
        if by_service != viewer.service:
            levels[category] = min_level(levels[category], "indicator")
    return levels


@pytest.mark.parametrize("reader", READERS)
def test_no_alert_text_shows_a_value_the_reader_may_not_see(scenario, reader):
    state, persons, users = scenario
    user = users[reader]
    viewer = Viewer.from_membership(user.memberships.get())
    inbox = inbox_for(viewer=viewer)
    rows = inbox.mine + inbox.queue
    checked = 0
    for person in persons:
        hits = {
            code: rule_hits(rule(code), person_ids=[person.pk]).get(person.pk) for code in RULES
        }
        for row in (r for r in rows if r.person_id == person.pk):
            code = next(c for c, d in RULES.items() if str(d.title) == row.rule_title)
            facts = hits[code]
            assert facts is not None, (code, "delivered but does not fire")
            levels = levels_seen_by(user, person, facts.get("_blocked", []))
            for category in RULES[code].categories:
                if levels[category] == FULL:
                    continue
                for text in value_strings(facts.get(category)):
                    assert text not in row.text, (state, reader, code, category, text, row.text)
            checked += 1
    if state == "all" or reader in ("social_worker", "coordinator"):
        assert checked > 0, (
            f"{reader} received no alert in state {state}: the test would prove nothing"
        )


def test_the_detailed_text_does_show_what_the_reader_sees_in_full(
    world, coordinator, pinned_thresholds
):
    """The positive control: with the full consent, values of categories seen in full do appear."""
    state, persons, users = build_scenario(world, coordinator, "all")
    social = inbox_for(viewer=Viewer.from_membership(users["social_worker"].memberships.get()))
    texts = " ".join(r.text for r in social.mine)
    assert fmt_eur(INCOME) in texts  # the household's income: the social worker's own category
    assert "Menores en el hogar: 2." in texts
    counsellor = inbox_for(
        viewer=Viewer.from_membership(users["employment_counsellor"].memberships.get())
    )
    poverty = [r.text for r in counsellor.mine if r.rule_title == "Riesgo de pobreza infantil"]
    assert poverty and all("servicios sociales" in t and "€" not in t for t in poverty)


def test_a_reader_who_sees_a_category_hidden_gets_no_alert_of_that_rule(
    world, coordinator, pinned_thresholds
):
    state, persons, users = build_scenario(world, coordinator, "none")
    counsellor = inbox_for(
        viewer=Viewer.from_membership(users["employment_counsellor"].memberships.get())
    )
    titles = {r.rule_title for r in counsellor.mine + counsellor.queue}
    # without a basis the household categories (social services') are hidden from employment
    assert str(RULES["hogar_pobreza_con_menores"].title) not in titles
    assert str(RULES["desempleo_larga_duracion_sin_plan"].title) in titles  # its own category


def test_the_coordinator_reads_the_queue_built_for_the_most_restricted_role(
    world, coordinator, pinned_thresholds
):
    from sharing.models import VisibilityRule

    VisibilityRule.objects.filter(
        role=Role.COORDINATOR, category_id="situacion_economica", community__isnull=True
    ).update(level="indicator")
    person = _at_risk_person(
        world, social_professional=False, restricted_benefit=False, consent="all"
    )
    sweep("hogar_pobreza_con_menores")
    for user in (world.social_worker, coordinator):
        [row] = inbox_for(viewer=Viewer.from_membership(user.memberships.get())).queue
        assert row.person_id == person.pk and "€" not in row.text


# --- Every rule, with a recipient below full ---------------------------------------------------
#
# The scenarios above give every reader full sight of the categories of five rules, so for them
# the check above cannot fail. Here each rule gets its own person, built so that one recipient
# sees a category the rule reads as an indicator (the default matrix, a regional matrix row, an
# NGO agreement that leaves the category out, or an entry restricted at origin), another sees it
# in full and a third sees one of the rule's categories hidden. The values the scenario recorded
# must reach the full reader (so they really are in the alert's facts) and never the other.

SOCIAL, EMPLOYMENT, THIRD_SECTOR = "social", "employment", "third_sector"


@dataclass(frozen=True)
class Below:
    """A category of the rule that ``reader`` sees as an indicator and ``full_reader`` in full,
    with the values the scenario recorded in it, as an alert text would write them."""

    category: str
    reader: str
    full_reader: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class RuleCase:
    person: Person
    below: tuple[Below, ...]
    hidden_reader: str  # attends the person, and sees one of the rule's categories hidden


def noon(days_ago: int) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime.combine(today() - dt.timedelta(days=days_ago), dt.time(12))
    )


def _attended_by_all(world, *, grantees=(SOCIAL, EMPLOYMENT, THIRD_SECTOR), **consent) -> Person:
    """A person attended by the three organisations, each with its reference professional, since
    long ago; with a consent for prevention granted to the services given."""
    person = world.person(attended_by=("social", "employment", "ngo"))
    Enrolment.objects.filter(person=person).update(start_date=today() - dt.timedelta(days=400))
    world.consent(person, services=list(grantees), **consent)
    return person


def _ngo_agreement(world, categories: list[str]) -> None:
    SharingAgreement.objects.create(
        organisation=world.ngo,
        title="Convenio de prevención",
        community=AutonomousCommunity.objects.get(code="07"),
        categories=categories,
        purposes=[PREVENTION],
        valid_from=today() - dt.timedelta(days=10),
        valid_until=today() + dt.timedelta(days=90),
        processing_terms="art. 28 RGPD",
    )


def _regional_matrix(role: str, category: str, level: str) -> None:
    """A Castilla y León row of the visibility matrix, overriding the national one."""
    VisibilityRule.objects.create(role=role, category_id=category, community_id="07", level=level)


def _case_benefit_ending(world) -> RuleCase:
    person = _attended_by_all(world, grantees=(SOCIAL, EMPLOYMENT))
    income, ends = Decimal("987.65"), today() + dt.timedelta(days=37)
    world.household([(person, 0), (8, None), (15, None)], monthly_income=income)
    world.entry(
        UnemploymentBenefit,
        person,
        by="employment",
        kind=UnemploymentBenefit.Kind.ASSISTANCE,
        monthly_amount=Decimal("1234.56"),
        start_date=today() - dt.timedelta(days=300),
        end_date=ends,
    )
    return RuleCase(
        person,
        (
            # the benefit's detail is an indicator for social workers (default matrix)
            Below(
                "prestaciones_estatales",
                "social_worker",
                "employment_counsellor",
                (fmt_date(ends), str(UnemploymentBenefit.Kind.ASSISTANCE.label), "37 días"),
            ),
            # the household's economy is an indicator for employment counsellors (default matrix)
            Below(
                "situacion_economica", "employment_counsellor", "social_worker", (fmt_eur(income),)
            ),
        ),
        hidden_reader="ngo_technician",  # the consent does not reach the NGO
    )


def _case_long_term_unemployment(world) -> RuleCase:
    person = _attended_by_all(world, grantees=(SOCIAL, EMPLOYMENT))
    since = today() - relativedelta(months=19, days=3)
    world.entry(
        JobSeekerRecord,
        person,
        by="employment",
        status="unemployed",
        unemployed_since=since,
        restricted=True,  # origin block: other services get at most an indicator
    )
    return RuleCase(
        person,
        (
            Below(
                "demanda_empleo",
                "social_worker",
                "employment_counsellor",
                (fmt_date(since), "19 meses"),
            ),
        ),
        hidden_reader="ngo_technician",
    )


def _case_poverty(world) -> RuleCase:
    person = _attended_by_all(world, grantees=(SOCIAL, EMPLOYMENT))
    income = Decimal("612.34")
    world.household([(person, 0), (8, None), (15, None)], monthly_income=income)
    # modified OECD scale: 1 + 0.3 (under 14) + 0.5 (14 or over) = 1.8 consumption units
    equivalised = (income * 12 / Decimal("1.8")).quantize(Decimal("0.01"))
    return RuleCase(
        person,
        (
            Below(
                "situacion_economica",
                "employment_counsellor",
                "social_worker",
                (fmt_eur(equivalised), fmt_eur(POVERTY_THRESHOLD)),
            ),
        ),
        hidden_reader="ngo_technician",
    )


def _case_possible_imv(world) -> RuleCase:
    person = _attended_by_all(world, grantees=(SOCIAL, EMPLOYMENT))
    income = Decimal("612.34")
    world.household([(person, 0), (35, 0), (15, None)], monthly_income=income)
    return RuleCase(
        person,
        (
            Below(
                "situacion_economica",
                "employment_counsellor",
                "social_worker",
                (fmt_eur(income), fmt_eur(IMV_MONTHLY[3])),
            ),
        ),
        hidden_reader="ngo_technician",
    )


def _case_exclusion_worsened(world) -> RuleCase:
    person = _attended_by_all(world, grantees=(SOCIAL, THIRD_SECTOR))
    _ngo_agreement(world, ["unidad_convivencia", "atenciones"])  # not the exclusion assessment
    for severity, days_ago in (("moderate", 211), ("severe", 6)):
        world.entry(
            ExclusionSituation,
            person,
            by="social",
            severity=severity,
            assessed_on=today() - dt.timedelta(days=days_ago),
        )
    labels = dict(ExclusionLevel.choices)
    return RuleCase(
        person,
        (
            Below(
                "exclusion_social",
                "ngo_technician",
                "social_worker",
                (
                    str(labels["moderate"]),
                    str(labels["severe"]),
                    fmt_date(today() - dt.timedelta(days=211)),
                    fmt_date(today() - dt.timedelta(days=6)),
                ),
            ),
        ),
        hidden_reader="employment_counsellor",  # the consent does not reach employment
    )


def _case_consent_expiring(world) -> RuleCase:
    until = today() + dt.timedelta(days=23)
    person = _attended_by_all(
        world,
        valid_from=today() - dt.timedelta(days=300),
        given_on=today() - dt.timedelta(days=300),
        valid_until=until,
    )
    _regional_matrix(Role.EMPLOYMENT_COUNSELLOR, "ficha_basica", "indicator")
    _regional_matrix(Role.NGO_TECHNICIAN, "ficha_basica", "hidden")
    return RuleCase(
        person,
        (
            Below(
                "ficha_basica",
                "employment_counsellor",
                "social_worker",
                (fmt_date(until), "23 días"),
            ),
        ),
        hidden_reader="ngo_technician",
    )


def _case_referral_unanswered(world) -> RuleCase:
    Referral = _referral_model()
    person = _attended_by_all(world)
    sent_at = noon(40)
    # the three organisations are parties: social services and the NGO sent, employment received
    for sender, by, receiver in (
        (world.social, world.social_worker, world.employment),
        (world.ngo, world.ngo_technician, world.social),
    ):
        Referral.objects.create(
            person=person,
            from_organisation=sender,
            to_organisation=receiver,
            reason="Orientación laboral",
            categories=["ficha_basica"],
            sent_at=sent_at,
            sent_by=by,
        )
    _regional_matrix(Role.EMPLOYMENT_COUNSELLOR, "ficha_basica", "indicator")
    _regional_matrix(Role.NGO_TECHNICIAN, "ficha_basica", "hidden")
    return RuleCase(
        person,
        (
            Below(
                "ficha_basica",
                "employment_counsellor",
                "social_worker",
                (fmt_date(timezone.localdate(sent_at)),),
            ),
        ),
        hidden_reader="ngo_technician",
    )


def _case_no_contact(world) -> RuleCase:
    person = _attended_by_all(world, grantees=(SOCIAL, THIRD_SECTOR))
    _ngo_agreement(world, ["unidad_convivencia", "exclusion_social"])  # not the diary
    world.entry(DiaryEntry, person, by="social", kind="interview", happened_at=noon(137))
    return RuleCase(
        person,
        (
            Below(
                "atenciones",
                "ngo_technician",
                "social_worker",
                (fmt_date(today() - dt.timedelta(days=137)),),
            ),
        ),
        hidden_reader="employment_counsellor",
    )


def _case_duplicated_resource(world) -> RuleCase:
    person = _attended_by_all(world, grantees=(SOCIAL, THIRD_SECTOR))
    _ngo_agreement(world, ["unidad_convivencia", "atenciones"])  # not the planned services
    service = BasicSocialService.objects.get(pk=2)
    for organisation in (world.social, OrganisationFactory()):
        make_section_entry(
            PlannedService,
            person=person,
            organisation=organisation,
            basic_service=service,
            start_date=today() - dt.timedelta(days=50),
        )
    return RuleCase(
        person,
        (Below("servicios_planificados", "ngo_technician", "social_worker", (service.label,)),),
        hidden_reader="employment_counsellor",
    )


CASES = {
    "fin_prestacion_con_menores": _case_benefit_ending,
    "desempleo_larga_duracion_sin_plan": _case_long_term_unemployment,
    "hogar_pobreza_con_menores": _case_poverty,
    "posible_beneficiario_imv": _case_possible_imv,
    "empeora_exclusion": _case_exclusion_worsened,
    "consentimiento_caduca": _case_consent_expiring,
    "derivacion_sin_respuesta": _case_referral_unanswered,
    "sin_contacto": _case_no_contact,
    "duplicidad_recurso": _case_duplicated_resource,
}


@dataclass(frozen=True)
class Shown:
    """One alert as one reader meets it: the delivery, its inbox row and the inbox page."""

    delivery: AlertDelivery
    texts: dict[str, str]


ORGANISATION_OF = {
    "social_worker": "social",
    "employment_counsellor": "employment",
    "ngo_technician": "ngo",
}


def _persona(world, key: str):
    return world.professional_of(ORGANISATION_OF[key])


def _inbox_url(user) -> str:
    membership = user.memberships.get()
    return reverse(
        "portal:alert_inbox" if membership.role == Role.NGO_TECHNICIAN else "alerts:inbox"
    )


def shown_to(world, client_for, key: str, person: Person, code: str) -> Shown:
    user = _persona(world, key)
    membership = user.memberships.get()
    delivery = AlertDelivery.objects.get(
        alert__person=person, alert__rule__code=code, organisation=membership.organisation
    )
    assert delivery.recipient_id == user.pk  # their own alert, as reference professional
    [row] = [
        r
        for r in inbox_for(viewer=Viewer.from_membership(membership)).mine
        if r.delivery_id == delivery.pk
    ]
    response = client_for(user).get(_inbox_url(user))
    assert response.status_code == 200
    return Shown(
        delivery,
        {
            "text": delivery.text,
            "plain_text": delivery.plain_text,
            "inbox row": row.text,
            "inbox page": response.content.decode(),
        },
    )


def test_every_rule_has_a_scenario_with_a_recipient_below_full():
    assert set(CASES) == set(RULES)


@pytest.mark.parametrize("code", sorted(RULES))
def test_a_recipient_who_sees_a_category_as_an_indicator_is_never_shown_its_values(
    world, client_for, pinned_thresholds, code
):
    if any(m == "Referral" for m in RULES[code].depends_on) and _referral_model() is None:
        pytest.skip("coordination.Referral does not exist")
    case = CASES[code](world)
    sweep(code)
    facts = rule_hits(rule(code), person_ids=[case.person.pk])[case.person.pk]
    blocked = facts.get("_blocked", [])
    for below in case.below:
        reader, full = _persona(world, below.reader), _persona(world, below.full_reader)
        # the scenario is what it says: levels computed here, independently of the delivery
        assert levels_seen_by(reader, case.person, blocked)[below.category] == "indicator"
        assert levels_seen_by(full, case.person, blocked)[below.category] == FULL
        seen_in_full = shown_to(world, client_for, below.full_reader, case.person, code)
        withheld = shown_to(world, client_for, below.reader, case.person, code)
        assert seen_in_full.delivery.levels[below.category] == FULL
        assert withheld.delivery.levels[below.category] == "indicator"
        for value in below.values:
            for where in ("text", "inbox row", "inbox page"):
                assert value in seen_in_full.texts[where], (below.full_reader, where, value)
            for where, text in withheld.texts.items():
                assert value not in text, (below.reader, below.category, where, value, text)
        # and whatever else the rule found in that category
        for value in value_strings(facts.get(below.category)):
            assert value not in withheld.delivery.text, (below.category, value)


@pytest.mark.parametrize("code", sorted(RULES))
def test_a_recipient_who_sees_a_category_of_the_rule_hidden_gets_no_delivery(
    world, client_for, pinned_thresholds, code
):
    if any(m == "Referral" for m in RULES[code].depends_on) and _referral_model() is None:
        pytest.skip("coordination.Referral does not exist")
    case = CASES[code](world)
    sweep(code)
    facts = rule_hits(rule(code), person_ids=[case.person.pk])[case.person.pk]
    user = _persona(world, case.hidden_reader)
    membership = user.memberships.get()
    levels = levels_seen_by(user, case.person, facts.get("_blocked", []))
    assert "hidden" in {levels[c] for c in RULES[code].categories}
    assert Enrolment.objects.filter(
        person=case.person, organisation=membership.organisation
    ).exists()
    assert AlertDelivery.objects.filter(alert__person=case.person, alert__rule__code=code).exists()
    assert not AlertDelivery.objects.filter(
        alert__person=case.person, organisation=membership.organisation
    ).exists()
    inbox = inbox_for(viewer=Viewer.from_membership(membership))
    assert not [r for r in inbox.mine + inbox.queue if r.person_id == case.person.pk]


# --- Origin block of an exclusion assessment --------------------------------------------------


@pytest.mark.parametrize(
    ("restricted", "employment_sees"),
    [(None, FULL), ("previous", "indicator"), ("current", "indicator")],
)
def test_a_restricted_exclusion_assessment_reaches_other_services_as_an_indicator_only(
    world, client_for, restricted, employment_sees
):
    from diagnostics.models import Instrument, Item
    from diagnostics.services import exclusion_assessment_record

    person = _attended_by_all(world)  # the consent reaches every service
    previous_on = today() - dt.timedelta(days=90)
    world.entry(
        ExclusionSituation,
        person,
        by="social",
        severity="integration",
        assessed_on=previous_on,
        restricted=restricted == "previous",
    )
    instrument = Instrument.objects.get(code="foessa-35")
    assessment = exclusion_assessment_record(
        viewer=Viewer.from_membership(world.social_worker.memberships.get()),
        person_id=person.pk,
        instrument=instrument,
        present_item_ids=list(
            Item.objects.filter(area__instrument=instrument).values_list("pk", flat=True)
        ),
        assessed_on=today() - dt.timedelta(days=3),
        restricted=restricted == "current",
    )
    assert assessment.level != "integration"
    sweep("empeora_exclusion")
    labels = dict(ExclusionLevel.choices)
    values = (
        str(labels["integration"]),
        str(labels[assessment.level]),
        fmt_date(previous_on),
        fmt_date(assessment.assessed_on),
    )
    own = shown_to(world, client_for, "social_worker", person, "empeora_exclusion")
    other = shown_to(world, client_for, "employment_counsellor", person, "empeora_exclusion")
    assert own.delivery.levels == {"exclusion_social": FULL}  # the service that restricted it
    assert other.delivery.levels == {"exclusion_social": employment_sees}
    for value in values:
        assert value in own.texts["text"] and value in own.texts["inbox page"]
        for where, text in other.texts.items():
            if where == "plain_text":
                assert value not in text
            elif employment_sees == FULL:
                assert value in text, (where, value)
            else:
                assert value not in text, (where, value, text)


# --- No contact: the date of the last contact, withheld ------------------------------------------


def _unseen_person(world, diary: list[tuple[str, int, bool]]) -> Person:
    """Attended by social services and employment, with a consent reaching both; diary entries as
    (recording organisation, days ago, restricted)."""
    person = world.person(attended_by=("social", "employment"))
    Enrolment.objects.filter(person=person).update(start_date=today() - dt.timedelta(days=400))
    world.consent(person)
    for by, days_ago, restricted in diary:
        world.entry(
            DiaryEntry,
            person,
            by=by,
            kind="phone_call",
            happened_at=noon(days_ago),
            restricted=restricted,
        )
    return person


def test_no_contact_shows_the_last_contact_date_when_nothing_later_was_restricted(
    world, client_for
):
    person = _unseen_person(world, [("social", 137, False), ("employment", 160, True)])
    sweep("sin_contacto")
    for key in ("social_worker", "employment_counsellor"):
        shown = shown_to(world, client_for, key, person, "sin_contacto")
        assert shown.delivery.levels == {"atenciones": FULL}
        assert fmt_date(today() - dt.timedelta(days=137)) in shown.texts["inbox row"]
        assert fmt_date(today() - dt.timedelta(days=160)) not in shown.texts["inbox page"]


@pytest.mark.parametrize(
    "diary",
    [
        pytest.param([("social", 137, False), ("employment", 100, True)], id="later-restricted"),
        pytest.param([("employment", 100, True)], id="only-restricted"),
    ],
)
def test_no_contact_gives_no_date_at_all_when_a_later_contact_was_restricted(
    world, client_for, diary
):
    person = _unseen_person(world, diary)
    sweep("sin_contacto")
    facts = rule_hits(rule("sin_contacto"), person_ids=[person.pk])[person.pk]
    assert facts["atenciones"]["withheld"] is True
    for key in ("social_worker", "employment_counsellor"):
        shown = shown_to(world, client_for, key, person, "sin_contacto")
        assert shown.delivery.levels == {"atenciones": FULL}
        for where, text in shown.texts.items():
            for days_ago in (137, 100):
                assert fmt_date(today() - dt.timedelta(days=days_ago)) not in text, (key, where)
            # nor does it pretend that there is no contact at all
            assert "No hay ninguna atención registrada" not in text, (key, where)


# --- Referrals: each party hears of its own ------------------------------------------------------


def test_a_party_to_one_overdue_referral_is_told_of_its_own_not_of_one_between_others(world):
    Referral = _referral_model()
    if Referral is None:
        pytest.skip("coordination.Referral does not exist")
    person = _attended_by_all(world)
    _ngo_agreement(world, ["ficha_basica", "atenciones"])
    elsewhere = OrganisationFactory(kind="employment", name="Oficina de Empleo Delicias")
    theirs, ours = noon(60), noon(30)  # both long overdue (more than 10 working days)
    for sender, by, receiver, sent_at in (
        (world.ngo, world.ngo_technician, world.employment, theirs),
        (world.social, world.social_worker, elsewhere, ours),
    ):
        Referral.objects.create(
            person=person,
            from_organisation=sender,
            to_organisation=receiver,
            reason="Orientación laboral",
            categories=["ficha_basica"],
            sent_at=sent_at,
            sent_by=by,
        )
    sweep("derivacion_sin_respuesta")
    # social services sent one of the two referrals, and sees the basic sheet in full
    told = AlertDelivery.objects.get(alert__person=person, organisation=world.social)
    assert told.levels == {"ficha_basica": FULL}
    assert fmt_date(timezone.localdate(theirs)) not in told.text, told.text
    assert fmt_date(timezone.localdate(ours)) in told.text, told.text
