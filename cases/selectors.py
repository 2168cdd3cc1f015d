"""Reads for the staff workspace and the portal: caseload pages, the coordinator's summary,
likely duplicates at registration.

Every list starts from the caseload (``sharing.caseload.persons_attended_by``) and
shows only basic-sheet fields, which every attending organisation sees
(docs/decisions/0003). Pages are built in a constant number of queries: what a page
shows per person is annotated in SQL or read for the whole page at once.

Alerts (``diagnostics``) and referrals and joint plans (``coordination``) are
optional dependencies: their selectors are imported when those apps provide them,
and the pages simply leave their columns out when they do not (docs/decisions/0008
states the contract each selector must meet).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db import models, transaction
from django.db.models import (
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    JSONField,
    Min,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from consent.models import Consent
from ris.accounts.models import Membership, Role, User
from sharing.caseload import persons_attended_by
from sharing.models import Enrolment

from .models import Person, ReferenceProfessional
from .search import ParsedQuery, matching, set_word_similarity_threshold

PAGE_SIZE = 25
CONSENT_EXPIRY_WARNING_DAYS = 30

#: ?orden=… → ORDER BY; "-x" reverses. The person's id breaks ties last, so pages are stable.
SORTS: dict[str, tuple[str, ...]] = {
    "apellidos": ("last_name_1", "last_name_2", "first_name"),
    "nacimiento": ("birth_date", "last_name_1", "last_name_2", "first_name"),
    "alta": ("enrolled_on", "last_name_1", "last_name_2", "first_name"),
    "alertas": ("sort_open_alerts", "last_name_1", "last_name_2", "first_name"),
    "derivaciones": ("sort_pending_referrals", "last_name_1", "last_name_2", "first_name"),
    "consentimiento": ("next_consent_expiry", "last_name_1", "last_name_2", "first_name"),
}
DEFAULT_SORT = "apellidos"

#: Sorts by what another app counts per person (``ExternalCounts``): sort key → the count's name.
#: They are offered only while that app counts per person; the caseload then annotates
#: ``sort_<name>`` from the very counts the page shows (``counted_in_sql``).
COUNT_SORTS: dict[str, str] = {"alertas": "open_alerts", "derivaciones": "pending_referrals"}


def normalise_sort(value: str | None, available: Iterable[str] | None = None) -> str:
    """``value`` if it names a sort among ``available`` (default: every sort), else the default."""
    value = (value or "").strip()
    keys = SORTS if available is None else set(available) & set(SORTS)
    return value if value.lstrip("-") in keys else DEFAULT_SORT


def available_sorts(counts: Mapping[str, object]) -> list[str]:
    """Every sort, but those by a count (``COUNT_SORTS``) only when ``counts`` has that count."""
    return [key for key in SORTS if key not in COUNT_SORTS or COUNT_SORTS[key] in counts]


def _order_by(sort: str) -> list:
    descending = sort.startswith("-")
    fields = SORTS[sort.lstrip("-")]
    order = [
        F(name).desc(nulls_last=True) if descending else F(name).asc(nulls_last=True)
        for name in fields
    ]
    return [*order, F("pk").desc() if descending else F("pk").asc()]


def counted_in_sql(counts: Mapping[int, int]) -> Coalesce:
    """The person's count in ``{person_id: n}`` (0 when absent), as an SQL expression, so that the
    database sorts and paginates by it: the mapping travels as one jsonb parameter and each row
    looks its own id up in it (``counts ->> id::text``, a binary search over the keys).

    Not a subquery over ``unnest(ids, counts)``: correlated, it scans both arrays again for every
    person (seconds for a caseload of 60,000 with a few hundred counts, 20 s with 5,000), where
    the jsonb lookup stays in tens of milliseconds."""
    mapping = json.dumps({str(int(k)): int(v) for k, v in counts.items()})
    found = Func(
        Cast(Value(mapping), JSONField()),
        Cast("pk", TextField()),
        arg_joiner=" ->> ",
        template="(%(expressions)s)",
        output_field=TextField(),
    )
    return Coalesce(Cast(found, IntegerField()), 0)


# --- Optional selectors of other apps -------------------------------------------------------------


def _optional_open_alert_counts() -> Callable | None:
    # diagnostics (risk alerts) is built alongside this app; the start pages work without it.
    try:
        from diagnostics.selectors import open_alert_counts_for
    except ImportError:
        return None
    return open_alert_counts_for


def _optional_pending_referrals() -> Callable | None:
    # coordination (referrals) is built alongside this app; the start pages work without it.
    try:
        from coordination.selectors import pending_referrals_for
    except ImportError:
        return None
    return pending_referrals_for


def _optional_overdue_plan_reviews() -> Callable | None:
    # coordination (joint plans) is built alongside this app; the coordinator view works without it.
    try:
        from coordination.selectors import overdue_plan_reviews
    except ImportError:
        return None
    return overdue_plan_reviews


@dataclass
class ExternalCount:
    """What an optional app reports: a total, and per person when it says per person."""

    total: int = 0
    by_person: dict[int, int] | None = None

    def for_person(self, person_id: int) -> int | None:
        return None if self.by_person is None else self.by_person.get(person_id, 0)


def external_count(result) -> ExternalCount:
    """Read whatever an optional selector returns, in at most one query.

    Accepted: a number (a total only); a mapping ``{person_id: count}``; a queryset of a model
    with a ``person`` foreign key (counted per person in SQL); an iterable of
    ``(person_id, count)`` pairs, of dicts with ``person_id`` (and optionally ``count``), or of
    objects with ``person_id`` (one each).
    """
    if result is None or isinstance(result, bool):
        return ExternalCount()
    if isinstance(result, int):
        return ExternalCount(total=result)
    by_person = counts_by_person(result)
    return ExternalCount(total=sum(by_person.values()), by_person=by_person)


def counts_by_person(result) -> dict[int, int]:
    """Per-person counts from a mapping, a queryset or an iterable (see ``external_count``)."""
    if result is None:
        return {}
    if isinstance(result, Mapping):
        return {int(k): int(v) for k, v in result.items() if v}
    if isinstance(result, models.QuerySet) and result._fields is None:  # a plain model queryset
        try:
            result.model._meta.get_field("person")
        except Exception:  # noqa: BLE001 - no person field: fall back to iterating
            pass
        else:
            rows = (
                result.order_by()
                .values("person_id")
                .annotate(n=Count("pk"))
                .values_list("person_id", "n")
            )
            return {pid: n for pid, n in rows if pid is not None}
    counts: Counter[int] = Counter()
    for item in result if isinstance(result, Iterable) else ():
        if isinstance(item, tuple) and len(item) == 2:
            counts[int(item[0])] += int(item[1])
        elif isinstance(item, Mapping) and "person_id" in item:
            counts[int(item["person_id"])] += int(item.get("count", 1))
        elif getattr(item, "person_id", None) is not None:
            counts[int(item.person_id)] += 1
    return dict(counts)


@dataclass
class ExternalCounts:
    """Counts from the optional apps; ``None`` when the app does not provide them yet."""

    open_alerts: ExternalCount | None = None
    pending_referrals: ExternalCount | None = None
    overdue_reviews: ExternalCount | None = None


def external_counts(
    *,
    user_id: int | None,
    organisation_id: int,
    reviews: bool = False,
    whole_organisation: bool = False,
) -> ExternalCounts:
    """Alerts and referrals (and, for coordinators, overdue plan reviews), each in a constant
    number of queries. Alerts: the user's and the organisation's queue, or with
    ``whole_organisation`` every alert of the organisation (the coordinator's view by worker)."""
    found = ExternalCounts()
    if (alerts := _optional_open_alert_counts()) is not None:
        scope = {"whole_organisation": True} if whole_organisation else {}
        found.open_alerts = external_count(
            alerts(user_id=user_id, organisation_id=organisation_id, **scope)
        )
    if (referrals := _optional_pending_referrals()) is not None:
        found.pending_referrals = external_count(referrals(organisation_id=organisation_id))
    if reviews and (overdue := _optional_overdue_plan_reviews()) is not None:
        found.overdue_reviews = external_count(overdue(organisation_id=organisation_id))
    return found


# --- The caseload page ----------------------------------------------------------------------------


def _count_subquery(queryset: models.QuerySet) -> Coalesce:
    counted = queryset.order_by().values("person").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def consents_expiring(
    *, today: dt.date, days: int = CONSENT_EXPIRY_WARNING_DAYS
) -> models.QuerySet[Consent]:
    """Consents in force today whose period ends within ``days`` (the person is asked to renew)."""
    return Consent.objects.filter(
        valid_from__lte=today,
        valid_until__gte=today,
        valid_until__lte=today + dt.timedelta(days=days),
        revocation__isnull=True,
        superseded_by__isnull=True,
    )


def consents_without_form(*, moment: dt.datetime) -> models.QuerySet[Consent]:
    """Consents in force at ``moment`` whose signed form has not been attached yet."""
    return Consent.objects.in_force_at(moment).filter(document="")


def caseload(
    *,
    organisation_id: int,
    sort: str = DEFAULT_SORT,
    counts: Mapping[str, Mapping[int, int]] | None = None,
) -> models.QuerySet[Person]:
    """The organisation's caseload with, per person, the date it started attending them, the
    consents about to expire and whether a consent in force that the organisation recorded
    still lacks its signed form, all computed in the one SELECT of the page.

    ``counts``: what the optional apps count per person (``{"open_alerts": {person_id: n}}``);
    the sorts by those counts (``COUNT_SORTS``) are available only for the counts given, and
    sort by exactly those numbers, so the order never tells more than the column shows."""
    counts = counts or {}
    sort = normalise_sort(sort, available=available_sorts(counts))
    today = timezone.localdate()
    expiring = consents_expiring(today=today).filter(person=OuterRef("pk"))
    enrolled_on = (
        Enrolment.objects.filter(
            organisation_id=organisation_id, person=OuterRef("pk"), end_date__isnull=True
        )
        .order_by("start_date")
        .values("start_date")[:1]
    )
    annotations = {}
    if (counted := COUNT_SORTS.get(sort.lstrip("-"))) is not None:
        annotations[f"sort_{counted}"] = counted_in_sql(counts[counted])
    return (
        persons_attended_by(organisation_id)
        .only(
            "id",
            "first_name",
            "last_name_1",
            "last_name_2",
            "birth_date",
            "document_type",
            "document_number",
        )
        .annotate(
            enrolled_on=Subquery(enrolled_on, output_field=models.DateField()),
            expiring_consents=_count_subquery(expiring),
            next_consent_expiry=Subquery(
                expiring.order_by().values("person").annotate(m=Min("valid_until")).values("m"),
                output_field=models.DateField(),
            ),
            consent_without_form=Exists(
                consents_without_form(moment=timezone.now()).filter(
                    person=OuterRef("pk"), recorded_by_org_id=organisation_id
                )
            ),
            **annotations,
        )
        .order_by(*_order_by(sort))
    )


@dataclass
class CaseloadRow:
    person: Person
    open_alerts: int | None
    pending_referrals: int | None

    @property
    def expiring_consents(self) -> int:
        return self.person.expiring_consents

    @property
    def next_consent_expiry(self) -> dt.date | None:
        return self.person.next_consent_expiry

    @property
    def consent_without_form(self) -> bool:
        """A consent in force, recorded by the viewer's organisation, without its signed form."""
        return self.person.consent_without_form


@dataclass
class CaseloadPage:
    page: Page
    rows: list[CaseloadRow]
    sort: str
    external: ExternalCounts = field(default_factory=ExternalCounts)

    @property
    def shows_alerts(self) -> bool:
        """A column of open alerts per person (only when the alerts app counts per person)."""
        return (
            self.external.open_alerts is not None
            and self.external.open_alerts.by_person is not None
        )

    @property
    def shows_referrals(self) -> bool:
        return (
            self.external.pending_referrals is not None
            and self.external.pending_referrals.by_person is not None
        )

    @property
    def pending_referrals_total(self) -> int | None:
        return (
            None
            if self.external.pending_referrals is None
            else self.external.pending_referrals.total
        )

    @property
    def open_alerts_total(self) -> int | None:
        return None if self.external.open_alerts is None else self.external.open_alerts.total


def _per_person(external: ExternalCounts) -> dict[str, dict[int, int]]:
    """The counts the optional apps give per person, by name (those the page shows as columns)."""
    found = {}
    for name in COUNT_SORTS.values():
        count = getattr(external, name)
        if count is not None and count.by_person is not None:
            found[name] = count.by_person
    return found


def caseload_page(
    *,
    organisation_id: int,
    user_id: int | None,
    sort: str = DEFAULT_SORT,
    page_number: str | int | None = 1,
    with_external: bool = True,
) -> CaseloadPage:
    """One page of the caseload: one query per optional app, a COUNT and the page's SELECT.

    Sorting by open alerts or pending referrals sorts, in the SELECT, by the very counts the
    page shows (those apps' own visibility rules applied), so a hidden alert moves nobody."""
    external = (
        external_counts(user_id=user_id, organisation_id=organisation_id)
        if with_external
        else ExternalCounts()
    )
    per_person = _per_person(external)
    sort = normalise_sort(sort, available=available_sorts(per_person))
    page = Paginator(
        caseload(organisation_id=organisation_id, sort=sort, counts=per_person), PAGE_SIZE
    ).get_page(page_number)
    rows = [
        CaseloadRow(
            person=person,
            open_alerts=None
            if external.open_alerts is None
            else external.open_alerts.for_person(person.pk),
            pending_referrals=(
                None
                if external.pending_referrals is None
                else external.pending_referrals.for_person(person.pk)
            ),
        )
        for person in page.object_list
    ]
    return CaseloadPage(page=page, rows=rows, sort=sort, external=external)


# --- The coordinator's view -----------------------------------------------------------------------

WORKER_ROLES = (Role.SOCIAL_WORKER, Role.EMPLOYMENT_COUNSELLOR)


@dataclass
class WorkerLoad:
    professional_id: int | None
    name: str
    persons: int = 0
    open_alerts: int = 0
    pending_referrals: int = 0
    overdue_reviews: int = 0


@dataclass
class CoordinatorSummary:
    caseload_size: int
    workers: list[WorkerLoad]
    unassigned: WorkerLoad
    external: ExternalCounts
    expiring_consents: int

    @property
    def open_alerts_total(self) -> int | None:
        return None if self.external.open_alerts is None else self.external.open_alerts.total

    @property
    def pending_referrals_total(self) -> int | None:
        return (
            None
            if self.external.pending_referrals is None
            else self.external.pending_referrals.total
        )

    @property
    def overdue_reviews_total(self) -> int | None:
        return (
            None if self.external.overdue_reviews is None else self.external.overdue_reviews.total
        )

    def shows_by_worker(self, attr: str) -> bool:
        count = getattr(self.external, attr)
        return count is not None and count.by_person is not None

    @property
    def alerts_by_worker(self) -> bool:
        return self.shows_by_worker("open_alerts")

    @property
    def referrals_by_worker(self) -> bool:
        return self.shows_by_worker("pending_referrals")

    @property
    def reviews_by_worker(self) -> bool:
        return self.shows_by_worker("overdue_reviews")


def coordinator_summary(*, organisation_id: int, user_id: int | None = None) -> CoordinatorSummary:
    """The organisation's caseload by reference professional, with the work pending on it.

    Queries: caseload size and consents expiring (one), professionals' loads (one), the
    organisation's workers (one), one per optional app, and the reference professionals of
    the persons those apps mention (one).
    """
    attended = persons_attended_by(organisation_id)
    today = timezone.localdate()
    totals = attended.aggregate(
        n=Count("pk"),
        expiring=Count("pk", filter=Q(pk__in=consents_expiring(today=today).values("person_id"))),
    )
    loads = (
        ReferenceProfessional.objects.filter(organisation_id=organisation_id, person__in=attended)
        .values("professional_id")
        .annotate(n=Count("person_id", distinct=True))
    )
    per_professional = {row["professional_id"]: row["n"] for row in loads}
    # The organisation's caseworkers, and reference professionals who no longer work there.
    workers = User.objects.filter(
        Q(
            pk__in=Membership.objects.filter(
                organisation_id=organisation_id, is_active=True, role__in=WORKER_ROLES
            ).values("user_id")
        )
        | Q(pk__in=list(per_professional))
    ).order_by("last_name", "first_name", "pk")
    workers_by_id = {user.pk: WorkerLoad(user.pk, str(user)) for user in workers}
    for professional_id, n in per_professional.items():
        workers_by_id[professional_id].persons = n
    unassigned = WorkerLoad(None, "", persons=totals["n"] - sum(per_professional.values()))

    external = external_counts(
        user_id=user_id, organisation_id=organisation_id, reviews=True, whole_organisation=True
    )
    mentioned: set[int] = set()
    for count in (external.open_alerts, external.pending_referrals, external.overdue_reviews):
        mentioned |= set(count.by_person or ()) if count is not None else set()
    professional_of: dict[int, int] = {}
    if mentioned:
        professional_of = dict(
            ReferenceProfessional.objects.filter(
                organisation_id=organisation_id, person_id__in=mentioned
            ).values_list("person_id", "professional_id")
        )
    for attr in ("open_alerts", "pending_referrals", "overdue_reviews"):
        count = getattr(external, attr)
        for person_id, n in ((count.by_person or {}) if count is not None else {}).items():
            target = workers_by_id.get(professional_of.get(person_id), unassigned)
            setattr(target, attr, getattr(target, attr) + n)
    return CoordinatorSummary(
        caseload_size=totals["n"],
        workers=list(workers_by_id.values()),
        unassigned=unassigned,
        external=external,
        expiring_consents=totals["expiring"],
    )


# --- Registration: likely duplicates --------------------------------------------------------------


def likely_duplicates(
    *,
    organisation_id: int,
    first_name: str,
    last_name_1: str,
    last_name_2: str,
    birth_date: dt.date,
    limit: int = 10,
) -> list[Person]:
    """Persons of the caseload born that day whose name is similar to the one typed."""
    name = " ".join(p for p in (first_name, last_name_1, last_name_2) if p).strip()
    if not name or birth_date is None:
        return []
    query = ParsedQuery(raw=name, name=name, birth_date=birth_date)
    with transaction.atomic():
        set_word_similarity_threshold()
        return list(
            matching(persons_attended_by(organisation_id), query).only(
                "id",
                "first_name",
                "last_name_1",
                "last_name_2",
                "birth_date",
                "document_type",
                "document_number",
            )[:limit]
        )
