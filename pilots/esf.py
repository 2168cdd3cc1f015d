"""ESF+ common indicators for participants (Regulation (EU) 2021/1057, Annex I), per pilot and period.

Who is a *participant*: a person whose first enrolment in an organisation of the pilot
(``sharing.Enrolment``) starts in the period, or who was already attended when the pilot
started (then the pilot's first day is their entry); the *entry* is that day, and the
characteristics are those on entry. A *leaver* is a participant all of whose pilot
enrolments are closed, the last one in the period; that day is the *exit*. "Upon
leaving" means within four weeks after the exit (the Commission's monitoring guidance).

Each table is ONE set-based SQL statement: a fact query with one row per participant
(or leaver) and a boolean column per indicator, counted per month of entry
(or exit) and sex with ``COUNT(*) FILTER (WHERE ...)``, then summed into every period of
the pilot's grid (``pilots.periods``) with ``GROUP BY GROUPING SETS ((period), (period,
sex))``: every month, quarter and year at once. The characteristics come
from the record: sex and age (``cases.Person``), education (``Person.education_level``
→ ``reference.EducationLevel.isced_level``), labour-market situation
(``cases.JobSeekerRecord``), disability (``cases.HealthRecord.disability_degree`` ≥ 33),
third-country nationality (``Person.nationality`` outside the EU), homelessness
(``cases.Household.housing_tenure`` none or insecure). Which of them are
approximations, and why, is said in each row's definition and in
``docs/esf-indicators.md``.

The tables are protected by ``pilots.sdc`` like every other publication: each row is a
group over the sex columns, and the rows that partition the participants (labour-market
situation, age bands, education levels) are groups over the total. A participant enters
(and a leaver leaves) on one day, so the periods add up: every cell is also a group over
the shorter periods that make its period (months → quarter → year → whole pilot), and the
tables of all the periods are protected together, as in ``pilots.indicators``.

The tables of a closed period are frozen with the indicators (``pilots.models.FrozenPeriod``):
``frozen`` figures give a closed period's table without a query, and lock the cells of the
closed periods when the open ones are protected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext_lazy as _

from .indicators import Scope
from .periods import Grid, Span
from .sdc import SUPPRESSED, Cell, Group, frozen_cell, protect

#: ISO 3166-1 alpha-2 codes of the 27 Member States (Greece is GR in ISO, EL in EU usage).
EU_MEMBER_STATES = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT",
    "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
)
DISABILITY_MIN_DEGREE = 33  # Spain: recognised disability from 33 % (RDLeg 1/2013, art. 4.2)
UPON_LEAVING_DAYS = 28  # "upon leaving": within four weeks of the exit

SEXES: tuple[tuple[str, Any], ...] = (
    ("F", _("Mujeres")),
    ("M", _("Hombres")),
    ("X", _("Personas no binarias / no consta")),
)


@dataclass(frozen=True)
class EsfIndicator:
    code: str
    label: Any
    reference: str  # where in Annex I, or "—" when it is not an Annex I indicator
    definition: Any
    approximation: bool = False


@dataclass
class EsfRow:
    indicator: EsfIndicator
    cells: dict[str, Cell]
    total: Cell

    @property
    def ordered_cells(self) -> list[Cell]:
        return [self.cells[code] for code, _label in SEXES]


@dataclass
class EsfTable:
    code: str
    title: Any
    population: Any
    rows: list[EsfRow] = field(default_factory=list)

    def row(self, code: str) -> EsfRow:
        return next(r for r in self.rows if r.indicator.code == code)


OUTPUTS: tuple[EsfIndicator, ...] = (
    EsfIndicator("total", _("Número total de participantes"), "Anexo I, 1.1",
                 _("Personas cuya primera atención en una organización del piloto empieza en el periodo.")),
    EsfIndicator("unemployed", _("Desempleadas, incluidas las de larga duración"), "Anexo I, 1.1",
                 _("Demanda de empleo con situación «desempleada» en la fecha de entrada (la inscripción más "
                   "reciente no posterior a la entrada).")),
    EsfIndicator("long_term_unemployed", _("Desempleadas de larga duración"), "Anexo I, 1.1",
                 _("Desempleadas en la entrada con más de 6 meses continuos en desempleo (menores de 25 años) "
                   "o más de 12 meses (25 años o más), según la fecha «en desempleo desde». Umbrales de la "
                   "guía de seguimiento de la Comisión, no del Reglamento."), approximation=True),
    EsfIndicator("inactive", _("Inactivas"), "Anexo I, 1.1",
                 _("Aproximación: demanda de empleo con situación «no inscrita» en la entrada. Puede incluir "
                   "personas desempleadas que no se han inscrito."), approximation=True),
    EsfIndicator("employed", _("Empleadas, incluidas las que trabajan por cuenta propia"), "Anexo I, 1.1",
                 _("Demanda de empleo con situación «ocupada (mejora de empleo)» en la entrada. No recoge el "
                   "empleo de quien no está inscrito."), approximation=True),
    EsfIndicator("labour_unknown", _("Situación laboral no registrada"), "—",
                 _("Sin demanda de empleo en la entrada. No es un indicador del Anexo I: se publica para que "
                   "las categorías laborales sumen el total.")),
    EsfIndicator("below_18", _("Menores de 18 años"), "Anexo I, 1.1",
                 _("Edad en la fecha de entrada.")),
    EsfIndicator("age_18_29", _("Jóvenes de 18 a 29 años"), "Anexo I, 1.1", _("Edad en la fecha de entrada.")),
    EsfIndicator("age_30_54", _("De 30 a 54 años"), "—",
                 _("No es un indicador del Anexo I: completa los tramos de edad.")),
    EsfIndicator("age_55_plus", _("De 55 años o más"), "Anexo I, 1.1", _("Edad en la fecha de entrada.")),
    EsfIndicator("isced_0_2", _("Con educación secundaria inferior o menos (CINE 0-2)"), "Anexo I, 1.1",
                 _("Nivel de formación de la ficha básica (CNED-2014, cuyo nivel coincide con CINE-2011). Es el "
                   "nivel registrado ahora, no necesariamente el de la entrada."), approximation=True),
    EsfIndicator("isced_3_4", _("Con segunda etapa de secundaria (CINE 3) o postsecundaria (CINE 4)"),
                 "Anexo I, 1.1", _("Como el anterior."), approximation=True),
    EsfIndicator("isced_5_8", _("Con educación terciaria (CINE 5 a 8)"), "Anexo I, 1.1", _("Como el anterior."),
                 approximation=True),
    EsfIndicator("isced_unknown", _("Nivel de formación no registrado"), "—",
                 _("No es un indicador del Anexo I: completa los niveles de formación.")),
    EsfIndicator("disability", _("Participantes con discapacidad"), "Anexo I, 1.2",
                 _("Último grado de discapacidad registrado igual o superior al 33 %. Dato de categoría especial "
                   "(art. 9 RGPD): solo se publica agregado."), approximation=True),
    EsfIndicator("third_country", _("Nacionales de terceros países"), "Anexo I, 1.2; art. 2.1.2",
                 _("Nacionalidad registrada que no es la de un Estado miembro de la UE (incluye EEE y Suiza). "
                   "No se registran apátridas ni nacionalidad indeterminada.")),
    EsfIndicator("homeless", _("Personas sin hogar o afectadas por la exclusión residencial"), "Anexo I, 1.2",
                 _("Aproximación: unidad de convivencia en la fecha de entrada con tenencia «sin vivienda» o "
                   "«vivienda insegura u ocupada»; no es la tipología ETHOS completa."), approximation=True),
)

RESULTS: tuple[EsfIndicator, ...] = (
    EsfIndicator("leavers", _("Participantes que han salido"), "—",
                 _("Participantes con todas sus atenciones del piloto cerradas, la última en el periodo.")),
    EsfIndicator("job_searching", _("Participantes que buscan trabajo tras su participación"), "Anexo I, 2.1",
                 _("Aproximación: la demanda de empleo más reciente hasta 4 semanas después de la salida está en "
                   "situación «desempleada» (inscrita como demandante)."), approximation=True),
    EsfIndicator("in_education", _("Participantes que siguen una educación o formación tras su participación"),
                 "Anexo I, 2.1",
                 _("Aproximación: un itinerario de políticas activas de empleo en curso o una intervención de "
                   "formación de la carpeta social en las 4 semanas siguientes a la salida. No todo itinerario "
                   "es formación."), approximation=True),
    EsfIndicator("in_employment", _("Participantes con empleo, incluido por cuenta propia, tras su participación"),
                 "Anexo I, 2.1",
                 _("Aproximación: una contratación registrada en la intermediación con empresas entre la entrada y "
                   "4 semanas después de la salida, o la demanda de empleo más reciente en ese plazo en situación "
                   "«ocupada». No recoge el empleo encontrado sin intermediación ni el autoempleo."),
                 approximation=True),
)

OUTPUT_PARTITIONS = (
    ("unemployed", "inactive", "employed", "labour_unknown"),
    ("below_18", "age_18_29", "age_30_54", "age_55_plus"),
    ("isced_0_2", "isced_3_4", "isced_5_8", "isced_unknown"),
)


def _tables() -> dict[str, str]:
    from cases.models import (
        ActivePolicyItinerary,
        CompanyIntermediation,
        HealthRecord,
        Household,
        HouseholdMember,
        JobSeekerRecord,
        Person,
        SocialFolderIntervention,
    )
    from ris.reference.models import EducationLevel
    from sharing.models import Enrolment

    models = {
        "enrolment": Enrolment, "person": Person, "education": EducationLevel, "jobseeker": JobSeekerRecord,
        "health": HealthRecord, "member": HouseholdMember, "household": Household,
        "itinerary": ActivePolicyItinerary, "intervention": SocialFolderIntervention,
        "intermediation": CompanyIntermediation,
    }
    return {name: connection.ops.quote_name(model._meta.db_table) for name, model in models.items()}


#: The labour-market record "as of" a day, for every person of ``{people}`` at once: the latest
#: registration (or record) not after the day. Set-based (DISTINCT ON), not one lookup per person.
_JOBSEEKER_AS_OF = """
    SELECT DISTINCT ON (j.person_id) j.person_id, j.status, j.unemployed_since
    FROM {jobseeker} j
    JOIN {people} x ON x.person_id = j.person_id
    WHERE COALESCE(j.registered_on, (j.created_at AT TIME ZONE %(tz)s)::date) <= {day}
    ORDER BY j.person_id, COALESCE(j.registered_on, (j.created_at AT TIME ZONE %(tz)s)::date) DESC, j.id DESC"""

PARTICIPANTS_SQL = """
WITH entries AS MATERIALIZED (
    SELECT e.person_id, GREATEST(MIN(e.start_date), %(pilot_start)s::date) AS entry,
           p.sex, p.nationality, p.birth_date, p.education_level_id
    FROM {enrolment} e
    JOIN {person} p ON p.id = e.person_id
    WHERE e.organisation_id = ANY(%(orgs)s::bigint[])
    GROUP BY e.person_id, p.id
    HAVING GREATEST(MIN(e.start_date), %(pilot_start)s::date) BETWEEN %(start)s AND %(end)s
),
job AS (""" + _JOBSEEKER_AS_OF.replace("{people}", "entries").replace("{day}", "x.entry") + """
),
disability AS (
    SELECT DISTINCT ON (h.person_id) h.person_id, h.disability_degree
    FROM {health} h
    WHERE h.disability_degree IS NOT NULL
    ORDER BY h.person_id, h.created_at DESC, h.id DESC
),
insecure_housing AS (
    SELECT m.person_id, m.start_date, m.end_date
    FROM {member} m
    JOIN {household} hh ON hh.id = m.household_id
    WHERE hh.housing_tenure IN ('none', 'insecure')
),
participants AS (
    SELECT x.person_id, x.entry, x.sex, x.nationality,
           EXTRACT(YEAR FROM AGE(x.entry, x.birth_date))::int AS age,
           ed.isced_level, job.status, job.unemployed_since, d.disability_degree,
           hl.person_id IS NOT NULL AS homeless
    FROM entries x
    LEFT JOIN {education} ed ON ed.code = x.education_level_id
    LEFT JOIN job ON job.person_id = x.person_id
    LEFT JOIN disability d ON d.person_id = x.person_id
    -- a person lives in one household at a time (exclusion constraint): at most one match
    LEFT JOIN insecure_housing hl ON hl.person_id = x.person_id AND hl.start_date <= x.entry
                                 AND (hl.end_date IS NULL OR hl.end_date > x.entry)
)
SELECT person_id AS f_person, sex AS f_sex, entry AS f_day,
       TRUE AS total,
       status = 'unemployed' AS unemployed,
       status = 'unemployed' AND unemployed_since IS NOT NULL
           AND AGE(entry, unemployed_since) > CASE WHEN age < 25 THEN INTERVAL '6 months'
                                                   ELSE INTERVAL '12 months' END AS long_term_unemployed,
       status = 'not_registered' AS inactive,
       status = 'employed' AS employed,
       status IS NULL AS labour_unknown,
       age < 18 AS below_18,
       age BETWEEN 18 AND 29 AS age_18_29,
       age BETWEEN 30 AND 54 AS age_30_54,
       age >= 55 AS age_55_plus,
       isced_level BETWEEN 0 AND 2 AS isced_0_2,
       isced_level BETWEEN 3 AND 4 AS isced_3_4,
       isced_level BETWEEN 5 AND 8 AS isced_5_8,
       isced_level IS NULL AS isced_unknown,
       COALESCE(disability_degree >= %(disability)s, FALSE) AS disability,
       NOT (nationality = ANY(%(eu)s::text[])) AS third_country,
       homeless
