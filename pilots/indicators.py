"""The pilot's indicators, computed from the platform's own tables.

Each *source* is one set-based SQL query: an ORM queryset (or plain SQL, for the caseload
and the AROPE households) yields one *fact* row per event or per person and organisation,
with fixed column names:

``f_person``  the person the row is about (the basis of disclosure control)
``f_event``   what the row counts (an enrolment, a referral, a plan, an alert...)
``f_org``     the organisation the row is attributed to (a pilot organisation)
``f_terr``    that organisation's territory (province or municipality code, "" if regional)
``f_month``   the month of the event (first day)
flags and numbers used by the measures (``f_accepted``, ``f_days``...)

**Periods.** Figures are published for the periods of a fixed grid (``pilots.periods``:
calendar months, quarters and years, and the whole pilot), never for a free range, and
every period of the grid is computed and protected at once, so that no two periods can be
subtracted to recover a suppressed cell. How a source's rows fall into the periods is its
*timing*:

- ``DATED``: each row has a month; the wrapper repeats it for every period of the grid
  holding that month (its month, quarter, year and the whole pilot).
- ``SPANS``: the source itself yields one row per period a row overlaps (``f_period``, the
  id of the period in the grid): the caseload, where a person attended from March to
  October counts in every period that touches those months.
- ``PERIOD``: figures measured on the last day of the chosen period (consent or legal
  basis in force, AROPE households): they are not sums over shorter periods, so they are
  computed for the chosen period only.

``aggregate`` wraps the fact query once in ``GROUP BY GROUPING SETS``: per period, and per
period and organisation, territory (and any extra dimension such as the alert rule) come out
of the same statement, with ``COUNT(DISTINCT ...) FILTER (WHERE ...)`` for counts and
``percentile_cont(0.5)`` for medians. No Python loop ever runs per person.

``publish`` runs every source for a pilot (a constant number of queries, whatever the
population and the number of periods) and protects the result with ``pilots.sdc``: the
period, territory and organisation filters of the pages select cells of this one protected
release, so that filtering never yields a number another selection had suppressed.

**Frozen periods.** Once a period has closed, its protected cells are stored as they were
published (``pilots.models.FrozenPeriod``, decision 0012) and given to ``publish`` as
``frozen`` figures: a closed period is then cut from them without a query, and in a
period still open the cells of its closed months are those figures, locked, so that the
protection of the open cells is chosen around them (``pilots.sdc``, "Frozen cells").

A source whose models do not exist yet (or are not migrated) is *not available*: its
measures are published as "no disponible" with the reason, and nothing fails.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from django.apps import apps
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Least, TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .periods import Grid, Span, grid_of, month_end, month_start, months_between  # noqa: F401 (re-exported)
from .sdc import Cell, Group, frozen_cell, protect, unpublished_cell

MONTH, ORGANISATION, TERRITORY = "month", "organisation", "territory"
PROVINCE_LEVEL, MUNICIPALITY_LEVEL = "province", "municipality"

#: Rules of the diagnostics app whose alerts mean "the same service is being given twice".
DUPLICATION_RULES = ("duplicidad_recurso",)


class Kind:
    PERSONS = "persons"  # distinct persons
    EVENTS = "events"  # distinct events about persons (referrals, plans, alerts...)
    COUNT = "count"  # distinct events that are not about persons (meetings): never suppressed
    MEDIAN_DAYS = "median_days"


ADDITIVE = (Kind.PERSONS, Kind.EVENTS, Kind.COUNT)


class Timing:
    """How the fact rows of a source fall into the periods of the grid (module docstring)."""

    DATED = "dated"
    SPANS = "spans"
    PERIOD = "period"


# --- Scope: a pilot, its organisations and a period ---------------------------------------------


@dataclass(frozen=True)
class OrganisationInfo:
    id: int
    name: str
    kind: str
    territory: str


@dataclass(frozen=True)
class Scope:
    """A pilot's organisations and a run of whole months.

    For ``publish`` the months are the whole grid (every month the pilot has data for); the
    ``Publication`` of one period carries the scope of that period."""

    pilot_id: int
    start: dt.date  # first day of a month
    end: dt.date  # last day of a month
    organisations: tuple[OrganisationInfo, ...]
    territory_level: str = PROVINCE_LEVEL
    territory_labels: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    today: dt.date | None = None
    pilot_start: dt.date | None = None  # persons attended before it enter the pilot on that day

    @property
    def org_ids(self) -> list[int]:
        return [o.id for o in self.organisations]

    @property
    def territories(self) -> list[str]:
        seen: dict[str, None] = {}
        for org in self.organisations:
            seen.setdefault(org.territory, None)
        return sorted(seen, key=lambda code: (code == "", self.territory_labels.get(code, code)))

    def orgs_in(self, territory: str) -> list[int]:
        return [o.id for o in self.organisations if o.territory == territory]

    @property
    def months(self) -> list[dt.date]:
        return months_between(self.start, self.end)

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)

    def grid(self) -> Grid:
        return grid_of(self.months)

    def of(self, span: Span) -> Scope:
        """The same pilot over ``span``."""
        return replace(self, start=span.start, end=span.end)

    @property
    def reference_day(self) -> dt.date:
        """The day stocks are measured on: the end of the period, or today if it is earlier."""
        today = self.today or timezone.localdate()
        return min(self.end, today)

    @property
    def start_at(self) -> dt.datetime:
        return _midnight(self.start)

    @property
    def end_at(self) -> dt.datetime:
        """Exclusive upper bound: midnight after the last day."""
        return _midnight(self.end + dt.timedelta(days=1))


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# --- Measures, sources and tables ----------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    code: str
    label: Any
    kind: str
    definition: Any = ""
    flag: str = ""  # boolean fact column restricting the rows the measure counts
    value: str = ""  # numeric fact column (medians)
    basis: str = "f_person"  # the column whose distinct count decides primary suppression
    monthly: bool = True  # whether a period's table shows it month by month
    #: Persons counted without DISTINCT: boolean columns marking one row per person and period
    #: for the whole pilot, per organisation and per territory, each row standing for ``f_n``
    #: persons (the caseload, see ``_caseload``).
    firsts: tuple[str, str, str] = ()

    @property
    def additive(self) -> bool:
        return self.kind in ADDITIVE

    @property
    def personal(self) -> bool:
        return self.kind != Kind.COUNT


@dataclass(frozen=True)
class FactQuery:
    sql: str
    params: Sequence[Any] | dict[str, Any]


@dataclass(frozen=True)
class Source:
    code: str
    title: Any
    measures: tuple[Measure, ...]
    build: Callable[[Scope], FactQuery | None]
    monthly: bool = True
    extra_dims: tuple[tuple[str, str, Any], ...] = ()  # (dimension, fact column, label)
    unavailable: Any = ""  # why the source may be missing
    timing: str = Timing.DATED

    def dims(self) -> list[tuple[str, str]]:
        """The breakdowns of each period (the period itself is always grouped on)."""
        dims = [(ORGANISATION, "f_org"), (TERRITORY, "f_terr")]
        dims += [(code, column) for code, column, _label in self.extra_dims]
        return dims


@dataclass
class Slice:
    """One measure over one period of the grid: its total and breakdowns, as cells."""

    total: Cell = field(default_factory=lambda: Cell(None, 0))
    by_org: dict[int, Cell] = field(default_factory=dict)
    by_territory: dict[str, Cell] = field(default_factory=dict)
    extra: dict[str, dict[str, Cell]] = field(default_factory=dict)

    def cells(self):
        yield self.total
        for group in (self.by_org, self.by_territory, *self.extra.values()):
            yield from group.values()


@dataclass
class Series:
    """One measure over every period it is computed for (the grid, or the chosen period)."""

    measure: Measure
    source: Source
    available: bool = True
    reason: Any = ""
    slices: dict[Span, Slice] = field(default_factory=dict)

    def cells(self):
        for piece in self.slices.values():
            yield from piece.cells()


@dataclass
class MeasureTable:
    """One measure over one period: total and breakdowns, as cells (of the protected release)."""

    measure: Measure
    source: Source
    available: bool = True
    reason: Any = ""
    total: Cell = field(default_factory=lambda: Cell(None, 0))
    by_month: dict[dt.date, Cell] = field(default_factory=dict)
    by_org: dict[int, Cell] = field(default_factory=dict)
    by_territory: dict[str, Cell] = field(default_factory=dict)
    org_month: dict[int, dict[dt.date, Cell]] = field(default_factory=dict)
    territory_month: dict[str, dict[dt.date, Cell]] = field(default_factory=dict)
    extra: dict[str, dict[str, Cell]] = field(default_factory=dict)

    @property
    def monthly(self) -> bool:
        return self.source.monthly and self.measure.monthly

    def selection(self, *, organisation_id: int | None = None, territory: str | None = None):
        """(headline cell, cells by month) for the filter: cells of the protected publication."""
        if organisation_id is not None:
            return self.by_org.get(organisation_id), self.org_month.get(organisation_id, {})
        if territory is not None:
            return self.by_territory.get(territory), self.territory_month.get(territory, {})
        return self.total, self.by_month

    def cells(self):
        yield self.total
        for group in (self.by_month, self.by_org, self.by_territory, *self.extra.values()):
            yield from group.values()
        for rows in (self.org_month, self.territory_month):
            for row in rows.values():
                yield from row.values()


@dataclass
class Publication:
    """The tables of one period of the grid, cut from the protected release."""

    scope: Scope
    tables: dict[str, MeasureTable]
    sources: tuple[Source, ...]

    def table(self, code: str) -> MeasureTable:
        return self.tables[code]

    def available_tables(self) -> list[MeasureTable]:
        return [t for t in self.tables.values() if t.available]

    def unavailable_tables(self) -> list[MeasureTable]:
        return [t for t in self.tables.values() if not t.available]


# --- Model availability -------------------------------------------------------------------------


@cache
def _migrated_models() -> frozenset[tuple[str, str]]:
    """(app, model) pairs that the migration files on disk create (no database query)."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    return frozenset(loader.project_state().models)


