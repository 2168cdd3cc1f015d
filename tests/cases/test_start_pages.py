"""Start pages of the staff workspace.

- /espacio/ (social workers, orientadores): the persons the organisation attends, sortable
  by surnames, birth date and date of enrolment, paginated, with per person the open
  alerts and pending referrals (when diagnostics / coordination provide them) and the
  consents about to expire (in force, ending within 30 days).
- /espacio/coordinacion/ (coordinators): the organisation's caseload by reference
  professional, with pending referrals, overdue plan reviews and open alerts.
- Both in a constant number of SQL queries, whatever the caseload's size.
"""

from __future__ import annotations

import datetime as dt
import types

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import selectors
from cases.models import ReferenceProfessional
from sharing.models import Enrolment
from tests.factories import (
    ConsentFactory,
    ConsentRevocationFactory,
    MembershipFactory,
    PersonFactory,
    enrol,
)

HOME = "/espacio/"
COORDINATION = "/espacio/coordinacion/"


@pytest.fixture
def attended(social_services_centre):
    def make(**fields):
        person = PersonFactory(**fields)
        enrol(person, social_services_centre)
        return person

    return make


def listed(response) -> list[int]:
    return [row.person.pk for row in response.context["caseload"].rows]


@pytest.fixture
def no_optional_apps(monkeypatch):
    """As if diagnostics and coordination had no selectors yet."""
    monkeypatch.setattr(selectors, "_optional_open_alert_counts", lambda: None)
    monkeypatch.setattr(selectors, "_optional_pending_referrals", lambda: None)
    monkeypatch.setattr(selectors, "_optional_overdue_plan_reviews", lambda: None)


@pytest.fixture
def fake_coordination(monkeypatch):
    """Stand-ins for ``coordination.selectors``' start-page selectors, found where the start pages
    import them (the alerts are real: see ``alert``). Referrals and overdue reviews come back as
    lists of objects with a ``person_id``, a shape ``selectors.counts_by_person`` accepts; each
    answers in one query. The real module stays in place with everything else it holds (the
    URLconf imports it).
    """
    import coordination.selectors as coordination

    calls: dict[str, list] = {"referrals": [], "reviews": []}
    counts: dict[str, dict[int, int]] = {"referrals": {}, "reviews": {}}

    def one_query():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    def pending_referrals_for(*, organisation_id):
        calls["referrals"].append(organisation_id)
        one_query()
        return [
            types.SimpleNamespace(person_id=p)
            for p, n in counts["referrals"].items()
            for _ in range(n)
        ]

    def overdue_plan_reviews(*, organisation_id):
        calls["reviews"].append(organisation_id)
        one_query()
        return [
            types.SimpleNamespace(person_id=p)
            for p, n in counts["reviews"].items()
            for _ in range(n)
        ]

    monkeypatch.setattr(coordination, "pending_referrals_for", pending_referrals_for, raising=False)
    monkeypatch.setattr(coordination, "overdue_plan_reviews", overdue_plan_reviews, raising=False)
    return types.SimpleNamespace(calls=calls, counts=counts)


#: Rules that read social services' own categories (the centre's staff see them in full) and one
#: that reads the employment office's (hidden from the centre without a consent).
SOCIAL_RULES = ("empeora_exclusion", "hogar_pobreza_con_menores", "posible_beneficiario_imv")
EMPLOYMENT_RULE = "desempleo_larga_duracion_sin_plan"


@pytest.fixture
def alert(db):
    """``alert(person, organisation, recipient=None, rule=…, seen=False)``: an open alert of the
    rule for the person, delivered to the organisation (to ``recipient``, or its queue), as the
    sweep writes it: what ``diagnostics.selectors.open_alert_counts_for`` reads."""
    from diagnostics.models import Alert, AlertDelivery, AlertRule
    from diagnostics.rules import RULES

    def make(person, organisation, recipient=None, *, rule=SOCIAL_RULES[0], seen=False):
        delivery = AlertDelivery.objects.create(
            alert=Alert.objects.create(rule=AlertRule.objects.get(code=rule), person=person),
            organisation=organisation,
            recipient=recipient,
            text="Texto de la alerta.",
            plain_text="Texto de la alerta.",
            levels={category: "full" for category in RULES[rule].categories},
            seen_at=timezone.now() if seen else None,
        )
        return delivery

    return make