FROM participants"""

LEAVERS_SQL = """
WITH stays AS MATERIALIZED (
    SELECT e.person_id, GREATEST(MIN(e.start_date), %(pilot_start)s::date) AS entry, MAX(e.end_date) AS exit_day,
           MAX(e.end_date) + %(window)s AS window_end, p.sex
    FROM {enrolment} e
    JOIN {person} p ON p.id = e.person_id
    WHERE e.organisation_id = ANY(%(orgs)s::bigint[])
    GROUP BY e.person_id, p.id
    HAVING COUNT(*) FILTER (WHERE e.end_date IS NULL) = 0 AND MAX(e.end_date) BETWEEN %(start)s AND %(end)s
),
job AS (""" + _JOBSEEKER_AS_OF.replace("{people}", "stays").replace("{day}", "x.window_end") + """
),
training AS (
    SELECT DISTINCT x.person_id
    FROM stays x
    JOIN {itinerary} i ON i.person_id = x.person_id
    WHERE i.start_date <= x.window_end AND (i.end_date IS NULL OR i.end_date >= x.exit_day)
      AND i.status <> 'dropped'
    UNION
    SELECT x.person_id
    FROM stays x
    JOIN {intervention} s ON s.person_id = x.person_id
    WHERE s.kind = 'training' AND s.date BETWEEN x.exit_day AND x.window_end
),
hired AS (
    SELECT DISTINCT x.person_id
    FROM stays x
    JOIN {intermediation} c ON c.person_id = x.person_id
    WHERE c.outcome = 'hired' AND c.date BETWEEN x.entry AND x.window_end
)
SELECT x.person_id AS f_person, x.sex AS f_sex, x.exit_day AS f_day,
       TRUE AS leavers,
       COALESCE(job.status = 'unemployed', FALSE) AS job_searching,
       t.person_id IS NOT NULL AS in_education,
       h.person_id IS NOT NULL OR COALESCE(job.status = 'employed', FALSE) AS in_employment
