"""Every page of the coordination app: who may open it, and what it costs.

For each URL of the app there is a scenario that builds ``n`` rows of what the page
shows (referrals, plan actions, cases, resources…), names a user who may use it and one
who may not. The allowed user gets the page (or the redirect of a POST), the other a 404;
and a page costs the same number of SQL queries, under one bound, with 2 rows and with 20.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, reverse

from cases.models import ExclusionSituation
from consent.purposes import Purpose
from coordination.models import PlanAction, Referral
from ris.accounts.models import Role, ServiceKind
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    PersonFactory,
    enrol,
    make_section_entry,
)

from .builders import (
    add_agreement,
    add_case,
    give_consent,
    make_action,
    make_commitment,
    make_conference,
    make_goal,
    make_information_request,
    make_link_request,
    make_plan,
    make_referral,
    make_resource,
)

pytestmark = pytest.mark.django_db

#: The most queries any page of the app may cost (session, viewer, decision facts, rows, log)…
QUERY_BOUND = 30
#: …except a case summary: the filtered record (bound of tests/sharing/test_record_queries.py).
BOUNDS = {"conference_case": 45}


@dataclass
class Case:
    url: str
    allowed: object  # the user who may use the page
    denied: object  # one who may not: a 404
    method: str = "get"
    data: dict = field(default_factory=dict)
    session: dict = field(default_factory=dict)  # what the allowed user's session holds


@dataclass
class World:
    ssc: object
    eo: object
    ngo: object
    sw: object
    ec: object
    coord: object
    ngo_tech: object
    stranger: object
    evaluator: object
    dpo: object
    outsider: object

    def shared(self):
        """A person attended by the social services centre and the employment office."""
        p = PersonFactory()
        enrol(p, self.ssc)
        enrol(p, self.eo)
        return p

    def own(self):
        p = PersonFactory()
        enrol(p, self.ssc)
        return p


@pytest.fixture
def world(
    social_services_centre,
    employment_office,
    ngo,
    social_worker,
    employment_counsellor,
    coordinator,
    ngo_technician,
    stranger,
    evaluator,
    dpo,
    outsider,
):
    return World(
        social_services_centre,
        employment_office,
        ngo,
        social_worker,
        employment_counsellor,
        coordinator,
        ngo_technician,
        stranger,
        evaluator,
        dpo,
        outsider,
    )


def url(name: str, *args) -> str:
    return reverse(f"coordination:{name}", args=args)


STATES = itertools.cycle(Referral.State.values)


# --- Scenarios: (world, n) -> Case ----------------------------------------------------------------


def referral_list(w: World, n: int) -> Case:
    for _ in range(n):
        p = w.own()
        make_referral(p, w.ssc, w.eo, w.sw, state=next(STATES))
        make_referral(p, w.eo, w.ssc, w.ec)
    return Case(url("referral_list"), w.sw, w.evaluator)


def referral_detail(w: World, n: int) -> Case:
    p = w.own()
    for _ in range(n):
        give_consent(p, organisations=[w.eo, OrganisationFactory()], purposes=[Purpose.REFERRAL])
    referral = make_referral(p, w.ssc, w.eo, w.sw, categories=["exclusion_social", "competencias"])
    return Case(url("referral_detail", referral.pk), w.ec, w.stranger)


def referral_create(w: World, n: int) -> Case:
    for _ in range(n):
        OrganisationFactory()
    return Case(url("referral_create", w.own().pk), w.sw, w.stranger)


def _pending(w: World, n: int, state=Referral.State.SENT):
    p = w.own()
    give_consent(p, organisations=[w.eo], purposes=[Purpose.REFERRAL])
    for _ in range(n):
        make_referral(w.own(), w.ssc, w.eo, w.sw)
    return make_referral(p, w.ssc, w.eo, w.sw, state=state)


def referral_link_request(w: World, n: int) -> Case:
    """The person was found by the exact lookup (``cases.views.person_link_request``)."""
    from cases.views import LINK_SESSION_KEY

    p = w.own()
    for _ in range(n):
        enrol(p, OrganisationFactory())
        make_link_request(p, OrganisationFactory(), w.sw)
    return Case(url("referral_link_request"), w.ec, w.evaluator, session={LINK_SESSION_KEY: p.pk})


def link_request_list(w: World, n: int) -> Case:
    for _ in range(n):
        make_link_request(w.own(), w.eo, w.ec)  # received by the centre
        p = w.own()
        make_link_request(p, w.ssc, w.sw)  # sent by the centre: persons it does not attend yet
        make_link_request(p, OrganisationFactory(), w.sw)
    return Case(url("link_request_list"), w.sw, w.evaluator)


def link_request_decline(w: World, n: int) -> Case:
    for _ in range(n):
        make_link_request(w.own(), w.eo, w.ec)
    link = make_link_request(w.own(), w.eo, w.ec)
    return Case(
        url("link_request_decline", link.pk),
        w.sw,
        w.ec,
        method="post",
        data={"decline_reason": "La persona no consiente"},
    )


def referral_accept(w: World, n: int) -> Case:
    return Case(url("referral_accept", _pending(w, n).pk), w.ec, w.sw, method="post")


def referral_reject(w: World, n: int) -> Case:
    return Case(
        url("referral_reject", _pending(w, n).pk),
        w.ec,
        w.sw,
        method="post",
        data={"rejection_reason": "Sin plazas"},
    )


def referral_complete(w: World, n: int) -> Case:
    return Case(
        url("referral_complete", _pending(w, n, Referral.State.ACCEPTED).pk),
        w.ec,
        w.sw,
        method="post",
    )


def referral_cancel(w: World, n: int) -> Case:
    return Case(url("referral_cancel", _pending(w, n).pk), w.sw, w.ec, method="post")


def request_list(w: World, n: int) -> Case:
    for i in range(n):
        make_information_request(
            w.shared(), w.eo, w.ssc, w.ec, answer="Sí" if i % 2 else "", answered_by=w.sw
        )
    return Case(url("request_list"), w.ec, w.evaluator)


def request_detail(w: World, n: int) -> Case:
    p = w.shared()
    for _ in range(n):
        give_consent(p, services=[ServiceKind.EMPLOYMENT], purposes=[Purpose.FOLLOW_UP])
    info = make_information_request(
        p,
        w.eo,
        w.ssc,
        w.ec,
        categories=["exclusion_social", "competencias"],
        answer="Respuesta",
        answered_by=w.sw,
    )
    return Case(url("request_detail", info.pk), w.ec, w.stranger)


def request_create(w: World, n: int) -> Case:
    p = w.shared()
    for _ in range(n):
        enrol(p, OrganisationFactory())
    return Case(url("request_create", p.pk), w.sw, w.stranger)


def request_answer(w: World, n: int) -> Case:
    for _ in range(n):
        make_information_request(w.shared(), w.eo, w.ssc, w.ec)
    info = make_information_request(w.shared(), w.eo, w.ssc, w.ec)
    return Case(
        url("request_answer", info.pk), w.sw, w.ec, method="post", data={"answer": "Respuesta"}
    )


def plan_list(w: World, n: int) -> Case:
    for _ in range(n):
        make_plan(w.shared(), w.ssc, w.sw, participants=[w.eo])
    return Case(url("plan_list"), w.sw, w.evaluator)


def person_plans(w: World, n: int) -> Case:
    p = w.own()
    for _ in range(n):
        make_plan(p, w.ssc, w.sw)
    return Case(url("person_plans", p.pk), w.sw, w.stranger)


def plan_create(w: World, n: int) -> Case:
    p = w.own()
    for _ in range(n):
        enrol(p, OrganisationFactory())
    return Case(url("plan_create", p.pk), w.sw, w.stranger)


CATEGORIES = itertools.cycle(
    ["exclusion_social", "situacion_familiar", "antecedentes_penales", "salud"]
)


def _plan(w: World, n: int):
    p = w.shared()
    give_consent(
        p, services=[ServiceKind.EMPLOYMENT, ServiceKind.SOCIAL], purposes=[Purpose.ITINERARY]
    )
    plan = make_plan(p, w.ssc, w.sw, participants=[w.eo])
    resource = make_resource(w.ngo)
    # one social goal the orientador sees in full whatever the rows (its reading is logged)
    make_goal(plan, w.ssc, w.sw, category="exclusion_social")
    for _ in range(n):
        # goals of every level for the orientador, each served by actions of both services
        social_goal = make_goal(plan, w.ssc, w.sw, category=next(CATEGORIES))
        employment_goal = make_goal(plan, w.eo, w.ec, category="itinerario_empleo")
        make_action(
            plan, w.ssc, w.sw, category=next(CATEGORIES), resource=resource, goal=social_goal
        )
        make_action(plan, w.eo, w.ec, category="itinerario_empleo", goal=social_goal)
        make_action(plan, w.eo, w.ec, category="itinerario_empleo", goal=employment_goal)
        make_action(plan, w.eo, w.ec, category="itinerario_empleo")
        commitment = make_commitment(plan, w.ssc, w.sw, category=next(CATEGORIES))
        for complied in (True, False):
            commitment.compliance_records.create(
                date=plan.start_date, complied=complied, recorded_by=w.sw, recorded_by_org=w.ssc
            )
    return plan


def plan_detail(w: World, n: int) -> Case:
    return Case(url("plan_detail", _plan(w, n).pk), w.ec, w.stranger)


def plan_edit(w: World, n: int) -> Case:
    p = w.own()
    others = [OrganisationFactory() for _ in range(n)]
    for org in others:
        enrol(p, org)
    return Case(
        url("plan_edit", make_plan(p, w.ssc, w.sw, participants=others).pk), w.sw, w.stranger
    )


def action_create(w: World, n: int) -> Case:
    for _ in range(n):
        make_resource(w.ngo)
    plan = _plan(w, n)  # goals of every level in the select's reach
    return Case(url("action_create", plan.pk), w.ec, w.stranger)


def action_edit(w: World, n: int) -> Case:
    plan = _plan(w, n)
    action = plan.actions.filter(owner_organisation=w.eo).first()
    return Case(url("action_edit", action.pk), w.ec, w.sw)


def goal_create(w: World, n: int) -> Case:
    plan = make_plan(w.own(), w.ssc, w.sw)
    for _ in range(n):
        make_goal(plan, w.ssc, w.sw, category="exclusion_social")
    return Case(url("goal_create", plan.pk), w.sw, w.stranger)


def goal_edit(w: World, n: int) -> Case:
    plan = _plan(w, n)
    goal = plan.goals.filter(owner_organisation=w.ssc).first()
    return Case(url("goal_edit", goal.pk), w.sw, w.ec)


def action_state(w: World, n: int) -> Case:
    plan = _plan(w, n)
    action = plan.actions.filter(owner_organisation=w.ssc).first()
    return Case(
        url("action_state", action.pk),
        w.sw,
        w.ec,
        method="post",
        data={"state": PlanAction.State.IN_PROGRESS, "version": action.version},
    )


def commitment_create(w: World, n: int) -> Case:
    plan = make_plan(w.own(), w.ssc, w.sw)
    for _ in range(n):
        make_commitment(plan, w.ssc, w.sw, category="rentas_minimas")
    return Case(url("commitment_create", plan.pk), w.sw, w.stranger)


def compliance_create(w: World, n: int) -> Case:
    plan = make_plan(w.shared(), w.ssc, w.sw, participants=[w.eo])
    commitment = make_commitment(plan, w.ssc, w.sw, category="rentas_minimas")
    for _ in range(n):
        commitment.compliance_records.create(
            date=plan.start_date, complied=True, recorded_by=w.sw, recorded_by_org=w.ssc
        )
    return Case(url("compliance_create", commitment.pk), w.sw, w.ec)


def conference_list(w: World, n: int) -> Case:
    for _ in range(n):
        conference = make_conference(w.ssc, w.sw, attendees=[(w.ec, w.eo)])
        add_case(conference, w.own(), w.ssc, w.sw)
    return Case(url("conference_list"), w.ec, w.evaluator)


def conference_create(w: World, n: int) -> Case:
    for _ in range(n):
        MembershipFactory(organisation=OrganisationFactory(), role=Role.SOCIAL_WORKER)
    return Case(url("conference_create"), w.sw, w.evaluator)


def _conference(w: World, n: int):
    conference = make_conference(w.ssc, w.sw, attendees=[(w.ec, w.eo)])
    for i in range(n):
        p = w.shared() if i % 2 else w.own()
        if i % 4 == 1:  # the employment office may see the social agreements of some cases
            give_consent(p, services=[ServiceKind.EMPLOYMENT], purposes=[Purpose.CASE_CONFERENCE])
        case = add_case(conference, p, w.ssc, w.sw)
        add_agreement(case, w.ssc, w.sw, category=next(CATEGORIES))
        add_agreement(case, w.ssc, w.sw, category=next(CATEGORIES))
        add_agreement(case, w.eo, w.ec, category="itinerario_empleo")
        MembershipFactory()  # another user
    for _ in range(n):
        member = MembershipFactory(organisation=w.ngo, role=Role.NGO_TECHNICIAN)
        conference.attendees.create(user=member.user, organisation=w.ngo)
    return conference


def conference_detail(w: World, n: int) -> Case:
    return Case(url("conference_detail", _conference(w, n).pk), w.ec, w.stranger)


def conference_case_add(w: World, n: int) -> Case:
    return Case(url("conference_case_add", _conference(w, n).pk), w.sw, w.stranger)


def conference_case(w: World, n: int) -> Case:
    conference = _conference(w, 2)
    p = w.shared()
    give_consent(p, services=[ServiceKind.EMPLOYMENT], purposes=[Purpose.CASE_CONFERENCE])
    for _ in range(n):
        make_section_entry(ExclusionSituation, person=p, organisation=w.ssc)
    case = add_case(conference, p, w.ssc, w.sw)
    return Case(url("conference_case", conference.pk, case.pk), w.ec, w.stranger)


def agreement_create(w: World, n: int) -> Case:
    conference = _conference(w, n)
    case = conference.cases.filter(person__enrolments__organisation=w.eo).first()
    return Case(
        url("agreement_create", case.pk), w.ec, w.stranger, method="post", data={"text": "Acuerdo"}
    )


def agreement_to_action(w: World, n: int) -> Case:
    conference = _conference(w, 2)
    p = w.shared()
    case = add_case(conference, p, w.ssc, w.sw)
    for _ in range(n):
        make_plan(p, w.ssc, w.sw, participants=[w.eo])
    agreement = add_agreement(case, w.eo, w.ec, category="itinerario_empleo")
    return Case(url("agreement_to_action", agreement.pk), w.ec, w.stranger)


def resource_list(w: World, n: int) -> Case:
    for _ in range(n):
        make_resource(OrganisationFactory())
    return Case(url("resource_list"), w.dpo, w.outsider)


def resource_detail(w: World, n: int) -> Case:
    for _ in range(n):
        make_resource(w.ngo)
    return Case(url("resource_detail", make_resource(w.ngo).pk), w.dpo, w.outsider)


def resource_create(w: World, n: int) -> Case:
    for _ in range(n):
        OrganisationFactory()
    return Case(url("resource_create"), w.coord, w.sw)


def resource_edit(w: World, n: int) -> Case:
    for _ in range(n):
        OrganisationFactory()
    return Case(url("resource_edit", make_resource(w.ngo).pk), w.coord, w.sw)


SCENARIOS: dict[str, Callable[[World, int], Case]] = {
    f.__name__: f
    for f in (
        referral_list,
        referral_detail,
        referral_create,
        referral_link_request,
        link_request_list,
        link_request_decline,
        referral_accept,
        referral_reject,
        referral_complete,
        referral_cancel,
        request_list,
        request_detail,
        request_create,
        request_answer,
        plan_list,
        person_plans,
        plan_create,
        plan_detail,
        plan_edit,
        action_create,
        action_edit,
        goal_create,
        goal_edit,
        action_state,
        commitment_create,
        compliance_create,
        conference_list,
        conference_create,
        conference_detail,
        conference_case_add,
        conference_case,
        agreement_create,
        agreement_to_action,
        resource_list,
        resource_detail,
        resource_create,
        resource_edit,
    )
}
ACTIONS = {
    "referral_accept",
    "referral_reject",
    "referral_complete",
    "referral_cancel",
    "link_request_decline",
    "request_answer",
    "action_state",
    "agreement_create",
}  # POST only: they redirect
PAGES = [name for name in SCENARIOS if name not in ACTIONS]


def test_every_url_of_the_app_has_a_scenario():
    names = {p.name for p in get_resolver().namespace_dict["coordination"][1].url_patterns}
    assert names == set(SCENARIOS)


def request(client, case: Case):
    return client.post(case.url, case.data) if case.method == "post" else client.get(case.url)


def with_session(client, case: Case):
    if case.session:
        session = client.session
        session.update(case.session)
        session.save()
    return client


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_allowed_user_is_served_and_anyone_else_gets_a_404(name, world, client_for):
    case = SCENARIOS[name](world, 2)
    assert request(client_for(case.denied), case).status_code == 404
    response = request(with_session(client_for(case.allowed), case), case)
    assert response.status_code == (302 if case.method == "post" else 200), (
        response.content.decode()[:2000]
    )


@pytest.mark.parametrize("name", PAGES)
def test_a_page_costs_the_same_with_2_and_with_20_rows(
    name, world, client_for, django_assert_max_num_queries
):
    counts = []
    for n in (2, 20):
        case = SCENARIOS[name](world, n)
        client = with_session(client_for(case.allowed), case)
        client.get(case.url)  # warm the session and the content-type cache
        with (
            django_assert_max_num_queries(BOUNDS.get(name, QUERY_BOUND)),
            CaptureQueriesContext(connection) as captured,
        ):
            assert client.get(case.url).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts
