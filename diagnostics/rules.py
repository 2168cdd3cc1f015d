"""The risk rules: one SQL query each, over the whole population or a few persons.

Each rule is a ``RuleDef`` registered in ``RULES`` under the code of its ``AlertRule``
row (where administrators edit its thresholds, description and whether it runs).
``build`` returns one SELECT producing one row per person for whom the rule fires
(``person_id`` and raw columns) and an SQL expression turning those columns into the facts
that made it fire, as JSON grouped by data category (computed only for new alerts). The same query is narrowed to a few persons by
``person_ids`` (``AND x.person_id IN (...)``): the nightly sweep runs it for
everybody, a change to a person runs it for that person alone. No rule loops over
persons in Python.

``render`` writes the alert text from the facts of the categories the recipient sees
in full, and only from those: it is never handed the others (``services`` filters the
facts before calling it). Categories the recipient sees as an indicator only add
"revisar con ..." the service that owns them.

Facts may carry ``_blocked``: pairs (category, recording service) whose entries were
restricted by the service that recorded them (origin block); other services then get
at most an indicator of that category, as in the record. ``_only_organisations`` limits the
alert to the organisations it concerns; a rule whose facts concern some organisations part by
part gives ``RuleDef.narrow``, which keeps what one organisation may hear of and names the
categories that part reads (``_categories``; the duplication rule reads each plan action under
its own category, for the plan's participants only). See ``RuleDef.facts_for``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import UnemploymentBenefit
from ris.accounts.models import Organisation
from sharing.categories import BY_CODE

from . import coordination_schema as coordination
from .arope import HOUSEHOLD_CTE, MEMBERS_CTE, MINOR_AGE, born_before, sql_parameters
from .models import ExclusionLevel
from .text import compose, fmt_date, fmt_eur
from .workdays import overdue_cutoff

_q = connection.ops.quote_name


@dataclass(frozen=True)
class Context:
    today: dt.date
    now: dt.datetime
    person_ids: list[int] | None
    timezone: str
    #: The minor ages for which the whole-population sweep has computed every household once
    #: (``share_households``); the household rules with that age read those tables.
    shared_households: frozenset[int] = frozenset()

    def only(self, alias: str, column: str = "person_id") -> str:
        """The per-person narrowing of a rule's query (empty for the whole population)."""
        if self.person_ids is None:
            return ""
        return f"AND {alias}.{column} IN (SELECT unnest(%(person_ids)s::bigint[]))"

    def params(self) -> dict[str, Any]:
        return {
            "today": self.today,
            "now": self.now,
            "person_ids": self.person_ids or [],
            "tz": self.timezone,
        }


#: (select, facts, extra parameters): the SELECT returns ``person_id`` and the raw columns the
#: facts need; ``facts`` is an SQL expression over those columns (table alias ``h``) building the
#: JSON, evaluated only for the alerts that are new (the nightly sweep does not pay for the rest).
Built = tuple[str, str, dict[str, Any]]

#: Thresholds every rule accepts: after a person resolves an alert, the rule does not fire
#: again for that person for ``silence_days`` days.
COMMON_DEFAULTS: dict[str, Any] = {"silence_days": 30}


@dataclass(frozen=True)
class RuleDef:
    code: str
    title: Any  # lazy Spanish text: the rule's conclusion, shown to every recipient
    description: Any
    categories: tuple[str, ...]
    defaults: dict[str, Any]
    build: Callable[[dict[str, Any], Context], Built | None]
    render: Callable[[dict[str, dict], frozenset[str], dict[str, Any]], str]
    depends_on: tuple[str, ...] = field(default_factory=tuple)  # coordination models it needs
    #: Built on every household's composition and income (``_household_rule_ctes``): the sweep
    #: computes those households once for all such rules that count minors alike
    #: (``household_minor_age``).
    counts_households: bool = False
    #: What one organisation may hear of an alert's facts (``None``: nothing), for rules whose
    #: facts concern some organisations only; see ``facts_for``.
    narrow: Callable[[dict, int], dict | None] | None = None

    @property
    def all_defaults(self) -> dict[str, Any]:
        return {**COMMON_DEFAULTS, **self.defaults}

    def facts_for(self, facts: dict, organisation_id: int) -> dict | None:
        """The facts an organisation that attends the person may hear of, or ``None``.

        ``_only_organisations`` names the only organisations the alert concerns (a referral is
        shown to its sender and receiver alone); ``narrow`` lets a rule keep, per organisation,
        the parts of its facts that organisation takes part in (a joint plan's actions reach
        the plan's participants only)."""
        only = facts.get("_only_organisations")
        if only is not None and organisation_id not in only:
            return None
        return self.narrow(facts, organisation_id) if self.narrow is not None else facts

    def categories_in(self, facts: dict) -> tuple[str, ...]:
        """The categories an alert reads: the rule's, or those its facts name (``_categories``)
        when they vary from one alert to another (a plan action is read under its own category)."""
        return tuple(facts.get("_categories") or self.categories)

    def parameters(self, thresholds: dict | None) -> dict[str, Any]:
        """The defaults overridden by the administrator's thresholds, checked."""
        thresholds = thresholds or {}
        defaults = self.all_defaults
        unknown = set(thresholds) - set(defaults)
        if unknown:
            raise ValueError(
                _("umbral desconocido: %(names)s") % {"names": ", ".join(sorted(unknown))}
            )
        params = dict(defaults)
        for name, value in thresholds.items():
            default = defaults[name]
            if isinstance(default, bool):
                if not isinstance(value, bool):
                    raise TypeError(_("«%(n)s» debe ser verdadero o falso") % {"n": name})
            elif isinstance(default, int):
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise TypeError(
                        _("«%(n)s» debe ser un número entero no negativo") % {"n": name}
                    )
            elif isinstance(default, list):
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise TypeError(_("«%(n)s» debe ser una lista de textos") % {"n": name})
            params[name] = value
        return params