FROM stays x
LEFT JOIN job ON job.person_id = x.person_id
LEFT JOIN training t ON t.person_id = x.person_id
LEFT JOIN hired h ON h.person_id = x.person_id"""


def _grouped(fact_sql: str, indicators: tuple[EsfIndicator, ...], grid: Grid) -> str:
    """One row per participant in the facts: ``COUNT(*)`` per month of entry (or exit) and sex
    is a count of persons; each period of the grid then adds up its months."""
    counts = ", ".join(f"COUNT(*) FILTER (WHERE f.{i.code}) AS {i.code}" for i in indicators)
    sums = ", ".join(f"SUM(m.{i.code})" for i in indicators)
    by_month = (f"SELECT date_trunc('month', f.f_day::timestamp)::date AS f_month, f.f_sex, {counts} "
                f"FROM ({fact_sql}) AS f GROUP BY 1, 2")
    return (f"SELECT g.g_id, GROUPING(m.f_sex), m.f_sex, {sums} FROM ({by_month}) AS m "
            f"JOIN (VALUES {grid.sql_values()}) AS g(g_id, g_start, g_end) ON m.f_month BETWEEN g.g_start AND g.g_end "
            "GROUP BY GROUPING SETS ((g.g_id), (g.g_id, m.f_sex))")


def _run(sql: str, params: dict, indicators: tuple[EsfIndicator, ...], grid: Grid) -> dict[Span, list[EsfRow]]:
    with connection.cursor() as cursor:
        cursor.execute(_grouped(sql.format(**_tables()), indicators, grid), params)
        result = cursor.fetchall()
    by_span = {
        span: {i.code: EsfRow(i, {code: Cell(0, 0) for code, _label in SEXES}, Cell(0, 0)) for i in indicators}
        for span in grid.spans
    }
    for period_id, grouping, sex, *counts in result:
        rows = by_span[grid.spans[period_id]]
        for indicator, count in zip(indicators, counts, strict=True):
            cell = Cell(int(count), int(count))
            if grouping == 1:
                rows[indicator.code].total = cell
            else:
                rows[indicator.code].cells[sex if sex in dict(SEXES) else "X"] = cell
    return {span: [rows[i.code] for i in indicators] for span, rows in by_span.items()}


def _params(scope: Scope) -> dict:
    return {
        "orgs": scope.org_ids, "start": scope.start, "end": scope.end, "tz": settings.TIME_ZONE,
        "pilot_start": scope.pilot_start,
        "disability": DISABILITY_MIN_DEGREE, "eu": list(EU_MEMBER_STATES), "window": UPON_LEAVING_DAYS,
    }


def _groups(table: EsfTable, partitions: tuple[tuple[str, ...], ...]) -> list[Group]:
    groups = [Group(list(row.cells.values()), row.total, row.indicator.code) for row in table.rows]
    total = table.rows[0]
    for partition in partitions:
        members = [table.row(code) for code in partition]
        groups.append(Group([r.total for r in members], total.total, "+".join(partition)))
        for sex, _label in SEXES:
            groups.append(Group([r.cells[sex] for r in members], total.cells[sex], f"{sex}:{'+'.join(partition)}"))
    return groups


def _protect(tables: dict[Span, EsfTable], partitions: tuple[tuple[str, ...], ...], grid: Grid) -> None:
    """Every period's table with its own groups, and each cell over the periods that make it up."""
    groups = [group for table in tables.values() for group in _groups(table, partitions)]
    for parent, children in grid.relations():
        whole, parts = tables[parent], [tables[child] for child in children]
        for row in whole.rows:
            code = row.indicator.code
            groups.append(Group([p.row(code).total for p in parts], row.total, f"{code} {parent.code} ({len(parts)})"))
            for sex, _label in SEXES:
                groups.append(Group([p.row(code).cells[sex] for p in parts], row.cells[sex],
                                    f"{code}:{sex} {parent.code} ({len(parts)})"))
    cells = [c for table in tables.values() for row in table.rows for c in (*row.cells.values(), row.total)]
    protect(cells, groups)


