"""The authorization matrix through the JSON API and the HTML pages, for the main roles.

``GET /api/v1/persons/{id}/record/?purpose=`` and the record page
(``/espacio/personas/{id}/`` for staff, ``/portal/personas/{id}/`` for NGO staff) must
show every (category, recording service) pair at the level the rules give
(``conftest.expected_level``): entries only when full, the indicator sentence and
nothing else when indicator, nothing when hidden; values of a pair that is not shown
in full never appear anywhere in the body. A hidden category answers byte for byte
the same with or without data; a person the viewer may not know answers byte for
byte like one that does not exist; a revoked consent stops on the very next request.
The change history page (``…/historial/``) is held to the same rule: no value of a
pair the record does not show in full.

HTML bodies are compared after blanking the CSRF token, whose mask is random on every
render (``test_two_renders_differ_only_by_the_csrf_mask`` guards that nothing else
differs).
"""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from cases.models import Person
from consent.models import ConsentRevocation
from consent.purposes import Purpose
from ris.accounts.models import Role, ServiceKind
from sharing.models import DisclosureLogEntry

SECTION = re.compile(
    r'<section class="category level-(?P<level>[a-z]+)" '
    r'aria-labelledby="cat-(?P<code>[a-z_]+)-(?P<source>[a-z_]+)">'
    r"(?P<body>.*?)</section>",
    re.S,
)
INDICATOR_KEYS = {"code", "label", "owner_service", "level", "basis"}
SERVICE_LABEL = {**{k: str(v) for k, v in ServiceKind.choices}, "common": "Común"}


def indicator_sentence(oracle, category: str, source: str) -> str:
    label, service = oracle.LABELS[category], SERVICE_LABEL[source]
    return f"Hay información en el área «{label}» registrada por {service}."


def login(world) -> Client:
    client = Client()
    client.force_login(world.user)
    return client


def get_api(client, world, purpose=None):
    return client.get(world.api_url, {"purpose": purpose or world.state.purpose})


def get_html(client, world, purpose=None):
    return client.get(world.html_url, {"finalidad": purpose or world.state.purpose})


def json_pairs(data: dict) -> dict[tuple[str, str], dict]:
    return {(c["code"], c["owner_service"]): c for c in data["categories"]}


#: benefit categories: at indicator level the page shows only the benefits map's sí/no line
BENEFIT_PAIRS = {("rentas_minimas", "social"), ("prestaciones_estatales", "employment")}
BENEFIT_INDICATOR_LINE = "Sin detalle: solo puede saber si percibe alguna hoy."


def html_sections(body: str) -> dict[tuple[str, str], dict]:
    return {
        (m["code"], m["source"]): {"level": m["level"], "body": m["body"]}
        for m in SECTION.finditer(body)
    }


# --- The matrix through both channels -------------------------------------------------------------