def available_model(app_label: str, model_name: str, fields: Sequence[str] = ()):
    """The model if its app defines and migrates it with these fields, else None."""
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        return None
    if (app_label, model_name.lower()) not in _migrated_models():
        return None
    names = {f.name for f in model._meta.get_fields()}
    if not set(fields) <= names:
        return None
    return model


# --- Expressions --------------------------------------------------------------------------------


class EpochDays(Func):
    """Days (with fractions) between two timestamps: later - earlier."""

    arg_joiner = " - "
    template = "(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0)::double precision"
    output_field = FloatField()


class DateDiffDays(Func):
    """Whole days between two dates: later - earlier (PostgreSQL date subtraction)."""

    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = IntegerField()


def territory_case(scope: Scope, org_column: str):
    """The territory of the row's organisation, from the scope (no join, always consistent)."""
    whens = [When(**{org_column: org.id}, then=Value(org.territory)) for org in scope.organisations]
    return Case(*whens, default=Value(""), output_field=CharField())


def month_of_datetime(column: str):
    return Cast(TruncMonth(column, tzinfo=timezone.get_current_timezone()), DateField())


def month_of_date(expression):
    return Cast(TruncMonth(expression, output_field=DateField()), DateField())


def flag(condition) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


def facts(queryset: QuerySet) -> FactQuery:
    try:
        sql, params = queryset.order_by().query.sql_with_params()
    except EmptyResultSet:  # e.g. ``organisation_id IN ()``: no row can match
        return FactQuery("", ())
    return FactQuery(sql, params)


# --- Sources ------------------------------------------------------------------------------------


def _in_pilot_enrolments(scope: Scope):
    from sharing.models import Enrolment

    return Enrolment.objects.filter(organisation_id__in=scope.org_ids, start_date__lte=scope.end).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=scope.start)
    )


def _caseload(scope: Scope) -> FactQuery:
    """Enrolments, counted in every period of the grid each one overlaps (timing ``SPANS``).

    A person attended from March to October is in the caseload of every month, quarter and
    year that touches those months. A person with several enrolments must count once per
    period, and a ``COUNT(DISTINCT)`` over every enrolment and period would sort them all;
    instead, window functions over the enrolments (ordered by start) mark what to count: an
    enrolment is the person's first one overlapping a period when every earlier enrolment of
    the person ended before the period starts (``f_first``; per organisation
    ``f_first_org``, per territory ``f_first_terr``), and the first one starting in it when
    the previous one started before it (``f_new_first``...).

    Periods are whole months, so each of those comparisons only needs the *month* of each
    date: the enrolments are grouped by organisation and months (``f_n`` of them per row)
    before they meet the grid, so the rows joined stay few however many persons there are,
    and the counts are sums of ``f_n`` (``Measure.firsts``)."""
    from sharing.models import Enrolment

    enrolment = connection.ops.quote_name(Enrolment._meta.db_table)
    partitions = {"": "e.person_id", "_org": "e.person_id, e.organisation_id", "_terr": "e.person_id, o.territory"}
    windows = ",\n           ".join(
        f"MAX(COALESCE(e.end_date, 'infinity'::date)) OVER (PARTITION BY {p} ORDER BY e.start_date, e.id "
        f"ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS ended{suffix}, "
        f"LAG(e.start_date) OVER (PARTITION BY {p} ORDER BY e.start_date, e.id) AS started{suffix}"
        for suffix, p in partitions.items()
    )
    columns = ["start_date", "end_date"] + [f"{what}{suffix}" for suffix in partitions for what in ("ended", "started")]
    months = ",\n           ".join(f"date_trunc('month', x.{c}::timestamp)::date AS {c}" for c in columns)
    flags = ",\n       ".join(
        f"(m.ended{suffix} IS NULL OR m.ended{suffix} < g.g_start) AS f_first{suffix}, "
        f"m.start_date >= g.g_start AND (m.started{suffix} IS NULL OR m.started{suffix} < g.g_start) "
        f"AS f_new_first{suffix}"
        for suffix in partitions
    )
    sql = f"""
WITH pilot_grid(g_id, g_start, g_end) AS (VALUES {scope.grid().sql_values()}),
pilot_orgs AS (
    SELECT * FROM unnest(%(pilot_orgs)s::bigint[], %(pilot_territories)s::text[]) AS t(org_id, territory)
),
enrolments AS (
    SELECT e.organisation_id, o.territory, e.start_date, e.end_date,
           {windows}
    FROM {enrolment} e
    JOIN pilot_orgs o ON o.org_id = e.organisation_id
),
by_month AS (
    SELECT x.organisation_id, x.territory,
           {months},
           COUNT(*) AS f_n
    FROM enrolments x
    GROUP BY {", ".join(["x.organisation_id", "x.territory"] + [str(i) for i in range(3, len(columns) + 3)])}
)
SELECT m.organisation_id AS f_org, m.territory AS f_terr, g.g_id AS f_period, m.f_n,
       {flags}
FROM by_month m
JOIN pilot_grid g ON m.start_date <= g.g_end AND (m.end_date IS NULL OR m.end_date >= g.g_start)"""
    params = {"pilot_orgs": scope.org_ids, "pilot_territories": [o.territory for o in scope.organisations]}
    return FactQuery(sql, params)


def _caseload_period(scope: Scope) -> FactQuery:
    """Enrolments of the chosen period (timing ``PERIOD``), flagged when the person is attended
    in the period by organisations of at least two kinds of service, and when the person has,
    on the period's last day (or today), a consent in force or a legal basis of their
    community without objection. Neither is a sum over shorter periods (a person attended
    by social services in January and by employment in March is "more than one service" in
    the quarter and in no month). The per-person conditions are uncorrelated ``IN``
    subqueries (PostgreSQL hashes each once) rather than a lookup per row."""
    from cases.models import MinimumIncome
    from consent.models import Consent, LegalBasis, Objection

    day = scope.reference_day
    after_day = _midnight(day + dt.timedelta(days=1))
    enrolments = _in_pilot_enrolments(scope)
    several_services = (
        enrolments.order_by().values("person_id")
        .annotate(n=Count("organisation__kind", distinct=True)).filter(n__gte=2).values("person_id")
    )
    consent_in_force = Consent.objects.filter(valid_from__lte=day, valid_until__gte=day).filter(
        Q(revocation__isnull=True) | Q(revocation__revoked_at__gte=after_day),
        Q(superseded_by__isnull=True) | Q(superseded_by__recorded_at__gte=after_day),
    ).values("person_id")
    receives_income = MinimumIncome.objects.filter(
        Q(end_date__isnull=True) | Q(end_date__gte=day),
        person_id=OuterRef(OuterRef("person_id")), status=MinimumIncome.Status.GRANTED, start_date__lte=day,
    )
    objected = Objection.objects.filter(person_id=OuterRef(OuterRef("person_id")), legal_basis_id=OuterRef("pk"))
    legal_basis = (
        LegalBasis.objects.filter(is_active=True, community_id=OuterRef("organisation__community_id"))
        .exclude(mode=LegalBasis.Mode.CONSENT_ONLY)
        .filter(~Exists(objected))
        .filter(Q(condition="") | Exists(receives_income))
    )
    covered_by_law = enrolments.filter(Exists(legal_basis)).order_by().values("person_id")
    queryset = enrolments.values(
        f_person=F("person_id"),
        f_event=F("pk"),
        f_org=F("organisation_id"),
        f_terr=territory_case(scope, "organisation_id"),
        f_multi=flag(Q(person_id__in=several_services)),
        f_basis=flag(Q(person_id__in=consent_in_force) | Q(person_id__in=covered_by_law)),
    )
    return facts(queryset)


def _referrals_sent(scope: Scope) -> FactQuery | None:
    referral = available_model("coordination", "Referral", ("person", "from_organisation", "sent_at"))
    if referral is None:
        return None
    queryset = referral.objects.filter(
        from_organisation_id__in=scope.org_ids, sent_at__gte=scope.start_at, sent_at__lt=scope.end_at,
    ).values(
        f_person=F("person_id"), f_event=F("pk"), f_org=F("from_organisation_id"),
        f_terr=territory_case(scope, "from_organisation_id"), f_month=month_of_datetime("sent_at"),
    )
    return facts(queryset)


def _referrals_received(scope: Scope) -> FactQuery | None:
    referral = available_model(
        "coordination", "Referral", ("person", "to_organisation", "sent_at", "accepted_at", "rejected_at"),
    )
    if referral is None:
        return None
    answered = Q(accepted_at__isnull=False) | Q(rejected_at__isnull=False)
    queryset = referral.objects.filter(
        to_organisation_id__in=scope.org_ids, sent_at__gte=scope.start_at, sent_at__lt=scope.end_at,
    ).values(
        f_person=F("person_id"), f_event=F("pk"), f_org=F("to_organisation_id"),
        f_terr=territory_case(scope, "to_organisation_id"), f_month=month_of_datetime("sent_at"),
        f_accepted=flag(Q(accepted_at__isnull=False)),
        f_rejected=flag(Q(rejected_at__isnull=False)),
        f_answered=flag(answered),
        f_days=EpochDays(Coalesce(F("accepted_at"), F("rejected_at")), F("sent_at")),
    )
    return facts(queryset)


def _joint_plans(scope: Scope) -> FactQuery | None:
    from cases.models import DiaryEntry
    from sharing.models import Enrolment

    plan = available_model("coordination", "JointPlan", ("person", "start_date", "organising_organisation"))
    if plan is None:
        return None
    first_note = (
        DiaryEntry.objects.annotate(day=TruncDate("happened_at"))
        .filter(person_id=OuterRef("person_id"), recorded_by_org_id__in=scope.org_ids, day__lte=OuterRef("start_date"))
        .order_by().values("person_id").annotate(first=Min("day")).values("first")[:1]
    )
    first_enrolment = (
        Enrolment.objects.filter(person_id=OuterRef("person_id"), organisation_id__in=scope.org_ids,
                                 start_date__lte=OuterRef("start_date"))
        .order_by().values("person_id").annotate(first=Min("start_date")).values("first")[:1]
    )
    queryset = (
        plan.objects.filter(organising_organisation_id__in=scope.org_ids, start_date__gte=scope.start,
                            start_date__lte=scope.end)
        .annotate(first_contact=Least(Subquery(first_note, output_field=DateField()),
                                      Subquery(first_enrolment, output_field=DateField())))
        .values(
            f_person=F("person_id"), f_event=F("pk"), f_org=F("organising_organisation_id"),
            f_terr=territory_case(scope, "organising_organisation_id"),
            f_month=month_of_date(F("start_date")),
            f_contact=flag(Q(first_contact__isnull=False)),
            f_days=DateDiffDays(F("start_date"), F("first_contact")),
        )
    )
    return facts(queryset)