def _tables_by_span(scope: Scope, sql: str, indicators, make, partitions, protected: bool,
                    frozen: dict | None = None) -> dict[Span, EsfTable]:
    grid = scope.grid()
    tables = {}
    for span, rows in _run(sql, _params(scope), indicators, grid).items():
        table = make()
        table.rows = rows
        if frozen and span in frozen:
            table = frozen_table(make(), indicators, frozen[span]["esf"][table.code])
        tables[span] = table
    if protected:
        _protect(tables, partitions, grid)
    return tables


def _outputs() -> EsfTable:
    return EsfTable("outputs", _("Indicadores comunes de realización relativos a los participantes"),
                    _("Participantes que entran en el periodo"))


def _results() -> EsfTable:
    return EsfTable("results", _("Indicadores comunes de resultados inmediatos"),
                    _("Participantes que salen en el periodo"))


TABLES = (("outputs", PARTICIPANTS_SQL, OUTPUTS, _outputs, OUTPUT_PARTITIONS),
          ("results", LEAVERS_SQL, RESULTS, _results, ()))


def table_figures(table: EsfTable) -> dict:
    """A table as it is published (``Cell.shown``), in JSON: by indicator, each sex and the total."""
    return {row.indicator.code: {**{sex: cell.shown for sex, cell in row.cells.items()}, "total": row.total.shown}
            for row in table.rows}