def test_record_endpoint_and_page_follow_the_rules(endpoint_case, make_world, oracle):
    profile, state = endpoint_case
    world = make_world(profile, state)
    client = login(world)
    api, page = get_api(client, world), get_html(client, world)

    if not oracle.may_know_person(profile, state):
        assert api.status_code == 404 and page.status_code == 404
        return
    assert api.status_code == 200, api.content
    assert page.status_code == 200
    data, raw, html = api.json(), api.content.decode(), page.content.decode()

    assert data["person"]["id"] == world.person.pk
    assert (
        data["person"]["full_name"] == world.person.full_name
    )  # the basic sheet of an attended person
    shown, sections = json_pairs(data), html_sections(html)
    problems: list[str] = []
    for category, source in oracle.PAIRS:
        if category == "ficha_basica":
            continue
        want = oracle.expected_level(profile, state, category, source, displayed=True)
        pair, name = (category, source), f"{category}@{source}"
        got = shown.get(pair)
        section = sections.get(pair)
        if want == oracle.FULL:
            if got is None or got["level"] != oracle.FULL:
                problems.append(f"{name}: expected full in the API, got {got and got['level']}")
                continue
            text = json.dumps(got.get("entries"), ensure_ascii=False)
            if not got.get("entries") or not all(m in text for m in oracle.markers(*pair)):
                problems.append(f"{name}: full but the entries lack the recorded values")
            if (
                section is None
                or section["level"] != oracle.FULL
                or oracle.markers(*pair)[0] not in section["body"]
            ):
                problems.append(f"{name}: expected a full section with its values in the page")
        elif want == oracle.INDICATOR:
            if got is None or got["level"] != oracle.INDICATOR:
                problems.append(
                    f"{name}: expected indicator in the API, got {got and got['level']}"
                )
                continue
            if set(got) - INDICATOR_KEYS:
                problems.append(f"{name}: an indicator carries {sorted(set(got) - INDICATOR_KEYS)}")
            if pair in BENEFIT_PAIRS:
                # the page answers a benefit indicator with the benefits map's sí/no line alone
                if section is not None:
                    problems.append(f"{name}: an indicator benefit must be the map's line, not a section")
                elif BENEFIT_INDICATOR_LINE not in html:
                    problems.append(f"{name}: the benefits map's sí/no line is missing")
            elif section is None or section["level"] != oracle.INDICATOR:
                problems.append(f"{name}: expected an indicator section in the page")
            elif indicator_sentence(oracle, *pair) not in section["body"]:
                problems.append(f"{name}: the indicator sentence is missing from the page")
        else:
            if got is not None:
                problems.append(f"{name}: expected hidden, the API shows it at {got['level']}")
            if section is not None:
                problems.append(f"{name}: expected hidden, the page shows a section")
        if want != oracle.FULL:
            for marker in oracle.markers(*pair):
                if marker in raw:
                    problems.append(f"{name} is {want} but its value {marker!r} is in the API body")
                if marker in html:
                    problems.append(f"{name} is {want} but its value {marker!r} is in the page")
        if got is not None and want != oracle.HIDDEN:
            basis = got["basis"]
            kind = oracle.expected_basis_kinds(profile, state, category, source)
            if kind == "cross":
                if f"{basis['kind']}:{basis['id']}" not in world.allowed_bases(category, source):
                    problems.append(f"{name}: basis {basis} is not one the rules accept")
            elif basis["kind"] != kind:
                problems.append(f"{name}: basis {basis} should be {kind}")
    for item in data["not_visible"]:
        if set(item) != {"code", "label", "owner_service", "reason", "reason_text"}:
            problems.append(f"not_visible item carries more than the policy: {item}")
    assert not problems, f"{profile} / {state}:\n  " + "\n  ".join(problems)


# --- Hidden is indistinguishable from "no data" ---------------------------------------------------

HIDDEN_CASES = [
    ("orientador", "consent_org", "antecedentes_penales", "social"),  # matrix
    ("orientador", "no_consent", "salud", "social"),  # no basis
    ("orientador", "no_consent", "unidad_convivencia", "social"),  # household, no basis
    (
        "orientador",
        "legal_basis_unless_objection_objection",
        "exclusion_social",
        "social",
    ),  # objection
    (
        "orientador",
        "legal_basis_other_community",
        "rentas_minimas",
        "social",
    ),  # another community's law
    ("tecnico_entidad", "consent_denied_nested", "salud", "social"),  # denied inside the consent
    ("tecnico_entidad", "consent_revoked", "atenciones", "social"),  # revoked consent
    ("trabajadora_social", "no_consent", "demanda_empleo", "employment"),
    ("trabajadora_social", "consent_wrong_purpose", "carpeta_social", "third_sector"),
    ("trabajadora_social", "regional_matrix_home", "exclusion_social", "social"),  # regional row
    (
        "trabajadora_social",
        "break_glass",
        "salud",
        "social",
    ),  # break-the-glass never opens special data
    ("trabajadora_social", "break_glass", "antecedentes_penales", "social"),
    (
        "coordinacion_social",
        "consent_org",
        "antecedentes_penales",
        "social",
    ),  # own service, matrix hidden
]


