"""The policy decision point: which level of each category a viewer gets.

For a viewer, a person, a purpose and a moment, every (category, recording
service) pair of the record gets ``full``, ``indicator`` or ``hidden``; the level
is the minimum of caseload, basis (own service, consent or legal basis),
visibility matrix, agreement (Third Sector) and origin block. ``load_facts``
reads everything the decision needs in a fixed number of queries; ``decide`` is a
pure function of those facts, so the authorization matrix can be tested both
with and without the database.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import MinimumIncome
from consent.models import Consent, LegalBasis, Objection
from consent.purposes import PURPOSE_CODES, Purpose
from ris.accounts.models import Role, ServiceKind
from ris.accounts.viewer import Viewer

from .categories import BY_CODE, CATEGORIES, COMMON, CRIMINAL, SPECIAL, THIRD_SECTOR
from .models import BreakGlassAccess, Level, SharingAgreement, VisibilityRule

FULL, INDICATOR, HIDDEN = Level.FULL.value, Level.INDICATOR.value, Level.HIDDEN.value
_RANK = {HIDDEN: 0, INDICATOR: 1, FULL: 2}

SERVICES = tuple(ServiceKind.values)


class Reason:
    """Why a category is not shown in full: computed from the policy alone."""

    MATRIX = "matrix"
    NO_BASIS = "no_basis"
    DENIED_BY_CONSENT = "denied_by_consent"
    OBJECTION = "objection"
    AGREEMENT = "agreement"
    BREAK_GLASS_EXCLUDED = "break_glass_excluded"
    INDICATOR_ONLY = "indicator_only"


REASON_TEXT = {
    Reason.MATRIX: _("Su perfil no tiene acceso a esta información."),
    Reason.NO_BASIS: _("Sin consentimiento ni base jurídica para esta finalidad."),
    Reason.DENIED_BY_CONSENT: _("La persona ha excluido esta información de su consentimiento."),
    Reason.OBJECTION: _("La persona se ha opuesto a esta comunicación."),
    Reason.AGREEMENT: _("El convenio de su entidad no incluye esta información."),
    Reason.BREAK_GLASS_EXCLUDED: _("El acceso de emergencia no incluye categorías especiales ni penales."),
    Reason.INDICATOR_ONLY: _("Solo puede saber si existe información en esta área."),
}


def min_level(*levels: str) -> str:
    return min(levels, key=_RANK.__getitem__)


@dataclass(frozen=True)
class ConsentFacts:
    id: int
    grantee_org_ids: frozenset[int]
    grantee_services: frozenset[str]
    all_categories: bool
    permitted: frozenset[str]
    denied: frozenset[str]
    purposes: frozenset[str]

    def grants(self, viewer: Viewer) -> bool:
        return viewer.organisation_id in self.grantee_org_ids or viewer.service in self.grantee_services

    def covers(self, category: str) -> bool:
        return category not in self.denied and (self.all_categories or category in self.permitted)


@dataclass(frozen=True)
class LegalBasisFacts:
    id: int
    name: str
    from_service: str
    to_service: str
    categories: frozenset[str]
    purposes: frozenset[str]
    mode: str
    condition: str


@dataclass(frozen=True)
class Facts:
    """Everything the decision needs about one viewer and one person, at one moment."""

    viewer: Viewer
    person_id: int
    purpose: str
    moment: dt.datetime
    attends: bool
    break_glass_id: int | None = None
    matrix: dict[str, str] = field(default_factory=dict)
    consents: tuple[ConsentFacts, ...] = ()
    legal_bases: tuple[LegalBasisFacts, ...] = ()
    objected_basis_ids: frozenset[int] = frozenset()
    receives_minimum_income: bool = False
    agreement_categories: frozenset[str] | None = None  # None: no agreement applies (not Third Sector)

    @property
    def visible(self) -> bool:
        """Attended, or opened in an emergency by a social worker (the only role break-the-glass serves)."""
        return self.attends or (self.break_glass_id is not None and self.viewer.role == Role.SOCIAL_WORKER)


@dataclass(frozen=True)
class Decision:
    category: str
    source_service: str
    level: str
    basis: str = ""
    reason: str = ""

    @property
    def shown(self) -> bool:
        return self.level != HIDDEN

    @property
    def reason_text(self) -> str:
        return str(REASON_TEXT.get(self.reason, ""))


def source_services(category: str) -> tuple[str, ...]:
    """Which services may record a category: its owner, or any service for a common one."""
    owner = BY_CODE[category].owner_service
    if category == "ficha_basica":
        return (COMMON,)
    return SERVICES if owner == COMMON else (owner,)


def is_own_entry(viewer: Viewer, *, organisation_id: int, community_code: str | None) -> bool:
    """Whether an entry recorded by the viewer's kind of service is the viewer's own data.

    An organisation's own entries always are. A public service shares its entries with the
    other centres of the same service in the same autonomous community: one regional system
    (its social services, or its public employment service), where the origin block of a
    restricted entry does not apply either (it holds against other services). Centres of
    another community belong to another system, and third-sector entities are separate
    controllers: another entity's carpeta social is never an NGO's own data. Those entries
    need a basis like another service's data (``decide(..., foreign=True)``)."""
    if organisation_id == viewer.organisation_id:
        return True
    if viewer.service == THIRD_SECTOR:
        return False
    return community_code is not None and community_code == viewer.community_code


