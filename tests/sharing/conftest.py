"""The authorization matrix: an independent statement of the sharing rules, and a world to test
them in.

This file is the specification the sharing engine is tested against. It holds:

* the **viewer profiles** (every role, with the service kind of its organisation);
* the **basis states** (no consent, active consent, revoked, expired, pending, legal
  bases in their modes, objections, agreements, origin block, break-the-glass,
  another autonomous community...), described declaratively;
* the **oracle**: ``expected_level`` computes the level a viewer must get for one
  (category, recording service) pair, written from the rules of issue 4 and never
  by calling ``sharing.policy``;
* ``facts_for``: the ``Facts`` that ``load_facts`` must produce for a state (for the
  pure tests of ``decide``), and ``make_world``: the same state built in the
  database (for ``load_facts``, the API and the HTML pages).

``pytest_generate_tests`` turns the profiles × states × pairs into named test ids.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import sys
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.utils import timezone

from consent.purposes import Purpose
from ris.accounts.models import Role, ServiceKind
from sharing.categories import CATEGORIES
from sharing.policy import source_services

# --- Vocabulary --------------------------------------------------------------------------------

FULL, INDICATOR, HIDDEN = "full", "indicator", "hidden"
RANK = {HIDDEN: 0, INDICATOR: 1, FULL: 2}

SOCIAL, EMPLOYMENT, THIRD_SECTOR = (
    ServiceKind.SOCIAL.value,
    ServiceKind.EMPLOYMENT.value,
    ServiceKind.THIRD_SECTOR.value,
)
COMMON = "common"
SERVICES = (SOCIAL, EMPLOYMENT, THIRD_SECTOR)

HOME = "07"  # Castilla y León: the viewer's autonomous community
ELSEWHERE = "17"  # La Rioja: another autonomous community

PURPOSE = Purpose.FOLLOW_UP.value  # the purpose every request of the matrix is made for
OTHER_PURPOSE = Purpose.INTAKE.value
ALL_PERSON_PURPOSES = tuple(p for p in Purpose.values if p != Purpose.EVALUATION)

#: Every (category, recording service) pair of the record, as the sharing engine enumerates them.
PAIRS: tuple[tuple[str, str], ...] = tuple(
    (c.code, s) for c in CATEGORIES for s in source_services(c.code)
)
LABELS = {c.code: c.label for c in CATEGORIES}
HOUSEHOLD_CATEGORIES = ("unidad_convivencia", "situacion_economica")

# The spec names them: special category (GDPR art. 9) and criminal data (art. 10).
SPECIAL_OR_CRIMINAL = frozenset({"salud", "antecedentes_penales"})


def lowest(*levels: str) -> str:
    return min(levels, key=RANK.__getitem__)


# --- Viewer profiles -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    key: str
    role: str
    service: str

    def __str__(self) -> str:
        return self.key


PROFILES: tuple[Profile, ...] = (
    Profile("trabajadora_social", Role.SOCIAL_WORKER.value, SOCIAL),
    Profile("orientador", Role.EMPLOYMENT_COUNSELLOR.value, EMPLOYMENT),
    Profile("tecnico_entidad", Role.NGO_TECHNICIAN.value, THIRD_SECTOR),
    Profile("coordinacion_social", Role.COORDINATOR.value, SOCIAL),
    Profile("coordinacion_empleo", Role.COORDINATOR.value, EMPLOYMENT),
    Profile("evaluacion", Role.EVALUATOR.value, SOCIAL),
    Profile("dpd", Role.DATA_PROTECTION_OFFICER.value, SOCIAL),
    Profile("administracion", Role.ADMINISTRATOR.value, SOCIAL),
)
BY_KEY = {p.key: p for p in PROFILES}
MAIN_PROFILES = tuple(
    BY_KEY[k]
    for k in ("trabajadora_social", "orientador", "tecnico_entidad", "coordinacion_social")
)
NO_RECORD_PROFILES = tuple(BY_KEY[k] for k in ("evaluacion", "dpd", "administracion"))


# --- (3) The national visibility matrix, restated from the domain brief ---------------------------
# "state benefit details are an indicator for social services; family situation and health are an
# indicator for employment; criminal records are hidden outside social services; NGO staff get full
# access capped further by their agreement; evaluators, data protection officers and administrators
# see no record content through the matrix."  Anything not named is full for staff roles.

NATIONAL_MATRIX_EXCEPTIONS: dict[str, dict[str, str]] = {
    Role.SOCIAL_WORKER: {"prestaciones_estatales": INDICATOR},
    Role.EMPLOYMENT_COUNSELLOR: {
        "situacion_familiar": INDICATOR,
        "salud": INDICATOR,
        "situacion_economica": INDICATOR,
        "antecedentes_penales": HIDDEN,
    },
    Role.NGO_TECHNICIAN: {
        "situacion_familiar": INDICATOR,
        "salud": INDICATOR,
        "prestaciones_estatales": INDICATOR,
        "antecedentes_penales": HIDDEN,
    },
    Role.COORDINATOR: {
        "situacion_familiar": INDICATOR,
        "salud": INDICATOR,
        "prestaciones_estatales": INDICATOR,
        "antecedentes_penales": HIDDEN,
    },
}
NO_RECORD_ROLES = frozenset({Role.EVALUATOR, Role.DATA_PROTECTION_OFFICER, Role.ADMINISTRATOR})


def national_cap(role: str, category: str) -> str:
    if role in NO_RECORD_ROLES:
        return HIDDEN
    return NATIONAL_MATRIX_EXCEPTIONS[role].get(category, FULL)


#: Regional rows (for the viewer's role) that the "regional matrix" states add in one community.
REGIONAL_OVERRIDE = {"exclusion_social": HIDDEN, "demanda_empleo": INDICATOR, "salud": FULL}


# --- Basis states -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentSpec:
    # org (the viewer's) | other_org (same kind) | service (viewer's kind) | other_service
    grantee: str = "org"
    period: str = "active"  # active | last_day | expired | pending
    revoked: bool = False
    all_categories: bool = True
    permitted: tuple[str, ...] = ()
    denied: tuple[str, ...] = ()
    purposes: tuple[str, ...] = (PURPOSE,)
    corrected_by: ConsentSpec | None = None  # a correction supersedes this consent
    person: str = "self"  # self | other (a consent another person gave)


@dataclass(frozen=True)
class LegalBasisSpec:
    """One basis per other service kind, flowing from it to the viewer's service kind."""

    mode: str = "by_law"  # by_law | unless_objection | consent_only
    condition: str = ""  # "" | minimum_income
    community: str = HOME
    categories: tuple[str, ...] = (
        "exclusion_social",
        "rentas_minimas",
        "salud",
        "demanda_empleo",
        "prestaciones_estatales",
        "empleabilidad",
        "carpeta_social",
        "pobreza_infantil",
        "atenciones",
    )
    purposes: tuple[str, ...] = (PURPOSE,)
    active: bool = True
    objection: str = (
        ""  # "" | person (the person objected to this basis) | other_person (someone else did)
    )


