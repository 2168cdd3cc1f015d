"""Profiling (perfilado): which system should lead, from exclusion × employability.

Advisory only. The table proposes who leads the intervention and says why; a
professional decides, and the person may ask for a human review (GDPR art. 22: no
decision with legal or similarly significant effects is taken by this table). The
table follows the profiling seen in Castilla y León and La Rioja (domain brief, seed
002): by exclusion level and employability, deciding which system leads; the cells are
RIS's proposal, documented in ``docs/instruments.md``.

| exclusión \\ empleabilidad | alta    | media    | baja     |
|----------------------------|---------|----------|----------|
| integración                | empleo  | empleo   | empleo   |
| riesgo                     | empleo  | empleo   | conjunto |
| moderada                   | conjunto| conjunto | social   |
| grave                      | conjunto| social   | social   |
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from cases.models import Level

from .models import ExclusionLevel


class Lead:
    SOCIAL = "social"
    EMPLOYMENT = "employment"
    JOINT = "joint"


LEAD_LABELS = {
    Lead.SOCIAL: _("Lidera servicios sociales"),
    Lead.EMPLOYMENT: _("Lidera el servicio de empleo"),
    Lead.JOINT: _("Itinerario conjunto (ambos sistemas)"),
}

_E, _S, _J = Lead.EMPLOYMENT, Lead.SOCIAL, Lead.JOINT
TABLE: dict[tuple[str, str], str] = {
    (ExclusionLevel.INTEGRATION, Level.HIGH): _E,
    (ExclusionLevel.INTEGRATION, Level.MEDIUM): _E,
    (ExclusionLevel.INTEGRATION, Level.LOW): _E,
    (ExclusionLevel.RISK, Level.HIGH): _E,
    (ExclusionLevel.RISK, Level.MEDIUM): _E,
    (ExclusionLevel.RISK, Level.LOW): _J,
    (ExclusionLevel.MODERATE, Level.HIGH): _J,
    (ExclusionLevel.MODERATE, Level.MEDIUM): _J,
    (ExclusionLevel.MODERATE, Level.LOW): _S,
    (ExclusionLevel.SEVERE, Level.HIGH): _J,
    (ExclusionLevel.SEVERE, Level.MEDIUM): _S,
    (ExclusionLevel.SEVERE, Level.LOW): _S,
}

_EXCLUSION_REASON = {
    ExclusionLevel.INTEGRATION: _("sin situación de exclusión"),
    ExclusionLevel.RISK: _("en riesgo de exclusión"),
    ExclusionLevel.MODERATE: _("en exclusión moderada"),
    ExclusionLevel.SEVERE: _("en exclusión grave"),
}
_EMPLOYABILITY_REASON = {
    Level.HIGH: _("empleabilidad alta"),
    Level.MEDIUM: _("empleabilidad media"),
    Level.LOW: _("empleabilidad baja"),
}
_LEAD_REASON = {
    Lead.EMPLOYMENT: _(
        "la inserción laboral puede abordarse directamente desde el servicio de empleo"
    ),
    Lead.SOCIAL: _(
        "las necesidades sociales deben atenderse antes o a la vez que la búsqueda de empleo"
    ),
    Lead.JOINT: _("conviene un itinerario conjunto con objetivos sociales y de empleo"),
}
ADVISORY_NOTE = _(
    "Propuesta orientativa: decide un profesional, con la persona. No es una decisión automatizada "
    "(art. 22 RGPD)."
)


@dataclass(frozen=True)
class Profile:
    lead: str | None
    reasons: tuple[str, ...]
    exclusion_level: str | None
    employability_level: str | None

    @property
    def lead_label(self) -> str:
        return str(LEAD_LABELS[self.lead]) if self.lead else str(_("Sin propuesta"))

    @property
    def advisory_note(self) -> str:
        return str(ADVISORY_NOTE)

    def as_json(self) -> dict:
        """As the record API returns it: a level the viewer does not see in full is null, as if
        it were missing (the proposal is computed only from what is shown in full)."""
        return {
            "lead": self.lead,
            "lead_label": self.lead_label,
            "reasons": list(self.reasons),
            "exclusion_level": self.exclusion_level,
            "employability_level": self.employability_level,
            "advisory_note": self.advisory_note,
        }


def profile(*, exclusion_level: str | None, employability_level: str | None) -> Profile:
    """The table's proposal and its reasons; no proposal when a level is missing."""
    if not exclusion_level or not employability_level:
        missing = []
        if not exclusion_level:
            missing.append(str(_("falta una valoración de la exclusión social que pueda ver")))
        if not employability_level:
            missing.append(str(_("falta un diagnóstico de empleabilidad que pueda ver")))
        return Profile(None, tuple(missing), exclusion_level or None, employability_level or None)
    lead = TABLE[(exclusion_level, employability_level)]
    reasons = (
        str(
            _("Persona %(exclusion)s y con %(employability)s.")
            % {
                "exclusion": _EXCLUSION_REASON[exclusion_level],
                "employability": _EMPLOYABILITY_REASON[employability_level],
            }
        ),
        str(_LEAD_REASON[lead]).capitalize() + ".",
    )
    return Profile(lead, reasons, exclusion_level, employability_level)