def _plan_actions(scope: Scope) -> FactQuery | None:
    action = available_model("coordination", "PlanAction", ("plan", "owner_organisation", "state", "end_date"))
    if action is None:
        return None
    completed = action.State.COMPLETED if hasattr(action, "State") else "completada"
    queryset = (
        action.objects.filter(owner_organisation_id__in=scope.org_ids, state=completed)
        .annotate(done=Coalesce(F("end_date"), TruncDate("updated_at")))
        .filter(done__gte=scope.start, done__lte=scope.end)
        .values(
            f_person=F("plan__person_id"), f_event=F("pk"), f_org=F("owner_organisation_id"),
            f_terr=territory_case(scope, "owner_organisation_id"), f_month=month_of_date(F("done")),
        )
    )
    return facts(queryset)


def _conferences(scope: Scope) -> FactQuery | None:
    conference = available_model("coordination", "CaseConference", ("date", "organising_organisation", "cases"))
    if conference is None:
        return None
    last = min(scope.end, scope.today or timezone.localdate())
    queryset = conference.objects.filter(
        organising_organisation_id__in=scope.org_ids, date__gte=scope.start, date__lte=last,
    ).values(
        f_person=F("cases__person_id"), f_event=F("pk"), f_org=F("organising_organisation_id"),
        f_terr=territory_case(scope, "organising_organisation_id"), f_month=month_of_date(F("date")),
    )
    return facts(queryset)


def _alerts(scope: Scope) -> FactQuery | None:
    alert = available_model("diagnostics", "Alert", ("rule", "person", "created_at", "resolved_at"))
    delivery = available_model("diagnostics", "AlertDelivery", ("alert", "organisation"))
    rule = available_model("diagnostics", "AlertRule", ("code",))
    if alert is None or delivery is None or rule is None:
        return None
    resolved = Q(alert__resolved_at__isnull=False)
    duplication = Q(alert__rule__code__in=DUPLICATION_RULES)
    queryset = delivery.objects.filter(
        organisation_id__in=scope.org_ids, alert__created_at__gte=scope.start_at, alert__created_at__lt=scope.end_at,
    ).values(
        f_person=F("alert__person_id"), f_event=F("alert_id"), f_org=F("organisation_id"),
        f_terr=territory_case(scope, "organisation_id"), f_month=month_of_datetime("alert__created_at"),
        f_rule=F("alert__rule__code"),
        f_resolved=flag(resolved),
        f_days=EpochDays(F("alert__resolved_at"), F("alert__created_at")),
        f_dup=flag(duplication),
        f_dup_resolved=flag(duplication & resolved),
    )
    return facts(queryset)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _arope_households(scope: Scope) -> FactQuery | None:
    """Households with minors at risk of poverty or social exclusion.

    Whether a household is AROPE is the diagnostics app's decision: its public set-based
    query (``diagnostics.arope.HOUSEHOLDS_SQL``: one row per household with the three AROPE
    flags) is used as it is, restricted to the households of persons the pilot attends. The
    minors are read here (members under 18 on the reference day)."""
    try:
        from diagnostics import arope
    except ImportError:
        return None
    if not all(hasattr(arope, name) for name in ("HOUSEHOLDS_SQL", "sql_parameters")):
        return None
    from cases.models import HouseholdMember, Person
    from sharing.models import Enrolment

    enrolment, member, person = (connection.ops.quote_name(m._meta.db_table)
                                 for m in (Enrolment, HouseholdMember, Person))
    in_pilot = "e.start_date <= %(pilot_period_end)s AND (e.end_date IS NULL OR e.end_date >= %(pilot_period_start)s)"
    living = "{m}.start_date <= %(pilot_day)s AND ({m}.end_date IS NULL OR {m}.end_date > %(pilot_day)s)"
    households = (
        f"m.household_id IN (SELECT hm.household_id FROM {member} hm "
        f"JOIN {enrolment} e ON e.person_id = hm.person_id "
        f"WHERE e.organisation_id = ANY(%(pilot_orgs)s::bigint[]) AND {in_pilot} AND {living.format(m='hm')})"
    )
    sql = (
        "WITH households AS (" + arope.HOUSEHOLDS_SQL.format(households=households) + """),
pilot_orgs AS (
    SELECT * FROM unnest(%(pilot_orgs)s::bigint[], %(pilot_territories)s::text[]) AS t(org_id, territory)
)
SELECT DISTINCT h.household_id AS f_event, child.person_id AS f_person, o.org_id AS f_org,
       o.territory AS f_terr, NULL::date AS f_month
FROM households h
JOIN """ + member + " child ON child.household_id = h.household_id AND " + living.format(m="child") + """
JOIN """ + person + """ minor ON minor.id = child.person_id AND minor.birth_date > %(pilot_born_18)s
JOIN """ + member + " anyone ON anyone.household_id = h.household_id AND " + living.format(m="anyone") + """
JOIN """ + enrolment + " e ON e.person_id = anyone.person_id AND " + in_pilot + """
JOIN pilot_orgs o ON o.org_id = e.organisation_id
WHERE h.at_risk_of_poverty IS TRUE OR h.severe_deprivation OR h.very_low_work_intensity"""
    )
    day = scope.reference_day
    params = {
        **arope.sql_parameters(day),
        "pilot_orgs": scope.org_ids,
        "pilot_territories": [o.territory for o in scope.organisations],
        "pilot_period_start": scope.start,
        "pilot_period_end": scope.end,
        "pilot_day": day,
        "pilot_born_18": _years_before(day, 18),
    }
    return FactQuery(sql, params)


def _disclosures(scope: Scope) -> FactQuery:
    from sharing.models import DisclosureLogEntry

    queryset = DisclosureLogEntry.objects.filter(
        organisation_id__in=scope.org_ids, event=DisclosureLogEntry.Event.DISCLOSURE, person__isnull=False,
        at__gte=scope.start_at, at__lt=scope.end_at,
    ).values(
        f_person=F("person_id"), f_event=F("pk"), f_org=F("organisation_id"),
        f_terr=territory_case(scope, "organisation_id"), f_month=month_of_datetime("at"),
        f_category=F("category"),
        f_basis=Func(F("basis"), Value(":"), Value(1), function="split_part", output_field=CharField()),
    )
    return facts(queryset)


COORDINATION_PENDING = _("No disponible: el módulo de coordinación (derivaciones, itinerarios y comisiones) "
                         "aún no está instalado.")