AGREEMENT_CATEGORIES = (
    "exclusion_social",
    "competencias",
    "situacion_economica",
    "demanda_empleo",
    "empleabilidad",
    "itinerario_empleo",
    "salud",
    "atenciones",
)


@dataclass(frozen=True)
class AgreementSpec:
    categories: tuple[str, ...] = AGREEMENT_CATEGORIES
    purposes: tuple[str, ...] = ALL_PERSON_PURPOSES
    period: str = "active"  # active | expired
    # viewer (the viewer's organisation) | other (another organisation of the same kind)
    owner: str = "viewer"


PERMITTED_SUBSET = (
    "exclusion_social",
    "competencias",
    "salud",
    "demanda_empleo",
    "carpeta_social",
    "atenciones",
)
DENIED = ("salud", "unidad_convivencia", "empleabilidad", "intermediacion", "situacion_juridica")


@dataclass(frozen=True)
class State:
    name: str
    attended: bool = True
    enrolment_closed: bool = False  # attended once; the enrolment was closed
    consents: tuple[ConsentSpec, ...] = ()
    legal_bases: tuple[LegalBasisSpec, ...] = ()
    minimum_income: str = (
        "applied"  # applied | granted (in force) | ended | other_person (granted to someone else)
    )
    agreements: tuple[AgreementSpec, ...] = (AgreementSpec(),)  # of the viewer's organisation
    regional_override: str | None = None  # community holding the REGIONAL_OVERRIDE rows
    regional_override_role: str = "own"  # own (the viewer's role) | other (rows for another role)
    break_glass: str | None = (
        None  # active | expired | colleague (another user's) | other_person (for someone else)
    )
    restricted_entries: bool = False  # every entry is restricted by the service that recorded it
    purpose: str = PURPOSE
    record_only: bool = False  # the state is about entries: not visible to the pure decision
    decide_only: bool = False  # the endpoints refuse the purpose before deciding

    def __str__(self) -> str:
        return self.name