# --- The caseworker's start page ------------------------------------------------------------------


def test_the_start_page_lists_the_caseload_and_nothing_else(
    client_for, social_worker, attended, employment_office, no_optional_apps
):
    ours = attended(last_name_1="Arrabal")
    theirs = PersonFactory(last_name_1="Zubiría")
    enrol(theirs, employment_office)
    response = client_for(social_worker).get(HOME)
    assert response.status_code == 200
    assert listed(response) == [ours.pk]
    body = response.content.decode()
    assert "Arrabal" in body and "Zubiría" not in body
    assert f'href="/espacio/personas/{ours.pk}/"' in body


@pytest.mark.parametrize(
    "orden,expected",
    [
        ("apellidos", ["a", "b", "c"]),
        ("-apellidos", ["c", "b", "a"]),
        ("nacimiento", ["b", "c", "a"]),
        ("-nacimiento", ["a", "c", "b"]),
        ("alta", ["c", "a", "b"]),
        ("-alta", ["b", "a", "c"]),
        ("cualquier-cosa", ["a", "b", "c"]),
    ],
)
def test_the_caseload_sorts_by_surnames_birth_date_and_enrolment(
    orden, expected, client_for, social_worker, attended, no_optional_apps
):
    today = timezone.localdate()
    people = {
        "a": attended(last_name_1="Alonso", birth_date=dt.date(1990, 1, 1)),
        "b": attended(last_name_1="Bermejo", birth_date=dt.date(1970, 1, 1)),
        "c": attended(last_name_1="Cano", birth_date=dt.date(1980, 1, 1)),
    }
    for key, days in (("a", 20), ("b", 10), ("c", 30)):
        Enrolment.objects.filter(person=people[key]).update(
            start_date=today - dt.timedelta(days=days)
        )
    response = client_for(social_worker).get(HOME, {"orden": orden})
    assert listed(response) == [people[k].pk for k in expected]


def test_the_caseload_is_paginated(client_for, social_worker, attended, no_optional_apps):
    for n in range(selectors.PAGE_SIZE + 3):
        attended(last_name_1=f"Apellido{n:02d}")
    client = client_for(social_worker)
    first, second = client.get(HOME), client.get(HOME, {"page": 2})
    assert len(listed(first)) == selectors.PAGE_SIZE and len(listed(second)) == 3
    assert not set(listed(first)) & set(listed(second))
    assert "Página 1 de 2" in first.content.decode()
    assert 'href="/espacio/?orden=apellidos&amp;page=2"' in first.content.decode()


def test_consents_about_to_expire_are_flagged(
    client_for, social_worker, attended, no_optional_apps
):
    today = timezone.localdate()
    soon = attended(last_name_1="Pronto")
    ConsentFactory(person=soon, valid_until=today + dt.timedelta(days=10))
    ConsentFactory(person=soon, valid_until=today + dt.timedelta(days=30))
    later = attended(last_name_1="Tarde")
    ConsentFactory(person=later, valid_until=today + dt.timedelta(days=31))
    revoked = attended(last_name_1="Revocado")
    ConsentRevocationFactory(
        consent=ConsentFactory(person=revoked, valid_until=today + dt.timedelta(days=5))
    )
    expired = attended(last_name_1="Caducado")
    ConsentFactory(
        person=expired,
        valid_from=today - dt.timedelta(days=50),
        given_on=today - dt.timedelta(days=50),
        valid_until=today - dt.timedelta(days=1),
    )
    response = client_for(social_worker).get(HOME)
    flags = {
        row.person.last_name_1: (row.expiring_consents, row.next_consent_expiry)
        for row in response.context["caseload"].rows
    }
    assert flags == {
        "Pronto": (2, today + dt.timedelta(days=10)),
        "Tarde": (0, None),
        "Revocado": (0, None),
        "Caducado": (0, None),
    }
    assert (
        f"2, el primero caduca el {(today + dt.timedelta(days=10)):%d/%m/%Y}"
        in response.content.decode()
    )


