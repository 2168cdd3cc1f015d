"""``sharing.policy.load_facts`` for many (viewer, person) pairs at once.

The sweep delivers thousands of alerts and the inbox shows dozens of them on one page;
reading the facts one pair at a time would cost a handful of queries per pair. For the
pairs inside the caseload (all of them, in practice) this reads exactly what
``load_facts`` reads, in a fixed number of queries (caseload, consents in force, legal
bases, objections, minimum income, agreements, the matrix rows of every role involved),
and builds the same ``sharing.policy.Facts``; a pair outside the caseload is handed to
``load_facts`` itself (emergency access is sharing's business). The decision itself
stays ``sharing.policy.decide``.

Consents stay on the record they were signed for, also after that record is merged into
another (they are evidence): like ``load_facts`` (``cases.merge.absorbed_q``), a
person's consents here are their own and those of every record merged into them, read
with one more query (the absorbed records of all the persons at once), never one per
person.

``tests/diagnostics/test_facts.py`` checks, over a world with every kind of basis, that
the result equals ``load_facts`` pair by pair. It lives in ``sharing`` beside ``load_facts``
because the alerts, the coordination pages and the consent scope page all read it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Q
from django.utils import timezone

from cases.models import MinimumIncome, Person
from consent.models import Consent, LegalBasis, Objection
from ris.accounts.models import ServiceKind
from ris.accounts.viewer import Viewer
from sharing.models import PersonGroupObjectPermission, SharingAgreement, VisibilityRule
from sharing.policy import ConsentFacts, Facts, LegalBasisFacts, load_facts, matrix_from_rows


def load_facts_many(
    *, pairs: Sequence[tuple[Viewer, int]], purpose: str, moment: dt.datetime | None = None
) -> list[Facts]:
    """The facts of each (viewer, person) pair, in order, as ``load_facts`` would read them."""
    moment = moment or timezone.now()
    if not pairs:
        return []
    today = timezone.localdate(moment)
    person_ids = {p for _, p in pairs}
    org_ids = {v.organisation_id for v, _ in pairs}

    attended = set(
        PersonGroupObjectPermission.objects.filter(
            group__organisation__id__in=org_ids,
            permission__codename="view_person",
            content_object_id__in=person_ids,
        ).values_list("group__organisation__id", "content_object_id")
    )
    # the matrix rows of every role and community involved, in one query
    keys = {(v.role, v.community_code) for v, _ in pairs}
    rule_rows: dict[str, list[tuple[str, str, str | None]]] = defaultdict(list)
    for role, category, level, community in VisibilityRule.objects.filter(
        Q(community__isnull=True) | Q(community_id__in={c for _, c in keys}),
        role__in={r for r, _ in keys},
    ).values_list("role", "category_id", "level", "community_id"):
        rule_rows[role].append((category, level, community))
    matrices: dict[tuple[str, str], dict[str, str]] = {}

    def matrix_for(viewer: Viewer) -> dict[str, str]:
        key = (viewer.role, viewer.community_code)
        if key not in matrices:
            matrices[key] = matrix_from_rows(
                (category, level, community)
                for category, level, community in rule_rows.get(viewer.role, ())
                if community is None or community == viewer.community_code
            )
        return matrices[key]

    inside = [(v, p) for v, p in pairs if (v.organisation_id, p) in attended]
    consents: dict[int, list[ConsentFacts]] = defaultdict(list)
    bases: dict[tuple[str, str], list[LegalBasisFacts]] = defaultdict(list)
    objections: dict[int, set[int]] = defaultdict(set)
    minimum_income: set[int] = set()
    agreements: dict[int, list[tuple[list[str], list[str]]]] = defaultdict(list)
    if inside:
        inside_persons = {p for _, p in inside}
        # the records merged into these persons: their consents count for the surviving record
        absorbed_into = dict(
            Person.objects.filter(merged_into_id__in=inside_persons).values_list(
                "pk", "merged_into_id"
            )
        )
        for row in (
            Consent.objects.in_force_at(moment)
            .filter(person_id__in={*inside_persons, *absorbed_into})
            .annotate(org_ids=ArrayAgg("grantee_organisations__id"))
            .order_by("-recorded_at", "-id")
            .values(
                "id",
                "person_id",
                "org_ids",
                "grantee_services",
                "all_categories",
                "permitted_categories",
                "denied_categories",
                "purposes",
            )
        ):
            consent = ConsentFacts(
                id=row["id"],
                grantee_org_ids=frozenset(i for i in row["org_ids"] if i is not None),
                grantee_services=frozenset(row["grantee_services"]),
                all_categories=row["all_categories"],
                permitted=frozenset(row["permitted_categories"]),
                denied=frozenset(row["denied_categories"]),
                purposes=frozenset(row["purposes"]),
            )
            if row["person_id"] in inside_persons:
                consents[row["person_id"]].append(consent)
            if row["person_id"] in absorbed_into:
                consents[absorbed_into[row["person_id"]]].append(consent)
        combos = {(v.community_code, v.service) for v, _ in inside}
        for b in LegalBasis.objects.filter(
            is_active=True,
            community_id__in={c for c, _ in combos},
            to_service__in={s for _, s in combos},
        ).exclude(mode=LegalBasis.Mode.CONSENT_ONLY):
            bases[(b.community_id, b.to_service)].append(
                LegalBasisFacts(
                    id=b.id,
                    name=b.name,
                    from_service=b.from_service,
                    to_service=b.to_service,
                    categories=frozenset(b.categories),
                    purposes=frozenset(b.purposes),
                    mode=b.mode,
                    condition=b.condition,
                )
            )
        basis_ids = {b.id for group in bases.values() for b in group}
        if basis_ids:
            for person_id, basis_id in Objection.objects.filter(
                person_id__in=inside_persons,
                legal_basis_id__in=basis_ids,
            ).values_list("person_id", "legal_basis_id"):
                objections[person_id].add(basis_id)
        if any(
            b.condition == LegalBasis.Condition.MINIMUM_INCOME
            for group in bases.values()
            for b in group
        ):
            minimum_income = set(
                MinimumIncome.objects.filter(
                    Q(end_date__isnull=True) | Q(end_date__gte=today),
                    person_id__in=inside_persons,
                    status=MinimumIncome.Status.GRANTED,
                    start_date__lte=today,
                ).values_list("person_id", flat=True)
            )
        ngo_orgs = {v.organisation_id for v, _ in inside if v.service == ServiceKind.THIRD_SECTOR}
        if ngo_orgs:
            for org_id, categories, purposes in SharingAgreement.objects.filter(
                organisation_id__in=ngo_orgs,
                valid_from__lte=today,
                valid_until__gte=today,
            ).values_list("organisation_id", "categories", "purposes"):
                agreements[org_id].append((categories, purposes))

    out: list[Facts] = []
    for viewer, person_id in pairs:
        if (viewer.organisation_id, person_id) not in attended:
            # outside the caseload (rare here: alerts go to organisations that attend the person):
            # the emergency-access rules are sharing's own, so ask it
            out.append(
                load_facts(viewer=viewer, person_id=person_id, purpose=purpose, moment=moment)
            )
            continue
        viewer_bases = tuple(bases.get((viewer.community_code, viewer.service), ()))
        objected: frozenset[int] = frozenset()
        receives = False
        if viewer_bases:
            objected = frozenset(objections.get(person_id, set()) & {b.id for b in viewer_bases})
            if any(b.condition == LegalBasis.Condition.MINIMUM_INCOME for b in viewer_bases):
                receives = person_id in minimum_income
        agreement_categories = None
        if viewer.service == ServiceKind.THIRD_SECTOR:
            if not agreements.get(viewer.organisation_id):
                # no agreement in force: the entity attends nobody in RIS (``load_facts``)
                out.append(Facts(viewer=viewer, person_id=person_id, purpose=purpose, moment=moment,
                                 attends=False))
                continue
            agreed: set[str] = set()
            for categories, purposes in agreements.get(viewer.organisation_id, ()):
                if purpose in purposes:
                    agreed.update(categories)
            agreement_categories = frozenset(agreed)
        out.append(
            Facts(
                viewer=viewer,
                person_id=person_id,
                purpose=purpose,
                moment=moment,
                attends=True,
                matrix=matrix_for(viewer),
                consents=tuple(consents.get(person_id, ())),
                legal_bases=viewer_bases,
                objected_basis_ids=objected,
                receives_minimum_income=receives,
                agreement_categories=agreement_categories,
            )
        )
    return out