# --- 1. Unemployment benefit ends soon, household with minors and no other income ------------


def _benefit_ending(params: dict, ctx: Context) -> Built:
    active = (
        "m.start_date <= %(today)s::date AND (m.end_date IS NULL OR m.end_date > %(today)s::date)"
    )
    sql = f"""
WITH ending AS (
    SELECT DISTINCT ON (b.person_id) b.person_id, b.end_date, b.kind, b.monthly_amount, b.restricted,
           b.recorded_by_service
    FROM cases_unemploymentbenefit b
    WHERE b.start_date <= %(today)s::date
      AND b.end_date BETWEEN %(today)s::date AND %(today)s::date + %(days)s::int {ctx.only("b")}
    ORDER BY b.person_id, b.end_date
),
home AS (
    SELECT e.*, m.household_id FROM ending e
    JOIN cases_householdmember m ON m.person_id = e.person_id AND {active}
),
members AS (
    SELECT m.household_id, m.person_id, p.birth_date > %(born_minor)s::date AS minor
    FROM cases_householdmember m JOIN cases_person p ON p.id = m.person_id
    WHERE {active} AND m.household_id IN (SELECT household_id FROM home)
),
minors AS (
    SELECT household_id, count(*) AS n FROM members WHERE minor GROUP BY household_id
),
-- households with another income that outlasts the window: a member's benefit that goes on,
-- or a minimum income granted; computed once (as anti-joins per household the planner
-- rescanned the benefits for every household)
other_income AS MATERIALIZED (
    SELECT o.household_id FROM members o JOIN cases_unemploymentbenefit ob ON ob.person_id = o.person_id
    WHERE ob.start_date <= %(today)s::date
      AND (ob.end_date IS NULL OR ob.end_date > %(today)s::date + %(days)s::int)
    UNION
    SELECT o.household_id FROM members o JOIN cases_minimumincome r ON r.person_id = o.person_id
    WHERE r.status = 'granted' AND r.start_date <= %(today)s::date
      AND (r.end_date IS NULL OR r.end_date >= %(today)s::date)
)
SELECT h.person_id, h.end_date, h.kind, h.restricted, h.recorded_by_service, mi.n AS minors, hh.monthly_income
FROM home h
JOIN minors mi ON mi.household_id = h.household_id
JOIN cases_household hh ON hh.id = h.household_id
LEFT JOIN other_income oi ON oi.household_id = h.household_id
WHERE coalesce(hh.monthly_income, 0) - coalesce(h.monthly_amount, 0) <= %(other_income_tolerance_eur)s
  AND oi.household_id IS NULL
"""
    facts = """jsonb_build_object(
    'prestaciones_estatales', jsonb_build_object(
        'end_date', h.end_date, 'days_left', h.end_date - %(today)s::date, 'kind', h.kind),
    'unidad_convivencia', jsonb_build_object('minors', h.minors),
    'situacion_economica', jsonb_build_object('monthly_income', h.monthly_income),
    'rentas_minimas', jsonb_build_object(),
    '_blocked', CASE WHEN h.restricted
                     THEN jsonb_build_array(jsonb_build_array('prestaciones_estatales', h.recorded_by_service))
                     ELSE '[]'::jsonb END)"""
    return sql, facts, {"born_minor": born_before(ctx.today, params["minor_age"])}


def _render_benefit_ending(visible: dict, indicator: frozenset[str], params: dict) -> str:
    details = []
    benefit = visible.get("prestaciones_estatales")
    if benefit:
        kind = dict(UnemploymentBenefit.Kind.choices).get(benefit["kind"], benefit["kind"])
        details.append(
            _("%(kind)s: termina el %(date)s, dentro de %(days)s días.")
            % {"kind": kind, "date": fmt_date(benefit["end_date"]), "days": benefit["days_left"]}
        )
    if "unidad_convivencia" in visible:
        details.append(
            _("Menores en el hogar: %(n)s.") % {"n": visible["unidad_convivencia"]["minors"]}
        )
    economy = visible.get("situacion_economica")
    if economy is not None:
        income = economy.get("monthly_income")
        details.append(
            _("Ingresos mensuales registrados del hogar: %(eur)s.") % {"eur": fmt_eur(income)}
            if income is not None
            else _("El hogar no tiene ingresos registrados.")
        )
    return compose(
        _(
            "Fin próximo de una prestación por desempleo en un hogar con menores y sin otros ingresos"
        ),
        details,
        indicator,
    )


# --- 2. Long-term unemployment without an active joint plan ----------------------------------


def _active_joint_plan_condition(person_column: str) -> str:
    plan = coordination.joint_plan_schema()
    if plan is None:
        return "TRUE"
    conditions = [f"jp.{_q(plan.person)} = {person_column}"]
    if plan.state:
        conditions.append(f"jp.{_q(plan.state)} = ANY(%(active_plan_states)s::text[])")
    if plan.end_date:
        conditions.append(
            f"(jp.{_q(plan.end_date)} IS NULL OR jp.{_q(plan.end_date)} >= %(today)s::date)"
        )
    return f"NOT EXISTS (SELECT 1 FROM {_q(plan.table)} jp WHERE {' AND '.join(conditions)})"