_CONSENT = ConsentSpec()
STATES: tuple[State, ...] = (
    State("no_consent"),
    State("consent_org", consents=(_CONSENT,)),
    State("consent_service", consents=(ConsentSpec(grantee="service"),)),
    State("consent_last_day", consents=(ConsentSpec(period="last_day"),)),
    State("consent_revoked", consents=(ConsentSpec(revoked=True),)),
    State("consent_expired", consents=(ConsentSpec(period="expired"),)),
    State("consent_pending", consents=(ConsentSpec(period="pending"),)),
    State(
        "consent_superseded",
        consents=(
            ConsentSpec(corrected_by=ConsentSpec(all_categories=False, permitted=PERMITTED_SUBSET)),
        ),
    ),
    State("consent_other_org", consents=(ConsentSpec(grantee="other_org"),)),
    State("consent_other_service", consents=(ConsentSpec(grantee="other_service"),)),
    State("consent_wrong_purpose", consents=(ConsentSpec(purposes=(OTHER_PURPOSE,)),)),
    State(
        "consent_permitted_subset",
        consents=(ConsentSpec(all_categories=False, permitted=PERMITTED_SUBSET),),
    ),
    State("consent_denied_nested", consents=(ConsentSpec(denied=DENIED),)),
    State("legal_basis_by_law", legal_bases=(LegalBasisSpec(),)),
    State("legal_basis_unless_objection", legal_bases=(LegalBasisSpec(mode="unless_objection"),)),
    State("legal_basis_consent_only", legal_bases=(LegalBasisSpec(mode="consent_only"),)),
    State("legal_basis_wrong_purpose", legal_bases=(LegalBasisSpec(purposes=(OTHER_PURPOSE,)),)),
    State("legal_basis_inactive", legal_bases=(LegalBasisSpec(active=False),)),
    State("legal_basis_other_community", legal_bases=(LegalBasisSpec(community=ELSEWHERE),)),
    State("legal_basis_by_law_objection", legal_bases=(LegalBasisSpec(objection="person"),)),
    State(
        "legal_basis_unless_objection_objection",
        legal_bases=(LegalBasisSpec(mode="unless_objection", objection="person"),),
    ),
    State(
        "legal_basis_objection_of_another_person",
        legal_bases=(LegalBasisSpec(mode="unless_objection", objection="other_person"),),
    ),
    State(
        "legal_basis_minimum_income_met",
        minimum_income="granted",
        legal_bases=(LegalBasisSpec(condition="minimum_income"),),
    ),
    State(
        "legal_basis_minimum_income_applied",
        minimum_income="applied",
        legal_bases=(LegalBasisSpec(condition="minimum_income"),),
    ),
    State(
        "legal_basis_minimum_income_ended",
        minimum_income="ended",
        legal_bases=(LegalBasisSpec(condition="minimum_income"),),
    ),
    State(
        "legal_basis_minimum_income_of_another_person",
        minimum_income="other_person",
        legal_bases=(LegalBasisSpec(condition="minimum_income"),),
    ),
    State(
        "consent_and_objected_legal_basis",
        consents=(_CONSENT,),
        legal_bases=(LegalBasisSpec(mode="unless_objection", objection="person"),),
    ),
    State("consent_of_another_person", consents=(ConsentSpec(person="other"),)),
    State(
        "agreement_wrong_purpose",
        consents=(_CONSENT,),
        agreements=(AgreementSpec(purposes=(OTHER_PURPOSE,)),),
    ),
    State("agreement_expired", consents=(_CONSENT,), agreements=(AgreementSpec(period="expired"),)),
    State("no_agreement", consents=(_CONSENT,), agreements=()),
    State(
        "agreement_of_another_org", consents=(_CONSENT,), agreements=(AgreementSpec(owner="other"),)
    ),
    State("regional_matrix_home", consents=(_CONSENT,), regional_override=HOME),
    State("regional_matrix_elsewhere", consents=(_CONSENT,), regional_override=ELSEWHERE),
    State(
        "regional_matrix_other_role",
        consents=(_CONSENT,),
        regional_override=HOME,
        regional_override_role="other",
    ),
    State("origin_blocked", consents=(_CONSENT,), restricted_entries=True, record_only=True),
    State("not_attended", attended=False, consents=(_CONSENT,)),
    State("enrolment_closed", enrolment_closed=True, consents=(_CONSENT,)),
    State("break_glass", attended=False, break_glass="active"),
    State("break_glass_expired", attended=False, break_glass="expired"),
    State("break_glass_colleague", attended=False, break_glass="colleague"),
    State("break_glass_other_person", attended=False, break_glass="other_person"),
    State(
        "purpose_evaluation",
        consents=(ConsentSpec(purposes=(PURPOSE, Purpose.EVALUATION.value)),),
        purpose=Purpose.EVALUATION.value,
        decide_only=True,
    ),
)
STATE = {s.name: s for s in STATES}


def other_service(service: str) -> str:
    return SERVICES[(SERVICES.index(service) + 1) % len(SERVICES)]


# --- The oracle ----------------------------------------------------------------------------------


def attends(state: State, profile: Profile | None = None) -> bool:
    """(1) Caseload: the viewer's organisation has an open enrolment for the person; and a
    third-sector entity works in RIS only under an agreement in force (whatever its purposes):
    without one it attends nobody."""
    if profile is not None and profile.service == THIRD_SECTOR and not any(
        spec.owner == "viewer" and spec.period == "active" for spec in state.agreements
    ):
        return False
    return state.attended and not state.enrolment_closed