@pytest.mark.parametrize(
    "profile_key,state_name,category,source",
    HIDDEN_CASES,
    ids=[f"{p}-{s}-{c}@{src}" for p, s, c, src in HIDDEN_CASES],
)
def test_a_hidden_category_answers_byte_identical_with_or_without_data(
    profile_key,
    state_name,
    category,
    source,
    make_world,
    oracle,
):
    profile, state = oracle.BY_KEY[profile_key], oracle.STATE[state_name]
    assert oracle.expected_level(profile, state, category, source, displayed=True) == oracle.HIDDEN
    skip = (
        tuple((c, source) for c in oracle.HOUSEHOLD_CATEGORIES)
        if category in oracle.HOUSEHOLD_CATEGORIES
        else ((category, source),)
    )
    world = make_world(profile, state, skip=skip)
    client = login(world)
    api_before, page_before = get_api(client, world), get_html(client, world)
    assert api_before.status_code == 200 and page_before.status_code == 200
    world.add_entry(category, source)
    api_after, page_after = get_api(client, world), get_html(client, world)
    assert api_after.content == api_before.content
    assert oracle.normalise_html(page_after.content) == oracle.normalise_html(page_before.content)
    for marker in oracle.markers(category, source):
        assert marker.encode() not in api_after.content
        assert marker.encode() not in page_after.content


def test_two_renders_differ_only_by_the_csrf_mask(make_world, oracle):
    """Guards the normalisation above: nothing but the CSRF token's random mask may change."""
    world = make_world(oracle.BY_KEY["orientador"], oracle.STATE["consent_org"])
    client = login(world)
    first, second = get_html(client, world).content, get_html(client, world).content
    assert oracle.normalise_html(first) == oracle.normalise_html(second)
    assert len(first) == len(second)


INDICATOR_CASES = [
    ("orientador", "consent_org", "salud", "social"),
    ("orientador", "consent_org", "situacion_familiar", "social"),
    ("tecnico_entidad", "consent_org", "motivacion", "social"),  # outside the agreement
]
# (the benefits map's indicator, "percibe prestación: sí/no", is specified in
# tests/cases/test_record_page.py: it says whether a benefit is in force, not whether data exist)


@pytest.mark.parametrize(
    "profile_key,state_name,category,source",
    INDICATOR_CASES,
    ids=[f"{p}-{s}-{c}@{src}" for p, s, c, src in INDICATOR_CASES],
)
def test_an_indicator_appears_only_when_data_exist(
    profile_key, state_name, category, source, make_world, oracle
):
    profile, state = oracle.BY_KEY[profile_key], oracle.STATE[state_name]
    assert (
        oracle.expected_level(profile, state, category, source, displayed=True) == oracle.INDICATOR
    )
    world = make_world(profile, state, skip=((category, source),))
    client = login(world)
    before = json_pairs(get_api(client, world).json())
    assert (category, source) not in before
    assert (category, source) not in html_sections(get_html(client, world).content.decode())
    world.add_entry(category, source, restricted=state.restricted_entries)
    after = json_pairs(get_api(client, world).json())
    assert after[(category, source)]["level"] == oracle.INDICATOR
    section = html_sections(get_html(client, world).content.decode())[(category, source)]
    assert indicator_sentence(oracle, category, source) in section["body"]


def test_origin_block_turns_entries_of_another_service_into_an_indicator(make_world, oracle):
    """Restricted entries of another service: at most an indicator; open ones stay full."""
    profile, state = oracle.BY_KEY["orientador"], oracle.STATE["consent_org"]
    pair = ("exclusion_social", "social")
    world = make_world(profile, state, skip=(pair,))
    client = login(world)
    before = json_pairs(get_api(client, world).json())[pair]
    assert before["level"] == oracle.FULL and before["entries"] == []  # full, and nothing recorded

    blocked = world.add_entry(*pair, restricted=True)
    blocked.need_assessment = "VALOR-BLOQUEADO"
    blocked.save()
    response = get_api(client, world)
    shown = json_pairs(response.json())[pair]
    assert shown["level"] == oracle.INDICATOR and "entries" not in shown
    assert b"VALOR-BLOQUEADO" not in response.content
    page = get_html(client, world).content.decode()
    assert html_sections(page)[pair]["level"] == oracle.INDICATOR and "VALOR-BLOQUEADO" not in page

    world.add_entry(*pair)  # an open entry of the same service
    response = get_api(client, world)
    shown = json_pairs(response.json())[pair]
    assert shown["level"] == oracle.FULL
    assert [e["id"] for e in shown["entries"]] != [] and blocked.pk not in [
        e["id"] for e in shown["entries"]
    ]
    assert shown["restricted_information"] is True
    assert b"VALOR-BLOQUEADO" not in response.content
    assert "VALOR-BLOQUEADO" not in get_html(client, world).content.decode()