def _long_term_unemployment(params: dict, ctx: Context) -> Built:
    sql = f"""
WITH latest AS (
    SELECT DISTINCT ON (j.person_id) j.person_id, j.status, j.unemployed_since, j.restricted, j.recorded_by_service
    FROM cases_jobseekerrecord j
    WHERE TRUE {ctx.only("j")}
    ORDER BY j.person_id, j.created_at DESC, j.id DESC
)
SELECT l.person_id, l.unemployed_since, l.restricted, l.recorded_by_service
FROM latest l
WHERE l.status = 'unemployed' AND l.unemployed_since IS NOT NULL
  AND l.unemployed_since <= (%(today)s::date - make_interval(months => %(months)s::int))::date
  AND {_active_joint_plan_condition("l.person_id")}
"""
    facts = """jsonb_build_object(
    'demanda_empleo', jsonb_build_object(
        'unemployed_since', h.unemployed_since,
        'months', (extract(year FROM age(%(today)s::date, h.unemployed_since)) * 12
                   + extract(month FROM age(%(today)s::date, h.unemployed_since)))::int),
    '_blocked', CASE WHEN h.restricted
                     THEN jsonb_build_array(jsonb_build_array('demanda_empleo', h.recorded_by_service))
                     ELSE '[]'::jsonb END)"""
    return sql, facts, {}


def _render_long_term_unemployment(visible: dict, indicator: frozenset[str], params: dict) -> str:
    details = []
    seeker = visible.get("demanda_empleo")
    if seeker:
        details.append(
            _("En desempleo desde el %(date)s (%(months)s meses).")
            % {"date": fmt_date(seeker["unemployed_since"]), "months": seeker["months"]}
        )
    return compose(
        _("Desempleo de larga duración sin itinerario conjunto activo"), details, indicator
    )


# --- 3. Household below the poverty threshold, with minors --------------------------------------


#: Temporary tables of one database session: every current member of every household, and
#: every household's indicators, counted with one minor age.
_SHARED_MEMBERS = "ris_sweep_members_{age}"
_SHARED_HOUSEHOLDS = "ris_sweep_households_{age}"
_SHARED_HOUSEHOLD_COLUMNS = (
    "household_id, members, minors, units, monthly_income, threshold, threshold_year, "
    "threshold_is_estimate"
)


def household_minor_age(params: dict[str, Any]) -> int:
    """The age under which a household rule counts a member as a minor."""
    return params.get("minor_age", MINOR_AGE)


def share_households(today: dt.date, minor_age: int) -> None:
    """Compute every household of the population once, for all the household rules of a sweep
    that count minors with ``minor_age``: two temporary tables of this database session, read by
    ``_household_rule_ctes`` while ``Context.shared_households`` names the age. The figures are
    those the rules compute on their own (the same CTEs), taken once instead of once per rule."""
    members = _SHARED_MEMBERS.format(age=int(minor_age))
    households = _SHARED_HOUSEHOLDS.format(age=int(minor_age))
    params = sql_parameters(today, minor_age)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{members}, pg_temp.{households}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {members} AS WITH "
            + MEMBERS_CTE.format(households="TRUE")
            + " SELECT * FROM members",
            params,
        )
        cursor.execute(
            f"CREATE TEMPORARY TABLE {households} AS "
            f"WITH members AS (SELECT * FROM pg_temp.{members}), "
            + HOUSEHOLD_CTE
            + f" SELECT {_SHARED_HOUSEHOLD_COLUMNS} FROM indicators",
            params,
        )


def unshare_households(minor_ages) -> None:
    """Drop the tables of ``share_households`` (the session's end would too)."""
    names = [
        f"pg_temp.{template.format(age=int(age))}"
        for age in minor_ages
        for template in (_SHARED_MEMBERS, _SHARED_HOUSEHOLDS)
    ]
    if names:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {', '.join(names)}")


def _household_rule_ctes(ctx: Context, minor_age: int) -> str:
    """The households of the persons concerned (all households for the sweep), as ``members``
    and ``indicators``: read from the sweep's shared tables when it computed them."""
    if ctx.person_ids is None and minor_age in ctx.shared_households:
        members = _SHARED_MEMBERS.format(age=int(minor_age))
        households = _SHARED_HOUSEHOLDS.format(age=int(minor_age))
        return (
            f"WITH members AS NOT MATERIALIZED (SELECT * FROM pg_temp.{members}), "
            f"indicators AS NOT MATERIALIZED (SELECT * FROM pg_temp.{households})"
        )
    if ctx.person_ids is None:
        households = "TRUE"
    else:
        households = (
            "m.household_id IN (SELECT t.household_id FROM cases_householdmember t "
            "WHERE t.person_id IN (SELECT unnest(%(person_ids)s::bigint[])) AND t.start_date <= %(today)s::date "
            "AND (t.end_date IS NULL OR t.end_date > %(today)s::date))"
        )
    return "WITH " + MEMBERS_CTE.format(households=households) + "," + HOUSEHOLD_CTE


def _poverty_with_minors(params: dict, ctx: Context) -> Built:
    sql = (
        _household_rule_ctes(ctx, household_minor_age(params))
        + f"""
SELECT a.person_id, i.monthly_income, i.units, i.threshold, i.threshold_year,
       i.threshold_is_estimate, i.minors, i.members
FROM indicators i
JOIN members a ON a.household_id = i.household_id AND a.adult {ctx.only("a")}
WHERE i.minors > 0 AND i.monthly_income IS NOT NULL AND i.threshold IS NOT NULL
  AND i.monthly_income * 12 * 100 < i.threshold * i.units * %(percent_of_threshold)s
"""
    )
    facts = """jsonb_build_object(
    'situacion_economica', jsonb_build_object(
        'annual_income', round(h.monthly_income * 12, 2),
        'equivalised_income', round(h.monthly_income * 12 / h.units, 2),
        'threshold', h.threshold, 'threshold_year', h.threshold_year,
        'threshold_is_estimate', h.threshold_is_estimate),
    'unidad_convivencia', jsonb_build_object('minors', h.minors, 'members', h.members))"""
    return sql, facts, sql_parameters(ctx.today, params["minor_age"])