def break_glass_open(profile: Profile, state: State) -> bool:
    """A social worker's own active emergency access to a person their organisation does not
    attend."""
    return (
        not attends(state, profile) and state.break_glass == "active" and profile.role == Role.SOCIAL_WORKER
    )


def may_know_person(profile: Profile, state: State) -> bool:
    return attends(state, profile) or break_glass_open(profile, state)


def matrix_cap(profile: Profile, state: State, category: str) -> str:
    """(3) The role's row; a row of the viewer's own community overrides the national one."""
    if (
        state.regional_override == HOME
        and state.regional_override_role == "own"
        and category in REGIONAL_OVERRIDE
    ):
        return REGIONAL_OVERRIDE[category]
    return national_cap(profile.role, category)


def _consents_with_supersession(state: State):
    """(spec, superseded) for every consent recorded, corrections included."""
    for spec in state.consents:
        yield spec, spec.corrected_by is not None
        if spec.corrected_by is not None:
            yield spec.corrected_by, False


def consent_in_force(spec: ConsentSpec, superseded: bool) -> bool:
    return spec.period in ("active", "last_day") and not spec.revoked and not superseded


def consent_grants_viewer(spec: ConsentSpec) -> bool:
    return spec.grantee in ("org", "service") and spec.person == "self"


def allowing_consents(state: State, category: str) -> list[int]:
    """Indexes (in recording order) of the consents that open this category for this purpose."""
    found = []
    for index, (spec, superseded) in enumerate(_consents_with_supersession(state)):
        if not consent_in_force(spec, superseded) or not consent_grants_viewer(spec):
            continue
        if state.purpose not in spec.purposes or category in spec.denied:
            continue
        if spec.all_categories or category in spec.permitted:
            found.append(index)
    return found


def allowing_legal_bases(profile: Profile, state: State, category: str, source: str) -> list[int]:
    """Indexes of the legal bases (one per spec, from ``source``) that open this flow."""
    found = []
    for index, spec in enumerate(state.legal_bases):
        if not spec.active or spec.community != HOME:  # the viewer's community only
            continue
        if spec.mode not in ("by_law", "unless_objection"):  # consent_only gives nothing
            continue
        if category not in spec.categories or state.purpose not in spec.purposes:
            continue
        if spec.condition == "minimum_income" and state.minimum_income != "granted":
            continue
        if spec.objection == "person":  # the person's objection closes a flow resting on law
            continue
        if source == profile.service:
            continue
        found.append(index)
    return found


def agreed_categories(state: State) -> set[str]:
    agreed: set[str] = set()
    for spec in state.agreements:
        if spec.owner == "viewer" and spec.period == "active" and state.purpose in spec.purposes:
            agreed.update(spec.categories)
    return agreed


def is_own(profile: Profile, source: str) -> bool:
    return source in (COMMON, profile.service)


def expected_level(
    profile: Profile, state: State, category: str, source: str, *, displayed: bool = False
) -> str:
    """The level the rules give; ``displayed``: with the world's entries (origin block) applied."""
    if state.purpose == Purpose.EVALUATION:  # evaluation works on aggregates, never on a person
        return HIDDEN
    cap = matrix_cap(profile, state, category)
    if not attends(state, profile):
        if not break_glass_open(profile, state):
            return HIDDEN
        if category in SPECIAL_OR_CRIMINAL:
            return HIDDEN
        return cap
    if is_own(profile, source):
        basis = FULL
    elif allowing_consents(state, category) or allowing_legal_bases(
        profile, state, category, source
    ):
        basis = FULL
    else:
        basis = HIDDEN
    agreement = FULL
    if (
        profile.service == THIRD_SECTOR
        and not is_own(profile, source)
        and category not in agreed_categories(state)
    ):
        agreement = INDICATOR
    origin = FULL
    if (
        displayed
        and state.restricted_entries
        and not is_own(profile, source)
        and category not in HOUSEHOLD_CATEGORIES
    ):
        origin = INDICATOR
    return lowest(cap, basis, agreement, origin)


def expected_basis_kinds(profile: Profile, state: State, category: str, source: str) -> str:
    """own_service | break_glass | cross (consent or legal basis)."""
    if not attends(state, profile):
        return "break_glass"
    return "own_service" if is_own(profile, source) else "cross"


# --- Facts a correct load_facts must produce (for the pure decision tests) -----------------------

VIEWER_ORG, OTHER_ORG, BREAK_GLASS_ID = 10, 11, 77


def pure_viewer(profile: Profile):
    from ris.accounts.viewer import Viewer

    return Viewer(
        user_id=1,
        membership_id=1,
        organisation_id=VIEWER_ORG,
        organisation_name="Organización",
        service=profile.service,
        role=profile.role,
        community_code=HOME,
    )


def consent_ids_pure(state: State) -> list[int]:
    return [100 + i for i, _ in enumerate(_consents_with_supersession(state))]


