"""Two demo pilots on the demo world (``cases.demo``), for showing and benchmarking evaluation.

``ensure_demo_pilots`` is idempotent (pilots are found by code) and writes nothing when the
demo organisations are missing. It is meant to be called by ``manage.py seed_demo`` after
the demo world is built.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from ris.accounts.models import Membership, Organisation, Role

from .models import Dimension, DimensionFollowUp, FundingLine, Pilot


def _months_ago(today: dt.date, months: int) -> dt.date:
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    return dt.date(year, month + 1, 1)


PILOTS = (
    {
        "code": "piloto-toledo", "name": "Piloto de coordinación sociolaboral de Toledo", "community": "08",
        "provinces": ["45"], "organisations": ["css-poligono-toledo", "oe-toledo-centro", "ong-horizonte-inclusion"],
        "funding_lines": [FundingLine.ESF_PLUS, FundingLine.REGIONAL],
        "funding_reference": "Programa FSE+ de Castilla-La Mancha 2021-2027, prioridad de inclusión social",
        "objectives": "Itinerarios conjuntos de inserción sociolaboral entre el centro de servicios sociales, "
                      "la oficina de empleo y la entidad del Tercer Sector; derivaciones con respuesta en "
                      "menos de 15 días; detección de pobreza infantil en los hogares atendidos.",
        "follow_ups": [
            (Dimension.LEGAL, "at_risk", "El convenio de cesión de datos con el servicio público de empleo "
                                         "está pendiente de firma.", ""),
            (Dimension.TECHNOLOGICAL, "on_track", "", "La historia social única ya es accesible desde la "
                                                       "oficina de empleo."),
            (Dimension.GOVERNANCE, "on_track", "", "Comisión de seguimiento mensual con las tres entidades."),
        ],
    },
    {
        "code": "piloto-valladolid", "name": "Piloto de itinerarios conjuntos de Valladolid", "community": "07",
        "provinces": ["47"], "organisations": ["ceas-delicias-valladolid", "oe-valladolid-parquesol",
                                               "ong-fundacion-puentes"],
        "funding_lines": [FundingLine.RRF, FundingLine.STATE],
        "funding_reference": "PRTR, componente 23 (nuevas políticas públicas para un mercado de trabajo "
                             "dinámico, resiliente e inclusivo)",
        "objectives": "Perfilado conjunto para decidir qué sistema lidera; comisiones de inclusión trimestrales; "
                      "reducir la duplicidad de recursos entre servicios.",
        "follow_ups": [
            (Dimension.STRATEGIC, "achieved", "", "Acuerdo de la Gerencia y del servicio de empleo firmado."),
            (Dimension.ORGANISATIONAL, "at_risk", "Rotación de profesionales de referencia en el CEAS.", ""),
            (Dimension.OPERATIONAL, "on_track", "", "Protocolo de derivación con plazo de respuesta."),
        ],
    },
)


@transaction.atomic
def ensure_demo_pilots(*, today: dt.date | None = None) -> list[Pilot]:
    today = today or timezone.localdate()
    created = []
    for spec in PILOTS:
        organisations = list(Organisation.objects.filter(code__in=spec["organisations"]))
        if len(organisations) != len(spec["organisations"]) or Pilot.objects.filter(code=spec["code"]).exists():
            continue
        pilot = Pilot.objects.create(
            code=spec["code"], name=spec["name"], community_id=spec["community"],
            start_date=_months_ago(today, 18), end_date=_months_ago(today, -18) - dt.timedelta(days=1),
            funding_lines=spec["funding_lines"], funding_reference=spec["funding_reference"],
            objectives=spec["objectives"],
        )
        pilot.organisations.set(organisations)
        pilot.provinces.set(spec["provinces"])
        coordinator = (
            Membership.objects.filter(role=Role.COORDINATOR, organisation__in=organisations, is_active=True)
            .select_related("user", "organisation").order_by("pk").first()
        )
        if coordinator is not None:
            for months, (dimension, state, obstacles, success) in enumerate(spec["follow_ups"], start=1):
                DimensionFollowUp.objects.create(
                    pilot=pilot, dimension=dimension, date=_months_ago(today, months * 2), state=state,
                    obstacles=obstacles, success_factors=success, recorded_by=coordinator.user,
                    recorded_by_org=coordinator.organisation,
                )
        created.append(pilot)
    return created