def test_without_diagnostics_and_coordination_the_page_leaves_their_columns_out(
    client_for, social_worker, attended, no_optional_apps
):
    attended()
    body = client_for(social_worker).get(HOME).content.decode()
    assert "Alertas abiertas" not in body and "Derivaciones pendientes" not in body


def test_alerts_and_referrals_come_from_their_apps(
    client_for,
    social_worker,
    social_services_centre,
    employment_office,
    attended,
    alert,
    fake_coordination,
):
    first, second = attended(last_name_1="Alonso"), attended(last_name_1="Bermejo")
    alert(first, social_services_centre, social_worker, rule=SOCIAL_RULES[0])
    alert(first, social_services_centre, rule=SOCIAL_RULES[1])  # the centre's queue
    alert(first, social_services_centre, rule=SOCIAL_RULES[2], seen=True)  # seen: not new
    alert(second, employment_office, rule=SOCIAL_RULES[0])  # another organisation's
    alert(second, social_services_centre, social_worker, rule=EMPLOYMENT_RULE)  # hidden from her
    fake_coordination.counts["referrals"].update(
        {second.pk: 1, 999_999: 4}
    )  # one not in the caseload
    response = client_for(social_worker).get(HOME)
    rows = {
        row.person.pk: (row.open_alerts, row.pending_referrals)
        for row in response.context["caseload"].rows
    }
    assert rows == {first.pk: (2, 0), second.pk: (0, 1)}
    assert fake_coordination.calls["referrals"] == [social_services_centre.pk]
    body = response.content.decode()
    assert "2 alertas abiertas" in body and "5 derivaciones pendientes" in body
    assert '<a href="/espacio/?orden=alertas"' in body and "Alertas abiertas</a></th>" in body


def test_an_app_that_counts_only_a_total_shows_the_total_and_no_column(
    client_for, social_worker, attended, monkeypatch, fake_coordination
):
    """An optional app may count a total only (diagnostics counts per person)."""
    import diagnostics.selectors

    attended()
    monkeypatch.setattr(
        diagnostics.selectors,
        "open_alert_counts_for",
        lambda *, user_id, organisation_id: 3,
    )
    response = client_for(social_worker).get(HOME)
    caseload = response.context["caseload"]
    assert caseload.open_alerts_total == 3 and not caseload.shows_alerts
    body = response.content.decode()
    assert "3 alertas abiertas" in body
    assert "Alertas abiertas</a></th>" not in body and "orden=alertas" not in body
    # no per-person counts, nothing to sort by: the default order, as for an unknown sort
    assert client_for(social_worker).get(HOME, {"orden": "-alertas"}).context["caseload"].sort == (
        "apellidos"
    )


def test_counts_by_person_accepts_the_usual_shapes(db, social_services_centre):
    person = PersonFactory()
    enrol(person, social_services_centre)
    assert selectors.counts_by_person({1: 2, 3: 0}) == {1: 2}
    assert selectors.counts_by_person([(1, 2), (1, 1)]) == {1: 3}
    assert selectors.counts_by_person([{"person_id": 4}, {"person_id": 4, "count": 2}]) == {4: 3}
    assert selectors.counts_by_person(Enrolment.objects.all()) == {person.pk: 1}
    assert selectors.counts_by_person(None) == {}
    assert selectors.external_count(5) == selectors.ExternalCount(total=5, by_person=None)
    assert selectors.external_count({7: 2}) == selectors.ExternalCount(total=2, by_person={7: 2})