def legal_basis_id_pure(index: int, source: str) -> int:
    return 200 + 10 * index + SERVICES.index(source)


def facts_for(profile: Profile, state: State):
    from sharing.policy import ConsentFacts, Facts, LegalBasisFacts

    viewer = pure_viewer(profile)
    moment = timezone.now()
    if not attends(state, profile):
        # The viewer's own unexpired emergency access is a fact; a colleague's or an expired one
        # is not.
        bg = BREAK_GLASS_ID if state.break_glass == "active" else None
        matrix = {c.code: matrix_cap(profile, state, c.code) for c in CATEGORIES} if bg else {}
        return Facts(
            viewer=viewer,
            person_id=1,
            purpose=state.purpose,
            moment=moment,
            attends=False,
            break_glass_id=bg,
            matrix=matrix,
        )
    consents = []
    for cid, (spec, superseded) in zip(
        consent_ids_pure(state), _consents_with_supersession(state), strict=True
    ):
        if not consent_in_force(spec, superseded) or spec.person != "self":
            continue
        consents.append(
            ConsentFacts(
                id=cid,
                grantee_org_ids=frozenset(
                    {VIEWER_ORG}
                    if spec.grantee == "org"
                    else {OTHER_ORG}
                    if spec.grantee == "other_org"
                    else ()
                ),
                grantee_services=frozenset(
                    {profile.service}
                    if spec.grantee == "service"
                    else {other_service(profile.service)}
                    if spec.grantee == "other_service"
                    else ()
                ),
                all_categories=spec.all_categories,
                permitted=frozenset(spec.permitted),
                denied=frozenset(spec.denied),
                purposes=frozenset(spec.purposes),
            )
        )
    bases, objected = [], set()
    for index, spec in enumerate(state.legal_bases):
        if not spec.active or spec.community != HOME:
            continue
        for source in SERVICES:
            if source == profile.service:
                continue
            bid = legal_basis_id_pure(index, source)
            bases.append(
                LegalBasisFacts(
                    id=bid,
                    name=f"Base {bid}",
                    from_service=source,
                    to_service=profile.service,
                    categories=frozenset(spec.categories),
                    purposes=frozenset(spec.purposes),
                    mode=spec.mode,
                    condition=spec.condition,
                )
            )
            if spec.objection == "person":
                objected.add(bid)
    return Facts(
        viewer=viewer,
        person_id=1,
        purpose=state.purpose,
        moment=moment,
        attends=True,
        matrix={c.code: matrix_cap(profile, state, c.code) for c in CATEGORIES},
        consents=tuple(consents),
        legal_bases=tuple(bases),
        objected_basis_ids=frozenset(objected),
        receives_minimum_income=state.minimum_income == "granted",
        agreement_categories=frozenset(agreed_categories(state))
        if profile.service == THIRD_SECTOR
        else None,
    )


# --- Parametrization -----------------------------------------------------------------------------


def pytest_generate_tests(metafunc):
    if "pure_case" in metafunc.fixturenames:
        cases, ids = [], []
        for profile, state in itertools.product(PROFILES, STATES):
            if state.record_only:
                continue
            if state.break_glass == "active" and profile.role != Role.SOCIAL_WORKER:
                continue  # see test_break_glass_is_for_social_workers_only
            for category, source in PAIRS:
                cases.append((profile, state, category, source))
                ids.append(f"{profile.key}-{state.name}-{category}@{source}")
        metafunc.parametrize("pure_case", cases, ids=ids)
    if "db_case" in metafunc.fixturenames:
        cases = [(p, s) for p, s in itertools.product(PROFILES, STATES) if not s.record_only]
        metafunc.parametrize("db_case", cases, ids=[f"{p.key}-{s.name}" for p, s in cases])
    if "endpoint_case" in metafunc.fixturenames:
        cases = [(p, s) for p, s in itertools.product(MAIN_PROFILES, STATES) if not s.decide_only]
        metafunc.parametrize("endpoint_case", cases, ids=[f"{p.key}-{s.name}" for p, s in cases])


def format_mismatches(got: dict, want: dict) -> str:
    lines = [
        f"  {c}@{s}: expected {want[(c, s)]}, got {got.get((c, s), 'absent')}"
        for (c, s) in want
        if got.get((c, s)) != want[(c, s)]
    ]
    return "\n".join(lines)


# --- The world in the database --------------------------------------------------------------------


#: The marker values each pair's entry carries: must appear only when the pair is shown in full.
def markers(category: str, source: str) -> tuple[str, ...]:
    if category == "unidad_convivencia":
        return ("Quirinoconviviente", "Calle Marcahogar 7")
    if category == "situacion_economica":
        return ("4321.87",)
    if category == "rentas_minimas":
        return ("431.19",)
    if category == "prestaciones_estatales":
        return ("812.34",)
    return (f"MARCA-{category}-{source}",)