DIAGNOSTICS_PENDING = _("No disponible: el módulo de diagnóstico y alertas aún no está instalado.")


SOURCES: tuple[Source, ...] = (
    Source(
        "caseload", _("Personas atendidas"), monthly=True, build=_caseload, timing=Timing.SPANS,
        measures=(
            Measure("persons_attended", _("Personas atendidas"), Kind.PERSONS, monthly=False,
                    firsts=("f_first", "f_first_org", "f_first_terr"),
                    definition=_("Personas con un expediente abierto en alguna organización del piloto en algún "
                                 "momento del periodo.")),
            Measure("persons_new", _("Personas que inician la atención"), Kind.PERSONS,
                    firsts=("f_new_first", "f_new_first_org", "f_new_first_terr"),
                    definition=_("Personas cuyo expediente en una organización del piloto se abre en el periodo "
                                 "(por mes de apertura).")),
        ),
    ),
    Source(
        "caseload_period", _("Personas atendidas en el periodo"), monthly=False, build=_caseload_period,
        timing=Timing.PERIOD,
        measures=(
            Measure("persons_multi_service", _("Personas atendidas por más de un servicio"), Kind.PERSONS,
                    flag="f_multi", monthly=False,
                    definition=_("Personas atendidas en el periodo por organizaciones del piloto de al menos dos "
                                 "tipos de servicio (servicios sociales, empleo, Tercer Sector).")),
            Measure("persons_with_basis", _("Personas con consentimiento o base jurídica vigente"), Kind.PERSONS,
                    flag="f_basis", monthly=False,
                    definition=_("Personas atendidas con un consentimiento vigente (ni revocado ni sustituido) o "
                                 "cubiertas por una base jurídica activa de su comunidad sin oposición, al final "
                                 "del periodo (o hoy, si el periodo no ha terminado).")),
        ),
    ),
    Source(
        "referrals_sent", _("Derivaciones enviadas"), build=_referrals_sent, unavailable=COORDINATION_PENDING,
        measures=(
            Measure("referrals_sent", _("Derivaciones enviadas"), Kind.EVENTS,
                    definition=_("Derivaciones enviadas en el periodo por organizaciones del piloto "
                                 "(atribuidas a la organización que deriva).")),
        ),
    ),
    Source(
        "referrals_received", _("Derivaciones recibidas"), build=_referrals_received,
        unavailable=COORDINATION_PENDING,
        measures=(
            Measure("referrals_received", _("Derivaciones recibidas"), Kind.EVENTS,
                    definition=_("Derivaciones enviadas en el periodo a organizaciones del piloto "
                                 "(atribuidas a la organización receptora).")),
            Measure("referrals_accepted", _("Derivaciones aceptadas"), Kind.EVENTS, flag="f_accepted",
                    definition=_("De las recibidas, las aceptadas (en cualquier fecha).")),
            Measure("referrals_rejected", _("Derivaciones rechazadas"), Kind.EVENTS, flag="f_rejected",
                    definition=_("De las recibidas, las rechazadas (en cualquier fecha).")),
            Measure("referral_answer_days", _("Mediana de días hasta responder una derivación"),
                    Kind.MEDIAN_DAYS, flag="f_answered", value="f_days",
                    definition=_("Mediana de los días entre el envío y la aceptación o el rechazo, de las "
                                 "derivaciones recibidas que ya tienen respuesta.")),
        ),
    ),
    Source(
        "joint_plans", _("Itinerarios conjuntos"), build=_joint_plans, unavailable=COORDINATION_PENDING,
        measures=(
            Measure("plans_opened", _("Itinerarios conjuntos abiertos"), Kind.EVENTS,
                    definition=_("Itinerarios conjuntos con fecha de inicio en el periodo, impulsados por una "
                                 "organización del piloto (incluidos los que están en elaboración).")),
            Measure("plan_first_contact_days", _("Mediana de días desde el primer contacto hasta el itinerario"),
                    Kind.MEDIAN_DAYS, flag="f_contact", value="f_days",
                    definition=_("Mediana de los días entre el primer contacto de la persona con el piloto "
                                 "(primera anotación del diario o primer expediente en una organización del "
                                 "piloto) y el inicio del itinerario.")),
        ),
    ),
    Source(
        "plan_actions", _("Acciones de itinerario completadas"), build=_plan_actions,
        unavailable=COORDINATION_PENDING,
        measures=(
            Measure("plan_actions_completed", _("Acciones de itinerario completadas"), Kind.EVENTS,
                    definition=_("Acciones de itinerarios conjuntos completadas en el periodo por organizaciones "
                                 "del piloto (por fecha de fin).")),
        ),
    ),
    Source(
        "conferences", _("Comisiones de caso"), build=_conferences, unavailable=COORDINATION_PENDING,
        measures=(
            Measure("conferences_held", _("Comisiones de caso celebradas"), Kind.COUNT,
                    definition=_("Reuniones celebradas en el periodo convocadas por organizaciones del piloto. "
                                 "Cuentan reuniones, no personas: no se suprimen.")),
            Measure("conference_persons", _("Personas cuyo caso se revisó en comisión"), Kind.PERSONS,
                    definition=_("Personas distintas presentadas en esas comisiones.")),
        ),
    ),
    Source(
        "alerts", _("Alertas"), build=_alerts, unavailable=DIAGNOSTICS_PENDING,
        extra_dims=(("rule", "f_rule", _("Regla")),),
        measures=(
            Measure("alerts_raised", _("Alertas generadas"), Kind.EVENTS,
                    definition=_("Alertas creadas en el periodo y entregadas a organizaciones del piloto.")),
            Measure("alerts_resolved", _("Alertas resueltas"), Kind.EVENTS, flag="f_resolved",
                    definition=_("De esas alertas, las resueltas (en cualquier fecha).")),
            Measure("alert_resolution_days", _("Mediana de días hasta resolver una alerta"), Kind.MEDIAN_DAYS,
                    flag="f_resolved", value="f_days",
                    definition=_("Mediana de los días entre la creación y la resolución de las alertas resueltas.")),
            Measure("duplicates_detected", _("Servicios duplicados detectados"), Kind.EVENTS, flag="f_dup",
                    definition=_("Alertas de posible duplicidad de recursos (el mismo servicio prestado dos veces).")),
            Measure("duplicates_avoided", _("Duplicidades evitadas"), Kind.EVENTS, flag="f_dup_resolved",
                    definition=_("Alertas de duplicidad resueltas.")),
        ),
    ),
    Source(
        "arope", _("Pobreza infantil (AROPE)"), build=_arope_households, monthly=False,
        unavailable=DIAGNOSTICS_PENDING, timing=Timing.PERIOD,
        measures=(
            Measure("arope_households_with_minors", _("Hogares con menores en riesgo de pobreza o exclusión (AROPE)"),
                    Kind.EVENTS, basis="f_event", monthly=False,
                    definition=_("Unidades de convivencia con algún menor de 18 años y algún miembro atendido "
                                 "por el piloto, en riesgo de pobreza o exclusión social (definición AROPE de la "
                                 "UE, calculada por el módulo de diagnóstico) al final del periodo. Se suprimen "
                                 "si son menos de 5 hogares.")),
            Measure("arope_children", _("Menores en esos hogares"), Kind.PERSONS, monthly=False,
                    definition=_("Menores de 18 años que viven en esos hogares.")),
        ),
    ),
    Source(
        "disclosures", _("Comunicaciones de datos"), build=_disclosures,
        extra_dims=(("category", "f_category", _("Categoría")), ("basis", "f_basis", _("Base"))),
        measures=(
            Measure("disclosures", _("Comunicaciones de datos entre servicios"), Kind.EVENTS,
                    definition=_("Entradas del registro de accesos en las que una organización del piloto "
                                 "recibió datos de otro servicio, por categoría y base (consentimiento, base "
                                 "jurídica, acceso de emergencia).")),
            Measure("persons_disclosed", _("Personas cuyos datos se comunicaron"), Kind.PERSONS,
                    definition=_("Personas distintas afectadas por esas comunicaciones.")),
        ),
    ),
)