def _render_poverty_with_minors(visible: dict, indicator: frozenset[str], params: dict) -> str:
    details = []
    economy = visible.get("situacion_economica")
    if economy:
        values = {
            "eq": fmt_eur(economy["equivalised_income"]),
            "thr": fmt_eur(economy["threshold"]),
            "year": economy["threshold_year"],
        }
        if economy.get("threshold_is_estimate"):
            details.append(
                _(
                    "Ingresos equivalentes del hogar: %(eq)s al año, por debajo del umbral de riesgo "
                    "de pobreza (%(thr)s, ECV %(year)s, estimación)."
                )
                % values
            )
        else:
            details.append(
                _(
                    "Ingresos equivalentes del hogar: %(eq)s al año, por debajo del umbral de riesgo "
                    "de pobreza (%(thr)s, ECV %(year)s)."
                )
                % values
            )
    if "unidad_convivencia" in visible:
        details.append(
            _("Menores en el hogar: %(n)s.") % {"n": visible["unidad_convivencia"]["minors"]}
        )
    return compose(_("Riesgo de pobreza infantil"), details, indicator)


# --- 4. Possible minimum income (IMV) beneficiary not receiving it ------------------------------


def _possible_imv(params: dict, ctx: Context) -> Built:
    pending = "" if not params["skip_pending_applications"] else " OR r.status = 'applied'"
    sql = (
        _household_rule_ctes(ctx, household_minor_age(params))
        + f""",
imv_year AS (
    SELECT max(year) AS year FROM reference_minimumincomethreshold
    WHERE year <= extract(year FROM %(today)s::date)
),
imv AS (
    SELECT t.members, t.monthly_eur FROM reference_minimumincomethreshold t JOIN imv_year y ON y.year = t.year
)
SELECT a.person_id, i.monthly_income, imv.monthly_eur AS imv_monthly, i.members
FROM indicators i
JOIN imv ON imv.members = least(i.members, (SELECT max(members) FROM imv))
JOIN members a ON a.household_id = i.household_id AND a.adult {ctx.only("a")}
WHERE i.monthly_income IS NOT NULL AND i.monthly_income < imv.monthly_eur
  AND NOT EXISTS (
      SELECT 1 FROM members o JOIN cases_minimumincome r ON r.person_id = o.person_id
      WHERE o.household_id = i.household_id AND r.start_date <= %(today)s::date
        AND (r.end_date IS NULL OR r.end_date >= %(today)s::date)
        AND (r.status = 'granted'{pending}))
"""
    )
    facts = """jsonb_build_object(
    'situacion_economica', jsonb_build_object('monthly_income', h.monthly_income, 'imv_monthly', h.imv_monthly),
    'unidad_convivencia', jsonb_build_object('members', h.members),
    'rentas_minimas', jsonb_build_object())"""
    return sql, facts, sql_parameters(ctx.today)


def _render_possible_imv(visible: dict, indicator: frozenset[str], params: dict) -> str:
    details = []
    economy = visible.get("situacion_economica")
    if economy:
        if "unidad_convivencia" in visible:
            details.append(
                _(
                    "Ingresos mensuales del hogar: %(eur)s, por debajo de la renta garantizada del IMV para "
                    "%(n)s miembros (%(imv)s al mes)."
                )
                % {
                    "eur": fmt_eur(economy["monthly_income"]),
                    "n": visible["unidad_convivencia"]["members"],
                    "imv": fmt_eur(economy["imv_monthly"]),
                }
            )
        else:
            details.append(
                _("Ingresos mensuales del hogar: %(eur)s.")
                % {"eur": fmt_eur(economy["monthly_income"])}
            )
    elif "unidad_convivencia" in visible:
        details.append(
            _("Miembros de la unidad de convivencia: %(n)s.")
            % {"n": visible["unidad_convivencia"]["members"]}
        )
    return compose(
        _("Posible beneficiaria del ingreso mínimo vital que no lo percibe ni lo ha solicitado"),
        details,
        indicator,
    )


# --- 5. Exclusion level worsened since the last assessment --------------------------------------

_RANK_SQL = "CASE {col} WHEN 'integration' THEN 0 WHEN 'risk' THEN 1 WHEN 'moderate' THEN 2 WHEN 'severe' THEN 3 END"


