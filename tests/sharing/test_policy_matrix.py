"""The generated authorization matrix on the decision function.

Every role × every (category, recording service) pair × every basis state gets the
level the rules of issue 4 give, computed by the oracle in ``conftest.py`` (written
from the specification, not from ``sharing.policy``):

* ``test_decide_matches_the_rules``: the pure ``decide`` over hand-built ``Facts``
  (what a correct ``load_facts`` yields for the state), no database;
* ``test_load_facts_then_decide_matches_the_rules``: the same states built in the
  database and read through ``load_facts``.

Test ids read ``<profile>-<state>-<category>@<recording service>``.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from consent.purposes import Purpose
from ris.accounts.models import Role
from sharing.categories import CATEGORIES
from sharing.policy import Facts, decide, decide_all, load_facts


def test_the_matrix_covers_every_role_category_and_pair(oracle):
    assert {p.role for p in oracle.PROFILES} == set(Role.values)
    assert {c.code for c in CATEGORIES} == {c for c, _ in oracle.PAIRS}
    for role in Role.values:
        for category in CATEGORIES:
            assert oracle.national_cap(role, category.code) in (
                oracle.FULL,
                oracle.INDICATOR,
                oracle.HIDDEN,
            )
    # Common categories are recorded by every service; ficha básica belongs to nobody in particular.
    assert {s for c, s in oracle.PAIRS if c == "atenciones"} == set(oracle.SERVICES)
    assert [s for c, s in oracle.PAIRS if c == "ficha_basica"] == [oracle.COMMON]


def test_decide_matches_the_rules(pure_case, oracle):
    profile, state, category, source = pure_case
    facts = oracle.facts_for(profile, state)
    decision = decide(facts, category, source)
    expected = oracle.expected_level(profile, state, category, source)
    assert decision.level == expected, (
        f"{profile} / {state} / {category}@{source}: expected {expected}, got {decision.level} "
        f"(basis={decision.basis!r}, reason={decision.reason!r})"
    )
    if decision.level == oracle.HIDDEN:
        assert decision.basis == "", "a hidden pair must not claim a basis"
        return
    kind = oracle.expected_basis_kinds(profile, state, category, source)
    if kind == "own_service":
        assert decision.basis == "own_service"
    elif kind == "break_glass":
        assert decision.basis == f"break_glass:{oracle.BREAK_GLASS_ID}"
    else:
        ids = oracle.consent_ids_pure(state)
        allowed = {f"consent:{ids[i]}" for i in oracle.allowing_consents(state, category)}
        allowed |= {
            f"legal_basis:{oracle.legal_basis_id_pure(i, source)}"
            for i in oracle.allowing_legal_bases(profile, state, category, source)
        }
        assert decision.basis in allowed, (
            f"basis {decision.basis!r} is not one of {sorted(allowed)}"
        )


@pytest.mark.parametrize(
    "profile_key",
    [
        "orientador",
        "tecnico_entidad",
        "coordinacion_social",
        "coordinacion_empleo",
        "evaluacion",
        "dpd",
        "administracion",
    ],
)
def test_break_glass_is_for_social_workers_only(profile_key, oracle):
    """Only a social worker's emergency access opens a person the organisation does not attend."""
    profile = oracle.BY_KEY[profile_key]
    facts = oracle.facts_for(profile, oracle.STATE["break_glass"])
    assert facts.break_glass_id is not None  # the access row exists...
    shown = [
        (d.category, d.source_service, d.level)
        for d in decide_all(facts)
        if d.level != oracle.HIDDEN
    ]
    assert shown == [], f"{profile.role} is not a social worker but break-the-glass showed {shown}"


@pytest.mark.parametrize("purpose", ["", "otra", Purpose.EVALUATION.value])
def test_no_valid_person_purpose_shows_nothing(purpose, oracle):
    profile = oracle.BY_KEY["trabajadora_social"]
    base = oracle.facts_for(profile, oracle.STATE["consent_org"])
    facts = Facts(**{**base.__dict__, "purpose": purpose})
    assert {d.level for d in decide_all(facts)} == {oracle.HIDDEN}


def test_a_missing_matrix_row_means_hidden(oracle):
    profile = oracle.BY_KEY["trabajadora_social"]
    base = oracle.facts_for(profile, oracle.STATE["no_consent"])
    facts = Facts(
        **{
            **base.__dict__,
            "matrix": {k: v for k, v in base.matrix.items() if k != "exclusion_social"},
        }
    )
    assert decide(facts, "exclusion_social", oracle.SOCIAL).level == oracle.HIDDEN


# --- The same matrix through load_facts (database) ------------------------------------------------


def test_load_facts_then_decide_matches_the_rules(db_case, make_world, oracle):
    profile, state = db_case
    world = make_world(profile, state)
    facts = load_facts(
        viewer=world.viewer, person_id=world.person.pk, purpose=state.purpose, moment=timezone.now()
    )
    assert facts.visible == oracle.may_know_person(profile, state), (
        f"{profile} / {state}: visible must be {oracle.may_know_person(profile, state)}"
    )
    decisions = decide_all(facts)
    got = {(d.category, d.source_service): d.level for d in decisions}
    want = {(c, s): oracle.expected_level(profile, state, c, s) for c, s in oracle.PAIRS}
    assert got == want, f"{profile} / {state}:\n{oracle.format_mismatches(got, want)}"
    for d in decisions:
        if (
            d.level == oracle.HIDDEN
            or oracle.expected_basis_kinds(profile, state, d.category, d.source_service) != "cross"
        ):
            continue
        allowed = world.allowed_bases(d.category, d.source_service)
        assert d.basis in allowed, (
            f"{d.category}@{d.source_service}: basis {d.basis!r} not in {sorted(allowed)}"
        )


def test_an_emergency_access_opened_as_social_worker_does_not_serve_the_same_users_other_role(
    make_world, oracle
):
    """A user may hold several roles in one organisation; the access belongs to the social
    worker role."""
    from ris.accounts.models import Membership
    from ris.accounts.viewer import Viewer

    world = make_world(oracle.BY_KEY["trabajadora_social"], oracle.STATE["break_glass"])
    assert load_facts(
        viewer=world.viewer, person_id=world.person.pk, purpose=oracle.PURPOSE
    ).visible
    as_coordinator = Membership.objects.create(
        user=world.user, organisation=world.orgs["viewer"], role=Role.COORDINATOR
    )
    viewer = Viewer.from_membership(as_coordinator)
    facts = load_facts(viewer=viewer, person_id=world.person.pk, purpose=oracle.PURPOSE)
    assert not facts.visible, (
        "the coordinator profile of the same user must not inherit the emergency access"
    )