def _queries(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "optional", ["no_optional_apps", "real_alerts_and_fake_referrals", "the_apps_as_they_are"]
)
def test_the_start_page_runs_in_a_constant_number_of_queries(
    optional,
    request,
    client_for,
    social_worker,
    social_services_centre,
    attended,
    alert,
    django_assert_max_num_queries,
):
    with_alerts = optional == "real_alerts_and_fake_referrals"
    fake = request.getfixturevalue("fake_coordination" if with_alerts else optional) if (
        optional != "the_apps_as_they_are"
    ) else None
    client = client_for(social_worker)

    def person():
        someone = attended()
        ConsentFactory(
            person=someone,
            valid_until=timezone.localdate() + dt.timedelta(days=5),
            recorded_by_org=social_services_centre,
        )
        if with_alerts:
            alert(someone, social_services_centre, social_worker)
            alert(someone, social_services_centre, rule=SOCIAL_RULES[1])
            fake.counts["referrals"][someone.pk] = 2
        return someone

    for _ in range(2):
        person()
    client.get(HOME)  # warm the session
    small = _queries(client, HOME)
    for _ in range(40):
        person()
    with django_assert_max_num_queries(small):
        response = client.get(HOME)
    if with_alerts:
        assert response.context["caseload"].open_alerts_total == 84
    with django_assert_max_num_queries(small):
        client.get(HOME, {"orden": "-alta", "page": 2})
    for orden in ("-alertas", "derivaciones", "consentimiento"):
        with django_assert_max_num_queries(small):
            response = client.get(HOME, {"orden": orden, "page": 2})
        assert response.context["caseload"].rows
    # the alerts' visibility is checked on the facts of all their persons at once
    assert small <= (ALERT_FACT_QUERIES + 10 if with_alerts else 10)


#: What checking the visibility of the alerts counted adds to a start page: the facts of all
#: their persons, read at once (``sharing.facts.load_facts_many``; 5 today).
ALERT_FACT_QUERIES = 6