def _exclusion_worsened(params: dict, ctx: Context) -> Built:
    sql = f"""
WITH assessed AS (
    SELECT a.person_id, a.assessed_on, a.level, a.created_at, a.id, a.restricted, a.recorded_by_service
    FROM diagnostics_exclusionassessment a WHERE TRUE {ctx.only("a")}
    UNION ALL
    SELECT s.person_id, s.assessed_on, s.severity, s.created_at, -s.id, s.restricted, s.recorded_by_service
    FROM cases_exclusionsituation s WHERE TRUE {ctx.only("s")}
),
ranked AS (
    SELECT *, {_RANK_SQL.format(col="level")} AS rank,
           row_number() OVER (PARTITION BY person_id ORDER BY assessed_on DESC, created_at DESC, id DESC) AS n
    FROM assessed
)
SELECT cur.person_id, prev.level AS previous, prev.assessed_on AS previous_on, cur.level AS current,
       cur.assessed_on AS current_on, cur.restricted AS current_restricted, cur.recorded_by_service AS current_by,
       prev.restricted AS previous_restricted, prev.recorded_by_service AS previous_by
FROM ranked cur JOIN ranked prev ON prev.person_id = cur.person_id AND prev.n = 2
WHERE cur.n = 1 AND cur.rank - prev.rank >= %(min_steps)s
"""
    facts = """jsonb_build_object(
    'exclusion_social', jsonb_build_object(
        'previous', h.previous, 'previous_on', h.previous_on, 'current', h.current, 'current_on', h.current_on),
    '_blocked', (SELECT coalesce(jsonb_agg(jsonb_build_array('exclusion_social', x.by_service)), '[]')
                 FROM (VALUES (h.current_restricted, h.current_by), (h.previous_restricted, h.previous_by))
                      AS x(restricted, by_service) WHERE x.restricted))"""
    return sql, facts, {}


def _render_exclusion_worsened(visible: dict, indicator: frozenset[str], params: dict) -> str:
    details = []
    exclusion = visible.get("exclusion_social")
    if exclusion:
        labels = dict(ExclusionLevel.choices)
        details.append(
            _("De «%(prev)s» (%(prev_on)s) a «%(cur)s» (%(cur_on)s).")
            % {
                "prev": labels.get(exclusion["previous"], exclusion["previous"]),
                "prev_on": fmt_date(exclusion["previous_on"]),
                "cur": labels.get(exclusion["current"], exclusion["current"]),
                "cur_on": fmt_date(exclusion["current_on"]),
            }
        )
    return compose(
        _("Ha empeorado la situación de exclusión social desde la valoración anterior"),
        details,
        indicator,
    )


# --- 6. Consent expires soon --------------------------------------------------------------------


def _consent_expiring(params: dict, ctx: Context) -> Built:
    in_force = """NOT EXISTS (SELECT 1 FROM consent_consentrevocation r WHERE r.consent_id = {c}.id)
      AND NOT EXISTS (SELECT 1 FROM consent_consent s WHERE s.supersedes_id = {c}.id)"""
    sql = f"""
SELECT c.person_id, min(c.valid_until) AS valid_until
FROM consent_consent c
WHERE c.valid_from <= %(today)s::date
  AND c.valid_until BETWEEN %(today)s::date AND %(today)s::date + %(days)s::int
  AND {in_force.format(c="c")} {ctx.only("c")}
  AND NOT EXISTS (
      SELECT 1 FROM consent_consent n
      WHERE n.person_id = c.person_id AND n.valid_until > %(today)s::date + %(days)s::int
        AND {in_force.format(c="n")})
GROUP BY c.person_id
"""
    facts = """jsonb_build_object(
    'ficha_basica', jsonb_build_object('valid_until', h.valid_until, 'days_left', h.valid_until - %(today)s::date))"""
    return sql, facts, {}


def _render_consent_expiring(visible: dict, indicator: frozenset[str], params: dict) -> str:
    details = []
    sheet = visible.get("ficha_basica")
    if sheet:
        details.append(
            _(
                "Vigente hasta el %(date)s (quedan %(days)s días). Conviene renovarlo con la persona."
            )
            % {"date": fmt_date(sheet["valid_until"]), "days": sheet["days_left"]}
        )
    return compose(
        _("El consentimiento para compartir información caduca pronto"), details, indicator
    )


# --- 7. Referral unanswered for more than N working days -----------------------------------------


def _referral_unanswered(params: dict, ctx: Context) -> Built | None:
    schema = coordination.referral_schema()
    if schema is None:
        return None
    n = params["working_days"]
    communities = list(Organisation.objects.values_list("community_id", flat=True).distinct())
    cutoffs = [overdue_cutoff(ctx.today, n, code) for code in communities]
    national = overdue_cutoff(ctx.today, n, None)
    if schema.to_organisation:
        region = f"""LEFT JOIN accounts_organisation o ON o.id = r.{_q(schema.to_organisation)}
LEFT JOIN unnest(%(communities)s::text[], %(cutoffs)s::date[]) AS c(community, cutoff) ON c.community = o.community_id"""
        cutoff = "coalesce(c.cutoff, %(national_cutoff)s::date)"
    else:
        region, cutoff = "", "%(national_cutoff)s::date"
    # Only the organisations of the overdue referrals hear of them (coordination shows a referral
    # to its sender and receiver alone): ``_only_organisations`` limits the delivery, and each
    # party is told the date of the oldest overdue referral it takes part in (``by_party``, kept
    # by ``_narrow_referral``), never that of a referral between other organisations.
    ends = [c for c in (schema.from_organisation, schema.to_organisation) if c]
    if not ends:
        return None
    parties = ", ".join(f"(r.{_q(c)})" for c in ends)
    sql = f"""
SELECT p.person_id, min(p.sent_on) AS sent_on, array_agg(p.party ORDER BY p.party) AS parties,
       jsonb_object_agg(p.party::text, p.sent_on) AS by_party
FROM (
    SELECT r.{_q(schema.person)} AS person_id, x.party,
           min((r.{_q(schema.sent_at)} AT TIME ZONE %(tz)s)::date) AS sent_on
    FROM {_q(schema.table)} r
    {region}
    CROSS JOIN LATERAL (VALUES {parties}) AS x(party)
    WHERE r.{_q(schema.state)} = ANY(%(pending_states)s::text[])
      AND (r.{_q(schema.sent_at)} AT TIME ZONE %(tz)s)::date < {cutoff} {ctx.only("r", _q(schema.person))}
      AND x.party IS NOT NULL
    GROUP BY r.{_q(schema.person)}, x.party
) p
GROUP BY p.person_id
"""
    facts = """jsonb_build_object('ficha_basica', jsonb_build_object('sent_on', h.sent_on),
                                 'by_party', h.by_party, '_only_organisations', to_jsonb(h.parties))"""
    return sql, facts, {"communities": communities, "cutoffs": cutoffs, "national_cutoff": national}