def own_entry_q(viewer: Viewer) -> Q:
    """``is_own_entry`` in SQL, over the rows of an entry model (``recorded_by_org``)."""
    condition = Q(recorded_by_org_id=viewer.organisation_id)
    if viewer.service != THIRD_SECTOR and viewer.community_code:
        condition |= Q(recorded_by_org__community_id=viewer.community_code)
    return condition


def decide(facts: Facts, category: str, source_service: str, *, foreign: bool = False) -> Decision:
    """The level of one (category, recording service) pair, and the basis that allows it.

    ``foreign``: entries of the viewer's own kind of service recorded by an organisation
    whose data is not the viewer's own (``is_own_entry``), which need a basis like
    another service's data."""
    viewer = facts.viewer
    meta = BY_CODE[category]
    if not facts.visible or facts.purpose not in PURPOSE_CODES or facts.purpose == Purpose.EVALUATION:
        return Decision(category, source_service, HIDDEN, reason=Reason.NO_BASIS)
    cap = facts.matrix.get(category, HIDDEN)
    if cap == HIDDEN:
        return Decision(category, source_service, HIDDEN, reason=Reason.MATRIX)

    if not facts.attends:  # break-the-glass: outside the basis rules, never special or criminal data
        if meta.sensitivity in (SPECIAL, CRIMINAL):
            return Decision(category, source_service, HIDDEN, reason=Reason.BREAK_GLASS_EXCLUDED)
        return Decision(category, source_service, cap, basis=f"break_glass:{facts.break_glass_id}",
                        reason=_reason_for_cap(cap))

    if source_service == COMMON or (source_service == viewer.service and not foreign):
        return Decision(category, source_service, cap, basis="own_service", reason=_reason_for_cap(cap))

    level, basis, reason = _cross_service_basis(facts, category, source_service)
    if level == HIDDEN:
        return Decision(category, source_service, HIDDEN, reason=reason)
    if facts.agreement_categories is not None and category not in facts.agreement_categories:
        level = min_level(level, INDICATOR)
        reason = Reason.AGREEMENT
    level = min_level(level, cap)
    if level == INDICATOR and not reason:
        reason = Reason.INDICATOR_ONLY if cap == INDICATOR else reason
    return Decision(category, source_service, level, basis=basis, reason=reason or _reason_for_cap(level))


def _reason_for_cap(level: str) -> str:
    return Reason.INDICATOR_ONLY if level == INDICATOR else ""


def _cross_service_basis(facts: Facts, category: str, source_service: str) -> tuple[str, str, str]:
    viewer = facts.viewer
    denied = False
    for consent in facts.consents:
        if not consent.grants(viewer) or facts.purpose not in consent.purposes:
            continue
        if consent.covers(category):
            return FULL, f"consent:{consent.id}", ""
        if category in consent.denied:
            denied = True
    objected = False
    for basis in facts.legal_bases:
        if (
            basis.mode == LegalBasis.Mode.CONSENT_ONLY
            or basis.from_service != source_service
            or basis.to_service != viewer.service
            or category not in basis.categories
            or facts.purpose not in basis.purposes
        ):
            continue
        if basis.condition == LegalBasis.Condition.MINIMUM_INCOME and not facts.receives_minimum_income:
            continue
        if basis.id in facts.objected_basis_ids:
            objected = True
            continue
        return FULL, f"legal_basis:{basis.id}", ""
    if objected:
        return HIDDEN, "", Reason.OBJECTION
    if denied:
        return HIDDEN, "", Reason.DENIED_BY_CONSENT
    return HIDDEN, "", Reason.NO_BASIS