def frozen_table(table: EsfTable, indicators: tuple[EsfIndicator, ...], figures: dict) -> EsfTable:
    """The table of a frozen period: its published cells, locked. An indicator it did not
    publish is an unknown row (every cell hidden)."""
    for indicator in indicators:
        shown = figures.get(indicator.code, {})
        table.rows.append(EsfRow(indicator, {code: frozen_cell(shown.get(code, SUPPRESSED)) for code, _label in SEXES},
                                 frozen_cell(shown.get("total", SUPPRESSED))))
    return table


def _table(name: str, scope: Scope, *, protected: bool, period: Span | None, frozen: dict | None) -> EsfTable:
    code, sql, indicators, make, partitions = next(t for t in TABLES if t[0] == name)
    span = period or scope.span
    if frozen and span in frozen:
        return frozen_table(make(), indicators, frozen[span]["esf"][code])
    return _tables_by_span(scope, sql, indicators, make, partitions, protected, frozen)[span]


def participants_table(scope: Scope, *, protected: bool = True, period: Span | None = None,
                       frozen: dict | None = None) -> EsfTable:
    """Common output indicators for participants (Annex I, 1.1 and 1.2) of ``period`` (a span
    of the scope's grid; the whole scope by default): one SQL statement for every period, or
    none for a frozen period (``frozen``: the published figures of the closed periods).

    ``protected=False`` is for the tests of the arithmetic only: pages and exports always
    get the protected table."""
    return _table("outputs", scope, protected=protected, period=period, frozen=frozen)


def leavers_table(scope: Scope, *, protected: bool = True, period: Span | None = None,
                  frozen: dict | None = None) -> EsfTable:
    """Common immediate result indicators for participants (Annex I, 2.1): one SQL statement."""
    return _table("results", scope, protected=protected, period=period, frozen=frozen)


def release_figures(scope: Scope, spans, frozen: dict) -> dict[Span, dict]:
    """The protected figures of both tables for ``spans`` (closed periods not frozen yet), with
    the periods already frozen locked: two statements."""
    figures: dict[Span, dict] = {span: {} for span in spans}
    for code, sql, indicators, make, partitions in TABLES:
        tables = _tables_by_span(scope, sql, indicators, make, partitions, True, frozen)
        for span in spans:
            figures[span][code] = table_figures(tables[span])
    return figures