def _narrow_referral(facts: dict, organisation_id: int) -> dict | None:
    """What one party hears: the date of the oldest overdue referral it sent or received."""
    by_party = facts.get("by_party")
    if by_party is None:  # an alert opened before the dates were kept per party
        return {k: v for k, v in facts.items() if k != "ficha_basica"}
    sent_on = by_party.get(str(organisation_id))
    if sent_on is None:
        return None
    return {"ficha_basica": {"sent_on": sent_on}, "_only_organisations": [organisation_id]}


def _render_referral_unanswered(visible: dict, indicator: frozenset[str], params: dict) -> str:
    details = []
    sheet = visible.get("ficha_basica")
    if sheet:
        details.append(
            _("Enviada el %(date)s; más de %(n)s días hábiles sin respuesta.")
            % {"date": fmt_date(sheet["sent_on"]), "n": params["working_days"]}
        )
    return compose(_("Derivación sin respuesta"), details, indicator)


# --- 8. No diary contact for N days ----------------------------------------------------------------


def _no_contact(params: dict, ctx: Context) -> Built:
    """Attended (by any organisation, continuously) for at least N days, and no contact recorded by
    any service in the last N days: the later of the last contact and the start of the attention
    is N or more days ago."""
    cutoff = ctx.today - dt.timedelta(days=params["days"])
    cutoff_at = timezone.make_aware(dt.datetime.combine(cutoff + dt.timedelta(days=1), dt.time.min))
    # "attended for N days" is "an attention open today began N or more days ago"; read per
    # person as two semi-joins (grouping every enrolment to take its minimum cost a third more)
    sql = f"""
SELECT p.id AS person_id
FROM cases_person p
WHERE EXISTS (
    SELECT 1 FROM sharing_enrolment e
    WHERE e.person_id = p.id AND e.start_date <= %(cutoff)s::date
      AND (e.end_date IS NULL OR e.end_date >= %(today)s::date))
  AND NOT EXISTS (
    SELECT 1 FROM cases_diaryentry d
    WHERE d.person_id = p.id AND d.happened_at >= %(cutoff_at)s AND d.happened_at <= %(now)s)
  {ctx.only("p", "id")}
"""
    # The date shown is that of the last contact nobody restricted; when a restricted contact is
    # later, no date is given at all (a restricted entry is at most an indicator for others).
    facts = """jsonb_build_object(
    'atenciones', (
        SELECT jsonb_build_object(
            'last_contact', (max(d.happened_at) FILTER (WHERE NOT d.restricted) AT TIME ZONE %(tz)s)::date,
            'withheld', coalesce(max(d.happened_at) FILTER (WHERE d.restricted)
                                 > max(d.happened_at) FILTER (WHERE NOT d.restricted), false)
                        OR (bool_or(d.restricted) AND NOT bool_or(NOT d.restricted)))
        FROM cases_diaryentry d
        WHERE d.person_id = h.person_id AND d.happened_at <= %(now)s))"""
    return sql, facts, {"cutoff": cutoff, "cutoff_at": cutoff_at}


def _render_no_contact(visible: dict, indicator: frozenset[str], params: dict) -> str:
    details = []
    diary = visible.get("atenciones")
    if diary is not None and not diary.get("withheld"):
        details.append(
            _("Última atención registrada: %(date)s.") % {"date": fmt_date(diary["last_contact"])}
            if diary.get("last_contact")
            else _("No hay ninguna atención registrada.")
        )
    return compose(
        _("Sin contacto registrado en %(days)s días") % {"days": params["days"]}, details, indicator
    )


# --- 9. The same resource or plan action given by two organisations at once -------------------------


#: The category of the basic social services planned in the record (``cases.PlannedService``).
PLANNED_SERVICES = "servicios_planificados"


def _plan_action_category() -> str | None:
    """The column of a plan action's own data category (``PlanAction.category``), if any."""
    model = coordination._model("PlanAction")
    if model is None:
        return None
    found = coordination._fields(model).get("category")
    return found.column if found is not None and not found.is_relation else None


def _plan_participants() -> tuple[str, str, str] | None:
    """(table, plan column, organisation column) of a joint plan's participating organisations."""
    model = coordination._model("JointPlan")
    if model is None:
        return None
    try:
        m2m = model._meta.get_field("organisations")
    except FieldDoesNotExist:
        return None
    if not m2m.many_to_many or m2m.related_model._meta.label != "accounts.Organisation":
        return None
    return (m2m.remote_field.through._meta.db_table, m2m.m2m_column_name(), m2m.m2m_reverse_name())