MEASURES: dict[str, Measure] = {m.code: m for s in SOURCES for m in s.measures}


# --- Running a source ----------------------------------------------------------------------------


def aggregate_sql(source: Source, fact_sql: str, grid: Grid) -> str:
    """The GROUPING SETS statement around a source's fact query (no parameters of its own).

    The rows are first given their periods (``f_period``, the id of a span of ``grid``; see
    ``Timing``); every grouping set includes the period. Counts are ``COUNT(DISTINCT ...)``,
    so an event attributed to several organisations (an alert delivered to two) counts once
    in the total. A median cannot be distinct, so the facts get two markers: ``f_first`` on
    one row per event and period, and ``f_first_terr`` on one row per event, period and
    territory; the median of a grouping by organisation reads every row, by territory the
    rows marked ``f_first_terr``, any other the rows marked ``f_first``."""
    dims = source.dims()
    sets = ["(f.f_period)"] + [f"(f.f_period, f.{column})" for _, column in dims]
    select = [f"GROUPING(f.{column})" for _, column in dims] + ["f.f_period"] + [f"f.{column}" for _, column in dims]
    medians = False
    for measure in source.measures:
        if measure.firsts:
            select += [f"COALESCE(SUM(f.f_n) FILTER (WHERE f.{column}), 0)" for column in measure.firsts]
            continue
        where = f" FILTER (WHERE f.{measure.flag})" if measure.flag else ""
        select.append(f"COUNT(DISTINCT f.{measure.basis}){where}")
        if measure.kind in (Kind.EVENTS, Kind.COUNT):
            select.append(f"COUNT(DISTINCT f.f_event){where}")
        elif measure.kind == Kind.MEDIAN_DAYS:
            medians = True
            condition = f"f.{measure.flag} AND " if measure.flag else ""
            ordered = f"percentile_cont(0.5) WITHIN GROUP (ORDER BY f.{measure.value})"
            select.append(f"{ordered}{where}")
            select.append(f"{ordered} FILTER (WHERE {condition}f.f_first)")
            select.append(f"{ordered} FILTER (WHERE {condition}f.f_first_terr)")
        else:
            select.append("NULL")
    if source.timing == Timing.DATED:
        source_sql = (
            f"SELECT facts.*, g.g_id AS f_period FROM ({fact_sql}) AS facts "
            f"JOIN (VALUES {grid.sql_values()}) AS g(g_id, g_start, g_end) "
            "ON facts.f_month BETWEEN g.g_start AND g.g_end"
        )
    elif source.timing == Timing.PERIOD:
        source_sql = f"SELECT facts.*, 0 AS f_period FROM ({fact_sql}) AS facts"
    else:
        source_sql = fact_sql
    if medians:
        source_sql = (
            "SELECT periods.*, "
            "ROW_NUMBER() OVER (PARTITION BY periods.f_event, periods.f_period ORDER BY periods.f_org) = 1 "
            "AS f_first, "
            "ROW_NUMBER() OVER (PARTITION BY periods.f_event, periods.f_period, periods.f_terr "
            "ORDER BY periods.f_org) = 1 AS f_first_terr "
            f"FROM ({source_sql}) AS periods"
        )
    return (
        f"SELECT {', '.join(select)} FROM ({source_sql}) AS f "
        f"GROUP BY GROUPING SETS ({', '.join(sets)})"
    )


def run_series(source: Source, scope: Scope, period: Span | None = None) -> dict[str, Series]:
    """One SQL statement: every measure of the source, for every period of the scope's grid
    (or, timing ``PERIOD``, for ``period`` only: by default the whole scope), with every
    breakdown, as unprotected cells."""
    grid = scope.grid()
    if source.timing == Timing.PERIOD:
        spans = [period or grid.top]
        fact = source.build(scope.of(spans[0]))
    else:
        spans = list(grid.spans)
        fact = source.build(scope)
    if fact is None:
        return {
            m.code: Series(measure=m, source=source, available=False, reason=source.unavailable)
            for m in source.measures
        }
    rows = []
    if fact.sql:  # empty when nothing can match (a pilot without organisations)
        with connection.cursor() as cursor:
            cursor.execute(aggregate_sql(source, fact.sql, grid), fact.params)
            rows = cursor.fetchall()
    dims = [code for code, _ in source.dims()]
    series = {m.code: Series(measure=m, source=source) for m in source.measures}
    n = len(dims)
    for row in rows:
        grouping, period_id, keys, values = row[:n], row[n], row[n + 1:2 * n + 1], list(row[2 * n + 1:])
        grouped = {dim: key for dim, g, key in zip(dims, grouping, keys, strict=True) if g == 0}
        span = spans[period_id]
        for measure in source.measures:
            if measure.firsts:
                whole, per_org, per_territory = values.pop(0), values.pop(0), values.pop(0)
                persons = int(per_org if ORGANISATION in grouped else per_territory if TERRITORY in grouped else whole)
                _place(series[measure.code].slices.setdefault(span, Slice()), grouped, Cell(persons, persons))
                continue
            basis = values.pop(0)
            if measure.kind == Kind.MEDIAN_DAYS:
                every_row, per_event, per_territory = values.pop(0), values.pop(0), values.pop(0)
                if ORGANISATION in grouped:
                    amount = every_row
                elif TERRITORY in grouped:
                    amount = per_territory
                else:
                    amount = per_event
            else:
                amount = values.pop(0)
            _place(series[measure.code].slices.setdefault(span, Slice()), grouped, _cell(measure, basis, amount))
    for one in series.values():
        _fill(one, scope, spans)
    return series