def test_origin_block_does_not_apply_to_the_recording_service_itself(make_world, oracle):
    world = make_world(oracle.BY_KEY["trabajadora_social"], oracle.STATE["origin_blocked"])
    shown = json_pairs(get_api(login(world), world).json())
    assert shown[("exclusion_social", "social")]["level"] == oracle.FULL
    assert shown[("exclusion_social", "social")]["entries"]


def test_household_economy_indicator_needs_economy_data(make_world, oracle):
    """A household with members but no economic data has no 'situación económica' to indicate."""
    from django.utils import timezone

    from cases.models import Household, HouseholdMember

    profile, state = oracle.BY_KEY["orientador"], oracle.STATE["consent_org"]
    assert (
        oracle.expected_level(profile, state, "situacion_economica", "social") == oracle.INDICATOR
    )
    skip = tuple((c, "social") for c in oracle.HOUSEHOLD_CATEGORIES)
    world = make_world(profile, state, skip=skip)
    household = Household.objects.create(address_line="Calle Sinrentas 3")
    HouseholdMember.objects.create(
        household=household,
        person=world.person,
        relationship="holder",
        start_date=timezone.localdate(),
    )
    client = login(world)
    shown = json_pairs(get_api(client, world).json())
    assert ("unidad_convivencia", "social") in shown  # the household itself is data
    assert ("situacion_economica", "social") not in shown, (
        "no income, expenses, deprivation, tenure or months worked were recorded, yet an "
        "indicator says there is economic information"
    )


# --- The change history is not a side door --------------------------------------------------------

HISTORY_CASES = [
    (p, s)
    for p in ("trabajadora_social", "orientador", "tecnico_entidad", "coordinacion_social")
    for s in (
        "consent_org",
        "origin_blocked",
        "consent_denied_nested",
        "no_consent",
        "legal_basis_by_law",
        "break_glass",
    )
]


@pytest.mark.parametrize(
    "profile_key,state_name", HISTORY_CASES, ids=[f"{p}-{s}" for p, s in HISTORY_CASES]
)
def test_the_change_history_shows_no_value_the_record_does_not_show_in_full(
    profile_key, state_name, make_world, oracle
):
    profile, state = oracle.BY_KEY[profile_key], oracle.STATE[state_name]
    world = make_world(profile, state)
    client = login(world)
    client.raise_request_exception = False
    response = client.get(f"{world.html_url}historial/", {"finalidad": state.purpose})
    if not oracle.may_know_person(profile, state):
        assert response.status_code == 404
        return
    assert response.status_code == 200
    body = response.content.decode()
    leaks, seen = [], 0
    for category, source in oracle.PAIRS:
        if category == "ficha_basica":
            continue
        level = oracle.expected_level(profile, state, category, source, displayed=True)
        for marker in oracle.markers(category, source):
            if level != oracle.FULL and marker in body:
                leaks.append(f"{category}@{source} is {level} but the history shows {marker!r}")
            seen += level == oracle.FULL and marker in body
    assert not leaks, f"{profile} / {state}:\n  " + "\n  ".join(leaks)
    if any(
        oracle.expected_level(profile, state, c, s, displayed=True) == oracle.FULL
        for c, s in oracle.PAIRS
        if c not in ("ficha_basica", *oracle.HOUSEHOLD_CATEGORIES)
    ):
        assert seen, (
            "the history shows none of the values the viewer may see: the test would prove nothing"
        )


def test_the_household_history_keeps_composition_and_economy_apart(make_world, oracle):
    """NGO staff see the household economy in full but its composition only as an indicator."""
    from decimal import Decimal

    from django.utils import timezone

    from cases.models import Household, HouseholdMember

    profile, state = oracle.BY_KEY["tecnico_entidad"], oracle.STATE["consent_org"]
    assert oracle.expected_level(profile, state, "situacion_economica", "social") == oracle.FULL
    assert oracle.expected_level(profile, state, "unidad_convivencia", "social") == oracle.INDICATOR
    world = make_world(
        profile, state, skip=tuple((c, "social") for c in oracle.HOUSEHOLD_CATEGORIES)
    )
    household = Household.objects.create(
        address_line="Calle Marcahogar 7", monthly_income=Decimal("4321.87")
    )
    other = oracle.make_person(first_name="Quirinoconviviente")
    for member, relationship in ((world.person, "holder"), (other, "partner")):
        HouseholdMember.objects.create(
            household=household,
            person=member,
            relationship=relationship,
            start_date=timezone.localdate(),
            months_worked_last_year=4,
        )
    response = login(world).get(f"{world.html_url}historial/", {"finalidad": oracle.PURPOSE})
    assert response.status_code == 200
    body = response.content.decode()
    assert "4321.87" in body or "4.321,87" in body  # the economy is the NGO's to see
    assert "Calle Marcahogar 7" not in body, "the household's address is unidad_convivencia data"
    assert "Quirinoconviviente" not in body


