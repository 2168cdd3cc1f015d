"""Advisory levels for the employability diagnosis and the basic screening.

These point tables are RIS's own, written for this platform: they are *not* a
published, validated instrument (see ``docs/instruments.md``). They only suggest a
level; the employment counsellor decides the diagnosis (``EmployabilityAssessment.level``)
and the screening is marked everywhere as orientative.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from cases.models import Level


@dataclass(frozen=True)
class Factor:
    name: str
    points: int
    reason: str


def employability_factors(
    *,
    months_unemployed: int | None,
    isced_level: int | None,
    occupation_major_group: str | None,
    age: int,
    languages: list[str],
    driving_licence: bool,
    months_worked_last_two_years: int,
) -> list[Factor]:
    """The points each factor adds to the difficulty of finding work (more points, lower level).

    Each factor's reason is in the active language (it is shown on the record)."""
    factors: list[Factor] = []
    months = months_unemployed or 0
    if months >= 24:
        factors.append(Factor("months_unemployed", 3, _("24 meses o más en desempleo")))
    elif months >= 12:
        factors.append(Factor("months_unemployed", 2, _("entre 12 y 23 meses en desempleo")))
    elif months >= 6:
        factors.append(Factor("months_unemployed", 1, _("entre 6 y 11 meses en desempleo")))
    if isced_level is None or isced_level <= 1:
        factors.append(
            Factor(
                "education", 2, _("formación de nivel primario o inferior (CNED 0-1) o no consta")
            )
        )
    elif isced_level == 2:
        factors.append(Factor("education", 1, _("primera etapa de secundaria (CNED 2)")))
    if occupation_major_group in (None, "", "9"):
        factors.append(
            Factor("occupation", 1, _("ocupación elemental (CNO-11 gran grupo 9) o sin ocupación"))
        )
    if age >= 55:
        factors.append(Factor("age", 2, _("55 años o más")))
    elif age >= 45 or age < 25:
        factors.append(Factor("age", 1, _("menos de 25 o entre 45 y 54 años")))
    if "es" not in languages:
        factors.append(Factor("languages", 1, _("no consta el castellano entre sus idiomas")))
    if not driving_licence:
        factors.append(Factor("driving_licence", 1, _("sin permiso de conducir")))
    if months_worked_last_two_years == 0:
        factors.append(Factor("recent_work", 2, _("no ha trabajado en los últimos 24 meses")))
    elif months_worked_last_two_years <= 6:
        factors.append(Factor("recent_work", 1, _("6 meses o menos trabajados en los últimos 24")))
    return factors


def level_from_points(points: int) -> str:
    """0–3 points: high; 4–6: medium; 7 or more: low."""
    if points >= 7:
        return Level.LOW
    if points >= 4:
        return Level.MEDIUM
    return Level.HIGH


def suggested_employability_level(**factors) -> str:
    return level_from_points(sum(f.points for f in employability_factors(**factors)))


SCREENING_QUESTIONS = (
    "has_work_experience",
    "completed_compulsory_education",
    "speaks_spanish",
    "available_for_work",
    "has_driving_licence",
    "basic_digital_skills",
)


def screening_result(answers: dict[str, bool]) -> str:
    """Orientative: 0–1 answers "no" → high; 2–3 → medium; 4 or more → low."""
    negatives = sum(1 for q in SCREENING_QUESTIONS if not answers[q])
    if negatives >= 4:
        return Level.LOW
    if negatives >= 2:
        return Level.MEDIUM
    return Level.HIGH