def decide_all(facts: Facts) -> list[Decision]:
    return [decide(facts, c.code, s) for c in CATEGORIES for s in source_services(c.code)]


# --- Loading the facts ----------------------------------------------------------------------

def load_matrix(*, role: str, community_code: str) -> dict[str, str]:
    """The role's row of the matrix, a regional override winning over the national rule."""
    rows = VisibilityRule.objects.filter(role=role).filter(
        Q(community__isnull=True) | Q(community_id=community_code)
    ).values_list("category_id", "level", "community_id")
    return matrix_from_rows(rows)


def active_break_glass_id(*, viewer: Viewer, person_id: int, moment: dt.datetime) -> int | None:
    """Emergency access serves only the social worker role that opened it, not the user's other roles."""
    if viewer.role != Role.SOCIAL_WORKER:
        return None
    return (
        BreakGlassAccess.objects.filter(
            user_id=viewer.user_id, organisation_id=viewer.organisation_id, person_id=person_id,
            started_at__lte=moment, expires_at__gt=moment,
        )
        .values_list("id", flat=True)
        .first()
    )


# Everything ``load_facts`` needs for an attended person, in one statement: each piece is a
# scalar subquery, so the whole decision costs one round trip and no ORM compilation. The
# merged records are read first into an array (an init plan), so the consent lookup stays an
# index equality on ``person_id`` (a join or an OR made the planner scan every consent).
_FACTS_SQL = """
SELECT
  EXISTS (
    SELECT 1 FROM {perm} p
    WHERE p.content_object_id = %(person)s
      AND p.group_id = (SELECT o.group_id FROM {org} o WHERE o.id = %(organisation)s)
      AND p.permission_id = (
        SELECT ap.id FROM {auth_perm} ap JOIN {ctype} ct ON ap.content_type_id = ct.id
        WHERE ap.codename = 'view_person' AND ct.app_label = 'cases')
  ),
  (SELECT coalesce(json_agg(json_build_array(v.category_id, v.level, v.community_id)), '[]'::json)
     FROM {rule} v WHERE v.role = %(role)s AND (v.community_id IS NULL OR v.community_id = %(community)s)),
  (SELECT coalesce(json_agg(json_build_array(c.id, c.org_ids, c.grantee_services, c.all_categories,
                                             c.permitted_categories, c.denied_categories, c.purposes)
                            ORDER BY c.recorded_at DESC, c.id DESC), '[]'::json)
     FROM (
       SELECT c.id, c.recorded_at, c.grantee_services, c.all_categories, c.permitted_categories,
              c.denied_categories, c.purposes,
              ARRAY(SELECT g.organisation_id FROM {grantees} g WHERE g.consent_id = c.id) AS org_ids
       FROM {consent} c
       WHERE c.person_id = ANY (ARRAY(
               SELECT %(person)s::bigint UNION SELECT m.id FROM {person} m WHERE m.merged_into_id = %(person)s))
         AND c.valid_from <= %(day)s AND c.valid_until >= %(day)s
         AND NOT EXISTS (SELECT 1 FROM {consent} s WHERE s.supersedes_id = c.id)
         AND NOT EXISTS (SELECT 1 FROM {revocation} r WHERE r.consent_id = c.id AND r.revoked_at <= %(moment)s)
     ) c),
  (SELECT coalesce(json_agg(json_build_array(b.id, b.name, b.from_service, b.to_service, b.categories,
                                             b.purposes, b.mode, b.condition) ORDER BY b.name, b.id), '[]'::json)
     FROM {basis} b
     WHERE b.is_active AND b.community_id = %(community)s AND b.to_service = %(service)s
       AND b.mode <> %(consent_only)s),
  ARRAY(SELECT ob.legal_basis_id FROM {objection} ob WHERE ob.person_id = %(person)s),
  EXISTS (
    SELECT 1 FROM {minimum_income} mi
    WHERE mi.person_id = %(person)s AND mi.status = %(granted)s AND mi.start_date <= %(day)s
      AND (mi.end_date IS NULL OR mi.end_date >= %(day)s)
  ),
  (SELECT coalesce(json_agg(json_build_array(a.categories, a.purposes)), '[]'::json)
     FROM {agreement} a
     WHERE a.organisation_id = %(organisation)s AND a.valid_from <= %(day)s AND a.valid_until >= %(day)s)
"""