def _plan_action_rows(ctx: Context) -> str:
    action = coordination.plan_action_schema()
    plan = coordination.joint_plan_schema()
    if action is None or plan is None:
        return ""
    conditions = []
    if action.start_date:
        conditions.append(
            f"(pa.{_q(action.start_date)} IS NULL OR pa.{_q(action.start_date)} <= %(today)s::date)"
        )
    if action.end_date:
        conditions.append(
            f"(pa.{_q(action.end_date)} IS NULL OR pa.{_q(action.end_date)} >= %(today)s::date)"
        )
    if action.state:
        conditions.append(f"pa.{_q(action.state)} = ANY(%(active_action_states)s::text[])")
    if plan.state:
        conditions.append(f"jp.{_q(plan.state)} = ANY(%(active_plan_states)s::text[])")
    where = " AND ".join(conditions) or "TRUE"
    category_column = _plan_action_category()
    category = (
        f"coalesce(nullif(pa.{_q(category_column)}::text, ''), '{PLANNED_SERVICES}')"
        if category_column
        else f"'{PLANNED_SERVICES}'::text"
    )
    return f"""
    UNION ALL
    SELECT jp.{_q(plan.person)} AS person_id, 'action:' || pa.{_q(action.kind)}::text AS resource,
           pa.{_q(action.kind)}::text AS label, pa.{_q(action.organisation)} AS organisation_id,
           false AS restricted, ''::text AS recorded_by_service, {category} AS category,
           jp.id::bigint AS plan_id
    FROM {_q(action.table)} pa JOIN {_q(plan.table)} jp ON jp.id = pa.{_q(action.plan)}
    WHERE {where} {ctx.only("jp", _q(plan.person))}"""


def _plan_audience() -> str:
    """SQL (over a ``twice`` row ``t``) for the organisations that may hear of a duplicated plan
    action: those that take part in every plan the duplicated actions belong to (without the
    participants' table, the organisations that own the actions). NULL for a resource of the
    record (planned services), which every organisation attending the person may hear of."""
    participants = _plan_participants()
    if participants is None:
        organisations = "t.owners"
    else:
        table, plan_column, organisation_column = (_q(name) for name in participants)
        organisations = f"""ARRAY(
            SELECT po.{organisation_column} FROM {table} po WHERE po.{plan_column} = ANY(t.plans)
            GROUP BY po.{organisation_column}
            HAVING count(DISTINCT po.{plan_column}) = cardinality(t.plans)
            ORDER BY po.{organisation_column})"""
    return f"CASE WHEN cardinality(t.plans) = 0 THEN NULL ELSE to_jsonb({organisations}) END"


def _duplicated_resource(params: dict, ctx: Context) -> Built:
    """The same resource given by two organisations at once: a basic social service planned in
    the record (category ``servicios_planificados``, heard of by every organisation attending the
    person), or an action type of a joint plan (read under the action's own category, heard of by
    the plan's participants only). Each duplicated resource is an item of the facts with the
    categories it reads and the organisations that may hear of it (``_narrow_duplicated``)."""
    sql = f"""
WITH given AS (
    SELECT ps.person_id, 'service:' || ps.basic_service_id::text AS resource, bs.label,
           ps.recorded_by_org_id AS organisation_id, ps.restricted, ps.recorded_by_service,
           '{PLANNED_SERVICES}'::text AS category, NULL::bigint AS plan_id
    FROM cases_plannedservice ps JOIN reference_basicsocialservice bs ON bs.code = ps.basic_service_id
    WHERE ps.start_date <= %(today)s::date AND (ps.end_date IS NULL OR ps.end_date >= %(today)s::date)
      {ctx.only("ps")}
    {_plan_action_rows(ctx)}
),
twice AS (
    SELECT person_id, resource, min(label) AS label,
           array_agg(DISTINCT category ORDER BY category) AS categories,
           array_remove(array_agg(DISTINCT plan_id), NULL) AS plans,
           array_agg(DISTINCT organisation_id ORDER BY organisation_id) AS owners,
           bool_or(restricted) AS restricted,
           min(recorded_by_service) FILTER (WHERE restricted) AS blocked_by,
           min(category) FILTER (WHERE restricted) AS blocked_category
    FROM given GROUP BY person_id, resource
    HAVING count(DISTINCT organisation_id) >= %(min_organisations)s
)
SELECT t.person_id,
       jsonb_agg(jsonb_build_object('label', t.label, 'categories', to_jsonb(t.categories),
                                    'organisations', {_plan_audience()})
                 ORDER BY t.label) AS items,
       coalesce(jsonb_agg(jsonb_build_array(t.blocked_category, t.blocked_by))
                FILTER (WHERE t.restricted), '[]') AS blocked
FROM twice t GROUP BY t.person_id
"""
    facts = """jsonb_build_object('_items', h.items, '_blocked', h.blocked)"""
    return sql, facts, {}


def _narrow_duplicated(facts: dict, organisation_id: int) -> dict | None:
    """The duplicated resources this organisation may hear of, grouped by the categories they
    read (``_categories``: the categories its delivery is decided on). ``None`` when none."""
    told: dict[str, Any] = {"_blocked": facts.get("_blocked", []), "_categories": []}
    for item in facts.get("_items", ()):
        audience = item.get("organisations")
        if audience is not None and organisation_id not in audience:
            continue
        categories = list(
            dict.fromkeys(c if c in BY_CODE else PLANNED_SERVICES for c in item["categories"])
        )
        for category in categories:
            told.setdefault(category, {"resources": []})["resources"].append(
                {"label": item["label"], "categories": categories}
            )
            if category not in told["_categories"]:
                told["_categories"].append(category)
    return told if told["_categories"] else None


def _render_duplicated_resource(visible: dict, indicator: frozenset[str], params: dict) -> str:
    """A resource is named only when every category it reads is seen in full."""
    labels: list[str] = []
    for part in visible.values():
        for resource in part["resources"]:
            seen_in_full = all(c in visible for c in resource["categories"])
            if seen_in_full and resource["label"] not in labels:
                labels.append(resource["label"])
    details = [_("Recursos: %(list)s.") % {"list": "; ".join(sorted(labels))}] if labels else []
    return compose(
        _(
            "Posible duplicidad: el mismo recurso o acción lo prestan a la vez varias organizaciones"
        ),
        details,
        indicator,
    )