def run_source(source: Source, scope: Scope) -> dict[str, MeasureTable]:
    """The unprotected tables of the whole scope (for checking the arithmetic and timing it)."""
    grid = scope.grid()
    return {code: table_of(one, scope, grid, grid.top) for code, one in run_series(source, scope).items()}


def _cell(measure: Measure, basis: int, amount) -> Cell:
    if measure.kind == Kind.PERSONS:
        return Cell(int(basis), int(basis))
    if measure.kind in (Kind.EVENTS, Kind.COUNT):
        return Cell(int(amount), int(basis), personal=measure.personal)
    value = None if amount is None else round(float(amount), 1)
    return Cell(value, int(basis), additive=False)


def _place(piece: Slice, grouped: dict[str, Any], cell: Cell) -> None:
    keys = set(grouped)
    if not keys:
        piece.total = cell
    elif keys == {ORGANISATION}:
        piece.by_org[grouped[ORGANISATION]] = cell
    elif keys == {TERRITORY}:
        piece.by_territory[grouped[TERRITORY]] = cell
    else:
        [dim] = keys
        piece.extra.setdefault(dim, {})[grouped[dim] if grouped[dim] is not None else ""] = cell


def _empty(measure: Measure) -> Cell:
    if measure.kind == Kind.MEDIAN_DAYS:
        return Cell(None, 0, additive=False)
    return Cell(0, 0, personal=measure.personal)


def _fill(series: Series, scope: Scope, spans: Sequence[Span]) -> None:
    """Every period, organisation, territory and extra key gets a cell (zero if nothing).

    An alert rule seen in one period is a row, zero or not, of every period: the periods add
    up key by key."""
    measure = series.measure
    keys: dict[str, set[str]] = {dim: set() for dim, _column, _label in series.source.extra_dims}
    for piece in series.slices.values():
        for dim, cells in piece.extra.items():
            keys.setdefault(dim, set()).update(cells)
    for span in spans:
        piece = series.slices.setdefault(span, Slice())
        if piece.total.value is None and measure.kind != Kind.MEDIAN_DAYS:
            piece.total = _empty(measure)
        for org in scope.org_ids:
            piece.by_org.setdefault(org, _empty(measure))
        for territory in scope.territories:
            piece.by_territory.setdefault(territory, _empty(measure))
        for dim, dim_keys in keys.items():
            cells = piece.extra.setdefault(dim, {})
            for key in dim_keys:
                cells.setdefault(key, _empty(measure))
        _in_order(piece, scope)
    series.slices = {span: series.slices[span] for span in spans}


def _in_order(piece: Slice, scope: Scope) -> None:
    """The cells in a fixed order (the scope's organisations and territories, extra keys
    sorted), not in the order the rows came in (or the order of a stored JSON): ties in
    ``pilots.sdc`` are broken by order, so the same data always give the same protected cells."""
    orgs = {org: i for i, org in enumerate(scope.org_ids)}
    territories = {code: i for i, code in enumerate(scope.territories)}
    piece.by_org = {org: piece.by_org[org] for org in sorted(piece.by_org, key=lambda o: (orgs.get(o, len(orgs)), o))}
    piece.by_territory = {
        code: piece.by_territory[code]
        for code in sorted(piece.by_territory, key=lambda c: (territories.get(c, len(territories)), c))
    }
    piece.extra = {dim: {key: cells[key] for key in sorted(cells)} for dim, cells in sorted(piece.extra.items())}


def table_of(series: Series, scope: Scope, grid: Grid, span: Span) -> MeasureTable:
    """The measure's table for one period: the cells of ``span`` and, month by month, of its months."""
    table = MeasureTable(measure=series.measure, source=series.source, available=series.available,
                         reason=series.reason)
    if not series.available:
        return table
    piece = series.slices[span]
    table.total, table.by_org, table.by_territory, table.extra = (
        piece.total, piece.by_org, piece.by_territory, piece.extra)
    if table.monthly:
        months = [(m.start, series.slices[m]) for m in grid.month_spans(span)]
        table.by_month = {month: one.total for month, one in months}
        table.org_month = {org: {month: one.by_org[org] for month, one in months} for org in scope.org_ids}
        table.territory_month = {
            territory: {month: one.by_territory[territory] for month, one in months}
            for territory in scope.territories
        }
    return table


# --- Disclosure control of a release ------------------------------------------------------------


def groups_for(series: Series, scope: Scope, grid: Grid) -> list[Group]:
    """The additive relations of one measure: what a reader could subtract.

    Within each period: organisations → total, territories → total, organisations of a
    territory → that territory, alert rule (or data category, basis) → total. Across
    periods, for the total and for every organisation, territory and extra key: the months
    of a quarter → the quarter, its quarters → a year, the years → the whole pilot (the
    tree of ``Grid.children``), and the months of a year or of the whole pilot → it
    (``Grid.relations``). A series computed for one period only has no relation across
    periods (its figures are measured on the period's last day)."""
    if not series.measure.additive or not series.measure.personal:
        return []
    groups = []
    for span, piece in series.slices.items():
        groups.append(Group(list(piece.by_org.values()), piece.total, f"organisations {span.code}"))
        groups.append(Group(list(piece.by_territory.values()), piece.total, f"territories {span.code}"))
        for territory in scope.territories:
            members = [piece.by_org[o] for o in scope.orgs_in(territory) if o in piece.by_org]
            groups.append(Group(members, piece.by_territory[territory], f"organisations in {territory} {span.code}"))
        for dim, cells in piece.extra.items():
            groups.append(Group(list(cells.values()), piece.total, f"{dim} {span.code}"))
    measure = series.measure
    for parent, children in grid.relations():
        if parent not in series.slices or not all(child in series.slices for child in children):
            continue
        whole, parts = series.slices[parent], [series.slices[child] for child in children]
        name = f"periods of {parent.code} ({len(parts)})"
        groups.append(Group([p.total for p in parts], whole.total, name))
        for org, cell in whole.by_org.items():
            groups.append(Group([_member(p.by_org, org, measure) for p in parts], cell, f"{name} · {org}"))
        for territory, cell in whole.by_territory.items():
            groups.append(Group([_member(p.by_territory, territory, measure) for p in parts], cell,
                                f"{name} · {territory}"))
        for dim, cells in whole.extra.items():
            for key, cell in cells.items():
                groups.append(Group([_member(p.extra.setdefault(dim, {}), key, measure) for p in parts], cell,
                                    f"{name} · {dim} {key}"))
    return groups


def _member(cells: dict, key, measure: Measure) -> Cell:
    """The cell of ``key`` in a shorter period; one a frozen period did not publish (an
    organisation, territory or alert rule that appeared later) is an unknown, never shown."""
    if key not in cells:
        cells[key] = unpublished_cell(additive=measure.additive, personal=measure.personal)
    return cells[key]


