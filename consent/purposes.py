"""The closed list of purposes (finalidades), by process."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Purpose(models.TextChoices):
    INTAKE = "acogida", _("Acogida")
    ASSESSMENT = "valoracion", _("Valoración")
    REFERRAL = "derivacion", _("Derivación")
    ITINERARY = "itinerario", _("Itinerario")
    FOLLOW_UP = "seguimiento", _("Seguimiento")
    CASE_CONFERENCE = "comision", _("Comisión de caso")
    PREVENTION = "prevencion", _("Prevención (alertas)")
    EVALUATION = "evaluacion", _("Evaluación (solo agregados)")


PURPOSE_CODES = tuple(Purpose.values)