def _entry(category: str, source: str, **base):
    """An unsaved section entry of ``category`` recorded by ``source`` carrying its marker."""
    from cases import models as m

    today = timezone.localdate()
    mark = markers(category, source)[0]
    makers = {
        "competencias": lambda: m.SocialCompetences(
            assessed_on=today, pre_work_skills=mark, can_follow_itinerary=True
        ),
        "motivacion": lambda: m.MotivationAssessment(
            assessed_on=today, motivation_level="medium", emotional_factors=mark
        ),
        "servicios_planificados": lambda: m.PlannedService(
            basic_service_id=1, description=mark, start_date=today
        ),
        "rentas_minimas": lambda: m.MinimumIncome(
            scheme="regional",
            status="applied",
            monthly_amount=Decimal(mark),
            start_date=today - dt.timedelta(days=20),
        ),
        "situacion_familiar": lambda: m.FamilySituation(description=mark),
        "exclusion_social": lambda: m.ExclusionSituation(
            assessed_on=today, severity="risk", need_assessment=mark
        ),
        "trabajo_informal": lambda: m.InformalWork(activity=mark),
        "situacion_juridica": lambda: m.LegalStatus(residence_status="residence", notes=mark),
        "salud": lambda: m.HealthRecord(description=mark),
        "antecedentes_penales": lambda: m.CriminalRecord(description=mark),
        "demanda_empleo": lambda: m.EmploymentHistoryEntry(
            employer=mark,
            start_date=today - dt.timedelta(days=400),
            end_date=today - dt.timedelta(days=100),
        ),
        "prestaciones_estatales": lambda: m.UnemploymentBenefit(
            kind="assistance",
            monthly_amount=Decimal(mark),
            start_date=today - dt.timedelta(days=30),
        ),
        "empleabilidad": lambda: m.EmployabilityLevel(assessed_on=today, level="low", factors=mark),
        "itinerario_empleo": lambda: m.ActivePolicyItinerary(programme=mark, start_date=today),
        "carpeta_social": lambda: m.SocialFolderIntervention(
            date=today, kind="guidance", description=mark
        ),
        "intermediacion": lambda: m.CompanyIntermediation(
            date=today, company=mark, position="Mozo de almacén"
        ),
        "pobreza_infantil": lambda: m.ChildPovertyDetection(
            detected_on=today, minors_affected=2, description=mark
        ),
        "atenciones": lambda: m.DiaryEntry(
            kind="interview", happened_at=timezone.now() - dt.timedelta(days=1), notes=mark
        ),
    }
    obj = makers[category]()
    for key, value in base.items():
        setattr(obj, key, value)
    obj.recorded_by_service = source
    return obj


@dataclass
class World:
    profile: Profile
    state: State
    user: object
    membership: object
    viewer: object
    person: object
    orgs: dict
    recorders: dict  # service -> organisation that records that service's entries
    recorder_user: object
    other_person: object  # someone else: their consents, objections and accesses must not count
    consent_ids: list = field(
        default_factory=list
    )  # in recording order (see _consents_with_supersession)
    legal_basis_ids: dict = field(default_factory=dict)  # (spec index, from service) -> id

    @property
    def api_url(self) -> str:
        return f"/api/v1/persons/{self.person.pk}/record/"

    @property
    def html_url(self) -> str:
        if self.profile.role == Role.NGO_TECHNICIAN:
            return f"/portal/personas/{self.person.pk}/"
        return f"/espacio/personas/{self.person.pk}/"

    def allowed_bases(self, category: str, source: str) -> set[str]:
        """The basis strings the rules accept for a shown cross-service pair."""
        found = {f"consent:{self.consent_ids[i]}" for i in allowing_consents(self.state, category)}
        found |= {
            f"legal_basis:{self.legal_basis_ids[(i, source)]}"
            for i in allowing_legal_bases(self.profile, self.state, category, source)
        }
        return found

    def add_entry(self, category: str, source: str, *, restricted: bool = False):
        if category in HOUSEHOLD_CATEGORIES:
            return add_household(self.person, self.recorder_user)
        obj = _entry(
            category,
            source,
            person=self.person,
            recorded_by_org=self.recorders[source],
            recorded_by=self.recorder_user,
            restricted=restricted,
        )
        obj.save()
        return obj


_counter = itertools.count(1)


def make_person(first_name: str = "Persona", **extra):
    from cases.models import Person

    n = next(_counter)
    return Person.objects.create(
        first_name=first_name,
        last_name_1=f"Apellido{n:06d}Z",
        last_name_2="Prueba",
        document_type="passport",
        document_number=f"PAS{n:07d}",
        birth_date=dt.date(1985, 3, 14),
        sex="F",
        address_line="Calle Mayor 1",
        postal_code="47001",
        phone="600000000",
        **extra,
    )