@functools.cache
def _facts_sql() -> str:
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    from cases.models import Person
    from ris.accounts.models import Organisation

    from .models import PersonGroupObjectPermission

    return _FACTS_SQL.format(
        perm=PersonGroupObjectPermission._meta.db_table, org=Organisation._meta.db_table,
        auth_perm=Permission._meta.db_table, ctype=ContentType._meta.db_table,
        rule=VisibilityRule._meta.db_table, grantees=Consent.grantee_organisations.through._meta.db_table,
        consent=Consent._meta.db_table, person=Person._meta.db_table,
        revocation=Consent.revocation.related.related_model._meta.db_table,
        basis=LegalBasis._meta.db_table, objection=Objection._meta.db_table,
        minimum_income=MinimumIncome._meta.db_table, agreement=SharingAgreement._meta.db_table,
    )


def matrix_from_rows(rows) -> dict[str, str]:
    """The role's row of the matrix, a regional override winning over the national rule."""
    matrix: dict[str, str] = {}
    regional: set[str] = set()
    for category, level, community in rows:
        if community is not None:
            matrix[category] = level
            regional.add(category)
        elif category not in regional:
            matrix[category] = level
    return matrix


def load_facts(*, viewer: Viewer, person_id: int, purpose: str, moment: dt.datetime | None = None) -> Facts:
    """Read the facts for one person in one query (no cache: revocation is immediate)."""
    from django.db import connection

    moment = moment or timezone.now()
    day = timezone.localdate(moment)
    if not -(2**63) <= person_id < 2**63:  # no such row can exist: the answer of any other missing id
        return Facts(viewer=viewer, person_id=person_id, purpose=purpose, moment=moment, attends=False)
    with connection.cursor() as cursor:
        cursor.execute(_facts_sql(), {
            "person": person_id, "organisation": viewer.organisation_id, "role": viewer.role,
            "community": viewer.community_code, "service": viewer.service, "day": day, "moment": moment,
            "consent_only": LegalBasis.Mode.CONSENT_ONLY.value, "granted": MinimumIncome.Status.GRANTED.value,
        })
        attends, rules, consent_rows, basis_rows, objections, receives_minimum_income, agreements = cursor.fetchone()
    if viewer.service == ServiceKind.THIRD_SECTOR and not agreements:
        attends = False  # an entity works in RIS only under an agreement in force: without one, nobody
    if not attends:
        break_glass_id = active_break_glass_id(viewer=viewer, person_id=person_id, moment=moment)
        if break_glass_id is None:
            return Facts(viewer=viewer, person_id=person_id, purpose=purpose, moment=moment, attends=False)
        return Facts(viewer=viewer, person_id=person_id, purpose=purpose, moment=moment, attends=False,
                     break_glass_id=break_glass_id, matrix=matrix_from_rows(rules))

    consents = tuple(  # the newest covering consent is the basis reported
        ConsentFacts(
            id=cid, grantee_org_ids=frozenset(orgs), grantee_services=frozenset(services),
            all_categories=all_categories, permitted=frozenset(permitted), denied=frozenset(denied),
            purposes=frozenset(purposes),
        )
        for cid, orgs, services, all_categories, permitted, denied, purposes in consent_rows
    )
    legal_bases = tuple(
        LegalBasisFacts(
            id=bid, name=name, from_service=from_service, to_service=to_service, categories=frozenset(categories),
            purposes=frozenset(purposes), mode=mode, condition=condition,
        )
        for bid, name, from_service, to_service, categories, purposes, mode, condition in basis_rows
    )
    basis_ids = {b.id for b in legal_bases}
    objected = frozenset(i for i in objections if i in basis_ids)
    if not any(b.condition == LegalBasis.Condition.MINIMUM_INCOME for b in legal_bases):
        receives_minimum_income = False  # read only when a flow depends on it
    agreement_categories = None
    if viewer.service == ServiceKind.THIRD_SECTOR:
        agreed: set[str] = set()
        for categories, purposes in agreements:
            if purpose in purposes:
                agreed.update(categories)
        agreement_categories = frozenset(agreed)
    return Facts(
        viewer=viewer, person_id=person_id, purpose=purpose, moment=moment, attends=True,
        matrix=matrix_from_rows(rules), consents=consents, legal_bases=legal_bases, objected_basis_ids=objected,
        receives_minimum_income=receives_minimum_income, agreement_categories=agreement_categories,
    )