def protect_series(series: dict[str, Series], scope: Scope) -> None:
    grid = scope.grid()
    for one in series.values():
        if one.available:
            protect(list(one.cells()), groups_for(one, scope, grid))


def publish(scope: Scope, sources: Sequence[Source] = SOURCES, *, period: Span | None = None,
            frozen: Frozen | None = None) -> Publication:
    """Every indicator of ``period`` (a span of the scope's grid; the whole scope by default),
    cut from the protected release of the whole grid: one SQL statement per available source.

    Every period of the grid is computed and protected together, whichever is asked for, so
    that the cells of a month are the same (shown or "<5") in the month's own tables, in its
    quarter's monthly breakdown and in its year's: no two periods can be subtracted to get
    back a suppressed cell.

    ``frozen`` holds the published figures of the closed periods (by span): a closed period
    is cut from them without a query; otherwise they replace, locked, the cells the queries
    give for those periods before the release is protected."""
    grid = scope.grid()
    span = period or grid.top
    if span not in grid.spans:
        raise ValueError(f"{span} is not a period of the grid")
    frozen = frozen or {}
    if span in frozen:
        return frozen_publication(scope, span, frozen, sources)
    series: dict[str, Series] = {}
    for source in sources:
        series.update(run_series(source, scope, span))
    lock_series(series, frozen, scope)
    protect_series(series, scope)
    tables = {code: table_of(one, scope, grid, span) for code, one in series.items()}
    return Publication(scope=scope.of(span), tables=tables, sources=tuple(sources))


# --- Frozen figures -----------------------------------------------------------------------------

#: The published figures of closed periods, by span: what ``figures_of`` gives for each span,
#: ``{"indicators": {measure code: slice figures, or None if unavailable}, "esf": {...}}``.
Frozen = dict[Span, dict]

NOT_FROZEN = _("No disponible en este periodo: el indicador no se publicaba cuando el periodo se cerró.")


def figures_of(piece: Slice) -> dict:
    """A slice as it is published (``Cell.shown``: a number, "<5" or None), in JSON."""
    return {
        "total": piece.total.shown,
        "org": {str(org): cell.shown for org, cell in piece.by_org.items()},
        "territory": {code: cell.shown for code, cell in piece.by_territory.items()},
        "extra": {dim: {key: cell.shown for key, cell in cells.items()} for dim, cells in piece.extra.items()},
    }


def slice_of(figures: dict, measure: Measure) -> Slice:
    """The locked cells of a frozen slice."""
    def cell(shown) -> Cell:
        return frozen_cell(shown, additive=measure.additive, personal=measure.personal)

    return Slice(
        total=cell(figures["total"]),
        by_org={int(org): cell(shown) for org, shown in figures["org"].items()},
        by_territory={code: cell(shown) for code, shown in figures["territory"].items()},
        extra={dim: {key: cell(shown) for key, shown in cells.items()} for dim, cells in figures["extra"].items()},
    )


def _frozen_figures(frozen: Frozen, span: Span, code: str):
    """(published, figures): whether the frozen period has the measure, and its figures (None:
    the source was not available then)."""
    indicators = frozen[span]["indicators"]
    return code in indicators, indicators.get(code)


def lock_series(series: dict[str, Series], frozen: Frozen, scope: Scope) -> None:
    """Replace the cells of the frozen periods by their published figures, locked.

    A key the frozen period did not publish (an organisation that joined later) becomes an
    unknown cell that can never be shown; so does every cell of a measure it did not publish."""
    for code, one in series.items():
        if not one.available or one.source.timing == Timing.PERIOD:
            continue  # figures of the chosen period only: an open one, or it would be served frozen
        measure = one.measure
        for span, live in list(one.slices.items()):
            if span not in frozen:
                continue
            published, figures = _frozen_figures(frozen, span, code)
            piece = slice_of(figures, measure) if published and figures is not None else Slice(
                total=unpublished_cell(additive=measure.additive, personal=measure.personal))
            for org in live.by_org:
                _member(piece.by_org, org, measure)
            for territory in live.by_territory:
                _member(piece.by_territory, territory, measure)
            for dim, cells in live.extra.items():
                for key in cells:
                    _member(piece.extra.setdefault(dim, {}), key, measure)
            _in_order(piece, scope)
            one.slices[span] = piece


def frozen_publication(scope: Scope, span: Span, frozen: Frozen, sources: Sequence[Source] = SOURCES) -> Publication:
    """The tables of a closed period, from its frozen figures and its months': no query."""
    grid = scope.grid()
    tables = {}
    for source in sources:
        for measure in source.measures:
            table = MeasureTable(measure=measure, source=source)
            published, figures = _frozen_figures(frozen, span, measure.code)
            if not published or figures is None:
                table.available, table.reason = False, source.unavailable if published else NOT_FROZEN
                tables[measure.code] = table
                continue
            piece = slice_of(figures, measure)
            _in_order(piece, scope)
            table.total, table.by_org, table.by_territory, table.extra = (
                piece.total, piece.by_org, piece.by_territory, piece.extra)
            if table.monthly:
                months = []
                for month in grid.month_spans(span):
                    month_published, month_figures = _frozen_figures(frozen, month, measure.code)
                    if month_published and month_figures is not None:
                        months.append((month.start, slice_of(month_figures, measure)))
                table.by_month = {month: one.total for month, one in months}
                table.org_month = {org: {month: one.by_org[org] for month, one in months if org in one.by_org}
                                   for org in table.by_org}
                table.territory_month = {
                    territory: {month: one.by_territory[territory] for month, one in months
                                if territory in one.by_territory}
                    for territory in table.by_territory
                }
            tables[measure.code] = table
    return Publication(scope=scope.of(span), tables=tables, sources=tuple(sources))


def release_figures(scope: Scope, spans: Sequence[Span], frozen: Frozen,
                    sources: Sequence[Source] = SOURCES) -> dict[Span, dict]:
    """The protected indicator figures of ``spans`` (closed periods not frozen yet), for their
    snapshot: the same statements as ``publish`` for every period of the grid at once, with
    the periods already frozen locked; the figures measured on a period's last day are
    computed for each of ``spans`` (one statement per such source and span)."""
    series: dict[str, Series] = {}
    by_span: dict[Span, dict[str, Series]] = {span: {} for span in spans}
    for source in sources:
        if source.timing == Timing.PERIOD:
            for span in spans:
                by_span[span].update(run_series(source, scope, span))
        else:
            series.update(run_series(source, scope))
    lock_series(series, frozen, scope)
    protect_series(series, scope)
    for one_span in by_span.values():
        protect_series(one_span, scope)
    figures = {}
    for span in spans:
        indicators = {}
        for code, one in {**series, **by_span[span]}.items():
            indicators[code] = figures_of(one.slices[span]) if one.available else None
        figures[span] = {"indicators": indicators}
    return figures


SOURCE_BY_CODE: dict[str, Source] = {s.code: s for s in SOURCES}