def make_org(kind: str, name: str, community: str = HOME):
    from ris.accounts.models import Organisation

    n = next(_counter)
    return Organisation.objects.create(
        name=f"{name} {n}", code=f"org-{kind}-{n}", kind=kind, level="unit", community_id=community
    )


def make_user(org, role: str, username: str | None = None):
    from ris.accounts.models import Membership, User

    n = next(_counter)
    # No password hashing (force_login is enough): keeps the hundreds of worlds fast.
    user = User.objects.create(
        username=username or f"u{n}", password="!", first_name="Usuaria", last_name=f"N{n}"
    )
    membership = Membership.objects.create(user=user, organisation=org, role=role)
    return user, membership


def add_household(person, recorder_user):
    """A household with economy data and a co-resident (household data belong to social
    services)."""
    from cases.models import Household, HouseholdMember
    from ris.reference.models import DeprivationItem

    today = timezone.localdate()
    household = Household.objects.create(
        address_line=markers("unidad_convivencia", SOCIAL)[1],
        housing_tenure="rented",
        monthly_income=Decimal(markers("situacion_economica", SOCIAL)[0]),
        monthly_expenses=Decimal("700.00"),
        economy_recorded_on=today,
    )
    household.deprivation_items.set(DeprivationItem.objects.order_by("code")[:2])
    other = make_person(first_name=markers("unidad_convivencia", SOCIAL)[0])
    start = today - dt.timedelta(days=200)
    HouseholdMember.objects.create(
        household=household,
        person=person,
        relationship="holder",
        start_date=start,
        months_worked_last_year=2,
    )
    HouseholdMember.objects.create(
        household=household,
        person=other,
        relationship="partner",
        start_date=start,
        months_worked_last_year=5,
    )
    return household


def _consent_dates(period: str) -> tuple[dt.date, dt.date, dt.date]:
    today = timezone.localdate()
    return {
        "active": (
            today - dt.timedelta(days=30),
            today - dt.timedelta(days=30),
            today + dt.timedelta(days=365),
        ),
        "last_day": (today - dt.timedelta(days=30), today - dt.timedelta(days=30), today),
        "expired": (
            today - dt.timedelta(days=400),
            today - dt.timedelta(days=400),
            today - dt.timedelta(days=1),
        ),
        "pending": (today, today + dt.timedelta(days=1), today + dt.timedelta(days=365)),
    }[period]