# --- Revocation -----------------------------------------------------------------------------------


def test_revocation_is_seen_on_the_very_next_request(make_world, oracle):
    world = make_world(oracle.BY_KEY["orientador"], oracle.STATE["consent_org"])
    client = login(world)
    pair, marker = ("exclusion_social", "social"), oracle.markers("exclusion_social", "social")[0]
    before = get_api(client, world)
    assert json_pairs(before.json())[pair]["level"] == oracle.FULL
    assert marker in before.content.decode()
    assert marker in get_html(client, world).content.decode()

    ConsentRevocation.objects.create(
        consent_id=world.consent_ids[0], revoked_by=world.recorder_user, channel="in_person"
    )

    after = get_api(client, world)
    data = after.json()
    assert pair not in json_pairs(data)
    assert marker not in after.content.decode()
    assert {(i["code"], i["owner_service"]): i["reason"] for i in data["not_visible"]}.get(
        pair
    ) == "no_basis"
    page = get_html(client, world).content.decode()
    assert pair not in html_sections(page) and marker not in page


def test_a_correction_replaces_the_consent_on_the_very_next_request(make_world, oracle):
    from consent.models import Consent

    world = make_world(oracle.BY_KEY["orientador"], oracle.STATE["consent_org"])
    client = login(world)
    assert (
        json_pairs(get_api(client, world).json())[("motivacion", "social")]["level"] == oracle.FULL
    )
    old = Consent.objects.get(pk=world.consent_ids[0])
    new = Consent.objects.create(
        person=world.person,
        given_on=old.given_on,
        valid_from=old.valid_from,
        valid_until=old.valid_until,
        all_categories=False,
        permitted_categories=["exclusion_social"],
        purposes=old.purposes,
        privacy_notice_version="2025-2",
        supersedes=old,
        recorded_by=world.recorder_user,
        recorded_by_org=old.recorded_by_org,
    )
    new.grantee_organisations.set([world.orgs["viewer"]])
    shown = json_pairs(get_api(client, world).json())
    assert ("motivacion", "social") not in shown
    assert shown[("exclusion_social", "social")]["level"] == oracle.FULL


# --- Not attended = does not exist ----------------------------------------------------------------

CHANNELS = [
    ("trabajadora_social", "api"),
    ("trabajadora_social", "html"),
    ("orientador", "api"),
    ("orientador", "html"),
    ("tecnico_entidad", "api"),
    ("tecnico_entidad", "html"),
    ("coordinacion_social", "api"),
    ("coordinacion_social", "html"),
]


def _url(world, channel: str, person_id) -> tuple[str, dict]:
    if channel == "api":
        return f"/api/v1/persons/{person_id}/record/", {"purpose": world.state.purpose}
    prefix = (
        "/portal/personas/" if world.profile.role == Role.NGO_TECHNICIAN else "/espacio/personas/"
    )
    return f"{prefix}{person_id}/", {"finalidad": world.state.purpose}


@pytest.mark.parametrize("profile_key,channel", CHANNELS, ids=[f"{p}-{c}" for p, c in CHANNELS])
def test_a_person_not_attended_is_indistinguishable_from_one_that_does_not_exist(
    profile_key,
    channel,
    make_world,
    oracle,
):
    world = make_world(oracle.BY_KEY[profile_key], oracle.STATE["not_attended"])
    client = login(world)
    client.raise_request_exception = False
    missing = Person.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000
    responses = {}
    for label, pid in (("not_attended", world.person.pk), ("missing", missing), ("huge", 2**63)):
        url, params = _url(world, channel, pid)
        responses[label] = client.get(url, params)
    for label, response in responses.items():
        assert response.status_code == 404, f"{label}: {response.status_code}"
    assert responses["not_attended"].content == responses["missing"].content
    assert responses["huge"].content == responses["missing"].content
    assert responses["not_attended"]["Content-Type"] == responses["missing"]["Content-Type"]
    refused = DisclosureLogEntry.objects.filter(
        event=DisclosureLogEntry.Event.REFUSED, person=world.person, user=world.user
    )
    assert refused.count() == 1, "the refusal for the person who exists is logged, once"
    assert refused.get().channel == ("api" if channel == "api" else "web")