# --- The registry ---------------------------------------------------------------------------------

RULES: dict[str, RuleDef] = {
    rule.code: rule
    for rule in (
        RuleDef(
            code="fin_prestacion_con_menores",
            title=gettext_lazy(
                "Fin próximo de una prestación por desempleo en un hogar con menores"
            ),
            description=gettext_lazy(
                "La prestación o subsidio por desempleo de la persona termina en los próximos días, en una "
                "unidad de convivencia con menores y sin otros ingresos (ni otra prestación, ni renta mínima)."
            ),
            categories=(
                "prestaciones_estatales",
                "unidad_convivencia",
                "situacion_economica",
                "rentas_minimas",
            ),
            defaults={"days": 60, "minor_age": MINOR_AGE, "other_income_tolerance_eur": 0},
            build=_benefit_ending,
            render=_render_benefit_ending,
        ),
        RuleDef(
            code="desempleo_larga_duracion_sin_plan",
            title=gettext_lazy("Desempleo de larga duración sin itinerario conjunto"),
            description=gettext_lazy(
                "La persona lleva en desempleo al menos los meses indicados y no tiene un itinerario "
                "conjunto activo."
            ),
            categories=("demanda_empleo",),
            defaults={"months": 12, "active_plan_states": ["active"]},
            build=_long_term_unemployment,
            render=_render_long_term_unemployment,
            depends_on=("JointPlan",),
        ),
        RuleDef(
            code="hogar_pobreza_con_menores",
            title=gettext_lazy("Riesgo de pobreza infantil"),
            description=gettext_lazy(
                "La renta equivalente del hogar (escala OCDE modificada) está por debajo del umbral de "
                "riesgo de pobreza de la ECV y en el hogar viven menores."
            ),
            categories=("situacion_economica", "unidad_convivencia"),
            defaults={"percent_of_threshold": 100, "minor_age": MINOR_AGE},
            counts_households=True,
            build=_poverty_with_minors,
            render=_render_poverty_with_minors,
        ),
        RuleDef(
            code="posible_beneficiario_imv",
            title=gettext_lazy("Posible beneficiaria del ingreso mínimo vital"),
            description=gettext_lazy(
                "Los ingresos del hogar están por debajo de la renta garantizada del ingreso mínimo vital "
                "para su tamaño y nadie en el hogar percibe el IMV ni una renta mínima (ni lo ha solicitado)."
            ),
            categories=("situacion_economica", "unidad_convivencia", "rentas_minimas"),
            defaults={"skip_pending_applications": True},
            build=_possible_imv,
            render=_render_possible_imv,
            counts_households=True,
        ),
        RuleDef(
            code="empeora_exclusion",
            title=gettext_lazy("Empeora la situación de exclusión social"),
            description=gettext_lazy(
                "La última valoración de la exclusión social es más grave que la anterior."
            ),
            categories=("exclusion_social",),
            defaults={"min_steps": 1},
            build=_exclusion_worsened,
            render=_render_exclusion_worsened,
        ),
        RuleDef(
            code="consentimiento_caduca",
            title=gettext_lazy("El consentimiento caduca pronto"),
            description=gettext_lazy(
                "Un consentimiento en vigor de la persona caduca en los próximos días y no hay otro que lo "
                "sustituya."
            ),
            categories=("ficha_basica",),
            defaults={"days": 30},
            build=_consent_expiring,
            render=_render_consent_expiring,
        ),
        RuleDef(
            code="derivacion_sin_respuesta",
            title=gettext_lazy("Derivación sin respuesta"),
            description=gettext_lazy(
                "Una derivación enviada lleva más de los días hábiles indicados sin respuesta (festivos "
                "nacionales y de la comunidad autónoma de la organización que debe responder)."
            ),
            categories=("ficha_basica",),
            defaults={"working_days": 10, "pending_states": ["sent"]},
            build=_referral_unanswered,
            render=_render_referral_unanswered,
            narrow=_narrow_referral,
            depends_on=("Referral",),
        ),
        RuleDef(
            code="sin_contacto",
            title=gettext_lazy("Sin contacto registrado"),
            description=gettext_lazy(
                "Ningún servicio ha registrado una atención (cita, entrevista, visita o llamada) con la "
                "persona en los últimos días indicados."
            ),
            categories=("atenciones",),
            defaults={"days": 90},
            build=_no_contact,
            render=_render_no_contact,
        ),
        RuleDef(
            code="duplicidad_recurso",
            title=gettext_lazy("Posible duplicidad de recursos"),
            description=gettext_lazy(
                "La misma prestación básica de servicios sociales, o el mismo tipo de acción de un "
                "itinerario conjunto, la prestan a la vez dos o más organizaciones."
            ),
            # the planned services' category; a plan action is read under its own (``_categories``)
            categories=(PLANNED_SERVICES,),
            defaults={
                "min_organisations": 2,
                "active_plan_states": ["active"],
                "active_action_states": ["pendiente", "en_curso"],
            },
            build=_duplicated_resource,
            render=_render_duplicated_resource,
            narrow=_narrow_duplicated,
            depends_on=("PlanAction",),
        ),
    )
}


def coordination_parts_missing(rule: RuleDef) -> list[str]:
    """Which coordination models this rule would like to read and cannot find."""
    found = {
        "Referral": coordination.referral_schema() is not None,
        "JointPlan": coordination.joint_plan_schema() is not None,
        "PlanAction": coordination.plan_action_schema() is not None,
    }
    return [name for name in rule.depends_on if not found[name]]