def build_world(profile: Profile, state: State, *, skip: tuple[tuple[str, str], ...] = ()) -> World:
    """Build ``state`` for ``profile`` in the database: every pair of the record has data
    (except the pairs in ``skip``)."""
    from consent.models import Consent, ConsentRevocation, LegalBasis, Objection
    from ris.accounts.viewer import Viewer
    from sharing.caseload import enrolment_close, enrolment_open
    from sharing.models import BreakGlassAccess, SharingAgreement, VisibilityRule

    org = make_org(profile.service, "Organización de la persona usuaria")
    other_org = make_org(profile.service, "Otra organización del mismo tipo")
    recorders = {s: make_org(s, f"Registradora {s}") for s in SERVICES}
    if profile.service == THIRD_SECTOR:
        # an entity's own carpeta social is what it records itself: another entity's is another
        # controller's data (``sharing.policy.is_own_entry``, tested in test_own_organisation.py)
        recorders[THIRD_SECTOR] = org
    user, membership = make_user(org, profile.role)
    colleague, _ = make_user(org, profile.role)
    recorder_user, _ = make_user(recorders[SOCIAL], Role.SOCIAL_WORKER)
    person = make_person()
    today = timezone.localdate()

    if state.attended or state.enrolment_closed:
        enrolment = enrolment_open(organisation=org, person=person, origin="registration")
        if state.enrolment_closed:
            enrolment_close(enrolment=enrolment)
    # Someone attends the person anyway (the social services that record most of the data).
    enrolment_open(organisation=recorders[SOCIAL], person=person, origin="registration")

    world = World(
        profile=profile,
        state=state,
        user=user,
        membership=membership,
        viewer=Viewer.from_membership(membership),
        person=person,
        orgs={"viewer": org, "other": other_org},
        recorders=recorders,
        recorder_user=recorder_user,
        other_person=make_person(first_name="Otrapersona"),
    )

    for category, source in PAIRS:
        if category == "ficha_basica" or (category, source) in skip:
            continue
        if category in HOUSEHOLD_CATEGORIES:
            continue  # one household holds both categories: added below
        world.add_entry(category, source, restricted=state.restricted_entries)

    if not any(category in HOUSEHOLD_CATEGORIES for category, _ in skip):
        add_household(person, recorder_user)

    if state.minimum_income in ("granted", "ended", "other_person"):
        from cases.models import MinimumIncome

        MinimumIncome.objects.create(
            person=world.other_person if state.minimum_income == "other_person" else person,
            recorded_by_service=SOCIAL,
            recorded_by_org=recorders[SOCIAL],
            recorded_by=recorder_user,
            scheme="imv",
            status="granted",
            monthly_amount=Decimal("431.19"),
            start_date=today - dt.timedelta(days=400 if state.minimum_income == "ended" else 60),
            end_date=today - dt.timedelta(days=1) if state.minimum_income == "ended" else None,
            restricted=state.restricted_entries,
        )

    def grantee_kwargs(spec: ConsentSpec) -> tuple[list, list]:
        return (
            [org] if spec.grantee == "org" else [other_org] if spec.grantee == "other_org" else [],
            [profile.service]
            if spec.grantee == "service"
            else [other_service(profile.service)]
            if spec.grantee == "other_service"
            else [],
        )

    def create_consent(spec: ConsentSpec, supersedes=None):
        given_on, valid_from, valid_until = _consent_dates(spec.period)
        orgs, services = grantee_kwargs(spec)
        consent = Consent.objects.create(
            person=person if spec.person == "self" else world.other_person,
            given_on=given_on,
            valid_from=valid_from,
            valid_until=valid_until,
            grantee_services=services,
            all_categories=spec.all_categories,
            permitted_categories=list(spec.permitted),
            denied_categories=list(spec.denied),
            purposes=list(spec.purposes),
            privacy_notice_version="2025-1",
            supersedes=supersedes,
            recorded_by=recorder_user,
            recorded_by_org=recorders[SOCIAL],
        )
        consent.grantee_organisations.set(orgs)
        world.consent_ids.append(consent.pk)
        if spec.revoked:
            ConsentRevocation.objects.create(
                consent=consent, revoked_by=recorder_user, channel="written"
            )
        return consent

    for spec in state.consents:
        first = create_consent(spec)
        if spec.corrected_by is not None:
            create_consent(spec.corrected_by, supersedes=first)

    for index, spec in enumerate(state.legal_bases):
        for source in SERVICES:
            if source == profile.service:
                continue
            basis = LegalBasis.objects.create(
                name=f"Base {index} {source}→{profile.service}",
                reference="Ley autonómica de servicios sociales",
                community_id=spec.community,
                from_service=source,
                to_service=profile.service,
                categories=list(spec.categories),
                purposes=list(spec.purposes),
                mode=spec.mode,
                condition=spec.condition,
                is_active=spec.active,
            )
            world.legal_basis_ids[(index, source)] = basis.pk
            if spec.objection:
                Objection.objects.create(
                    person=person if spec.objection == "person" else world.other_person,
                    legal_basis=basis,
                    recorded_by=recorder_user,
                )

    for spec in state.agreements:
        start, end = (
            (today - dt.timedelta(days=100), today + dt.timedelta(days=300))
            if spec.period == "active"
            else (today - dt.timedelta(days=500), today - dt.timedelta(days=1))
        )
        SharingAgreement.objects.create(
            organisation=org if spec.owner == "viewer" else other_org,
            title="Convenio de colaboración",
            community_id=HOME,
            categories=list(spec.categories),
            purposes=list(spec.purposes),
            valid_from=start,
            valid_until=end,
            processing_terms="Encargo de tratamiento",
        )

    if state.regional_override:
        VisibilityRule.objects.bulk_create(
            [
                VisibilityRule(
                    role=profile.role
                    if state.regional_override_role == "own"
                    else (
                        Role.SOCIAL_WORKER
                        if profile.role != Role.SOCIAL_WORKER
                        else Role.EMPLOYMENT_COUNSELLOR
                    ),
                    category_id=code,
                    community_id=state.regional_override,
                    level=level,
                )
                for code, level in REGIONAL_OVERRIDE.items()
            ]
        )

    if state.break_glass:
        now = timezone.now()
        started, expires = (
            (now - dt.timedelta(minutes=10), now + dt.timedelta(hours=2))
            if state.break_glass in ("active", "colleague", "other_person")
            else (now - dt.timedelta(hours=5), now - dt.timedelta(hours=1))
        )
        BreakGlassAccess.objects.create(
            user=colleague if state.break_glass == "colleague" else user,
            organisation=org,
            person=world.other_person if state.break_glass == "other_person" else person,
            reason="Urgencia: persona sin hogar en situación de riesgo",
            started_at=started,
            expires_at=expires,
        )
    return world


@pytest.fixture
def make_world(db):
    return build_world


@pytest.fixture
def oracle():
    """This module: the rules and the world builders (a conftest cannot be imported reliably)."""
    return _THIS_MODULE


# --- Helpers for bodies -----------------------------------------------------------------------

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def normalise_html(body: bytes) -> bytes:
    """Blank the per-request random CSRF mask: the only byte that may differ between two renders."""
    return _CSRF.sub('name="csrfmiddlewaretoken" value=""', body.decode()).encode()


_THIS_MODULE = sys.modules[__name__]