def test_htmx_sorting_and_paging_get_only_the_table(
    client_for, social_worker, attended, no_optional_apps
):
    attended(last_name_1="Alonso")
    response = client_for(social_worker).get(HOME, {"orden": "-nacimiento"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and "<table" in body
    assert 'aria-sort="descending"' in body


# --- Sorting by open alerts, pending referrals and consent expiry ---------------------------------


@pytest.fixture
def four(
    attended, social_services_centre, employment_office, social_worker, alert, fake_coordination
):
    """Alonso, Bermejo, Cano and Duque; (alerts she sees, pending referrals, consent ending in):
    Alonso (0, 3, 20 days), Bermejo (2, 0, 5 days), Cano (1, 1, 60 days: not about to expire)
    and Duque (0, 0, none), whose only alerts are hidden from her: one reads the employment
    office's data, the other was delivered to the employment office alone."""
    today = timezone.localdate()
    people = {
        key: attended(last_name_1=name)
        for key, name in (("a", "Alonso"), ("b", "Bermejo"), ("c", "Cano"), ("d", "Duque"))
    }
    alert(people["b"], social_services_centre, social_worker, rule=SOCIAL_RULES[0])
    alert(people["b"], social_services_centre, rule=SOCIAL_RULES[1])  # the centre's queue
    alert(people["c"], social_services_centre, social_worker)
    alert(people["c"], social_services_centre, rule=SOCIAL_RULES[1], seen=True)  # seen: not new
    alert(people["d"], social_services_centre, social_worker, rule=EMPLOYMENT_RULE)
    alert(people["d"], employment_office, rule=SOCIAL_RULES[0])
    fake_coordination.counts["referrals"].update(
        {people["a"].pk: 3, people["c"].pk: 1, 999_999: 4}  # the last one not in the caseload
    )
    for key, days in (("a", 20), ("b", 5), ("c", 60)):
        ConsentFactory(person=people[key], valid_until=today + dt.timedelta(days=days))
    return people


@pytest.mark.parametrize(
    "orden,expected",
    [
        # ties (no alert, no referral, no consent about to expire) by surnames, then id
        ("alertas", ["a", "d", "c", "b"]),
        ("-alertas", ["b", "c", "d", "a"]),
        ("derivaciones", ["b", "d", "c", "a"]),
        ("-derivaciones", ["a", "c", "d", "b"]),
        ("consentimiento", ["b", "a", "c", "d"]),
        ("-consentimiento", ["a", "b", "d", "c"]),
    ],
)
def test_the_caseload_sorts_by_alerts_referrals_and_consent_expiry(
    orden, expected, client_for, social_worker, four
):
    response = client_for(social_worker).get(HOME, {"orden": orden})
    caseload = response.context["caseload"]
    assert caseload.sort == orden
    assert listed(response) == [four[k].pk for k in expected]
    shown = {row.person.last_name_1: (row.open_alerts, row.pending_referrals)
             for row in caseload.rows}
    assert shown == {"Alonso": (0, 3), "Bermejo": (2, 0), "Cano": (1, 1), "Duque": (0, 0)}
    for row in caseload.rows:  # sorted by exactly the numbers shown
        if orden.lstrip("-") == "alertas":
            assert row.person.sort_open_alerts == row.open_alerts
        if orden.lstrip("-") == "derivaciones":
            assert row.person.sort_pending_referrals == row.pending_referrals
    body = response.content.decode()
    key = orden.lstrip("-")
    direction, other = ("descending", key) if orden.startswith("-") else ("ascending", f"-{key}")
    assert f'<th scope="col" aria-sort="{direction}"><a href="/espacio/?orden={other}"' in body
    assert body.count("aria-sort=") == 1


@pytest.mark.parametrize("hidden_by", ["revocation", "another_organisation"])
def test_sorting_by_alerts_never_reveals_an_alert_the_viewer_cannot_see(
    hidden_by,
    client_for,
    social_worker,
    social_services_centre,
    employment_office,
    attended,
    alert,
    fake_coordination,
):
    """Alonso's only alert is hidden from her: he sorts like Bermejo, who has none."""
    from consent.purposes import Purpose

    alonso, bermejo, cano = (attended(last_name_1=n) for n in ("Alonso", "Bermejo", "Cano"))
    alert(cano, social_services_centre, social_worker)
    client = client_for(social_worker)

    def by_alerts(orden):
        return [
            row.person.last_name_1
            for row in client.get(HOME, {"orden": orden}).context["caseload"].rows
        ]

    if hidden_by == "revocation":
        enrol(alonso, employment_office)
        consent = ConsentFactory(person=alonso, purposes=[Purpose.PREVENTION])
        alert(alonso, social_services_centre, social_worker, rule=EMPLOYMENT_RULE)
        # while the consent lets her see the employment office's data, the alert counts
        assert by_alerts("-alertas") == ["Cano", "Alonso", "Bermejo"]
        ConsentRevocationFactory(consent=consent)
    else:
        enrol(alonso, employment_office)
        alert(alonso, employment_office, rule=SOCIAL_RULES[0])
    assert by_alerts("-alertas") == ["Cano", "Bermejo", "Alonso"]
    assert by_alerts("alertas") == ["Alonso", "Bermejo", "Cano"]


def test_sorting_by_a_count_is_paginated_in_sql_with_stable_pages(
    client_for, social_worker, social_services_centre, attended, alert, fake_coordination
):
    people = [
        attended(last_name_1="Igual", last_name_2="Igual", first_name="Ana")
        for _ in range(selectors.PAGE_SIZE + 4)
    ]
    alert(people[3], social_services_centre, social_worker)
    client = client_for(social_worker)
    with CaptureQueriesContext(connection) as ctx:
        first = client.get(HOME, {"orden": "-alertas"})
    # one SELECT sorts and cuts the page; no query reads the whole caseload into Python
    [page_select] = [q["sql"] for q in ctx.captured_queries if "->>" in q["sql"]]
    assert f"LIMIT {selectors.PAGE_SIZE}" in page_select and "ORDER BY" in page_select
    second = client.get(HOME, {"orden": "-alertas", "page": 2})
    others = sorted((p.pk for p in people if p is not people[3]), reverse=True)
    assert listed(first) + listed(second) == [people[3].pk, *others]  # ties: the id, descending
    assert len(listed(first)) == selectors.PAGE_SIZE
    assert 'href="/espacio/?orden=-alertas&amp;page=2"' in first.content.decode()


def test_htmx_sorting_by_alerts_gets_only_the_table(client_for, social_worker, four):
    response = client_for(social_worker).get(HOME, {"orden": "alertas"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and "<table" in body
    assert (
        '<th scope="col" aria-sort="ascending"><a href="/espacio/?orden=-alertas" '
        'hx-get="/espacio/?orden=-alertas" hx-target="#caseload" hx-push-url="true">'
    ) in body


def test_without_the_apps_there_is_no_sorting_by_their_counts(
    client_for, social_worker, attended, no_optional_apps
):
    attended(last_name_1="Alonso")
    for orden in ("alertas", "-derivaciones"):
        response = client_for(social_worker).get(HOME, {"orden": orden})
        assert response.context["caseload"].sort == "apellidos"
    assert "orden=consentimiento" in response.content.decode()  # this one needs no other app


def test_a_consent_in_force_without_its_signed_form_is_marked(
    client_for, social_worker, social_services_centre, employment_office, attended, no_optional_apps
):
    """Only consents the viewer's organisation recorded (it is the one that can attach the form)."""
    today = timezone.localdate()
    ours = {"recorded_by_org": social_services_centre}
    unsigned = attended(last_name_1="Alonso")
    ConsentFactory(person=unsigned, **ours)
    signed = attended(last_name_1="Bermejo")
    ConsentFactory(person=signed, document="consents/firmado.pdf", document_sha256="0" * 64,
                   document_content_type="application/pdf", **ours)
    theirs = attended(last_name_1="Cano")
    ConsentFactory(person=theirs, recorded_by_org=employment_office)
    revoked = attended(last_name_1="Duque")
    ConsentRevocationFactory(consent=ConsentFactory(person=revoked, **ours))
    expired = attended(last_name_1="Esteban")
    ConsentFactory(
        person=expired,
        given_on=today - dt.timedelta(days=90),
        valid_from=today - dt.timedelta(days=90),
        valid_until=today - dt.timedelta(days=1),
        **ours,
    )
    expiring = attended(last_name_1="Fuentes")
    ConsentFactory(person=expiring, valid_until=today + dt.timedelta(days=3), **ours)
    response = client_for(social_worker).get(HOME)
    rows = response.context["caseload"].rows
    marked = {row.person.last_name_1: row.consent_without_form for row in rows}
    assert marked == {"Alonso": True, "Bermejo": False, "Cano": False, "Duque": False,
                      "Esteban": False, "Fuentes": True}
    body = response.content.decode()
    assert body.count("Sin documento firmado") == 2
    assert (
        f'1, caduca el {(today + dt.timedelta(days=3)):%d/%m/%Y}</span><br>'
        '<span class="warning consent-without-form">Sin documento firmado</span>'
    ) in body


@pytest.mark.parametrize("persona", ["social_worker", "employment_counsellor"])
def test_caseworkers_have_a_start_page(persona, request, client_for, no_optional_apps):
    assert client_for(request.getfixturevalue(persona)).get(HOME).status_code == 200


@pytest.mark.parametrize(
    "persona", ["ngo_technician", "coordinator", "evaluator", "dpo", "administrator", "outsider"]
)
def test_the_caseworker_start_page_is_404_for_everyone_else(persona, request, client_for):
    assert client_for(request.getfixturevalue(persona)).get(HOME).status_code == 404


# --- The coordinator's view -----------------------------------------------------------------------


@pytest.fixture
def team(social_services_centre, social_worker, attended):
    """Ana (the social worker) refers 3 persons, Laura 1; 2 have no reference professional."""
    laura = MembershipFactory(
        organisation=social_services_centre,
        role="social_worker",
        user__first_name="Laura",
        user__last_name="Zamora",
    ).user
    persons = [attended() for _ in range(6)]
    for person in persons[:3]:
        ReferenceProfessional.objects.create(
            person=person, organisation=social_services_centre, professional=social_worker
        )
    ReferenceProfessional.objects.create(
        person=persons[3], organisation=social_services_centre, professional=laura
    )
    return types.SimpleNamespace(ana=social_worker, laura=laura, persons=persons)


def test_the_coordinator_sees_the_caseload_by_worker(
    client_for, coordinator, team, no_optional_apps
):
    response = client_for(coordinator).get(COORDINATION)
    assert response.status_code == 200
    summary = response.context["summary"]
    loads = {w.name: w.persons for w in summary.workers}
    assert loads == {str(team.ana): 3, str(team.laura): 1}
    assert summary.unassigned.persons == 2
    assert summary.caseload_size == 6
    body = response.content.decode()
    assert "Su organización atiende a 6 personas." in body
    assert "Sin profesional de referencia" in body


def test_the_coordinator_sees_pending_work_by_worker(
    client_for, coordinator, team, social_services_centre, employment_office, alert,
    fake_coordination,
):
    """Every new alert of the organisation, by the person's reference professional, whoever it
    was delivered to; only those the coordinator may see."""
    p = team.persons
    alert(p[0], social_services_centre, team.ana, rule=SOCIAL_RULES[0])
    alert(p[0], social_services_centre, rule=SOCIAL_RULES[1])
    alert(p[3], social_services_centre, team.laura)
    alert(p[5], social_services_centre)  # no reference professional: unassigned
    alert(p[1], social_services_centre, team.ana, seen=True)  # seen: not new
    alert(p[2], social_services_centre, team.ana, rule=EMPLOYMENT_RULE)  # hidden from the centre
    alert(p[4], employment_office)  # another organisation's
    fake_coordination.counts["referrals"].update({p[1].pk: 1})
    fake_coordination.counts["reviews"].update({p[3].pk: 2})
    summary = client_for(coordinator).get(COORDINATION).context["summary"]
    by_name = {
        w.name: (w.open_alerts, w.pending_referrals, w.overdue_reviews) for w in summary.workers
    }
    assert by_name == {str(team.ana): (2, 1, 0), str(team.laura): (1, 0, 2)}
    assert (summary.unassigned.open_alerts, summary.open_alerts_total) == (1, 4)
    assert (summary.pending_referrals_total, summary.overdue_reviews_total) == (1, 2)
    assert summary.alerts_by_worker


def test_the_coordinator_counts_consents_about_to_expire(
    client_for, coordinator, team, no_optional_apps
):
    ConsentFactory(person=team.persons[0], valid_until=timezone.localdate() + dt.timedelta(days=3))
    summary = client_for(coordinator).get(COORDINATION).context["summary"]
    assert summary.expiring_consents == 1


@pytest.mark.parametrize(
    "optional", ["no_optional_apps", "real_alerts_and_fake_reviews", "the_apps_as_they_are"]
)
def test_the_coordinator_view_runs_in_a_constant_number_of_queries(
    optional,
    request,
    client_for,
    coordinator,
    team,
    social_services_centre,
    attended,
    alert,
    django_assert_max_num_queries,
):
    with_alerts = optional == "real_alerts_and_fake_reviews"
    fake = request.getfixturevalue("fake_coordination" if with_alerts else optional) if (
        optional != "the_apps_as_they_are"
    ) else None
    if with_alerts:
        alert(team.persons[0], social_services_centre, team.ana)
    client = client_for(coordinator)
    client.get(COORDINATION)
    small = _queries(client, COORDINATION)
    for _ in range(30):
        worker = MembershipFactory(
            organisation=social_services_centre, role="employment_counsellor"
        ).user
        person = attended()
        ReferenceProfessional.objects.create(
            person=person, organisation=social_services_centre, professional=worker
        )
        if with_alerts:
            alert(person, social_services_centre, worker)
            fake.counts["reviews"][person.pk] = 1
    with django_assert_max_num_queries(small):
        response = client.get(COORDINATION)
    assert len(response.context["summary"].workers) == 32
    if with_alerts:
        assert response.context["summary"].open_alerts_total == 31


@pytest.mark.parametrize(
    "persona",
    [
        "social_worker",
        "employment_counsellor",
        "ngo_technician",
        "evaluator",
        "dpo",
        "administrator",
        "outsider",
    ],
)
def test_the_coordinator_view_is_404_for_everyone_else(persona, request, client_for):
    assert client_for(request.getfixturevalue(persona)).get(COORDINATION).status_code == 404