def test_a_person_not_attended_is_absent_from_the_caseload_lists(make_world, oracle):
    for key, url in (("trabajadora_social", "/espacio/"), ("tecnico_entidad", "/portal/")):
        world = make_world(oracle.BY_KEY[key], oracle.STATE["not_attended"])
        page = login(world).get(url)
        assert page.status_code == 200
        assert world.person.last_name_1 not in page.content.decode()


@pytest.mark.parametrize("profile_key", ["evaluacion", "dpd", "administracion"])
def test_roles_without_record_access_get_404(profile_key, make_world, oracle):
    world = make_world(
        oracle.BY_KEY[profile_key], oracle.STATE["consent_org"]
    )  # their organisation attends
    client = login(world)
    client.raise_request_exception = False
    missing = Person.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000
    api = client.get(world.api_url, {"purpose": oracle.PURPOSE})
    api_missing = client.get(f"/api/v1/persons/{missing}/record/", {"purpose": oracle.PURPOSE})
    assert api.status_code == 404 and api.content == api_missing.content
    for url in (f"/espacio/personas/{world.person.pk}/", f"/portal/personas/{world.person.pk}/"):
        assert client.get(url).status_code == 404
    assert (
        not DisclosureLogEntry.objects.filter(person=world.person)
        .exclude(event=DisclosureLogEntry.Event.REFUSED)
        .exists()
    )


@pytest.mark.parametrize("what", ["membership", "organisation"])
def test_an_inactive_membership_or_organisation_sees_nothing(what, make_world, oracle):
    world = make_world(oracle.BY_KEY["orientador"], oracle.STATE["consent_org"])
    if what == "membership":
        world.membership.is_active = False
        world.membership.save()
    else:
        world.orgs["viewer"].is_active = False
        world.orgs["viewer"].save()
    client = login(world)
    client.raise_request_exception = False
    assert client.get(world.api_url, {"purpose": oracle.PURPOSE}).status_code in (403, 404)
    page = client.get(world.html_url, {"finalidad": oracle.PURPOSE})
    assert page.status_code in (403, 404)
    assert world.person.last_name_1 not in page.content.decode()


def test_each_space_is_only_for_its_roles(make_world, oracle):
    ngo = make_world(oracle.BY_KEY["tecnico_entidad"], oracle.STATE["consent_org"])
    assert login(ngo).get(f"/espacio/personas/{ngo.person.pk}/").status_code == 404
    staff = make_world(oracle.BY_KEY["trabajadora_social"], oracle.STATE["consent_org"])
    assert login(staff).get(f"/portal/personas/{staff.person.pk}/").status_code == 404


@pytest.mark.parametrize("purpose", [None, "", Purpose.EVALUATION.value, "cualquiera"])
def test_the_api_requires_a_person_purpose(purpose, make_world, oracle):
    world = make_world(oracle.BY_KEY["orientador"], oracle.STATE["consent_org"])
    client = login(world)
    params = {} if purpose is None else {"purpose": purpose}
    response = client.get(world.api_url, params)
    assert response.status_code == 400
    for category, source in oracle.PAIRS:
        for marker in oracle.markers(category, source) if category != "ficha_basica" else ():
            assert marker not in response.content.decode()
    assert not DisclosureLogEntry.objects.filter(person=world.person).exists()


def test_anonymous_requests_learn_nothing(make_world, oracle):
    world = make_world(oracle.BY_KEY["orientador"], oracle.STATE["consent_org"])
    client = Client()
    api = client.get(world.api_url, {"purpose": oracle.PURPOSE})
    assert api.status_code in (401, 403)
    assert world.person.last_name_1 not in api.content.decode()
    page = client.get(world.html_url)
    assert page.status_code in (302, 404)
